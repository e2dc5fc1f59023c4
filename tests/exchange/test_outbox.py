"""The sending side in one process: the outbox written with the send, answers judged, retries, the queue."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from saraban.core.errors import ValidationFailed
from saraban.directory.models import Organisation, Person
from saraban.documents.services import read_file
from saraban.exchange.dispatches import status_summary
from saraban.exchange.envelope import Envelope, open_envelope, pack
from saraban.exchange.identity import Identity, deployment_identity, forget_loaded_identities
from saraban.exchange.models import Dispatch, DispatchStatus, MessageStatus, OutgoingMessage, Peer
from saraban.exchange.outbox import Outcome, backoff, read_answer, record_outcome
from saraban.exchange.peering import remember_remote_organisation
from saraban.exchange.receiving import receive_message
from saraban.exchange.refusals import refused
from saraban.exchange.replies import receipt, rejection
from saraban.exchange.services import cancel, send_again, send_letter
from tests.helpers import numbered
from tests.web.test_workflow_pages import draft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_identity() -> None:
    forget_loaded_identities()


@pytest.fixture
def peer(to: object, sender: Identity) -> Peer:
    """Deployment B, pinned: played here by the ``sender`` identity of the exchange tests."""
    now = timezone.now()
    return Peer.objects.create(
        deployment_id=sender.deployment_id, name="saraban.chiangmai.go.th", endpoint="http://127.0.0.1:9",
        fingerprint=sender.fingerprint, certificate_der=sender.certificate.dump(), added_at=now, refreshed_at=now,
    )


@pytest.fixture
def province(peer: Peer) -> Organisation:
    return remember_remote_organisation(peer, "chiang-mai", name_th="สำนักงานจังหวัดเชียงใหม่", letter_code="ชม 0017",
                                        kind="provincial_office")


def _sent(agency: Organisation, clerk: Person, signer: Person, to: Organisation, **changes: object) -> Dispatch:
    letter = numbered(draft(agency, clerk, to=[to], **changes), author=clerk, signer=signer, clerk=clerk)
    (dispatch,) = send_letter(letter, actor=clerk)
    return Dispatch.objects.get(pk=dispatch.pk)


def _opened(message: OutgoingMessage) -> Envelope:
    return open_envelope(read_file(message.container_id), trusted={deployment_identity().fingerprint},
                         max_bytes=64 << 20, max_parts=100).envelope


def test_sending_to_a_remote_organisation_writes_a_signed_message(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation, peer: Peer,
) -> None:
    dispatch = _sent(agency, clerk, signer, province)
    assert dispatch.status == DispatchStatus.SENDING and dispatch.transport == "saraban"
    message = OutgoingMessage.objects.get()
    assert (message.dispatch_id, message.status, message.peer_id) == (dispatch.pk, MessageStatus.PENDING, peer.pk)
    envelope = _opened(message)
    assert envelope.message_id == dispatch.message_id and envelope.kind == "letter"
    assert envelope.sender.organisation == agency.identifier
    assert (envelope.recipient.deployment, envelope.recipient.organisation) == (peer.deployment_id, "chiang-mai")
    assert envelope.metadata["number"] == dispatch.letter.number
    assert envelope.part("letter.pdf").data.startswith(b"%PDF-")
    assert "กำลังส่ง" in status_summary(dispatch.letter)


def test_a_top_secret_letter_is_not_sent_to_a_peer_that_refuses_it(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation,
) -> None:
    from saraban.access.services import set_top_secret_electronic

    set_top_secret_electronic(True, actor=None)
    letter = numbered(draft(agency, clerk, to=[province], secrecy="top_secret"), author=clerk, signer=signer,
                      clerk=clerk)
    with pytest.raises(ValidationFailed) as refusal:
        send_letter(letter, actor=clerk)
    assert refusal.value.problems[0].code == "peer_refuses_top_secret"
    assert not Dispatch.objects.exists() and not OutgoingMessage.objects.exists()


def _judge(message: OutgoingMessage, status: int, body: bytes, content_type: str = "application/vnd.etsi.asic-e+zip"
           ) -> Outcome:
    return read_answer(OutgoingMessage.objects.select_related("peer").get(pk=message.pk), status, body, content_type)


def test_answers_are_judged_by_their_signature(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation, sender: Identity, stranger: Identity,
) -> None:
    dispatch = _sent(agency, clerk, signer, province)
    message = OutgoingMessage.objects.get()
    letter = _opened(message)
    delivered = receipt(letter, "delivered")
    assert _judge(message, 200, pack(delivered, sender.sealing_key)).result == "delivered"
    assert _judge(message, 200, pack(delivered, stranger.sealing_key)).result == "retry"  # not the pinned peer
    assert _judge(message, 502, b"<html>Bad gateway</html>", "text/html").result == "retry"
    other = receipt(Envelope(message_id=uuid.uuid4(), kind="letter", created_at=timezone.now(), sender=letter.sender,
                             recipient=letter.recipient), "delivered")
    assert _judge(message, 200, pack(other, sender.sealing_key)).result == "retry"  # about another message
    refusal = rejection(refused("exchange.unknown_recipient", "chiang-mai"), sender=sender.address(), recipient=None,
                        in_reply_to=letter.message_id)
    judged = _judge(message, 400, pack(refusal, sender.sealing_key))
    assert (judged.result, judged.code) == ("refused", "exchange.unknown_recipient")
    pinned_later = rejection(refused("exchange.unknown_signer"), sender=sender.address(), recipient=None,
                             in_reply_to=letter.message_id)
    assert _judge(message, 403, pack(pinned_later, sender.sealing_key)).result == "retry"
    record_outcome(message.pk, judged)
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.FAILED and "ปลายทางปฏิเสธ" in dispatch.returned_reason


def test_retries_back_off_and_give_up_after_the_window(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation,
) -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(30).total_seconds() == 3600
    dispatch = _sent(agency, clerk, signer, province)
    message = OutgoingMessage.objects.get()
    record_outcome(message.pk, Outcome("retry", "ติดต่อไม่ได้", "unreachable"))
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.next_attempt_at > timezone.now() + dt.timedelta(seconds=4)
    OutgoingMessage.objects.filter(pk=message.pk).update(give_up_at=timezone.now())
    record_outcome(message.pk, Outcome("retry", "ติดต่อไม่ได้", "unreachable"))
    message.refresh_from_db()
    dispatch.refresh_from_db()
    assert message.status == MessageStatus.GIVEN_UP and dispatch.status == DispatchStatus.FAILED
    assert "ส่งไม่สำเร็จภายใน 3 วัน" in dispatch.returned_reason
    send_again(message, actor=clerk)
    message.refresh_from_db()
    dispatch.refresh_from_db()
    assert (message.status, dispatch.status) == (MessageStatus.PENDING, DispatchStatus.SENDING)
    cancel(message, actor=clerk)
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.FAILED and "ยกเลิก" in dispatch.returned_reason


def test_only_the_sending_registry_manages_its_queue(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation,
) -> None:
    _sent(agency, clerk, signer, province)
    with pytest.raises(ValidationFailed):
        cancel(OutgoingMessage.objects.get(), actor=signer)
    assert OutgoingMessage.objects.get().status == MessageStatus.PENDING


def test_receipts_from_the_peer_move_the_dispatch_forward_only(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation, sender: Identity,
) -> None:
    dispatch = _sent(agency, clerk, signer, province)
    letter = _opened(OutgoingMessage.objects.get())
    registered = receipt(letter, "registered", receive_number="๑๒๓", registered_on=dt.date(2026, 12, 3))
    assert receive_message(pack(registered, sender.sealing_key)).status == 200
    late = receipt(letter, "received")  # arrives after "registered": changes nothing
    assert receive_message(pack(late, sender.sealing_key)).status == 200
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.receive_number) == (DispatchStatus.REGISTERED, "๑๒๓")
    assert "ลงรับเลขที่ ๑๒๓" in status_summary(dispatch.letter)
    # another organisation of the same peer may not report on this dispatch
    wrong = Envelope(message_id=uuid.uuid4(), kind="receipt", created_at=timezone.now(),
                     sender=sender.address("somewhere-else"), recipient=letter.sender,
                     metadata={"in_reply_to": str(letter.message_id), "status": "returned", "reason": "x"})
    assert receive_message(pack(wrong, sender.sealing_key)).status == 400
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.REGISTERED


def test_a_refusal_of_an_unread_body_is_a_refusal_even_without_the_message_id(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation, sender: Identity,
) -> None:
    _sent(agency, clerk, signer, province)
    message = OutgoingMessage.objects.get()
    unread = rejection(refused("exchange.too_large", "70000000 bytes"), sender=sender.address(), recipient=None,
                       in_reply_to=None)
    judged = _judge(message, 413, pack(unread, sender.sealing_key))
    assert (judged.result, judged.code) == ("refused", "exchange.too_large")
    other = rejection(refused("exchange.unknown_recipient"), sender=sender.address(), recipient=None,
                      in_reply_to=None)
    assert _judge(message, 400, pack(other, sender.sealing_key)).result == "retry"  # not about this one


def test_a_peer_that_answers_again_makes_its_waiting_messages_due(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation,
) -> None:
    first, second = (_sent(agency, clerk, signer, province, subject=f"เรื่องที่ {i}") for i in (1, 2))
    one, two = (OutgoingMessage.objects.get(dispatch=d) for d in (first, second))
    record_outcome(two.pk, Outcome("retry", "ติดต่อไม่ได้", "unreachable"))
    two.refresh_from_db()
    assert two.next_attempt_at > timezone.now()
    record_outcome(one.pk, Outcome("delivered"))
    two.refresh_from_db()
    assert two.next_attempt_at <= timezone.now()
