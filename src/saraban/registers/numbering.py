"""Drawing register numbers: atomic, no gap, no duplicate, never reused.

An allocation is two short transactions:

1. The entry is written without a number ("pending") and committed. Many clients do this at once.
2. The book's row is locked. If another client has already numbered our entry, we are done.
   Otherwise we number *every* pending entry of the book, in the order they were written, from
   ``last_number + 1`` on, raise ``last_number`` and write one audit event per number, all in one
   transaction.

A number therefore exists only together with its entry and its audit event (no gaps), the row lock
serialises the drawing (no duplicates), and one commit numbers a whole queue of waiting clients, so
the lock is held for one disk flush per batch rather than per number. An entry whose client died
between the two steps is numbered by the next allocation: it was registered, so it gets a number.

Callers that hold an open transaction still get correct numbers; both steps then run inside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from saraban.audit.services import EventSpec, append_events
from saraban.core.thai import local_date

from .models import BookKind, RegisterBook

_book_ids: dict[tuple[str, int, str, int], int] = {}


@dataclass(frozen=True)
class EntryFields:
    """The register columns known when a letter is registered (before its number is)."""

    number_template: str = ""  # "นร 0105/{n}"; empty for received letters
    letter_number: str = ""  # ที่ of a received letter
    letter_date: dt.date | None = None
    sender: str = ""
    recipient: str = ""
    subject: str = ""
    action: str = ""
    remarks: str = ""
    letter_id: int | None = None
    registered_by_id: int | None = None


def book_for(organisation_id: int, kind: BookKind | str, year: int) -> int:
    """The id of the organisation's book of ``kind`` for ``year``, created on first use."""
    key = (connection.alias, organisation_id, str(kind), year)
    if key in _book_ids:
        return _book_ids[key]
    found = RegisterBook.objects.filter(organisation_id=organisation_id, kind=kind, year=year).values_list(
        "id", flat=True
    ).first()
    if found is None:
        # Two clients may create the same book at once: ignore the loser's insert and read the winner's.
        RegisterBook.objects.bulk_create(
            [RegisterBook(organisation_id=organisation_id, kind=kind, year=year)], ignore_conflicts=True
        )
        found = RegisterBook.objects.values_list("id", flat=True).get(
            organisation_id=organisation_id, kind=kind, year=year
        )
    if not connection.in_atomic_block:
        _book_ids[key] = found  # only cache ids that are committed
    return found


def forget_cached_books() -> None:
    """Drop the cache of book ids (tests that flush the database call this)."""
    _book_ids.clear()


@dataclass(frozen=True)
class Allocation:
    """A drawn number: the register entry it belongs to and the letter number it gives."""

    entry_id: int
    book_id: int
    number: int
    letter_number: str


_INSERT_PENDING = (
    "INSERT INTO registers_registerentry (book_id, number, number_template, registered_at, letter_number, "
    "letter_date, sender, recipient, subject, action, remarks, letter_id, status, cancelled_reason, "
    "registered_by_id) VALUES (%s, NULL, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'active', '', %s) RETURNING id"
)
_LOCK_BOOK = "SELECT last_number FROM registers_registerbook WHERE id = %s"
# Read in its own statement after the lock is granted: under READ COMMITTED a statement sees the rows
# committed before it began, so this sees the numbers the previous lock holder wrote.
_OUR_NUMBER = "SELECT number, letter_number FROM registers_registerentry WHERE id = %s"
# Numbers every pending entry of the book in the order they were written.
_NUMBER_PENDING = (
    "UPDATE registers_registerentry SET number = p.last + p.rn, "
    "letter_number = CASE WHEN registers_registerentry.number_template = '' "
    "THEN registers_registerentry.letter_number "
    "ELSE REPLACE(registers_registerentry.number_template, '{n}', CAST(p.last + p.rn AS TEXT)) END "
    "FROM (SELECT id, %s AS last, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM registers_registerentry "
    "WHERE book_id = %s AND number IS NULL) p WHERE registers_registerentry.id = p.id "
    "RETURNING registers_registerentry.id, registers_registerentry.number, "
    "registers_registerentry.letter_number, registers_registerentry.letter_id, "
    "registers_registerentry.registered_by_id"
)


def allocate(
    organisation_id: int,
    kind: BookKind | str,
    fields: EntryFields,
    *,
    at: dt.datetime | None = None,
    actor_label: str = "",
) -> Allocation:
    """Register ``fields`` in the organisation's book of ``kind`` and give the entry its number."""
    moment = at or timezone.now()
    book_id = book_for(organisation_id, kind, local_date(moment).year)
    params: list[Any] = [
        book_id, fields.number_template, moment, fields.letter_number, fields.letter_date, fields.sender,
        fields.recipient, fields.subject, fields.action, fields.remarks, fields.letter_id,
        fields.registered_by_id,
    ]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _allocate_concurrently(book_id, organisation_id, params, actor_label)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_INSERT_PENDING, params)
        entry_id = int(cursor.fetchone()[0])
    return number_pending(book_id, organisation_id, entry_id, actor_label=actor_label)


def _allocate_concurrently(book_id: int, organisation_id: int, params: list[Any], actor_label: str) -> Allocation:
    """The PostgreSQL path outside a transaction: two round trips for most clients.

    The pending entry is inserted in autocommit; then ``saraban_await_number`` waits for the book's
    lock and reads our number. Only when no batch has numbered our entry yet do we open the
    transaction that numbers every pending entry.
    """
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_PENDING, params)
        entry_id = int(cursor.fetchone()[0])
        cursor.execute("SELECT last_number, number, letter_number FROM saraban_await_number(%s, %s)",
                       [book_id, entry_id])
        _last, number, letter_number = cursor.fetchone()
    if number is not None:
        return Allocation(entry_id, book_id, int(number), letter_number)
    return number_pending(book_id, organisation_id, entry_id, actor_label=actor_label)


def number_pending(book_id: int, organisation_id: int, entry_id: int, *, actor_label: str = "") -> Allocation:
    """Number the book's pending entries unless ``entry_id`` already has its number; return its number."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK_BOOK + lock, [book_id])
        (last,) = cursor.fetchone()
        cursor.execute(_OUR_NUMBER, [entry_id])
        number, letter_number = cursor.fetchone()
        if number is not None:
            return Allocation(entry_id, book_id, int(number), letter_number)
        cursor.execute(_NUMBER_PENDING, [last, book_id])
        numbered = sorted(cursor.fetchall(), key=lambda row: row[1])
        cursor.execute(
            "UPDATE registers_registerbook SET last_number = %s WHERE id = %s", [last + len(numbered), book_id]
        )
        _audit_numbers(organisation_id, book_id, numbered, actor_label)
    mine = next((row for row in numbered if row[0] == entry_id), None)
    if mine is None:
        raise RuntimeError(f"register entry {entry_id} was not numbered")  # cannot happen under the lock
    return Allocation(entry_id, book_id, int(mine[1]), mine[2])


def _audit_numbers(
    organisation_id: int, book_id: int, numbered: Sequence[tuple[int, int, str, int | None, int | None]],
    actor_label: str,
) -> None:
    specs = []
    for entry_id, number, letter_number, letter_id, registered_by_id in numbered:
        state = {"book_id": book_id, "number": number, "letter_id": letter_id, "letter_number": letter_number}
        specs.append(EventSpec(
            action="register.number_issued", object_type="register_entry", object_id=entry_id,
            actor_id=registered_by_id, actor_label=actor_label or "system", after=state, detail=state,
        ))
    append_events(organisation_id, specs)
