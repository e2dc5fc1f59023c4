"""The registers (ทะเบียนหนังสือ): search an organisation's register, read one line, export a date range.

The same rule as the registers page: the registers of organisations where the caller holds a role;
the classified books only for central registry clerks of the organisation (or one above it), and
their subjects and parties only with a secrecy grant of the letter's level (numbers and dates otherwise).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from saraban.access.policy import cleared_for_every_level, hide_classified_details, may_read_register, today
from saraban.directory.models import Organisation, Person
from saraban.registers.exports import export_register
from saraban.registers.models import BookKind, RegisterEntry
from saraban.registers.selectors import register_entries

from ..auth import person_of
from ..errors import NotFound
from ..schemas import DB_INT_MAX, ERRORS, EntryOut, EntryPage, Id, IsoDate, Paging, Text, entry_out, page
from . import default_organisation, file_response

router = Router(tags=["registers"])
CLASSIFIED = frozenset({BookKind.SEND_CLASSIFIED, BookKind.RECEIVE_CLASSIFIED})
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class RegisterQuery(Schema):
    """Which register, and which of its lines: registered ``from``–``to`` (ISO dates, Bangkok days)."""

    organisation: Id | None = None
    kind: BookKind = BookKind.SEND
    date_from: IsoDate | None = Field(None, alias="from")
    date_to: IsoDate | None = Field(None, alias="to")
    q: Text = ""
    number: int | None = Field(None, ge=1, le=DB_INT_MAX)


class ExportQuery(RegisterQuery):
    format: Literal["pdf", "csv", "xlsx"] = "pdf"


def may_read(person: Person, organisation_id: int, kind: BookKind | str) -> bool:
    """Whether ``person`` may read the register of ``kind`` of the organisation (the pages' rule too)."""
    return may_read_register(person, organisation_id, kind)


def _register(person: Person, query: RegisterQuery) -> Organisation:
    organisation = default_organisation(person, query.organisation, field="organisation")
    if not may_read(person, organisation.pk, query.kind):
        raise NotFound()
    return organisation


@router.get("/registers/entries", response={200: EntryPage, **ERRORS}, summary="Search a register")
def search_entries(request: HttpRequest, query: Query[RegisterQuery], paging: Query[Paging]) -> dict[str, Any]:
    """Lines of one register in number order: by registration date range, register number, and text
    (letter number, subject, sender or recipient)."""
    person = person_of(request)
    organisation = _register(person, query)
    entries = register_entries(
        organisation.pk, query.kind, start=query.date_from, end=query.date_to, text=query.q.strip(),
        numbers_only=query.kind in CLASSIFIED and not cleared_for_every_level(person, organisation.pk),
    )
    if query.number is not None:
        entries = entries.filter(number=query.number)
    count, items = page(entries, paging)
    shown = hide_classified_details(person, list(items))
    return {"count": count, "limit": paging.limit, "offset": paging.offset, "items": [entry_out(e) for e in shown]}


@router.get("/registers/entries/{int:entry_id}", response={200: EntryOut, **ERRORS}, summary="Get a register line")
def get_entry(request: HttpRequest, entry_id: Id) -> dict[str, Any]:
    """One line of a register the caller may read."""
    person = person_of(request)
    entry = RegisterEntry.objects.select_related("book").filter(pk=entry_id).first()
    if entry is None or not may_read(person, entry.book.organisation_id, entry.book.kind):
        raise NotFound()
    return entry_out(hide_classified_details(person, [entry])[0])


@router.get("/registers/export", response={200: None, **ERRORS}, summary="Export a register")
def export(request: HttpRequest, query: Query[ExportQuery]) -> HttpResponse:
    """The register for ``from``–``to`` (the current year by default) as PDF, CSV or XLSX."""
    person = person_of(request)
    organisation = _register(person, query)
    year = (query.date_from or query.date_to or today()).year
    start = query.date_from or dt.date(year, 1, 1)
    end = query.date_to or dt.date(year, 12, 31)
    data = export_register(organisation, query.kind, start, end, query.format,
                           redact=lambda rows: hide_classified_details(person, rows))
    filename = f"{query.kind.value}-{start:%Y%m%d}-{end:%Y%m%d}.{query.format}"
    return file_response(data, CONTENT_TYPES[query.format], filename, inline=False)
