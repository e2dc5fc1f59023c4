"""Tests of the REST API, and what they share: two organisations with their people and tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.test import Client

from saraban.api.auth import issue_token
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "letters"
PASSWORD = "x-Pass-1234"


def example(name: str = "external", **changes: object) -> dict[str, Any]:
    """An example letter's content without its number, date and issuer (filled by the system)."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    data.pop("number", None)
    data.pop("date", None)
    data["issuer"] = {}
    return {**data, **changes}


class Api:
    """A client that calls the API as one person through a bearer token."""

    def __init__(self, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers)

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """One request; JSON bodies are encoded here."""
        url = path if path.startswith("/api/") else f"/api{path}"
        fn = getattr(self.client, method.lower())
        if method.lower() == "get":
            return fn(url, **kwargs)
        if body is not None and "content_type" not in kwargs:
            return fn(url, data=json.dumps(body), content_type="application/json", **kwargs)
        if body is not None:
            return fn(url, data=body, **kwargs)
        return fn(url, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        """GET with ``params`` as the query string."""
        return self.call("get", path, data=params)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("post", path, body if body is not None else {}, **kwargs)

    def put(self, path: str, body: Any = None) -> Any:
        return self.call("put", path, body if body is not None else {})

    def patch(self, path: str, body: Any = None) -> Any:
        return self.call("patch", path, body if body is not None else {})


@dataclass
class Side:
    """One organisation and its people, each with an API client."""

    org: Organisation
    unit: Organisation | None = None
    people: dict[str, Person] = field(default_factory=dict)
    apis: dict[str, Api] = field(default_factory=dict)


def person_with_token(username: str, name_th: str) -> tuple[Person, Api]:
    """A person with the test password and an API client of their own."""
    person = create_person(username=username, name_th=name_th, password=PASSWORD)
    _row, token = issue_token(person, "tests")
    return person, Api(token)


def side_a(agency: Organisation, clerk: Person, signer: Person) -> Side:
    """Organisation A (the conftest's agency): clerk, reviewer, signer."""
    side = Side(agency)
    for key, person in (("clerk", clerk), ("signer", signer)):
        _row, token = issue_token(person, "tests")
        side.people[key], side.apis[key] = person, Api(token)
    reviewer, api = person_with_token("reviewer-a", "นางวิไล ตรวจดี")
    assign_role(reviewer, agency, "reviewer", position_title="ผู้อำนวยการกอง")
    side.people["reviewer"], side.apis["reviewer"] = reviewer, api
    return side


def side_b() -> Side:
    """Organisation B, a municipality with a finance division: clerk, executive, an officer of the division."""
    org = create_organisation(
        identifier="nonthaburi-city", kind="municipality", name_th="เทศบาลนครนนทบุรี", name_en="Nonthaburi City",
        letter_code="นบ 52001", address="ถนนรัตนาธิเบศร์ อำเภอเมืองนนทบุรี จังหวัดนนทบุรี 11000", phone="0 2589 0500",
        category="lao",
    )
    unit = create_organisation(
        identifier="nonthaburi-city-finance", parent=org, kind="division", name_th="กองคลัง", letter_code="นบ 52001.3",
    )
    side = Side(org, unit)
    clerk, api = person_with_token("clerk-b", "นางสาวบุษบา รับหนังสือ")
    assign_role(clerk, org, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    assign_role(clerk, org, "officer", position_title="เจ้าพนักงานธุรการ")
    side.people["clerk"], side.apis["clerk"] = clerk, api
    executive, api = person_with_token("mayor-b", "นายสมศักดิ์ นำเมือง")
    assign_role(executive, org, "signer", position_title="นายกเทศมนตรีนครนนทบุรี")
    side.people["executive"], side.apis["executive"] = executive, api
    officer, api = person_with_token("officer-b", "นายปรีชา ทำงานดี")
    assign_role(officer, unit, "officer", position_title="นักวิชาการเงินและบัญชี")
    side.people["officer"], side.apis["officer"] = officer, api
    return side
