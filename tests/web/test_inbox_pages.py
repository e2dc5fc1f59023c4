"""The incoming pages: inbox, the incoming letter and its actions (register, return, endorse, act, close), paper."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from saraban.access.policy import today
from saraban.core.thai import thai_digits
from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person
from saraban.exchange.models import Dispatch, DispatchStatus
from saraban.exchange.services import send_letter
from saraban.inbox.models import Assignment, AssignmentStatus, IncomingLetter, IncomingStatus
from saraban.inbox.services import AssignTo, endorse, register
from tests.helpers import numbered
from tests.web import test_workflow_pages as workflow
from tests.web.test_workflow_pages import client_for, draft

pytestmark = pytest.mark.django_db
# The second organisation's fixtures, shared with the outgoing pages' tests.
other_org = workflow.other_org
other_unit = workflow.other_unit
other_clerk = workflow.other_clerk
other_signer = workflow.other_signer


def deliver(agency: Organisation, clerk: Person, signer: Person, to: Organisation, **changes: object) -> IncomingLetter:
    """Send a letter of ``agency`` to ``to``; its copy in ``to``'s inbox."""
    letter = numbered(draft(agency, clerk, to=[to], **changes), author=clerk, signer=signer, clerk=clerk)
    send_letter(letter, actor=clerk)
    return IncomingLetter.objects.get(dispatch__letter=letter, organisation=to)


def be(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year + 543}"


@pytest.fixture
def incoming(agency: Organisation, clerk: Person, signer: Person, other_org: Organisation) -> IncomingLetter:
    return deliver(agency, clerk, signer, other_org)


# --- tenancy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/inbox/", "/inbox/register/", "/inbox/1/", "/inbox/1/pdf"])
def test_pages_require_sign_in(path: str, agency: Organisation) -> None:
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_sender_cannot_open_the_recipients_copy(incoming: IncomingLetter, clerk: Person) -> None:
    client = client_for(clerk)  # the sending organisation's clerk
    for path in (f"/inbox/{incoming.pk}/", f"/inbox/{incoming.pk}/pdf", f"/inbox/{incoming.pk}/pdf?copy=original"):
        assert client.get(path).status_code == 404, path
    for action in ("register", "return", "endorse", "complete", "close"):
        assert client.post(f"/inbox/{incoming.pk}/{action}/", {"return-reason": "x"}).status_code == 404, action
    assert incoming.subject not in client.get("/inbox/").content.decode()
    assert IncomingLetter.objects.get(pk=incoming.pk).status == IncomingStatus.DELIVERED


# --- inbox and the incoming page -------------------------------------------------------------------

def test_inbox_lists_urgent_first_and_filters_by_status(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, other_clerk: Person
) -> None:
    deliver(agency, clerk, signer, other_org, subject="เรื่องธรรมดา")
    deliver(agency, clerk, signer, other_org, subject="เรื่องด่วนที่สุด", urgency="most_urgent")
    client = client_for(other_clerk)
    page = client.get("/inbox/").content.decode()
    assert page.index("เรื่องด่วนที่สุด") < page.index("เรื่องธรรมดา") and "ด่วนที่สุด" in page
    assert "เรื่องธรรมดา" not in client.get("/inbox/?status=registered").content.decode()
    assert "เรื่องธรรมดา" in client.get("/inbox/?status=delivered").content.decode()


def test_the_inbox_and_the_outbox_have_a_search_of_their_own(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, other_clerk: Person
) -> None:
    """Issue 17, item 5: หนังสือเข้า searches subject, sender, ที่ and เลขรับ; หนังสือออก subject, ที่ and
    recipients; Thai digits find Arabic ones."""
    budget = deliver(agency, clerk, signer, other_org, subject="ขอรับการสนับสนุนงบประมาณ")
    deliver(agency, clerk, signer, other_org, subject="ขอเชิญประชุมคณะทำงาน")
    inbox_page = client_for(other_clerk)

    def inbox_rows(**query: str) -> str:
        return inbox_page.get("/inbox/", {"status": "", **query}).content.decode().split("<tbody", 1)[-1]

    found = inbox_rows(q="งบประมาณ")
    assert "ขอรับการสนับสนุนงบประมาณ" in found and "ขอเชิญประชุมคณะทำงาน" not in found
    by_number = inbox_rows(q=thai_digits(budget.letter_number))  # printed in Thai digits, stored in Arabic
    assert "ขอรับการสนับสนุนงบประมาณ" in by_number and "ขอเชิญประชุมคณะทำงาน" not in by_number
    assert "ขอเชิญประชุมคณะทำงาน" in inbox_rows(q=agency.name_th[:12])  # the sender
    nothing = inbox_rows(q="ไม่มีเรื่องนี้")
    assert "ขอรับการสนับสนุนงบประมาณ" not in nothing and "ขอเชิญประชุมคณะทำงาน" not in nothing
    outbox = client_for(clerk)
    sent = outbox.get("/outbox/", {"q": "ประชุม"}).content.decode().split("<tbody", 1)[-1]
    assert "ขอเชิญประชุมคณะทำงาน" in sent and "ขอรับการสนับสนุนงบประมาณ" not in sent
    to_whom = outbox.get("/outbox/", {"q": other_org.name_th}).content.decode().split("<tbody", 1)[-1]
    assert "ขอเชิญประชุมคณะทำงาน" in to_whom and "ขอรับการสนับสนุนงบประมาณ" in to_whom


def test_opening_a_delivered_letter_as_a_clerk_tells_the_sender_it_was_received(
    incoming: IncomingLetter, other_clerk: Person, other_signer: Person
) -> None:
    client_for(other_signer).get(f"/inbox/{incoming.pk}/")
    assert Dispatch.objects.get().status == DispatchStatus.DELIVERED
    page = client_for(other_clerk).get(f"/inbox/{incoming.pk}/")
    assert page.status_code == 200 and len(page.content) < 300_000
    html = page.content.decode()
    assert f'action="/inbox/{incoming.pk}/register/"' in html and "autofocus" in html
    assert Dispatch.objects.get().status == DispatchStatus.RECEIVED


def test_register_stamps_a_copy_and_the_sender_sees_the_receive_number(
    incoming: IncomingLetter, other_clerk: Person, other_signer: Person, clerk: Person
) -> None:
    refused = client_for(other_signer).post(f"/inbox/{incoming.pk}/register/")
    assert refused.status_code == 403 and "เฉพาะเจ้าหน้าที่สารบรรณ" in refused.content.decode()
    client = client_for(other_clerk)
    assert client.post(f"/inbox/{incoming.pk}/register/").status_code == 302
    incoming.refresh_from_db()
    assert incoming.status == IncomingStatus.REGISTERED and incoming.receive_number == 1
    page = client.get(f"/inbox/{incoming.pk}/").content.decode()
    assert "เลขรับ" in page and "copy=stamped" in page
    stamped = client.get(f"/inbox/{incoming.pk}/pdf?copy=stamped")
    original = client.get(f"/inbox/{incoming.pk}/pdf?copy=original")
    assert stamped["Content-Type"] == original["Content-Type"] == "application/pdf"
    assert stamped["Content-Disposition"].startswith("inline") and stamped.content != original.content
    again = client.post(f"/inbox/{incoming.pk}/register/")
    assert again.status_code == 409 and "ลงรับไม่ได้" in again.content.decode()
    letter = Letter.objects.get(pk=incoming.dispatch.letter_id)  # type: ignore[union-attr]
    sender_page = client_for(clerk).get(f"/letters/{letter.pk}/").content.decode()
    assert "ลงรับแล้ว" in sender_page


def test_return_to_sender_needs_a_reason(incoming: IncomingLetter, other_clerk: Person, clerk: Person) -> None:
    client = client_for(other_clerk)
    empty = client.post(f"/inbox/{incoming.pk}/return/", {"return-reason": ""})
    assert empty.status_code == 400 and "ต้องกรอกช่องนี้" in empty.content.decode()
    assert client.post(f"/inbox/{incoming.pk}/return/", {"return-reason": "ส่งผิดหน่วยงาน"}).status_code == 302
    assert IncomingLetter.objects.get(pk=incoming.pk).status == IncomingStatus.RETURNED
    outbox = client_for(clerk).get("/outbox/").content.decode()
    assert "ส่งคืน" in outbox and "ส่งผิดหน่วยงาน" in outbox


def test_endorse_assign_act_and_close(
    incoming: IncomingLetter, other_clerk: Person, other_signer: Person, other_unit: Organisation
) -> None:
    register(incoming, actor=other_clerk)
    executive = client_for(other_signer)
    page = executive.get(f"/inbox/{incoming.pk}/").content.decode()
    assert 'data-insert="ทราบ"' in page and "มอบ … ดำเนินการ" in page and other_unit.name_th in page
    refused = client_for(other_clerk).post(f"/inbox/{incoming.pk}/endorse/", {"instruction": "ทราบ"})
    assert refused.status_code == 403
    bad_date = executive.post(f"/inbox/{incoming.pk}/endorse/", {
        "instruction": "มอบ กองคลัง ดำเนินการ", "assign_1": f"u{other_unit.pk}", "due_1": "31/2/2569"})
    assert bad_date.status_code == 400 and "ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ." in bad_date.content.decode()
    past = executive.post(f"/inbox/{incoming.pk}/endorse/", {
        "instruction": "มอบ กองคลัง ดำเนินการ", "assign_1": f"u{other_unit.pk}",
        "due_1": be(today() - dt.timedelta(days=3))})
    assert past.status_code == 422 and "วันครบกำหนดต้องไม่ใช่วันที่ผ่านมาแล้ว" in past.content.decode()
    due = today() + dt.timedelta(days=7)
    done = executive.post(f"/inbox/{incoming.pk}/endorse/", {
        "instruction": "มอบ กองคลัง ดำเนินการ", "assign_1": f"p{other_clerk.pk}", "due_1": be(due)})
    assert done.status_code == 302
    incoming.refresh_from_db()
    assert incoming.status == IncomingStatus.ASSIGNED and incoming.due_date == due
    assignment = Assignment.objects.get()
    assert executive.post(f"/inbox/{incoming.pk}/close/").status_code == 409
    worker = client_for(other_clerk)
    assert "งานที่ได้รับมอบหมาย" in worker.get("/work/").content.decode()
    empty = worker.post(f"/inbox/{incoming.pk}/complete/", {"assignment": assignment.pk, "complete-note": ""})
    assert empty.status_code == 400
    acted = worker.post(f"/inbox/{incoming.pk}/complete/", {"assignment": assignment.pk,
                                                            "complete-note": "จัดประชุมแล้ว"})
    assert acted.status_code == 302
    assert Assignment.objects.get().status == AssignmentStatus.DONE
    assert worker.post(f"/inbox/{incoming.pk}/close/").status_code == 302
    assert IncomingLetter.objects.get(pk=incoming.pk).status == IncomingStatus.CLOSED


def test_overdue_assignments_are_flagged_in_words(
    incoming: IncomingLetter, other_clerk: Person, other_signer: Person
) -> None:
    register(incoming, actor=other_clerk)
    endorse(incoming, actor=other_signer, instruction="ดำเนินการ",
            assign=[AssignTo(person=other_clerk, due_date=today() + dt.timedelta(days=1))])
    Assignment.objects.update(due_date=today() - dt.timedelta(days=2))  # time has passed
    IncomingLetter.objects.filter(pk=incoming.pk).update(due_date=today() - dt.timedelta(days=2))
    client = client_for(other_clerk)
    for path in ("/work/", "/inbox/", f"/inbox/{incoming.pk}/"):
        assert "เกินกำหนด" in client.get(path).content.decode(), path


# --- paper letters ---------------------------------------------------------------------------------

def _pdf() -> bytes:
    from saraban.regulation.content import LetterContent
    from saraban.rendering.letters import render_letter

    return render_letter(LetterContent.model_validate({"type": "external", "subject": "สแกน", "body": ["ข้อความ"]}))


def _png() -> bytes:
    import zlib

    raw = b"\x00\xff\xff\xff" * 1  # one white pixel, filter byte 0
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = (1).to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_register_a_paper_letter_then_the_next_one(other_org: Organisation, other_clerk: Person) -> None:
    client = client_for(other_clerk)
    form = client.get("/inbox/register/").content.decode()
    assert "autofocus" in form and 'enctype="multipart/form-data"' in form
    data = {"sender_name": "กรมบัญชีกลาง", "letter_number": "กค 0402/123", "letter_date": "20/11/2569",
            "subject": "ขอเชิญประชุม", "addressed_to": "ผู้ว่าราชการจังหวัดนนทบุรี", "urgency": "urgent",
            "secrecy": "normal", "scan": SimpleUploadedFile("scan.pdf", _pdf(), "application/pdf")}
    response = client.post("/inbox/register/", data)
    assert response.status_code == 302, re.findall(r'field-error[^>]*>([^<]+)', response.content.decode())
    incoming = IncomingLetter.objects.get()
    assert response["Location"] == f"/inbox/register/?done={incoming.pk}"
    assert incoming.letter_date == dt.date(2026, 11, 20) and incoming.status == IncomingStatus.REGISTERED
    done = client.get(response["Location"]).content.decode()
    assert "ลงรับฉบับต่อไป" in done and f'<span class="big">{incoming.receive_number}</span>' in done
    assert 'name="sender_name"' in done
    pages = [SimpleUploadedFile(f"p{i}.png", _png(), "image/png") for i in (1, 2)]
    # The next letter (another number and subject: the same one again is warned of, see test_paper_duplicates)
    second = client.post("/inbox/register/", {**data, "letter_number": "กค 0402/124", "subject": "ขอเชิญประชุม ครั้งที่ 2",
                                              "scan": pages})
    assert second.status_code == 302 and IncomingLetter.objects.count() == 2


def test_paper_registration_problems_are_shown_next_to_the_fields(
    other_org: Organisation, other_clerk: Person, other_signer: Person
) -> None:
    client = client_for(other_clerk)
    missing = client.post("/inbox/register/", {"sender_name": "", "subject": "", "letter_date": "2026-11-20",
                                               "urgency": "normal", "secrecy": "normal"})
    assert missing.status_code == 400 and "ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ." in missing.content.decode()
    no_scan = client.post("/inbox/register/", {"sender_name": "กรมบัญชีกลาง", "subject": "เรื่อง",
                                               "urgency": "normal", "secrecy": "normal"})
    html = no_scan.content.decode()
    assert no_scan.status_code == 400 and "ต้องแนบไฟล์สแกนหนังสือ" in html
    wrong = client.post("/inbox/register/", {"sender_name": "ก", "subject": "ข", "urgency": "normal",
                                             "secrecy": "normal",
                                             "scan": SimpleUploadedFile("a.txt", b"hello", "text/plain")})
    assert wrong.status_code == 422 and "PDF" in wrong.content.decode()  # what the file is: a rule
    english = client_for(other_clerk, "en").post("/inbox/register/", {
        "sender_name": "", "subject": "", "urgency": "normal", "secrecy": "normal",
        "scan": SimpleUploadedFile("scan.pdf", io.BytesIO(_pdf()).read(), "application/pdf")})
    assert "The sender is required" in english.content.decode()
    not_clerk = client_for(other_signer).post("/inbox/register/", {
        "sender_name": "ก", "subject": "ข", "urgency": "normal", "secrecy": "normal",
        "scan": SimpleUploadedFile("scan.pdf", _pdf(), "application/pdf")})
    assert not_clerk.status_code == 403
    assert not IncomingLetter.objects.exists()


# --- performance -----------------------------------------------------------------------------------

def test_inbox_and_work_queries_do_not_grow_with_the_rows(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, other_clerk: Person,
    other_signer: Person,
) -> None:
    def one_more() -> None:
        received = deliver(agency, clerk, signer, other_org)
        register(received, actor=other_clerk)
        endorse(received, actor=other_signer, instruction="ดำเนินการ", assign=[AssignTo(person=other_clerk)])
        deliver(agency, clerk, signer, other_org)

    def count(client: Client, path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured.captured_queries)

    one_more()
    client = client_for(other_clerk)
    before = {p: count(client, p) for p in ("/inbox/", "/work/", "/inbox/?status=all")}
    for _ in range(3):
        one_more()
    assert {p: count(client, p) for p in ("/inbox/", "/work/", "/inbox/?status=all")} == before
