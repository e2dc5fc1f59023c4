"""``saraban serve`` stops cleanly on SIGTERM: its background worker and worker pools go with it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from .processes import alive, children


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post_pdf(url: str, pdf: bytes) -> dict[str, object]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"a.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.loads(response.read()))


def test_sigterm_stops_the_server_its_worker_and_its_pools(tmp_path: Path) -> None:
    env = {**os.environ, "SARABAN_HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "saraban.settings"}
    env.pop("SARABAN_DATABASE_URL", None)  # its own SQLite database, not the test run's
    subprocess.run([sys.executable, "-m", "saraban", "migrate", "--no-input", "-v", "0"], env=env, check=True,
                   timeout=300)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "saraban", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/verify", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        # A validation in a request thread starts a validation worker beside the background worker.
        report = _post_pdf(f"http://127.0.0.1:{port}/api/verify", b"%PDF-1.7\n%not a real one\n")
        assert report["indication"] == "TOTAL_FAILED"
        helpers = children(server.pid)
        assert any("db_worker" in c.cmdline for c in helpers), helpers
        assert any("saraban.core.workers" in c.cmdline for c in helpers), helpers
        server.send_signal(signal.SIGTERM)
        assert server.wait(60) == 0, server.stderr.read().decode() if server.stderr else ""
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    deadline = time.monotonic() + 5
    while any(alive(c.pid) for c in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in helpers if alive(c.pid)], "a child of the server outlived it"
    assert b"Traceback" not in (server.stderr.read() if server.stderr else b"")
