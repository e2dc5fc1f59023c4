"""งานของฉัน: the work queue, one section per kind of task, each most urgent first, then by due date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from saraban.access.policy import organisations_with_role, today
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.permissions import DRAFTERS, REGISTRY
from saraban.correspondence.selectors import (
    awaiting_my_review,
    awaiting_my_signature,
    awaiting_number,
    drafts_of,
    letters_visible_to,
)
from saraban.directory.models import Person, Role
from saraban.exchange.models import Dispatch
from saraban.exchange.selectors import failed_dispatches
from saraban.inbox.models import Assignment, IncomingLetter
from saraban.inbox.permissions import executive_organisation_ids
from saraban.inbox.selectors import awaiting_endorsement, awaiting_registration, my_assignments
from saraban.web.i18n import text
from saraban.web.views.certificates import notices_for

from .paging import capped_count

SECTION_ROWS = 20
URGENCY_TH = {"urgent": "ด่วน", "very_urgent": "ด่วนมาก", "most_urgent": "ด่วนที่สุด"}
URGENCY_EN = {"urgent": "Urgent", "very_urgent": "Very urgent", "most_urgent": "Most urgent"}


@dataclass
class Item:
    """One row of a work section: what it is, where it goes, how urgent, when due."""

    url: str
    subject: str
    number: str = ""
    party: str = ""  # from / to whom
    urgency: str = ""
    due: dt.date | None = None
    overdue: bool = False
    note: str = ""
    when: dt.date | dt.datetime | None = None


@dataclass
class Section:
    """One kind of task with its count and its first rows."""

    key: str
    title: str
    count: int
    items: list[Item] = field(default_factory=list)
    more: str = ""  # a page listing all of them


def _roles(person: Person) -> dict[str, set[int]]:
    """Organisation ids (with the units below) where ``person`` is a clerk, an executive, a reviewer or
    a drafter: the same sets the API's work queue counts in (``organisations_with_role``, and
    ``executive_organisation_ids`` for signers and acting officials)."""
    return {
        "clerk": organisations_with_role(person, *REGISTRY),
        "executive": executive_organisation_ids(person),
        "reviewer": organisations_with_role(person, Role.REVIEWER, Role.SIGNER),
        "drafter": organisations_with_role(person, *DRAFTERS),
    }


def _urgency(request: HttpRequest, value: str) -> str:
    return (URGENCY_EN if text(request, "th", "en") == "en" else URGENCY_TH).get(value, "")


def _letters(request: HttpRequest, rows: QuerySet[Letter], *, returned: bool = False) -> tuple[int, list[Item]]:
    rows = rows.select_related("organisation").order_by("-urgency_rank", "updated_at")
    items = [
        Item(url=f"/letters/{x.pk}/edit/" if returned else f"/letters/{x.pk}/", subject=x.subject, number=x.number,
             party=x.organisation.name_th, urgency=_urgency(request, x.urgency),
             note=x.returned_comment if returned else "", when=x.date or x.updated_at)
        for x in rows[:SECTION_ROWS]
    ]
    return capped_count(rows)[0], items


def _failed(rows: QuerySet[Dispatch]) -> tuple[int, list[Item]]:
    items = [
        Item(url=f"/letters/{d.letter_id}/", subject=d.letter.subject, number=d.letter.number,
             party=d.recipient.name_th, note=d.returned_reason, when=d.status_at)
        for d in rows[:SECTION_ROWS]
    ]
    return capped_count(rows)[0], items


def _incoming(request: HttpRequest, rows: QuerySet[IncomingLetter], on: dt.date) -> tuple[int, list[Item]]:
    items = [
        Item(url=f"/inbox/{x.pk}/", subject=x.subject, number=x.letter_number, party=x.sender_name,
             urgency=_urgency(request, x.urgency), due=x.due_date, overdue=bool(x.due_date and x.due_date < on),
             when=x.delivered_at)
        for x in rows[:SECTION_ROWS]
    ]
    return capped_count(rows)[0], items


def _assignments(request: HttpRequest, rows: QuerySet[Assignment], on: dt.date) -> tuple[int, list[Item]]:
    rows = rows.select_related("incoming", "unit", "assignee", "endorsement")
    items = [
        Item(url=f"/inbox/{a.incoming_id}/", subject=a.incoming.subject, number=a.incoming.letter_number,
             party=a.unit.name_th if a.unit else text(request, "ท่าน", "you"),
             urgency=_urgency(request, a.incoming.urgency), due=a.due_date,
             overdue=bool(a.due_date and a.due_date < on), note=a.endorsement.instruction,
             when=a.endorsement.created_at)
        for a in rows[:SECTION_ROWS]
    ]
    return capped_count(rows)[0], items


@require_GET
@login_required
def work_queue(request: HttpRequest) -> HttpResponse:
    """My work: what waits for me, section by section, with counts; empty sections of my roles say so."""
    person = request.user
    assert isinstance(person, Person)
    on = today()
    roles = _roles(person)
    t = lambda th, en: text(request, th, en)  # noqa: E731
    sections: list[Section] = []

    def add(key: str, title: str, counted: tuple[int, list[Item]], more: str = "") -> None:
        sections.append(Section(key, title, counted[0], counted[1], more))

    # Sections of roles the person does not hold are left out (a pure registry clerk reviews nothing).
    if roles["reviewer"]:
        add("review", t("รอตรวจสอบ", "To review"), _letters(request, awaiting_my_review(person)))
    if roles["executive"]:
        add("sign", t("รอลงนาม", "To sign"), _letters(request, awaiting_my_signature(person)), "/work/sign/")
    if roles["clerk"]:
        add("number", t("รอออกเลข", "To number"), _letters(request, awaiting_number(person, roles["clerk"])))
        to_send = letters_visible_to(person).filter(organisation_id__in=roles["clerk"], status=LetterStatus.NUMBERED)
        add("send", t("รอส่ง", "To send"), _letters(request, to_send), "/outbox/")
        add("undelivered", t("ส่งไม่สำเร็จ", "Not delivered"), _failed(failed_dispatches(roles["clerk"])),
            "/network/queue/?show=problems")
        add("register", t("รอลงรับ", "To register"),
            _incoming(request, awaiting_registration(person, roles["clerk"]), on), "/inbox/?status=delivered")
    if roles["executive"]:
        add("endorse", t("รอเกษียนสั่งการ", "To endorse"),
            _incoming(request, awaiting_endorsement(person, roles["executive"]), on), "/inbox/?status=registered")
    add("assignments", t("งานที่ได้รับมอบหมาย", "My assignments"),
        _assignments(request, my_assignments(person), on))
    returned = drafts_of(person).exclude(returned_comment="")
    add("returned", t("ร่างที่ถูกส่งกลับแก้ไข", "Drafts returned for changes"),
        _letters(request, returned, returned=True), "/letters/drafts/")
    total = sum(s.count for s in sections)
    return render(request, "web/work/queue.html", {
        "sections": sections, "total": total, "today": on, "may_draft": bool(roles["drafter"]),
        "certificate_notices": notices_for(request),
    })
