"""Sending letters and keeping each recipient's status, mirrored in the send register (การปฏิบัติ)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.core.errors import enforce
from saraban.core.labels import pair
from saraban.correspondence.models import Letter
from saraban.correspondence.pdf import render_and_store
from saraban.correspondence.permissions import can_send
from saraban.correspondence.snapshots import letter_snapshot
from saraban.correspondence.workflow import mark_sent
from saraban.directory.models import Person
from saraban.documents.services import read_file
from saraban.registers.models import EntryStatus, RegisterEntry
from saraban.registers.services import record_action
from saraban.signatures.selectors import signed_pdf_of

from .models import Dispatch, DispatchStatus
from .transports import transport_for


def send_letter(letter: Letter, *, actor: Person) -> list[Dispatch]:
    """Send a numbered letter to all its recipients and copies at once (ส่งหนังสือ).

    ลับที่สุด letters are refused unless the system administrator allowed sending them electronically
    (who may send what: ``correspondence.permissions.can_send``).
    """
    with transaction.atomic():
        letter = Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)
        enforce(can_send(actor, letter))
        recipients = list(letter.recipients.select_related("organisation"))
        # The final PDF (with number and date) is what travels; a PKI-signed one exactly as it was signed.
        pdf_file = signed_pdf_of(letter.pk) or render_and_store(letter)
        pdf = read_file(pdf_file.sha256)
        now = timezone.now()
        before = letter_snapshot(letter)
        dispatches = []
        for recipient in recipients:
            dispatch = Dispatch.objects.create(
                letter=letter, recipient=recipient.organisation, kind=recipient.kind, sent_at=now, status_at=now,
            )
            transport_for(dispatch).deliver(dispatch, pdf)
            dispatches.append(dispatch)
        letter = mark_sent(letter, pdf=pdf_file)
        record_event(
            "letter.sent", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
            actor=actor, before=before, after=letter_snapshot(letter),
            detail={"recipients": [d.recipient_id for d in dispatches]},
        )
        _mirror_in_register(letter)
    return dispatches


def report_status(
    dispatch: Dispatch, status: DispatchStatus, *, receive_number: str = "", reason: str = "", actor: Person
) -> Dispatch:
    """The recipient's side reports what became of a dispatch (received, registered, returned)."""
    with transaction.atomic():
        dispatch = Dispatch.objects.select_for_update().get(pk=dispatch.pk)
        before = {"status": dispatch.status, "receive_number": dispatch.receive_number}
        dispatch.status = status
        dispatch.status_at = timezone.now()
        if receive_number:
            dispatch.receive_number = receive_number
        if reason:
            dispatch.returned_reason = reason
        dispatch.save()
        letter = Letter.objects.get(pk=dispatch.letter_id)
        record_event(
            "dispatch.status", object_type="dispatch", object_id=dispatch.pk, organisation_id=letter.organisation_id,
            actor=actor, before=before, after={"status": status, "receive_number": dispatch.receive_number},
        )
        _mirror_in_register(letter)
    return dispatch


def status_summary(letter: Letter) -> str:
    """The per-recipient status in words, for the send register's การปฏิบัติ column."""
    parts = []
    for d in letter.dispatches.select_related("recipient").order_by("id"):
        label = pair(DispatchStatus(d.status).label)[0]
        if d.status == DispatchStatus.REGISTERED and d.receive_number:
            label = f"ลงรับเลขที่ {d.receive_number}"
        elif d.status == DispatchStatus.RETURNED:
            label = f"ส่งคืน: {d.returned_reason}"
        parts.append(f"{d.recipient.name_th} ({label})")
    return "; ".join(parts)


def _mirror_in_register(letter: Letter) -> None:
    entry = RegisterEntry.objects.filter(letter=letter, status=EntryStatus.ACTIVE).select_related("book").first()
    if entry is not None:
        record_action(entry, action=status_summary(letter)[:1000])
