"""The kinds of exchange message and what each one's ``metadata`` (in envelope.json) must hold.

- ``letter``: one letter (หนังสือ) for one recipient organisation, with its PDF and enclosures;
- ``receipt``: what became of a letter at the recipient (delivered, received, registered with its
  เลขรับ, returned with the reason);
- ``rejection``: the receiving deployment refused a message (a code of ``refusals.REFUSALS``);
- ``directory``: the organisations a deployment hosts (``directory_document.py``).

``metadata_problem`` is the receiver's check (and the sender's, before packing); fields it does not
know are kept and ignored, so later versions may add some. The field lists are in ``docs/exchange.md``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NotRequired, TypedDict

from saraban.regulation.kinds import Secrecy, Urgency

from .asic import Part

KINDS = ("letter", "receipt", "rejection", "directory")
RECEIPT_STATUSES = ("delivered", "received", "registered", "returned")
PDF = "application/pdf"


class Reference(TypedDict):
    """อ้างถึง: an earlier letter, as printed (``text``), with its number, date and message id if known."""

    text: str
    number: NotRequired[str]
    date: NotRequired[str]  # ISO 8601 date
    message_id: NotRequired[str]


class Enclosure(TypedDict):
    """สิ่งที่ส่งมาด้วย: its title, and the part that carries it (None: sent another way, e.g. by post)."""

    title: str
    part: str | None


class Copy(TypedDict):
    """สำเนาส่ง: an organisation that receives a copy, by name, with its address when it has one."""

    name: str
    deployment: NotRequired[str | None]
    organisation: NotRequired[str | None]


class LetterMetadata(TypedDict):
    """The metadata of a ``letter`` message."""

    number: str  # ที่: "นร 0105/123"
    date: str  # ลงวันที่, ISO 8601: "2026-11-26"
    date_th: str  # as printed: "๒๖ พฤศจิกายน ๒๕๖๙"
    subject: str  # เรื่อง
    sender_name: str  # the sending organisation's name (Thai), shown as "จาก"
    addressed_to: NotRequired[str]  # เรียน
    urgency: str  # regulation.kinds.Urgency value
    secrecy: str  # regulation.kinds.Secrecy value
    main_part: str  # the letter's PDF, exactly as signed
    references: list[Reference]
    enclosures: list[Enclosure]
    copies: list[Copy]
    copy: NotRequired[bool]  # True: this recipient is itself a copy (สำเนา), not a "to" recipient


class ReceiptMetadata(TypedDict):
    """The metadata of a ``receipt`` message."""

    in_reply_to: str  # the id of the message it answers (a letter; a receipt, for its "delivered")
    status: str  # delivered | received | registered | returned
    receive_number: NotRequired[str]  # เลขรับ (registered)
    registered_on: NotRequired[str]  # ISO 8601 date (registered)
    reason: NotRequired[str]  # why it was returned (returned)


class RejectionMetadata(TypedDict):
    """The metadata of a ``rejection`` message."""

    in_reply_to: str | None  # None when the refused message's id could not be read
    code: str
    message_th: str
    message_en: str


def _is_iso_date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _text(metadata: dict[str, Any], name: str, *, required: bool = True, empty: bool = False) -> str | None:
    value = metadata.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        return f"metadata.{name} must be a string"
    if not value.strip() and not empty:
        return f"metadata.{name} must not be empty"
    return None


def _list_of_objects(metadata: dict[str, Any], name: str, check: Callable[[dict[str, Any]], bool]) -> str | None:
    value = metadata.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) and check(v) for v in value):
        return f"metadata.{name} must be a list of well-formed objects"
    return None


def _letter_problem(metadata: dict[str, Any], parts: Sequence[Part]) -> str | None:
    for name in ("number", "subject", "sender_name", "main_part"):
        if problem := _text(metadata, name):
            return problem
    for name in ("date_th", "addressed_to"):
        if problem := _text(metadata, name, required=False, empty=True):
            return problem
    if not _is_iso_date(metadata.get("date")):
        return "metadata.date must be an ISO 8601 date (YYYY-MM-DD)"
    if metadata.get("urgency") not in {u.value for u in Urgency}:
        return f"metadata.urgency must be one of {[u.value for u in Urgency]}"
    if metadata.get("secrecy") not in {s.value for s in Secrecy}:
        return f"metadata.secrecy must be one of {[s.value for s in Secrecy]}"
    if not isinstance(metadata.get("copy", False), bool):
        return "metadata.copy must be true or false"
    problem = (
        _list_of_objects(metadata, "references", lambda r: isinstance(r.get("text"), str))
        or _list_of_objects(metadata, "enclosures", lambda e: isinstance(e.get("title"), str)
                            and (e.get("part") is None or isinstance(e.get("part"), str)))
        or _list_of_objects(metadata, "copies", lambda c: isinstance(c.get("name"), str))
    )
    if problem:
        return problem
    media_types = {p.name: p.media_type for p in parts}
    if media_types.get(metadata["main_part"]) != PDF:
        return "metadata.main_part must name a part of type application/pdf"
    named = [metadata["main_part"]] + [e["part"] for e in metadata.get("enclosures", []) if e.get("part")]
    if any(name not in media_types for name in named):
        return "an enclosure names a part the message does not hold"
    if len(set(named)) != len(named) or set(named) != set(media_types):
        return "every part must be the main PDF or one enclosure, once"
    return None


def _receipt_problem(metadata: dict[str, Any]) -> str | None:
    if not _is_uuid(metadata.get("in_reply_to")):
        return "metadata.in_reply_to must be the message id of the message answered"
    status = metadata.get("status")
    if status not in RECEIPT_STATUSES:
        return f"metadata.status must be one of {list(RECEIPT_STATUSES)}"
    if status == "registered":
        if problem := _text(metadata, "receive_number"):
            return problem
        if not _is_iso_date(metadata.get("registered_on")):
            return "metadata.registered_on must be an ISO 8601 date"
    if status == "returned" and (problem := _text(metadata, "reason")):
        return problem
    return None


def _rejection_problem(metadata: dict[str, Any]) -> str | None:
    if metadata.get("in_reply_to") is not None and not _is_uuid(metadata.get("in_reply_to")):
        return "metadata.in_reply_to must be a message id or null"
    for name in ("code", "message_th", "message_en"):
        if problem := _text(metadata, name):
            return problem
    return None


def metadata_problem(
    kind: str, metadata: dict[str, Any], parts: Sequence[Part], *, sender_organisation: str,
    recipient_organisation: str | None,
) -> str | None:
    """What is wrong with a message of ``kind`` (None: nothing): its metadata, parts and addresses."""
    if kind not in KINDS:
        return f"kind must be one of {list(KINDS)}"
    if kind in ("letter", "receipt") and not (sender_organisation and recipient_organisation):
        return f"a {kind} needs a sender and a recipient organisation"
    if kind == "letter":
        return _letter_problem(metadata, parts)
    if parts and kind in ("receipt", "rejection"):
        return f"a {kind} has no parts besides envelope.json"
    if kind == "receipt":
        return _receipt_problem(metadata)
    if kind == "rejection":
        return _rejection_problem(metadata)
    return None  # directory: directory_document.py checks its directory.json
