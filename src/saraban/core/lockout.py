"""The sign-in lockout: failed passwords make a username, or an address, wait, longer each time.

Per username (``SARABAN_SIGN_IN_LOCKOUT``): the first ``account_failures`` failures are free (a clerk
who mistypes a few times never notices); after them each attempt waits ``first_wait`` seconds after
the previous failure, doubled after every further failure up to ``max_wait`` (1, 2, 4, 8, 15 minutes
by default). The count is forgotten ``reset_after`` seconds after the last failure, and at once when
the right password is given. Per address: ``address_failures`` failures within ``address_window``
seconds make every sign-in from that address wait ``address_wait`` seconds.

Only failures count, never successful sign-ins. While a lock holds, no password is checked, so the
right password is refused too. A username that does not exist is counted and locked exactly like one
that does: the lock never tells whether an account exists. Concurrent attempts cannot slip past a
lock: an attempt beyond the free ones first claims the next lock as if it were going to fail, and
only the one attempt that claims it checks its password.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import unicodedata
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from . import ratelimit

logger = logging.getLogger("saraban.lockout")

DEFAULTS: dict[str, int] = {
    "account_failures": 5,
    "first_wait": 60,
    "max_wait": 15 * 60,
    "reset_after": 60 * 60,
    "address_failures": 20,
    "address_window": 15 * 60,
    "address_wait": 15 * 60,
}


def policy() -> dict[str, int]:
    """The lockout's numbers: ``SARABAN_SIGN_IN_LOCKOUT`` over the defaults."""
    return {**DEFAULTS, **dict(getattr(settings, "SARABAN_SIGN_IN_LOCKOUT", {}))}


def wait_after(failures: int, rules: dict[str, int] | None = None) -> int:
    """Seconds a username waits after ``failures`` failed passwords in a row (0 while they are free)."""
    rules = rules or policy()
    free = rules["account_failures"]
    if free <= 0 or failures < free:
        return 0
    return int(min(rules["max_wait"], rules["first_wait"] * 2 ** min(failures - free, 32)))


@dataclass(frozen=True)
class Locked:
    """Sign-in refused until ``until`` (seconds since the epoch), because of the username or the address."""

    until: float
    reason: Literal["account", "address"]

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait (the ``Retry-After`` header)."""
        return max(1, math.ceil(self.until - ratelimit.now()))


def messages(locked: Locked) -> tuple[str, str]:
    """When to try again, in Thai and in English; the same whether or not the account exists."""
    # Shown to the minute, rounded up: at the time shown the lock is surely over.
    moment = dt.datetime.fromtimestamp(math.ceil(locked.until / 60) * 60, tz=dt.UTC)
    at = timezone.localtime(moment).strftime("%H:%M")
    minutes = max(1, math.ceil((locked.until - ratelimit.now()) / 60))
    if locked.reason == "address":
        return (
            f"มีการเข้าสู่ระบบไม่สำเร็จจากเครือข่ายนี้หลายครั้งเกินไป ลองใหม่ได้ตั้งแต่เวลา {at} น. (อีกประมาณ {minutes} นาที)",
            f"Too many failed sign-ins from this network address. Try again from {at} (in about {minutes} min).",
        )
    return (
        f"ใส่รหัสผ่านผิดหลายครั้งเกินไปสำหรับชื่อผู้ใช้นี้ ลองใหม่ได้ตั้งแต่เวลา {at} น. (อีกประมาณ {minutes} นาที)"
        " หากจำรหัสผ่านไม่ได้ โปรดติดต่อผู้ดูแลระบบ",
        f"Too many wrong passwords for this username. Try again from {at} (in about {minutes} min)."
        " If you have forgotten the password, ask the administrator.",
    )


def _username(username: str) -> str:
    # One lock for every spelling a person might type of the same name: "Clerk", "clerk ", "ｃｌｅｒｋ".
    return unicodedata.normalize("NFKC", username).strip().casefold()


@dataclass(frozen=True)
class Attempt:
    """A password check the lockout allowed; say how it went with ``failed()`` or ``succeeded()``."""

    account: str
    address: str

    def _keys(self) -> tuple[str, str]:
        return ratelimit.key("signin-failures", self.account), ratelimit.key("signin-lock", self.account)

    def failed(self) -> None:
        """The password was wrong: the username's failure stays counted; the address's is counted."""
        rules = policy()
        if rules["address_failures"] <= 0 or not self.address:
            return
        now = ratelimit.now()
        try:
            with ratelimit.serialised() as cache:
                window = ratelimit.windowed_hit(cache, "signin-address", self.address, rules["address_window"], now=now)
                if window.count >= rules["address_failures"]:
                    wait = rules["address_wait"]
                    cache.set(ratelimit.key("signin-address-lock", self.address), now + wait, wait)
                    logger.warning("sign-in: %d failures from one address; it waits %d s", window.count, wait)
        except Exception:
            logger.warning("sign-in failure not counted: the cache failed", exc_info=True)

    def succeeded(self) -> None:
        """The password was right: the username's count and lock are cleared."""
        try:
            with ratelimit.serialised() as cache:
                cache.delete_many(list(self._keys()))
        except Exception:
            logger.warning("sign-in lockout not cleared: the cache failed", exc_info=True)


def begin(request: HttpRequest | None, username: str) -> Attempt | Locked:
    """Ask to check a password for ``username`` from ``request``'s address: an ``Attempt``, or ``Locked``.

    The attempt is counted as a failure at once (``Attempt.succeeded`` takes it back), so that
    attempts made at the same moment are counted before any password is checked.
    """
    rules = policy()
    account = _username(username)
    address = ratelimit.client_address(request) if request is not None else ""
    attempt = Attempt(account=account, address=address)
    failures_key, lock_key = attempt._keys()
    now = ratelimit.now()
    try:
        with ratelimit.serialised() as cache:
            if address:
                address_until = float(cache.get(ratelimit.key("signin-address-lock", address)) or 0)
                if address_until > now:
                    return Locked(until=address_until, reason="address")
            if rules["account_failures"] <= 0:
                return attempt
            account_until = float(cache.get(lock_key) or 0)
            if account_until > now:
                return Locked(until=account_until, reason="account")
            keep = max(rules["reset_after"], rules["max_wait"])
            failures = ratelimit.add_to(cache, failures_key, 1, keep)
            wait = wait_after(failures, rules)
            if wait and not cache.add(lock_key, now + wait, wait):
                held = float(cache.get(lock_key) or 0)
                if held > now:  # another attempt claimed the lock a moment ago: this one checks nothing
                    ratelimit.add_to(cache, failures_key, -1, keep)
                    return Locked(until=held, reason="account")
                cache.set(lock_key, now + wait, wait)  # a lock that is over, not yet gone from the cache
    except Exception:  # the cache is down: sign-in keeps working, the log says why nothing was counted
        logger.warning("sign-in lockout not checked: the cache failed", exc_info=True)
    return attempt
