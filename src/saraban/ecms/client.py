"""SOAP 1.1 calls to an organisation's own e-CMS node: POST the envelope, read the answer as an e-CMS message.

The standard library's ``http.client`` carries the request (one kept-alive connection per node and
thread); lxml reads the answer (``messages.parse_message``). Every way a call can fail becomes one
of three errors, in words for the registry:

- ``NodeUnreachable``: no answer (down, refused, timed out, cut): try again later;
- ``NodeFault``: the node answered a SOAP Fault or an ``ErrorDetail``; ``client_side`` when it
  blames our request (try again only once something changed), otherwise a node's trouble;
- ``NodeAnswerInvalid``: an answer that is not an e-CMS message (a proxy's error page): try again.
"""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

from django.conf import settings

from .messages import EcmsMessageError, Message, parse_message

MAX_ANSWER_BYTES = 96 * 1024 * 1024  # an inbound letter: its PDF and attachments, base64


class NodeError(Exception):
    """A call to the e-CMS node that did not succeed, in Thai and English."""

    retry = True

    def __init__(self, message_th: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_th, self.message_en = message_th, message_en

    @property
    def words(self) -> str:
        """Both languages, for the queue page and the logs."""
        return f"{self.message_th} / {self.message_en}"


class NodeUnreachable(NodeError):
    """The node could not be reached or did not answer in time."""

    def __init__(self, message_th: str, message_en: str, *, sent: bool) -> None:
        super().__init__(message_th, message_en)
        self.sent = sent  # the request was written out: the node may have acted on it


class NodeFault(NodeError):
    """The node answered with a fault: its code and description."""

    def __init__(self, code: str, description: str, *, client_side: bool) -> None:
        super().__init__(f"e-CMS แจ้งข้อผิดพลาด {code}: {description}", f"e-CMS answered fault {code}: {description}")
        self.code, self.description, self.client_side = code, description, client_side
        self.retry = not client_side


class NodeAnswerInvalid(NodeError):
    """The node's answer is not an e-CMS message."""


_local = threading.local()


def _connection(endpoint: str, timeout: float, *, fresh: bool) -> http.client.HTTPConnection:
    pool: dict[str, http.client.HTTPConnection] = _local.__dict__.setdefault("pool", {})
    connection = pool.get(endpoint)
    if connection is not None and not fresh:
        connection.timeout = timeout
        return connection
    if connection is not None:
        connection.close()
    parts = urlsplit(endpoint)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = cls(parts.hostname or "", parts.port, timeout=timeout)
    pool[endpoint] = connection
    return connection


def _close(endpoint: str) -> None:
    connection = _local.__dict__.get("pool", {}).pop(endpoint, None)
    if connection is not None:
        connection.close()


def _post(endpoint: str, body: bytes, timeout: float, *, fresh: bool) -> tuple[int, bytes, bool]:
    connection = _connection(endpoint, timeout, fresh=fresh)
    parts = urlsplit(endpoint)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection.request("POST", path, body=body, headers={
        "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""', "Accept": "text/xml",
    })
    response = connection.getresponse()
    data = response.read(MAX_ANSWER_BYTES + 1)
    if response.will_close or len(data) > MAX_ANSWER_BYTES:
        _close(endpoint)
    return response.status, data, True


def call(endpoint: str, body: bytes, *, timeout: float | None = None, keep: list[bytes] | None = None) -> Message:
    """POST one SOAP request to the node and return its answer; a ``NodeError`` when it did not succeed.

    ``keep`` receives the answer's bytes as they came (what a polled letter is stored as).
    """
    timeout = float(timeout or settings.SARABAN_ECMS["timeout_s"])
    sent = False
    try:
        try:
            status, data, sent = _post(endpoint, body, timeout, fresh=False)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                http.client.CannotSendRequest, http.client.ResponseNotReady):
            # A kept-alive connection the node closed meanwhile: once more on a new one.
            status, data, sent = _post(endpoint, body, timeout, fresh=True)
    except (OSError, http.client.HTTPException) as exc:
        _close(endpoint)
        reason = f"{type(exc).__name__}: {exc}"[:300]
        raise NodeUnreachable(f"ติดต่อ e-CMS ไม่ได้ ({reason})", f"The e-CMS node cannot be reached ({reason})",
                              sent=sent or isinstance(exc, TimeoutError)) from None
    if keep is not None:
        keep.append(data)
    if len(data) > MAX_ANSWER_BYTES:
        raise NodeAnswerInvalid("คำตอบของ e-CMS ใหญ่เกินกำหนด", "The e-CMS node's answer is too large")
    try:
        answer = parse_message(data, max_bytes=MAX_ANSWER_BYTES)
    except EcmsMessageError as exc:
        raise NodeAnswerInvalid(f"e-CMS ตอบ HTTP {status} ที่อ่านไม่ได้: {exc.message_th}",
                                f"The e-CMS node answered HTTP {status} that cannot be read: {exc.message_en}",
                                ) from None
    if answer.fault is not None:
        fault = answer.fault
        client_side = "client" in fault.fault_code.lower() or (not fault.fault_code and 400 <= status < 500)
        raise NodeFault(fault.code or fault.fault_code or str(status), fault.description, client_side=client_side)
    if status != 200:
        raise NodeAnswerInvalid(f"e-CMS ตอบ HTTP {status}", f"The e-CMS node answered HTTP {status}")
    return answer
