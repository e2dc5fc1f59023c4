"""Reading the state of scans' OCR (for the letter pages and the command)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from .models import ReadingStatus, ScanReading


def reading_of(sha256: str) -> ScanReading | None:
    """The OCR of the stored file ``sha256``, if one was asked for."""
    return ScanReading.objects.filter(source_id=sha256).first()


def readings_of(sha256s: Iterable[str]) -> dict[str, ScanReading]:
    """The OCR of each of these files that has one, by SHA-256 (one query)."""
    wanted = [s for s in sha256s if s]
    return {r.source_id: r for r in ScanReading.objects.filter(source_id__in=wanted)} if wanted else {}


def ocr_text(sha256: str) -> str | None:
    """What OCR read from the file ``sha256``; None when it has not been read (or could not be)."""
    return (ScanReading.objects.filter(source_id=sha256, status=ReadingStatus.DONE)
            .values_list("text", flat=True).first())


def counts() -> dict[str, int]:
    """How many readings are in each state."""
    found = dict(ScanReading.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {s.value: int(found.get(s.value, 0)) for s in ReadingStatus}


def still_running(reading: ScanReading) -> bool:
    """Whether the page should keep asking for progress."""
    return reading.status in (ReadingStatus.QUEUED, ReadingStatus.READING)
