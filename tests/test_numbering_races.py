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
