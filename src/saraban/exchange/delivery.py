"""What a recipient's inbox receives: a ``Delivery``, the same whatever carried the letter.

Within one deployment it is made from the sender's letter; from another deployment, from the envelope
that arrived. The inbox never reads the sender's rows (they may be on another server).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from saraban.core.thai import format_thai_date


@dataclass(frozen=True)
class DeliveredEnclosure:
    """สิ่งที่ส่งมาด้วย as received: its title and, when a file came with it, the stored file's digest."""

    title: str
    sha256: str | None = None
    filename: str = ""

    def as_json(self) -> dict[str, Any]:
        """The form the inbox keeps (``IncomingLetter.enclosures``)."""
        return {"title": self.title, "sha256": self.sha256, "filename": self.filename}


@dataclass(frozen=True)
class Delivery:
    """A letter for one recipient organisation of this deployment."""

    recipient_id: int  # the directory row of the organisation it is for (hosted here)
    sender_organisation_id: int | None  # the sender's directory row (local, or a remote organisation's)
    sender_name: str  # จาก
    letter_number: str  # ที่
    letter_date: dt.date | None  # ลงวันที่
    subject: str
    addressed_to: str  # เรียน
    urgency: str
    secrecy: str
    pdf: bytes  # exactly as signed
    delivered_at: dt.datetime
    enclosures: tuple[DeliveredEnclosure, ...] = ()
    # how the recipient's answers (received, registered, returned) go back: one of the two
    dispatch_id: int | None = None  # sent within this deployment
    received_message_id: int | None = None  # arrived from another deployment
    detail: dict[str, Any] = field(default_factory=dict)


# What puts a delivery into the recipient's inbox (``saraban.inbox.services.receive_electronic``). The
# inbox sits above exchange, so it hands this over when its app is ready (``InboxConfig.ready``).
Receiver = Callable[[Delivery], object]
_receivers: list[Receiver] = []


def receive_with(receiver: Receiver) -> None:
    """Deliver letters to this deployment's inboxes with ``receiver`` (the inbox's, set once at start-up)."""
    _receivers[:] = [receiver]


def hand_to_inbox(delivery: Delivery) -> object:
    """Put ``delivery`` in its recipient's inbox (in the caller's transaction); returns the inbox entry."""
    if not _receivers:  # a programming error: saraban.inbox is always installed
        raise RuntimeError("no inbox receives deliveries: InboxConfig.ready did not run")
    return _receivers[0](delivery)


def thai_date_text(day: dt.date | None) -> str:
    """ลงวันที่ as printed, for the envelope (``๒๖ พฤศจิกายน ๒๕๖๙``)."""
    return format_thai_date(day) if day else ""
