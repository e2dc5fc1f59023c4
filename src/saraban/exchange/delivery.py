"""What an inbox receives: a ``Delivery``, the same whichever channel carried the letter.

Built from the sender's letter for a recipient hosted here (``local_delivery``), and from a received
envelope for a letter from another deployment (``receiving``). The inbox never reads the sender's
rows: it stores what the delivery holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saraban.correspondence.models import Letter


@dataclass(frozen=True)
class Delivery:
    """One letter arriving at one recipient organisation of this deployment."""

    recipient_id: int  # the organisation (hosted here) whose inbox receives it
    sender_name: str  # จาก, as the sender names itself
    number: str  # ที่
    date: dt.date | None  # ลงวันที่
    subject: str
    addressed_to: str  # เรียน
    urgency: str
    secrecy: str
    pdf: bytes  # the letter exactly as signed
    delivered_at: dt.datetime
    sender_organisation_id: int | None = None  # the sender in this directory (local or remote)
    enclosures: list[dict[str, Any]] = field(default_factory=list)  # [{"title", "sha256"?}]
    dispatch_id: int | None = None  # sent within this deployment
    received_message_id: int | None = None  # arrived from another deployment
    # Arrived by another system's channel (``exchange.channels``): its name, and its reference for
    # the reports back to the sender (e-CMS: the id of the polled item).
    channel: str = ""
    channel_ref: str = ""


@dataclass(frozen=True)
class OutgoingLetter:
    """What travels: the letter, its final PDF exactly as signed, and its enclosures' files."""

    letter: Letter
    pdf: bytes

    @property
    def enclosures(self) -> list[dict[str, str | None]]:
        """The enclosures as titles with the SHA-256 of their file, when attached."""
        return [
            {"title": e.title, "sha256": e.sha256, "filename": e.filename}
            for e in self.letter.letter_content.enclosures
        ]


# The inbox's receiver (``saraban.inbox.services.receive_electronic``), handed over by
# ``InboxConfig.ready``: the inbox sits above exchange, so exchange does not import it.
Receiver = Callable[[Delivery], int]
_receivers: list[Receiver] = []


def receive_with(receiver: Receiver) -> None:
    """Put deliveries in inboxes with ``receiver`` (set once at start-up); it returns the incoming id."""
    _receivers[:] = [receiver]


def deliver_to_inbox(delivery: Delivery) -> int:
    """Hand ``delivery`` to the inbox (in the caller's transaction); the new incoming letter's id."""
    if not _receivers:  # a programming error: saraban.inbox is always installed
        raise RuntimeError("no inbox receives deliveries: InboxConfig.ready did not run")
    return _receivers[0](delivery)
