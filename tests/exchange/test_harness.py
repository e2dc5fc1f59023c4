"""The exchange test harness itself: real deployments as processes, the fault proxy, the moved clock."""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import http.cookies
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .deployments import (
    PASSWORD,
    Deployment,
    _group_members,
    _pg,
    deployments,
    faketime_library,
    saraban_deployments,  # noqa: F401 (a fixture)
)
from .faults import FaultProxy

pytestmark = pytest.mark.timeout(180)


def _get(url: str, path: str = "/accounts/login/", timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z":
            alive.append(pid)
    return alive


def test_two_deployments_serve_their_own_directory_and_survive_a_kill() -> None:
    with deployments(2, kinds=("sqlite", "postgres")) as (a, b):
        assert a.port != b.port
        assert not set(a.organisation_ids) & set(b.organisation_ids)
        for deployment, vendor in ((a, "sqlite"), (b, "postgresql")):
            status, _headers, page = _get(deployment.url)
            assert status == 200 and b"password" in page
            seen = deployment.query(
                "from django.conf import settings\nfrom django.db import connection\n"
                "result = {'url': settings.SARABAN_PUBLIC_URL, 'home': str(settings.SARABAN_HOME),"
                " 'vendor': connection.vendor, 'database': str(connection.settings_dict['NAME']),"
                " 'orgs': list(Organisation.objects.values_list('identifier', 'letter_code')),"
                " 'roles': sorted(RoleAssignment.objects.values_list('person__username', 'role'))}")
            assert seen["url"] == deployment.url and seen["home"] == str(deployment.home)
            assert seen["vendor"] == vendor and seen["database"] == deployment.database
            ident = f"{deployment.name}-hq"
            assert [o for o, _code in seen["orgs"]] == [ident]
            assert seen["roles"] == sorted([[f"{ident}.registry", "central_clerk"], [f"{ident}.officer", "officer"],
                                            [f"{ident}.signer", "signer"]])
            assert deployment.worker_pids(), "serve started its background worker"
        codes = {a.organisations[0].letter_code, b.organisations[0].letter_code}
        assert len(codes) == 2

        # A crash: every process of b goes at once, its port stops answering; its data survives it.
        b.query("from saraban.directory.services import create_organisation\n"
                "create_organisation(identifier='b-late', kind='department', name_th='สำนักงานที่มาทีหลัง',"
                " letter_code='ทส 0999')\nresult = None")
        assert b.pid is not None
        group = [pid for pid, _cmd in _group_members(b.pid)]
        assert len(group) >= 2  # serve and its db_worker at least
        b.kill()
        assert not _alive(group) and not b.running
        with pytest.raises(OSError):
            _get(b.url, timeout=2)
        b.start()
        assert _get(b.url)[0] == 200
        assert b.query("result = sorted(Organisation.objects.values_list('identifier', flat=True))") == [
            "b-hq", "b-late"]
        assert _get(a.url)[0] == 200  # a never noticed
        pgids = [a.pid, b.pid]
        homes, database = [a.home, b.home], b.database
    # Gone, all of it: processes, the PostgreSQL database, the homes.
    assert not [m for g in pgids if g for m in _group_members(g)]
    assert not _pg("SELECT 1 FROM pg_database WHERE datname = %s", database)
    assert not any(h.exists() for h in homes)


def test_a_request_cut_after_the_answer_reached_the_deployment(
    saraban_deployments: Callable[..., list[Deployment]],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    """Through ``cut_after_response`` the deployment handles (and commits) the request, the client gets no answer."""
    (a,) = saraban_deployments(1, kinds=("sqlite",), proxied=True)
    assert a.home.parent.parent == tmp_path  # the fixture keeps homes in the test's folder
    assert a.proxy is not None and a.url == a.proxy.url != a.direct_url
    status, headers, page = _get(a.url)  # the form and its CSRF cookie, through the proxy
    assert status == 200
    cookie = http.cookies.SimpleCookie(headers["set-cookie"])["csrftoken"].value
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    token = match[1].decode()

    def sign_in(password: str) -> http.client.HTTPResponse:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "a-hq.registry",
                                       "password": password})
        connection = http.client.HTTPConnection("127.0.0.1", a.proxy.port if a.proxy else 0, timeout=30)
        connection.request("POST", "/accounts/login/", body, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    failed = "result = AuditEvent.objects.filter(action='auth.sign_in_failed').count()"
    a.proxy.cut_after_response()
    with pytest.raises(http.client.RemoteDisconnected):
        sign_in("wrong password")
    assert a.query(failed) == 1, "the deployment handled the request the client never saw answered"
    assert a.proxy.stats().cut == 1
    assert sign_in("wrong again").status == 200  # the cut was for one connection only
    assert a.query(failed) == 2
    signed_in = sign_in(PASSWORD)
    assert signed_in.status == 302 and signed_in.getheader("Location") == "/work/"


class _Upstream(ThreadingHTTPServer):
    """An HTTP/1.1 server in this process that counts what it answered (the proxy's tests' receiver)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answered: list[str] = []
        self.bodies: list[int] = []

    def handle_error(self, request: object, client_address: object) -> None:
        """A client the proxy cut off (broken pipe) is expected here: no traceback on the output."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the proxy must find the answer's end itself
    server: _Upstream

    # Each request is recorded before it is answered, as a receiver commits before it answers: once
    # the proxy has the whole answer, the record is there (no race with the test's assertions).
    def do_GET(self) -> None:
        self.server.answered.append(self.path)
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"one ", b"two ", b"three"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._answer(b"hello " * 1000)

    def do_POST(self) -> None:
        wanted = int(self.headers["Content-Length"])
        self.server.bodies.append(len(self.rfile.read(wanted)))
        self.server.answered.append(self.path)
        self._answer(b"stored")

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _request(proxy: FaultProxy, method: str = "GET", path: str = "/", body: bytes | None = None,
             timeout: float = 10) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)
    try:
        connection.request(method, path, body)
        return connection.getresponse().read()
    finally:
        connection.close()


def test_the_proxy_modes(upstream: _Upstream) -> None:
    with FaultProxy(upstream.server_address[1]) as proxy:
        assert _request(proxy, path="/a") == b"hello " * 1000
        assert proxy.stats().passed == 1 and proxy.stats().bytes_to_client > 6000

        proxy.refuse(count=1)  # closed at once, nothing reaches the upstream; then back to pass
        with pytest.raises(ConnectionError):
            _request(proxy, path="/refused")
        assert _request(proxy, path="/b")
        assert upstream.answered == ["/a", "/b"] and proxy.stats().refused == 1

        proxy.cut_after_response(count=2)  # the upstream answers in full, the client sees nothing
        started = time.monotonic()
        with pytest.raises(http.client.RemoteDisconnected):
            _request(proxy, "POST", "/commit", b"x" * 5000)
        with pytest.raises(http.client.RemoteDisconnected):
            _request(proxy, path="/chunked")  # the end of a chunked answer is found too
        assert time.monotonic() - started < 5, "the proxy did not see the answers end"
        assert upstream.answered[-2:] == ["/commit", "/chunked"] and upstream.bodies == [5000]
        proxy.cut_after_response(reset=True)
        with pytest.raises(ConnectionResetError):
            _request(proxy, path="/reset")
        assert upstream.answered[-1] == "/reset" and proxy.stats().cut == 3
        assert _request(proxy, path="/chunked") == b"one two three"

        proxy.delay(1.0, count=1)
        started = time.monotonic()
        assert _request(proxy, path="/slow")
        assert time.monotonic() - started >= 1.0 and proxy.stats().delayed == 1
        started = time.monotonic()
        assert _request(proxy, path="/fast") and time.monotonic() - started < 1.0

        proxy.blackhole(count=1)  # accepted, never answered: the client's time-out
        with pytest.raises(TimeoutError):
            _request(proxy, path="/void", timeout=0.5)
        assert "/void" not in upstream.answered and proxy.stats().blackholed == 1

        proxy.cut_request(after_bytes=120)  # the upstream gets a truncated request
        with pytest.raises(ConnectionError):
            _request(proxy, "POST", "/partial", b"y" * 10_000)
        deadline = time.monotonic() + 5
        while len(upstream.bodies) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert 0 < upstream.bodies[-1] < 10_000  # the headers and the first bytes of the body only

        proxy.refuse()  # until changed
        for _ in range(3):
            with pytest.raises(ConnectionError):
                _request(proxy)
        proxy.pass_through()
        assert _request(proxy, path="/again")
        stats = proxy.stats()
        assert stats.connections == 15 and stats.refused == 4
        assert 5_000 < stats.bytes_to_upstream < 10_000  # the cut request's body stayed behind
    with pytest.raises(ConnectionRefusedError):  # stopped: the port is closed, its threads joined
        socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
    assert not [t for t in threading.enumerate() if t.name.startswith(f"fault-proxy-{proxy.port}")]
    assert proxy.stats().active == 0


def test_a_deployment_ten_minutes_ahead() -> None:
    """libfaketime moves the clock of ``saraban serve``, of its worker and of the snippets; it can move again."""
    assert faketime_library() is not None, "libfaketime is missing: scripts/bootstrap.sh installs faketime"
    skewed = Deployment("skew", clock_offset="+10m")
    try:
        skewed.prepare()
        skewed.start()

        def served_ahead() -> float:
            date = email.utils.parsedate_to_datetime(_get(skewed.url)[1]["date"])
            return (date - dt.datetime.now(dt.UTC)).total_seconds()

        assert 598 <= served_ahead() <= 602  # waitress's Date: the server's clock
        ahead = skewed.query("from django.utils import timezone\nresult = timezone.now().timestamp()")
        assert 598 <= ahead - time.time() <= 602
        # serve enqueues the daily jobs as it starts; its worker records when it ran them.
        task = ("result = list(DBTaskResult.objects.filter(finished_at__isnull=False)"
                ".values_list('started_at', flat=True))")
        deadline = time.monotonic() + 30
        while not (started := skewed.query(task)):
            assert time.monotonic() < deadline, skewed.log_tail()
            time.sleep(0.3)
        worker_ahead = dt.datetime.fromisoformat(started[0]) - dt.datetime.now(dt.UTC)
        assert 590 <= worker_ahead.total_seconds() <= 602
        workers = skewed.worker_pids()
        skewed.set_clock("+0")
        assert abs(served_ahead()) < 2
        assert skewed.worker_pids() == workers, "the worker sleeps between polls without failing"
    finally:
        skewed.destroy()
    assert not skewed.home.exists()
