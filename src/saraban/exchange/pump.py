"""The outbox pump: threads that deliver due messages until told to stop (``saraban exchange pump``).

``saraban serve`` starts it as a child process beside its worker (not with ``--no-worker``); more
than one pump, on several machines, is safe: each message is leased before an attempt.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection

from .models import Peer
from .outbox import deliver_next
from .peering import refresh_peer

log = logging.getLogger(__name__)
REFRESH_EVERY_S = 6 * 3600


def _sender(stop: threading.Event, poll_s: float) -> None:
    try:
        while not stop.is_set():
            try:
                close_old_connections()
                if not deliver_next():
                    stop.wait(poll_s)
            except Exception:  # a database that went away: keep the pump alive and try again shortly
                log.exception("exchange pump: a delivery step failed")
                stop.wait(5)
    finally:
        connection.close()


def refresh_directories() -> int:
    """Read every active peer's directory again (new organisations, renamed ones); how many succeeded."""
    refreshed = 0
    for peer in Peer.objects.filter(is_active=True):
        try:
            refresh_peer(peer)
            refreshed += 1
        except Exception as exc:  # one peer down must not stop the others; tried again next round
            log.warning("exchange: the directory of %s could not be refreshed: %s", peer.name, exc)
    return refreshed


def _refresher(stop: threading.Event, interval_s: float) -> None:
    try:
        while not stop.wait(interval_s):
            close_old_connections()
            refresh_directories()
    finally:
        connection.close()


def run_pump(stop: threading.Event, *, senders: int, poll_s: float = 0.25,
             refresh_every_s: float = REFRESH_EVERY_S) -> None:
    """Deliver with ``senders`` threads until ``stop`` is set; returns once they have all finished.

    Beside them, the peers' directories are read again every ``refresh_every_s`` (6 hours).
    """
    threads = [threading.Thread(target=_sender, args=(stop, poll_s), name=f"exchange-sender-{i}", daemon=True)
               for i in range(senders)]
    threads.append(threading.Thread(target=_refresher, args=(stop, refresh_every_s), name="exchange-directories",
                                    daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)


def deliver_due(limit: int = 10_000) -> int:
    """Deliver every message due now, one after the other (``--once``); how many attempts were made."""
    attempts = 0
    while attempts < limit and deliver_next():
        attempts += 1
    return attempts
