"""Register numbering: atomic, no gaps, no duplicates, per calendar year in Bangkok, never reused."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from saraban.audit.selectors import verify_all_chains
from saraban.core.errors import StateRefused
from saraban.directory.models import Organisation
from saraban.registers.models import BookKind, EntryStatus, RegisterEntry
from saraban.registers.numbering import EntryFields
from saraban.registers.services import cancel_entry, register_incoming, register_outgoing

BKK = ZoneInfo("Asia/Bangkok")


def _send(org: Organisation, at: dt.datetime | None = None, kind: BookKind = BookKind.SEND) -> str:
    fields = EntryFields(subject="ทดสอบ")
    allocation = register_outgoing(org.pk, kind, letter_code=org.letter_code, fields=fields, at=at)
    return allocation.letter_number


@pytest.mark.django_db
def test_numbers_run_from_one_in_each_book(agency: Organisation) -> None:
    assert [_send(agency) for _ in range(3)] == ["นร 0105/1", "นร 0105/2", "นร 0105/3"]
    assert _send(agency, kind=BookKind.CIRCULAR) == "นร 0105/ว 1"
    assert _send(agency, kind=BookKind.SEND_CLASSIFIED) == "นร 0105/1"  # its own book (ทะเบียนแยก)
    order_at = dt.datetime(2026, 11, 26, 10, tzinfo=BKK)
    assert _send(agency, at=order_at, kind=BookKind.ORDER) == "1/2569"
    receive = register_incoming(agency.pk, classified=False, fields=EntryFields(letter_number="มท 0808.2/ว 55"))
    assert (receive.number, receive.letter_number) == (1, "มท 0808.2/ว 55")


@pytest.mark.django_db
def test_running_number_restarts_on_first_of_january_bangkok_time(agency: Organisation) -> None:
    for minute in range(3):
        _send(agency, at=dt.datetime(2026, 12, 31, 23, 57 + minute, tzinfo=BKK))
    # 00:00:30 on 1 January in Bangkok is still 31 December in UTC: the new year's book starts at 1.
    new_year = dt.datetime(2027, 1, 1, 0, 0, 30, tzinfo=BKK)
    assert new_year.astimezone(dt.UTC).day == 31
    assert _send(agency, at=new_year) == "นร 0105/1"
    last_of_year = RegisterEntry.objects.filter(book__year=2026).order_by("-number").first()
    assert last_of_year is not None and last_of_year.number == 3


@pytest.mark.django_db
def test_cancelled_number_stays_marked_and_is_never_reused(agency: Organisation) -> None:
    _send(agency)
    second = RegisterEntry.objects.get(number=2) if _send(agency) else None
    assert second is not None
    cancel_entry(second, reason="พิมพ์ผิด")
    assert _send(agency) == "นร 0105/3"
    second.refresh_from_db()
    assert second.status == EntryStatus.CANCELLED and second.remarks == "ยกเลิก: พิมพ์ผิด"
    with pytest.raises(StateRefused):
        cancel_entry(second, reason="อีกครั้ง")
    assert sorted(RegisterEntry.objects.values_list("number", flat=True)) == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_64_concurrent_allocations_give_exactly_1_to_64(agency: Organisation) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(64)
    lock = threading.Lock()

    def client() -> None:
        try:
            start.wait()
            allocation = register_outgoing(agency.pk, BookKind.SEND, letter_code="นร 0105", fields=EntryFields())
            with lock:
                results.append(allocation.number)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(results) == list(range(1, 65))
    stored = list(RegisterEntry.objects.filter(book__organisation=agency).values_list("number", "letter_number"))
    assert sorted(stored) == [(n, f"นร 0105/{n}") for n in range(1, 65)]
    checked, breaks = verify_all_chains()
    assert breaks == [] and checked >= 64
