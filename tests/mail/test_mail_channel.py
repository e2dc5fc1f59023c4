"""The central e-mail channel against real mail servers on loopback (aiosmtpd for SMTP, dovecot for IMAP).

Out: a letter to an organisation known only by its central address leaves as e-mail from ours, with
the PDF as signed, its enclosures and a Thai body; accepted, refused, bounced later, retried after a
temporary failure, DKIM-signed. In: the central mailbox is read over IMAP; each message once, the
original kept byte for byte, spam, oversized and letterless mail quarantined, not lost; the sender is
told the เลขรับ by a receipt, which the sending side reads back.
"""

from __future__ import annotations

import base64
import email
import io
from email import policy
from email.message import EmailMessage
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection
from pypdf import PdfWriter

from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import create_organisation
from saraban.documents.services import read_file
from saraban.exchange.models import Dispatch, DispatchStatus
from saraban.exchange.services import send_letter
from saraban.inbox.models import IncomingLetter
from saraban.inbox.services import register, return_to_sender
from saraban.mail.models import InboundOutcome, MailAccount, MailInbound, MailOutbound, OutboundStatus
from saraban.mail.receiving import poll_due
from saraban.mail.sending import send_due
from saraban.mail.services import MailSettings, configure
from saraban.signatures.selectors import signed_pdf_of
from tests.helpers import numbered
from tests.web.test_workflow_pages import draft

from .servers import MailServers

pytestmark = pytest.mark.django_db

OURS = "saraban@opm.go.th"
THEIRS = "saraban@dla.go.th"
MAILBOX_PASSWORD = "mailbox-Pass-2569"


@pytest.fixture
def account(agency: Organisation, mail: MailServers) -> MailAccount:
    mail.add_mailbox(OURS, MAILBOX_PASSWORD)
    mail.add_smtp_user(OURS, MAILBOX_PASSWORD)
    return configure(agency, MailSettings(
        address=OURS, smtp_host=mail.smtp_host, smtp_port=mail.smtp_port, smtp_security="none",
        smtp_username=OURS, smtp_password=MAILBOX_PASSWORD, imap_host=mail.imap_host, imap_port=mail.imap_port,
        imap_security="none", imap_username=OURS, imap_password=MAILBOX_PASSWORD,
    ), actor=None)


@pytest.fixture
def dla(mail: MailServers) -> Organisation:
    """An agency with no e-Saraban: only its central address (ฉบับที่ ๔)."""
    mail.add_mailbox(THEIRS, "theirs-Pass-2569")
    return create_organisation(identifier="dla", kind="department", name_th="กรมส่งเสริมการปกครองท้องถิ่น",
                               letter_code="มท 0810", email=THEIRS)


def _send(agency: Organisation, clerk: Person, signer: Person, to: Organisation, **content: Any) -> Dispatch:
    letter = numbered(draft(agency, clerk, to=[to], **content), author=clerk, signer=signer, clerk=clerk)
    (dispatch,) = send_letter(letter, actor=clerk)
    return dispatch


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_letter_goes_by_e_mail_with_the_pdf_as_signed(
    account: MailAccount, dla: Organisation, agency: Organisation, clerk: Person, signer: Person, mail: MailServers,
) -> None:
    dispatch = _send(agency, clerk, signer, dla)
    assert dispatch.transport == "mail" and dispatch.status == DispatchStatus.SENDING
    assert send_due() == 1
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.DELIVERED
    row = MailOutbound.objects.get(dispatch=dispatch)
    assert row.status == OutboundStatus.SENT and row.smtp_reply.startswith("250")
    (sent_from, sent_to, _data), = mail.received()
    assert sent_from == OURS and sent_to == [THEIRS]
    message = _parsed(mail.messages(THEIRS)[0])
    letter = Letter.objects.get(pk=dispatch.letter_id)
    assert letter.number in str(message["Subject"]) and letter.subject in str(message["Subject"])
    assert OURS in str(message["From"]) and THEIRS in str(message["To"])
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert f"ที่ {letter.number}" in text and letter.subject in text and "ลงวันที่" in text
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    stored = signed_pdf_of(letter.pk) or letter.pdf
    assert stored is not None
    assert pdf.get_content() == read_file(stored.sha256)  # exactly as signed
    assert pdf.get_filename().endswith(".pdf") and "/" not in pdf.get_filename()


def test_refused_retried_and_bounced_later(
    account: MailAccount, agency: Organisation, clerk: Person, signer: Person, mail: MailServers,
) -> None:
    refused_org = create_organisation(identifier="gone", kind="department", name_th="หน่วยงานที่ยุบแล้ว",
                                      email="nobody@gone.go.th")
    mail.reject("nobody@gone.go.th")
    later_org = create_organisation(identifier="later", kind="department", name_th="หน่วยงานตีกลับ",
                                    email="later@bounce.go.th")
    mail.bounce_later("later@bounce.go.th")
    refused = _send(agency, clerk, signer, refused_org)
    send_due()
    refused.refresh_from_db()
    assert refused.status == DispatchStatus.FAILED and "550" in refused.returned_reason
    # a temporary failure: retried, then sent once
    mail.temporary_failures(1)
    later = _send(agency, clerk, signer, later_org, subject="หนังสือทดสอบการตีกลับ")
    send_due()
    row = MailOutbound.objects.get(dispatch=later)
    assert row.status == OutboundStatus.PENDING and "451" in row.last_error
    MailOutbound.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    send_due()
    later.refresh_from_db()
    assert later.status == DispatchStatus.DELIVERED
    # the bounce arrives in our central mailbox and is read back
    poll_due(force=True)
    later.refresh_from_db()
    assert later.status == DispatchStatus.FAILED and "อีเมลตีกลับ" in later.returned_reason
    assert "5.1.1" in later.returned_reason
    assert MailInbound.objects.get(outcome=InboundOutcome.BOUNCE).detail
    assert not IncomingLetter.objects.exists()  # a bounce is no letter


def test_dkim_signed_where_a_key_is_set(
    account: MailAccount, dla: Organisation, agency: Organisation, clerk: Person, signer: Person, mail: MailServers,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    configure(agency, MailSettings(address=OURS, smtp_host=mail.smtp_host, smtp_port=mail.smtp_port,
                                   smtp_security="none", smtp_username=OURS, dkim_domain="opm.go.th",
                                   dkim_selector="saraban", dkim_private_key_pem=pem), actor=None)
    _send(agency, clerk, signer, dla)
    send_due()
    (_, _, data), = mail.received()
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record if name == b"saraban._domainkey.opm.go.th." else b""

    assert dkim.verify(data, dnsfunc=dns)


def _a_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _letter_mail(sender: str, subject: str, *, message_id: str, pdf: bytes | None = b"", spam: bool = False) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"กรมส่งเสริมการปกครองท้องถิ่น <{sender}>"
    message["To"] = OURS
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    if spam:
        message["X-Spam-Flag"] = "YES"
    message.set_content("เรียน ปลัดสำนักนายกรัฐมนตรี\n\nขอส่งหนังสือมาพร้อมนี้\n")
    if pdf is not None:
        message.add_attachment(pdf or _a_pdf(), maintype="application", subtype="pdf", filename="มท0810-55.pdf")
    message.add_attachment("รายชื่อผู้เข้าประชุม".encode(), maintype="text", subtype="plain", filename="รายชื่อ.txt")
    return message.as_bytes()


def test_the_central_mailbox_is_read_once_each(account: MailAccount, dla: Organisation, mail: MailServers) -> None:
    raw = _letter_mail(THEIRS, "ที่ มท 0810/55 เรื่อง ขอเชิญประชุม", message_id="a1@dla.go.th")
    mail.deliver(OURS, raw)
    mail.deliver(OURS, raw)  # the same message twice (another UID, the same Message-ID)
    mail.deliver(OURS, _letter_mail(THEIRS, "โฆษณา", message_id="spam@x.test", spam=True))
    mail.deliver(OURS, _letter_mail(THEIRS, "สอบถามข้อมูล", message_id="q@dla.go.th", pdf=None))
    assert poll_due(force=True) == 4
    assert poll_due(force=True) == 0  # the UID watermark
    (incoming,) = IncomingLetter.objects.all()
    assert incoming.channel == "mail" and incoming.letter_number == "มท 0810/55"
    assert incoming.subject == "ขอเชิญประชุม" and incoming.sender_organisation_id == dla.pk
    assert incoming.sender_name == dla.name_th
    titles = [e["title"] for e in incoming.enclosures]
    assert "รายชื่อ.txt" in titles and "อีเมลต้นฉบับ (.eml)" in titles
    eml = next(e for e in incoming.enclosures if e["filename"] == "original.eml")
    kept = read_file(eml["sha256"])
    assert kept.endswith(raw)  # byte for byte (after the MTA's Return-Path and Received)
    outcomes = sorted(MailInbound.objects.values_list("outcome", flat=True))
    assert outcomes == sorted([InboundOutcome.DELIVERED, InboundOutcome.DUPLICATE, InboundOutcome.SPAM,
                               InboundOutcome.NO_LETTER])
    assert all(m.eml_id for m in MailInbound.objects.all())  # quarantined, not lost


def test_an_oversized_message_is_left_in_the_mailbox(account: MailAccount, mail: MailServers, settings: Any) -> None:
    settings.SARABAN_MAIL = {**settings.SARABAN_MAIL, "max_message_bytes": 10_000}
    mail.deliver(OURS, _letter_mail(THEIRS, "ไฟล์ใหญ่", message_id="big@dla.go.th", pdf=b"%PDF-" + b"x" * 20_000))
    poll_due(force=True)
    (item,) = MailInbound.objects.all()
    assert item.outcome == InboundOutcome.TOO_LARGE and item.eml_id is None and item.size > 10_000
    assert len(mail.messages(OURS)) == 1  # still there
    assert not IncomingLetter.objects.exists()


def test_registering_tells_the_sender_and_the_sender_reads_it(
    account: MailAccount, dla: Organisation, agency: Organisation, clerk: Person, signer: Person, mail: MailServers,
) -> None:
    """Both ends on this deployment's mail: our letter out, their receipt back (as another Saraban would send)."""
    dispatch = _send(agency, clerk, signer, dla)
    send_due()
    sent = MailOutbound.objects.get(dispatch=dispatch)
    # they register it and answer with a receipt naming our Message-ID; we read it
    mail.deliver(OURS, _receipt(sent.message_id, "registered; receive-number=321; date=2026-12-07"))
    poll_due(force=True)
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.REGISTERED and dispatch.receive_number == "321"
    # and our side of a letter they sent: registering it sends them our เลขรับ
    mail.deliver(OURS, _letter_mail(THEIRS, "ที่ มท 0810/56 เรื่อง ขอข้อมูล", message_id="b2@dla.go.th"))
    poll_due(force=True)
    incoming = IncomingLetter.objects.get(letter_number="มท 0810/56")
    registered = register(incoming, actor=clerk)
    send_due()
    receipt = _parsed(mail.messages(THEIRS)[-1])
    assert receipt["In-Reply-To"] == "<b2@dla.go.th>"
    assert f"receive-number={registered.receive_number}" in str(receipt["X-Saraban-Receipt"])
    body = receipt.get_body(preferencelist=("plain",))
    assert body is not None and f"เลขที่ {registered.receive_number}" in body.get_content()


def test_returning_tells_the_sender_why(account: MailAccount, dla: Organisation, clerk: Person,
                                        mail: MailServers) -> None:
    mail.deliver(OURS, _letter_mail(THEIRS, "ที่ มท 0810/57 เรื่อง ส่งผิด", message_id="c3@dla.go.th"))
    poll_due(force=True)
    return_to_sender(IncomingLetter.objects.get(), actor=clerk, reason="ไม่ใช่หน่วยงานที่รับผิดชอบ")
    send_due()
    receipt = _parsed(mail.messages(THEIRS)[-1])
    assert str(receipt["X-Saraban-Receipt"]) == "returned"
    assert str(receipt["X-Saraban-Reason"]) == "ไม่ใช่หน่วยงานที่รับผิดชอบ"


def _receipt(original_id: str, header: str) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = THEIRS
    message["To"] = OURS
    message["Subject"] = "ตอบรับ"
    message["Message-ID"] = "<r1@dla.go.th>"
    message["In-Reply-To"] = f"<{original_id}>"
    message["X-Saraban-Receipt"] = header
    message.set_content("ได้รับหนังสือแล้ว\n")
    return message.as_bytes()


def test_passwords_and_keys_are_never_stored_in_clear(account: MailAccount) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM mail_mailaccount")
        rows = cursor.fetchall()
        cursor.execute("SELECT * FROM audit_auditevent")
        events = cursor.fetchall()
    assert rows and MAILBOX_PASSWORD not in repr(rows)
    assert MAILBOX_PASSWORD not in repr(events)
    assert account.smtp_password_sealed.startswith("v1:")


def test_a_refused_login_is_shown_in_words(agency: Organisation, mail: MailServers) -> None:
    mail.add_mailbox(OURS, MAILBOX_PASSWORD)
    account = configure(agency, MailSettings(
        address=OURS, smtp_host=mail.smtp_host, smtp_port=mail.smtp_port, smtp_security="none",
        imap_host=mail.imap_host, imap_port=mail.imap_port, imap_security="none", imap_username=OURS,
        imap_password="not-the-password"), actor=None)
    assert poll_due(force=True) == 0
    account.refresh_from_db()
    assert "รหัสผ่านไม่ถูกต้อง" in account.last_error and "b'" not in account.last_error
