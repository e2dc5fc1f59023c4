"""The API's inbox: paper registration, returning to the sender, unit assignments, refusals."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter

from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import set_recipients
from saraban.directory.models import Organisation, Person
from saraban.exchange.models import Dispatch
from saraban.exchange.services import send_letter
from saraban.inbox.models import IncomingLetter

from ..helpers import numbered
from . import Side, example, side_a, side_b


@pytest.fixture
def a(agency: Organisation, clerk: Person, signer: Person) -> Side:
    return side_a(agency, clerk, signer)


@pytest.fixture
def b(db: None) -> Side:
    return side_b()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content.decode()
    return json.loads(response.content)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def delivered(a: Side, b: Side, subject: str = "ขอเชิญประชุมคณะทำงาน") -> IncomingLetter:
    """A letter of A sent to B through the services; B's incoming copy."""
    letter = create_letter(a.org, example(subject=subject), author=a.people["clerk"])
    set_recipients(letter, [b.org], [], actor=a.people["clerk"])
    letter = numbered(letter, author=a.people["clerk"], signer=a.people["signer"], clerk=a.people["clerk"])
    send_letter(letter, actor=a.people["clerk"])
    return IncomingLetter.objects.get(dispatch__letter=letter)


@pytest.mark.django_db
def test_a_paper_letter_is_registered_from_its_scan(b: Side) -> None:
    response = b.apis["clerk"].client.post("/api/inbox/paper", data={
        "sender_name": "สำนักงานจังหวัดนนทบุรี", "letter_number": "นบ 0017/1234", "letter_date": "2026-11-20",
        "subject": "ขอความอนุเคราะห์ข้อมูลผู้สูงอายุ", "urgency": "urgent",
        "scans": [SimpleUploadedFile("scan.pdf", blank_pdf(), content_type="application/pdf")],
    })
    incoming = ok(response, 201)
    assert incoming["source"] == "paper" and incoming["status"] == "registered" and incoming["receive_number"] == 1
    assert incoming["letter_date"] == "2026-11-20" and incoming["urgency"] == "urgent"
    stamped = b.apis["clerk"].get(f"/inbox/{incoming['id']}/stamped.pdf")
    assert stamped.status_code == 200 and stamped.content.startswith(b"%PDF-")
    listed = ok(b.apis["clerk"].get("/inbox", status="registered"))
    assert [x["id"] for x in listed["items"]] == [incoming["id"]]
    assert ok(b.apis["clerk"].get("/inbox", status="delivered"))["count"] == 0
    entries = ok(b.apis["clerk"].get("/registers/entries", kind="receive", q="ผู้สูงอายุ"))
    assert entries["items"][0]["letter_number"] == "นบ 0017/1234"


@pytest.mark.django_db
def test_a_delivered_letter_can_be_returned_to_its_sender(a: Side, b: Side) -> None:
    incoming = delivered(a, b)
    error = b.apis["clerk"].post(f"/inbox/{incoming.pk}/return", {"reason": "  "})
    assert error.status_code == 400 and json.loads(error.content)["problems"][0]["field"] == "reason"
    returned = ok(b.apis["clerk"].post(f"/inbox/{incoming.pk}/return", {"reason": "ส่งผิดหน่วยงาน"}))
    assert returned["status"] == "returned" and returned["returned_reason"] == "ส่งผิดหน่วยงาน"
    dispatch = Dispatch.objects.get(incoming__pk=incoming.pk)
    letter = ok(a.apis["clerk"].get(f"/letters/{dispatch.letter_id}"))
    assert letter["dispatches"][0]["status"] == "returned" and "ส่งผิดหน่วยงาน" in letter["dispatch_summary"]
    assert b.apis["clerk"].post(f"/inbox/{incoming.pk}/register").status_code == 409


@pytest.mark.django_db
def test_a_unit_assignment_is_acted_on_by_the_unit(a: Side, b: Side) -> None:
    incoming = delivered(a, b)
    clerk, executive, officer = b.apis["clerk"], b.apis["executive"], b.apis["officer"]
    ok(clerk.post(f"/inbox/{incoming.pk}/register"))
    refused = clerk.post(f"/inbox/{incoming.pk}/endorse", {"instruction": "ทราบ"})
    assert refused.status_code == 403 and json.loads(refused.content)["code"] == "incoming.not_executive"
    assert b.unit is not None
    outside = executive.post(
        f"/inbox/{incoming.pk}/endorse", {"instruction": "ทราบ", "assign": [{"unit_id": a.org.pk}]}
    )
    # a unit outside the receiver is one that is not there: 404, naming the field
    assert outside.status_code == 404 and json.loads(outside.content)["problems"][0]["field"] == "assign.0.unit_id"
    endorsed = ok(executive.post(f"/inbox/{incoming.pk}/endorse", {
        "instruction": "มอบ กองคลัง ดำเนินการ", "assign": [{"unit_id": b.unit.pk}],
    }))
    assignment_id = endorsed["endorsements"][0]["assignments"][0]["id"]
    assert endorsed["endorsements"][0]["assignments"][0]["unit_name"] == "กองคลัง"
    open_ = clerk.post(f"/inbox/{incoming.pk}/close")
    assert open_.status_code == 409 and json.loads(open_.content)["code"] == "incoming.open_assignments"
    assert ok(officer.get("/work"))["counts"]["assignments"] == 1
    ok(officer.post(f"/assignments/{assignment_id}/complete", {"note": "จัดทำข้อมูลส่งแล้ว"}))
    again = officer.post(f"/assignments/{assignment_id}/complete", {"note": "อีกครั้ง"})
    assert again.status_code == 409
    assert ok(clerk.get(f"/inbox/{incoming.pk}"))["status"] == "acted"
    assert ok(clerk.post(f"/inbox/{incoming.pk}/close"))["status"] == "closed"


@pytest.mark.django_db
def test_a_past_due_date_is_refused_and_nothing_is_saved(a: Side, b: Side) -> None:
    incoming = delivered(a, b)
    ok(b.apis["clerk"].post(f"/inbox/{incoming.pk}/register"))
    response = b.apis["executive"].post(f"/inbox/{incoming.pk}/endorse", {
        "instruction": "ทราบ", "assign": [{"person_id": b.people["officer"].pk, "due_date": "2001-01-01"}],
    })
    assert response.status_code == 422  # a rule no schema can state (today moves)
    assert json.loads(response.content)["problems"][0]["field"] == "assign.0.due_date"
    stored = IncomingLetter.objects.get(pk=incoming.pk)
    assert stored.status == "registered" and not stored.endorsements.exists() and not stored.assignments.exists()
