"""A fault-injecting TCP proxy for the exchange tests: it stands between a sender and a deployment.

    proxy = FaultProxy(("127.0.0.1", receiver.port)).start()   # or FaultProxy(receiver)
    proxy.cut_after_response(count=1)   # the next connection: the receiver answers (and has committed),
                                        # the sender sees the connection closed without an answer
    proxy.refuse()                      # every new connection closed at once (RST), until changed
    proxy.delay(5.0, count=2)           # the answers of the next two connections come 5 s late
    proxy.blackhole()                   # accepted, read, never answered: the sender's time-out
    proxy.cut_request(after_bytes=300)  # only the first 300 bytes of the request reach the receiver
    proxy.pass_through()                # back to normal
    proxy.stats()                       # connections, bytes and faults so far
    proxy.stop()

Every connection takes the mode in force when it is accepted. A mode given with ``count`` applies
to that many connections, then the proxy goes back to ``pass``. Threads, stdlib only; ``stop()``
closes every socket and joins every thread. Plain TCP: it does not look into what passes, except in
``cut_after_response``, where it reads the upstream's HTTP/1.x answers to know when one is complete.
"""

from __future__ import annotations

import contextlib
import enum
import random
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Protocol

__all__ = ["FaultProxy", "Mode", "ProxyStats", "free_port"]

_CHUNK = 64 * 1024


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now, below the kernel's ephemeral range.

    Ephemeral ports (32768 and up) are handed out to outgoing connections; a server that restarts on
    one could find it taken by a client in between. Chosen at random so that parallel runs rarely meet.
    """
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port between 20000 and 32000 / ไม่พบพอร์ตว่าง")


class Mode(enum.Enum):
    """What the proxy does with a connection it accepts."""

    PASS = "pass"  # forward both ways
    REFUSE = "refuse"  # close at once with a reset, nothing forwarded
    CUT_AFTER_RESPONSE = "cut_after_response"  # forward the request, swallow the whole answer, close
    DELAY = "delay"  # forward the request at once, hold the answer ``seconds`` before forwarding it
    BLACKHOLE = "blackhole"  # accept, read and drop everything, never answer
    CUT_REQUEST = "cut_request"  # forward the first ``after_bytes`` of the request, then close both sides


@dataclass(frozen=True)
class ProxyStats:
    """What the proxy has seen since it started (a snapshot)."""

    connections: int = 0  # accepted, in any mode
    active: int = 0  # open now
    passed: int = 0  # connections handled in ``pass``
    refused: int = 0
    cut: int = 0  # answers swallowed by ``cut_after_response`` (connections closed on the client)
    delayed: int = 0
    blackholed: int = 0
    cut_requests: int = 0
    upstream_failures: int = 0  # the upstream could not be reached (closed on the client at once)
    bytes_to_upstream: int = 0
    bytes_to_client: int = 0


class _Upstream(Protocol):
    port: int


@dataclass(frozen=True)
class _Rule:
    mode: Mode
    seconds: float = 0.0
    after_bytes: int = 0
    reset: bool = False


class FaultProxy:
    """A TCP proxy on a loopback port in front of ``upstream`` (``(host, port)``, a port, or a deployment)."""

    def __init__(self, upstream: tuple[str, int] | int | _Upstream, *, port: int | None = None,
                 host: str = "127.0.0.1", connect_timeout: float = 5.0) -> None:
        if isinstance(upstream, tuple):
            self._upstream: tuple[str, int] | _Upstream = upstream
        elif isinstance(upstream, int):
            self._upstream = ("127.0.0.1", upstream)
        else:
            self._upstream = upstream  # read at each connection: the deployment's port may change
        self.host = host
        self.port = port or free_port(host)
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._rule = _Rule(Mode.PASS)
        self._remaining: int | None = None  # connections left in the current rule; None: until changed
        self._stats = ProxyStats()
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._accepter: threading.Thread | None = None

    # -- life cycle

    @property
    def url(self) -> str:
        """``http://host:port``: where the sender should connect."""
        return f"http://{self.host}:{self.port}"

    @property
    def upstream_address(self) -> tuple[str, int]:
        """Where connections are forwarded to now."""
        if isinstance(self._upstream, tuple):
            return self._upstream
        return ("127.0.0.1", int(self._upstream.port))

    def start(self) -> FaultProxy:
        """Listen on ``port`` and accept connections in a thread; returns the proxy."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        listener.settimeout(0.2)
        self._listener = listener
        self._stopping.clear()
        self._accepter = threading.Thread(target=self._accept_loop, name=f"fault-proxy-{self.port}", daemon=True)
        self._accepter.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close every open connection and join every thread."""
        self._stopping.set()
        if self._accepter is not None:
            self._accepter.join(timeout)
            self._accepter = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:  # each sees the stop within 0.2 s, unless it is blocked sending
            thread.join(min(1.0, max(0.0, deadline - time.monotonic())))
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = [t.name for t in threads if t.is_alive()]
        if left:
            raise RuntimeError(f"proxy threads did not stop: {left}")

    def __enter__(self) -> FaultProxy:
        return self.start() if self._listener is None else self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- modes

    def pass_through(self) -> None:
        """Forward every new connection both ways (the default)."""
        self._set(_Rule(Mode.PASS), None)

    def refuse(self, count: int | None = None) -> None:
        """Close new connections at once with a reset (RST), nothing forwarded."""
        self._set(_Rule(Mode.REFUSE), count)

    def cut_after_response(self, count: int | None = 1, *, reset: bool = False) -> None:
        """Forward the request; let the upstream answer completely (so it has committed), swallow the answer
        and close the client's connection (FIN, or RST with ``reset``). Default: the next connection only."""
        self._set(_Rule(Mode.CUT_AFTER_RESPONSE, reset=reset), count)

    def delay(self, seconds: float, count: int | None = None) -> None:
        """Forward the request at once; hold the upstream's answer ``seconds`` before passing it on."""
        self._set(_Rule(Mode.DELAY, seconds=seconds), count)

    def blackhole(self, count: int | None = None) -> None:
        """Accept and read, never connect upstream and never answer: the sender must time out."""
        self._set(_Rule(Mode.BLACKHOLE), count)

    def cut_request(self, after_bytes: int, count: int | None = 1) -> None:
        """Forward only the first ``after_bytes`` bytes of the request, then close both connections."""
        self._set(_Rule(Mode.CUT_REQUEST, after_bytes=after_bytes), count)

    @property
    def mode(self) -> Mode:
        """The mode the next connection gets."""
        with self._lock:
            return self._rule.mode

    def stats(self) -> ProxyStats:
        """A snapshot of the counters."""
        with self._lock:
            return self._stats

    def wait_for_connections(self, count: int, timeout: float = 30.0) -> ProxyStats:
        """Wait until ``count`` connections have been accepted in all; the stats then."""
        deadline = time.monotonic() + timeout
        while self.stats().connections < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.stats().connections} of {count} connections after {timeout} s")
            time.sleep(0.02)
        return self.stats()

    def _set(self, rule: _Rule, count: int | None) -> None:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._rule, self._remaining = rule, count

    def _take_rule(self) -> _Rule:
        with self._lock:
            rule = self._rule
            if self._remaining is not None:
                self._remaining -= 1
                if self._remaining <= 0:
                    self._rule, self._remaining = _Rule(Mode.PASS), None
            return rule

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats = replace(self._stats, **{k: getattr(self._stats, k) + v for k, v in increments.items()})

    # -- connections

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            rule = self._take_rule()
            self._count(connections=1, active=1)
            thread = threading.Thread(target=self._handle, args=(client, rule), daemon=True,
                                      name=f"fault-proxy-{self.port}-{rule.mode.value}")
            with self._lock:
                self._sockets.add(client)
                self._threads.add(thread)
            thread.start()

    def _handle(self, client: socket.socket, rule: _Rule) -> None:
        upstream: socket.socket | None = None
        try:
            if rule.mode is Mode.REFUSE:
                self._count(refused=1)
                _reset(client)
                return
            if rule.mode is Mode.BLACKHOLE:
                self._count(blackholed=1)
                self._swallow(client)
                return
            try:
                upstream = socket.create_connection(self.upstream_address, timeout=self.connect_timeout)
            except OSError:
                self._count(upstream_failures=1)
                _reset(client)
                return
            upstream.settimeout(None)
            with self._lock:
                self._sockets.add(upstream)
            if rule.mode is Mode.PASS:
                self._count(passed=1)
            self._pump(client, upstream, rule)
        except OSError:
            pass  # a side closed or reset the connection: nothing more to forward
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    _close(sock)
                    with self._lock:
                        self._sockets.discard(sock)
            with self._lock:
                self._threads.discard(threading.current_thread())
            self._count(active=-1)

    def _swallow(self, client: socket.socket) -> None:
        """Read and drop what the client sends until it gives up or the proxy stops."""
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if selector.select(0.2) and not client.recv(_CHUNK):
                    return

    def _pump(self, client: socket.socket, upstream: socket.socket, rule: _Rule) -> None:
        """Forward both ways until both sides are done, applying ``rule``."""
        answer = _HttpAnswers() if rule.mode is Mode.CUT_AFTER_RESPONSE else None
        request_left = rule.after_bytes if rule.mode is Mode.CUT_REQUEST else None
        held = rule.mode is Mode.DELAY
        open_ends = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in open_ends:
                selector.register(sock, selectors.EVENT_READ)
            while open_ends and not self._stopping.is_set():
                for key, _events in selector.select(0.2):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(_CHUNK)
                    target = open_ends[source]
                    if not data:  # this side finished sending: pass the half-close on
                        selector.unregister(source)
                        del open_ends[source]
                        with contextlib.suppress(OSError):
                            target.shutdown(socket.SHUT_WR)
                        if source is upstream and answer is not None:
                            self._cut(client, rule)
                            return
                        continue
                    if source is client:
                        if request_left is not None:
                            data = data[:request_left]
                            request_left -= len(data)
                        if data:
                            upstream.sendall(data)
                            self._count(bytes_to_upstream=len(data))
                        if request_left == 0:
                            self._count(cut_requests=1)
                            _reset(client)
                            return
                        continue
                    if answer is not None:  # swallow the answer; close once one is complete
                        if answer.feed(data):
                            self._cut(client, rule)
                            return
                        continue
                    if held:
                        held = False
                        self._count(delayed=1)
                        if self._stopping.wait(rule.seconds):
                            return
                    client.sendall(data)
                    self._count(bytes_to_client=len(data))

    def _cut(self, client: socket.socket, rule: _Rule) -> None:
        self._count(cut=1)
        if rule.reset:
            _reset(client)
        else:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)


class _HttpAnswers:
    """Reads one HTTP/1.x response from the bytes fed to it; ``feed`` says when it is complete.

    Interim answers (1xx) are skipped; the body's end is found by ``Content-Length``, by the chunked
    encoding's last chunk, or (neither given) by the upstream closing the connection.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._body_left: int | None = None  # bytes of a Content-Length body still to come
        self._chunked = False
        self._headers_done = False

    def feed(self, data: bytes) -> bool:
        self._buffer += data
        while True:
            if not self._headers_done:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    return False
                head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4:]
                lines = head.split("\r\n")
                status = int(lines[0].split()[1]) if len(lines[0].split()) > 1 else 200
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                if 100 <= status < 200:
                    continue  # an interim answer: the real one follows
                self._headers_done = True
                if status in (204, 304):
                    return True
                self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
                if not self._chunked and "content-length" in headers:
                    self._body_left = int(headers["content-length"])
            if self._chunked:
                return self._chunks_done()
            if self._body_left is not None:
                return len(self._buffer) >= self._body_left
            return False  # the body ends when the upstream closes

    def _chunks_done(self) -> bool:
        while True:
            line_end = self._buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(self._buffer[:line_end].split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return self._buffer.find(b"\r\n\r\n", line_end) >= 0  # after any trailers
            if len(self._buffer) < line_end + 2 + size + 2:
                return False
            self._buffer = self._buffer[line_end + 2 + size + 2:]


def _reset(sock: socket.socket) -> None:
    """Close with a reset (RST) instead of an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
