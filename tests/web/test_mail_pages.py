"""The central e-mail pages: the administrators' mailbox accounts, and the registry's e-mails on the queue page."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.utils import timezone

from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.exchange.models import Dispatch, DispatchStatus
from saraban.exchange.services import send_letter
from saraban.mail.models import InboundOutcome, MailAccount, MailInbound, MailOutbound, OutboundStatus
from saraban.mail.services import MailSettings, configure
from saraban.web.i18n import LANG_COOKIE
from saraban.web.views.mail import mail_words
from tests.helpers import PASSWORD, numbered
from tests.web.test_workflow_pages import draft

pytestmark = pytest.mark.django_db

OURS = "saraban@opm.go.th"
THEIRS = "saraban@dla.go.th"
SMTP_SECRET = "Smtp-Secret-2569"
IMAP_SECRET = "Imap-Secret-2569"


def _signed_in(person: Person) -> Client:
    client = Client()
    assert client.login(username=person.username, password=PASSWORD)
    return client


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _form(organisation: Organisation, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": organisation.pk, "address": OURS, "smtp_host": "smtp.opm.go.th", "smtp_port": "587",
        "smtp_security": "starttls", "smtp_username": OURS, "smtp_password": "", "imap_host": "imap.opm.go.th",
        "imap_port": "993", "imap_security": "ssl", "imap_username": OURS, "imap_password": "",
        "imap_folder": "INBOX", "dkim_domain": "", "dkim_selector": "", "dkim_private_key_pem": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def admin(agency: Organisation) -> Person:
    person = create_person(username="admin", name_th="นายผู้ดูแล ระบบ", password=PASSWORD)
    assign_role(person, agency, "sys_admin")
    return person


@pytest.fixture
def account(agency: Organisation) -> MailAccount:
    """The agency's central mailbox: nothing listens on the discard port, and nothing needs to (only queueing)."""
    return configure(agency, MailSettings(
        address=OURS, smtp_host="127.0.0.1", smtp_port=9, smtp_security="none", smtp_username=OURS,
        smtp_password=SMTP_SECRET, imap_host="127.0.0.1", imap_port=9, imap_security="none", imap_username=OURS,
        imap_password=IMAP_SECRET,
    ), actor=None)


@pytest.fixture
def other() -> Organisation:
    return create_organisation(identifier="other", kind="department", name_th="กรมอื่น", letter_code="มท 0999")


@pytest.fixture
def other_admin(other: Organisation) -> Person:
    person = create_person(username="otheradmin", name_th="นายผู้ดูแล กรมอื่น", password=PASSWORD)
    assign_role(person, other, "org_admin")
    return person


def test_the_page_is_for_administrators(clerk: Person, admin: Person, account: MailAccount,
                                        agency: Organisation) -> None:
    refused = _signed_in(clerk).get("/network/mail/")
    assert refused.status_code == 403 and "เฉพาะผู้ดูแลระบบหรือผู้ดูแลหน่วยงาน" in refused.content.decode()
    assert _signed_in(clerk).post("/network/mail/", _form(agency)).status_code == 403
    assert _signed_in(clerk).post(f"/network/mail/accounts/{account.pk}/suspend/").status_code == 403
    page = _signed_in(admin).get("/network/mail/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "บัญชีอีเมลกลาง" in html and OURS in html and "127.0.0.1:9" in html and "ตั้งรหัสผ่านแล้ว" in html
    assert SMTP_SECRET not in html and IMAP_SECRET not in html
    for cross in ("/network/ecms/", "/network/peers/"):
        assert "/network/mail/" in _signed_in(admin).get(cross).content.decode()


def test_a_system_administrator_adds_an_account_kept_sealed(agency: Organisation, admin: Person) -> None:
    client = _signed_in(admin)
    assert f'<option value="{agency.pk}"' in client.get("/network/mail/").content.decode()
    pem = _pem()
    response = client.post("/network/mail/", _form(
        agency, smtp_password=SMTP_SECRET, imap_password=IMAP_SECRET, dkim_domain="opm.go.th",
        dkim_selector="saraban", dkim_private_key_pem=pem), follow=True)
    assert "บันทึกบัญชีอีเมลกลางของ สำนักงานปลัดสำนักนายกรัฐมนตรี แล้ว" in _messages(response)
    saved = MailAccount.objects.get()
    assert (saved.organisation_id, saved.address, saved.smtp_host, saved.smtp_port, saved.imap_host) == (
        agency.pk, OURS, "smtp.opm.go.th", 587, "imap.opm.go.th")
    for sealed, secret in ((saved.smtp_password_sealed, SMTP_SECRET), (saved.imap_password_sealed, IMAP_SECRET),
                           (saved.dkim_key_sealed, "PRIVATE KEY")):
        assert sealed.startswith("v1:") and secret not in sealed
    html = response.content.decode() + client.get(f"/network/mail/?edit={saved.pk}").content.decode()
    assert SMTP_SECRET not in html and IMAP_SECRET not in html and "BEGIN PRIVATE KEY-----\n" not in html
    assert "saraban._domainkey.opm.go.th" in html and "smtp.opm.go.th:587" in html


def test_editing_with_empty_secret_fields_keeps_them(agency: Organisation, admin: Person,
                                                     account: MailAccount) -> None:
    client = _signed_in(admin)
    edit = client.get(f"/network/mail/?edit={account.pk}").content.decode()
    assert 'value="127.0.0.1"' in edit and "เว้นว่างไว้ = ใช้รหัสผ่านเดิม" in edit
    assert 'name="smtp_password" type="password" autocomplete="new-password" value=""' in edit
    response = client.post("/network/mail/", _form(agency, smtp_host="smtp2.opm.go.th"), follow=True)
    assert "แก้ไขบัญชีอีเมลกลางของ สำนักงานปลัดสำนักนายกรัฐมนตรี แล้ว" in _messages(response)
    saved = MailAccount.objects.get()
    assert saved.smtp_host == "smtp2.opm.go.th"
    assert (saved.smtp_password_sealed, saved.imap_password_sealed) == (
        account.smtp_password_sealed, account.imap_password_sealed)
    client.post("/network/mail/", _form(agency, smtp_password="Another-Secret-1"))
    saved.refresh_from_db()
    assert saved.smtp_password_sealed != account.smtp_password_sealed
    assert saved.imap_password_sealed == account.imap_password_sealed


@pytest.mark.parametrize(("changes", "said"), [
    ({"address": "not-an-address"}, "ที่อยู่อีเมลกลางไม่ถูกต้อง"),
    ({"address": "saraban@@opm"}, "ที่อยู่อีเมลกลางไม่ถูกต้อง"),
    ({"smtp_port": "abc"}, "หมายเลขพอร์ตไม่ถูกต้อง"),
    ({"imap_port": "70000"}, "หมายเลขพอร์ตไม่ถูกต้อง"),
    ({"smtp_host": ""}, "ต้องระบุเครื่องบริการส่งอีเมล (SMTP)"),
    ({"dkim_domain": "opm.go.th", "dkim_selector": "s", "dkim_private_key_pem": "not a key"},
     "กุญแจ DKIM ไม่ใช่กุญแจส่วนตัวแบบ PEM"),
    ({"dkim_domain": "opm.go.th"}, "ต้องระบุทั้งโดเมนและ selector ของ DKIM"),
])
def test_a_wrong_field_is_shown_next_to_it(agency: Organisation, admin: Person, changes: dict[str, str],
                                           said: str) -> None:
    response = _signed_in(admin).post("/network/mail/", _form(agency, smtp_password=SMTP_SECRET, **changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<span class="field-error" role="alert">{said}' in html
    assert "ยังไม่ได้บันทึก" in _messages(response) and "พิมพ์อีกครั้ง" in _messages(response)
    assert SMTP_SECRET not in html  # what was typed is not sent back
    assert not MailAccount.objects.exists()


def test_every_wrong_field_is_told_at_once(agency: Organisation, admin: Person) -> None:
    response = _signed_in(admin).post("/network/mail/", _form(agency, address="saraban@@opm", smtp_port="58x",
                                                              imap_port="๙๙๓", dkim_domain="opm.go.th"))
    html = response.content.decode()
    assert response.status_code == 200 and html.count('<span class="field-error" role="alert">') == 3
    assert "ที่อยู่อีเมลกลางไม่ถูกต้อง" in html and "หมายเลขพอร์ตไม่ถูกต้อง" in html and "selector ของ DKIM" in html
    assert 'value="58x"' in html and 'value="saraban@@opm"' in html  # what was typed stays in the form
    assert not MailAccount.objects.exists()


def test_an_organisation_administrator_has_only_their_own(
    agency: Organisation, account: MailAccount, other: Organisation, other_admin: Person,
) -> None:
    client = _signed_in(other_admin)
    page = client.get("/network/mail/")
    assert page.status_code == 200
    html = page.content.decode()
    assert OURS not in html and f'<option value="{agency.pk}"' not in html and f'<option value="{other.pk}"' in html
    assert "/network/ecms/" not in html  # the cross-links are the system administrators'
    assert client.get(f"/network/mail/?edit={account.pk}").status_code == 404
    assert client.post("/network/mail/", _form(agency, address="x@evil.example")).status_code == 404
    assert client.post(f"/network/mail/accounts/{account.pk}/suspend/").status_code == 404
    account.refresh_from_db()
    assert account.address == OURS and account.is_active
    added = client.post("/network/mail/", _form(other, address="saraban@other.go.th"), follow=True)
    assert "บันทึกบัญชีอีเมลกลางของ กรมอื่น แล้ว" in _messages(added)
    assert MailAccount.objects.get(organisation=other).address == "saraban@other.go.th"


def test_an_account_is_suspended_and_resumed(admin: Person, account: MailAccount) -> None:
    client = _signed_in(admin)
    response = client.post(f"/network/mail/accounts/{account.pk}/suspend/", follow=True)
    assert "ระงับบัญชีอีเมลกลางของ สำนักงานปลัดสำนักนายกรัฐมนตรี แล้ว" in _messages(response)
    assert f"/network/mail/accounts/{account.pk}/resume/" in response.content.decode()
    account.refresh_from_db()
    assert not account.is_active
    client.post(f"/network/mail/accounts/{account.pk}/resume/")
    account.refresh_from_db()
    assert account.is_active
    assert client.post(f"/network/mail/accounts/{account.pk}/explode/").status_code == 404
    assert client.post("/network/mail/accounts/999/suspend/").status_code == 404


# --- the registry's e-mails on the queue page ----------------------------------------------------


@pytest.fixture
def dla() -> Organisation:
    """An agency with no e-Saraban and nobody here: only its central address (ฉบับที่ ๔)."""
    return create_organisation(identifier="dla", kind="department", name_th="กรมส่งเสริมการปกครองท้องถิ่น",
                               letter_code="มท 0810", email=THEIRS)


@pytest.fixture
def bounced(agency: Organisation, clerk: Person, signer: Person, account: MailAccount, dla: Organisation
            ) -> tuple[Letter, Dispatch, MailOutbound]:
    letter = numbered(draft(agency, clerk, to=[dla]), author=clerk, signer=signer, clerk=clerk)
    (dispatch,) = send_letter(letter, actor=clerk)
    assert dispatch.transport == "mail"
    row = MailOutbound.objects.get(dispatch=dispatch)
    MailOutbound.objects.filter(pk=row.pk).update(
        status=OutboundStatus.BOUNCED, attempts=1, sent_at=timezone.now(), bounced_at=timezone.now(),
        smtp_reply="250 2.0.0 Ok: queued", bounce_reason=f"{THEIRS} 5.1.1 smtp; 550 5.1.1 User unknown")
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.FAILED,
                                                   returned_reason="อีเมลตีกลับ: 5.1.1 User unknown")
    return Letter.objects.get(pk=letter.pk), dispatch, row


def test_the_queue_shows_a_bounce_and_sends_again(clerk: Person,
                                                  bounced: tuple[Letter, Dispatch, MailOutbound]) -> None:
    letter, dispatch, row = bounced
    client = _signed_in(clerk)
    html = client.get("/network/queue/").content.decode()
    assert "ส่งทางอีเมล" in html and "5.1.1 smtp; 550 5.1.1 User unknown" in html and "อีเมลตีกลับ" in html
    assert f'href="/letters/{letter.pk}/"' in html and THEIRS in html and "กรมส่งเสริมการปกครองท้องถิ่น" in html
    assert f"/network/mail/outbound/{row.pk}/send-again/" in html
    response = client.post(f"/network/mail/outbound/{row.pk}/send-again/")
    assert response.status_code == 302 and response["Location"] == "/network/queue/"
    page = client.get("/network/queue/")
    assert f"นำหนังสือ {letter.number} เข้าคิวส่งทางอีเมลถึง {THEIRS} อีกครั้งแล้ว" in _messages(page)
    again = MailOutbound.objects.filter(dispatch=dispatch).latest("pk")
    assert again.pk != row.pk and again.status == OutboundStatus.PENDING and again.message_id != row.message_id
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENDING
    html = page.content.decode()
    assert f"/network/mail/outbound/{row.pk}/send-again/" not in html and "ส่งอีกครั้งแล้ว" in html
    # The older row, posted again (a page left open): refused in words, nothing queued twice.
    stale = client.post(f"/network/mail/outbound/{row.pk}/send-again/", follow=True)
    assert "ส่งทางอีเมลอีกครั้งไปแล้ว" in _messages(stale)
    assert MailOutbound.objects.filter(dispatch=dispatch).count() == 2
    # A row still on its way is not sent again.
    refused = client.post(f"/network/mail/outbound/{again.pk}/send-again/", follow=True)
    assert "ส่งอีกครั้งได้เฉพาะอีเมลที่ส่งไม่สำเร็จหรือตีกลับ" in _messages(refused)


def test_another_registry_neither_sees_nor_sends_again(bounced: tuple[Letter, Dispatch, MailOutbound],
                                                       other: Organisation) -> None:
    _letter, _dispatch, row = bounced
    outsider = create_person(username="outsider", name_th="นายคนนอก ไม่เกี่ยว", password=PASSWORD)
    assign_role(outsider, other, "central_clerk")
    client = _signed_in(outsider)
    assert THEIRS not in client.get("/network/queue/").content.decode()
    assert client.post(f"/network/mail/outbound/{row.pk}/send-again/").status_code == 404
    assert MailOutbound.objects.count() == 1


def test_errors_in_words_and_quarantined_mail(clerk: Person, bounced: tuple[Letter, Dispatch, MailOutbound],
                                              account: MailAccount) -> None:
    _letter, _dispatch, row = bounced
    MailOutbound.objects.filter(pk=row.pk).update(
        status=OutboundStatus.PENDING, bounce_reason="", bounced_at=None,
        last_error="ติดต่อเครื่องบริการอีเมลไม่ได้ / the mail server cannot be reached: ConnectionRefusedError")
    MailInbound.objects.create(
        account=account, uid_validity=1, uid=7, message_id="spam@example.com", from_address="promo@spam.example",
        subject="ลดราคาพิเศษ", outcome=InboundOutcome.SPAM, detail="X-Spam-Flag", received_at=timezone.now())
    MailInbound.objects.create(
        account=account, uid_validity=1, uid=8, message_id="big@example.com", from_address="big@agency.go.th",
        subject="ที่ มท 0810/1 เรื่อง แผนที่", outcome=InboundOutcome.TOO_LARGE, size=30_000_000,
        detail="30,000,000 ไบต์ เกินกำหนด ยังอยู่ในกล่องอีเมล / 30,000,000 bytes, left in the mailbox",
        received_at=timezone.now())
    MailInbound.objects.create(  # read and delivered: not quarantined, not listed
        account=account, uid_validity=1, uid=9, message_id="ok@example.com", from_address="ok@agency.go.th",
        subject="หนังสือที่รับแล้ว", outcome=InboundOutcome.DELIVERED, received_at=timezone.now())
    client = _signed_in(clerk)
    html = client.get("/network/queue/").content.decode()
    assert "ติดต่อเครื่องบริการอีเมลไม่ได้: ConnectionRefusedError" in html  # Thai, and the server's words
    assert "อีเมลที่กักไว้" in html and "promo@spam.example" in html and "ลดราคาพิเศษ" in html
    assert "กักไว้: อีเมลขยะ" in html and "กักไว้: ใหญ่เกินกำหนด" in html and "30,000,000 ไบต์ เกินกำหนด" in html
    assert "หนังสือที่รับแล้ว" not in html
    client.cookies[LANG_COOKIE] = "en"
    english = client.get("/network/queue/").content.decode()
    assert "the mail server cannot be reached: ConnectionRefusedError" in english
    assert "Quarantined: spam" in english and "30,000,000 bytes, left in the mailbox" in english


def test_the_queue_has_no_e_mail_section_without_an_account(clerk: Person) -> None:
    assert "ส่งทางอีเมล" not in _signed_in(clerk).get("/network/queue/").content.decode()


def test_mail_errors_keep_the_servers_words_in_both_languages(rf: Any) -> None:
    thai, english = rf.get("/"), rf.get("/")
    english.COOKIES[LANG_COOKIE] = "en"
    words = "ผู้รับถูกปฏิเสธ / recipient refused: 550 5.1.1 <x@y>: User unknown / see https://help"
    assert mail_words(thai, words) == "ผู้รับถูกปฏิเสธ: 550 5.1.1 <x@y>: User unknown / see https://help"
    assert mail_words(english, words) == "recipient refused: 550 5.1.1 <x@y>: User unknown / see https://help"
    assert mail_words(thai, "ซ้ำกับข้อความ UID 5 / a copy of UID 5") == "ซ้ำกับข้อความ UID 5"
    assert mail_words(english, "X-Spam-Flag") == "X-Spam-Flag"
    assert mail_words(thai, "") == ""



def test_the_service_itself_refuses_an_old_row(clerk: Person, bounced: tuple[Letter, Dispatch, MailOutbound]) -> None:
    from saraban.core.errors import ValidationFailed
    from saraban.mail.services import send_again

    _letter, dispatch, row = bounced
    send_again(row, actor=clerk)
    with pytest.raises(ValidationFailed) as refused:
        send_again(row, actor=clerk)  # the same old row again, past the page's check
    assert refused.value.problems[0].code == "already_sent_again"
    assert MailOutbound.objects.filter(dispatch=dispatch).count() == 2
