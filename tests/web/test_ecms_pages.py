"""The e-CMS pages: the administrators' connections and e-CMS directory, and the registry's e-CMS queue."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.ecms.models import EcmsConnection, EcmsOrganisation, EcmsOutbound, OutboundKind, OutboundStatus
from saraban.exchange.models import Dispatch, DispatchStatus
from saraban.exchange.services import send_letter
from saraban.web.i18n import LANG_COOKIE
from saraban.web.views.ecms import words_in
from tests.helpers import PASSWORD, numbered
from tests.web.test_workflow_pages import draft

pytestmark = pytest.mark.django_db

CLOSED_PORT = "http://127.0.0.1:9/ecms-ws01/service2"  # nothing listens on the discard port


def _signed_in(person: Person) -> Client:
    client = Client()
    assert client.login(username=person.username, password=PASSWORD)
    return client


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


@pytest.fixture
def admin(agency: Organisation) -> Person:
    person = create_person(username="admin", name_th="นายผู้ดูแล ระบบ", password=PASSWORD)
    assign_role(person, agency, "sys_admin")
    return person


@pytest.fixture
def connection(agency: Organisation) -> EcmsConnection:
    return EcmsConnection.objects.create(organisation=agency, endpoint=CLOSED_PORT, ministry_id="0100",
                                         department_id="0105")


def _agency(ecms_id: str, th_name: str, *, en_name: str = "", organisation: Organisation | None = None
            ) -> EcmsOrganisation:
    return EcmsOrganisation.objects.create(
        organization_id=ecms_id, th_name=th_name, en_name=en_name, ministry_id="1500", ministry_name="กระทรวงมหาดไทย",
        ecms_url=f"http://ecms.moi.go.th/{ecms_id}/ecms-ws01/service2", organisation=organisation,
        seen_at=timezone.now(),
    )


@pytest.fixture
def dopa() -> Organisation:
    """A directory organisation not hosted here: reached through e-CMS once matched."""
    return create_organisation(identifier="dopa", kind="department", name_th="กรมการปกครอง",
                               name_en="Department of Provincial Administration", letter_code="มท 0309")


def test_the_page_is_for_system_administrators(clerk: Person, admin: Person) -> None:
    refused = _signed_in(clerk).get("/network/ecms/")
    assert refused.status_code == 403 and "เฉพาะผู้ดูแลระบบ" in refused.content.decode()
    page = _signed_in(admin).get("/network/ecms/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "บัญชี e-CMS ของหน่วยงาน" in html and "ทะเบียนหน่วยงาน e-CMS" in html
    assert "/network/ecms/" in _signed_in(admin).get("/network/peers/").content.decode()
    assert _signed_in(clerk).post("/network/ecms/", {"organisation": "1"}).status_code == 403


def test_an_administrator_adds_and_replaces_a_connection(agency: Organisation, admin: Person, dopa: Organisation
                                                         ) -> None:
    client = _signed_in(admin)
    page = client.get("/network/ecms/").content.decode()
    assert f'<option value="{agency.pk}"' in page
    response = client.post("/network/ecms/", {"organisation": agency.pk, "endpoint": "http://ecms.opm.go.th/ecms-ws01/service2",
                                               "ministry_id": "0100", "department_id": "0105"}, follow=True)
    assert "บันทึกการเชื่อมต่อ e-CMS ของ สำนักงานปลัดสำนักนายกรัฐมนตรี แล้ว" in _messages(response)
    saved = EcmsConnection.objects.get()
    assert (saved.organisation_id, saved.endpoint, saved.department_id) == (
        agency.pk, "http://ecms.opm.go.th/ecms-ws01/service2", "0105")
    html = response.content.decode()
    assert "http://ecms.opm.go.th/ecms-ws01/service2" in html and "0100 / 0105" in html
    edit = client.get(f"/network/ecms/?edit={saved.pk}").content.decode()
    assert 'value="http://ecms.opm.go.th/ecms-ws01/service2"' in edit
    replaced = client.post("/network/ecms/", {"organisation": agency.pk, "endpoint": "https://ecms2.opm.go.th/ws",
                                              "ministry_id": "0100", "department_id": "0105"}, follow=True)
    assert "แก้ไขการเชื่อมต่อ" in _messages(replaced)
    assert EcmsConnection.objects.get().endpoint == "https://ecms2.opm.go.th/ws"
    bad = client.post("/network/ecms/", {"organisation": agency.pk, "endpoint": "ftp://x", "ministry_id": "1",
                                         "department_id": "2"})
    assert bad.status_code == 200 and "http:// หรือ https://" in _messages(bad)
    assert 'value="ftp://x"' in bad.content.decode()  # what was typed stays in the form
    # An agency reached through e-CMS is not offered an account, nor is a department id taken twice.
    _agency("0309", "กรมการปกครอง", organisation=dopa)
    assert f'<option value="{dopa.pk}"' not in client.get("/network/ecms/").content.decode()
    other = create_organisation(identifier="opm-two", kind="department", name_th="กรมที่สอง")
    taken = client.post("/network/ecms/", {"organisation": other.pk, "endpoint": "http://ecms.example/ws",
                                           "ministry_id": "0100", "department_id": "0105"})
    assert taken.status_code == 200 and "เป็นบัญชี e-CMS ของ สำนักงานปลัดสำนักนายกรัฐมนตรี อยู่แล้ว" in _messages(taken)
    assert EcmsConnection.objects.count() == 1


def test_searching_the_directory(admin: Person, dopa: Organisation) -> None:
    _agency("0309", "กรมการปกครอง", en_name="Department of Provincial Administration", organisation=dopa)
    _agency("0307", "กรมการพัฒนาชุมชน", en_name="Community Development Department")
    _agency("0702", "กรมชลประทาน", en_name="Royal Irrigation Department")
    client = _signed_in(admin)
    everything = client.get("/network/ecms/").content.decode()
    assert "กรมการปกครอง" in everything and "กรมชลประทาน" in everything and "ทั้งหมด 3 หน่วยงาน" in everything
    by_name = client.get("/network/ecms/?q=กรมการ").content.decode()
    assert "กรมการพัฒนาชุมชน" in by_name and "กรมชลประทาน" not in by_name
    by_id = client.get("/network/ecms/?q=0702").content.decode()
    assert "กรมชลประทาน" in by_id and "กรมการพัฒนาชุมชน" not in by_id
    by_english = client.get("/network/ecms/?q=irrigation").content.decode()
    assert "กรมชลประทาน" in by_english
    unmatched = client.get("/network/ecms/?q=กรมการ&unmatched=1").content.decode()
    assert "กรมการพัฒนาชุมชน" in unmatched and "ecms.moi.go.th/0309" not in unmatched
    assert "ไม่พบหน่วยงานที่ตรงกับคำค้น" in client.get("/network/ecms/?q=ไม่มีแน่นอน").content.decode()


def test_matching_by_letter_code_and_refusing_unclear_queries(admin: Person, dopa: Organisation) -> None:
    agency = _agency("0309", "กรมการปกครอง")
    create_organisation(identifier="cd-1", kind="department", name_th="สำนักงานพัฒนาชุมชนจังหวัดน่าน")
    create_organisation(identifier="cd-2", kind="department", name_th="สำนักงานพัฒนาชุมชนจังหวัดแพร่")
    client = _signed_in(admin)
    url = f"/network/ecms/agencies/{agency.pk}/match/"
    ambiguous = client.post(url, {"organisation": "สำนักงานพัฒนาชุมชน", "q": "กรม"}, follow=True)
    assert ambiguous.redirect_chain[-1][0] == "/network/ecms/?q=%E0%B8%81%E0%B8%A3%E0%B8%A1"
    said = _messages(ambiguous)
    assert "ตรงกับหน่วยงานหลายแห่ง" in said and "จังหวัดน่าน" in said and "จังหวัดแพร่" in said
    unknown = client.post(url, {"organisation": "กรมที่ไม่มีอยู่จริง"}, follow=True)
    assert "ไม่พบหน่วยงานในทะเบียนที่ตรงกับ “กรมที่ไม่มีอยู่จริง”" in _messages(unknown)
    assert "จับคู่" in _messages(client.post(url, {"organisation": " "}, follow=True))
    agency.refresh_from_db()
    assert agency.organisation_id is None
    matched = client.post(url, {"organisation": "มท0309"}, follow=True)  # the letter code, spaces ignored
    assert "จับคู่ กรมการปกครอง กับ กรมการปกครอง (มท 0309) แล้ว" in _messages(matched)
    agency.refresh_from_db()
    assert agency.organisation_id == dopa.pk
    assert f'href="/directory/{dopa.pk}/"' in matched.content.decode()
    # The same organisation cannot be matched to a second agency: the service's refusal, in words.
    second = _agency("0399", "กรมการปกครอง (สำรอง)")
    taken = client.post(f"/network/ecms/agencies/{second.pk}/match/", {"organisation": "dopa"}, follow=True)
    assert "จับคู่กับ กรมการปกครอง อยู่แล้ว" in _messages(taken)
    assert client.post(f"/network/ecms/agencies/{agency.pk}/explode/").status_code == 404


def test_an_organisation_hosted_here_is_not_matched(agency: Organisation, admin: Person) -> None:
    entry = _agency("0500", "สำนักงานอื่น")
    response = _signed_in(admin).post(f"/network/ecms/agencies/{entry.pk}/match/", {"organisation": "นร 0105"},
                                      follow=True)
    assert response.status_code == 200 and "ใช้ระบบนี้หรือระบบ Saraban อื่นอยู่แล้ว" in _messages(response)


def test_unmatching_and_adding_to_the_directory(admin: Person, dopa: Organisation) -> None:
    matched = _agency("0309", "กรมการปกครอง", organisation=dopa)
    new = _agency("0702", "กรมชลประทาน", en_name="Royal Irrigation Department")
    client = _signed_in(admin)
    undone = client.post(f"/network/ecms/agencies/{matched.pk}/unmatch/", {"unmatched": "1"}, follow=True)
    assert undone.redirect_chain[-1][0] == "/network/ecms/?unmatched=1"
    assert "ยกเลิกการจับคู่ กรมการปกครอง กับ กรมการปกครอง แล้ว" in _messages(undone)
    matched.refresh_from_db()
    assert matched.organisation_id is None
    assert "ยังไม่ได้จับคู่" in _messages(client.post(f"/network/ecms/agencies/{matched.pk}/unmatch/", follow=True))
    added = client.post(f"/network/ecms/agencies/{new.pk}/add/", follow=True)
    assert "เป็นหน่วยงานใหม่ในทะเบียน" in _messages(added)
    new.refresh_from_db()
    organisation = Organisation.objects.get(pk=new.organisation_id)
    assert (organisation.identifier, organisation.name_th, organisation.name_en) == (
        "ecms-0702", "กรมชลประทาน", "Royal Irrigation Department")
    again = client.post(f"/network/ecms/agencies/{new.pk}/add/", follow=True)
    assert "จับคู่แล้ว" in _messages(again)


def test_a_failed_refresh_is_shown_in_words(admin: Person, connection: EcmsConnection, settings: Any) -> None:
    settings.SARABAN_ECMS = {**settings.SARABAN_ECMS, "timeout_s": 2}
    response = _signed_in(admin).post(f"/network/ecms/connections/{connection.pk}/refresh/", follow=True)
    assert response.status_code == 200
    said = _messages(response)
    assert "ปรับปรุงทะเบียนหน่วยงาน e-CMS จากบัญชีของ สำนักงานปลัดสำนักนายกรัฐมนตรี ไม่สำเร็จ" in said
    assert "ติดต่อ e-CMS ไม่ได้" in said
    assert _signed_in(admin).post("/network/ecms/connections/999/refresh/").status_code == 404


def test_an_account_is_suspended_and_resumed(admin: Person, connection: EcmsConnection, clerk: Person) -> None:
    client = _signed_in(admin)
    response = client.post(f"/network/ecms/connections/{connection.pk}/suspend/", follow=True)
    assert "ระงับบัญชี e-CMS ของ" in _messages(response)
    connection.refresh_from_db()
    assert not connection.is_active
    client.post(f"/network/ecms/connections/{connection.pk}/resume/")
    connection.refresh_from_db()
    assert connection.is_active
    assert client.post(f"/network/ecms/connections/{connection.pk}/explode/").status_code == 404
    assert _signed_in(clerk).post(f"/network/ecms/connections/{connection.pk}/suspend/").status_code == 403
    connection.refresh_from_db()
    assert connection.is_active


def test_a_department_id_belongs_to_one_organisation(admin: Person, connection: EcmsConnection,
                                                     dopa: Organisation) -> None:
    from saraban.core.errors import ValidationFailed
    from saraban.ecms.services import connect

    with pytest.raises(ValidationFailed) as refused:
        connect(dopa, endpoint=CLOSED_PORT, ministry_id="1500", department_id="0105", actor=None)
    assert refused.value.problems[0].code == "taken"
    assert EcmsConnection.objects.count() == 1


# --- the registry's e-CMS queue ------------------------------------------------------------------


@pytest.fixture
def sent_through_ecms(agency: Organisation, clerk: Person, signer: Person, connection: EcmsConnection,
                      dopa: Organisation) -> tuple[Letter, Dispatch, EcmsOutbound]:
    _agency("0309", "กรมการปกครอง", organisation=dopa)
    letter = numbered(draft(agency, clerk, to=[dopa]), author=clerk, signer=signer, clerk=clerk)
    (dispatch,) = send_letter(letter, actor=clerk)
    row = EcmsOutbound.objects.get(dispatch=dispatch)
    return Letter.objects.get(pk=letter.pk), dispatch, row


def test_the_queue_shows_e_cms_rows_to_their_registry_only(
    clerk: Person, sent_through_ecms: tuple[Letter, Dispatch, EcmsOutbound],
) -> None:
    letter, dispatch, row = sent_through_ecms
    EcmsOutbound.objects.filter(pk=row.pk).update(
        attempts=3, process_id="PID-42",
        last_error="ติดต่อ e-CMS ไม่ได้ (ConnectionRefusedError) / The e-CMS node cannot be reached")
    page = _signed_in(clerk).get("/network/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "ส่งทาง e-CMS" in html and "ติดต่อ e-CMS ไม่ได้ (ConnectionRefusedError)" in html
    assert f'href="/letters/{letter.pk}/"' in html and letter.number in html and "PID-42" in html
    assert "กรมการปกครอง" in html and "/resend/" not in html  # still sending: nothing to resend
    outsider = create_person(username="outsider", name_th="นายคนนอก ไม่เกี่ยว", password=PASSWORD)
    other = create_organisation(identifier="other", kind="department", name_th="กรมอื่น")
    assign_role(outsider, other, "central_clerk")
    theirs = _signed_in(outsider)
    assert "PID-42" not in theirs.get("/network/queue/").content.decode()
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.RETURNED)
    assert theirs.post(f"/network/ecms/dispatch/{dispatch.pk}/resend/").status_code == 404
    assert theirs.post(f"/network/ecms/dispatch/{dispatch.pk}/dispute/").status_code == 404
    assert EcmsOutbound.objects.count() == 1


def test_the_registry_withdraws_and_resends_a_returned_letter(
    clerk: Person, sent_through_ecms: tuple[Letter, Dispatch, EcmsOutbound],
) -> None:
    letter, dispatch, row = sent_through_ecms
    EcmsOutbound.objects.filter(pk=row.pk).update(status=OutboundStatus.POSTED, process_id="PID-1")
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.RETURNED,
                                                   returned_reason="ไม่ใช่หน่วยงานผู้รับที่ถูกต้อง")
    client = _signed_in(clerk)
    html = client.get("/network/queue/").content.decode()
    assert f"/network/ecms/dispatch/{dispatch.pk}/resend/" in html and "ไม่ใช่หน่วยงานผู้รับที่ถูกต้อง" in html
    response = client.post(f"/network/ecms/dispatch/{dispatch.pk}/resend/")
    assert response.status_code == 302 and response["Location"] == "/network/queue/"
    said = _messages(client.get("/network/queue/"))
    assert f"นำหนังสือ {letter.number} เข้าคิวส่งทาง e-CMS อีกครั้งแล้ว" in said and "ถอนฉบับเดิม" in said
    latest = EcmsOutbound.objects.filter(dispatch=dispatch, kind=OutboundKind.LETTER).latest("pk")
    assert latest.pk != row.pk and latest.status == OutboundStatus.PENDING and latest.withdraw_first
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENDING
    # Sending again now is refused in words: the letter is on its way.
    refused = client.post(f"/network/ecms/dispatch/{dispatch.pk}/resend/", follow=True)
    assert "ส่งใหม่ได้เฉพาะหนังสือที่ถูกปฏิเสธหรือส่งไม่สำเร็จ" in _messages(refused)


def test_the_registry_disputes_a_receipt_number(
    clerk: Person, sent_through_ecms: tuple[Letter, Dispatch, EcmsOutbound],
) -> None:
    _letter, dispatch, row = sent_through_ecms
    EcmsOutbound.objects.filter(pk=row.pk).update(status=OutboundStatus.POSTED, process_id="PID-1")
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.REGISTERED, receive_number="999")
    client = _signed_in(clerk)
    assert f"/network/ecms/dispatch/{dispatch.pk}/dispute/" in client.get("/network/queue/").content.decode()
    response = client.post(f"/network/ecms/dispatch/{dispatch.pk}/dispute/", follow=True)
    assert "เลขรับ 999" in _messages(response)
    notifier = EcmsOutbound.objects.get(kind=OutboundKind.NOTIFIER)
    assert (notifier.notifier_kind, notifier.accept_id) == ("InvalidAcceptIDNotifier", "999")
    assert "แจ้งว่าเลขรับไม่ถูกต้อง" in response.content.decode()  # the notifier's row, in words


def test_errors_stored_in_both_languages_are_shown_in_one(rf: Any) -> None:
    thai, english = rf.get("/"), rf.get("/")
    english.COOKIES[LANG_COOKIE] = "en"
    words = "e-CMS แจ้งข้อผิดพลาด E101: a / b / e-CMS answered fault E101: a / b"
    assert words_in(thai, words) == "e-CMS แจ้งข้อผิดพลาด E101: a / b"
    assert words_in(english, words) == "e-CMS answered fault E101: a / b"
    assert words_in(english, "ส่งไม่ได้ / a / b") == "ส่งไม่ได้ / a / b"  # not two halves: whole
    assert words_in(english, "") == ""
