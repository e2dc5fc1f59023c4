"""The registers page (ทะเบียนหนังสือ): search one register book of an organisation, page it, export it.

A register is a yearly book, so the page shows one year of one kind of one organisation at a time,
newest number first, 50 rows a page with keyset paging on the register number (the unique index
``(book, number)`` keeps it fast however large the book grows). An organisation where the user holds
no role does not exist as far as the page is concerned (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from saraban.access.policy import (
    classified_book_organisations,
    cleared_for_every_level,
    hide_classified_details,
    organisations_of,
)
from saraban.core.errors import SarabanError
from saraban.core.thai import arabic_digits, buddhist_year, parse_thai_date
from saraban.directory.models import Organisation, Person
from saraban.inbox.selectors import incoming_of_entries
from saraban.registers.exports import FORMATS, export_register
from saraban.registers.models import BookKind, RegisterBook, RegisterEntry
from saraban.registers.selectors import register_entries
from saraban.rendering.engine import RenderError
from saraban.web.context_processors import acting_organisation, today
from saraban.web.i18n import pick, text

PAGE_SIZE = 50
KIND_ORDER = (
    BookKind.SEND, BookKind.RECEIVE, BookKind.CIRCULAR, BookKind.ORDER, BookKind.ANNOUNCEMENT,
    BookKind.SEND_CLASSIFIED, BookKind.RECEIVE_CLASSIFIED,
)
CLASSIFIED = frozenset({BookKind.SEND_CLASSIFIED, BookKind.RECEIVE_CLASSIFIED})
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Scope:
    """What the user may see in the registers: organisations, and where classified books are open."""

    organisations: list[Organisation]
    classified_ids: set[int]

    def kinds(self, organisation: Organisation) -> list[BookKind]:
        """The register kinds of ``organisation`` this user may open."""
        return [k for k in KIND_ORDER if k not in CLASSIFIED or organisation.pk in self.classified_ids]


def register_scope(person: Person) -> Scope:
    """The organisations whose registers ``person`` may read, and those whose classified books too.

    Classified books are open to central registry clerks (of the organisation or one above it); their
    lines show subjects and parties only to holders of a secrecy grant of the letter's level
    (``access.policy.hide_classified_details``).
    """
    orgs = list(Organisation.objects.filter(pk__in=organisations_of(person)).order_by("name_th"))
    return Scope(orgs, classified_book_organisations(person))  # the API's rule (``may_read_register``)


def _parse_date(value: str, request: HttpRequest) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return parse_thai_date(value)
    except ValueError:
        raise forms.ValidationError(text(
            request, f"“{value}” ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ. เช่น 26/11/2569",
            f"“{value}” is not a date day/month/Buddhist year, e.g. 26/11/2569",
        )) from None


class RegisterSearchForm(forms.Form):
    """The search of one register: organisation, kind, year (พ.ศ.), number, text and a date range in พ.ศ."""

    org = forms.TypedChoiceField(coerce=int)
    kind = forms.ChoiceField()
    year = forms.IntegerField(required=False, min_value=2400, max_value=2800)
    number = forms.CharField(required=False, max_length=12)
    q = forms.CharField(required=False, max_length=200)
    date_from = forms.CharField(required=False, max_length=20)
    date_to = forms.CharField(required=False, max_length=20)

    def __init__(self, data: Any, *, request: HttpRequest, organisation: Organisation, scope: Scope) -> None:
        super().__init__(data)
        self.request = request
        lang = text(request, "th", "en")
        org_field, kind_field = self.fields["org"], self.fields["kind"]
        assert isinstance(org_field, forms.ChoiceField) and isinstance(kind_field, forms.ChoiceField)
        org_field.choices = [(o.pk, o.name_th) for o in scope.organisations]
        kind_field.choices = [(k.value, pick(k.label, lang)) for k in scope.kinds(organisation)]
        for name, th, en in (
            ("org", "หน่วยงาน", "Organisation"), ("kind", "ทะเบียน", "Register"), ("year", "ปี พ.ศ.", "Year (B.E.)"),
            ("number", "เลขทะเบียน", "Register no."), ("q", "ค้นหา ที่ เรื่อง จาก ถึง", "Search no., subject, from, to"),
            ("date_from", "ลงทะเบียนตั้งแต่วันที่", "Registered from"), ("date_to", "ถึงวันที่", "to"),
        ):
            self.fields[name].label = text(request, th, en)
        for name in ("date_from", "date_to"):
            placeholder = text(request, "ว/ด/ปปปป", "d/m/yyyy")
            self.fields[name].widget.attrs.update({"placeholder": placeholder, "inputmode": "numeric", "size": 11})
        self.fields["number"].widget.attrs.update({"inputmode": "numeric", "size": 7})
        self.fields["year"].widget.attrs.update({"size": 5})
        self.fields["q"].widget.attrs.update({"type": "search", "data-search": "", "accesskey": "s"})
        invalid_year = text(request, "ปี พ.ศ. ต้องเป็นตัวเลขสี่หลัก เช่น 2569", "The year must be a Buddhist year, e.g. 2569")
        for key in ("invalid", "min_value", "max_value"):
            self.fields["year"].error_messages[key] = invalid_year
        self.fields["kind"].error_messages["invalid_choice"] = text(request, "ไม่มีทะเบียนนี้", "No such register")

    def clean_date_from(self) -> dt.date | None:
        """The first day, parsed from d/m/พ.ศ."""
        return _parse_date(self.cleaned_data.get("date_from", ""), self.request)

    def clean_date_to(self) -> dt.date | None:
        """The last day, parsed from d/m/พ.ศ."""
        return _parse_date(self.cleaned_data.get("date_to", ""), self.request)

    def clean_number(self) -> int | None:
        """The register number sought, in Arabic or Thai digits."""
        value = arabic_digits(self.cleaned_data.get("number", "").strip())
        if not value:
            return None
        if not value.isdigit() or int(value) < 1:
            raise forms.ValidationError(
                text(self.request, "เลขทะเบียนต้องเป็นตัวเลข", "The register number must be a number")
            )
        return int(value)

    def clean(self) -> dict[str, Any]:
        """Check the range: start before end, and both within one register year."""
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", text(
                self.request, "วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น", "The end date cannot be before the start date"
            ))
        elif start and end and start.year != end.year:
            self.add_error("date_to", text(
                self.request, "ทะเบียนเป็นเล่มรายปี ค้นหาได้ครั้งละหนึ่งปี พ.ศ.",
                "A register is a yearly book: search one year at a time",
            ))
        return data


def _organisation(request: HttpRequest, scope: Scope) -> Organisation:
    """The organisation asked for (404 if the user holds no role there), else the acting one."""
    wanted = request.GET.get("org", "").strip()
    if wanted:
        for org in scope.organisations:
            if str(org.pk) == wanted:
                return org
        raise Http404("no such register")
    acting = acting_organisation(request)
    for org in scope.organisations:
        if acting is not None and org.pk == acting.pk:
            return org
    if not scope.organisations:
        raise Http404("no register")
    return scope.organisations[0]


@dataclass(frozen=True)
class Search:
    """A validated search of one register book."""

    organisation: Organisation
    kind: BookKind
    year: int  # Gregorian
    start: dt.date | None
    end: dt.date | None
    number: int | None
    text: str

    numbers_only: bool = False  # a classified book without a full grant: search the letter number only

    def entries(self) -> QuerySet[RegisterEntry]:
        """The matching entries of the book, unordered."""
        entries = register_entries(
            self.organisation.pk, self.kind, start=self.start, end=self.end, text=self.text,
            numbers_only=self.numbers_only,
        ).filter(book__year=self.year)
        if self.number is not None:
            entries = entries.filter(number=self.number)
        return entries

    def export_range(self) -> tuple[dt.date, dt.date]:
        """The days an export covers: the range typed, or the whole register year."""
        return self.start or dt.date(self.year, 1, 1), self.end or dt.date(self.year, 12, 31)

    def filename(self, fmt: str) -> str:
        """A download name such as ``send-2569-11.xlsx`` (a month), ``send-2569.pdf`` (a year)."""
        start, end = self.export_range()
        be = buddhist_year(self.year)
        if (start, end) == (dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)):
            stem = f"{self.kind.value}-{be}"
        elif start.month == end.month and start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
            stem = f"{self.kind.value}-{be}-{start.month:02d}"
        else:
            stem = f"{self.kind.value}-{be}-{start:%m%d}-{end:%m%d}"
        return f"{stem}.{fmt}"


def _search(request: HttpRequest) -> tuple[RegisterSearchForm, Search | None, Scope]:
    """Validate the query string against what the user may see (404 for another organisation)."""
    assert isinstance(request.user, Person)
    scope = register_scope(request.user)
    organisation = _organisation(request, scope)
    data = request.GET.copy()
    data.setdefault("org", str(organisation.pk))
    data.setdefault("kind", BookKind.SEND.value)
    if data.get("kind") in CLASSIFIED and data["kind"] not in scope.kinds(organisation):
        raise Http404("no such register")
    form = RegisterSearchForm(data, request=request, organisation=organisation, scope=scope)
    if not form.is_valid():
        return form, None, scope
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    if start or end:
        year = (start or end).year
    elif form.cleaned_data["year"]:
        year = form.cleaned_data["year"] - 543
    else:
        year = today().year
    search = Search(
        organisation=organisation, kind=BookKind(form.cleaned_data["kind"]), year=year, start=start, end=end,
        number=form.cleaned_data["number"], text=form.cleaned_data["q"].strip(),
        numbers_only=form.cleaned_data["kind"] in CLASSIFIED and not cleared_for_every_level(
            _person_of(request), organisation.pk),
    )
    return form, search, scope


@require_GET
@login_required
def register_page(request: HttpRequest) -> HttpResponse:
    """The register search page: the form, one page of 50 entries, paging and export links."""
    form, search, _scope = _search(request)
    books = RegisterBook.objects.filter(organisation_id=form.data["org"]).values_list("year", flat=True)
    asked = arabic_digits(request.GET.get("year", ""))
    be_year = buddhist_year(search.year) if search else int(asked) if asked.isdigit() else buddhist_year(today().year)
    context: dict[str, Any] = {
        "form": form, "search": search, "formats": FORMATS, "be_year": be_year,
        "years": sorted({buddhist_year(y) for y in {*books, today().year}} | {be_year}, reverse=True),
    }
    if search is None:
        return render(request, "web/registers/page.html", context)
    entries = search.entries()
    before, after = _cursor(request.GET.get("before")), _cursor(request.GET.get("after"))
    if after is not None:
        rows = list(entries.filter(number__gt=after).order_by("number")[: PAGE_SIZE + 1])
        has_newer, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE][::-1]
        has_older = bool(rows) and entries.filter(number__lt=rows[-1].number).exists()
    else:
        page = entries.filter(number__lt=before) if before is not None else entries
        rows = list(page.order_by("-number")[: PAGE_SIZE + 1])
        has_older, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        has_newer = before is not None and bool(rows) and entries.filter(number__gt=rows[0].number).exists()
    rows = hide_classified_details(_person_of(request), rows)
    _link_rows(rows)
    context.update({
        "rows": rows,
        "total": entries.count(),
        "older": rows[-1].number if has_older else None,
        "newer": rows[0].number if has_newer else None,
    })
    return render(request, "web/registers/page.html", context)


def _link_rows(rows: list[RegisterEntry]) -> None:
    """Each line's ``href``: the letter it numbered, or the incoming letter it registered ("" when none,
    or when its details are hidden). The page there applies its own access rules."""
    incoming = incoming_of_entries({e.pk for e in rows if not e.letter_id})
    for entry in rows:
        target = (f"/letters/{entry.letter_id}/" if entry.letter_id
                  else f"/inbox/{incoming[entry.pk]}/" if entry.pk in incoming else "")
        entry.href = "" if getattr(entry, "redacted", False) else target  # type: ignore[attr-defined]


def _person_of(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)
    return request.user


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@require_GET
@login_required
def register_export(request: HttpRequest) -> HttpResponse:
    """The register for the range searched (or its whole year) as PDF, CSV or XLSX, as a download."""
    _form, search, _scope = _search(request)
    fmt = request.GET.get("format", "")
    if search is None or fmt not in FORMATS:
        messages.error(request, text(request, "ส่งออกไม่ได้: ตรวจสอบเงื่อนไขการค้นหา", "Cannot export: check the search"))
        return HttpResponseRedirect("/registers/?" + request.GET.urlencode())
    start, end = search.export_range()
    try:
        person = _person_of(request)
        data = export_register(search.organisation, search.kind, start, end, fmt,
                               redact=lambda rows: hide_classified_details(person, rows))
    except (SarabanError, RenderError) as exc:
        messages.error(request, text(request, f"ส่งออกไม่สำเร็จ: {exc}", f"The export failed: {exc}"))
        return HttpResponseRedirect("/registers/?" + request.GET.urlencode())
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{search.filename(fmt)}"'
    return response
