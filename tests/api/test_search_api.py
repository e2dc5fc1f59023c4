"""GET /api/search: the search page's results as JSON, for the caller alone; bounds and errors in the schema."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, get_args

import pytest
from django.test import Client

from saraban.access.services import grant_secrecy
from saraban.api.main import api
from saraban.api.routers.search import SearchStatus, SearchType
from saraban.correspondence.models import Letter, LetterStatus
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role
from saraban.inbox.models import IncomingSource, IncomingStatus
from saraban.inbox.services import PaperLetter, register_paper
from saraban.regulation.kinds import LetterType
from saraban.search.indexing import index_object
from tests.web.test_workflow_pages import draft

from . import Api, Side, person_with_token, side_a, side_b
from .test_api_inbox import blank_pdf
from .test_api_openapi import conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(agency: Organisation, clerk: Person, signer: Person) -> Side:
    return side_a(agency, clerk, signer)


@pytest.fixture
def doc() -> dict[str, Any]:
    published: dict[str, Any] = json.loads(Client().get("/api/openapi.json").content)
    return published


def letter(org: Organisation, author: Person, **changes: Any) -> Letter:
    made = draft(org, author, **changes)
    index_object("out", made.pk)
    return made


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content.decode()
    body: dict[str, Any] = response.json()
    return body


def error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message_th", "message_en", "problems"}
    return body


def test_the_results_as_json(a: Side, doc: dict[str, Any]) -> None:
    clerk = a.people["clerk"]
    out = letter(a.org, clerk, subject="ขอเชิญประชุมเรื่องระบบสารบรรณ", urgency="urgent",
                 body=["ขอเชิญประชุมหารือการใช้ระบบสารบรรณอิเล็กทรอนิกส์"])
    Letter.objects.filter(pk=out.pk).update(number="นร 0105/9", date=dt.date(2026, 3, 5))
    index_object("out", out.pk)
    incoming = register_paper(a.org, PaperLetter(
        sender_name="จังหวัดนนทบุรี", letter_number="นบ 0017/5", letter_date=dt.date(2026, 2, 1),
        subject="ตอบเรื่องระบบสารบรรณ"), scans=[(blank_pdf(), "application/pdf")], actor=clerk)
    index_object("in", incoming.pk)
    body = conforms(a.apis["clerk"].get("/search", q="สารบรรณ"), doc, "get", "/api/search")
    assert body["page"] == 1 and body["has_more"] is False and body["narrow"] is False
    first, second = body["results"]
    assert first == {
        "kind": "in", "id": incoming.pk, "url": f"/inbox/{incoming.pk}/", "number": "นบ 0017/5",
        "subject": "ตอบเรื่องระบบสารบรรณ", "date": "2026-02-01", "parties": "จังหวัดนนทบุรี", "urgency": "normal",
        "status": IncomingStatus.REGISTERED.value, "passage": first["passage"],
    }
    assert second["kind"] == "out" and second["id"] == out.pk and second["url"] == f"/letters/{out.pk}/"
    assert second["number"] == "นร 0105/9" and second["date"] == "2026-03-05"
    assert second["urgency"] == "urgent" and second["status"] == LetterStatus.DRAFT.value
    assert set(second["passage"]) == {"before", "hit", "after"} and second["passage"]["hit"] == "สารบรรณ"
    relevance = ok(a.apis["clerk"].get("/search", q="ขอเชิญประชุม", sort="relevance"))
    assert [r["id"] for r in relevance["results"]] == [out.pk]


def test_paging_and_filters(a: Side) -> None:
    clerk = a.people["clerk"]
    made = [letter(a.org, clerk, subject=f"คำสั่งแต่งตั้งคณะกรรมการชุดที่ {i}") for i in range(22)]
    memo = letter(a.org, clerk, type="internal", subject="คำสั่งแต่งตั้งภายใน", owner_unit="กองคลัง",
                  urgency="most_urgent")
    Letter.objects.filter(pk=memo.pk).update(date=dt.date(2026, 1, 5))
    index_object("out", memo.pk)
    api_ = a.apis["clerk"]
    first = ok(api_.get("/search", q="คำสั่งแต่งตั้ง"))
    assert len(first["results"]) == 20 and first["has_more"] and first["results"][0]["id"] == memo.pk
    second = ok(api_.get("/search", q="คำสั่งแต่งตั้ง", page=2))
    assert second["page"] == 2 and not second["has_more"]
    assert [r["id"] for r in second["results"]] == [x.pk for x in made[::-1][19:]]

    def found(**filters: Any) -> list[int]:
        return [r["id"] for r in ok(api_.get("/search", q="คำสั่งแต่งตั้ง", **filters))["results"]]

    assert found(type="internal") == [memo.pk]
    assert found(urgency="most_urgent") == [memo.pk]
    assert found(unit="กองคลัง") == [memo.pk]
    assert found(date_from="2026-01-01", date_to="2026-01-31") == [memo.pk]
    assert found(kind="in") == [] and found(status="sent") == [] and found(has_attachment="true") == []
    assert len(found(kind="out", status="draft", has_attachment="false")) == 20


def test_an_empty_search_finds_nothing(a: Side) -> None:
    letter(a.org, a.people["clerk"], subject="ขอเชิญประชุม")
    assert ok(a.apis["clerk"].get("/search")) == {"page": 1, "has_more": False, "narrow": False, "results": []}
    assert ok(a.apis["clerk"].get("/search", q="   "))["results"] == []


def test_bad_searches_and_dates_are_refused_with_the_bilingual_body(a: Side) -> None:
    """400 for what the document forbids; 422 for a range that ends before it starts (no schema says so)."""
    api_ = a.apis["clerk"]
    too_long = error(api_.get("/search", q="ก" * 501))
    assert too_long["code"] == "validation_failed"
    assert [(p["field"], p["code"]) for p in too_long["problems"]] == [("q", "schema.string_too_long")]
    assert too_long["problems"][0]["message_th"] and too_long["problems"][0]["message_en"]
    assert ok(api_.get("/search", q="ก" * 500))["results"] == []  # the limit itself is fine
    wordy = error(api_.get("/search", q=" ".join(["คำ"] * 11)))
    assert [(p["field"], p["code"]) for p in wordy["problems"]] == [("q", "too_many")]
    assert "10" in wordy["problems"][0]["message_th"]
    for bad in ("1/1/2569", "2026-13-01", "2026-02-30", "เมื่อวาน"):
        body = error(api_.get("/search", q="ประชุม", date_from=bad))
        assert [p["field"] for p in body["problems"]] == ["date_from"], bad
        assert "YYYY-MM-DD" in body["problems"][0]["message_th"], bad
    reversed_range = error(api_.get("/search", q="ประชุม", date_from="2026-03-01", date_to="2026-02-01"), 422)
    assert [(p["field"], p["code"]) for p in reversed_range["problems"]] == [("date_to", "before_start")]
    for name, value in (("kind", "all"), ("sort", "oldest"), ("type", "memo"), ("status", "lost"),
                        ("urgency", "soon"), ("page", "0"), ("page", "251"), ("has_attachment", "maybe")):
        body = error(api_.get("/search", q="ประชุม", **{name: value}))
        assert body["problems"][0]["field"] == name, (name, value)


def test_the_limits_are_in_the_openapi_document() -> None:
    operation = api.get_openapi_schema()["paths"]["/api/search"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert set(parameters) == {"q", "page", "sort", "date_from", "date_to", "kind", "type", "status", "urgency",
                               "unit", "has_attachment"}
    assert parameters["q"]["maxLength"] == 500 and parameters["unit"]["maxLength"] == 255
    assert (parameters["page"]["minimum"], parameters["page"]["maximum"]) == (1, 250)
    assert {400, 401} <= set(operation["responses"])
    # The declared choices are the models' own.
    assert set(get_args(SearchType)) == {t.value for t in LetterType} | {f"incoming_{s.value}" for s in IncomingSource}
    assert set(get_args(SearchStatus)) == set(LetterStatus.values) | set(IncomingStatus.values)


def test_401_without_a_token_and_a_session_works(a: Side) -> None:
    response = Client().get("/api/search", {"q": "ประชุม"})
    body = error(response, 401)
    assert body["code"] == "auth.required" and response["WWW-Authenticate"] == "Bearer"
    assert error(Api("srb_not-a-token").get("/search", q="ประชุม"), 401)["code"] == "auth.required"
    letter(a.org, a.people["clerk"], subject="ขอเชิญประชุม")
    browser = Client()
    browser.force_login(a.people["clerk"])
    assert len(browser.get("/api/search", {"q": "ประชุม"}).json()["results"]) == 1


def test_another_organisations_letters_never_appear(a: Side) -> None:
    b = side_b()
    mine = letter(a.org, a.people["clerk"], subject="งบประมาณโครงการนำร่องพิเศษ")
    theirs = letter(b.org, b.people["clerk"], subject="งบประมาณของเทศบาลลับเฉพาะ")
    body = ok(a.apis["clerk"].get("/search", q="งบประมาณ"))
    assert [r["id"] for r in body["results"]] == [mine.pk]
    assert "เทศบาล" not in json.dumps(body, ensure_ascii=False)
    assert [r["id"] for r in ok(b.apis["clerk"].get("/search", q="งบประมาณ"))["results"]] == [theirs.pk]
    assert ok(b.apis["clerk"].get("/search", q="โครงการนำร่องพิเศษ"))["results"] == []


def test_a_classified_letter_only_with_a_grant(a: Side) -> None:
    secret = letter(a.org, a.people["clerk"], subject="งบประมาณลับของสำนักงาน", secrecy="confidential")
    plain = letter(a.org, a.people["clerk"], subject="งบประมาณทั่วไปของสำนักงาน")
    colleague, api_ = person_with_token("colleague", "นางสาวร่วมงาน ดี")
    assign_role(colleague, a.org, "central_clerk")
    body = ok(api_.get("/search", q="งบประมาณ"))
    assert [r["id"] for r in body["results"]] == [plain.pk] and "ลับ" not in json.dumps(body, ensure_ascii=False)
    grant_secrecy(colleague, a.org, "confidential", actor=None)
    assert [r["id"] for r in ok(api_.get("/search", q="งบประมาณ"))["results"]] == [plain.pk, secret.pk]
