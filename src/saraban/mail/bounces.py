"""Reading an e-mail bounce (RFC 3464 delivery status notification) back: which message, to whom, why.

A DSN is ``multipart/report; report-type=delivery-status`` with a ``message/delivery-status`` part
(per recipient: Final-Recipient, Action, Status, Diagnostic-Code) and the original message or its
headers (``message/rfc822`` or ``text/rfc822-headers``), which name the Message-ID we sent. Some
servers send a plain message from MAILER-DAEMON with the original attached: read the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser

_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (subsystem|system)", re.IGNORECASE)


@dataclass(frozen=True)
class Bounce:
    """What the bounce says: the original Message-ID (no brackets), the recipient, the status and why."""

    original_message_id: str
    recipient: str = ""
    status: str = ""
    diagnostic: str = ""

    @property
    def words(self) -> str:
        """The reason in a line, for the dispatch and the queue page."""
        return " ".join(part for part in (self.recipient, self.status, self.diagnostic) if part)[:900]


def _clean_id(value: object) -> str:
    return str(value or "").strip().strip("<>").strip()


def _status_fields(part: Message) -> dict[str, str]:
    """Per-recipient fields of a ``message/delivery-status`` part (the first failed one)."""
    payload = part.get_payload()
    blocks: list[Message] = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    if not blocks:  # some parsers leave it as text
        blocks = [HeaderParser().parsestr(chunk) for chunk in _text(part).split("\n\n")]
    chosen: dict[str, str] = {}
    for block in blocks:
        fields = {k.lower(): str(v) for k, v in block.items()}
        if "final-recipient" in fields or "original-recipient" in fields:
            chosen = fields
            if fields.get("action", "").lower() == "failed":
                break
    return chosen


def _text(part: Message) -> str:
    data = part.get_payload(decode=True)
    return data.decode(errors="replace") if isinstance(data, bytes) else str(part.get_payload() or "")


def _original_id(part: Message) -> str:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        return _clean_id(inner["Message-ID"]) if isinstance(inner, Message) else ""
    if content_type == "text/rfc822-headers":
        return _clean_id(HeaderParser().parsestr(_text(part))["Message-ID"])
    return ""


def read_bounce(message: EmailMessage) -> Bounce | None:
    """The bounce ``message`` is (None: it is not one)."""
    is_report = message.get_content_type() == "multipart/report" and \
        str(message.get_param("report-type", "")).lower() == "delivery-status"
    from_daemon = bool(_DAEMON.search(str(message.get("From", ""))))
    if not (is_report or from_daemon):
        return None
    fields: dict[str, str] = {}
    original = ""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status" and not fields:
            fields = _status_fields(part)
        original = original or _original_id(part)
    original = original or _clean_id(message.get("In-Reply-To")) or _clean_id(fields.get("original-envelope-id"))
    if not original:
        return None
    recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
    return Bounce(original_message_id=original, recipient=recipient.partition(";")[2].strip() or recipient,
                  status=fields.get("status", ""), diagnostic=fields.get("diagnostic-code", "")[:500])
