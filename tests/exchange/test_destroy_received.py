"""A received letter destroyed under the Regulation takes the envelope it arrived in with it."""

from __future__ import annotations

import pytest

from saraban.directory.models import Organisation, Person
from saraban.documents.storage import blob_store
from saraban.exchange.identity import Identity
from saraban.exchange.models import ReceivedMessage
from saraban.inbox.services import register
from saraban.records import erasure
from saraban.records import services as records
from saraban.records.models import Record
from saraban.registers.models import RegisterEntry

from .test_register_many import _own_identity, _received

pytestmark = pytest.mark.django_db
fixtures = (_own_identity,)


def test_the_envelope_goes_with_the_letter(agency: Organisation, sender: Identity, clerk: Person) -> None:
    (incoming,) = _received(agency, sender, 1)
    register(incoming, actor=clerk)
    envelope = ReceivedMessage.objects.get(kind="letter").container_id
    records.ensure_records(agency.pk)
    record = Record.objects.get(kind="in", object_id=incoming.pk)
    assert envelope in erasure.files_of_record(record)
    erasure.destroy_record(record, reference="แบบ 25 พ.ศ. 2568", actor=clerk)
    assert erasure.erase_pending() >= 3  # the letter as it came, its stamped copy, the envelope
    assert not blob_store().exists(envelope)
    incoming.refresh_from_db()
    assert "ทำลายแล้ว" in RegisterEntry.objects.get(pk=incoming.receive_entry_id).remarks  # the line stays
