"""Drawing register numbers: atomic, no gap, no duplicate, never reused, with any number of processes.

A number is drawn under the row lock of its book, which the database holds: one ``UPDATE … SET
last_number = last_number + n … RETURNING`` takes the lock (PostgreSQL's row lock; SQLite lets one
writer at a time anyway), the new entries get the numbers after the old ``last_number`` and an audit
event is appended, all in one transaction. If anything fails, nothing of it stays (no gap); the lock
serialises drawing across every thread and process of every app server and worker (no duplicates);
the unique constraint on (book, number) backs both up. Nothing in a process's memory decides a
number, so two app servers and two workers on one database draw correctly side by side
(``tests/test_numbering_races.py`` runs separate processes).

The lock is held until the commit, that is for one disk flush. So that a burst of requests does not
pay one flush per number, the clients of one process that want numbers from the same book queue in
memory: one of them (the driver) takes the whole queue and draws all its numbers in one transaction,
with one multi-row INSERT, then hands the queue to the next waiting client. The queue only shares
flushes; another process's clients queue in their own process and wait on the same row lock.

A caller that holds an open transaction draws inside it (the book stays locked until it commits):
keep such transactions short. A PKI signature reserves its number (``EntryStatus.RESERVED``) in a
transaction of its own and signs after the commit, never under the lock (``registers.services``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from saraban.audit.services import EventSpec, append_events
from saraban.core.thai import local_date

from .models import BookKind, EntryStatus, RegisterBook

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
    status: str = EntryStatus.ACTIVE  # RESERVED: drawn for a signature still being made


@dataclass(frozen=True)
class Allocation:
    """A drawn number: the register entry it belongs to and the letter number it gives."""

    entry_id: int
    book_id: int
    number: int
    letter_number: str


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
    """Drop the cache of book ids (tests that empty the database call this)."""
    _book_ids.clear()


@dataclass
class _Request:
    """One client's wish for a number, waiting in its book's queue."""

    fields: EntryFields
    registered_at: dt.datetime
    actor_label: str
    wake: threading.Event = field(default_factory=threading.Event)
    result: Allocation | None = None
    error: BaseException | None = None

    @property
    def served(self) -> bool:
        return self.result is not None or self.error is not None

    def outcome(self) -> Allocation:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


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
    request = _Request(fields, moment, actor_label)
    if connection.in_atomic_block:
        return _draw(book_id, organisation_id, [request])[0]
    _queue_for(connection.alias, book_id, organisation_id).submit(request)
    return request.outcome()


class _BookQueue:
    """The clients of one process waiting for numbers of one book (see the module's docstring)."""

    def __init__(self, book_id: int, organisation_id: int) -> None:
        self.book_id = book_id
        self.organisation_id = organisation_id
        self.lock = threading.Lock()
        self.waiting: list[_Request] = []
        self.driving = False
        self.last_batch = 1

    def submit(self, request: _Request) -> None:
        with self.lock:
            self.waiting.append(request)
            drive = not self.driving
            self.driving = True
        if not drive:
            request.wake.wait()
            if request.served:
                return
        # Woken to drive (or first in line): serve the queue until our own request is served.
        while not request.served:
            if len(self.waiting) < self.last_batch:
                # The clients served by the last batch are on their way back: a moment's wait
                # lets their next requests share this batch's disk flush.
                time.sleep(GATHER_SECONDS)
            with self.lock:
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
            self.last_batch = len(batch)
            self._serve(batch)
        with self.lock:
            if self.waiting:
                self.waiting[0].wake.set()  # the next client drives
            else:
                self.driving = False

    def _serve(self, batch: list[_Request]) -> None:
        try:
            allocations = _draw(self.book_id, self.organisation_id, batch)
        except BaseException as exc:  # every client of the batch gets the failure; nothing was drawn
            for r in batch:
                r.error = exc
                r.wake.set()
            return
        for r, allocation in zip(batch, allocations, strict=True):
            r.result = allocation
            r.wake.set()


MAX_BATCH = 500
GATHER_SECONDS = 0.001
_queues: dict[tuple[str, int], _BookQueue] = {}
_queues_lock = threading.Lock()


def _queue_for(alias: str, book_id: int, organisation_id: int) -> _BookQueue:
    with _queues_lock:
        queue = _queues.get((alias, book_id))
        if queue is None:
            queue = _queues[(alias, book_id)] = _BookQueue(book_id, organisation_id)
        return queue


_INSERT = (
    "INSERT INTO registers_registerentry (book_id, number, number_template, registered_at, letter_number, "
    "letter_date, sender, recipient, subject, action, remarks, letter_id, status, cancelled_reason, "
    "registered_by_id) VALUES "
)
_VALUES = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', %s)"


def _draw(book_id: int, organisation_id: int, requests: Sequence[_Request]) -> list[Allocation]:
    """Draw the next numbers of the book for ``requests``, in order, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The UPDATE takes the book's row lock and draws the whole batch at once.
        cursor.execute(
            "UPDATE registers_registerbook SET last_number = last_number + %s WHERE id = %s RETURNING last_number",
            [len(requests), book_id],
        )
        last = int(cursor.fetchone()[0]) - len(requests)
        params: list[Any] = []
        letter_numbers = []
        for n, r in enumerate(requests, last + 1):
            f = r.fields
            letter_number = f.number_template.replace("{n}", str(n)) if f.number_template else f.letter_number
            letter_numbers.append(letter_number)
            params += [
                # Raw SQL skips the field's conversion: SQLite would keep "…+07:00" text that does not
                # compare with the naive UTC text the ORM writes and filters with.
                book_id, n, f.number_template, connection.ops.adapt_datetimefield_value(r.registered_at),
                letter_number, f.letter_date, f.sender,
                f.recipient, f.subject, f.action, f.remarks, f.letter_id, str(f.status), f.registered_by_id,
            ]
        cursor.execute(_INSERT + ", ".join([_VALUES] * len(requests)) + " RETURNING id", params)
        # Ids come from one sequence in row order; RETURNING's own order is not promised.
        ids = sorted(int(row[0]) for row in cursor.fetchall())
        allocations = [
            Allocation(entry_id, book_id, n, letter_number)
            for n, (entry_id, letter_number) in enumerate(zip(ids, letter_numbers, strict=True), last + 1)
        ]
        append_events(organisation_id, [
            EventSpec(
                action="register.number_issued", object_type="register_entry", object_id=a.entry_id,
                actor_id=r.fields.registered_by_id, actor_label=r.actor_label or "system",
                after=(state := {
                    "book_id": book_id, "number": a.number, "letter_id": r.fields.letter_id,
                    "letter_number": a.letter_number,
                    **({"reserved": True} if r.fields.status == EntryStatus.RESERVED else {}),
                }),
                detail=state,
            )
            for a, r in zip(allocations, requests, strict=True)
        ])
    return allocations
