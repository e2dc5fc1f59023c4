"""The worker's part: reading one queued scan, with its progress, its result or its failure.

It reads outside any transaction, writing progress as it goes (``pages_done``), and keeps the
searchable copy and the text in one transaction at the end; ``scan_read`` is sent once that commits.
A reading taken again after its worker was killed counts as another attempt, at most ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from saraban.core.errors import SarabanError
from saraban.documents.models import StoredFile
from saraban.documents.services import max_file_bytes, read_file, store_file

from .config import reading_options
from .models import ReadingStatus, ScanReading
from .reading import ScanUnreadable, read_scan
from .signals import scan_read

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def _claim(sha256: str) -> ScanReading | None:
    """Mark the reading as started, unless it is done, failed or taken by a live worker."""
    with transaction.atomic():
        reading = ScanReading.objects.select_for_update().filter(source_id=sha256).first()
        if reading is None or reading.status not in (ReadingStatus.QUEUED, ReadingStatus.READING):
            return None
        if reading.status == ReadingStatus.READING and not stalled(reading, timezone.now()):
            return None  # another worker is reading it now
        reading.status, reading.started_at, reading.pages, reading.pages_done = (
            ReadingStatus.READING, timezone.now(), 0, 0)
        reading.attempts += 1
        reading.save(update_fields=["status", "started_at", "pages", "pages_done", "attempts"])
    return reading


def _fail(reading: ScanReading, error: SarabanError) -> ScanReading:
    ScanReading.objects.filter(pk=reading.pk).update(
        status=ReadingStatus.FAILED, error_code=error.code[:40], error_th=error.message_th[:500],
        error_en=error.message_en[:500], finished_at=timezone.now(),
    )
    reading.refresh_from_db()
    return reading


def run_reading(sha256: str) -> ScanReading | None:
    """Read the scan ``sha256`` now (the worker's task); the reading, or None when there was nothing to do."""
    reading = _claim(sha256)
    if reading is None:
        return None
    stored = StoredFile.objects.get(pk=sha256)
    if reading.attempts > MAX_ATTEMPTS:
        return _fail(reading, ScanUnreadable(
            f"อ่านข้อความไม่สำเร็จหลังลอง {MAX_ATTEMPTS} ครั้ง (งานหยุดกลางคัน)",
            f"OCR did not finish after {MAX_ATTEMPTS} attempts (the worker stopped while reading)",
            code="ocr_attempts"))
    pages_seen = [0]

    def progress(step: str, done: int, total: int) -> None:
        if step == "OCR" and done != pages_seen[0]:
            pages_seen[0] = done
            ScanReading.objects.filter(pk=sha256).update(pages_done=done, pages=total)

    try:
        data = read_file(sha256)
        result = read_scan(data, stored.content_type, options=reading_options(), progress=progress)
        # The copy holds the page images again with a text layer: give it room over the upload limit.
        searchable = store_file(result.pdf, "application/pdf", max_bytes=max(max_file_bytes(), 4 * len(data)))
    except SarabanError as exc:
        return _fail(reading, exc)
    except Exception as exc:  # a broken scan must not stop the worker: the reading fails with the reason
        log.exception("ocr: reading %s failed", sha256[:12])
        return _fail(reading, ScanUnreadable("อ่านข้อความจากภาพสแกนไม่สำเร็จ", f"OCR failed: {type(exc).__name__}"))
    # Pages given up on (past page_timeout_s) are in the copy without text: said on the letter's page.
    partial = (("ocr_partial", f"อ่านไม่ทันเวลา {result.pages_unread} หน้า หน้าเหล่านั้นจึงค้นหาข้อความไม่ได้ (อ่านอีกครั้งได้)",
                f"{result.pages_unread} pages took too long and have no text to search (read again to retry)")
               if result.pages_unread else ("", "", ""))
    with transaction.atomic():
        ScanReading.objects.filter(pk=sha256).update(
            status=ReadingStatus.DONE, searchable=searchable, text=result.text, pages=result.pages,
            pages_done=result.pages, finished_at=timezone.now(), error_code=partial[0], error_th=partial[1],
            error_en=partial[2],
        )
        transaction.on_commit(lambda: scan_read.send(sender=ScanReading, sha256=sha256, text=result.text),
                              robust=True)
    reading.refresh_from_db()
    return reading


def stalled(reading: ScanReading, now: dt.datetime) -> bool:
    """A reading started longer ago than its time limit allows: its worker is gone."""
    limit = 120 + max(reading.pages, 1) * reading_options().page_timeout_s
    return reading.started_at is None or now - reading.started_at > dt.timedelta(seconds=limit)
