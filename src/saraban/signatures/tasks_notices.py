"""Background work of the certificate registry (django.tasks; run daily by the worker or a timer)."""

from __future__ import annotations

from django.tasks import task

from .notices import send_expiry_warnings


@task()
def send_expiry_warnings_task() -> int:
    """Write and e-mail today's certificate expiry warnings; returns how many notices were written."""
    return send_expiry_warnings()
