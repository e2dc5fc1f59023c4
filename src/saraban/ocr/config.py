"""The deployment's OCR settings (``settings.SARABAN_OCR``), as the reader's options."""

from __future__ import annotations

from django.conf import settings

from .reading import ReadingOptions


def reading_options() -> ReadingOptions:
    """The deployment's OCR settings (``settings.SARABAN_OCR``)."""
    conf = settings.SARABAN_OCR
    return ReadingOptions(
        languages=conf["languages"], deskew=conf["deskew"], clean=conf["clean"], rotate_pages=conf["rotate_pages"],
        jobs=conf["jobs"], page_timeout_s=conf["page_timeout_s"], max_pages=conf["max_pages"],
    )


def ocr_enabled() -> bool:
    """Whether this deployment reads scans (``SARABAN_OCR_ENABLED``, on by default)."""
    return bool(settings.SARABAN_OCR["enabled"])
