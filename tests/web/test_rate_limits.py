"""Rate limits per client address on the public checks: /verify (uploads and QR codes) and POST /api/verify.

The counters of each test live in a file-based cache of its own (like the deployment's default),
and the clock is moved by hand instead of waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from saraban.api.routers import verify as verify_router
from saraban.core import ratelimit
from saraban.web.i18n import LANG_COOKIE
from saraban.web.views import verify as verify_view

from ..clock import Clock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Counters in a cache of this test's own, the default limits, and a clock on a whole minute."""
    settings.CACHES = {**settings.CACHES, "counters": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path / "counters"),
    }}
    settings.SARABAN_RATE_LIMIT_CACHE = "counters"
    settings.SARABAN_RATE_LIMITS = {"verify": (20, 60), "verify-lookup": (60, 60)}
    fake = Clock(1_800_000_000.0)
    monkeypatch.setattr(ratelimit, "now", fake)
    yield fake


def upload(client: Client, path: str = "/verify", data: bytes = b"") -> Any:
    files = {"pdf": SimpleUploadedFile("letter.pdf", data, "application/pdf")} if data else {}
    return client.post(path, files)


def test_the_verify_page_takes_20_uploads_a_minute_per_address(clock: Clock) -> None:
    client = Client(REMOTE_ADDR="192.0.2.20")
    for _ in range(20):
        assert upload(client).status_code == 400  # no file chosen: answered, and counted
    over = upload(client)
    assert over.status_code == 429 and 1 <= int(over["Retry-After"]) <= 120  # the window slides
    assert "มีการตรวจสอบจากเครือข่ายนี้มากเกินกำหนด" in over.content.decode()
    assert 'name="pdf"' in over.content.decode()  # the page itself, to try again later
    client.cookies[LANG_COOKIE] = "en"
    assert "Too many checks from this network address" in upload(client).content.decode()
    # Other addresses are not affected; the page itself is never limited.
    assert upload(Client(REMOTE_ADDR="192.0.2.21")).status_code == 400
    assert client.get("/verify").status_code == 200
    # After Retry-After the address may check again.
    clock.now += int(upload(client)["Retry-After"])
    assert upload(client).status_code == 400


def test_the_window_slides_no_second_burst_when_a_new_minute_begins(clock: Clock) -> None:
    client = Client(REMOTE_ADDR="192.0.2.22")
    clock.now += 50
    for _ in range(20):
        assert upload(client).status_code == 400
    clock.now += 15  # a new minute has begun, but the 20 uploads were 15 seconds ago
    answers = [upload(client).status_code for _ in range(20)]
    assert answers.count(400) <= 2 and answers[-1] == 429
    clock.now += int(upload(client)["Retry-After"])
    assert upload(client).status_code == 400


def test_an_upload_over_the_limit_is_never_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(REMOTE_ADDR="192.0.2.23")
    for _ in range(20):
        upload(client)

    def not_now(*args: Any) -> Any:
        raise AssertionError("a refused upload must not be checked")

    monkeypatch.setattr(verify_view, "verify_pdf", not_now)
    assert upload(client, data=b"%PDF-1.7\n%not a real one\n").status_code == 429


def test_qr_code_lookups_have_their_own_limit(settings: Any) -> None:
    settings.SARABAN_RATE_LIMITS = {"verify": (20, 60), "verify-lookup": (3, 60)}
    client = Client(REMOTE_ADDR="192.0.2.24")
    for _ in range(3):
        assert client.get("/verify?d=" + "0" * 64).status_code == 404
    looked_up = client.get("/verify?d=" + "0" * 64)
    assert looked_up.status_code == 429 and looked_up["Retry-After"]
    assert upload(client).status_code == 400  # uploads are counted apart


def test_a_limit_of_0_means_no_limit(settings: Any) -> None:
    settings.SARABAN_RATE_LIMITS = {"verify": (0, 60)}
    client = Client(REMOTE_ADDR="192.0.2.25")
    for _ in range(30):
        assert upload(client).status_code == 400


def test_the_api_takes_20_uploads_a_minute_per_address_then_answers_429_in_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Client(REMOTE_ADDR="192.0.2.30")
    for _ in range(20):
        empty = client.post("/api/verify", {"pdf": SimpleUploadedFile("x.pdf", b"", "application/pdf")})
        assert empty.status_code == 422 and empty.json()["code"] == "verify.empty"

    def not_now(*args: Any) -> Any:
        raise AssertionError("a refused upload must not be checked")

    monkeypatch.setattr(verify_router, "verify_pdf", not_now)
    over = client.post("/api/verify", {"pdf": SimpleUploadedFile("x.pdf", b"%PDF-1.7\n", "application/pdf")})
    assert over.status_code == 429 and 1 <= int(over["Retry-After"]) <= 120  # the window slides
    body = over.json()
    assert body["code"] == "rate_limited" and body["problems"] == []
    assert "มากเกินกำหนด" in body["message_th"] and "Too many checks" in body["message_en"]
    other = Client(REMOTE_ADDR="192.0.2.31").post("/api/verify", {})
    assert other.status_code == 400  # another address: not limited (the file is missing)


def test_the_page_and_the_api_share_one_count_per_address() -> None:
    client = Client(REMOTE_ADDR="192.0.2.32")
    for _ in range(10):
        upload(client)
        upload(client, "/api/verify")
    assert upload(client, "/api/verify").status_code == 429
    assert upload(client).status_code == 429


def test_the_api_documents_its_429() -> None:
    document = Client().get("/api/openapi.json").json()
    assert "429" in document["paths"]["/api/verify"]["post"]["responses"]


def test_the_checks_keep_working_when_the_cache_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise OSError("the cache directory is not writable")

    monkeypatch.setattr(ratelimit, "_cache", broken)
    client = Client(REMOTE_ADDR="192.0.2.33")
    for _ in range(25):
        assert upload(client).status_code == 400
    assert upload(client, "/api/verify").status_code == 400
