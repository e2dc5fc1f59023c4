"""Background work on incoming letters (django.tasks; the database backend runs it in ``saraban db_worker``)."""

from __future__ import annotations

import datetime as dt

from django.tasks import task
from django.utils import timezone

from .models import IncomingLetter, IncomingSource
from .receipts import record_receipt_validation


@task()
def validate_received_letter(incoming_id: int) -> str:
    """Validate a delivered letter's signatures and keep the report with it; returns the indication.

    Returns '' when there is nothing to do (the letter is gone, was registered from paper, or already
    has its report: a second run never replaces the report made at receipt).
    """
    record = record_receipt_validation(incoming_id)
    return record.indication if record is not None else ""


# A delivered letter still without its report after this long lost its validation task (the worker was
# killed while it ran, or the enqueue failed): it is queued again.
MISSING_REPORT_AFTER = dt.timedelta(minutes=10)


def enqueue_missing_validations(limit: int = 1000) -> int:
    """Queue the validation again for electronic letters delivered a while ago that have no report yet."""
    cutoff = timezone.now() - MISSING_REPORT_AFTER
    ids = list(IncomingLetter.objects.filter(
        source=IncomingSource.ELECTRONIC, validation__isnull=True, delivered_at__lt=cutoff,
    ).order_by("delivered_at").values_list("pk", flat=True)[:limit])
    for incoming_id in ids:
        validate_received_letter.enqueue(incoming_id)
    return len(ids)
