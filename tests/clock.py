"""A clock the rate limits and the sign-in lockout read, moved by the test."""

from __future__ import annotations


class Clock:
    """The time ``saraban.core.ratelimit`` / ``lockout`` see: ``now`` seconds, moved by the test."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
