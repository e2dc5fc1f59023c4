"""The test mail servers behave like real ones, seen only through ``smtplib`` and ``imaplib``."""

from __future__ import annotations

import email
import email.policy
import email.utils
import imaplib
import re
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage, Message
from typing import cast

import pytest

from .servers import MailServers, mail

__all__ = ["mail"]  # the fixture, imported so that pytest finds it here

SENDER = "saraban@opm.go.th"
SMTP_USER, SMTP_PASSWORD = "saraban-opm", "smtp-Pass-1234"
BOSS, BOSS_PASSWORD = "boss@ministry.go.th", "imap:Pass 1234"  # a ':' and a space: the passwd-file copes
SUBJECT = "หนังสือเชิญประชุม ที่ นร 0105/ว 123"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def letter(*, to: str = BOSS, message_id: str = "<letter-1@opm.go.th>", subject: str = SUBJECT) -> bytes:
    """A letter as Saraban would send it: Thai subject (RFC 2047), a text part and a PDF attachment, CRLF lines."""
    message = EmailMessage()
    message["From"] = f"สำนักงานปลัดสำนักนายกรัฐมนตรี <{SENDER}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = email.utils.formatdate(localtime=True)
    message.set_content("เรียน ท่านผู้อำนวยการ\n\nตามหนังสือที่แนบมาพร้อมนี้\n")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="หนังสือ.pdf")
    return message.as_bytes(policy=email.policy.SMTP)


@contextmanager
def smtp(servers: MailServers, *, login: bool = True) -> Iterator[smtplib.SMTP]:
    """An SMTP session with the test server, logged in as the SMTP user (AUTH over plain TCP on loopback)."""
    with smtplib.SMTP(servers.smtp_host, servers.smtp_port, timeout=10) as client:
        if login:
            client.login(SMTP_USER, SMTP_PASSWORD)
        yield client


@contextmanager
def imap(servers: MailServers, user: str = BOSS, password: str = BOSS_PASSWORD) -> Iterator[imaplib.IMAP4]:
    """An IMAP session, logged in, INBOX selected."""
    client = imaplib.IMAP4(servers.imap_host, servers.imap_port, timeout=10)
    try:
        client.login(user, password)
        typ, _ = client.select("INBOX")
        assert typ == "OK"
        yield client
    finally:
        client.logout()


def fetch_all(client: imaplib.IMAP4) -> list[tuple[int, bytes]]:
    """(UID, whole message) of every message in the selected mailbox, without setting \\Seen."""
    typ, data = client.uid("SEARCH", "ALL")
    assert typ == "OK"
    uids = [int(u) for u in data[0].split()]
    found = []
    for uid in uids:
        typ, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        assert typ == "OK"
        found.append((uid, next(part[1] for part in data if isinstance(part, tuple))))
    return found


def parse(raw: bytes) -> EmailMessage:
    """A message parsed with the modern API."""
    return cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))


def uidvalidity(client: imaplib.IMAP4) -> int:
    """The UIDVALIDITY the last SELECT reported."""
    return int(client.response("UIDVALIDITY")[1][0])


@pytest.fixture
def servers(mail: MailServers) -> MailServers:
    """The servers with the organisation's SMTP account, a recipient's mailbox and the sender's own mailbox."""
    mail.add_smtp_user(SMTP_USER, SMTP_PASSWORD)
    mail.add_mailbox(BOSS, BOSS_PASSWORD)
    mail.add_mailbox(SENDER, "central-Pass-1234")
    return mail


def test_a_letter_goes_by_smtp_and_comes_back_over_imap_byte_for_byte(servers: MailServers) -> None:
    raw = letter()
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]  # the Thai subject is RFC 2047 encoded
    with smtp(servers) as client:
        assert client.sendmail(SENDER, [BOSS], raw) == {}
    assert servers.received() == [(SENDER, [BOSS], raw)]

    with imap(servers) as client:
        [(_, fetched)] = fetch_all(client)
    added, _, rest = fetched.partition(b"Received: ")
    assert added == f"Return-Path: <{SENDER}>\r\n".encode()
    received_header, after = re.match(rb"(.*?\r\n(?:\t.*?\r\n)*)(.*)", rest, re.S).groups()  # type: ignore[union-attr]
    assert b"with ESMTPA" in received_header and f"for <{BOSS}>".encode() in received_header
    assert after == raw
    assert servers.messages(BOSS) == [fetched]

    parsed = parse(fetched)
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] == "<letter-1@opm.go.th>"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "หนังสือ.pdf"
    assert attachment.get_content() == PDF


def test_uidvalidity_and_uids_stay_the_same_across_sessions(servers: MailServers) -> None:
    with smtp(servers) as client:
        client.sendmail(SENDER, [BOSS], letter(message_id="<one@opm.go.th>"))
    with imap(servers) as client:
        first_validity = uidvalidity(client)
        [(first_uid, _)] = fetch_all(client)
    with smtp(servers) as client:
        client.sendmail(SENDER, [BOSS], letter(message_id="<two@opm.go.th>"))
    with imap(servers) as client:
        assert uidvalidity(client) == first_validity
        (uid_a, a), (uid_b, b) = fetch_all(client)
    assert uid_a == first_uid and uid_b > uid_a
    assert b"<one@opm.go.th>" in a and b"<two@opm.go.th>" in b


def test_an_unknown_recipient_is_refused_with_550(servers: MailServers) -> None:
    servers.reject("nobody@ministry.go.th")
    with smtp(servers) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail(SENDER, ["nobody@ministry.go.th"], letter(to="nobody@ministry.go.th"))
    code, text = refused.value.recipients["nobody@ministry.go.th"]
    assert code == 550 and text == b"5.1.1 <nobody@ministry.go.th>: Recipient address rejected: User unknown"

    with smtp(servers) as client:  # one good, one bad: the good one gets it, the bad one is reported
        refused_now = client.sendmail(SENDER, [BOSS, "stranger@nowhere.test"], letter())
    assert list(refused_now) == ["stranger@nowhere.test"] and refused_now["stranger@nowhere.test"][0] == 550
    assert len(servers.messages(BOSS)) == 1
    assert servers.received()[0][1] == [BOSS]


def test_a_recipient_that_bounces_later_sends_a_dsn_to_the_sender(servers: MailServers) -> None:
    servers.bounce_later("left@ministry.go.th")
    with smtp(servers) as client:
        assert client.sendmail(SENDER, ["left@ministry.go.th"], letter(message_id="<bounced-1@opm.go.th>")) == {}
    with imap(servers, SENDER, "central-Pass-1234") as client:
        [(_, fetched)] = fetch_all(client)
    dsn = parse(fetched)
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    assert dsn["From"].addresses[0].username == "MAILER-DAEMON"
    notification, status, headers = dsn.iter_parts()
    assert notification.get_content_type() == "text/plain"
    assert "could not" in notification.get_content()
    assert status.get_content_type() == "message/delivery-status"
    per_message, per_recipient = cast(list[Message], status.get_payload())
    assert per_message["Reporting-MTA"].startswith("dns;")
    assert per_recipient["Final-Recipient"] == "rfc822; left@ministry.go.th"
    assert per_recipient["Action"] == "failed" and per_recipient["Status"] == "5.1.1"
    assert per_recipient["Diagnostic-Code"] == "smtp; 550 5.1.1 user unknown"
    assert headers.get_content_type() == "text/rfc822-headers"
    original = parse(_payload_bytes(headers))
    assert original["Message-ID"] == "<bounced-1@opm.go.th>"
    assert original["Subject"] == SUBJECT
    assert servers.messages(BOSS) == []  # nothing went anywhere else
    assert len(servers.bounces()) == 1


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else str(part.get_payload()).encode()


def test_temporary_failures_answer_451_then_mail_goes_through(servers: MailServers) -> None:
    servers.temporary_failures(2)
    for _ in range(2):
        with smtp(servers) as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail(SENDER, [BOSS], letter())
        assert refused.value.smtp_code == 451 and refused.value.smtp_error == b"4.3.0 Try again later"
    with smtp(servers) as client:
        assert client.sendmail(SENDER, [BOSS], letter()) == {}

    servers.temporary_failures(1, stage="DATA")  # after the whole message was sent: not delivered
    with smtp(servers) as client, pytest.raises(smtplib.SMTPDataError) as failed:
        client.sendmail(SENDER, [BOSS], letter())
    assert failed.value.smtp_code == 451
    assert len(servers.messages(BOSS)) == 1 and len(servers.received()) == 1


def test_the_smtp_server_can_be_down_for_a_while(servers: MailServers) -> None:
    connected = smtplib.SMTP(servers.smtp_host, servers.smtp_port, timeout=10)
    connected.ehlo()
    servers.stop_smtp()
    with pytest.raises(smtplib.SMTPServerDisconnected):  # a session open at the time is cut
        connected.noop()
    connected.close()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(servers.smtp_host, servers.smtp_port, timeout=5)
    servers.start_smtp()
    with smtp(servers) as client:
        assert client.sendmail(SENDER, [BOSS], letter()) == {}
    assert len(servers.messages(BOSS)) == 1


def test_size_limit_auth_and_starttls(servers: MailServers) -> None:
    servers.set_size_limit(2000)
    with smtp(servers) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # announced with SIZE= in MAIL FROM
            client.sendmail(SENDER, [BOSS], letter())
        assert refused.value.smtp_code == 552
        assert refused.value.smtp_error == b"5.3.4 Message size exceeds fixed limit"
        client.rset()
        client.mail(SENDER)  # not announced: refused after DATA
        client.rcpt(BOSS)
        assert client.data(letter()) == (552, b"5.3.4 Message size exceeds fixed limit")
    servers.set_size_limit(None)

    with smtp(servers, login=False) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail(SENDER, [BOSS], letter())
        assert refused.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(SMTP_USER, "wrong")
    raw = letter()
    with smtp(servers, login=False) as client:
        client.starttls(context=servers.ssl_context())
        client.login(SMTP_USER, SMTP_PASSWORD)
        client.sendmail(SENDER, [BOSS], raw)
    [delivered] = servers.messages(BOSS)
    assert b"with ESMTPSA" in delivered and delivered.endswith(raw)


def test_imaps_with_the_test_ca(servers: MailServers) -> None:
    assert servers.imaps_port is not None
    with smtp(servers) as client:
        client.sendmail(SENDER, [BOSS], letter())
    imaps = imaplib.IMAP4_SSL(servers.imap_host, servers.imaps_port, ssl_context=servers.ssl_context(), timeout=10)
    try:
        imaps.login(BOSS.upper(), BOSS_PASSWORD)  # logins are case-insensitive
        imaps.select("INBOX", readonly=True)
        [(_, fetched)] = fetch_all(imaps)
    finally:
        imaps.logout()
    assert fetched == servers.messages(BOSS)[0]


def test_mailboxes_added_or_changed_after_logins_are_seen_at_once(servers: MailServers) -> None:
    with imap(servers):
        pass
    servers.add_mailbox("clerk+registry@ministry.go.th", "clerk-Pass-1")  # a new user, right after a login
    with imap(servers, "Clerk+Registry@ministry.go.th", "clerk-Pass-1") as client:
        assert fetch_all(client) == []
    servers.add_mailbox(BOSS, "changed-Pass-2")  # a new password, right after a login with the old one
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"), imap(servers):
        pass
    with imap(servers, BOSS, "changed-Pass-2"):
        pass


def test_a_delivered_message_appears_over_imap(servers: MailServers) -> None:
    raw = b"From: someone@outside.test\r\nTo: boss@ministry.go.th\r\nSubject: from outside\r\n" \
          b"Message-ID: <outside-1@outside.test>\r\n\r\nhello\r\n"
    with imap(servers) as client:  # a session open while it arrives sees it on the next NOOP
        assert fetch_all(client) == []
        servers.deliver(BOSS, raw)
        client.noop()
        assert [m for _, m in fetch_all(client)] == [raw]
    assert servers.messages(BOSS) == [raw]
    assert servers.received() == []
