"""Counting requests per client address in Django's cache: rate limits and the sign-in lockout's counters.

Counters live in the cache named by ``SARABAN_RATE_LIMIT_CACHE`` (``counters``), so every server
process that shares that cache shares the counts. Increments are atomic where the backend allows:
Redis, Memcached and the local-memory cache increment atomically; the file-based cache (the default:
one machine, several processes) is serialised with a lock file in its directory; the database cache
counts on a best-effort basis. Keys hold no address or username in clear (an HMAC with the secret key)
and are scoped to the deployment's database, so two deployments sharing one cache server keep their
own counts, and a test database's counts go with it.

A limit is ``(requests, seconds)`` per client address. Windows slide: the count is the current fixed
window's plus the previous window's, weighted by how much of it still overlaps (no burst of twice the
limit across a window boundary). When the cache itself fails, the request is let through and the
failure logged: a broken cache never turns into an error page.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import ipaddress
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.db import connections
from django.http import HttpRequest

logger = logging.getLogger("saraban.ratelimit")

# A network, IPv6 clients by their /64 (one household or office gets a whole /64 and may use any of it).
_IPV6_PREFIX = 64


def now() -> float:
    """The time in seconds since the epoch (one place for the tests to move it)."""
    return time.time()


@dataclass(frozen=True)
class Refusal:
    """The client is over a limit until ``until`` (seconds since the epoch)."""

    until: float

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait: the ``Retry-After`` header's value (at least 1)."""
        return max(1, math.ceil(self.until - now()))


# ---- the client's address ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(configured: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in configured)


def _trusted(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address the request came from: ``REMOTE_ADDR``, or behind a trusted reverse proxy the last
    address in ``X-Forwarded-For`` that is not one of ``SARABAN_TRUSTED_PROXIES``.

    An IPv6 address is given as its /64 network. Without trusted proxies ``X-Forwarded-For`` is
    ignored: anybody can send that header.
    """
    address = str(request.META.get("REMOTE_ADDR", "")).strip()
    networks = _networks(tuple(getattr(settings, "SARABAN_TRUSTED_PROXIES", ())))
    if networks and _trusted(address, networks):
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            address = hop
            if not _trusted(hop, networks):
                break
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        # The network from the integer: a scope ("%eth0") would not parse back.
        return str(ipaddress.IPv6Network((int(ip) >> (128 - _IPV6_PREFIX) << (128 - _IPV6_PREFIX), _IPV6_PREFIX)))
    return str(ip)


# ---- counters in the cache --------------------------------------------------------------------------


def _cache() -> BaseCache:
    return caches[getattr(settings, "SARABAN_RATE_LIMIT_CACHE", "default")]


def _scope() -> str:
    """A short digest of the deployment's database (engine, host, port, name)."""
    db = connections["default"].settings_dict
    identity = "|".join(str(db.get(part, "")) for part in ("ENGINE", "HOST", "PORT", "NAME"))
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


def key(kind: str, identifier: str) -> str:
    """The cache key of one counter: ``kind`` (e.g. ``verify``) for one address or username, in an
    HMAC so that neither is stored in clear."""
    digest = hmac.new(settings.SECRET_KEY.encode(), identifier.encode(), hashlib.sha256).hexdigest()[:32]
    return f"saraban:rl:{_scope()}:{kind}:{digest}"


@contextlib.contextmanager
def serialised() -> Iterator[BaseCache]:
    """The counters' cache, held alone while the block runs where the backend cannot count atomically.

    The file-based cache is shared by the processes of one machine: they take turns through an
    exclusive ``flock`` on a lock file in the cache's directory.
    """
    cache = _cache()
    if not isinstance(cache, FileBasedCache):
        yield cache
        return
    directory = Path(getattr(cache, "_dir", "."))
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "saraban-counters.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield cache
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _atomic_incr(cache: BaseCache) -> bool:
    """Whether the backend increments in one step (Redis, Memcached, local memory), not get-then-set."""
    return type(cache).incr is not BaseCache.incr


def add_to(cache: BaseCache, name: str, delta: int, timeout: int) -> int:
    """Add ``delta`` to the counter ``name`` (created at ``delta``) and keep it ``timeout`` seconds from now.

    Call it inside ``serialised()``.
    """
    timeout = max(1, int(timeout))
    if _atomic_incr(cache):
        if delta > 0 and cache.add(name, delta, timeout):
            return delta
        try:
            value = int(cache.incr(name, delta))
        except ValueError:  # gone (expired) between the two calls
            value = max(0, delta)
            cache.set(name, value, timeout)
            return value
        cache.touch(name, timeout)
        return value
    value = max(0, int(cache.get(name) or 0) + delta)
    cache.set(name, value, timeout)
    return value


@dataclass(frozen=True)
class Window:
    """One client's count in a sliding window: this fixed window's and the one before."""

    seconds: int
    start: float
    current: int
    previous: int
    now: float

    @property
    def count(self) -> float:
        """The events in the last ``seconds``, estimated: this window's plus the previous window's
        share that still overlaps them."""
        return self.current + self.previous * (1 - (self.now - self.start) / self.seconds)

    def free_at(self, allowed: int) -> float:
        """When one more event would be within ``allowed`` again, if none comes before."""
        if self.current + 1 <= allowed:  # the previous window's share has to slide out far enough
            if self.previous <= 0:
                return self.now
            return max(self.now, self.start + self.seconds * (1 - (allowed - self.current - 1) / self.previous))
        following = self.start + self.seconds
        return following + self.seconds * max(0.0, 1 - (allowed - 1) / self.current)


def windowed_hit(cache: BaseCache, kind: str, identifier: str, seconds: int, *, now: float) -> Window:
    """Count one event for ``identifier`` in a sliding window of ``seconds``. Call it inside ``serialised()``."""
    window = int(now // seconds)
    base = key(kind, identifier)
    current = add_to(cache, f"{base}:{window}", 1, 2 * seconds)
    previous = int(cache.get(f"{base}:{window - 1}") or 0)
    return Window(seconds=seconds, start=window * seconds, current=current, previous=previous, now=now)


def limit(request: HttpRequest, bucket: str) -> Refusal | None:
    """Count this request in ``bucket`` for its client address; a ``Refusal`` when over the limit.

    The limits are ``SARABAN_RATE_LIMITS[bucket] = (requests, seconds)``; a bucket without a limit,
    or with 0 requests, is not limited. Refused requests count too: a client that keeps trying
    keeps waiting.
    """
    requests, seconds = dict(getattr(settings, "SARABAN_RATE_LIMITS", {})).get(bucket, (0, 0))
    if requests <= 0 or seconds <= 0:
        return None
    try:
        with serialised() as cache:
            window = windowed_hit(cache, bucket, client_address(request), int(seconds), now=now())
    except Exception:  # the cache is down or its directory unwritable: serve, and say so in the log
        logger.warning("rate limit %s not counted: the cache failed", bucket, exc_info=True)
        return None
    if window.count <= requests + 1e-9:  # the estimate is a float: exactly at the limit is within it
        return None
    logger.info("rate limit %s: refused a request over %d per %d s", bucket, requests, seconds)
    return Refusal(until=window.free_at(requests))
