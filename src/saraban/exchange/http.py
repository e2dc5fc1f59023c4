"""The HTTP side of the exchange: POST a message to a peer, GET its directory (stdlib ``http.client``).

Connections are kept alive per thread and per peer: a day's letters to one ministry go over one
connection, not one each. Every call has a time limit, and a connection that failed is dropped.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from dataclasses import dataclass

ASIC_MEDIA_TYPE = "application/vnd.etsi.asic-e+zip"
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a receipt or a rejection; a directory document may be larger
MAX_DIRECTORY_BYTES = 16 * 1024 * 1024


class PeerUnreachable(Exception):
    """The peer did not answer (refused, timed out, cut off, or not HTTP)."""


@dataclass(frozen=True)
class Answer:
    """What a peer answered: its HTTP status and body."""

    status: int
    body: bytes
    content_type: str


class _Connections(threading.local):
    def __init__(self) -> None:
        self.open: dict[tuple[str, str, int], http.client.HTTPConnection] = {}


_CONNECTIONS = _Connections()


def _split(url: str) -> tuple[str, str, int, str]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PeerUnreachable(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def request(method: str, url: str, *, body: bytes | None = None, content_type: str = ASIC_MEDIA_TYPE,
            timeout: float = 30.0, max_bytes: int = MAX_ANSWER_BYTES) -> Answer:
    """One HTTP request; ``PeerUnreachable`` if no complete answer came back (the caller retries)."""
    scheme, host, port, path = _split(url)
    key = (scheme, host, port)
    for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more, anew
        connection = _CONNECTIONS.open.get(key)
        fresh = connection is None
        if connection is None:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = cls(host, port, timeout=timeout)
            _CONNECTIONS.open[key] = connection
        connection.timeout = timeout
        headers = {"Accept": ASIC_MEDIA_TYPE}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise PeerUnreachable(f"the answer is larger than {max_bytes} bytes")
            if response.getheader("Connection", "").lower() == "close":
                _drop(key)
            return Answer(status=response.status, body=data, content_type=response.getheader("Content-Type", ""))
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            _drop(key)
            if fresh or attempt == 2:
                raise PeerUnreachable(f"{type(exc).__name__}: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            _drop(key)
            raise PeerUnreachable(f"{type(exc).__name__}: {exc}") from None
    raise PeerUnreachable("no answer")  # not reached


def _drop(key: tuple[str, str, int]) -> None:
    connection = _CONNECTIONS.open.pop(key, None)
    if connection is not None:
        connection.close()
