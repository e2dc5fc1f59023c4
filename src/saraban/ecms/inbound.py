"""What we poll from our e-CMS node: letters for our inbox, notifiers about the letters we sent.

``poll(connection)`` asks the node for the head of its queue until it is empty. Each item is kept
(``EcmsInbound``, once per ProcessID, the node's answer byte for byte) and acted on in one
transaction; only once that has committed is the item deleted from the node's queue
(CorrespondenceLetterDeleteRequest). A crash in between leaves the item at the node: it is polled
again, found already kept, and deleted. A letter the node hands out again under a new ProcessID
(the same sender, number, date and PDF) is recognised as a copy and gets no second inbox entry.

- a letter: into the connection's organisation's inbox (``exchange.delivery``), with a
  ReceiveLetterNotifier queued; a defective one (no PDF, an unknown secrecy code) gets an
  InvalidLetterNotifier instead, and is kept here for the administrator;
- ReceiveLetterNotifier → ส่งถึงแล้ว; AcceptLetterNotifier → ลงรับแล้ว with the receiver's
  เลขรับ (AcceptID); RejectLetterNotifier and InvalidLetterNotifier → ส่งคืน with the reason;
- InvalidAcceptIDNotifier (the sender says the เลขรับ we reported is wrong): recorded on the
  letter, and our AcceptLetterNotifier is sent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.documents.services import store_file
from saraban.exchange.delivery import Delivery, deliver_to_inbox
from saraban.exchange.dispatches import report_status
from saraban.exchange.models import Dispatch, DispatchStatus

from .client import NodeError, call
from .codes import UnknownCode, secrecy_of, urgency_of
from .messages import GovernmentDocument, Message, Notifier, delete_request, inbound_request, new_message_id
from .models import EcmsConnection, EcmsInbound, EcmsOrganisation, EcmsOutbound, InboundOutcome, OutboundKind
from .outbound import queue_notifier

log = logging.getLogger(__name__)
MAX_ITEMS_PER_POLL = 200

# The status each notifier gives the dispatch it is about.
_STATUS = {
    "ReceiveLetterNotifier": DispatchStatus.DELIVERED,
    "AcceptLetterNotifier": DispatchStatus.REGISTERED,
    "RejectLetterNotifier": DispatchStatus.RETURNED,
    "InvalidLetterNotifier": DispatchStatus.RETURNED,
}


def poll(connection: EcmsConnection) -> int:
    """Take everything queued for ``connection`` at its node; how many items were taken."""
    taken = 0
    try:
        while taken < MAX_ITEMS_PER_POLL:
            raw_request = inbound_request(message_id=new_message_id(), to=connection.endpoint)
            answer, raw = call_raw(connection.endpoint, raw_request)
            if answer.is_empty or not answer.process_id:
                break
            keep(connection, answer, raw)
            call(connection.endpoint, delete_request(answer.process_id, message_id=new_message_id(),
                                                     to=connection.endpoint))
            EcmsInbound.objects.filter(connection=connection, process_id=answer.process_id,
                                       deleted_at__isnull=True).update(deleted_at=timezone.now())
            taken += 1
    except NodeError as error:
        EcmsConnection.objects.filter(pk=connection.pk).update(last_polled_at=timezone.now(),
                                                               last_error=error.words[:2000])
        return taken
    EcmsConnection.objects.filter(pk=connection.pk).update(last_polled_at=timezone.now(), last_error="")
    return taken


def call_raw(endpoint: str, body: bytes) -> tuple[Message, bytes]:
    """``client.call``, keeping the answer's bytes too (what the node sent is stored as it came)."""
    captured: list[bytes] = []
    answer = call(endpoint, body, keep=captured)
    return answer, captured[0] if captured else b""


def keep(connection: EcmsConnection, answer: Message, raw: bytes) -> EcmsInbound:
    """Keep one polled item and act on it, once (a duplicate poll result changes nothing)."""
    existing = EcmsInbound.objects.filter(connection=connection, process_id=answer.process_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            stored = store_file(raw, "text/xml", max_bytes=max(len(raw), 1))
            item = EcmsInbound.objects.create(
                connection=connection, process_id=answer.process_id, kind=answer.kind, raw=stored,
                outcome=InboundOutcome.UNMATCHED, received_at=timezone.now(),
            )
            if answer.document is not None:
                _receive_letter(item, answer.document)
            elif answer.notifier is not None:
                _apply_notifier(item, answer.notifier)
            else:
                item.detail = f"ไม่ใช่หนังสือหรือหนังสือแจ้ง ({answer.operation}) / neither a letter nor a notifier"
            item.save()
            return item
    except IntegrityError:  # another pump kept it first
        return EcmsInbound.objects.get(connection=connection, process_id=answer.process_id)


def _letter_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _defects(document: GovernmentDocument) -> list[str]:
    problems = []
    main = document.main_letter
    if main is None or not main.data:
        problems.append("ไม่มีไฟล์หนังสือ (MainLetterBinaryObject) / no main letter file")
    elif not main.data.lstrip()[:5].startswith(b"%PDF-"):
        problems.append("ไฟล์หนังสือไม่ใช่ PDF / the main letter is not a PDF")
    if not document.letter_id or not document.subject:
        problems.append("ไม่มีเลขที่หรือเรื่องของหนังสือ / no letter number or subject")
    try:
        secrecy_of(document.secret_code)
    except UnknownCode:
        problems.append(f"ไม่รู้จักรหัสชั้นความลับ {document.secret_code!r} / unknown SecretCode")
    return problems


def _receive_letter(item: EcmsInbound, document: GovernmentDocument) -> None:
    main = document.main_letter
    item.letter_id, item.letter_date = document.letter_id[:128], document.date[:10]
    item.subject, item.sender_department = document.subject[:2000], document.sender.department_id[:32]
    item.main_sha256 = hashlib.sha256(main.data).hexdigest() if main else ""
    problems = _defects(document)
    if problems:
        item.outcome, item.detail = InboundOutcome.INVALID, "; ".join(problems)
        queue_notifier(item, "InvalidLetterNotifier", description="; ".join(problems)[:1000])
        return
    copy = EcmsInbound.objects.filter(
        connection=item.connection, kind="letter", letter_id=item.letter_id, letter_date=item.letter_date,
        sender_department=item.sender_department, main_sha256=item.main_sha256, outcome=InboundOutcome.DELIVERED,
    ).exclude(pk=item.pk).first()
    if copy is not None and not _returned(copy):
        item.outcome, item.incoming_id = InboundOutcome.DUPLICATE, copy.incoming_id
        item.detail = f"ซ้ำกับ ProcessID {copy.process_id} / a copy of ProcessID {copy.process_id}"
        return
    assert main is not None  # _defects refused a letter without one
    sender = EcmsOrganisation.objects.filter(organization_id=document.sender.department_id).first()
    enclosures: list[dict[str, object]] = []
    for index, part in enumerate(document.attachments, start=1):
        stored = store_file(part.data, part.mime or "application/octet-stream", max_bytes=max(len(part.data), 1))
        enclosures.append({"title": part.filename or f"สิ่งที่ส่งมาด้วย {index}", "sha256": stored.sha256,
                           "filename": part.filename})
    if not enclosures and document.attachment_text:
        enclosures.append({"title": document.attachment_text[:500]})
    item.incoming_id = deliver_to_inbox(Delivery(
        recipient_id=item.connection.organisation_id,
        sender_name=(sender.th_name if sender else "") or document.sender.job_title or document.sender.department_id,
        number=document.letter_id, date=_letter_date(document.date), subject=document.subject,
        addressed_to=document.receiver.job_title, urgency=urgency_of(document.speed_code),
        secrecy=secrecy_of(document.secret_code), pdf=main.data, delivered_at=timezone.now(),
        sender_organisation_id=sender.organisation_id if sender else None, enclosures=enclosures,
        channel="ecms", channel_ref=str(item.pk),
    ))
    item.outcome = InboundOutcome.DELIVERED
    queue_notifier(item, "ReceiveLetterNotifier")


def _returned(copy: EcmsInbound) -> bool:
    """Whether we rejected that earlier copy (then a resent letter is a new one for the inbox)."""
    return EcmsOutbound.objects.filter(inbound=copy, notifier_kind__in=["RejectLetterNotifier",
                                                                         "InvalidLetterNotifier"]).exists()


def _our_letter(connection: EcmsConnection, notifier: Notifier) -> EcmsOutbound | None:
    letters = EcmsOutbound.objects.filter(connection=connection, kind=OutboundKind.LETTER,
                                          letter_id=notifier.letter_id, dispatch__isnull=False)
    dated = letters.filter(letter_date=notifier.date[:10]) if notifier.date else letters
    for rows in (dated, letters):
        if notifier.accept_department:
            match = rows.filter(receiver_department=notifier.accept_department).order_by("-pk").first()
            if match is not None:
                return match
        if rows.values("receiver_department").distinct().count() == 1:
            return rows.order_by("-pk").first()
    return None


def _apply_notifier(item: EcmsInbound, notifier: Notifier) -> None:
    item.letter_id, item.letter_date = notifier.letter_id[:128], notifier.date[:10]
    item.subject, item.accept_id = notifier.subject[:2000], notifier.accept_id[:64]
    item.sender_department = notifier.accept_department[:32]
    if notifier.kind == "InvalidAcceptIDNotifier":
        _accept_id_disputed(item, notifier)
        return
    letter = _our_letter(item.connection, notifier)
    if letter is None or letter.dispatch_id is None:
        item.outcome = InboundOutcome.UNMATCHED
        item.detail = f"ไม่พบหนังสือที่ส่งเลขที่ {notifier.letter_id} / no letter we sent numbered {notifier.letter_id}"
        return
    status = _STATUS[notifier.kind]
    reason = ""
    if notifier.kind == "RejectLetterNotifier":
        reason = "ผู้รับปฏิเสธการรับหนังสือทาง e-CMS" + (f": {notifier.description}" if notifier.description else "")
    elif notifier.kind == "InvalidLetterNotifier":
        reason = "ผู้รับแจ้งว่าหนังสือไม่ถูกต้องหรือไม่สมบูรณ์ (e-CMS)" + (
            f": {notifier.description}" if notifier.description else "")
    report_status(Dispatch(pk=letter.dispatch_id), status, receive_number=notifier.accept_id[:32], reason=reason,
                  actor=None)
    item.outcome = InboundOutcome.APPLIED
    item.detail = f"{notifier.kind} → dispatch {letter.dispatch_id}"


def _accept_id_disputed(item: EcmsInbound, notifier: Notifier) -> None:
    letter = EcmsInbound.objects.filter(connection=item.connection, kind="letter", letter_id=notifier.letter_id,
                                        outcome=InboundOutcome.DELIVERED).order_by("-pk").first()
    if letter is None:
        item.outcome, item.detail = InboundOutcome.UNMATCHED, "ไม่พบหนังสือที่รับไว้ / no letter we received"
        return
    accepted = EcmsOutbound.objects.filter(inbound=letter, notifier_kind="AcceptLetterNotifier").order_by("-pk").first()
    record_event(
        "incoming.accept_id_disputed", object_type="incoming_letter", object_id=letter.incoming_id or 0,
        organisation_id=item.connection.organisation_id, actor=None,
        detail={"accept_id_given": notifier.accept_id, "accept_id_ours": accepted.accept_id if accepted else ""},
    )
    if accepted is not None:  # tell it again: the number in our receive register stands
        queue_notifier(letter, "AcceptLetterNotifier", accept_id=accepted.accept_id, again=True)
    item.outcome = InboundOutcome.APPLIED
    item.detail = f"ผู้ส่งแจ้งว่าเลขรับ {notifier.accept_id} ไม่ถูกต้อง / the sender disputes AcceptID {notifier.accept_id}"


def poll_due(*, force: bool = False) -> int:
    """Poll every active connection whose turn has come (``SARABAN_ECMS_POLL_S``; all with ``force``)."""
    now = timezone.now()
    every = dt.timedelta(seconds=int(settings.SARABAN_ECMS["poll_s"]))
    taken = 0
    for connection in EcmsConnection.objects.filter(is_active=True):
        if force or connection.last_polled_at is None or connection.last_polled_at + every <= now:
            taken += poll(connection)
    return taken


def run_poller(stop: threading.Event) -> None:
    """The pump's e-CMS poller: each connection every ``SARABAN_ECMS_POLL_S`` seconds."""
    while not stop.is_set():
        poll_due()
        stop.wait(min(1.0, float(settings.SARABAN_ECMS["poll_s"])))
