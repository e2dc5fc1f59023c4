"""Receipts and rejections: the messages that answer a letter (or any message), ready to ``pack``.

Their message ids are derived from what they answer (UUID version 5), so an answer made again
after a crash has the same id as the first one and the other side stores it once:

- a receipt: ``uuid5(REPLY_NAMESPACE, "receipt:<letter message id>:<status>")``;
- a rejection: ``uuid5(REPLY_NAMESPACE, "rejection:<refused message id>:<code>")`` (a random id
  when the refused message's id could not be read).
"""

from __future__ import annotations

import datetime as dt
import uuid

from saraban.core.errors import SarabanError

from .envelope import Address, Envelope
from .kinds import RECEIPT_STATUSES

REPLY_NAMESPACE = uuid.UUID("20b9d5ef-dbbf-4b41-a9ff-5997e40ff058")


def receipt_id(in_reply_to: uuid.UUID, status: str) -> uuid.UUID:
    """The message id of the receipt ``status`` for the letter ``in_reply_to``."""
    return uuid.uuid5(REPLY_NAMESPACE, f"receipt:{in_reply_to}:{status}")


def rejection_id(in_reply_to: uuid.UUID, code: str) -> uuid.UUID:
    """The message id of the rejection ``code`` of the message ``in_reply_to``."""
    return uuid.uuid5(REPLY_NAMESPACE, f"rejection:{in_reply_to}:{code}")


def receipt(
    letter: Envelope, status: str, *, receive_number: str = "", registered_on: dt.date | None = None,
    reason: str = "", created_at: dt.datetime | None = None,
) -> Envelope:
    """The receipt ``status`` (delivered, received, registered, returned) of ``letter``, from its recipient.

    ``registered`` needs the เลขรับ and the date; ``returned`` needs the reason.
    """
    if status not in RECEIPT_STATUSES:
        raise ValueError(f"status must be one of {RECEIPT_STATUSES}")
    if letter.recipient is None:
        raise ValueError("the letter has no recipient to answer from")
    metadata: dict[str, object] = {"in_reply_to": str(letter.message_id), "status": status}
    if status == "registered":
        if not receive_number or registered_on is None:
            raise ValueError("a registered receipt needs the receive number and the date")
        metadata |= {"receive_number": receive_number, "registered_on": registered_on.isoformat()}
    if status == "returned":
        if not reason.strip():
            raise ValueError("a returned receipt needs the reason")
        metadata["reason"] = reason
    return Envelope(message_id=receipt_id(letter.message_id, status), kind="receipt",
                    created_at=created_at or dt.datetime.now(dt.UTC), sender=letter.recipient,
                    recipient=letter.sender, metadata=metadata)


def rejection(
    error: SarabanError, *, sender: Address, recipient: Address | None, in_reply_to: uuid.UUID | None,
    created_at: dt.datetime | None = None,
) -> Envelope:
    """The rejection of a message for ``error`` (an ``EnvelopeRefused`` or another refusal), by ``sender``.

    ``recipient`` and ``in_reply_to`` are None when the refused message could not be read that far.
    """
    message_id = rejection_id(in_reply_to, error.code) if in_reply_to is not None else uuid.uuid4()
    metadata = {"in_reply_to": str(in_reply_to) if in_reply_to else None, "code": error.code,
                "message_th": error.message_th, "message_en": error.message_en}
    return Envelope(message_id=message_id, kind="rejection", created_at=created_at or dt.datetime.now(dt.UTC),
                    sender=sender, recipient=recipient, metadata=metadata)
