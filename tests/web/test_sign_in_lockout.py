"""The sign-in lockout: wrong passwords make a username, and an address, wait; the right one clears it.

The counters of each test live in a cache of their own (a file-based one, like the deployment's
default), and the clock is moved by hand instead of waiting.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from saraban.core import lockout, ratelimit
from saraban.directory.models import Person
from saraban.web.i18n import LANG_COOKIE

from ..clock import Clock

PASSWORD = "x-Pass-1234"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Counters in a file-based cache of this test's own; a clock that starts just after a whole minute."""
    settings.CACHES = {**settings.CACHES, "counters": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path / "counters"),
    }}
    settings.SARABAN_RATE_LIMIT_CACHE = "counters"
    settings.SARABAN_SIGN_IN_LOCKOUT = dict(lockout.DEFAULTS)
    fake = Clock(1_800_000_000.0)  # 2027-01-15 08:00 UTC, on a whole minute
    monkeypatch.setattr(ratelimit, "now", fake)
    yield fake


def sign_in(username: str, password: str, *, address: str = "192.0.2.10", lang: str = "th") -> HttpResponse:
    client = Client(REMOTE_ADDR=address)
    if lang == "en":
        client.cookies[LANG_COOKIE] = "en"
    return client.post("/accounts/login/", {"username": username, "password": password})  # type: ignore[return-value]


def signed_in(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"] == "/work/"


def refused(response: HttpResponse) -> str:
    """The lockout's message of a 429 answer (its Retry-After checked), without its times."""
    assert response.status_code == 429, response.status_code
    assert int(response["Retry-After"]) >= 1
    html = response.content.decode()
    assert 'name="password"' in html  # the form is there to try again later
    message = re.search(r'<div class="errors" role="alert"><p>(.*?)</p>', html, re.S)
    assert message, html
    return re.sub(r"\d+", "N", message.group(1))


def test_wait_after_grows_1_2_4_8_then_15_minutes() -> None:
    assert [lockout.wait_after(n) for n in range(1, 12)] == [
        0, 0, 0, 0, 60, 120, 240, 480, 900, 900, 900,
    ]


def test_five_wrong_passwords_then_even_the_right_one_waits(clerk: Person, signer: Person, clock: Clock) -> None:
    for _ in range(5):
        wrong = sign_in("clerk", "not-it")
        assert wrong.status_code == 200 and "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in wrong.content.decode()
    right = sign_in("clerk", PASSWORD)
    message = refused(right)
    assert int(right["Retry-After"]) == 60
    assert "ลองใหม่ได้ตั้งแต่เวลา N:N น." in message and "อีกประมาณ N นาที" in message
    assert "15:01 น." in right.content.decode()  # 08:00 UTC + 1 minute, in Bangkok time
    assert "_auth_user_id" not in right.wsgi_request.session  # type: ignore[attr-defined]
    # Another username from the same address is not affected.
    assert signed_in(sign_in("signer", PASSWORD))
    # Refused attempts are not password checks: they do not make the wait longer.
    clock.now += 30
    assert int(sign_in("clerk", PASSWORD)["Retry-After"]) == 30
    clock.now += 31
    assert signed_in(sign_in("clerk", PASSWORD))


def test_the_wait_doubles_after_each_further_failure_up_to_15_minutes(clerk: Person, clock: Clock) -> None:
    for _ in range(5):
        sign_in("clerk", "not-it")
    waits = []
    for _ in range(6):
        waits.append(int(sign_in("clerk", PASSWORD)["Retry-After"]))
        clock.now += waits[-1]
        assert sign_in("clerk", "still-not-it").status_code == 200  # the one check allowed, wrong again
    assert waits == [60, 120, 240, 480, 900, 900]
    clock.now += 900
    assert signed_in(sign_in("clerk", PASSWORD))


def test_the_right_password_clears_the_count(clerk: Person, clock: Clock) -> None:
    for _ in range(4):
        sign_in("clerk", "not-it")
    assert signed_in(sign_in("clerk", PASSWORD))
    for _ in range(4):  # had the count stayed, these would lock the username
        assert sign_in("clerk", "not-it").status_code == 200
    assert signed_in(sign_in("clerk", PASSWORD))
    for _ in range(5):
        sign_in("clerk", "not-it")
    assert sign_in("clerk", PASSWORD).status_code == 429


def test_the_lock_says_nothing_about_whether_the_account_exists(clerk: Person) -> None:
    for username in ("clerk", "no.such.person"):
        for _ in range(5):
            sign_in(username, "not-it")
    known, unknown = sign_in("clerk", PASSWORD), sign_in("no.such.person", PASSWORD)
    assert refused(known) == refused(unknown)
    assert known["Retry-After"] == unknown["Retry-After"]
    # Other spellings of the same name share its lock.
    assert sign_in(" CLERK", PASSWORD).status_code == 429


def test_the_lock_is_explained_in_english_too(clerk: Person) -> None:
    for _ in range(5):
        sign_in("clerk", "not-it", lang="en")
    message = refused(sign_in("clerk", PASSWORD, lang="en"))
    assert "Too many wrong passwords for this username. Try again from N:N (in about N min)." in message


def test_twenty_failures_from_one_address_make_it_wait(clerk: Person, clock: Clock) -> None:
    for n in range(20):  # a different username each time: no username reaches its own limit
        assert sign_in(f"guess{n}", "not-it", address="192.0.2.66").status_code == 200
    message = refused(sign_in("clerk", PASSWORD, address="192.0.2.66"))
    assert "เครือข่ายนี้" in message
    assert int(sign_in("clerk", PASSWORD, address="192.0.2.66")["Retry-After"]) == 900
    assert signed_in(sign_in("clerk", PASSWORD, address="192.0.2.67"))  # other addresses sign in
    clock.now += 901
    assert signed_in(sign_in("clerk", PASSWORD, address="192.0.2.66"))


def test_failures_spread_over_more_than_15_minutes_never_lock_the_address(clerk: Person, clock: Clock) -> None:
    for n in range(40):
        clock.now += 60
        assert sign_in(f"typo{n}", "not-it").status_code == 200
    assert signed_in(sign_in("clerk", PASSWORD))


def test_successful_sign_ins_are_never_counted(clerk: Person, settings: Any) -> None:
    settings.SARABAN_SIGN_IN_LOCKOUT = {**lockout.DEFAULTS, "account_failures": 2, "address_failures": 2}
    for _ in range(30):
        assert signed_in(sign_in("clerk", PASSWORD, address="127.0.0.1"))
    assert sign_in("clerk", "not-it", address="127.0.0.1").status_code == 200
    assert signed_in(sign_in("clerk", PASSWORD, address="127.0.0.1"))


def test_an_empty_password_is_not_counted(clerk: Person) -> None:
    for _ in range(10):
        assert sign_in("clerk", "").status_code == 200
    assert signed_in(sign_in("clerk", PASSWORD))


@pytest.mark.parametrize("backend", ["filebased.FileBasedCache", "locmem.LocMemCache"])
def test_attempts_at_the_same_moment_cannot_slip_past_the_lock(backend: str, settings: Any, tmp_path: Path) -> None:
    settings.CACHES = {**settings.CACHES, "counters": {
        "BACKEND": f"django.core.cache.backends.{backend}", "LOCATION": str(tmp_path / "same-moment"),
    }}
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="192.0.2.99")
    start = threading.Barrier(24)
    outcomes: list[object] = []

    def attempt() -> None:
        start.wait()
        outcomes.append(lockout.begin(request, "clerk"))

    threads = [threading.Thread(target=attempt) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    allowed = [o for o in outcomes if isinstance(o, lockout.Attempt)]
    assert len(allowed) == 5  # the four free ones and the one that took the first lock
    assert all(isinstance(o, lockout.Locked) and o.reason == "account" for o in outcomes if o not in allowed)


def test_sign_in_works_when_the_cache_fails(clerk: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise OSError("the cache directory is not writable")

    monkeypatch.setattr(ratelimit, "_cache", broken)
    assert sign_in("clerk", "not-it").status_code == 200
    assert signed_in(sign_in("clerk", PASSWORD))


def test_the_client_address_is_the_proxy_s_word_only_for_trusted_proxies(settings: Any) -> None:
    factory = RequestFactory()
    forwarded = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.2.3")
    assert ratelimit.client_address(forwarded) == "127.0.0.1"  # anybody can send X-Forwarded-For
    settings.SARABAN_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert ratelimit.client_address(forwarded) == "203.0.113.9"
    direct = factory.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert ratelimit.client_address(direct) == "198.51.100.4"  # not through the proxy: the header is a lie
    v6 = factory.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    assert ratelimit.client_address(v6) == "2001:db8:1:2::/64"  # one client holds a whole /64
    assert ratelimit.client_address(factory.get("/", REMOTE_ADDR="::ffff:192.0.2.1")) == "192.0.2.1"
