"""Sending letters and keeping each recipient's status, mirrored in the send register (การปฏิบัติ)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from saraban.access.policy import has_role
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, ValidationFailed, enforce
from saraban.correspondence.models import Letter
from saraban.correspondence.pdf import render_and_store
from saraban.correspondence.permissions import REGISTRY, can_send
from saraban.correspondence.snapshots import letter_snapshot
from saraban.correspondence.workflow import mark_sent
from saraban.directory.models import Organisation, Person, Role
from saraban.documents.services import read_file
from saraban.regulation.kinds import Secrecy
from saraban.signatures.selectors import signed_pdf_of

from .channels import channel_named
from .delivery import OutgoingLetter
from .dispatches import dispatch_failed, mirror_in_register, report_status
from .models import Dispatch, DispatchStatus, MessageStatus, OutgoingMessage, ReceivedMessage
from .outbox import queue_receipt, reopen
from .selectors import peer_of
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
        enforce_reachable(letter, [r.organisation for r in recipients])
        # The final PDF (with number and date) is what travels; a PKI-signed one exactly as it was signed.
        pdf_file = signed_pdf_of(letter.pk) or render_and_store(letter)
        outgoing = OutgoingLetter(letter=letter, pdf=read_file(pdf_file.sha256))
        now = timezone.now()
        before = letter_snapshot(letter)
        dispatches = []
        for recipient in recipients:
            dispatch = Dispatch.objects.create(
                letter=letter, recipient=recipient.organisation, kind=recipient.kind, sent_at=now, status_at=now,
            )
            transport_for(dispatch).deliver(dispatch, outgoing)
            dispatches.append(dispatch)
        letter = mark_sent(letter, pdf=pdf_file)
        record_event(
            "letter.sent", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
            actor=actor, before=before, after=letter_snapshot(letter),
            detail={"recipients": [d.recipient_id for d in dispatches]},
        )
        mirror_in_register(letter)
    return dispatches


def enforce_reachable(letter: Letter, organisations: list[Organisation]) -> None:
    """Refuse the send when a remote recipient's deployment is suspended or will not take its secrecy."""
    problems = []
    for organisation in organisations:
        if not organisation.home_deployment:
            continue
        peer = peer_of(organisation.pk)
        if peer is None or not peer.is_active:
            problems.append(FieldProblem(
                "to", "peer_inactive", f"ส่งถึง {organisation.name_th} ไม่ได้: ระบบปลายทางถูกระงับหรือไม่มีในรายการ",
                f"Cannot send to {organisation.name_en or organisation.name_th}: its deployment is suspended"
                " or unknown",
            ))
        elif letter.secrecy == Secrecy.TOP_SECRET and not peer.accepts_top_secret:
            problems.append(FieldProblem(
                "secrecy", "peer_refuses_top_secret",
                f"ระบบของ {organisation.name_th} ไม่รับหนังสือลับที่สุดทางอิเล็กทรอนิกส์",
                f"{organisation.name_en or organisation.name_th}'s deployment does not accept top secret letters",
            ))
    if problems:
        raise ValidationFailed(problems)


def report_to_sender(
    *, dispatch_id: int | None, received_message_id: int | None, status: DispatchStatus, actor: Person,
    receive_number: str = "", registered_on: dt.date | None = None, reason: str = "", channel: str = "",
    channel_ref: str = "",
) -> None:
    """Tell the sender what became of a received letter (received, registered, returned), by its channel.

    A letter sent within this deployment updates its dispatch at once; one from a peer queues a signed
    receipt in the outbox, in the caller's transaction; one that came by another system's channel
    (e-CMS) is reported by that channel (its notifiers, queued in the caller's transaction too).
    """
    if channel:
        carrier = channel_named(channel)
        if carrier is not None:
            carrier.report(channel_ref, status, actor=actor, receive_number=receive_number,
                           registered_on=registered_on, reason=reason)
    elif dispatch_id is not None:
        report_status(Dispatch(pk=dispatch_id), status, receive_number=receive_number, reason=reason, actor=actor)
    elif received_message_id is not None:
        received = ReceivedMessage.objects.select_related("peer", "recipient").get(pk=received_message_id)
        queue_receipt(received, status.value, receive_number=receive_number, registered_on=registered_on,
                      reason=reason)


def _may_manage_queue(actor: Person, message: OutgoingMessage) -> None:
    if not has_role(actor, message.organisation_id, *REGISTRY, Role.ORG_ADMIN):
        raise ValidationFailed([FieldProblem(
            "message", "forbidden", "เฉพาะงานสารบรรณของหน่วยงานผู้ส่งจัดการคิวนี้ได้",
            "Only the sending organisation's registry may manage this queue",
        )])


def send_again(message: OutgoingMessage, *, actor: Person) -> OutgoingMessage:
    """ส่งอีกครั้ง: a message given up, refused or cancelled goes back in the queue, due now."""
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=message.pk)
        _may_manage_queue(actor, message)
        if message.status not in (MessageStatus.GIVEN_UP, MessageStatus.REFUSED, MessageStatus.CANCELLED):
            raise ValidationFailed([FieldProblem(
                "message", "wrong_state", "ส่งอีกครั้งได้เฉพาะข้อความที่ส่งไม่สำเร็จหรือถูกยกเลิก",
                "Only a message given up, refused or cancelled can be sent again",
            )])
        before = {"status": message.status}
        now = timezone.now()
        reopen(message, now)
        if message.dispatch_id:
            Dispatch.objects.filter(pk=message.dispatch_id, status=DispatchStatus.FAILED).update(
                status=DispatchStatus.SENDING, status_at=now, returned_reason="")
            mirror_in_register(Letter.objects.get(dispatches__pk=message.dispatch_id))
        record_event("exchange.send_again", object_type="exchange_message", object_id=message.pk,
                     organisation_id=message.organisation_id, actor=actor, before=before,
                     after={"status": message.status})
    return message


def cancel(message: OutgoingMessage, *, actor: Person) -> OutgoingMessage:
    """ยกเลิกการส่ง: a message still waiting is taken out of the queue; a letter's dispatch fails."""
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=message.pk)
        _may_manage_queue(actor, message)
        if message.status != MessageStatus.PENDING:
            raise ValidationFailed([FieldProblem(
                "message", "wrong_state", "ยกเลิกได้เฉพาะข้อความที่ยังรอส่ง", "Only a waiting message can be cancelled",
            )])
        before = {"status": message.status}
        message.status = MessageStatus.CANCELLED
        message.save()
        if message.dispatch_id:
            dispatch_failed(message.dispatch_id, f"ยกเลิกการส่งโดย {actor.display_name}")
        record_event("exchange.cancelled", object_type="exchange_message", object_id=message.pk,
                     organisation_id=message.organisation_id, actor=actor, before=before,
                     after={"status": message.status})
    return message
