"""ลงรับหลายฉบับ: a clerk's selection of letters from a peer registered at once (``inbox.services.register_many``)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation, Person
from saraban.directory.services import create_person
from saraban.documents.services import read_file, store_file
from saraban.exchange.envelope import Address, open_envelope, pack
from saraban.exchange.identity import Identity, deployment_identity, forget_loaded_identities
from saraban.exchange.models import OutgoingMessage, Peer
from saraban.exchange.receiving import receive_message
from saraban.inbox.models import IncomingLetter, IncomingStatus
from saraban.inbox.services import register, register_many
from saraban.registers.models import EntryStatus, RegisterEntry
from tests.signatures.conftest import minimal_pdf

from .helpers import letter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_identity() -> None:
    forget_loaded_identities()


def _received(agency: Organisation, sender: Identity, count: int) -> list[IncomingLetter]:
    now = timezone.now()
    Peer.objects.create(
        deployment_id=sender.deployment_id, name="saraban.opm.go.th", endpoint="http://127.0.0.1:9",
        fingerprint=sender.fingerprint, certificate_der=sender.certificate.dump(), added_at=now, refreshed_at=now)
    for _ in range(count):
        envelope = letter(sender.address("opm-ops"), Address(deployment_identity().deployment_id, agency.identifier))
        assert receive_message(pack(envelope, sender.sealing_key)).status == 200
    # a real PDF is needed to stamp it
    IncomingLetter.objects.update(original=store_file(minimal_pdf(), "application/pdf"))
    return list(IncomingLetter.objects.order_by("pk"))


def _receipts() -> list[dict[str, object]]:
    here = deployment_identity().fingerprint
    return [open_envelope(read_file(m.container_id), trusted={here}, max_bytes=1 << 20, max_parts=4).envelope.metadata
            for m in OutgoingMessage.objects.filter(kind="receipt").order_by("pk")]


def test_a_selection_is_registered_with_consecutive_numbers_and_one_receipt_each(
    agency: Organisation, sender: Identity, clerk: Person,
) -> None:
    letters = _received(agency, sender, 3)
    register(letters[0], actor=clerk)  # one alone first: the selection goes on from its number
    done = register_many(letters[1:], actor=clerk)
    assert [i.pk for i in done] == [i.pk for i in letters[1:]]
    rows = list(IncomingLetter.objects.order_by("pk"))
    assert {i.status for i in rows} == {IncomingStatus.REGISTERED}
    assert [i.receive_number for i in rows] == [1, 2, 3]
    assert all(i.stamped_id and i.stamped_id != i.original_id for i in rows)
    entries = RegisterEntry.objects.filter(book__kind="receive").order_by("number")
    assert [(e.number, e.status) for e in entries] == [(n, EntryStatus.ACTIVE) for n in (1, 2, 3)]
    assert [r["receive_number"] for r in _receipts()] == ["1", "2", "3"]


def test_a_selection_with_a_letter_already_registered_is_refused_and_draws_no_number(
    agency: Organisation, sender: Identity, clerk: Person,
) -> None:
    letters = _received(agency, sender, 3)
    register(letters[1], actor=clerk)
    with pytest.raises(SarabanError) as refusal:
        register_many(letters, actor=clerk)
    assert refusal.value.code == "incoming.wrong_state"
    assert RegisterEntry.objects.filter(book__kind="receive").count() == 1
    assert IncomingLetter.objects.filter(status=IncomingStatus.DELIVERED).count() == 2


def test_only_a_registry_clerk_of_the_receiver_may_register_a_selection(
    agency: Organisation, sender: Identity,
) -> None:
    letters = _received(agency, sender, 2)
    stranger = create_person(username="stranger", name_th="นายคนนอก ไม่เกี่ยว", password="x-Pass-1234")
    with pytest.raises(SarabanError):
        register_many(letters, actor=stranger)
    assert not RegisterEntry.objects.filter(book__kind="receive").exists()
    assert register_many([], actor=stranger) == []


def test_a_letter_whose_stamp_fails_keeps_no_number_and_the_others_are_registered(
    agency: Organisation, sender: Identity, clerk: Person, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from saraban.inbox import services
    from saraban.rendering.stamps import PdfError

    letters = _received(agency, sender, 3)
    stamp = services._stamped_copy

    def fails_for_the_second(organisation: Organisation, number: int, moment: object, original: bytes) -> bytes:
        if number == 2:
            raise PdfError("the stamp could not be drawn")
        return stamp(organisation, number, moment, original)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_stamped_copy", fails_for_the_second)
    done = register_many(letters, actor=clerk)
    assert [i.pk for i in done] == [letters[0].pk, letters[2].pk]
    entries = RegisterEntry.objects.filter(book__kind="receive").order_by("number")
    assert [(e.number, e.status) for e in entries] == [
        (1, EntryStatus.ACTIVE), (2, EntryStatus.CANCELLED), (3, EntryStatus.ACTIVE)]
    assert IncomingLetter.objects.get(pk=letters[1].pk).status == IncomingStatus.DELIVERED
    assert [r["receive_number"] for r in _receipts()] == ["1", "3"]


def test_a_reservation_left_by_a_stopped_registration_is_cancelled(
    agency: Organisation, sender: Identity, clerk: Person,
) -> None:
    import datetime as dt

    from saraban.inbox.services import _reserve_number, cancel_stale_reservations

    old, fresh = _received(agency, sender, 2)
    stale = _reserve_number(old, clerk, timezone.now() - dt.timedelta(hours=1))
    recent = _reserve_number(fresh, clerk, timezone.now())
    RegisterEntry.objects.filter(pk=stale.entry_id).update(registered_at=timezone.now() - dt.timedelta(hours=1))
    assert cancel_stale_reservations() == 1
    states = dict(RegisterEntry.objects.values_list("pk", "status"))
    assert states[stale.entry_id] == EntryStatus.CANCELLED and states[recent.entry_id] == EntryStatus.RESERVED
    assert IncomingLetter.objects.get(pk=old.pk).status == IncomingStatus.DELIVERED  # registered again later
