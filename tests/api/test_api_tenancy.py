"""Tenancy: every API route, called by people of another organisation against organisation A's objects.

The routes are read from the OpenAPI document, so a new endpoint is walked automatically; path ids,
organisation parameters and body ids are filled with real ids of A's letters, incoming letters,
assignments, register entries, organisation, people and tokens. Every call must answer 403 or 404
(routes that name no object of A answer for the caller alone), and no response may carry A's
subjects, letter numbers or people. The walk fails if any route of the document was not called.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from saraban.api.models import ApiToken
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import set_recipients, submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.directory.services import create_organisation
from saraban.exchange.services import send_letter
from saraban.inbox.models import Assignment, IncomingLetter
from saraban.inbox.services import AssignTo, PaperLetter, endorse, register_paper
from saraban.registers.models import RegisterEntry

from ..helpers import numbered
from . import Api, Side, example, side_a, side_b
from .test_api_inbox import blank_pdf

# Routes that name no object of another organisation: they answer for the caller alone.
CALLERS_OWN = {
    ("get", "/api/me"), ("get", "/api/work"), ("get", "/api/directory/organisations"),
    ("get", "/api/directory/my-organisations"), ("get", "/api/tokens"), ("post", "/api/tokens"),
    ("post", "/api/verify"),  # public: checks the uploaded PDF, stores and reveals nothing else
    ("get", "/api/search"),  # the caller's own results: the access rules of the letter pages apply inside
}


class World:
    """Organisation A with objects in many states, and what must never leak from it."""

    def __init__(self, a: Side) -> None:
        clerk, signer = a.people["clerk"], a.people["signer"]
        elsewhere = create_organisation(identifier="elsewhere", kind="sao", name_th="องค์การบริหารส่วนตำบลบางกร่าง",
                                        letter_code="นบ 72001")
        draft = create_letter(a.org, example(subject="ร่างลับเฉพาะของหน่วยงานเอ"), author=clerk)
        approved = create_letter(a.org, example(subject="เรื่องรอลงนามของหน่วยงานเอ"), author=clerk)
        submit_for_review(approved, actor=clerk, reviewers=[], signer=signer)
        sent = create_letter(a.org, example(subject="หนังสือส่งออกของหน่วยงานเอ"), author=clerk)
        set_recipients(sent, [elsewhere], [], actor=clerk)
        sent = numbered(sent, author=clerk, signer=signer, clerk=clerk)
        send_letter(sent, actor=clerk)
        sent.refresh_from_db()
        self.letters = [draft.pk, approved.pk, sent.pk]
        paper = register_paper(a.org, PaperLetter(
            sender_name="สำนักงานจังหวัดลับแล", letter_number="อต 0017/555", letter_date=None,
            subject="หนังสือรับกระดาษของหน่วยงานเอ",
        ), scans=[(blank_pdf(), "application/pdf")], actor=clerk)
        endorse(paper, actor=signer, instruction="ทราบ มอบ เจ้าหน้าที่ดำเนินการ", assign=[AssignTo(person=clerk)])
        self.incoming = list(IncomingLetter.objects.filter(organisation=a.org).values_list("pk", flat=True))
        self.assignments = list(Assignment.objects.filter(incoming__organisation=a.org).values_list("pk", flat=True))
        self.entries = list(RegisterEntry.objects.filter(book__organisation=a.org).values_list("pk", flat=True))
        self.tokens = list(ApiToken.objects.filter(owner__in=a.people.values()).values_list("pk", flat=True))
        assert self.letters and self.incoming and self.assignments and len(self.entries) >= 2 and self.tokens
        self.org, self.people = a.org, a.people
        secrets = set(Letter.objects.filter(organisation=a.org).values_list("subject", flat=True))
        secrets |= {n for n in Letter.objects.filter(organisation=a.org).values_list("number", flat=True) if n}
        secrets |= set(IncomingLetter.objects.filter(organisation=a.org).values_list("subject", flat=True))
        secrets |= {"อต 0017/555", "ทราบ มอบ เจ้าหน้าที่ดำเนินการ"}
        secrets |= {p.name_th for p in a.people.values()}
        self.secrets = secrets
        self.snapshot = self.state()

    def state(self) -> list[tuple[Any, ...]]:
        """What a refused call must leave as it was."""
        return [
            *Letter.objects.filter(organisation=self.org).order_by("pk").values_list(
                "pk", "status", "subject", "number"
            ),
            *IncomingLetter.objects.filter(organisation=self.org).order_by("pk").values_list("pk", "status"),
            *Assignment.objects.filter(incoming__organisation=self.org).order_by("pk").values_list("pk", "status"),
            *ApiToken.objects.filter(owner__in=self.people.values()).order_by("pk").values_list("pk", "revoked_at"),
        ]

    def path_ids(self, name: str) -> list[int]:
        """Real ids of A's objects for a path parameter."""
        return {
            "letter_id": self.letters, "incoming_id": self.incoming, "assignment_id": self.assignments,
            "entry_id": self.entries, "organisation_id": [self.org.pk], "token_id": self.tokens,
        }[name]

    def id_for(self, name: str) -> int:
        """An id of A for a body or query field."""
        if name in ("signer_id",):
            return self.people["signer"].pk
        if name in ("person_id", "reviewer_ids"):
            return self.people["reviewer"].pk
        return self.org.pk


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema:
        return _resolve(document, schema["allOf"][0])
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _resolve(document, options[0])
    return schema


ID_FIELDS = {"organisation_id", "owner_unit_id", "signer_id", "reviewer_ids", "unit_id", "person_id", "to", "cc",
             "assign"}


def sample(document: dict[str, Any], schema: dict[str, Any], name: str, world: World) -> Any:
    """A value for ``schema`` that names A's objects wherever it can."""
    schema = _resolve(document, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        wanted = set(schema.get("required", [])) | (set(props) & ID_FIELDS)
        if not props and name == "content":
            return {"subject": "x"}
        return {key: sample(document, props[key], key, world) for key in wanted}
    if kind == "array":
        return [sample(document, schema.get("items", {}), name, world)]
    if kind == "integer":
        return world.id_for(name)
    if kind == "string" and schema.get("format") == "date":
        return (dt.date.today() + dt.timedelta(days=3)).isoformat()
    if kind == "string" and schema.get("format") == "binary":
        return SimpleUploadedFile("scan.pdf", blank_pdf(), content_type="application/pdf")
    if kind == "boolean":
        return False
    return "x-Pass-1234" if name == "password" else "ข้อความทดสอบ"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the OpenAPI document."""
    return [
        (method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def call(api: Api, document: dict[str, Any], method: str, path: str, op: dict[str, Any], world: World,
         path_id: int | None) -> Any:
    """One call of ``op`` with A's ids in its path, its query and its body."""
    url = path
    query: dict[str, Any] = {}
    for param in op.get("parameters", []):
        if param["in"] == "path":
            assert path_id is not None
            url = url.replace("{" + param["name"] + "}", str(path_id))
        elif param["in"] == "query" and param["name"] == "organisation":
            query["organisation"] = world.org.pk
    client = api.client
    body = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in body:
        data = sample(document, body["multipart/form-data"]["schema"], "", world)
        return client.post(url, data=data)
    if "application/json" in body:
        payload = sample(document, body["application/json"]["schema"], "", world)
        return getattr(client, method)(url, data=json.dumps(payload), content_type="application/json")
    if method == "get":
        return client.get(url, data=query)
    return getattr(client, method)(url + ("?organisation=" + str(world.org.pk) if query else ""))


def assert_nothing_leaks(response: Any, world: World, where: str) -> None:
    text = response.content.decode("utf-8", errors="replace")
    if response["Content-Type"].startswith("application/json"):
        text += json.dumps(json.loads(response.content), ensure_ascii=False)  # escaped or not, it is seen
    leaked = [s for s in world.secrets if s and s in text]
    assert not leaked, f"{where} leaked {leaked}"


@pytest.mark.django_db
def test_every_route_refuses_another_organisations_objects(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    world = World(side_a(agency, clerk, signer))
    b = side_b()
    document = json.loads(Client().get("/api/openapi.json").content)
    ops = operations(document)
    assert len(ops) >= 30
    walked: set[tuple[str, str]] = set()
    for who in ("clerk", "executive", "officer"):
        api = b.apis[who]
        for method, path, op in ops:
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            ids: list[int | None] = list(world.path_ids(params[0])) if params else [None]
            for path_id in ids:
                response = call(api, document, method, path, op, world, path_id)
                where = f"{who} {method.upper()} {path} ({path_id})"
                assert response.status_code != 500, where
                if (method, path) in CALLERS_OWN:
                    assert response.status_code in (200, 201), where
                else:
                    assert response.status_code in (403, 404), f"{where}: {response.status_code} {response.content!r}"
                assert_nothing_leaks(response, world, where)
                walked.add((method, path))
            if method == "get" and not params:  # a list without parameters shows only the caller's own
                response = api.client.get(path)
                assert response.status_code == 200, f"{who} GET {path}"
                assert_nothing_leaks(response, world, f"{who} GET {path} (no parameters)")
    assert walked == {(m, p) for m, p, _ in ops}, "some routes were not walked"
    assert not CALLERS_OWN - walked, "CALLERS_OWN names a route the API no longer has"
    assert world.state() == world.snapshot


@pytest.mark.django_db
def test_organisation_a_itself_can_reach_what_the_walk_refused(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    """The walk's ids are real: A's own clerk gets them (so a 404 above is the tenancy rule, not a typo)."""
    world = World(side_a(agency, clerk, signer))
    api = Api(None)
    api.client = Client()
    api.client.force_login(clerk)
    for letter_id in world.letters:
        assert api.client.get(f"/api/letters/{letter_id}").status_code == 200
    for incoming_id in world.incoming:
        assert api.client.get(f"/api/inbox/{incoming_id}").status_code == 200
    for entry_id in world.entries:
        assert api.client.get(f"/api/registers/entries/{entry_id}").status_code == 200
    assert api.client.get(f"/api/directory/organisations/{agency.pk}").status_code == 200
