"""Outgoing letters: list, read, write drafts, and the PDF."""

from __future__ import annotations

from typing import cast

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status
from pydantic import BaseModel

from saraban.core.errors import FieldProblem, ReferenceNotFound, enforce
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.permissions import can_draft
from saraban.correspondence.selectors import (
    awaiting_my_review,
    awaiting_my_signature,
    awaiting_number,
    drafts_of,
    letters_visible_to,
    outbox,
)
from saraban.correspondence.services import create_letter, update_letter
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import unit_ids_under
from saraban.documents.services import read_file
from saraban.rendering.letters import render_letter
from saraban.signatures.archive import current_version

from ..auth import person_of
from ..schemas import (
    ERRORS,
    Box,
    Id,
    LetterCreate,
    LetterDetail,
    LetterPage,
    LetterUpdate,
    Paging,
    Text,
    letter_detail,
    letter_summary,
    page,
)
from . import default_organisation, file_response, my_organisation, role_organisation_ids, visible_letter

router = Router(tags=["letters"])
CLERKS = (Role.CENTRAL_CLERK, Role.UNIT_CLERK)


def _box(person: Person, box: str) -> QuerySet[Letter]:
    if box == "drafts":
        return drafts_of(person)
    if box == "review":
        return awaiting_my_review(person)
    if box == "sign":
        return awaiting_my_signature(person)
    if box == "number":
        return awaiting_number(person, role_organisation_ids(person, *CLERKS))
    return outbox(person, role_organisation_ids(person))


@router.get("/letters", response={200: LetterPage, **ERRORS}, summary="List letters")
def list_letters(
    request: HttpRequest,
    paging: Query[Paging],
    status: LetterStatus | None = None,
    box: Box | None = None,
    q: Text = "",
    organisation: Id | None = None,
) -> dict[str, object]:
    """Letters the caller may see, newest first; ``box`` picks a work list (drafts, review, sign, number, outbox)."""
    person = person_of(request)
    letters = _box(person, box) if box else letters_visible_to(person).order_by("-created_at", "-pk")
    if organisation is not None:
        letters = letters.filter(organisation_id__in=unit_ids_under({my_organisation(person, organisation).pk}))
    if status:
        letters = letters.filter(status=status)
    if q.strip():
        letters = letters.filter(Q(subject__icontains=q.strip()) | Q(number__icontains=q.strip()))
    count, items = page(letters, paging)
    return {"count": count, "limit": paging.limit, "offset": paging.offset,
            "items": [letter_summary(x) for x in items]}


def _owner_unit(organisation: Organisation, unit_id: int | None) -> Organisation | None:
    if unit_id is None:
        return None
    if unit_id not in unit_ids_under({organisation.pk}):
        raise ReferenceNotFound([FieldProblem(
            "owner_unit_id", "unknown", "ไม่พบหน่วยงานนี้ในส่วนราชการผู้จัดทำ", "No such unit in the writing organisation",
        )])
    return Organisation.objects.get(pk=unit_id)


@router.post("/letters", response={201: LetterDetail, **ERRORS}, summary="Create a draft letter")
def create(request: HttpRequest, payload: LetterCreate) -> Status[dict[str, object]]:
    """Write a new draft; issuer, letter code and contact are filled from the directory. An unfinished
    draft is kept (the fields its type requires are checked at submission); a malformed value, text the
    letter font cannot print or a type without its subtype is 422."""
    person = person_of(request)
    organisation = default_organisation(person, payload.organisation_id)
    enforce(can_draft(person, organisation))  # before the unit is looked up: 403, not a field problem
    unit = _owner_unit(organisation, payload.owner_unit_id)
    letter = create_letter(organisation, payload.content, author=person, owner_unit=unit)
    return Status(201, letter_detail(letter))


@router.get("/letters/{int:letter_id}", response={200: LetterDetail, **ERRORS}, summary="Get a letter")
def get_letter(request: HttpRequest, letter_id: Id) -> dict[str, object]:
    """A letter: content, status, number, recipients, review steps, signatures and dispatch statuses."""
    return letter_detail(visible_letter(person_of(request), letter_id))


@router.patch("/letters/{int:letter_id}", response={200: LetterDetail, **ERRORS}, summary="Change a draft")
def update(request: HttpRequest, letter_id: Id, payload: LetterUpdate) -> dict[str, object]:
    """Change fields of a draft's content (number, date and subject are fixed once numbered)."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    changes = cast(BaseModel, payload.content).model_dump(mode="json", exclude_unset=True)
    return letter_detail(update_letter(letter, changes, actor=person))


@router.get("/letters/{int:letter_id}/pdf", response={200: None, **ERRORS}, summary="Download the letter's PDF")
def letter_pdf(request: HttpRequest, letter_id: Id) -> HttpResponse:
    """The letter's current PDF (signed or numbered rendition); a draft is rendered on the fly."""
    letter = visible_letter(person_of(request), letter_id)
    pdf = letter.pdf
    data = read_file(current_version(pdf).sha256) if pdf is not None else render_letter(letter.letter_content)
    return file_response(data, "application/pdf", f"letter-{letter.pk}.pdf")
