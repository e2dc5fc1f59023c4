"""Receiving a message from a peer (``POST /exchange/messages``): checked, stored once, answered signed.

``receive_message`` runs every check before anything is written: the envelope (``open_envelope``:
size, container, digests, signature, the pinned signer and the deployment it must claim), that it
is addressed here, the recipient, the secrecy rule. Then, in one transaction, the message is
recorded with the signed answer it gets, and a letter goes into its recipient's inbox (a receipt
updates the dispatch it answers). A message id seen before from the same deployment gets the
stored answer again and changes nothing: delivery is exactly once, however often the sender retries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from saraban.access.policy import top_secret_may_go_electronically
from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation
from saraban.documents.services import store_file
from saraban.regulation.kinds import Secrecy

from .asic import MIMETYPE
from .delivery import Delivery, deliver_to_inbox
from .dispatches import report_status
from .envelope import Address, Envelope, OpenedEnvelope, open_envelope, pack, peek_message_id
from .identity import Identity, deployment_identity
from .models import Dispatch, DispatchStatus, Peer, ReceivedMessage, RemoteOrganisation
from .peering import remember_remote_organisation
from .refusals import EnvelopeRefused, refused
from .replies import receipt, rejection


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
    identity = deployment_identity()
    limits = settings.SARABAN_EXCHANGE
    try:
        opened = open_envelope(data, trusted=_trusted_peers(), max_bytes=limits["max_message_bytes"],
                               max_parts=limits["max_parts"])
        envelope = opened.envelope
        known = _answer_given(envelope)
        if known is not None:
            return known
        return _accept(opened, identity, data)
    except EnvelopeRefused as exc:
        in_reply_to = peek_message_id(data, max_bytes=limits["max_message_bytes"]) or claimed_id
        return refusal_answer(exc, identity, in_reply_to=in_reply_to)


def refusal_answer(error: EnvelopeRefused, identity: Identity | None = None, *,
                   in_reply_to: uuid.UUID | None) -> ReceiveAnswer:
    """The signed rejection of a message, with the HTTP status of its refusal."""
    identity = identity or deployment_identity()
    answer = rejection(error, sender=identity.address(), recipient=None, in_reply_to=in_reply_to)
    return ReceiveAnswer(error.http_status, pack(answer, identity.sealing_key))


def _answer_given(envelope: Envelope) -> ReceiveAnswer | None:
    row = ReceivedMessage.objects.filter(
        sender_deployment=envelope.sender.deployment, message_id=envelope.message_id,
    ).values_list("answer_status", "answer").first()
    return ReceiveAnswer(row[0], bytes(row[1])) if row else None


def _accept(opened: OpenedEnvelope, identity: Identity, data: bytes) -> ReceiveAnswer:
    envelope = opened.envelope
    if envelope.recipient is None or envelope.recipient.deployment != identity.deployment_id:
        raise refused("exchange.wrong_deployment", f"recipient {envelope.recipient!r}")
    if envelope.kind == "letter":
        recipient = _recipient(envelope.recipient)
        secrecy = envelope.metadata["secrecy"]
        if secrecy == Secrecy.TOP_SECRET and not top_secret_may_go_electronically():
            raise refused("exchange.secrecy_refused", "top_secret")
        return _store(opened, identity, recipient, data)
    if envelope.kind == "receipt":
        return _store(opened, identity, None, data)
    raise refused("exchange.unsupported_kind", envelope.kind)


def _recipient(address: Address) -> Organisation:
    recipient = Organisation.objects.filter(
        identifier=address.organisation, home_deployment="", is_active=True,
    ).first()
    if recipient is None:
        raise refused("exchange.unknown_recipient", address.organisation)
    return recipient


def _store(opened: OpenedEnvelope, identity: Identity, recipient: Organisation | None, data: bytes) -> ReceiveAnswer:
    envelope = opened.envelope
    peer = Peer.objects.get(deployment_id=envelope.sender.deployment)
    answer_envelope = receipt(envelope, "delivered")
    answer = pack(answer_envelope, identity.sealing_key)
    try:
        with transaction.atomic():
            # The container exactly as received: the evidence of what arrived, signature and all.
            container = store_file(data, MIMETYPE, max_bytes=settings.SARABAN_EXCHANGE["max_message_bytes"])
            in_reply_to = envelope.metadata.get("in_reply_to") if envelope.kind == "receipt" else None
            received = ReceivedMessage.objects.create(
                peer=peer, sender_deployment=envelope.sender.deployment,
                sender_organisation=envelope.sender.organisation, message_id=envelope.message_id,
                kind=envelope.kind, recipient=recipient, in_reply_to=in_reply_to, container=container,
                received_at=timezone.now(), answer=answer, answer_status=200,
            )
            if recipient is not None:  # a letter (receipts have no recipient organisation here)
                _deliver_letter(envelope, received, peer, recipient)
            else:
                _apply_receipt(envelope, peer)
    except IntegrityError:  # the same message, stored by a concurrent request a moment ago
        known = _answer_given(envelope)
        if known is None:
            raise
        return known
    except EnvelopeRefused:
        raise
    except SarabanError as exc:  # e.g. a file over the store's limit: refused, nothing kept
        raise refused("exchange.bad_metadata", exc.message_en, exc.message_th) from None
    return ReceiveAnswer(200, answer)


def _sender_organisation(peer: Peer, envelope: Envelope) -> int:
    """The sender's organisation in this directory: its remote copy, made on its first letter."""
    return remember_remote_organisation(
        peer, envelope.sender.organisation, name_th=str(envelope.metadata.get("sender_name", "")),
    ).pk


def _deliver_letter(envelope: Envelope, received: ReceivedMessage, peer: Peer, recipient: Organisation) -> None:
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
        recipient_id=recipient.pk, sender_organisation_id=_sender_organisation(peer, envelope),
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
