"""Receiving a message from a peer (``POST /exchange/messages``): checked, stored once, answered signed.

``receive_message`` runs every check before anything is written: the envelope (``open_envelope``:
size, container, digests, signature, the pinned signer and the deployment it must claim), that it
is addressed here, the recipient, the secrecy rule. Then, in one transaction, the message is
recorded with the signed answer it gets, and a letter goes into its recipient's inbox (a receipt
updates the dispatch it answers). A message id seen before from the same deployment gets the
stored answer again and changes nothing: delivery is exactly once, however often the sender retries.

``receive_messages`` does the same for a batch (``POST /exchange/batches``, ``batch.py``): each
message judged as if alone, the new ones stored in one transaction, a savepoint each.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from saraban.access.policy import top_secret_may_go_electronically
from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation
from saraban.documents.services import store_file
from saraban.regulation.kinds import Secrecy

from .asic import MIMETYPE
from .batch import BatchPart
from .delivery import Delivery, deliver_to_inbox
from .dispatches import report_status
from .envelope import Address, Envelope, OpenedEnvelope, open_envelope, pack, peek_message_id
from .identity import Identity, deployment_identity
from .models import Dispatch, DispatchStatus, Peer, ReceivedMessage, RemoteOrganisation
from .peering import remember_remote_organisation
from .refusals import EnvelopeRefused, refused
from .replies import receipt, rejection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiveAnswer:
    """The HTTP answer to a posted message: a status and a signed receipt or rejection."""

    status: int
    body: bytes
    content_type: str = MIMETYPE


def _trusted_peers() -> dict[str, str]:
    return dict(Peer.objects.filter(is_active=True).values_list("fingerprint", "deployment_id"))


def receive_message(data: bytes, *, claimed_id: uuid.UUID | None = None) -> ReceiveAnswer:
    """Check, store and answer one message posted by a peer (never raises for what the peer sent).

    ``claimed_id`` (the ``Saraban-Message-Id`` header) answers a refusal when the body's own id
    cannot be read, so that the sender can match the rejection to its message.
    """
    return receive_messages([BatchPart(data, claimed_id)])[0]


@dataclass
class _Accepted:
    """A message that passed every check, waiting to be stored with its signed answer."""

    index: int
    opened: OpenedEnvelope
    data: bytes
    recipient: Organisation | None
    answer: bytes = b""


@dataclass
class _Batch:
    """What the messages of one batch share while they are stored (peers, remote senders)."""

    peers: dict[str, Peer] = field(default_factory=dict)
    senders: dict[tuple[int, str, str], int] = field(default_factory=dict)

    def peer(self, deployment_id: str) -> Peer:
        if deployment_id not in self.peers:
            self.peers[deployment_id] = Peer.objects.get(deployment_id=deployment_id)
        return self.peers[deployment_id]


def receive_messages(parts: list[BatchPart]) -> list[ReceiveAnswer]:
    """Check, store and answer several messages (a batch, or one), in one transaction: one answer each.

    Each message is judged on its own exactly as if it came alone (``receive_message``): the checks
    first, nothing written for one refused; a duplicate gets its stored answer. The new ones are
    stored in one transaction, each in a savepoint of its own, so that one refused while being
    stored (a receipt for an unknown letter) leaves the others stored. A database failure raises
    (the HTTP binding answers 503: nothing was kept, the sender retries the whole batch).
    """
    identity = deployment_identity()
    limits = settings.SARABAN_EXCHANGE
    trusted = _trusted_peers()
    answers: list[ReceiveAnswer | None] = [None] * len(parts)
    accepted: list[_Accepted] = []
    for index, part in enumerate(parts):
        try:
            if part.content_type.split(";")[0].strip().lower() != MIMETYPE:
                raise refused("exchange.unsupported_media_type", part.content_type[:80] or "none")
            opened = open_envelope(part.data, trusted=trusted, max_bytes=limits["max_message_bytes"],
                                   max_parts=limits["max_parts"])
            accepted.append(_Accepted(index, opened, part.data, None))
        except EnvelopeRefused as exc:
            answers[index] = _refusal(exc, identity, part)
    # A message seen before gets the answer it got, before any check that might judge it otherwise now.
    known = _answers_given([a.opened.envelope for a in accepted])
    new = []
    for item in accepted:
        envelope = item.opened.envelope
        answer = known.get((envelope.sender.deployment, envelope.message_id))
        if answer is not None:
            answers[item.index] = answer
            continue
        try:
            item.recipient = _checked_recipient(envelope, identity)
        except EnvelopeRefused as exc:
            answers[item.index] = _refusal(exc, identity, parts[item.index])
            continue
        item.answer = pack(receipt(envelope, "delivered"), identity.sealing_key)
        new.append(item)
    collided = []
    if new:
        batch = _Batch()
        with transaction.atomic():
            for item in new:
                try:
                    with transaction.atomic():
                        _store(item, batch)
                    answers[item.index] = ReceiveAnswer(200, item.answer)
                except IntegrityError:  # the same message, stored by a concurrent request a moment ago
                    collided.append(item)
                except EnvelopeRefused as exc:
                    answers[item.index] = refusal_answer(exc, identity, in_reply_to=item.opened.envelope.message_id)
                except SarabanError as exc:  # e.g. a file over the store's limit: refused, nothing kept
                    answers[item.index] = refusal_answer(
                        refused("exchange.bad_metadata", exc.message_en, exc.message_th), identity,
                        in_reply_to=item.opened.envelope.message_id)
    if collided:
        again = _answers_given([item.opened.envelope for item in collided])
        for item in collided:
            envelope = item.opened.envelope
            answer = again.get((envelope.sender.deployment, envelope.message_id))
            if answer is None:
                raise RuntimeError(f"message {envelope.message_id} collided but is not stored")
            answers[item.index] = answer
    return [a for a in answers if a is not None]


def _refusal(error: EnvelopeRefused, identity: Identity, part: BatchPart) -> ReceiveAnswer:
    in_reply_to = peek_message_id(part.data, max_bytes=settings.SARABAN_EXCHANGE["max_message_bytes"]) \
        or part.message_id
    return refusal_answer(error, identity, in_reply_to=in_reply_to)


def refusal_answer(error: EnvelopeRefused, identity: Identity | None = None, *,
                   in_reply_to: uuid.UUID | None) -> ReceiveAnswer:
    """The signed rejection of a message, with the HTTP status of its refusal."""
    identity = identity or deployment_identity()
    log.warning("exchange: refused message %s (HTTP %s): %s", in_reply_to, error.http_status, error.message_en)
    answer = rejection(error, sender=identity.address(), recipient=None, in_reply_to=in_reply_to)
    return ReceiveAnswer(error.http_status, pack(answer, identity.sealing_key))


def _answers_given(envelopes: list[Envelope]) -> dict[tuple[str, uuid.UUID], ReceiveAnswer]:
    """The answers already given to any of ``envelopes`` (by sender deployment and message id), one query."""
    if not envelopes:
        return {}
    wanted = {(e.sender.deployment, e.message_id) for e in envelopes}
    rows = ReceivedMessage.objects.filter(message_id__in=[e.message_id for e in envelopes]).values_list(
        "sender_deployment", "message_id", "answer_status", "answer")
    return {(d, m): ReceiveAnswer(status, bytes(answer)) for d, m, status, answer in rows if (d, m) in wanted}


def _checked_recipient(envelope: Envelope, identity: Identity) -> Organisation | None:
    """The checks after ``open_envelope``: addressed here, to whom, the secrecy rule, the kind."""
    if envelope.recipient is None or envelope.recipient.deployment != identity.deployment_id:
        raise refused("exchange.wrong_deployment", f"recipient {envelope.recipient!r}")
    if envelope.kind == "letter":
        recipient = _recipient(envelope.recipient)
        secrecy = envelope.metadata["secrecy"]
        if secrecy == Secrecy.TOP_SECRET and not top_secret_may_go_electronically():
            raise refused("exchange.secrecy_refused", "top_secret")
        return recipient
    if envelope.kind == "receipt":
        return None
    raise refused("exchange.unsupported_kind", envelope.kind)


def _recipient(address: Address) -> Organisation:
    recipient = Organisation.objects.filter(
        identifier=address.organisation, home_deployment="", is_active=True,
    ).first()
    if recipient is None:
        raise refused("exchange.unknown_recipient", address.organisation)
    return recipient


def _store(item: _Accepted, batch: _Batch) -> None:
    """Keep one message, its answer and what it carries (in the caller's transaction)."""
    envelope, recipient = item.opened.envelope, item.recipient
    peer = batch.peer(envelope.sender.deployment)
    # The container exactly as received: the evidence of what arrived, signature and all.
    container = store_file(item.data, MIMETYPE, max_bytes=settings.SARABAN_EXCHANGE["max_message_bytes"])
    in_reply_to = envelope.metadata.get("in_reply_to") if envelope.kind == "receipt" else None
    received = ReceivedMessage.objects.create(
        peer=peer, sender_deployment=envelope.sender.deployment,
        sender_organisation=envelope.sender.organisation, message_id=envelope.message_id,
        kind=envelope.kind, recipient=recipient, in_reply_to=in_reply_to, container=container,
        received_at=timezone.now(), answer=item.answer, answer_status=200,
    )
    if recipient is not None:  # a letter (receipts have no recipient organisation here)
        _deliver_letter(envelope, received, peer, recipient, batch)
    else:
        _apply_receipt(envelope, peer)


def _sender_organisation(peer: Peer, envelope: Envelope, batch: _Batch) -> int:
    """The sender's organisation in this directory: its remote copy, made on its first letter."""
    name = str(envelope.metadata.get("sender_name", ""))
    key = (peer.pk, envelope.sender.organisation, name)
    if key not in batch.senders:
        batch.senders[key] = remember_remote_organisation(peer, envelope.sender.organisation, name_th=name).pk
    return batch.senders[key]


def _deliver_letter(envelope: Envelope, received: ReceivedMessage, peer: Peer, recipient: Organisation,
                    batch: _Batch) -> None:
    metadata = envelope.metadata
    enclosures = []
    for enclosure in metadata.get("enclosures", []):
        entry = {"title": enclosure["title"]}
        if enclosure.get("part"):
            part = envelope.part(enclosure["part"])
            entry["sha256"] = store_file(part.data, part.media_type).sha256
            entry["filename"] = part.name.rsplit("/", 1)[-1]
        enclosures.append(entry)
    deliver_to_inbox(Delivery(
        recipient_id=recipient.pk, sender_organisation_id=_sender_organisation(peer, envelope, batch),
        sender_name=metadata["sender_name"], number=metadata["number"], date=dt.date.fromisoformat(metadata["date"]),
        subject=metadata["subject"], addressed_to=metadata.get("addressed_to", ""), urgency=metadata["urgency"],
        secrecy=metadata["secrecy"], pdf=envelope.part(metadata["main_part"]).data,
        delivered_at=received.received_at, enclosures=enclosures, received_message_id=received.pk,
    ))


_RECEIPT_STATUS = {
    "delivered": DispatchStatus.DELIVERED, "received": DispatchStatus.RECEIVED,
    "registered": DispatchStatus.REGISTERED, "returned": DispatchStatus.RETURNED,
}


def _apply_receipt(envelope: Envelope, peer: Peer) -> None:
    metadata = envelope.metadata
    dispatch = Dispatch.objects.filter(message_id=metadata["in_reply_to"]).first()
    remote = RemoteOrganisation.objects.filter(organisation_id=dispatch.recipient_id).first() if dispatch else None
    # Only the recipient's own deployment may report on a dispatch, and only for that recipient.
    if dispatch is None or remote is None or remote.peer_id != peer.pk or \
            remote.remote_identifier != envelope.sender.organisation:
        raise refused("exchange.unknown_message", str(metadata["in_reply_to"]))
    report_status(dispatch, _RECEIPT_STATUS[metadata["status"]], receive_number=metadata.get("receive_number", ""),
                  reason=metadata.get("reason", ""), actor=None)
