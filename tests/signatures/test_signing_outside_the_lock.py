"""A PKI signature reserves its number, signs with no lock held, then records: no gap, no duplicate.

While a signature waits on its TSA (or OCSP) server, the register's book is not locked, so another
process numbers letters of the same book meanwhile. A signature that fails leaves its reserved number in
the register marked ยกเลิก; a letter returned while it is being signed keeps no number.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from saraban.audit.selectors import verify_all_chains
from saraban.core.errors import SarabanError, StateRefused
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter, draw_number_at_signing
from saraban.correspondence.workflow import return_for_changes, sign_letter, submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.registers.models import EntryStatus, RegisterEntry
from saraban.signatures.methods import PadesSignature, SignerProof
from saraban.signatures.models import SigningCertificate
from saraban.signatures.registry import register_pkcs12

from ..race_clients import Client
from ..test_letters import example
from .pki import PASSWORD as P12_PASSWORD
from .pki import TestPki


@pytest.fixture
def certificate(pki: TestPki, agency: Organisation, signer: Person) -> SigningCertificate:
    data = pki.path("signer.p12").read_bytes()
    return register_pkcs12(organisation=agency, holder=signer, data=data, password=P12_PASSWORD, actor=signer)


def approved(agency: Organisation, clerk: Person, signer: Person, subject: str = "") -> Letter:
    letter = create_letter(agency, example("external", **({"subject": subject} if subject else {})), author=clerk)
    return submit_for_review(letter, actor=clerk, reviewers=[], signer=signer)


def entries(agency: Organisation) -> list[tuple[int, str, int | None]]:
    rows = RegisterEntry.objects.filter(book__organisation=agency).order_by("number")
    return list(rows.values_list("number", "status", "letter_id"))


class HeldSignature:
    """Holds every PAdES signature at the TSA, as a slow time-stamping server would, until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waiting = threading.Event()
        self.release = threading.Event()
        real = PadesSignature.sign

        def held(signing: PadesSignature, *args: Any, **kwargs: Any) -> bytes:
            self.waiting.set()
            assert self.release.wait(60), "the test never released the signature"
            return real(signing, *args, **kwargs)

        monkeypatch.setattr(PadesSignature, "sign", held)

    def sign_in_thread(self, letter: Letter, signer: Person, certificate: SigningCertificate) -> dict[str, Any]:
        """Start signing ``letter`` in a thread of its own; the dict gets its outcome."""
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["signature"] = sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD),
                                                   certificate=certificate)
            except BaseException as exc:  # looked at by the test
                outcome["error"] = exc
            finally:
                connection.close()

        outcome["thread"] = thread = threading.Thread(target=run)
        thread.start()
        assert self.waiting.wait(60), "the signature never reached the TSA"
        return outcome


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldSignature]:
    holder = HeldSignature(monkeypatch)
    yield holder
    holder.release.set()


@pytest.mark.django_db(transaction=True)
def test_another_process_numbers_the_same_book_while_a_signature_waits_for_its_tsa(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate, held: HeldSignature,
) -> None:
    letter = approved(agency, clerk, signer)
    outcome = held.sign_in_thread(letter, signer, certificate)
    # Number 1 is reserved for the letter being signed; the book itself is free.
    assert entries(agency) == [(1, EntryStatus.RESERVED, letter.pk)]
    other = Client(connection.settings_dict["NAME"], "number", agency.pk, 5, 1)
    try:
        other.ready()
        other.go()
        try:
            result = other.line(timeout=20)
        except TimeoutError:
            pytest.fail("numbering waited for the signature's TSA: the book was locked during the signing")
    finally:
        held.release.set()
        other.kill()
        outcome["thread"].join(60)
    assert result["errors"] == [] and sorted(result["numbers"]) == [2, 3, 4, 5, 6]
    assert "error" not in outcome, outcome.get("error")
    letter.refresh_from_db()
    assert letter.status == LetterStatus.NUMBERED and letter.number == "นร 0105/1"
    assert entries(agency)[0] == (1, EntryStatus.ACTIVE, letter.pk)
    assert verify_all_chains()[1] == []


@pytest.mark.django_db(transaction=True)
def test_a_letter_returned_while_it_is_signed_keeps_no_number(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate, held: HeldSignature,
) -> None:
    letter = approved(agency, clerk, signer)
    outcome = held.sign_in_thread(letter, signer, certificate)
    with pytest.raises(StateRefused) as busy:  # a second attempt (a second click, another server)
        sign_letter(Letter.objects.get(pk=letter.pk), actor=signer, proof=SignerProof(P12_PASSWORD),
                    certificate=certificate)
    assert busy.value.code == "letter.signing_in_progress"
    return_for_changes(Letter.objects.get(pk=letter.pk), actor=signer, comment="แก้ย่อหน้าที่สอง")
    held.release.set()
    outcome["thread"].join(60)
    assert isinstance(outcome.get("error"), StateRefused), outcome
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DRAFT and not letter.number and not letter.signatures.exists()
    entry = RegisterEntry.objects.get(book__organisation=agency)
    assert (entry.number, entry.status, entry.remarks) == (1, EntryStatus.CANCELLED, "ยกเลิก: ส่งกลับแก้ไขระหว่างลงนาม")
    assert verify_all_chains()[1] == []


@pytest.mark.django_db
def test_a_signature_the_tsa_refuses_leaves_its_number_cancelled_in_the_register(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer)
    unreachable = {"tsa_url": "http://127.0.0.1:9/tsa", "level": "B-T"}  # nothing listens on port 9
    with override_settings(SARABAN_PADES=unreachable), pytest.raises(SarabanError):
        sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED and not letter.number
    assert entries(agency) == [(1, EntryStatus.CANCELLED, letter.pk)]
    assert RegisterEntry.objects.get(number=1).remarks == "ยกเลิก: ลงนามดิจิทัลไม่สำเร็จ"
    sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.NUMBERED and letter.number == "นร 0105/2"  # 1 is never reused
    assert entries(agency) == [(1, EntryStatus.CANCELLED, letter.pk), (2, EntryStatus.ACTIVE, letter.pk)]


@pytest.mark.django_db
def test_a_reservation_whose_process_ended_is_cancelled_by_the_next_signature(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer)
    with transaction.atomic():  # what a process that died while signing leaves behind
        draw_number_at_signing(letter, letter.letter_content, actor=signer, at=timezone.now())
    with pytest.raises(StateRefused) as busy:
        sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    assert busy.value.code == "letter.signing_in_progress"
    RegisterEntry.objects.filter(number=1).update(registered_at=timezone.now() - dt.timedelta(minutes=3))
    sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    letter.refresh_from_db()
    assert letter.number == "นร 0105/2"
    assert entries(agency) == [(1, EntryStatus.CANCELLED, letter.pk), (2, EntryStatus.ACTIVE, letter.pk)]
    assert RegisterEntry.objects.get(number=1).remarks == "ยกเลิก: ลงนามดิจิทัลค้างไม่เสร็จ"
