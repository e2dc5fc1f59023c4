"""The outgoing workflow pages: work queue, drafts, editor and preview, the letter page and its actions, outbox."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from saraban.access.refusals import LETTER_NOT_REGISTRY
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import set_recipients, submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.exchange.models import Dispatch
from saraban.exchange.services import send_letter
from saraban.web.i18n import LANG_COOKIE
from tests.helpers import PASSWORD, numbered, signed

pytestmark = pytest.mark.django_db


def client_for(person: Person, lang: str = "th") -> Client:
    """A test client signed in as ``person`` (English when ``lang`` is "en")."""
    client = Client()
    client.force_login(person)
    if lang == "en":
        client.cookies[LANG_COOKIE] = "en"
    return client


@pytest.fixture
def other_org(db: None) -> Organisation:
    """A second organisation, with a unit, that must never see the first one's letters."""
    return create_organisation(
        identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี", name_en="Nonthaburi Province",
        letter_code="นบ 0017", address="ศาลากลางจังหวัดนนทบุรี\nอำเภอเมืองนนทบุรี จังหวัดนนทบุรี 11000",
        phone="0 2580 0705", category="other",
    )


@pytest.fixture
def other_unit(other_org: Organisation) -> Organisation:
    return create_organisation(identifier="nont-finance", parent=other_org, kind="division",
                               name_th="กองคลัง จังหวัดนนทบุรี", category="other")


@pytest.fixture
def other_clerk(other_org: Organisation) -> Person:
    person = create_person(username="nont.clerk", name_th="นางสาวมาลี ใจดี", password=PASSWORD)
    assign_role(person, other_org, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    return person


@pytest.fixture
def other_signer(other_org: Organisation) -> Person:
    person = create_person(username="nont.signer", name_th="นายสุริยา ประสาทบัณฑิต", password=PASSWORD)
    assign_role(person, other_org, "signer", position_title="ผู้ว่าราชการจังหวัดนนทบุรี")
    return person


@pytest.fixture
def reviewer(agency: Organisation) -> Person:
    person = create_person(username="reviewer", name_th="นางรัตนา พูนผล", password=PASSWORD)
    assign_role(person, agency, "reviewer", position_title="ผู้อำนวยการกองกลาง")
    return person


def content(**changes: Any) -> dict[str, Any]:
    """An external letter's content, complete except for what the directory fills in."""
    data: dict[str, Any] = {
        "type": "external", "subject": "ขอเชิญประชุมคณะทำงาน", "salutation": "เรียน",
        "recipient": "ผู้ว่าราชการจังหวัดนนทบุรี", "body": ["ด้วยสำนักงานปลัดสำนักนายกรัฐมนตรีขอเชิญประชุม"],
        "closing": "ขอแสดงความนับถือ", "owner_unit": "กองกลาง",
        "signer": {"name": "นายธีรวัฒน์ ศรีสวัสดิ์", "position": "รองปลัดสำนักนายกรัฐมนตรี"},
    }
    return {**data, **changes}


def draft(agency: Organisation, author: Person, to: list[Organisation] | None = None, **changes: Any) -> Letter:
    """A draft of ``agency`` written by ``author``, addressed to ``to``."""
    letter = create_letter(agency, content(**changes), author=author)
    if to:
        set_recipients(letter, to, [], actor=author)
    return letter


def editor_data(signer: Person, **changes: Any) -> dict[str, Any]:
    """What the editor posts for a complete external letter."""
    data: dict[str, Any] = {
        "type": "external", "subject": "ขอเชิญประชุมคณะทำงาน", "salutation": "เรียน",
        "recipient": "ผู้ว่าราชการจังหวัดนนทบุรี", "references": "", "enclosures": "กำหนดการ\nแผนที่",
        "body": "ย่อหน้าแรก\n\nย่อหน้าที่สอง", "closing": "ขอแสดงความนับถือ", "owner_unit": "กองกลาง",
        "phone": "0 2283 4000", "email": "", "urgency": "urgent", "secrecy": "normal",
        "signer_person": str(signer.pk), "then": "save",
    }
    data.update(changes)
    return data


# --- sign-in and tenancy ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/work/", "/letters/drafts/", "/letters/new/", "/outbox/", "/letters/1/", "/letters/1/pdf", "/letters/1/edit/",
])
def test_pages_require_sign_in(path: str, agency: Organisation) -> None:
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_organisation_sees_nothing_of_a_letter(
    agency: Organisation, clerk: Person, other_org: Organisation, other_clerk: Person
) -> None:
    letter = draft(agency, clerk)
    client = client_for(other_clerk)
    for path in (f"/letters/{letter.pk}/", f"/letters/{letter.pk}/pdf", f"/letters/{letter.pk}/edit/"):
        assert client.get(path).status_code == 404, path
    for action in ("submit", "approve", "return", "sign", "number", "send", "cancel", "close", "correct"):
        response = client.post(f"/letters/{letter.pk}/{action}/", {"cancel-reason": "x", "password": PASSWORD})
        assert response.status_code == 404, action
    assert client.post("/letters/preview/", {"type": "external", "letter": letter.pk}).status_code == 404
    assert "ขอเชิญประชุมคณะทำงาน" not in client.get("/work/").content.decode()
    assert "ขอเชิญประชุมคณะทำงาน" not in client.get("/outbox/").content.decode()
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.DRAFT


# --- work queue ------------------------------------------------------------------------------------

def test_work_queue_shows_each_role_its_tasks(agency: Organisation, clerk: Person, signer: Person) -> None:
    letter = draft(agency, clerk, urgency="most_urgent")
    submit_for_review(letter, actor=clerk, reviewers=[], signer=signer)
    page = client_for(signer).get("/work/").content.decode()
    assert "รอลงนาม" in page and f'href="/letters/{letter.pk}/"' in page and "ด่วนที่สุด" in page
    signed_letter = signed(draft(agency, clerk, subject="เรื่องรอออกเลข"), author=clerk, signer=signer)
    page = client_for(clerk).get("/work/").content.decode()
    assert "รอออกเลข" in page and f'href="/letters/{signed_letter.pk}/"' in page
    english = client_for(clerk, "en").get("/work/").content.decode()
    assert "To number" in english and "My work" in english


def test_returned_drafts_appear_in_the_queue_and_in_drafts(
    agency: Organisation, clerk: Person, signer: Person, reviewer: Person
) -> None:
    letter = draft(agency, clerk)
    submit_for_review(letter, actor=clerk, reviewers=[reviewer], signer=signer)
    client_for(reviewer).post(f"/letters/{letter.pk}/return/", {"comment": "แก้ไขวันประชุม"})
    page = client_for(clerk).get("/work/").content.decode()
    assert "ร่างที่ถูกส่งกลับแก้ไข" in page and "แก้ไขวันประชุม" in page
    assert "แก้ไขวันประชุม" in client_for(clerk).get("/letters/drafts/").content.decode()


# --- editor and preview ----------------------------------------------------------------------------

def test_editor_saves_a_draft_with_recipients(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation
) -> None:
    client = client_for(clerk)
    page = client.get("/letters/new/?type=external")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-post="/letters/preview/"' in html and "สิ่งที่ส่งมาด้วย" in html and "data-recipients=" in html
    assert "จังหวัดนนทบุรี" not in html  # organisations are searched (/letters/recipients), not listed
    response = client.post("/letters/new/?type=external", editor_data(signer, to=[str(other_org.pk)]))
    assert response.status_code == 302
    letter = Letter.objects.get()
    assert response["Location"] == f"/letters/{letter.pk}/"
    assert letter.status == LetterStatus.DRAFT and letter.urgency == "urgent"
    body = letter.letter_content
    assert body.body == ["ย่อหน้าแรก", "ย่อหน้าที่สอง"] and [e.title for e in body.enclosures] == ["กำหนดการ", "แผนที่"]
    assert body.signer.name == signer.display_name
    assert [r.organisation_id for r in letter.recipients.all()] == [other_org.pk]
    edit = client.get(f"/letters/{letter.pk}/edit/").content.decode()
    assert "ย่อหน้าที่สอง" in edit
    changed = client.post(f"/letters/{letter.pk}/edit/", editor_data(signer, subject="เรื่องใหม่"))
    assert changed.status_code == 302
    assert Letter.objects.get(pk=letter.pk).subject == "เรื่องใหม่"


def test_editor_shows_service_problems_next_to_fields_in_the_active_language(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    """A malformed value keeps a draft from being saved (422, shown at its field); a missing one does not."""
    response = client_for(clerk).post("/letters/new/?type=external", editor_data(signer, subject="", email="nope"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "ไม่ถูกต้อง" in html and "ต้องระบุเรื่อง" not in html
    assert re.search(r'class="f-email has-error"', html)
    english = client_for(clerk, "en").post("/letters/new/?type=external", editor_data(signer, email="nope"))
    assert english.status_code == 422 and "is malformed" in english.content.decode()
    assert not Letter.objects.exists()


def test_an_unfinished_draft_is_saved_and_its_gaps_are_named_at_submission(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    """Issue 17, item 3: with only the subject typed, บันทึกร่าง keeps the draft; บันทึกและส่งตรวจ keeps it
    too and names, in the active language, what the letter still lacks before it can go to review."""
    only_subject = {"type": "external", "subject": "ร่างไว้ก่อน", "urgency": "normal", "secrecy": "normal",
                    "then": "save"}
    saved = client_for(clerk).post("/letters/new/?type=external", only_subject)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    letter = Letter.objects.get()
    assert letter.subject == "ร่างไว้ก่อน" and letter.status == "draft"
    english = client_for(clerk, "en")
    submitted = english.post(f"/letters/{letter.pk}/edit/",
                             {**only_subject, "signer_person": str(signer.pk), "then": "submit"})
    assert submitted.status_code == 302 and submitted["Location"] == f"/letters/{letter.pk}/edit/"
    page = english.get(submitted["Location"]).content.decode()
    assert "The body is required" in page and "The salutation is required" in page
    assert Letter.objects.get(pk=letter.pk).status == "draft"


def test_save_and_submit_sends_the_draft_to_the_reviewers_in_order(
    agency: Organisation, clerk: Person, signer: Person, reviewer: Person
) -> None:
    data = editor_data(signer, then="submit", reviewer_1=str(reviewer.pk))
    response = client_for(clerk).post("/letters/new/?type=external", data)
    letter = Letter.objects.get()
    assert response.status_code == 302 and letter.status == LetterStatus.IN_REVIEW
    assert letter.signer_id == signer.pk
    assert [s.reviewer_id for s in letter.review_steps.all()] == [reviewer.pk]


def test_live_preview_renders_the_form_to_a_pdf_for_its_author_only(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    client = client_for(clerk)
    response = client.post("/letters/preview/", editor_data(signer, subject=""), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<iframe" in html and "ต้องระบุเรื่อง" in html
    src = re.search(r'src="(/letters/preview/[^"#]+\.pdf)', html)
    assert src is not None
    pdf = client.get(src.group(1))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline") and pdf.content.startswith(b"%PDF-")
    assert client_for(signer).get(src.group(1)).status_code == 404


# --- the letter page and its actions ---------------------------------------------------------------

def test_letter_page_and_pdf_for_the_author(agency: Organisation, clerk: Person) -> None:
    letter = draft(agency, clerk)
    client = client_for(clerk)
    page = client.get(f"/letters/{letter.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'src="/letters/{letter.pk}/pdf' in html and "ร่าง" in html and "สร้างร่าง" in html
    assert len(page.content) < 300_000
    pdf = client.get(f"/letters/{letter.pk}/pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf["Content-Disposition"].startswith("inline")
    assert pdf["X-Frame-Options"] == "SAMEORIGIN"


def test_review_return_needs_a_comment_and_approve_passes_it_on(
    agency: Organisation, clerk: Person, signer: Person, reviewer: Person
) -> None:
    letter = draft(agency, clerk)
    submit_for_review(letter, actor=clerk, reviewers=[reviewer], signer=signer)
    client = client_for(reviewer)
    page = client.get(f"/letters/{letter.pk}/").content.decode()
    assert f'action="/letters/{letter.pk}/approve/"' in page
    refused = client.post(f"/letters/{letter.pk}/return/", {"comment": ""})
    assert refused.status_code == 400 and "ต้องระบุสิ่งที่ต้องแก้ไข" in refused.content.decode()
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.IN_REVIEW
    not_yours = client_for(signer).post(f"/letters/{letter.pk}/approve/", {"comment": ""})
    assert not_yours.status_code == 403 and "ยังไม่ถึงลำดับการตรวจของท่าน" in not_yours.content.decode()
    approved = client.post(f"/letters/{letter.pk}/approve/", {"comment": "เห็นควรลงนาม"})
    assert approved.status_code == 302
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED
    assert "เห็นควรลงนาม" in client.get(f"/letters/{letter.pk}/").content.decode()


def test_sign_with_the_wrong_password_is_refused_in_thai_and_the_letter_stays_approved(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    letter = draft(agency, clerk)
    submit_for_review(letter, actor=clerk, reviewers=[], signer=signer)
    client = client_for(signer)
    page = client.get(f"/letters/{letter.pk}/").content.decode()
    assert 'value="typed"' in page and 'type="password"' in page
    wrong = client.post(f"/letters/{letter.pk}/sign/", {"password": "not-it"})
    assert wrong.status_code == 403
    assert "รหัสผ่านไม่ถูกต้อง ไม่สามารถลงนามได้" in wrong.content.decode()
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED
    english = client_for(signer, "en").post(f"/letters/{letter.pk}/sign/", {"password": "not-it"})
    assert "The password is wrong" in english.content.decode()
    not_signer = client_for(clerk).post(f"/letters/{letter.pk}/sign/", {"password": PASSWORD})
    assert not_signer.status_code == 403
    right = client.post(f"/letters/{letter.pk}/sign/", {"password": PASSWORD})
    assert right.status_code == 302
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.SIGNED
    assert "SHA-256" in client.get(f"/letters/{letter.pk}/").content.decode()


def test_clerk_numbers_and_sends_and_sees_each_recipients_status(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, other_clerk: Person
) -> None:
    letter = signed(draft(agency, clerk, to=[other_org]), author=clerk, signer=signer)
    refused = client_for(signer).post(f"/letters/{letter.pk}/number/")
    assert refused.status_code == 403 and LETTER_NOT_REGISTRY.message_th in refused.content.decode()
    client = client_for(clerk)
    assert client.post(f"/letters/{letter.pk}/send/").status_code == 409
    assert client.post(f"/letters/{letter.pk}/number/").status_code == 302
    letter.refresh_from_db()
    assert letter.status == LetterStatus.NUMBERED and letter.number.startswith("นร 0105/")
    assert client.post(f"/letters/{letter.pk}/send/").status_code == 302
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.SENT
    page = client.get(f"/letters/{letter.pk}/").content.decode()
    assert "จังหวัดนนทบุรี" in page and "ส่งถึงแล้ว" in page
    outbox = client.get("/outbox/").content.decode()
    assert letter.number in outbox and "ส่งถึงแล้ว" in outbox


def test_cancel_needs_a_reason_and_the_author_or_a_clerk(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    letter = draft(agency, clerk)
    submit_for_review(letter, actor=clerk, reviewers=[], signer=signer)
    assert client_for(signer).post(f"/letters/{letter.pk}/cancel/", {"cancel-reason": "ไม่ใช้"}).status_code == 403
    client = client_for(clerk)
    empty = client.post(f"/letters/{letter.pk}/cancel/", {"cancel-reason": ""})
    assert empty.status_code == 400 and "ต้องกรอกช่องนี้" in empty.content.decode()
    assert client.post(f"/letters/{letter.pk}/cancel/", {"cancel-reason": "ซ้ำกับฉบับอื่น"}).status_code == 302
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.CANCELLED
    assert "ซ้ำกับฉบับอื่น" in client.get(f"/letters/{letter.pk}/").content.decode()


def test_close_and_correct_a_sent_letter(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation
) -> None:
    letter = numbered(draft(agency, clerk, to=[other_org]), author=clerk, signer=signer, clerk=clerk)
    send_letter(letter, actor=clerk)
    client = client_for(clerk)
    corrected = client.post(f"/letters/{letter.pk}/correct/")
    correction = Letter.objects.get(supersedes=letter)
    assert corrected.status_code == 302 and corrected["Location"] == f"/letters/{correction.pk}/edit/"
    assert client.post(f"/letters/{letter.pk}/correct/").status_code == 409
    assert client.post(f"/letters/{letter.pk}/close/").status_code == 302
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.CLOSED
    assert client.post(f"/letters/{letter.pk}/close/").status_code == 409


# --- performance -----------------------------------------------------------------------------------

def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_work_and_outbox_queries_do_not_grow_with_the_rows(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, other_clerk: Person
) -> None:
    def one_more() -> None:
        letter = numbered(draft(agency, clerk, to=[other_org]), author=clerk, signer=signer, clerk=clerk)
        send_letter(letter, actor=clerk)
        signed(draft(agency, clerk), author=clerk, signer=signer)

    one_more()
    client = client_for(clerk)
    before = {path: _queries(client, path) for path in ("/work/", "/outbox/")}
    for _ in range(3):
        one_more()
    after = {path: _queries(client, path) for path in ("/work/", "/outbox/")}
    assert after == before
    assert Dispatch.objects.count() == 4


def test_editing_a_saved_draft_keeps_its_signer(agency: Organisation, clerk: Person, signer: Person,
                                                other_org: Organisation) -> None:
    """Issue 17, item 2: save a draft with a signer, edit it, save again: the signer stays chosen."""
    client = client_for(clerk)
    client.post("/letters/new/?type=external", editor_data(signer, to=[str(other_org.pk)]))
    letter = Letter.objects.get()
    assert letter.signer_id is None  # the person is set at submission; the draft names them in its content
    edit = client.get(f"/letters/{letter.pk}/edit/").content.decode()
    chooser = re.search(r'<select[^>]*name="signer_person"[^>]*>(.*?)</select>', edit, re.S)
    assert chooser is not None and f'<option value="{signer.pk}" selected>' in chooser.group(1)
    page = client.get(f"/letters/{letter.pk}/").content.decode()
    assert signer.display_name in page.split("ผู้ลงนาม", 1)[1][:400]
    # Saving again without touching the choice (the browser posts what is selected) keeps the signer.
    again = client.post(f"/letters/{letter.pk}/edit/", editor_data(signer, subject="เรื่องแก้ไข"))
    assert again.status_code == 302
    assert Letter.objects.get(pk=letter.pk).letter_content.signer.name == signer.display_name
