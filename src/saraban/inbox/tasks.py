"""Background work on incoming letters (django.tasks; the database backend runs it in ``saraban db_worker``)."""

from __future__ import annotations

from django.tasks import task

from .receipts import record_receipt_validation


@task()
def validate_received_letter(incoming_id: int) -> str:
    """Validate a delivered letter's signatures and keep the report with it; returns the indication.

    Returns '' when there is nothing to do (the letter is gone, was registered from paper, or already
    has its report: a second run never replaces the report made at receipt).
    """
    record = record_receipt_validation(incoming_id)
    return record.indication if record is not None else ""
