"""Sending letters and keeping each recipient's status, mirrored in the send register (การปฏิบัติ)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from saraban.access.policy import has_role, top_secret_may_go_electronically
from saraban.audit.services import record_event
from saraban.core.errors import PermissionRefused, StateRefused
from saraban.correspondence.kinds import Secrecy
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.pdf import render_and_store
from saraban.correspondence.snapshots import letter_snapshot
from saraban.directory.models import Person, Role
from saraban.documents.services import read_file
from saraban.registers.models import EntryStatus, RegisterEntry
from saraban.registers.services import record_action
from saraban.signatures.selectors import signed_pdf_of

from .models import Dispatch, DispatchStatus
from .transports import transport_for


def send_letter(letter: Letter, *, actor: Person) -> list[Dispatch]:
    """Send a numbered letter to all its recipients and copies at once (ส่งหนังสือ).

    ลับที่สุด letters are refused unless the system administrator allowed sending them electronically.
    """
    with transaction.atomic():
        letter = Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)
        if letter.status != LetterStatus.NUMBERED:
            raise StateRefused(
                code="letter.wrong_state", message_th="ส่งได้เฉพาะหนังสือที่ออกเลขแล้ว",
                message_en="Only a numbered letter can be sent",
            )
        if not has_role(actor, letter.organisation, Role.CENTRAL_CLERK, Role.UNIT_CLERK):
            raise PermissionRefused(
                code="letter.not_registry", message_th="เฉพาะเจ้าหน้าที่สารบรรณส่งหนังสือได้",
                message_en="Only a registry clerk can send letters",
            )
        if letter.secrecy == Secrecy.TOP_SECRET and not top_secret_may_go_electronically():
            raise StateRefused(
                code="letter.top_secret_paper_only",
                message_th="หนังสือชั้นลับที่สุดส่งทางระบบอิเล็กทรอนิกส์ไม่ได้ เว้นแต่ผู้ดูแลระบบอนุญาต",
                message_en="A top-secret letter cannot be sent electronically unless the administrator allows it",
            )
        recipients = list(letter.recipients.select_related("organisation"))
        if not recipients:
            raise StateRefused(
                code="letter.no_recipients", message_th="ยังไม่ได้เลือกหน่วยงานผู้รับ",
                message_en="The letter has no recipient organisations",
            )
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
        Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.SENT, pdf=pdf_file)
        letter.refresh_from_db()
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
        label = DispatchStatus(d.status).label.split(" / ")[0]
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
