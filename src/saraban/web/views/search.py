"""ค้นหาหนังสือ: one search over every letter the signed-in person may open (``saraban.search.engine``).

The engine does the work (tenancy, secrecy, paging without a count); the page reads the form, asks
it, and shows 20 hits a page: number, subject, kind, date in พ.ศ., parties, urgency, status and the
passage around the hit (built from its parts and escaped by the template). An empty search shows the
form with a hint; a refused one (too long, too many words) or a bad date shows the message in the form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from saraban.core.errors import ValidationFailed
from saraban.correspondence.models import LetterStatus
from saraban.inbox.models import IncomingSource, IncomingStatus
from saraban.regulation.kinds import LetterType
from saraban.search.engine import MAX_CANDIDATES, PAGE, Filters, Hit, Results, search
from saraban.search.query import MAX_QUERY_CHARS
from saraban.web.forms.base import BilingualForm, parse_be_date, thai_date_widget
from saraban.web.forms.letters import SECRECY_LABELS, URGENCY_LABELS
from saraban.web.i18n import pick, text

from . import errors
from .letters import person_of

MAX_PAGE = MAX_CANDIDATES // PAGE  # past it the engine has stopped looking: the search must be narrowed
SORTS = ("newest", "relevance")
KINDS = {"out": ("หนังสือออก", "Outgoing"), "in": ("หนังสือเข้า", "Incoming")}
INCOMING_TYPES = {
    IncomingSource.ELECTRONIC: ("หนังสือเข้าทางอิเล็กทรอนิกส์", "Incoming, electronic"),
    IncomingSource.PAPER: ("หนังสือเข้าฉบับกระดาษ", "Incoming, paper"),
}


def status_label(kind: str, status: str, lang: str) -> str:
    """The status of a hit in words: a letter's (``LetterStatus``) or an incoming letter's (``IncomingStatus``)."""
    choices = LetterStatus if kind == "out" else IncomingStatus
    if status not in choices.values:
        return status
    label = choices(status).label
    return pick(label if isinstance(label, str) else str(label), lang)  # a ``Label``: its halves


class SearchForm(BilingualForm):
    """The words and the filters: dates in พ.ศ., kind, type, status, urgency, unit, attachment."""

    labels = {
        "q": ("ค้นหา", "Search"), "date_from": ("ลงวันที่ตั้งแต่", "Dated from"), "date_to": ("ถึงวันที่", "to"),
        "kind": ("หนังสือ", "Letters"), "type": ("ประเภท", "Type"), "status": ("สถานะ", "Status"),
        "urgency": ("ชั้นความเร็ว", "Urgency"), "unit": ("หน่วยงาน", "Unit"),
        "has_attachment": ("มีสิ่งที่ส่งมาด้วย", "With enclosures"),
    }
    q = forms.CharField(required=False, strip=False)  # the engine says what is too long, in its words
    date_from = forms.CharField(required=False, max_length=20)
    date_to = forms.CharField(required=False, max_length=20)
    kind = forms.ChoiceField(required=False)
    type = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False)
    urgency = forms.ChoiceField(required=False)
    unit = forms.CharField(required=False, max_length=255)
    has_attachment = forms.BooleanField(required=False)

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        lang = text(request, "th", "en")
        en = lang == "en"
        every = ("", self.t("ทั้งหมด", "All"))
        self._choices("kind", [every, *((k, v[1] if en else v[0]) for k, v in KINDS.items())])
        self._choices("type", [every, (self.t("หนังสือออก", "Outgoing"), [
            (t.value, t.label_en if en else t.label_th) for t in LetterType]),
            (self.t("หนังสือเข้า", "Incoming"), [
                (f"incoming_{s.value}", v[1] if en else v[0]) for s, v in INCOMING_TYPES.items()])])
        self._choices("status", [every, (self.t("หนังสือออก", "Outgoing"), [
            (s.value, pick(s.label, lang)) for s in LetterStatus]),
            (self.t("หนังสือเข้า", "Incoming"), [(s.value, pick(s.label, lang)) for s in IncomingStatus])])
        self._choices("urgency", [every, *((k, v[1] if en else v[0]) for k, v in URGENCY_LABELS.items())])
        self.fields["q"].widget = forms.TextInput(attrs={
            "type": "search", "data-search": "", "maxlength": MAX_QUERY_CHARS, "size": 40, "autocomplete": "off",
            "placeholder": self.t("เลขที่ เรื่อง ชื่อหน่วยงาน หรือข้อความในหนังสือ", "Number, subject, organisation or text"),
        })
        for name in ("date_from", "date_to"):
            self.fields[name].widget = thai_date_widget(request)
        self.fields["unit"].widget.attrs.update({"size": 18})

    def _choices(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_date_from(self) -> dt.date | None:
        """The first day, typed d/m/พ.ศ."""
        return parse_be_date(self, self.cleaned_data.get("date_from", ""))

    def clean_date_to(self) -> dt.date | None:
        """The last day, typed d/m/พ.ศ."""
        return parse_be_date(self, self.cleaned_data.get("date_to", ""))

    def clean(self) -> dict[str, Any]:
        """The range runs forwards."""
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", self.t("วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น", "The end date cannot be before the start date"))
        return data

    def filters(self) -> Filters:
        """The filters chosen, for the engine (after ``is_valid``)."""
        data = self.cleaned_data
        return Filters(
            date_from=data.get("date_from"), date_to=data.get("date_to"), kind=data.get("kind") or "",
            letter_type=data.get("type") or "", status=data.get("status") or "", urgency=data.get("urgency") or "",
            unit=(data.get("unit") or "").strip(), has_attachment=True if data.get("has_attachment") else None,
        )

    @property
    def filtered(self) -> bool:
        """Whether any filter is chosen (the filters' box then opens by itself)."""
        return any(self.data.get(name) for name in ("date_from", "date_to", "kind", "type", "status", "urgency",
                                                    "unit", "has_attachment"))


@dataclass(frozen=True)
class Row:
    """One hit as the page shows it."""

    hit: Hit
    kind: str  # หนังสือออก / หนังสือเข้า
    status: str
    urgency: str  # "" for normal
    secrecy: str  # "" when not classified


def _row(hit: Hit, lang: str) -> Row:
    entry, en = hit.entry, lang == "en"
    urgency = URGENCY_LABELS.get(entry.urgency) if entry.urgency not in ("", "normal") else None
    secrecy = SECRECY_LABELS.get(entry.secrecy) if entry.secrecy not in ("", "normal") else None
    kind = KINDS.get(entry.kind, (entry.kind, entry.kind))
    return Row(
        hit=hit, kind=kind[1] if en else kind[0], status=status_label(entry.kind, entry.status, lang),
        urgency=(urgency[1] if en else urgency[0]) if urgency else "",
        secrecy=(secrecy[1] if en else secrecy[0]) if secrecy else "",
    )


def page_number(value: str | None) -> int:
    """``?page=`` as a page number: 1 for anything else, at most ``MAX_PAGE``."""
    return min(int(value), MAX_PAGE) if value and value.isdigit() and int(value) >= 1 else 1


@require_GET
@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    """ค้นหาหนังสือ: ``?q=`` words, the filters, ``&sort=relevance``, ``&page=``."""
    form = SearchForm(request.GET, request=request)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "newest"
    context: dict[str, Any] = {"form": form, "sort": sort, "results": None, "rows": []}
    if not form.is_valid():
        return render(request, "web/search.html", context, status=400)
    query = form.cleaned_data["q"]
    context["query"] = query.strip()
    if not query.strip():
        return render(request, "web/search.html", context)
    try:
        results: Results = search(person_of(request), query, filters=form.filters(),
                                  page=page_number(request.GET.get("page")), relevance=sort == "relevance")
    except ValidationFailed as exc:
        errors.add_to_form(request, form, exc)
        return render(request, "web/search.html", context, status=errors.status_of(exc))
    lang = text(request, "th", "en")
    context.update(results=results, rows=[_row(hit, lang) for hit in results.hits])
    return render(request, "web/search.html", context)
