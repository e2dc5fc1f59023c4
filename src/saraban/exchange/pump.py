"""The outbox pump: threads that deliver due messages until told to stop (``saraban exchange pump``).

``saraban serve`` starts it as a child process beside its worker (not with ``--no-worker``); more
than one pump, on several machines, is safe: each message is leased before an attempt.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection

from .outbox import deliver_next

log = logging.getLogger(__name__)


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


def run_pump(stop: threading.Event, *, senders: int, poll_s: float = 0.25) -> None:
    """Deliver with ``senders`` threads until ``stop`` is set; returns once they have all finished."""
    threads = [threading.Thread(target=_sender, args=(stop, poll_s), name=f"exchange-sender-{i}", daemon=True)
               for i in range(senders)]
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
