"""Several messages in one POST: the multipart form, each message judged as if alone, one transaction."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from saraban.directory.models import Organisation
from saraban.exchange.asic import MIMETYPE
from saraban.exchange.batch import BatchPart, decode_batch, encode_batch
from saraban.exchange.envelope import Address, Envelope, open_envelope, pack
from saraban.exchange.identity import Identity, deployment_identity, forget_loaded_identities
from saraban.exchange.models import Peer, ReceivedMessage
from saraban.exchange.receiving import receive_message, receive_messages
from saraban.exchange.refusals import EnvelopeRefused
from saraban.exchange.replies import receipt
from saraban.inbox.models import IncomingLetter

from .helpers import letter


@pytest.fixture(autouse=True)
def _own_identity() -> None:
    forget_loaded_identities()


def _pin(identity: Identity) -> Peer:
    now = timezone.now()
    return Peer.objects.create(
        deployment_id=identity.deployment_id, name="saraban.opm.go.th", endpoint="http://127.0.0.1:9",
        fingerprint=identity.fingerprint, certificate_der=identity.certificate.dump(), added_at=now,
        refreshed_at=now)


def _letter(agency: Organisation, sender: Identity, **changes: object) -> Envelope:
    return letter(sender.address("opm-ops"), Address(deployment_identity().deployment_id, agency.identifier),
                  **changes)


def _opened(data: bytes) -> Envelope:
    return open_envelope(data, trusted={deployment_identity().fingerprint}, max_bytes=1 << 20,
                         max_parts=4).envelope


def test_a_batch_reads_back_as_it_was_written() -> None:
    parts = [BatchPart(b"--not-the-boundary\r\n\r\n" + bytes(range(256)), message_id=uuid.uuid4()),
             BatchPart(b"", status=403, content_type="application/json")]
    body, content_type = encode_batch(parts)
    assert content_type.startswith('multipart/mixed; boundary="saraban-')
    assert decode_batch(body, content_type, max_parts=2) == parts


@pytest.mark.parametrize(("body", "content_type", "why"), [
    (b"--b\r\nContent-Type: x\r\n\r\ndata\r\n--b--\r\n", "application/zip", "multipart/mixed"),
    (b"preamble\r\n--b\r\n\r\ndata\r\n--b--", 'multipart/mixed; boundary="b"', "begin with the boundary"),
    (b"--b\r\nContent-Type: x\r\n\r\ndata", 'multipart/mixed; boundary="b"', "not closed"),
    (b"--b\r\nContent-Length: 9\r\n\r\ndata\r\n--b--", "multipart/mixed; boundary=b", "Content-Length"),
    (b"--b\r\nno colon here\r\n\r\ndata\r\n--b--", "multipart/mixed; boundary=b", "without a colon"),
    (b"--b\r\nSaraban-Message-Id: nope\r\n\r\nd\r\n--b--", "multipart/mixed; boundary=b", "badly formed"),
    (b"--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--", "multipart/mixed; boundary=b", "more than 2"),
])
def test_a_body_that_is_not_a_batch_is_refused_in_words(body: bytes, content_type: str, why: str) -> None:
    with pytest.raises(EnvelopeRefused) as refusal:
        decode_batch(body, content_type, max_parts=2)
    assert refusal.value.code == "exchange.bad_batch" and why in refusal.value.message_en
    assert "ชุดข้อความ" in refusal.value.message_th


@pytest.mark.django_db
def test_each_message_of_a_batch_gets_the_answer_it_would_get_alone(
    agency: Organisation, sender: Identity, stranger: Identity,
) -> None:
    _pin(sender)
    first, second = _letter(agency, sender), _letter(agency, sender)
    already = pack(first, sender.sealing_key)
    alone = receive_message(already)
    here = deployment_identity()
    unknown_letter = Envelope(message_id=uuid.uuid4(), kind="letter", created_at=timezone.now(),
                              sender=here.address(agency.identifier), recipient=sender.address("chiang-mai"))
    parts = [
        BatchPart(already, message_id=first.message_id),  # a duplicate: its first answer, byte for byte
        BatchPart(pack(second, sender.sealing_key)),  # new: stored
        BatchPart(pack(_letter(agency, stranger), stranger.sealing_key)),  # not pinned
        BatchPart(pack(receipt(unknown_letter, "received"), sender.sealing_key)),  # refused while stored
        BatchPart(b"garbage", message_id=(claimed := uuid.uuid4())),
        BatchPart(pack(second, sender.sealing_key)),  # the same message twice in one batch: stored once
    ]
    answers = receive_messages(parts)
    assert [a.status for a in answers] == [200, 200, 403, 400, 400, 200]
    assert answers[0].body == alone.body
    assert _opened(answers[1].body).metadata == {"in_reply_to": str(second.message_id), "status": "delivered"}
    assert answers[5].body == answers[1].body
    assert _opened(answers[2].body).metadata["code"] == "exchange.unknown_signer"
    assert _opened(answers[3].body).metadata["code"] == "exchange.unknown_message"
    garbage = _opened(answers[4].body).metadata
    assert (garbage["code"], garbage["in_reply_to"]) == ("exchange.not_zip", str(claimed))
    assert IncomingLetter.objects.count() == 2 and ReceivedMessage.objects.count() == 2
    assert receive_message(pack(second, sender.sealing_key)).body == answers[1].body  # alone, later: the same


@pytest.mark.django_db
def test_the_http_binding_of_batches(agency: Organisation, sender: Identity) -> None:
    _pin(sender)
    client = Client()
    envelopes = [_letter(agency, sender) for _ in range(3)]
    body, content_type = encode_batch([BatchPart(pack(e, sender.sealing_key), message_id=e.message_id)
                                       for e in envelopes])
    response = client.post("/exchange/batches", data=body, content_type=content_type)
    assert response.status_code == 200
    answers = decode_batch(response.content, response["Content-Type"], max_parts=3)
    assert [(a.status, a.message_id, a.content_type) for a in answers] == [
        (200, e.message_id, MIMETYPE) for e in envelopes]
    assert [_opened(a.data).metadata["in_reply_to"] for a in answers] == [str(e.message_id) for e in envelopes]
    again = client.post("/exchange/batches", data=body, content_type=content_type)
    assert again.content != response.content  # another boundary, the same answers
    assert [a.data for a in decode_batch(again.content, again["Content-Type"], max_parts=3)] == [
        a.data for a in answers]
    assert IncomingLetter.objects.count() == 3
    not_a_batch = client.post("/exchange/batches", data=b"--x\r\n", content_type='multipart/mixed; boundary="x"')
    assert not_a_batch.status_code == 400 and _opened(not_a_batch.content).metadata["code"] == "exchange.bad_batch"
    wrong_type = client.post("/exchange/batches", data=body, content_type=MIMETYPE)
    assert wrong_type.status_code == 415
    assert client.get("/exchange/batches").status_code == 405
    assert IncomingLetter.objects.count() == 3


@pytest.mark.django_db
def test_the_directory_says_how_many_messages_a_batch_may_hold(agency: Organisation) -> None:
    from saraban.exchange.batch import MAX_BATCH_MESSAGES
    from saraban.exchange.directory_document import read_directory_document

    published = read_directory_document(Client().get("/exchange/directory").content,
                                        expected_fingerprint=deployment_identity().fingerprint)
    assert published.max_batch_messages == MAX_BATCH_MESSAGES > 1


@pytest.mark.django_db
def test_leased_messages_go_in_batches_per_peer_within_its_limits(sender: Identity, stranger: Identity) -> None:
    from saraban.exchange.outbox import Claimed, batches_of

    batching = _pin(sender)
    Peer.objects.filter(pk=batching.pk).update(max_batch_messages=3, max_message_bytes=100)
    single = _pin(stranger)  # an older peer: its directory says nothing of batches
    claimed = [Claimed(pk, batching.pk, size) for pk, size in ((1, 10), (2, 10), (3, 10), (4, 10), (5, 95), (6, 10))]
    claimed += [Claimed(7, single.pk, 10), Claimed(8, single.pk, 10)]
    # Spread over 2 senders: batches of at most 3 (the peer's size and half its 6 messages), 100 bytes.
    assert batches_of(claimed, spread=2) == [[1, 2, 3], [4], [5], [6], [7], [8]]
    assert batches_of(claimed, spread=6) == [[1], [2], [3], [4], [5], [6], [7], [8]]


@pytest.mark.django_db
def test_a_pump_renews_its_leases_and_a_killed_pumps_run_out_soon(agency: Organisation, sender: Identity) -> None:
    import datetime as dt

    from saraban.documents.services import store_file
    from saraban.exchange.models import MessageStatus, OutgoingMessage
    from saraban.exchange.outbox import Outcome, claim_due, record_outcome, renew_leases

    peer, now = _pin(sender), timezone.now()
    container = store_file(b"a message", MIMETYPE)
    for _ in range(3):
        OutgoingMessage.objects.create(
            message_id=uuid.uuid4(), peer=peer, kind="receipt", organisation=agency, container=container, size=9,
            created_at=now, next_attempt_at=now, give_up_at=now + dt.timedelta(days=3))
    claimed = [c.pk for c in claim_due(10, lease_s=12)]
    assert len(claimed) == 3 and claim_due(10) == []  # leased: no other pump takes them
    lease = OutgoingMessage.objects.get(pk=claimed[0]).lease_until
    assert lease is not None and lease - now < dt.timedelta(seconds=13)
    record_outcome(claimed[0], Outcome("delivered"))
    assert renew_leases(claimed, lease_s=600) == 2  # the one answered is not leased again
    rows = {m.pk: m for m in OutgoingMessage.objects.filter(pk__in=claimed)}
    assert rows[claimed[0]].lease_until is None and rows[claimed[0]].status == MessageStatus.DELIVERED
    assert all(rows[pk].lease_until > now + dt.timedelta(seconds=500) for pk in claimed[1:])
    # A pump killed holding them: once its leases run out, the next one takes them.
    OutgoingMessage.objects.filter(pk__in=claimed[1:]).update(lease_until=now - dt.timedelta(seconds=1))
    assert sorted(c.pk for c in claim_due(10)) == claimed[1:]
