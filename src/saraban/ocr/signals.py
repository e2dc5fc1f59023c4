"""What the OCR app tells others: a scan has been read (sent after the reading is committed)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``sha256`` (the scan) and ``text`` once its reading is done and committed; search listens.
scan_read = Signal()
