"""How a dispatch reaches its recipient: one interface, one implementation per channel.

- ``InternalTransport``: a recipient hosted by this deployment; its inbox gets the letter at once.
- ``PeerTransport``: a recipient hosted by another Saraban deployment; a signed message is put in the
  outbox in the send transaction and ``outbox`` delivers it (``docs/exchange.md``).

- a registered channel (``channels``): DGA e-CMS (``saraban.ecms``), later e-mail.

 Every transport delivers an ``OutgoingLetter``; none hands over database rows.
"""

from __future__ import annotations

from typing import Protocol

from .channels import channel_for
from .delivery import Delivery, OutgoingLetter, deliver_to_inbox
from .dispatches import mark_in_transit
from .models import Dispatch
from .outbox import queue_letter


class Transport(Protocol):
    """A channel that delivers a dispatch to its recipient."""

    name: str

    def deliver(self, dispatch: Dispatch, outgoing: OutgoingLetter) -> None:
        """Hand the letter over (or queue it, in the caller's transaction); raise to send nothing."""
        ...


class InternalTransport:
    """Delivery to an organisation hosted by this deployment: a new entry in its inbox."""

    name = "internal"

    def deliver(self, dispatch: Dispatch, outgoing: OutgoingLetter) -> None:
        letter = outgoing.letter
        content = letter.letter_content
        deliver_to_inbox(Delivery(
            recipient_id=dispatch.recipient_id, sender_organisation_id=letter.organisation_id,
            sender_name=content.issuer.name or letter.organisation.name_th, number=letter.number,
            date=letter.date, subject=letter.subject, addressed_to=content.recipient, urgency=letter.urgency,
            secrecy=letter.secrecy, pdf=outgoing.pdf,
            enclosures=[{k: v for k, v in e.items() if v} for e in outgoing.enclosures],
            delivered_at=dispatch.sent_at, dispatch_id=dispatch.pk,
        ))


class PeerTransport:
    """Delivery to an organisation of another Saraban deployment: a signed message in the outbox."""

    name = "saraban"

    def deliver(self, dispatch: Dispatch, outgoing: OutgoingLetter) -> None:
        dispatch.message_id = queue_letter(dispatch, outgoing).message_id
        mark_in_transit(dispatch, self.name)


def transport_for(dispatch: Dispatch) -> Transport:
    """The transport that carries ``dispatch``: by where its recipient is hosted.

    A peer's organisation goes through the outbox; one reached by another system (DGA e-CMS, e-mail)
    through that system's channel; any other is hosted here.
    """
    if dispatch.recipient.home_deployment:
        return PeerTransport()
    channel = channel_for(dispatch.recipient_id)
    if channel is not None:
        return channel
    return InternalTransport()
