"""Sending letters by e-mail: queued in the send transaction, posted over SMTP by the pump.

The mail server's answer decides:

- accepted (250): ส่งถึงแล้ว, with its reply kept (a bounce read later turns it into ส่งไม่สำเร็จ);
- a permanent refusal (5xx: unknown recipient, too large…): ส่งไม่สำเร็จ with the server's words;
- anything else (down, timed out, 4xx, the login refused): tried again with back-off, given up after
  ``SARABAN_MAIL_RETRY_DAYS``.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import threading

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from saraban.core import outbox
from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.core.secrets import unseal
from saraban.documents.services import read_file, store_file
from saraban.exchange.delivery import OutgoingLetter
from saraban.exchange.dispatches import dispatch_failed, dispatch_reached
from saraban.exchange.models import Dispatch
from saraban.exchange.outbox import backoff

from .composing import compose, compose_receipt
from .models import MailAccount, MailInbound, MailOutbound, OutboundStatus, Security

SMTP_PASSWORD = "mail.smtp_password"


def account_of(organisation_id: int) -> MailAccount | None:
    """The active central mailbox account of an organisation hosted here (None: it has none)."""
    return MailAccount.objects.filter(organisation_id=organisation_id, is_active=True).first()


def queue_letter(dispatch: Dispatch, outgoing: OutgoingLetter) -> MailOutbound:
    """Compose the letter's e-mail to the recipient's central address and put it in the outbox."""
    letter = outgoing.letter
    account = account_of(letter.organisation_id)
    recipient = dispatch.recipient
    if account is None:
        raise ValidationFailed([FieldProblem(
            "to", "mail_not_configured",
            f"{recipient.name_th} รับหนังสือทางอีเมลกลางเท่านั้น แต่{letter.organisation.name_th}ยังไม่ได้ตั้งค่าอีเมลกลาง "
            "ให้ผู้ดูแลระบบตั้งค่าก่อน",
            f"{recipient.name_en or recipient.name_th} is reached by e-mail only, and "
            f"{letter.organisation.name_en or letter.organisation.name_th} has no central e-mail account yet",
        )])
    message_id, raw = compose(account, outgoing, to=recipient.email, recipient_name=recipient.name_th)
    now = timezone.now()
    return MailOutbound.objects.create(
        account=account, dispatch=dispatch, recipient=recipient.email, message_id=message_id,
        eml=store_file(raw, "message/rfc822", max_bytes=max(len(raw), 1)), created_at=now, next_attempt_at=now,
        give_up_at=now + dt.timedelta(days=int(settings.SARABAN_MAIL["retry_days"])),
    )


def queue_receipt(inbound: MailInbound, status: str, *, receive_number: str = "", registered_on: str = "",
                  reason: str = "") -> MailOutbound | None:
    """Queue the reply telling a letter's sender it was registered (with our เลขรับ) or returned (once each)."""
    if not inbound.reply_to or MailOutbound.objects.filter(inbound=inbound, receipt_status=status).exists():
        return None
    account = inbound.account
    number, subject = inbound.letter_number, inbound.letter_subject
    message_id, raw = compose_receipt(account, to=inbound.reply_to, original_id=inbound.message_id, number=number,
                                      subject=subject, status=status, receive_number=receive_number,
                                      registered_on=registered_on, reason=reason)
    now = timezone.now()
    return MailOutbound.objects.create(
        account=account, kind="receipt", inbound=inbound, receipt_status=status, recipient=inbound.reply_to,
        message_id=message_id, eml=store_file(raw, "message/rfc822", max_bytes=max(len(raw), 1)), created_at=now,
        next_attempt_at=now, give_up_at=now + dt.timedelta(days=int(settings.SARABAN_MAIL["retry_days"])),
    )


class SmtpTrouble(Exception):
    """The message was not accepted: ``permanent`` when the server refused it for good (5xx)."""

    def __init__(self, words: str, *, permanent: bool) -> None:
        super().__init__(words)
        self.words, self.permanent = words, permanent


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode(errors="replace") if isinstance(text, bytes) else text
    return f"{code} {message}".strip()[:500]


def _client(account: MailAccount) -> smtplib.SMTP:
    timeout = float(settings.SARABAN_MAIL["timeout_s"])
    context = ssl.create_default_context()
    if account.smtp_security == Security.SSL:
        client: smtplib.SMTP = smtplib.SMTP_SSL(account.smtp_host, account.smtp_port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(account.smtp_host, account.smtp_port, timeout=timeout)
        if account.smtp_security == Security.STARTTLS:
            client.starttls(context=context)
    if account.smtp_username:
        client.login(account.smtp_username, unseal(account.smtp_password_sealed, SMTP_PASSWORD))
    return client


def transmit(account: MailAccount, recipient: str, raw: bytes) -> str:
    """Hand one message to the account's SMTP server; its reply, or ``SmtpTrouble``."""
    try:
        client = _client(account)
        try:
            client.ehlo_or_helo_if_needed()
            code, text = client.mail(account.address)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, text, account.address)
            code, text = client.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, text)})
            code, text = client.data(raw)  # the server's own words: "250 2.0.0 Ok: queued as …"
            if code != 250:
                raise smtplib.SMTPDataError(code, text)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise SmtpTrouble(f"ผู้รับถูกปฏิเสธ / recipient refused: {_reply(code, text)}", permanent=code >= 500) from None
    except smtplib.SMTPDataError as exc:
        raise SmtpTrouble(f"ข้อความถูกปฏิเสธ / message refused: {_reply(exc.smtp_code, exc.smtp_error)}",
                          permanent=exc.smtp_code >= 500) from None
    except smtplib.SMTPSenderRefused as exc:
        raise SmtpTrouble(f"ผู้ส่งถูกปฏิเสธ / sender refused: {_reply(exc.smtp_code, exc.smtp_error)}",
                          permanent=exc.smtp_code >= 500) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpTrouble(f"เข้าสู่ระบบอีเมลไม่ได้ / login refused: {_reply(exc.smtp_code, exc.smtp_error)}",
                          permanent=False) from None
    except (smtplib.SMTPException, OSError) as exc:  # timeouts and TLS errors are OSErrors too
        raise SmtpTrouble(f"ติดต่อเครื่องบริการอีเมลไม่ได้ / the mail server cannot be reached: "
                          f"{type(exc).__name__}: {exc}"[:500], permanent=False) from None
    return _reply(code, text) or "250"


def _lease_seconds() -> int:
    return int(settings.SARABAN_MAIL["timeout_s"]) * 2 + 10


def send(pk: int) -> None:
    """One attempt at a leased message: hand it to the SMTP server, record what it said."""
    row = MailOutbound.objects.select_related("account").get(pk=pk)
    try:
        if not row.account.is_active:
            raise SmtpTrouble("บัญชีอีเมลกลางถูกระงับ / the central e-mail account is suspended", permanent=False)
        reply = transmit(row.account, row.recipient, read_file(row.eml_id))
    except SmtpTrouble as trouble:
        _record(pk, error=trouble)
        return
    _record(pk, reply=reply)


def _record(pk: int, *, reply: str = "", error: SmtpTrouble | None = None) -> None:
    with transaction.atomic():
        row = MailOutbound.objects.select_for_update().get(pk=pk)
        if row.status != OutboundStatus.PENDING:
            return
        now = timezone.now()
        row.attempts += 1
        row.lease_until = None
        if error is None:
            row.status, row.sent_at, row.smtp_reply, row.last_error = OutboundStatus.SENT, now, reply, ""
        else:
            row.last_error = error.words
            if error.permanent:
                row.status = OutboundStatus.REFUSED
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                if row.next_attempt_at > row.give_up_at:
                    row.status = OutboundStatus.GIVEN_UP
        row.save()
        if row.dispatch_id is None:  # a receipt: nothing more to tell
            return
        if row.status == OutboundStatus.SENT:
            dispatch_reached(row.dispatch_id)
        elif row.status == OutboundStatus.REFUSED:
            dispatch_failed(row.dispatch_id, f"อีเมลถูกปฏิเสธ: {row.last_error}")
        elif row.status == OutboundStatus.GIVEN_UP:
            days = settings.SARABAN_MAIL["retry_days"]
            dispatch_failed(row.dispatch_id, f"ส่งอีเมลไม่สำเร็จภายใน {days} วัน: {row.last_error}")


def send_due(limit: int = 10_000) -> int:
    """Send every message due now, one after the other; how many attempts were made."""
    return outbox.drain(MailOutbound, send, lease_seconds=_lease_seconds(), limit=limit)


def run_sender(stop: threading.Event) -> None:
    """The pump's e-mail sender: send what is due, look again every quarter second."""
    outbox.run(stop, lambda: send_due(limit=50))
