"""Reading an organisation's central mailbox over IMAP: each message once, into the inbox or quarantine.

``poll(account)`` opens the folder read-only and takes the messages above the UID watermark. Each is
kept (``MailInbound``: the message byte for byte) and acted on in one transaction with the watermark,
so a crash takes it again and finds it kept; a message that comes twice (another UID, the same
Message-ID) makes no second inbox entry. Nothing is deleted or flagged in the mailbox.

- a bounce of a letter we sent: its dispatch becomes ส่งไม่สำเร็จ with the bounce's reason;
- spam (``X-Spam-Flag: YES``), and a message with no PDF letter: quarantined, kept for the administrator;
- a message larger than ``SARABAN_MAIL_MAX_MESSAGE_MB``: quarantined and left in the mailbox (not fetched);
- any other: an inbox entry awaiting registration, the sender matched to the directory by address,
  the first PDF as the letter, the other attachments and the original ``.eml`` as its enclosures.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import re
import ssl
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from saraban.core.secrets import unseal
from saraban.directory.models import Organisation
from saraban.documents.services import store_file
from saraban.exchange.delivery import Delivery, deliver_to_inbox
from saraban.exchange.dispatches import report_status, report_undelivered
from saraban.exchange.models import Dispatch, DispatchStatus
from saraban.regulation.kinds import Urgency

from .bounces import read_bounce
from .composing import REASON_HEADER, RECEIPT_HEADER
from .models import InboundOutcome, MailAccount, MailInbound, MailOutbound, OutboundStatus, Security

IMAP_PASSWORD = "mail.imap_password"
MAX_PER_POLL = 200
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_NUMBERED = re.compile(r"ที่\s+(?P<number>.+?)\s+เรื่อง\s+(?P<subject>.+)$")
_URGENCY = {"ด่วนที่สุด": Urgency.MOST_URGENT, "ด่วนมาก": Urgency.VERY_URGENT, "ด่วน": Urgency.URGENT}


class MailboxTrouble(Exception):
    """The mailbox could not be read, in words."""


def _open(account: MailAccount) -> imaplib.IMAP4:
    timeout = float(settings.SARABAN_MAIL["timeout_s"])
    context = ssl.create_default_context()
    if account.imap_security == Security.SSL:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(account.imap_host, account.imap_port, ssl_context=context,
                                                  timeout=timeout)
    else:
        client = imaplib.IMAP4(account.imap_host, account.imap_port, timeout=timeout)
        if account.imap_security == Security.STARTTLS:
            client.starttls(ssl_context=context)
    client.login(account.imap_username or account.address, unseal(account.imap_password_sealed, IMAP_PASSWORD))
    return client


def poll(account: MailAccount) -> int:
    """Read what came since the watermark; how many messages were taken. Trouble stays on the account."""
    taken = 0
    try:
        client = _open(account)
        try:
            taken = _read_folder(client, account)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()
    except (imaplib.IMAP4.error, OSError, MailboxTrouble) as exc:
        said = " ".join(a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in exc.args) or str(exc)
        if isinstance(exc, imaplib.IMAP4.error) and "AUTHENTICATIONFAILED" in said.upper():
            said = f"ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง / the user name or password was refused ({said})"
        words = f"อ่านกล่องอีเมลกลางไม่ได้ / the central mailbox cannot be read: {said}"
        MailAccount.objects.filter(pk=account.pk).update(last_polled_at=timezone.now(), last_error=words[:2000])
        return taken
    MailAccount.objects.filter(pk=account.pk).update(last_polled_at=timezone.now(), last_error="")
    return taken


def _read_folder(client: imaplib.IMAP4, account: MailAccount) -> int:
    status, _ = client.select(f'"{account.imap_folder}"', readonly=True)
    if status != "OK":
        raise MailboxTrouble(f"no folder {account.imap_folder}")
    _, validity = client.response("UIDVALIDITY")
    uid_validity = int(validity[0]) if validity and validity[0] else 0
    if account.uid_validity != uid_validity:  # a new mailbox (or renumbered): from the start, Message-IDs dedupe
        MailAccount.objects.filter(pk=account.pk).update(uid_validity=uid_validity, last_uid=0)
        account.uid_validity, account.last_uid = uid_validity, 0
    status, found = client.uid("SEARCH", f"UID {account.last_uid + 1}:*")
    if status != "OK":
        raise MailboxTrouble("UID SEARCH failed")
    uids = sorted(u for u in (int(x) for x in (found[0] or b"").split()) if u > account.last_uid)[:MAX_PER_POLL]
    for uid in uids:
        status, data = client.uid("FETCH", str(uid), "(RFC822.SIZE BODY.PEEK[HEADER])")
        header = next((item for item in data if isinstance(item, tuple)), None)
        if status != "OK" or header is None:
            raise MailboxTrouble(f"FETCH {uid} failed")
        size_match = _SIZE.search(header[0])
        size = int(size_match.group(1)) if size_match else 0
        if size > int(settings.SARABAN_MAIL["max_message_bytes"]):
            keep(account, uid_validity, uid, header[1], size=size, fetched=False)
            continue
        status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        body = next((item for item in data if isinstance(item, tuple)), None)
        if status != "OK" or body is None:
            raise MailboxTrouble(f"FETCH {uid} failed")
        keep(account, uid_validity, uid, body[1], size=len(body[1]))
    return len(uids)


def _clean_id(value: object) -> str:
    return str(value or "").strip().strip("<>").strip()[:255]


def keep(account: MailAccount, uid_validity: int, uid: int, raw: bytes, *, size: int,
         fetched: bool = True) -> MailInbound:
    """Keep one message and act on it, with the watermark, once (``fetched`` False: only its header)."""
    existing = MailInbound.objects.filter(account=account, uid_validity=uid_validity, uid=uid).first()
    if existing is not None:
        return existing
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default parses into EmailMessage
    try:
        with transaction.atomic():
            item = MailInbound(
                account=account, uid_validity=uid_validity, uid=uid, message_id=_clean_id(message["Message-ID"]),
                from_address=str(message.get("From", ""))[:320], subject=str(message.get("Subject", ""))[:2000],
                size=size, received_at=timezone.now(), outcome=InboundOutcome.DELIVERED,
            )
            if not fetched:
                item.outcome = InboundOutcome.TOO_LARGE
                item.detail = f"{size:,} ไบต์ เกินกำหนด ยังอยู่ในกล่องอีเมล / {size:,} bytes, left in the mailbox"
            else:
                item.eml = store_file(raw, "message/rfc822", max_bytes=max(len(raw), 1))
                _classify(item, message)
            item.save()
            MailAccount.objects.filter(pk=account.pk, last_uid__lt=uid).update(last_uid=uid)
            if item.outcome == InboundOutcome.DELIVERED:
                _deliver(item, message)
                item.save(update_fields=["incoming_id", "reply_to", "letter_number", "letter_subject"])
            return item
    except IntegrityError:  # another pump kept it first
        return MailInbound.objects.get(account=account, uid_validity=uid_validity, uid=uid)


def _classify(item: MailInbound, message: EmailMessage) -> None:
    copy = MailInbound.objects.filter(account=item.account, message_id=item.message_id).exclude(
        outcome=InboundOutcome.TOO_LARGE).first() if item.message_id else None
    bounce = read_bounce(message)
    receipt = str(message.get(RECEIPT_HEADER, "")).strip()
    if copy is None and receipt:
        _apply_receipt(item, message, receipt)
        if item.outcome == InboundOutcome.RECEIPT:
            return
    if copy is not None:
        item.outcome, item.incoming_id = InboundOutcome.DUPLICATE, copy.incoming_id
        item.detail = f"ซ้ำกับข้อความ UID {copy.uid} / a copy of UID {copy.uid}"
    elif bounce is not None:
        item.outcome = InboundOutcome.BOUNCE
        sent = MailOutbound.objects.filter(message_id=bounce.original_message_id).first()
        if sent is None:
            item.detail = f"ไม่ใช่อีเมลที่ระบบนี้ส่ง / not a message we sent: {bounce.original_message_id}"
            return
        MailOutbound.objects.filter(pk=sent.pk).update(status=OutboundStatus.BOUNCED, bounced_at=timezone.now(),
                                                        bounce_reason=bounce.words)
        if sent.dispatch_id is not None:  # a bounced receipt changes nothing of ours
            report_undelivered(sent.dispatch_id, f"อีเมลตีกลับ: {bounce.words}")
        item.detail = f"อีเมลตีกลับของ {sent.recipient} / bounce of the message to {sent.recipient}"
    elif str(message.get("X-Spam-Flag", "")).strip().upper() == "YES" or \
            str(message.get("X-Spam-Status", "")).strip().lower().startswith("yes"):
        item.outcome, item.detail = InboundOutcome.SPAM, "X-Spam-Flag"
    elif not _pdfs(message):
        item.outcome = InboundOutcome.NO_LETTER
        item.detail = "ไม่มีไฟล์ PDF แนบ / no PDF attached"


def _apply_receipt(item: MailInbound, message: EmailMessage, receipt: str) -> None:
    """ตอบรับ from the recipient of a letter we sent: registered (with its เลขรับ) or returned."""
    answered = _clean_id(message.get("In-Reply-To"))
    sent = MailOutbound.objects.filter(message_id=answered, kind="letter").first() if answered else None
    if sent is None or sent.dispatch_id is None:
        return  # not about a letter of ours: read as any other message
    fields = dict(part.strip().partition("=")[::2] for part in receipt.split(";")[1:])
    status = receipt.split(";")[0].strip().lower()
    if status == "registered":
        report_status(Dispatch(pk=sent.dispatch_id), DispatchStatus.REGISTERED,
                      receive_number=fields.get("receive-number", "")[:32], actor=None)
    elif status == "returned":
        reason = str(message.get(REASON_HEADER, "")).strip() or "ผู้รับส่งคืนทางอีเมล"
        report_status(Dispatch(pk=sent.dispatch_id), DispatchStatus.RETURNED, reason=reason[:1000], actor=None)
    else:
        return
    item.outcome = InboundOutcome.RECEIPT
    item.detail = f"{status} → dispatch {sent.dispatch_id}"


def _pdfs(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.iter_attachments() if isinstance(part, EmailMessage) and (
        part.get_content_type() == "application/pdf" or (part.get_filename() or "").lower().endswith(".pdf"))]


def _sender(address: str) -> Organisation | None:
    if not address:
        return None
    return Organisation.objects.filter(email__iexact=address, home_deployment="").order_by("pk").first()


def _deliver(item: MailInbound, message: EmailMessage) -> None:
    pdfs = _pdfs(message)
    letter, others = pdfs[0], pdfs[1:]
    enclosures: list[dict[str, object]] = []
    for part in [*others, *(p for p in message.iter_attachments() if all(p is not q for q in pdfs))]:
        data = part.get_content()
        data = data.encode() if isinstance(data, str) else bytes(data)
        stored = store_file(data, part.get_content_type(), max_bytes=max(len(data), 1))
        name = part.get_filename() or "attachment"
        enclosures.append({"title": name[:500], "sha256": stored.sha256, "filename": name[:200]})
    assert item.eml is not None  # kept just before: a delivered message was fetched
    enclosures.append({"title": "อีเมลต้นฉบับ (.eml)", "sha256": item.eml.sha256, "filename": "original.eml"})
    display, address = parseaddr(str(message.get("From", "")))
    sender = _sender(address)
    subject = str(message.get("Subject", "")).strip()
    urgency = Urgency.NORMAL
    for mark, level in _URGENCY.items():
        if subject.startswith(f"[{mark}]"):
            urgency, subject = level, subject[len(mark) + 2:].strip()
            break
    numbered = _NUMBERED.match(subject)
    item.reply_to = (parseaddr(str(message.get("Reply-To", "")))[1] or address)[:254]
    item.letter_number = numbered.group("number")[:64] if numbered else ""
    item.letter_subject = (numbered.group("subject") if numbered else subject)[:2000]
    pdf = letter.get_content()
    item.incoming_id = deliver_to_inbox(Delivery(
        recipient_id=item.account.organisation_id,
        sender_name=(sender.name_th if sender else "") or display or address or "ไม่ทราบผู้ส่ง",
        number=numbered.group("number")[:64] if numbered else "", date=None,
        subject=(numbered.group("subject") if numbered else subject)[:2000] or "(ไม่มีชื่อเรื่อง)",
        addressed_to="", urgency=urgency, secrecy="normal", pdf=bytes(pdf), delivered_at=timezone.now(),
        sender_organisation_id=sender.pk if sender else None, enclosures=enclosures,
        channel="mail", channel_ref=str(item.pk),
    ))


def poll_due(*, force: bool = False) -> int:
    """Read every active account's mailbox whose turn has come (``SARABAN_MAIL_POLL_S``; all with ``force``)."""
    now = timezone.now()
    every = dt.timedelta(seconds=int(settings.SARABAN_MAIL["poll_s"]))
    taken = 0
    for account in MailAccount.objects.filter(is_active=True).exclude(imap_host=""):
        if force or account.last_polled_at is None or account.last_polled_at + every <= now:
            taken += poll(account)
    return taken


def run_poller(stop: threading.Event) -> None:
    """The pump's mailbox reader: each account every ``SARABAN_MAIL_POLL_S`` seconds."""
    while not stop.is_set():
        poll_due()
        stop.wait(min(1.0, float(settings.SARABAN_MAIL["poll_s"])))
