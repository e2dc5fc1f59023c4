"""The API's letters: the whole round trip between two organisations with token clients, and the documents."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from saraban.access.policy import today
from saraban.correspondence.models import Letter, LetterStatus
from saraban.directory.models import Organisation, Person
from saraban.registers.models import RegisterEntry

from . import Side, example, side_a, side_b


@pytest.fixture
def a(agency: Organisation, clerk: Person, signer: Person) -> Side:
    return side_a(agency, clerk, signer)


@pytest.fixture
def b(db: None) -> Side:
    return side_b()


def ok(response: Any, status: int = 200) -> Any:
    """The JSON of a response that must have ``status``."""
    assert response.status_code == status, response.content.decode()
    return json.loads(response.content)


@pytest.mark.django_db
def test_the_whole_round_trip_between_two_organisations(a: Side, b: Side) -> None:
    clerk, reviewer, signer = a.apis["clerk"], a.apis["reviewer"], a.apis["signer"]

    # Organisation A drafts a letter, addressed to B.
    draft = ok(clerk.post("/letters", {"content": example(recipient="นายกเทศมนตรีนครนนทบุรี")}), 201)
    letter_id = draft["id"]
    assert draft["status"] == "draft" and draft["number"] == "" and draft["organisation_id"] == a.org.pk
    assert draft["content"]["issuer"]["letter_code"] == "นร 0105"
    changed = ok(clerk.patch(f"/letters/{letter_id}", {"content": {"closing": "ขอแสดงความนับถืออย่างสูง"}}))
    assert changed["content"]["closing"] == "ขอแสดงความนับถืออย่างสูง"
    ok(clerk.put(f"/letters/{letter_id}/recipients", {"to": [b.org.pk]}))
    assert ok(clerk.get("/letters", box="drafts"))["count"] == 1

    # Review, signature.
    submitted = ok(clerk.post(f"/letters/{letter_id}/submit", {
        "reviewer_ids": [a.people["reviewer"].pk], "signer_id": a.people["signer"].pk,
    }))
    assert submitted["status"] == "in_review" and submitted["recipients"][0]["organisation_id"] == b.org.pk
    queue = ok(reviewer.get("/work"))
    assert queue["counts"]["review"] == 1 and queue["review"][0]["id"] == letter_id
    assert ok(reviewer.post(f"/letters/{letter_id}/approve", {"comment": "เห็นควรลงนาม"}))["status"] == "approved"
    assert ok(signer.get("/letters", box="sign"))["items"][0]["id"] == letter_id
    signed = ok(signer.post(f"/letters/{letter_id}/sign", {"password": "x-Pass-1234"}))
    assert signed["letter"]["status"] == "signed"
    assert signed["letter"]["signatures"][0]["pdf_sha256"] == signed["pdf_sha256"]
    assert "x-Pass-1234" not in json.dumps(signed)

    # The registry numbers and sends it.
    numbered = ok(clerk.post(f"/letters/{letter_id}/number"))
    assert numbered["status"] == "numbered" and numbered["number"].startswith("นร 0105/")
    sent = ok(clerk.post(f"/letters/{letter_id}/send"))
    assert sent["status"] == "sent" and sent["dispatches"][0]["status"] == "delivered"
    pdf = clerk.get(f"/letters/{letter_id}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")

    # Organisation B receives, registers, endorses, acts, closes.
    b_clerk, executive, officer = b.apis["clerk"], b.apis["executive"], b.apis["officer"]
    inbox = ok(b_clerk.get("/inbox", status="delivered"))
    assert inbox["count"] == 1 and inbox["items"][0]["letter_number"] == numbered["number"]
    incoming_id = inbox["items"][0]["id"]
    assert ok(b_clerk.get("/work"))["counts"]["receive"] == 1
    ok(b_clerk.get(f"/inbox/{incoming_id}"))
    assert ok(clerk.get(f"/letters/{letter_id}"))["dispatches"][0]["status"] == "received"
    assert b_clerk.get(f"/inbox/{incoming_id}/stamped.pdf").status_code == 404  # not registered yet
    registered = ok(b_clerk.post(f"/inbox/{incoming_id}/register"))
    assert registered["status"] == "registered" and registered["receive_number"] == 1
    stamped = b_clerk.get(f"/inbox/{incoming_id}/stamped.pdf")
    original = b_clerk.get(f"/inbox/{incoming_id}/original.pdf")
    assert stamped.status_code == original.status_code == 200
    assert stamped.content.startswith(b"%PDF-") and stamped.content != original.content

    due = (today() + dt.timedelta(days=7)).isoformat()
    endorsed = ok(executive.post(f"/inbox/{incoming_id}/endorse", {
        "instruction": "ทราบ มอบ กองคลัง ดำเนินการ", "assign": [{"person_id": b.people["officer"].pk, "due_date": due}],
    }))
    assert endorsed["status"] == "assigned" and endorsed["due_date"] == due
    assignment = endorsed["endorsements"][0]["assignments"][0]
    assert ok(officer.get("/work"))["assignments"][0]["id"] == assignment["id"]
    done = ok(officer.post(f"/assignments/{assignment['id']}/complete", {"note": "ดำเนินการติดตั้งระบบแล้ว"}))
    assert done["status"] == "done"
    assert ok(b_clerk.post(f"/inbox/{incoming_id}/close"))["status"] == "closed"

    # The sender sees the receive number; the send register shows it (การปฏิบัติ).
    final = ok(clerk.get(f"/letters/{letter_id}"))
    assert final["dispatches"][0]["status"] == "registered" and final["dispatches"][0]["receive_number"] == "1"
    assert "ลงรับเลขที่ 1" in final["dispatch_summary"]
    assert ok(clerk.post(f"/letters/{letter_id}/close"))["status"] == "closed"
    entries = ok(clerk.get("/registers/entries", kind="send", q="e-Document"))
    assert entries["count"] == 1 and entries["items"][0]["letter_number"] == numbered["number"]
    assert "ลงรับเลขที่ 1" in entries["items"][0]["action"]
    assert ok(clerk.get(f"/registers/entries/{entries['items'][0]['id']}"))["letter_id"] == letter_id
    received = ok(b_clerk.get("/registers/entries", kind="receive"))
    assert received["items"][0]["letter_number"] == numbered["number"]
    csv = clerk.get("/registers/export", kind="send", format="csv")
    assert csv.status_code == 200 and numbered["number"] in csv.content.decode("utf-8-sig")
    assert Letter.objects.get(pk=letter_id).status == LetterStatus.CLOSED


@pytest.mark.django_db
def test_lists_filter_and_page(a: Side) -> None:
    clerk = a.apis["clerk"]
    for i in range(3):
        ok(clerk.post("/letters", {"content": example(subject=f"เรื่องทดสอบที่ {i}")}), 201)
    listed = ok(clerk.get("/letters", limit=2, offset=0))
    assert listed["count"] == 3 and len(listed["items"]) == 2
    assert ok(clerk.get("/letters", limit=2, offset=2))["items"][0]["subject"] == "เรื่องทดสอบที่ 0"
    assert ok(clerk.get("/letters", q="ที่ 1"))["count"] == 1
    assert ok(clerk.get("/letters", status="signed"))["count"] == 0
    assert ok(clerk.get("/letters", organisation=a.org.pk))["count"] == 3
    too_many = clerk.get("/letters", limit=201)
    assert too_many.status_code == 400 and json.loads(too_many.content)["problems"][0]["field"] == "limit"


@pytest.mark.django_db
def test_a_draft_pdf_is_rendered_on_the_fly(a: Side) -> None:
    clerk = a.apis["clerk"]
    letter_id = ok(clerk.post("/letters", {"content": example()}), 201)["id"]
    pdf = clerk.get(f"/letters/{letter_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert Letter.objects.get(pk=letter_id).pdf_id is None  # nothing stored for a read


@pytest.mark.django_db
def test_return_cancel_and_correction(a: Side) -> None:
    clerk, reviewer = a.apis["clerk"], a.apis["reviewer"]
    letter_id = ok(clerk.post("/letters", {"content": example()}), 201)["id"]
    ok(clerk.post(f"/letters/{letter_id}/submit", {
        "reviewer_ids": [a.people["reviewer"].pk], "signer_id": a.people["signer"].pk,
    }))
    returned = ok(reviewer.post(f"/letters/{letter_id}/return", {"comment": "แก้ไขย่อหน้าที่สอง"}))
    assert returned["status"] == "draft" and returned["returned_comment"] == "แก้ไขย่อหน้าที่สอง"
    assert [s["status"] for s in returned["review_steps"]] == ["returned"]
    cancelled = ok(clerk.post(f"/letters/{letter_id}/cancel", {"reason": "ไม่ต้องส่งแล้ว"}))
    assert cancelled["status"] == "cancelled"

    second = ok(clerk.post("/letters", {"content": example()}), 201)["id"]
    ok(clerk.post(f"/letters/{second}/submit", {"signer_id": a.people["signer"].pk}))
    ok(a.apis["signer"].post(f"/letters/{second}/sign", {"password": "x-Pass-1234"}))
    ok(clerk.post(f"/letters/{second}/number"))
    correction = ok(clerk.post(f"/letters/{second}/correction"), 201)
    assert correction["supersedes_id"] == second and correction["status"] == "draft"
    assert RegisterEntry.objects.filter(letter_id=second).count() == 1


@pytest.mark.django_db
def test_directory_and_people(a: Side, b: Side) -> None:
    clerk = a.apis["clerk"]
    public = ok(clerk.get("/directory/organisations", q="นนทบุรี"))
    assert {o["id"] for o in public["items"]} == {b.org.pk}
    assert set(public["items"][0]) == {"id", "identifier", "name_th", "name_en", "letter_code", "kind", "parent_id"}
    assert ok(clerk.get(f"/directory/organisations/{a.org.pk}"))["address"].startswith("ทำเนียบรัฐบาล")
    assert clerk.get(f"/directory/organisations/{b.org.pk}").status_code == 404
    assert {o["id"] for o in ok(clerk.get("/directory/my-organisations"))} == {a.org.pk}
    people = ok(clerk.get("/directory/people", role="signer"))
    assert [p["id"] for p in people["items"]] == [a.people["signer"].pk]
    everyone = ok(clerk.get("/directory/people"))
    assert b.people["clerk"].pk not in {p["id"] for p in everyone["items"]}
    me = ok(clerk.get("/me"))
    assert me["username"] == "clerk" and {r["role"] for r in me["roles"]} == {"central_clerk", "officer"}


@pytest.mark.django_db
def test_tokens_are_shown_once_and_can_be_revoked(a: Side) -> None:
    from . import Api

    clerk = a.apis["clerk"]
    created = ok(clerk.post("/tokens", {"name": "ระบบงานคลัง"}), 201)
    assert created["token"].startswith("srb_") and created["token"].startswith(created["prefix"])
    listed = ok(clerk.get("/tokens"))
    assert all("token" not in t for t in listed) and created["id"] in {t["id"] for t in listed}
    assert created["token"] not in json.dumps(listed)
    machine = Api(created["token"])
    assert ok(machine.get("/me"))["username"] == "clerk"
    ok(clerk.call("delete", f"/tokens/{created['id']}"))
    assert machine.get("/me").status_code == 401
    from saraban.api.models import ApiToken

    assert not ApiToken.objects.filter(key_sha256=created["token"]).exists()  # only the digest is stored


@pytest.mark.django_db
def test_the_management_command_prints_a_working_token(clerk: Person) -> None:
    import io

    from django.core.management import call_command

    from . import Api

    out = io.StringIO()
    call_command("api_token", "create", "--user", "clerk", "--name", "ETL", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip()
    assert ok(Api(token).get("/me"))["id"] == clerk.pk


@pytest.mark.django_db
def test_a_browser_session_works_and_writes_need_csrf(a: Side) -> None:
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(a.people["clerk"])
    assert browser.get("/api/me").status_code == 200
    refused = browser.post("/api/letters", data=json.dumps({"content": example()}), content_type="application/json")
    assert refused.status_code == 403 and json.loads(refused.content)["code"] == "auth.csrf_failed"
    assert Letter.objects.count() == 0
    from django.middleware.csrf import _get_new_csrf_string

    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    accepted = browser.post(
        "/api/letters", data=json.dumps({"content": example()}), content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert accepted.status_code == 201, accepted.content


@pytest.mark.django_db
def test_openapi_document_and_docs(a: Side) -> None:
    from django.test import Client

    schema = Client().get("/api/openapi.json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert document["info"]["title"] == "Saraban API"
    for path in ("/api/letters", "/api/letters/{letter_id}/sign", "/api/inbox/{incoming_id}/endorse",
                 "/api/registers/entries", "/api/directory/organisations", "/api/work"):
        assert path in document["paths"]
    assert Client().get("/api/docs").status_code == 200
