"""Many requests numbering one letter at once: exactly one register entry and one number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from saraban.audit.selectors import verify_all_chains
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter, issue_number
from saraban.directory.models import Organisation, Person
from saraban.registers.models import RegisterEntry

from .helpers import signed
from .test_letters import example


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_numberings_of_one_letter_write_one_entry(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    letter = signed(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer)
    start = threading.Barrier(20)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def request() -> None:
        try:
            start.wait()
            numbered = issue_number(Letter.objects.get(pk=letter.pk), actor=clerk)
            with lock:
                numbers.append(numbered.number)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(numbers) == 20 and len(set(numbers)) == 1, numbers
    entries = list(RegisterEntry.objects.filter(book__organisation=agency).values_list("number", "letter_id"))
    assert entries == [(1, letter.pk)], entries  # no phantom line that belongs to no letter
    letter.refresh_from_db()
    assert letter.status == LetterStatus.NUMBERED and letter.number == numbers[0]
    assert verify_all_chains()[1] == []


@pytest.mark.django_db(transaction=True)
def test_two_processes_drawing_numbers_at_once_leave_no_gap_and_no_duplicate(agency: Organisation) -> None:
    """Two app servers (processes), four threads each, draw from one book: 1…N exactly, once each."""
    from .race_clients import Client

    per_process = 150
    clients = [Client(connection.settings_dict["NAME"], "number", agency.pk, per_process, 4) for _ in range(2)]
    try:
        for client in clients:
            client.ready()
        for client in clients:
            client.go()
        results = [client.line(timeout=180) for client in clients]
    finally:
        for client in clients:
            client.kill()
    assert [r["errors"] for r in results] == [[], []]
    drawn = [set(r["numbers"]) for r in results]
    assert [len(r["numbers"]) for r in results] == [per_process, per_process]
    assert not drawn[0] & drawn[1], "a number was given to both processes"
    numbers = sorted(RegisterEntry.objects.filter(book__organisation=agency).values_list("number", flat=True))
    assert numbers == list(range(1, 2 * per_process + 1))  # no gap, no duplicate
    assert verify_all_chains()[1] == []
