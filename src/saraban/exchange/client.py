"""Posting a message to a peer (``POST {endpoint}/exchange/messages``) over a kept-alive connection.

The standard library's ``http.client``: one connection per peer and per sending thread, reused
while the peer keeps it open, opened again once when a kept-alive connection turns out closed.
HTTPS is verified against the system's CAs; plain HTTP only to loopback (or when the administrator
allows it with ``SARABAN_EXCHANGE_ALLOW_HTTP=1``, e.g. behind a TLS-terminating tunnel).
"""

from __future__ import annotations

import http.client
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from .asic import MIMETYPE

MESSAGES_PATH = "/exchange/messages"
# The id of the message in the body, so that a receiver refusing a body it does not read (too large,
# wrong type) names the message it refuses (docs/exchange.md §6).
MESSAGE_ID_HEADER = "Saraban-Message-Id"
DIRECTORY_PATH = "/exchange/directory"
MAX_ANSWER_BYTES = 1024 * 1024  # a receipt or a rejection is a few kilobytes


class PeerUnreachable(Exception):
    """The peer could not be reached or did not answer in time (retry later)."""


@dataclass(frozen=True)
class Answer:
    """The peer's HTTP answer: its status and body (a signed receipt or rejection, or anything else)."""

    status: int
    body: bytes
    content_type: str


def endpoint_problem(endpoint: str) -> str | None:
    """What is wrong with a peer's base URL (None: nothing)."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "the endpoint must be an https:// URL"
    if parts.query or parts.fragment or parts.username:
        return "the endpoint must not have a query, fragment or user name"
    if parts.scheme == "http" and not (_is_loopback(parts.hostname) or settings.SARABAN_EXCHANGE["allow_http"]):
        return "plain http:// is allowed only to loopback (SARABAN_EXCHANGE_ALLOW_HTTP=1 allows it)"
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_local = threading.local()


def _connection(endpoint: str, timeout: float, *, fresh: bool) -> http.client.HTTPConnection:
    pool: dict[str, http.client.HTTPConnection] = _local.__dict__.setdefault("pool", {})
    connection = pool.get(endpoint)
    if connection is not None and not fresh:
        return connection
    if connection is not None:
        connection.close()
    parts = urlsplit(endpoint)
    host, port = parts.hostname or "", parts.port
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    pool[endpoint] = connection
    return connection


def _request(endpoint: str, method: str, path: str, body: bytes | None, timeout: float, fresh: bool,
             limit: int, extra: dict[str, str]) -> Answer:
    connection = _connection(endpoint, timeout, fresh=fresh)
    base = urlsplit(endpoint).path.rstrip("/")
    headers = {"Accept": f"{MIMETYPE}, application/json"}
    if body is not None:
        headers["Content-Type"] = MIMETYPE
    headers |= extra  # a batch's own Content-Type
    connection.request(method, base + path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read(limit + 1)
    if len(data) > limit or response.will_close:
        connection.close()
    return Answer(response.status, data[:limit], response.getheader("Content-Type", ""))


def exchange_request(endpoint: str, method: str, path: str, body: bytes | None = None,
                     timeout: float | None = None, max_answer_bytes: int = MAX_ANSWER_BYTES,
                     headers: dict[str, str] | None = None) -> Answer:
    """One request to a peer; ``PeerUnreachable`` when it cannot be made or answered in time.

    A kept-alive connection the peer closed meanwhile is retried once on a new connection: the
    message id makes a second delivery harmless (the peer answers a duplicate as the original).
    """
    timeout = float(timeout or settings.SARABAN_EXCHANGE["timeout_s"])
    try:
        try:
            return _request(endpoint, method, path, body, timeout, fresh=False, limit=max_answer_bytes,
                            extra=headers or {})
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                http.client.CannotSendRequest, http.client.ResponseNotReady):
            return _request(endpoint, method, path, body, timeout, fresh=True, limit=max_answer_bytes,
                            extra=headers or {})
    except (OSError, http.client.HTTPException) as exc:
        _close(endpoint)
        raise PeerUnreachable(f"{type(exc).__name__}: {exc}"[:300]) from None


def _close(endpoint: str) -> None:
    pool: dict[str, http.client.HTTPConnection] = _local.__dict__.get("pool", {})
    connection = pool.pop(endpoint, None)
    if connection is not None:
        connection.close()
