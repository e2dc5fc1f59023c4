"""Asking for a scan to be read, reading it in the worker, and reading again after a failure.

``request_reading`` is called inside the caller's transaction (registering a paper letter, indexing an
enclosure without text): the row is written with it, and the task is queued once it commits; the
worker reads it (``worker.run_reading``). A worker killed while reading leaves a row in ``reading``:
``requeue_stalled`` queues it again.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from saraban.core.errors import StateRefused
from saraban.documents.models import StoredFile

from .config import ocr_enabled, reading_options
from .models import ReadingStatus, ScanReading
from .reading import IMAGE_TYPES
from .worker import stalled

log = logging.getLogger(__name__)

READABLE_TYPES = {"application/pdf", *IMAGE_TYPES}


def _enqueue(sha256: str) -> None:
    from .tasks import read_scan as read_scan_task

    try:
        read_scan_task.enqueue(sha256)
    except Exception:  # the row stays queued; requeue_stalled queues it again
        log.exception("ocr: could not queue the reading of %s", sha256[:12])


def request_reading(sha256: str) -> ScanReading | None:
    """Ask for the stored file ``sha256`` to be read (once per file); its reading, or None.

    None when OCR is off here or the file is not a PDF or image. A file already read, queued or being
    read is left as it is.
    """
    if not ocr_enabled():
        return None
    content_type = StoredFile.objects.filter(pk=sha256).values_list("content_type", flat=True).first()
    if content_type not in READABLE_TYPES:
        return None
    reading, created = ScanReading.objects.get_or_create(source_id=sha256, defaults={
        "queued_at": timezone.now(), "languages": reading_options().languages,
    })
    if created:
        transaction.on_commit(lambda: _enqueue(sha256), robust=True)
    return reading


def read_again(sha256: str) -> ScanReading:
    """Queue a reading that failed (or was lost) once more; ``StateRefused`` while it is still running."""
    with transaction.atomic():
        reading = ScanReading.objects.select_for_update().filter(source_id=sha256).first()
        if reading is None:
            raise StateRefused("ocr_not_requested", "ไฟล์นี้ยังไม่ได้ขออ่านข้อความ", "No OCR was asked for this file")
        if reading.status in (ReadingStatus.QUEUED, ReadingStatus.READING):
            raise StateRefused("ocr_running", "กำลังอ่านข้อความไฟล์นี้อยู่", "This file is being read already")
        reading.status, reading.queued_at, reading.attempts = ReadingStatus.QUEUED, timezone.now(), 0
        reading.pages_done, reading.error_code, reading.error_th, reading.error_en = 0, "", "", ""
        reading.languages = reading_options().languages
        reading.save()
        transaction.on_commit(lambda: _enqueue(sha256), robust=True)
    return reading


def requeue_stalled(limit: int = 500) -> int:
    """Queue again the readings whose worker was killed (or whose task was never queued); how many."""
    now = timezone.now()
    lost_queue = now - dt.timedelta(hours=6)  # a long queue is slow, not lost: only a task gone for hours
    again = [r.source_id for r in ScanReading.objects.filter(status=ReadingStatus.READING)[:limit]
             if stalled(r, now)]
    again += list(ScanReading.objects.filter(status=ReadingStatus.QUEUED, queued_at__lt=lost_queue)
                  .values_list("source_id", flat=True)[:limit])
    for sha256 in again:
        _enqueue(sha256)
    return len(again)


def forget_readings(sha256s: set[str]) -> set[str]:
    """Drop the OCR of these files (its text); the searchable copies made, to be erased with them."""
    readings = ScanReading.objects.filter(source_id__in=list(sha256s))
    copies = {str(s) for s in readings.exclude(searchable__isnull=True).values_list("searchable_id", flat=True)}
    readings.delete()
    return copies
