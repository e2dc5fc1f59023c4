"""Background OCR (django.tasks; the database backend runs it in ``saraban db_worker``)."""

from __future__ import annotations

from django.tasks import task


@task()
def read_scan(sha256: str) -> str:
    """Read the scan ``sha256`` (see ``worker.run_reading``); returns the reading's status."""
    from .worker import run_reading

    reading = run_reading(sha256)
    return reading.status if reading is not None else ""
