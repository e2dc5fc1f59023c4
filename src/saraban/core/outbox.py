"""The shape every outbox of Saraban's channels shares: rows due, leased for one attempt, tried in turn.

A row is *due* when its status is pending and its next attempt has come; an attempt first *claims* it
with one conditional UPDATE (a lease that runs out, so a worker killed mid-attempt leaves it to
another), so several pumps on several machines never try one row at once. ``drain`` tries what is
due now; ``run`` does so until stopped.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from django.db.models import Model, Q
from django.utils import timezone

PENDING = "pending"


def due_ids(model: type[Model], limit: int = 20) -> list[int]:
    """Rows of ``model`` due now and not leased, oldest due first."""
    now = timezone.now()
    return list(
        model._default_manager.filter(status=PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )


def claim(model: type[Model], pk: int, lease_seconds: float) -> bool:
    """Lease a due row for one attempt; False when another worker was quicker."""
    now = timezone.now()
    return bool(
        model._default_manager.filter(pk=pk, status=PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + dt.timedelta(seconds=lease_seconds), last_attempt_at=now)
    )


def drain(model: type[Model], attempt: Callable[[int], None], *, lease_seconds: float, limit: int = 10_000) -> int:
    """Claim and ``attempt`` every row due now, one after the other; how many attempts were made."""
    attempts = 0
    while attempts < limit:
        ids = [pk for pk in due_ids(model) if claim(model, pk, lease_seconds)]
        if not ids:
            break
        for pk in ids:
            attempt(pk)
            attempts += 1
    return attempts


def run(stop: threading.Event, step: Callable[[], int], *, idle_s: float = 0.25) -> None:
    """Call ``step`` (a drain of at most a few rows) until ``stop``; wait ``idle_s`` when it found nothing."""
    while not stop.is_set():
        if not step():
            stop.wait(idle_s)
