"""Searching the index: candidates by trigram index, then exactly the letters the person may open.

1. **Candidates.** Every term must be found (any of its forms) in an entry's folded text: SQLite's
   FTS5 trigram ``MATCH`` (a quoted string matches as a substring) or PostgreSQL's ``LIKE '%…%'``
   served by the ``pg_trgm`` GIN index. A term shorter than three characters cannot use a trigram
   index and is checked on the rows the others found (or, alone, by a scan that stops at a page).
   Newest first (entry ids follow the letters' age), or hits in the number, subject or parties first.
   Newest first on PostgreSQL reads the newest entries in order while the terms are common enough to
   fill a page soon, and gives the rest to the index when they are rare (``_newest_postgres``).
   The filters (dates, type, status, urgency, unit, register, attachment) are conditions on the entry,
   and so are the organisations the person works in: another organisation's letter is never a
   candidate.
2. **Access.** Candidates go through the very querysets the letter pages use
   (``letters_visible_to``, ``incoming_visible_to``), in batches, until a page is full: secrecy
   grants, units and participants apply exactly as there.

No hit is counted beyond the page: the page says whether there are more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from saraban.access.policy import organisations_of
from saraban.correspondence.selectors import letters_visible_to
from saraban.directory.models import Person
from saraban.inbox.selectors import incoming_visible_to

from .models import SearchEntry, SpellingVariant
from .normalize import passage_pattern
from .query import Query, parse

PAGE = 20
BATCH = 200
MAX_CANDIDATES = 5_000  # looked through for one page; past them the person is asked to narrow the search
PASSAGE_CHARS = 160


@dataclass(frozen=True)
class Filters:
    """What the results are narrowed to, besides the words (all optional)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str = ""  # out | in
    letter_type: str = ""
    status: str = ""
    urgency: str = ""
    unit: str = ""  # part of the owning or assigned unit's name
    book: int | None = None
    has_attachment: bool | None = None

    def q(self) -> Q:
        """The filters as conditions on ``SearchEntry``."""
        found = Q()
        if self.date_from:
            found &= Q(date__gte=self.date_from)
        if self.date_to:
            found &= Q(date__lte=self.date_to)
        for field in ("kind", "letter_type", "status", "urgency"):
            if getattr(self, field):
                found &= Q(**{field: getattr(self, field)})
        if self.unit:
            found &= Q(unit__icontains=self.unit)
        if self.book is not None:
            found &= Q(book=self.book)
        if self.has_attachment is not None:
            found &= Q(has_attachment=self.has_attachment)
        return found


@dataclass(frozen=True)
class Passage:
    """A piece of the letter's text around the first hit: before, the hit, after (escaped by the template)."""

    before: str
    hit: str
    after: str


@dataclass(frozen=True)
class Hit:
    """One letter found."""

    entry: SearchEntry
    passage: Passage | None

    @property
    def url(self) -> str:
        """The letter's page."""
        return f"/letters/{self.entry.object_id}/" if self.entry.kind == "out" else \
            f"/inbox/{self.entry.object_id}/"


@dataclass(frozen=True)
class Results:
    """A page of hits, and whether there are more after it (never a count)."""

    hits: list[Hit]
    page: int
    has_more: bool
    narrow: bool = False  # so many candidates the person could not see that the search stopped: narrow it


def variant_sets() -> list[tuple[str, ...]]:
    """The editable variant spellings, grouped."""
    groups: dict[str, list[str]] = {}
    for spelling, group in SpellingVariant.objects.values_list("spelling", "group"):
        groups.setdefault(group, []).append(spelling)
    return [tuple(spellings) for spellings in groups.values() if len(spellings) > 1]


def _fts_quote(form: str) -> str:
    return '"' + form.replace('"', '""') + '"'


def _like(form: str) -> str:
    return "%" + form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _candidate_sql(query: Query, scope: Q, *, relevance: bool, window: bool = False) -> tuple[str, list[object]]:
    """SQL selecting candidate entry ids in order, with ``LIMIT %s OFFSET %s`` left to fill (and, with
    ``window``, the id range ``> %s AND <= %s`` before them)."""
    base = SearchEntry.objects.filter(scope).values("id")
    where_sql, where_params = base.query.get_compiler(connection=connection).compile(base.query.where) \
        if base.query.where else ("", [])
    params: list[object] = list(where_params)
    conditions = [where_sql] if where_sql else []
    table = SearchEntry._meta.db_table
    source, order_column = table, f"{table}.id"
    indexed = [t for t in query.terms if min(len(f) for f in t.forms) >= 3]
    checked = [t for t in query.terms if t not in indexed]
    if connection.vendor == "sqlite" and indexed:
        # The FTS table drives (CROSS JOIN keeps it the outer loop), newest first by its own rowid, so a
        # page of a common word stops early instead of sorting every hit.
        source = f"{table}_fts CROSS JOIN {table} ON {table}.id = {table}_fts.rowid"
        order_column = f"{table}_fts.rowid"
        conditions.append(f"{table}_fts MATCH %s")
        params.append(" AND ".join("(" + " OR ".join(_fts_quote(f) for f in t.forms) + ")" for t in indexed))
    else:
        checked = list(query.terms)
    for term in checked:
        if connection.vendor == "sqlite":
            conditions.append("(" + " OR ".join(f"instr({table}.text, %s) > 0" for _ in term.forms) + ")")
            params.extend(term.forms)
        else:
            conditions.append("(" + " OR ".join(f"{table}.text LIKE %s" for _ in term.forms) + ")")
            params.extend(_like(f) for f in term.forms)
    order = f"{order_column} DESC"
    if window:  # last among the conditions: its two values go just before LIMIT and OFFSET
        conditions.append(f"{order_column} > %s AND {order_column} <= %s")
    if relevance:
        scored = " + ".join(
            "(CASE WHEN " + " OR ".join(
                (f"instr({table}.title, %s) > 0" if connection.vendor == "sqlite" else f"{table}.title LIKE %s")
                for _ in term.forms) + " THEN 1 ELSE 0 END)" for term in query.terms)
        order = f"({scored}) DESC, {order}"
        for term in query.terms:
            params.extend(term.forms if connection.vendor == "sqlite" else [_like(f) for f in term.forms])
    where = " AND ".join(f"({c})" for c in conditions) or "1=1"
    return f"SELECT {table}.id FROM {source} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s", params


# SQLite, newest first, is read in windows of entry ids, the newest first: a word found in many letters
# fills a page from the first window without the index having to gather all its hits; a rare one reads on.
WINDOWS = (25_000, 100_000, 400_000)


def _windows(top: int) -> list[tuple[int, int]]:
    bounds, upper = [], top
    for size in WINDOWS:
        if upper <= 0:
            break
        bounds.append((max(upper - size, 0), upper))
        upper -= size
    if upper > 0:
        bounds.append((0, upper))
    return bounds


def _pages(sql: str, params: list[object], batch: int, extra: list[object]) -> Iterator[list[int]]:
    offset = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *extra, batch, offset])  # type: ignore[list-item]
            ids = [row[0] for row in cursor.fetchall()]
        if ids:
            yield ids
        if len(ids) < batch:
            return
        offset += batch


# PostgreSQL, newest first: the newest entries of the scope are read in id order, each checked with
# strpos (no index), while hits come often enough; the GIN index takes the rest over when a term is rare.
# A pg_trgm GIN scan cannot stop at a page or keep to a range of ids: for a common word it gathers and
# rechecks every hit in the table (5 s for ภาษีที่ดิน at 1M), while reading the newest rows finds a page
# in a few hundred. For a rare one reading on costs a row per row, the index a few rows per hit.
FIRST_READ = 1_000  # rows read before the hit rate decides
MAX_READ = 16_000  # rows read in one query (then the rate decides again)
INDEX_COST = 3  # what a hit costs through the GIN index, in rows read (bitmap heap fetch and LIKE recheck)
_NO_ID = 2**63 - 1


def _scope_sql(scope: Q) -> tuple[str, list[object]]:
    base = SearchEntry.objects.filter(scope).values("id")
    if not base.query.where:
        return "1=1", []
    sql, params = base.query.get_compiler(connection=connection).compile(base.query.where)
    return sql or "1=1", list(params)


def _newest_postgres(query: Query, scope: Q, batch: int, first: int) -> Iterator[list[int]]:
    table = SearchEntry._meta.db_table
    where, params = _scope_sql(scope)
    found = " AND ".join("(" + " OR ".join("strpos(s.text, %s) > 0" for _ in t.forms) + ")" for t in query.terms)
    forms: list[object] = [f for t in query.terms for f in t.forms]
    # The next %s rows of the scope below an id, numbered: the hits among them, and the last row (n = %s,
    # so that the next read starts below it), until %s rows are returned.
    read_sql = (
        f"SELECT t.id, t.hit, t.n FROM (SELECT s.id, ({found}) AS hit, row_number() OVER (ORDER BY s.id DESC) AS n "
        f"FROM (SELECT id, text FROM {table} WHERE ({where}) AND id < %s ORDER BY id DESC LIMIT %s) s) t "
        f"WHERE t.hit OR t.n = %s LIMIT %s")
    indexed = any(min(len(f) for f in t.forms) >= 3 for t in query.terms)
    # Hits are handed on in whole batches (a page's worth first, so that a page of a common word reads
    # no more than it needs; then ``batch``): each batch costs the access check a query of its own.
    pending: list[int] = []
    size, bound, rows = first, _NO_ID, FIRST_READ
    read = hits = 0
    with connection.cursor() as cursor:
        while True:
            want = size - len(pending)
            cursor.execute(read_sql, [*forms, *params, bound, rows, rows, want])  # type: ignore[list-item]
            returned = cursor.fetchall()
            ids = [pk for pk, hit, _ in returned if hit]
            low: int | None = None
            if returned and returned[-1][2] == rows:  # every row read: go on below the last
                low, read = returned[-1][0], read + rows
            elif len(ids) == want:  # the batch is full before the rows ran out: go on below its last hit
                low, read = ids[-1], read + returned[-1][2]
            hits += len(ids)
            pending += ids
            if len(pending) == size:
                yield pending
                pending, size = [], batch
            if low is None:  # fewer rows than asked for: none are left
                if pending:
                    yield pending
                return
            bound, rate = low, hits / read
            # Read on while it costs less than the index would: want / rate rows against about
            # INDEX_COST rows for each hit the index gathers, and it gathers them all (about rate times
            # the rows read and the ids below), whatever range of ids is asked for.
            if indexed and (rate == 0 or (size - len(pending)) / rate > INDEX_COST * rate * (read + bound)):
                break
            rows = min(rows * 2, MAX_READ)
    like = " AND ".join("(" + " OR ".join(f"{table}.text LIKE %s" for _ in t.forms) + ")" for t in query.terms)
    patterns: list[object] = [_like(f) for t in query.terms for f in t.forms]
    # id + 0: ordered after the index scan, not by walking the id index (a plan that reads every row
    # for a rare word).
    index_sql = f"SELECT id FROM {table} WHERE ({where}) AND {like} AND id < %s ORDER BY id + 0 DESC LIMIT %s"
    while True:
        want = size - len(pending)
        with connection.cursor() as cursor:
            cursor.execute(index_sql, [*params, *patterns, bound, want])  # type: ignore[list-item]
            ids = [row[0] for row in cursor.fetchall()]
        pending += ids
        if len(ids) < want:
            if pending:
                yield pending
            return
        yield pending
        pending, size, bound = [], batch, ids[-1]


def candidates(query: Query, scope: Q, *, relevance: bool = False, batch: int = BATCH,
               first: int | None = None) -> Iterator[list[int]]:
    """Candidate entry ids in order, a batch at a time (the first of ``first`` when given: a page's worth)."""
    if relevance:
        sql, params = _candidate_sql(query, scope, relevance=True)
        yield from _pages(sql, params, batch, [])
        return
    if connection.vendor == "postgresql":
        yield from _newest_postgres(query, scope, batch, first or batch)
        return
    sql, params = _candidate_sql(query, scope, relevance=False, window=True)
    top = SearchEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for low, high in _windows(top):
        yield from _pages(sql, params, batch, [low, high])


def _scope(person: Person, filters: Filters) -> Q:
    """The person's organisations (and letters elsewhere they take part in) and the filters."""
    mine = organisations_of(person)
    elsewhere_out = list(letters_visible_to(person).exclude(organisation_id__in=mine)
                         .values_list("pk", flat=True)[:1000])
    elsewhere_in = list(incoming_visible_to(person).exclude(organisation_id__in=mine)
                        .values_list("pk", flat=True)[:1000])
    reach = Q(organisation_id__in=mine)
    if elsewhere_out:
        reach |= Q(kind="out", object_id__in=elsewhere_out)
    if elsewhere_in:
        reach |= Q(kind="in", object_id__in=elsewhere_in)
    return reach & filters.q()


def _visible(person: Person, entries: list[SearchEntry]) -> list[SearchEntry]:
    out = {e.object_id for e in entries if e.kind == "out"}
    inn = {e.object_id for e in entries if e.kind == "in"}
    may_out = set(letters_visible_to(person).filter(pk__in=out).values_list("pk", flat=True)) if out else set()
    may_in = set(incoming_visible_to(person).filter(pk__in=inn).values_list("pk", flat=True)) if inn else set()
    return [e for e in entries if (e.object_id in may_out if e.kind == "out" else e.object_id in may_in)]


def passage(entry: SearchEntry, query: Query) -> Passage | None:
    """The first hit of a term in the letter's text, with some text around it."""
    for term in query.terms:
        for form in term.forms:
            found = passage_pattern(form).search(entry.display)
            if found:
                start, end = found.span()
                room = max(0, (PASSAGE_CHARS - (end - start)) // 2)
                before = entry.display[max(0, start - room):start]
                after = entry.display[end:end + room]
                return Passage(("…" if start > room else "") + before.replace("\n", " "), found.group(0),
                               after.replace("\n", " ") + ("…" if end + room < len(entry.display) else ""))
    return None


def search(person: Person, text: str, *, filters: Filters | None = None, page: int = 1,
           relevance: bool = False) -> Results:
    """A page of the letters ``person`` may open that hold every term of ``text`` (``ValidationFailed``
    for an empty or too long search)."""
    query = parse(text, variant_sets=variant_sets())
    scope = _scope(person, filters or Filters())
    wanted_from, wanted = (max(page, 1) - 1) * PAGE, PAGE + 1
    seen, looked = [], 0
    for ids in candidates(query, scope, relevance=relevance, first=wanted_from + wanted):
        by_id = SearchEntry.objects.in_bulk(ids)
        entries = [by_id[i] for i in ids if i in by_id]
        seen.extend(_visible(person, entries))
        looked += len(ids)
        if len(seen) >= wanted_from + wanted:
            break
        if looked >= MAX_CANDIDATES:
            return Results([Hit(e, passage(e, query)) for e in seen[wanted_from:wanted_from + PAGE]], page,
                           has_more=False, narrow=True)
    chosen = seen[wanted_from:wanted_from + wanted]
    return Results([Hit(e, passage(e, query)) for e in chosen[:PAGE]], page, has_more=len(chosen) > PAGE)


def matching_ids(query: Query, scope: Q | None = None) -> list[int]:
    """Every entry id holding the query's terms, newest first, access not applied (benchmarks, tests)."""
    return [i for ids in candidates(query, scope or Q(), batch=10_000) for i in ids]
