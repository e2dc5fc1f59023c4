"""Several messages in one POST (``POST {endpoint}/exchange/batches``, ``docs/exchange.md`` §6.1).

The body is ``multipart/mixed`` (RFC 2046): one body part per message, each the message's own
signed container exactly as a single POST would carry it, with ``Content-Type:
application/vnd.etsi.asic-e+zip`` and ``Saraban-Message-Id``. The answer is ``multipart/mixed``
too, one part per message in the same order, each the signed receipt or rejection a single POST
of that message would have got, with its HTTP status in ``Saraban-Status``. A batch changes
nothing of a message's meaning: each is checked, stored once and answered on its own, so a
message may go alone one day and in a batch the next, and gets the same answer.

A deployment that receives batches says so in its directory (``max_batch_messages``); a sender
sends no more messages in one batch than that, nor more bytes than ``max_message_bytes``.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

from .asic import MIMETYPE
from .client import MESSAGE_ID_HEADER
from .refusals import refused

BATCHES_PATH = "/exchange/batches"
BATCH_MEDIA_TYPE = "multipart/mixed"
STATUS_HEADER = "Saraban-Status"
MAX_BATCH_MESSAGES = 50  # what this deployment accepts in one batch (published in its directory)
_MAX_HEADER_BYTES = 2048  # the headers of one body part
_BOUNDARY_RE = re.compile(r'boundary="?([0-9A-Za-z\'()+_,\-./:=? ]{1,70})"?', re.IGNORECASE)


@dataclass(frozen=True)
class BatchPart:
    """One message of a batch (or one answer): its bytes, the message id named, and a status (answers)."""

    data: bytes
    message_id: uuid.UUID | None = None
    status: int | None = None
    content_type: str = MIMETYPE


def encode_batch(parts: list[BatchPart]) -> tuple[bytes, str]:
    """The body and Content-Type of a batch (or of the answer to one)."""
    while True:  # a boundary that occurs in no part (a random one, checked)
        boundary = "saraban-" + secrets.token_hex(16)
        marker = b"--" + boundary.encode("ascii")
        if not any(marker in part.data for part in parts):
            break
    chunks = []
    for part in parts:
        headers = [f"Content-Type: {part.content_type}", f"Content-Length: {len(part.data)}"]
        if part.message_id is not None:
            headers.append(f"{MESSAGE_ID_HEADER}: {part.message_id}")
        if part.status is not None:
            headers.append(f"{STATUS_HEADER}: {part.status}")
        chunks += [marker, b"\r\n", "\r\n".join(headers).encode("ascii"), b"\r\n\r\n", part.data, b"\r\n"]
    chunks += [marker, b"--\r\n"]
    return b"".join(chunks), f'{BATCH_MEDIA_TYPE}; boundary="{boundary}"'


def boundary_of(content_type: str) -> str | None:
    """The boundary of a ``multipart/mixed`` Content-Type (None: not one, or no usable boundary)."""
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != BATCH_MEDIA_TYPE:
        return None
    found = _BOUNDARY_RE.search(parameters)
    return found.group(1).rstrip(" ") if found else None


def _headers(block: bytes) -> dict[str, str]:
    if len(block) > _MAX_HEADER_BYTES:
        raise ValueError("the headers of a part are too long")
    headers = {}
    for line in block.decode("ascii").split("\r\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"a header line without a colon: {line[:40]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


def decode_batch(body: bytes, content_type: str, *, max_parts: int) -> list[BatchPart]:
    """The parts of a batch body; ``EnvelopeRefused`` (``exchange.bad_batch``) if it is not one.

    Strict and simple: CRLF line ends, no preamble beyond the first boundary line, at most
    ``max_parts`` parts, each with a Content-Type and, for a message, its bytes as they are (no
    transfer encoding). A ``Content-Length`` header, when present, must match.
    """
    boundary = boundary_of(content_type)
    if boundary is None:
        raise refused("exchange.bad_batch", "Content-Type must be multipart/mixed with a boundary")
    marker = b"--" + boundary.encode("ascii")
    try:
        if not body.startswith(marker + b"\r\n"):
            raise ValueError("the body must begin with the boundary line")
        parts: list[BatchPart] = []
        position = len(marker) + 2
        delimiter = b"\r\n" + marker
        while True:
            if len(parts) >= max_parts:
                raise ValueError(f"more than {max_parts} messages in one batch")
            if body.startswith(b"\r\n", position):  # a part without headers
                headers, start = {}, position + 2
            else:
                head_end = body.find(b"\r\n\r\n", position, position + _MAX_HEADER_BYTES + 4)
                if head_end < 0:
                    raise ValueError("a part has no end of headers")
                headers, start = _headers(body[position:head_end]), head_end + 4
            end = body.find(delimiter, start)
            if end < 0:
                raise ValueError("a part is not closed by the boundary")
            data = body[start:end]
            declared = headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) != len(data)):
                raise ValueError("a part's Content-Length does not match its bytes")
            if "content-transfer-encoding" in headers and \
                    headers["content-transfer-encoding"].lower() not in ("binary", "8bit", "7bit"):
                raise ValueError("a part must not be transfer-encoded")
            message_id = headers.get(MESSAGE_ID_HEADER.lower())
            status = headers.get(STATUS_HEADER.lower())
            parts.append(BatchPart(
                data=data, message_id=uuid.UUID(message_id[:64]) if message_id else None,
                status=int(status) if status and status.isdigit() and len(status) == 3 else None,
                content_type=headers.get("content-type", ""),
            ))
            after = end + len(delimiter)
            if body[after:after + 2] == b"--":
                break
            if body[after:after + 2] != b"\r\n":
                raise ValueError("a boundary line must end with CRLF")
            position = after + 2
    except ValueError as exc:  # also UnicodeDecodeError and a malformed UUID
        raise refused("exchange.bad_batch", str(exc)) from None
    if not parts:
        raise refused("exchange.bad_batch", "a batch holds at least one message")
    return parts
