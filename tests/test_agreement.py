"""The page, the service and the API agree, for every action × role × organisation × secrecy.

For each action on a letter in the state the action is for, and each person (a role in the letter's
organisation, a unit below it, the ministry above it, or another organisation; with or without a
secrecy grant), three answers must be one:
- what the page offers (a form or link for the action on the letter's page; nothing on a 404),
- what the service does (done, or refused with a code),
- what the API answers (2xx, or the same code with the status of the refusal's class).

The world is built once for the module and every probe runs in a savepoint that is rolled back, so
the 600-odd cases take seconds. Letters are laid out by a stub (one blank page): rendering is not
what is tested here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from pypdf import PdfWriter

from saraban.access.services import grant_secrecy
from saraban.api.auth import issue_token
from saraban.core.errors import SarabanError
from saraban.correspondence.models import Letter
from saraban.correspondence.selectors import letter_for
from saraban.correspondence.services import cancel_letter, create_letter, issue_number, start_correction, update_letter
from saraban.correspondence.workflow import (
    approve_review,
    close_letter,
    return_for_changes,
    set_recipients,
    sign_letter,
    submit_for_review,
)
from saraban.directory.models import Organisation, Person
from saraban.directory.services import appoint_acting, assign_role, create_organisation, create_person
from saraban.documents.services import store_file
from saraban.exchange.services import send_letter
from saraban.inbox import services as inbox
from saraban.inbox.models import Assignment, IncomingLetter, IncomingSource
from saraban.inbox.selectors import incoming_for
from saraban.signatures.methods import SignerProof

PASSWORD = "x-Pass-1234"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "letters"
SECRECIES = ("normal", "confidential")

# username: (role, where) — where is A (the letters' organisation), U (a unit of A), M (the ministry
# above A) or B (another organisation). Grants: the central clerk and the signer hold ลับ in A.
PEOPLE = {
    "author": ("officer", "A"),
    "central.clerk": ("central_clerk", "A"),
    "unit.clerk": ("unit_clerk", "U"),
    "officer": ("officer", "A"),
    "reviewer": ("reviewer", "A"),
    "signer": ("signer", "A"),
    "other.signer": ("signer", "A"),
    "acting": ("reviewer", "A"),  # acting (รักษาราชการแทน) for the signer
    "sys.admin": ("sys_admin", "M"),
    "ministry.officer": ("officer", "M"),
    "ministry.clerk": ("central_clerk", "M"),
    "outsider": ("central_clerk", "B"),
}
GRANTED = ("central.clerk", "signer")


def _example(name: str, **changes: object) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    data.pop("number", None)
    data.pop("date", None)
    data["issuer"] = {}
    return {**data, **changes}


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BLANK = _blank_pdf()


@dataclass
class World:
    """The organisations, people (with their web and API clients) and objects in every state."""

    orgs: dict[str, Organisation]
    people: dict[str, Person] = field(default_factory=dict)
    web: dict[str, Client] = field(default_factory=dict)
    api: dict[str, Client] = field(default_factory=dict)
    letters: dict[tuple[str, str], Letter] = field(default_factory=dict)
    incoming: dict[tuple[str, str], IncomingLetter] = field(default_factory=dict)
    # What each object's page offers each person (the pages do not change the world: asked once).
    pages: dict[tuple[str, str, int], set[str] | None] = field(default_factory=dict)


def _build() -> World:
    m = create_organisation(identifier="m", kind="ministry", name_th="สำนักนายกรัฐมนตรี", letter_code="นร 01")
    a = create_organisation(identifier="a", parent=m, kind="department", name_th="สำนักงานปลัดสำนักนายกรัฐมนตรี",
                            letter_code="นร 0105", address="ทำเนียบรัฐบาล กรุงเทพมหานคร 10300", phone="0 2283 4000")
    u = create_organisation(identifier="u", parent=a, kind="division", name_th="กองพัฒนาระบบบริหาร",
                            letter_code="นร 0105.04")
    b = create_organisation(identifier="b", kind="provincial_office", name_th="จังหวัดนนทบุรี", letter_code="นบ 0017")
    world = World({"M": m, "A": a, "U": u, "B": b})
    for username, (role, where) in PEOPLE.items():
        person = create_person(username=username, name_th=f"บุคลากร {username}", password=PASSWORD)
        assign_role(person, world.orgs[where], role, position_title=f"ตำแหน่ง {username}")
        world.people[username] = person
        web = Client()
        web.force_login(person)
        world.web[username] = web
        world.api[username] = Client(headers={"Authorization": f"Bearer {issue_token(person, 'tests')[1]}"})
    p = world.people
    for username in GRANTED:
        grant_secrecy(p[username], a, "confidential", actor=None)
    day = dt.date.today()
    appoint_acting(p["acting"], a, position_title="ปลัดสำนักนายกรัฐมนตรี", starts_on=day - dt.timedelta(days=1),
                   ends_on=day + dt.timedelta(days=1), on_behalf_of=p["signer"])
    for secrecy in SECRECIES:
        _letters(world, secrecy)
        _incoming(world, secrecy)
    return world


def _letters(world: World, secrecy: str) -> None:
    a, p = world.orgs["A"], world.people
    author, clerk, signer = p["author"], p["central.clerk"], p["signer"]

    def draft(kind: str = "external") -> Letter:
        letter = create_letter(a, _example(kind, secrecy=secrecy), author=author)  # (stamped: never classified)
        set_recipients(letter, [world.orgs["B"]], [], actor=author)
        return letter

    def approved(kind: str = "external") -> Letter:
        return submit_for_review(draft(kind), actor=author, reviewers=[],
                                 signer=None if kind == "stamped" else signer)

    def signed() -> Letter:
        letter = approved()
        sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))
        return letter

    world.letters["draft", secrecy] = draft()
    world.letters["in_review", secrecy] = submit_for_review(draft(), actor=author, reviewers=[p["reviewer"]],
                                                            signer=signer)
    world.letters["approved", secrecy] = approved()
    if secrecy == "normal":
        world.letters["approved_stamped", secrecy] = approved("stamped")
    world.letters["signed", secrecy] = signed()
    world.letters["numbered", secrecy] = issue_number(signed(), actor=clerk)
    sent = issue_number(signed(), actor=clerk)
    send_letter(sent, actor=clerk)
    world.letters["sent", secrecy] = sent
    for key, letter in list(world.letters.items()):
        world.letters[key] = Letter.objects.get(pk=letter.pk)


def _incoming(world: World, secrecy: str) -> None:
    a, p = world.orgs["A"], world.people
    original = store_file(BLANK, "application/pdf")
    delivered = IncomingLetter.objects.create(
        organisation=a, source=IncomingSource.ELECTRONIC, sender_name="จังหวัดนนทบุรี", letter_number="นบ 0017/1",
        subject=f"หนังสือเข้า {secrecy}", secrecy=secrecy, original=original, delivered_at=dt.datetime.now(dt.UTC),
    )
    world.incoming["delivered", secrecy] = delivered

    def registered() -> IncomingLetter:
        return inbox.register_paper(a, inbox.PaperLetter(
            sender_name="กรมบัญชีกลาง", letter_number="กค 0405/1", letter_date=None, subject=f"หนังสือ {secrecy}",
            secrecy=secrecy,  # type: ignore[arg-type]
        ), scans=[(BLANK, "application/pdf")], actor=p["central.clerk"])

    world.incoming["registered", secrecy] = registered()
    assigned = registered()
    inbox.endorse(assigned, actor=p["signer"], instruction="มอบกองพัฒนาระบบบริหาร",
                  assign=[inbox.AssignTo(unit=world.orgs["U"])])
    world.incoming["assigned", secrecy] = IncomingLetter.objects.get(pk=assigned.pk)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The world, built once in a transaction that is rolled back after the module."""
    from saraban.documents.storage import blob_store

    store = {"BACKEND": "saraban.documents.storage.LocalBlobStore",
             "OPTIONS": {"root": tmp_path_factory.mktemp("agreement") / "blobs"}}
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a test's passwords need no strong hash
    with django_db_blocker.unblock(), override_settings(SARABAN_BLOB_STORE=store, PASSWORD_HASHERS=fast), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr("saraban.rendering.letters.compile_pdf", lambda *args, **kwargs: BLANK)
        patch.setattr("saraban.rendering.letters.compile_pdf_with_query", lambda *args, **kwargs: (BLANK, []))
        blob_store.cache_clear()
        with transaction.atomic():
            yield _build()
            transaction.set_rollback(True)
        blob_store.cache_clear()


@pytest.fixture(autouse=True)
def _blob_store_in_tmp() -> None:
    """The module's files stay in the module's store (the conftest's gives each test its own)."""


@pytest.fixture(autouse=True)
def _no_stray_child() -> None:
    """Checked once for the module (``_no_stray_child_in_module``): a scan of the processes per case
    would cost as much as the case."""


@pytest.fixture(scope="module", autouse=True)
def _no_stray_child_in_module() -> Iterator[None]:
    """No child process the module started outlives it (the conftest's check, once for the module)."""
    from .processes import children

    before = {c.pid for c in children()}
    yield
    from saraban.core.workers import worker_pids

    kept = set(worker_pids())
    stray = [c for c in children() if c.state == "Z" or (c.pid not in before and c.pid not in kept)]
    assert not stray, f"child processes outlived the module: {stray}"


# ----------------------------------------------------------------------------------------------------
# The actions: the object and its page, the service call, and the API call.

Outcome = tuple[str, str, int]  # ("done", "", 2xx) or ("refused", code, status)


@dataclass(frozen=True)
class Action:
    """One action: on which object in which state, as the page names it, done by the service and the API."""

    name: str
    state: str
    page_action: str
    service: Callable[[Any, Person, World], object]
    api: Callable[[Any, World], tuple[str, str, dict[str, Any]]]  # method, path, body
    incoming: bool = False


def _letter_api(method: str, tail: str, body: dict[str, Any] | None = None) -> Callable[[Any, World], Any]:
    return lambda obj, world: (method, f"/api/letters/{obj.pk}{tail}", body or {})


def _incoming_api(tail: str, body: dict[str, Any] | None = None) -> Callable[[Any, World], Any]:
    return lambda obj, world: ("post", f"/api/inbox/{obj.pk}{tail}", body or {})


def _assignment(obj: IncomingLetter) -> Assignment:
    return Assignment.objects.get(incoming=obj)


ACTIONS = [
    Action("edit", "draft", "edit", lambda o, who, w: update_letter(o, {"subject": "เรื่องใหม่"}, actor=who),
           _letter_api("patch", "", {"content": {"subject": "เรื่องใหม่"}})),
    Action("recipients", "draft", "edit", lambda o, who, w: set_recipients(o, [w.orgs["M"]], [], actor=who),
           lambda o, w: ("put", f"/api/letters/{o.pk}/recipients", {"to": [w.orgs["M"].pk], "cc": []})),
    Action("submit", "draft", "submit",
           lambda o, who, w: submit_for_review(o, actor=who, reviewers=[], signer=w.people["signer"]),
           lambda o, w: ("post", f"/api/letters/{o.pk}/submit", {"signer_id": w.people["signer"].pk})),
    Action("cancel", "draft", "cancel", lambda o, who, w: cancel_letter(o, reason="ผิดพลาด", actor=who),
           _letter_api("post", "/cancel", {"reason": "ผิดพลาด"})),
    Action("approve", "in_review", "approve", lambda o, who, w: approve_review(o, actor=who),
           _letter_api("post", "/approve", {"comment": ""})),
    Action("return", "in_review", "return", lambda o, who, w: return_for_changes(o, actor=who, comment="แก้ไข"),
           _letter_api("post", "/return", {"comment": "แก้ไข"})),
    Action("return", "approved", "return", lambda o, who, w: return_for_changes(o, actor=who, comment="แก้ไข"),
           _letter_api("post", "/return", {"comment": "แก้ไข"})),
    Action("sign", "approved", "sign", lambda o, who, w: sign_letter(o, actor=who, proof=SignerProof(PASSWORD)),
           _letter_api("post", "/sign", {"password": PASSWORD})),
    Action("number", "signed", "number", lambda o, who, w: issue_number(o, actor=who), _letter_api("post", "/number")),
    Action("number", "approved_stamped", "number", lambda o, who, w: issue_number(o, actor=who),
           _letter_api("post", "/number")),
    Action("send", "numbered", "send", lambda o, who, w: send_letter(o, actor=who), _letter_api("post", "/send")),
    Action("cancel", "numbered", "cancel", lambda o, who, w: cancel_letter(o, reason="ผิดพลาด", actor=who),
           _letter_api("post", "/cancel", {"reason": "ผิดพลาด"})),
    Action("correct", "numbered", "correct", lambda o, who, w: start_correction(o, actor=who),
           _letter_api("post", "/correction")),
    Action("close", "sent", "close", lambda o, who, w: close_letter(o, actor=who), _letter_api("post", "/close")),
    Action("correct", "sent", "correct", lambda o, who, w: start_correction(o, actor=who),
           _letter_api("post", "/correction")),
    Action("register", "delivered", "register", lambda o, who, w: inbox.register(o, actor=who),
           _incoming_api("/register"), incoming=True),
    Action("return", "delivered", "return", lambda o, who, w: inbox.return_to_sender(o, actor=who, reason="ผิดที่"),
           _incoming_api("/return", {"reason": "ผิดที่"}), incoming=True),
    Action("endorse", "registered", "endorse",
           lambda o, who, w: inbox.endorse(o, actor=who, instruction="ทราบ", assign=[]),
           _incoming_api("/endorse", {"instruction": "ทราบ"}), incoming=True),
    Action("close", "registered", "close", lambda o, who, w: inbox.close(o, actor=who), _incoming_api("/close"),
           incoming=True),
    Action("complete", "assigned", "complete",
           lambda o, who, w: inbox.complete_assignment(_assignment(o), actor=who, note="ดำเนินการแล้ว"),
           lambda o, w: ("post", f"/api/assignments/{_assignment(o).pk}/complete", {"note": "ดำเนินการแล้ว"}),
           incoming=True),
]


def _trial(run: Callable[[], Outcome]) -> Outcome:
    """``run``'s outcome, with everything it wrote undone."""
    with transaction.atomic():
        try:
            outcome = run()
        except SarabanError as exc:
            outcome = ("refused", exc.code, exc.http_status)
        transaction.set_rollback(True)
    return outcome


def _offered(world: World, username: str, obj: Any, incoming: bool) -> set[str] | None:
    """The actions the object's page offers ``username``; ``None`` when the page is 404."""
    base = f"/inbox/{obj.pk}/" if incoming else f"/letters/{obj.pk}/"
    if (username, base, obj.pk) in world.pages:
        return world.pages[username, base, obj.pk]

    def page() -> Outcome:
        response = world.web[username].get(base)  # a clerk's first look marks a delivered letter opened
        assert response.status_code in (200, 404), (base, response.status_code)
        found = re.findall(rf'(?:action|href)="{re.escape(base)}(\w+)/"', response.content.decode())
        world.pages[username, base, obj.pk] = None if response.status_code == 404 else set(found) - {"pdf"}
        return ("done", "", response.status_code)

    _trial(page)
    return world.pages[username, base, obj.pk]


def _api_outcome(world: World, username: str, method: str, path: str, body: dict[str, Any]) -> Outcome:
    client = world.api[username]
    response = getattr(client, method)(path, data=json.dumps(body), content_type="application/json")
    if response.status_code < 300:
        return ("done", "", response.status_code)
    return ("refused", response.json()["code"], response.status_code)


# Who may do each action (normal letter; ลับ letter): the rules as a table. Registry roles hold above
# the organisation too (the ministry's clerk), a system administrator holds every role where they are
# one but signs nothing; classified letters need a grant or a part in them (or an assignment).
_AUTHOR_OR_REGISTRY = ("author central.clerk sys.admin ministry.clerk", "author central.clerk")
_REGISTRY = ("central.clerk sys.admin ministry.clerk", "central.clerk")
ALLOWED: dict[str, tuple[str, str]] = {
    "edit@draft": _AUTHOR_OR_REGISTRY, "recipients@draft": _AUTHOR_OR_REGISTRY,
    "submit@draft": _AUTHOR_OR_REGISTRY, "cancel@draft": _AUTHOR_OR_REGISTRY,
    "approve@in_review": ("reviewer", "reviewer"), "return@in_review": ("reviewer", "reviewer"),
    "return@approved": ("signer acting", "signer acting"), "sign@approved": ("signer acting", "signer acting"),
    "number@signed": _REGISTRY, "number@approved_stamped": (_REGISTRY[0], ""), "send@numbered": _REGISTRY,
    "cancel@numbered": _AUTHOR_OR_REGISTRY, "correct@numbered": _AUTHOR_OR_REGISTRY,
    "close@sent": _AUTHOR_OR_REGISTRY, "correct@sent": _AUTHOR_OR_REGISTRY,
    "register@delivered": _REGISTRY, "return@delivered": _REGISTRY,
    "endorse@registered": ("signer other.signer acting sys.admin", "signer"),
    "close@registered": ("central.clerk signer other.signer sys.admin ministry.clerk", "central.clerk signer"),
    "complete@assigned": ("unit.clerk", "unit.clerk"),
}

# A stamped letter is for routine matters: it is never classified.
CASES = [(action, username, secrecy) for action in ACTIONS for username in PEOPLE for secrecy in SECRECIES
         if not (action.state == "approved_stamped" and secrecy != "normal")]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "username", "secrecy"), CASES,
                         ids=[f"{a.name}@{a.state}-{u}-{s}" for a, u, s in CASES])
def test_page_service_and_api_agree(world: World, action: Action, username: str, secrecy: str) -> None:
    objects = world.incoming if action.incoming else world.letters
    obj = objects[action.state, secrecy]
    obj = type(obj).objects.get(pk=obj.pk)
    person = world.people[username]
    page = _offered(world, username, obj, action.incoming)
    offered = page is not None and action.page_action in page
    service = _trial(lambda: (action.service(obj, person, world), ("done", "", 200))[1])
    method, path, body = action.api(obj, world)
    answered = _trial(lambda: _api_outcome(world, username, method, path, body))
    assert offered == (service[0] == "done") == (answered[0] == "done"), (offered, service, answered)
    allowed = ALLOWED[f"{action.name}@{action.state}"][SECRECIES.index(secrecy)].split()
    assert offered == (username in allowed), (offered, service, answered)
    if service[0] == "refused":
        assert answered[1:] == service[1:], (service, answered)


@pytest.mark.django_db
@pytest.mark.parametrize("secrecy", SECRECIES)
@pytest.mark.parametrize("username", list(PEOPLE))
def test_who_sees_what_agrees(world: World, username: str, secrecy: str) -> None:
    """Seeing is the first rule: the page, the API and the selectors show the same letters."""
    person = world.people[username]
    for (state, level), letter in world.letters.items():
        if level != secrecy:
            continue
        shown = letter_for(person, letter.pk) is not None
        page = world.web[username].get(f"/letters/{letter.pk}/").status_code
        api = world.api[username].get(f"/api/letters/{letter.pk}").status_code
        assert (page, api) == ((200, 200) if shown else (404, 404)), (state, shown, page, api)
    for (state, level), incoming in world.incoming.items():
        if level != secrecy:
            continue
        shown = incoming_for(person, incoming.pk) is not None
        page, api = (_trial(lambda path=path, client=client: ("done", "", client.get(path).status_code))[2]
                     for path, client in ((f"/inbox/{incoming.pk}/", world.web[username]),
                                          (f"/api/inbox/{incoming.pk}", world.api[username])))
        assert (page, api) == ((200, 200) if shown else (404, 404)), (state, shown, page, api)


def test_every_action_is_covered() -> None:
    """Each action of the letter page and of the incoming page is in the agreement test."""
    from saraban.correspondence.permissions import LETTER_RULES
    from saraban.inbox.permissions import INCOMING_RULES

    letter_actions = {a.page_action for a in ACTIONS if not a.incoming}
    incoming_actions = {a.page_action for a in ACTIONS if a.incoming}
    assert set(LETTER_RULES) <= letter_actions
    assert set(INCOMING_RULES) | {"complete"} <= incoming_actions
    assert {f"{a.name}@{a.state}" for a in ACTIONS} == set(ALLOWED)
