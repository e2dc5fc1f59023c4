"""What we post to our e-CMS node: letters (one per dispatch) and notifiers, queued in the caller's transaction.

``queue_letter`` runs in the send transaction (the channel's ``deliver``), ``queue_notifier`` in
the poll or registration transaction; ``post_due`` (the pump's sender loop) leases each due row and
posts it. The node's answer decides:

- a ProcessID: posted (the letter waits for the receiver's notifiers, polled by ``inbound``);
- a Client fault (our request is wrong: an unknown receiver…): refused, in words; a letter's
  dispatch becomes ส่งไม่สำเร็จ until the registry sends it again;
- anything else (down, timed out, a Server fault, an answer that is not e-CMS): tried again with
  back-off, and given up after ``SARABAN_ECMS_RETRY_DAYS``.

A letter whose last attempt may have reached the node unseen (a timeout after the request went out)
is not posted blindly again: the node's OutboundStatus is asked first, and a letter it already
holds is adopted by its ProcessID, so the receiver gets one copy.
"""

from __future__ import annotations

import datetime as dt
import threading

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from saraban.core import outbox
from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file, store_file
from saraban.exchange.delivery import OutgoingLetter
from saraban.exchange.dispatches import dispatch_failed
from saraban.exchange.models import Dispatch
from saraban.exchange.outbox import backoff

from .client import NodeError, NodeFault, NodeUnreachable, call
from .codes import secret_code, speed_code
from .messages import (
    BinaryPart,
    GovernmentDocument,
    Notifier,
    Party,
    Reference,
    Withdrawal,
    new_message_id,
    outbound_letter,
    outbound_notifier,
    outbound_status_request,
    withdraw_request,
)
from .models import EcmsConnection, EcmsInbound, EcmsOrganisation, EcmsOutbound, OutboundKind, OutboundStatus

XML = "text/xml"
# Statuses the node gives a letter that is still out there (not withdrawn): one it holds already.
_WITHDRAWN = {"withdrawn", "deleted", "cancelled"}


def connection_of(organisation_id: int) -> EcmsConnection | None:
    """The active e-CMS account of an organisation hosted here (None: it has none)."""
    return EcmsConnection.objects.filter(organisation_id=organisation_id, is_active=True).first()


def _not_connected(name: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(
        "to", "ecms_not_connected",
        f"{name} ยังไม่ได้เชื่อมต่อระบบ e-CMS จึงส่งถึงหน่วยงานที่รับทาง e-CMS ไม่ได้ ให้ผู้ดูแลระบบตั้งค่าการเชื่อมต่อ",
        f"{name} has no e-CMS connection, so it cannot send to an agency reached through e-CMS; "
        "ask the administrator to set it up",
    )])


def _split_name(name: str) -> tuple[str, str]:
    given, _, family = name.strip().partition(" ")
    return given, family.strip()


def _window(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=int(settings.SARABAN_ECMS["retry_days"]))


def _enqueue(connection: EcmsConnection, kind: str, body: bytes, **fields: object) -> EcmsOutbound:
    now = timezone.now()
    request = store_file(body, XML, max_bytes=max(len(body), 1))
    return EcmsOutbound.objects.create(
        connection=connection, kind=kind, request=request, created_at=now, next_attempt_at=now,
        give_up_at=_window(now), **fields,
    )


def government_document(connection: EcmsConnection, recipient: EcmsOrganisation,
                        outgoing: OutgoingLetter) -> GovernmentDocument:
    """The ``GovernmentDocument`` payload of a letter: its metadata, the PDF as signed and its enclosures."""
    letter = outgoing.letter
    content = letter.letter_content
    given, family = _split_name(content.signer.name)
    date = letter.date or timezone.localdate()
    attachments = []
    for enclosure in outgoing.enclosures:
        sha256 = enclosure["sha256"]
        if sha256:
            stored = StoredFile.objects.get(pk=sha256)
            attachments.append(BinaryPart(stored.content_type or "application/octet-stream", read_file(sha256),
                                          enclosure["filename"] or ""))
    return GovernmentDocument(
        letter_id=letter.number, date=date.isoformat(), subject=letter.subject,
        secret_code=secret_code(letter.secrecy), speed_code=speed_code(letter.urgency),
        sender=Party(given_name=given, family_name=family, job_title=content.signer.position,
                     ministry_id=connection.ministry_id, department_id=connection.department_id),
        receiver=Party(job_title=content.recipient, ministry_id=recipient.ministry_id,
                       department_id=recipient.organization_id),
        references=tuple(Reference(letter_id="", date="", subject=text) for text in content.references),
        attachment_text=", ".join(str(e["title"]) for e in outgoing.enclosures),
        send_date=timezone.localtime().strftime("%Y-%m-%dT%H:%M:%S"),
        description=content.owner_unit,
        main_letter=BinaryPart("application/pdf", outgoing.pdf, "letter.pdf"),
        attachments=tuple(attachments),
        signer=Party(given_name=given, family_name=family, job_title=content.signer.position,
                     ministry_id=connection.ministry_id, department_id=connection.department_id),
    )


def queue_letter(dispatch: Dispatch, outgoing: OutgoingLetter, *, withdraw_first: bool = False) -> EcmsOutbound:
    """Put the letter for ``dispatch`` in the e-CMS outbox (in the caller's transaction).

    ``ValidationFailed`` when the sending organisation has no e-CMS connection, or the recipient is
    not in the e-CMS directory.
    """
    letter = outgoing.letter
    connection = connection_of(letter.organisation_id)
    if connection is None:
        raise _not_connected(letter.organisation.name_th)
    recipient = EcmsOrganisation.objects.filter(organisation_id=dispatch.recipient_id).first()
    if recipient is None:
        raise ValidationFailed([FieldProblem(
            "to", "ecms_unknown_recipient", "ผู้รับไม่อยู่ในทะเบียนหน่วยงาน e-CMS",
            "The recipient is not in the e-CMS directory",
        )])
    document = government_document(connection, recipient, outgoing)
    to = connection.endpoint
    body = outbound_letter(document, message_id=new_message_id(), to=to)
    return _enqueue(connection, OutboundKind.LETTER, body, dispatch=dispatch, letter_id=document.letter_id,
                    letter_date=document.date, receiver_department=recipient.organization_id,
                    withdraw_first=withdraw_first)


def queue_notifier(inbound: EcmsInbound, kind: str, *, accept_id: str = "", description: str = "",
                   again: bool = False) -> EcmsOutbound | None:
    """Queue a notifier about a letter we polled (once per kind, unless ``again``: an AcceptID corrected)."""
    if not again and EcmsOutbound.objects.filter(inbound=inbound, notifier_kind=kind).exists():
        return None
    notifier = Notifier(kind=kind, letter_id=inbound.letter_id, date=inbound.letter_date, subject=inbound.subject,
                        accept_id=accept_id, description=description)
    body = outbound_notifier(notifier, message_id=new_message_id(), to=inbound.connection.endpoint)
    return _enqueue(inbound.connection, OutboundKind.NOTIFIER, body, notifier_kind=kind, inbound=inbound,
                    letter_id=inbound.letter_id, letter_date=inbound.letter_date,
                    receiver_department=inbound.connection.department_id, accept_id=accept_id)


def queue_sender_notifier(outbound: EcmsOutbound, kind: str, *, accept_id: str) -> EcmsOutbound:
    """Queue a notifier the sender sends about its own letter (InvalidAcceptIDNotifier)."""
    letter = outbound  # the e-CMS row of the letter it is about
    notifier = Notifier(kind=kind, letter_id=letter.letter_id, date=letter.letter_date, subject="",
                        accept_id=accept_id)
    body = outbound_notifier(notifier, message_id=new_message_id(), to=letter.connection.endpoint)
    return _enqueue(letter.connection, OutboundKind.NOTIFIER, body, notifier_kind=kind, dispatch=letter.dispatch,
                    letter_id=letter.letter_id, letter_date=letter.letter_date,
                    receiver_department=letter.receiver_department, accept_id=accept_id)


# ---- posting


def _lease_seconds() -> int:
    return int(settings.SARABAN_ECMS["timeout_s"]) * 3 + 10  # withdraw, status check and post in one attempt


def _withdraw(row: EcmsOutbound) -> None:
    withdrawal = Withdrawal(letter_id=row.letter_id, date=row.letter_date,
                            sender_department=row.connection.department_id,
                            accept_department=row.receiver_department)
    try:
        call(row.connection.endpoint, withdraw_request(withdrawal, message_id=new_message_id(),
                                                       to=row.connection.endpoint))
    except NodeFault as fault:
        if not fault.client_side:
            raise
        # The node does not know the letter (any more): there is nothing left to withdraw.
    EcmsOutbound.objects.filter(pk=row.pk).update(withdrawn_at=timezone.now())


def _already_at_node(row: EcmsOutbound) -> str:
    """The ProcessID under which the node already holds this letter ("" if it does not)."""
    answer = call(row.connection.endpoint, outbound_status_request(message_id=new_message_id(),
                                                                   to=row.connection.endpoint))
    taken = set(EcmsOutbound.objects.filter(connection=row.connection).exclude(pk=row.pk)
                .exclude(process_id="").values_list("process_id", flat=True))
    for status in reversed(answer.outbound):
        if status.letter_id == row.letter_id and status.process_id not in taken and \
                status.status.strip().lower() not in _WITHDRAWN:
            return status.process_id
    return ""


def post(pk: int) -> None:
    """One attempt at a leased row: withdraw first if asked, check an uncertain letter, post, record."""
    row = EcmsOutbound.objects.select_related("connection").get(pk=pk)
    try:
        if not row.connection.is_active:
            raise NodeError("การเชื่อมต่อ e-CMS ถูกระงับ", "The e-CMS connection is suspended")
        if row.kind == OutboundKind.LETTER and row.withdraw_first and row.withdrawn_at is None:
            _withdraw(row)
        process_id = _already_at_node(row) if row.kind == OutboundKind.LETTER and row.uncertain else ""
        if not process_id:
            answer = call(row.connection.endpoint, read_file(row.request_id))
            process_id = answer.process_id or "-"
    except NodeError as error:
        _record_failure(pk, error)
        return
    _record_posted(pk, process_id)


def _record_posted(pk: int, process_id: str) -> None:
    with transaction.atomic():
        row = EcmsOutbound.objects.select_for_update().get(pk=pk)
        if row.status != OutboundStatus.PENDING:
            return
        now = timezone.now()
        row.status, row.process_id, row.posted_at = OutboundStatus.POSTED, process_id, now
        row.attempts += 1
        row.lease_until, row.last_error, row.uncertain = None, "", False
        row.save()


def _record_failure(pk: int, error: NodeError) -> None:
    with transaction.atomic():
        row = EcmsOutbound.objects.select_for_update().get(pk=pk)
        if row.status != OutboundStatus.PENDING:
            return
        now = timezone.now()
        row.attempts += 1
        row.lease_until, row.last_error = None, error.words[:2000]
        if isinstance(error, NodeUnreachable) and error.sent:
            row.uncertain = True
        if not error.retry:
            row.status = OutboundStatus.FAILED
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            if row.next_attempt_at > row.give_up_at:
                row.status = OutboundStatus.GIVEN_UP
        row.save()
        if row.dispatch_id and row.kind == OutboundKind.LETTER and row.status != OutboundStatus.PENDING:
            days = settings.SARABAN_ECMS["retry_days"]
            why = error.message_th if row.status == OutboundStatus.FAILED else \
                f"ส่งเข้า e-CMS ไม่สำเร็จภายใน {days} วัน: {error.message_th}"
            dispatch_failed(row.dispatch_id, why)


def post_due(limit: int = 10_000) -> int:
    """Post every row due now, one after the other; how many attempts were made."""
    return outbox.drain(EcmsOutbound, post, lease_seconds=_lease_seconds(), limit=limit)


def run_sender(stop: threading.Event) -> None:
    """The pump's e-CMS sender: post what is due, look again every quarter second."""
    outbox.run(stop, lambda: post_due(limit=50))
