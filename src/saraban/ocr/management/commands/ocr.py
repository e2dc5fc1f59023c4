"""``saraban ocr``: Thai OCR of scans.

- ``status``: how many readings are queued, running, done and failed, and the latest failures;
- ``read FILE -o OUT.pdf [--text]``: read one scan (PDF, PNG, JPEG or TIFF) from disk into a searchable
  PDF/A, without the database: to check an installation or a scanner's output;
- ``again``: queue every failed reading once more (after installing a missing model, say).
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import SarabanError
from saraban.ocr.config import reading_options
from saraban.ocr.models import ReadingStatus, ScanReading
from saraban.ocr.reading import read_scan
from saraban.ocr.selectors import counts
from saraban.ocr.services import read_again

TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".tif": "image/tiff", ".tiff": "image/tiff"}


class Command(BaseCommand):
    help = "Thai OCR of scans: status, read a file, read the failed ones again."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="readings by state, and the latest failures")
        read = sub.add_parser("read", help="read one scan from disk into a searchable PDF/A")
        read.add_argument("file")
        read.add_argument("-o", "--output", required=True)
        read.add_argument("--text", action="store_true", help="also print the text read")
        sub.add_parser("again", help="queue every failed reading again")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "status":
                self._status()
            elif options["action"] == "read":
                self._read(Path(options["file"]), Path(options["output"]), show_text=options["text"])
            else:
                failed = list(ScanReading.objects.filter(status=ReadingStatus.FAILED).values_list("pk", flat=True))
                for sha in failed:
                    read_again(sha)
                self.stdout.write(f"ส่งอ่านใหม่ {len(failed)} ไฟล์ / queued {len(failed)} files again")
        except SarabanError as exc:
            raise CommandError(f"{exc.message_th} / {exc.message_en}", returncode=2) from None

    def _status(self) -> None:
        for status, n in counts().items():
            self.stdout.write(f"{ReadingStatus(status).label}: {n:,}")
        for failed in ScanReading.objects.filter(status=ReadingStatus.FAILED).order_by("-finished_at")[:10]:
            self.stdout.write(f"  {failed.source_id[:12]}  {failed.error_code}  {failed.error_th} / {failed.error_en}")

    def _read(self, source: Path, output: Path, *, show_text: bool) -> None:
        content_type = TYPES.get(source.suffix.lower())
        if content_type is None:
            raise CommandError("อ่านได้เฉพาะไฟล์ PDF, PNG, JPEG หรือ TIFF / only PDF, PNG, JPEG or TIFF files are read",
                               returncode=2)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise CommandError(f"เปิดไฟล์ไม่ได้ / cannot open {source}: {exc.strerror}", returncode=2) from None

        def progress(step: str, done: int, total: int) -> None:
            if step == "OCR" and total:
                sys.stderr.write(f"\rอ่านหน้า / page {done}/{total}")
                sys.stderr.flush()

        result = read_scan(data, content_type, options=reading_options(), progress=progress)
        sys.stderr.write("\n")
        output.write_bytes(result.pdf)
        self.stdout.write(f"อ่านแล้ว {result.pages} หน้า / read {result.pages} pages: {output}")
        if show_text:
            self.stdout.write(result.text)
