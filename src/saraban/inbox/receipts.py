"""Validating a delivered letter's signatures on receipt, in the worker (``tasks.validate_received_letter``).

``services.receive_electronic`` enqueues the task after the delivery commits. Apart from ``services``
so that the task module and the services do not import each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from saraban.audit.services import record_event

from .models import IncomingLetter, IncomingSource
from .snapshots import incoming_snapshot

if TYPE_CHECKING:
    from saraban.signatures.models import ValidationRecord


def record_receipt_validation(incoming_id: int) -> ValidationRecord | None:
    """Compute and keep the validation report of an electronically delivered letter (once).

    The report says what the signatures were worth on receipt and is never replaced, so it stays on
    record after the certificates expire or are revoked. Paper registrations get none. Returns the
    record (the existing one when already validated), or ``None`` when there is nothing to validate.
    """
    from saraban.signatures.validation import record_for, validate_and_record

    incoming = IncomingLetter.objects.filter(pk=incoming_id).select_related("original").first()
    if incoming is None or incoming.source != IncomingSource.ELECTRONIC:
        return None
    if incoming.validation_id is not None:
        return record_for(incoming.validation_id, organisation_id=incoming.organisation_id)
    # Validation runs outside any transaction (it may take seconds); the link is set under a row lock.
    record = validate_and_record(incoming.original, organisation_id=incoming.organisation_id)
    with transaction.atomic():
        locked = IncomingLetter.objects.select_for_update().get(pk=incoming.pk)
        if locked.validation_id is not None:  # another worker was quicker: keep the first report only
            record.delete()
            return record_for(locked.validation_id, organisation_id=locked.organisation_id)
        before = incoming_snapshot(locked)
        locked.validation = record
        locked.save(update_fields=["validation"])
        record_event(
            "incoming.validated", object_type="incoming_letter", object_id=locked.pk,
            organisation_id=locked.organisation_id, actor=None, before=before, after=incoming_snapshot(locked),
            detail={"validation": record.pk, "indication": record.indication,
                    "sub_indication": record.sub_indication, "signatures": record.signature_count},
        )
    return record
