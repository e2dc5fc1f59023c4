"""The receiving side in one process: a letter stored once, a duplicate answered alike, refusals, receipts."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from django.test import Client
from django.utils import timezone

from saraban.access.services import set_top_secret_electronic
from saraban.directory.models import Organisation, Person
from saraban.documents.services import read_file
from saraban.exchange.asic import MIMETYPE
from saraban.exchange.envelope import Address, Envelope, open_envelope, pack
from saraban.exchange.identity import Identity, deployment_identity, forget_loaded_identities
from saraban.exchange.models import MessageStatus, OutgoingMessage, Peer, ReceivedMessage, RemoteOrganisation
from saraban.exchange.receiving import receive_message
from saraban.exchange.replies import receipt
from saraban.inbox.models import IncomingLetter, IncomingStatus
from saraban.inbox.services import register, return_to_sender

from .helpers import letter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_identity() -> None:
    forget_loaded_identities()  # each test database makes its own


def _pin(identity: Identity, name: str = "saraban.opm.go.th", **fields: object) -> Peer:
    now = timezone.now()
    values: dict[str, object] = {
        "deployment_id": identity.deployment_id, "name": name, "endpoint": "http://127.0.0.1:9",
        "fingerprint": identity.fingerprint, "certificate_der": identity.certificate.dump(),
        "added_at": now, "refreshed_at": now,
    }
    return Peer.objects.create(**(values | fields))


def _letter_to(agency: Organisation, sender: Identity, **changes: object) -> Envelope:
    here = deployment_identity()
    return letter(sender.address("opm-ops"), Address(here.deployment_id, agency.identifier), **changes)


def _answer(data: bytes, peer_of_answer: Identity | None = None) -> Envelope:
    here = peer_of_answer or deployment_identity()
    return open_envelope(data, trusted={here.fingerprint}, max_bytes=1 << 20, max_parts=4).envelope


def test_a_letter_is_stored_once_and_a_duplicate_gets_the_same_answer(agency: Organisation, sender: Identity) -> None:
    _pin(sender)
    envelope = _letter_to(agency, sender)
    data = pack(envelope, sender.sealing_key)
    first = receive_message(data)
    assert first.status == 200
    answer = _answer(first.body)
    assert answer.kind == "receipt" and answer.metadata == {"in_reply_to": str(envelope.message_id),
                                                             "status": "delivered"}
    again = receive_message(data)
    assert again.status == 200 and again.body == first.body
    incoming = IncomingLetter.objects.get()
    assert incoming.received_message is not None and incoming.status == IncomingStatus.DELIVERED
    assert (incoming.letter_number, incoming.subject) == ("นร 0105/123", envelope.metadata["subject"])
    assert read_file(incoming.original_id) == envelope.part("letter.pdf").data
    assert [e["title"] for e in incoming.enclosures] == ["กำหนดการประชุม", "แผนที่ (ส่งทางไปรษณีย์)"]
    assert read_file(incoming.enclosures[0]["sha256"]) == envelope.part("enclosures/01-agenda.pdf").data
    # The sender is now a remote organisation of this directory, marked as hosted by the peer.
    sender_org = incoming.sender_organisation
    assert sender_org is not None and sender_org.home_deployment == sender.deployment_id
    assert read_file(ReceivedMessage.objects.get().container_id) == data  # kept as it arrived


def _refusal(data: bytes) -> tuple[int, str]:
    answer = receive_message(data)
    return answer.status, _answer(answer.body).metadata["code"]


def test_refusals_write_nothing(agency: Organisation, sender: Identity, stranger: Identity) -> None:
    _pin(sender)
    here = deployment_identity()
    cases = {
        "unknown peer": (pack(_letter_to(agency, stranger), stranger.sealing_key), (403, "exchange.unknown_signer")),
        "another deployment": (pack(letter(sender.address("opm-ops"), Address(str(uuid.uuid4()), agency.identifier)),
                                    sender.sealing_key), (400, "exchange.wrong_deployment")),
        "unknown recipient": (pack(letter(sender.address("opm-ops"), Address(here.deployment_id, "nobody")),
                                   sender.sealing_key), (400, "exchange.unknown_recipient")),
        "top secret": (pack(_letter_to(agency, sender, secrecy="top_secret"), sender.sealing_key),
                       (403, "exchange.secrecy_refused")),
        "garbage": (b"not a zip at all", (400, "exchange.not_zip")),
    }
    for name, (data, expected) in cases.items():
        assert _refusal(data) == expected, name
    assert IncomingLetter.objects.count() == 0 and ReceivedMessage.objects.count() == 0


def test_a_tampered_part_is_refused(agency: Organisation, sender: Identity) -> None:
    _pin(sender)
    data = pack(_letter_to(agency, sender), sender.sealing_key)
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "letter.pdf":
                content = content.replace(b"Catalog", b"Catalag")
            target.writestr(info, content)
    assert _refusal(buffer.getvalue()) == (400, "exchange.digest_mismatch")
    assert IncomingLetter.objects.count() == 0


def test_top_secret_is_accepted_when_this_deployment_allows_it(agency: Organisation, sender: Identity) -> None:
    _pin(sender)
    set_top_secret_electronic(True, actor=None)
    assert receive_message(pack(_letter_to(agency, sender, secrecy="top_secret"), sender.sealing_key)).status == 200


def test_a_suspended_peer_is_refused(agency: Organisation, sender: Identity) -> None:
    _pin(sender, is_active=False)
    assert _refusal(pack(_letter_to(agency, sender), sender.sealing_key)) == (403, "exchange.unknown_signer")


def test_registering_a_received_letter_queues_one_signed_receipt(
    agency: Organisation, sender: Identity, clerk: Person,
) -> None:
    peer = _pin(sender)
    envelope = _letter_to(agency, sender)
    receive_message(pack(envelope, sender.sealing_key))
    incoming = IncomingLetter.objects.get()
    # a real PDF is needed to stamp it: use the inbox's own test letter
    from saraban.documents.services import store_file
    from tests.signatures.conftest import minimal_pdf

    IncomingLetter.objects.filter(pk=incoming.pk).update(original=store_file(minimal_pdf(), "application/pdf"))
    registered = register(incoming, actor=clerk)
    message = OutgoingMessage.objects.get()
    assert (message.kind, message.peer_id, message.status) == ("receipt", peer.pk, MessageStatus.PENDING)
    sent = open_envelope(read_file(message.container_id), trusted={deployment_identity().fingerprint},
                         max_bytes=1 << 20, max_parts=4).envelope
    assert sent.recipient == envelope.sender and sent.sender == envelope.recipient
    assert sent.metadata["status"] == "registered"
    assert sent.metadata["receive_number"] == str(registered.receive_number)
    assert sent.metadata["in_reply_to"] == str(envelope.message_id)
    with pytest.raises(Exception):  # noqa: B017 (already registered: refused, nothing queued)
        register(incoming, actor=clerk)
    assert OutgoingMessage.objects.count() == 1


def test_returning_a_received_letter_queues_a_returned_receipt(
    agency: Organisation, sender: Identity, clerk: Person,
) -> None:
    _pin(sender)
    receive_message(pack(_letter_to(agency, sender), sender.sealing_key))
    return_to_sender(IncomingLetter.objects.get(), actor=clerk, reason="ส่งผิดหน่วยงาน")
    message = OutgoingMessage.objects.get()
    sent = open_envelope(read_file(message.container_id), trusted={deployment_identity().fingerprint},
                         max_bytes=1 << 20, max_parts=4).envelope
    assert sent.metadata["status"] == "returned" and sent.metadata["reason"] == "ส่งผิดหน่วยงาน"


def test_a_receipt_for_a_letter_not_sent_to_that_peer_is_refused(agency: Organisation, sender: Identity) -> None:
    _pin(sender)
    here = deployment_identity()
    fake_letter = Envelope(message_id=uuid.uuid4(), kind="letter", created_at=timezone.now(),
                           sender=here.address(agency.identifier), recipient=sender.address("chiang-mai"))
    data = pack(receipt(fake_letter, "registered", receive_number="12", registered_on=timezone.localdate()),
                sender.sealing_key)
    assert _refusal(data) == (400, "exchange.unknown_message")
    assert ReceivedMessage.objects.count() == 0


def test_the_http_binding(agency: Organisation, sender: Identity) -> None:
    _pin(sender)
    client = Client()
    data = pack(_letter_to(agency, sender), sender.sealing_key)
    response = client.post("/exchange/messages", data=data, content_type=MIMETYPE)
    assert response.status_code == 200 and response["Content-Type"] == MIMETYPE
    assert _answer(response.content).metadata["status"] == "delivered"
    wrong_type = client.post("/exchange/messages", data=data, content_type="application/zip")
    assert wrong_type.status_code == 415
    assert _answer(wrong_type.content).metadata["code"] == "exchange.unsupported_media_type"
    assert client.get("/exchange/messages").status_code == 405
    directory = client.get("/exchange/directory")
    assert directory.status_code == 200 and directory["Content-Type"] == MIMETYPE
    from saraban.exchange.directory_document import read_directory_document

    published = read_directory_document(directory.content, expected_fingerprint=deployment_identity().fingerprint)
    assert agency.identifier in {o.identifier for o in published.organisations}
    assert RemoteOrganisation.objects.count() == 1  # the sender, remembered from its letter


def test_a_body_refused_unread_names_the_message_from_its_header(
    agency: Organisation, sender: Identity, settings: object,
) -> None:
    _pin(sender)
    settings.SARABAN_EXCHANGE = {**settings.SARABAN_EXCHANGE, "max_message_bytes": 1000}  # type: ignore[attr-defined]
    envelope = _letter_to(agency, sender)
    data = pack(envelope, sender.sealing_key)
    client = Client()
    response = client.post("/exchange/messages", data=data, content_type=MIMETYPE,
                           headers={"Saraban-Message-Id": str(envelope.message_id)})
    assert response.status_code == 413
    refusal = _answer(response.content).metadata
    assert (refusal["code"], refusal["in_reply_to"]) == ("exchange.too_large", str(envelope.message_id))
    garbage = client.post("/exchange/messages", data=b"x" * 10, content_type=MIMETYPE,
                          headers={"Saraban-Message-Id": "not-a-uuid"})
    assert garbage.status_code == 400 and _answer(garbage.content).metadata["in_reply_to"] is None
    assert IncomingLetter.objects.count() == 0
