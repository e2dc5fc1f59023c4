"""Search: one search over every letter the caller may open, as the search page shows it (``search.engine``).

The results are the caller's alone: letters of their organisations (and elsewhere, those they take
part in), through the letter pages' own access rules (units, participants, secrecy grants). Twenty a
page, newest first or subject hits first; never a count, only whether there are more (``has_more``),
and ``narrow`` when the search is so broad that it stopped before looking through every candidate.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from saraban.core.errors import FieldProblem, RuleViolated
from saraban.regulation.kinds import Urgency
from saraban.search.engine import MAX_CANDIDATES, PAGE, Filters, Hit, search
from saraban.search.query import MAX_QUERY_CHARS

from ..auth import person_of
from ..schemas import ERRORS, IsoDate, Text

router = Router(tags=["search"])
MAX_PAGE = MAX_CANDIDATES // PAGE  # past it the engine has stopped looking: the search must be narrowed

#: Outgoing letters' types (``regulation.kinds.LetterType``) and incoming letters' sources.
SearchType = Literal[
    "external", "internal", "stamped", "directive", "public_relations", "record",
    "incoming_electronic", "incoming_paper",
]
#: Outgoing letters' statuses (``LetterStatus``) and incoming letters' (``IncomingStatus``).
SearchStatus = Literal[
    "draft", "in_review", "approved", "signed", "numbered", "sent", "closed", "cancelled", "superseded",
    "delivered", "registered", "assigned", "acted", "returned",
]


class SearchQuery(Schema):
    """The words (all must be found; "…" for a phrase) and the filters; dates are ISO (ค.ศ.)."""

    q: Text = Field("", max_length=MAX_QUERY_CHARS, description="The words; empty: no results")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    sort: Literal["newest", "relevance"] = "newest"
    date_from: IsoDate | None = Field(None, description="The letter's date (or when it arrived), from")
    date_to: IsoDate | None = None
    kind: Literal["out", "in"] | None = Field(None, description="out: outgoing letters and drafts; in: incoming")
    type: SearchType | None = None
    status: SearchStatus | None = None
    urgency: Urgency | None = None
    unit: Text = Field("", max_length=255, description="Part of the owning (or assigned) unit's name")
    has_attachment: bool | None = None


class SearchPassage(Schema):
    """The letter's text around the first hit: before it, the hit as written, after it."""

    before: str
    hit: str
    after: str


class SearchResult(Schema):
    """One letter found: ``url`` is its page in the web interface."""

    kind: Literal["out", "in"]
    id: int
    url: str
    number: str
    subject: str
    date: dt.date | None
    parties: str
    urgency: str
    status: str
    passage: SearchPassage | None


class SearchResults(Schema):
    """A page of results: no count, whether there are more, and whether the search should be narrowed."""

    page: int
    has_more: bool
    narrow: bool
    results: list[SearchResult]


def _filters(query: SearchQuery) -> Filters:
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise RuleViolated([FieldProblem(
            "date_to", "before_start", "วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น", "The end date cannot be before the start date",
        )])
    return Filters(
        date_from=query.date_from, date_to=query.date_to, kind=query.kind or "", letter_type=query.type or "",
        status=query.status or "", urgency=query.urgency.value if query.urgency else "", unit=query.unit.strip(),
        has_attachment=query.has_attachment,
    )


def _result(hit: Hit) -> dict[str, object]:
    entry, passage = hit.entry, hit.passage
    return {
        "kind": entry.kind, "id": entry.object_id, "url": hit.url, "number": entry.number, "subject": entry.subject,
        "date": entry.date, "parties": entry.parties, "urgency": entry.urgency, "status": entry.status,
        "passage": {"before": passage.before, "hit": passage.hit, "after": passage.after} if passage else None,
    }


@router.get("/search", response={200: SearchResults, **ERRORS}, summary="Search letters")
def search_letters(request: HttpRequest, query: Query[SearchQuery]) -> dict[str, object]:
    """Letters the caller may open holding every word of ``q``, with the passage around the first hit.

    An empty ``q`` finds nothing (200, no results); a ``q`` over 500 characters or of more than 10 words,
    an unreadable date or a range that ends before it starts is a 400.
    """
    person = person_of(request)
    filters = _filters(query)
    if not query.q.strip():
        return {"page": query.page, "has_more": False, "narrow": False, "results": []}
    found = search(person, query.q, filters=filters, page=query.page, relevance=query.sort == "relevance")
    return {"page": found.page, "has_more": found.has_more, "narrow": found.narrow,
            "results": [_result(hit) for hit in found.hits]}
