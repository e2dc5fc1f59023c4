"""The outbox pump: threads that deliver due messages until told to stop (``saraban exchange pump``).

``saraban serve`` starts it as a child process beside its worker (not with ``--no-worker``); more
than one pump, on several machines, is safe: each message is leased before an attempt. The
leases are short (``outbox.RENEWED_LEASE_S``) and renewed while the attempts last, so the messages
of a pump killed mid-attempt are taken up by the next one within seconds.
"""

from __future__ import annotations

import logging
import queue
import threading

from django.db import close_old_connections, connection

from .batch import MAX_BATCH_MESSAGES
from .channels import Loop, pump_loops
from .models import Peer
from .outbox import RENEWED_LEASE_S, batches_of, claim_due, deliver_batch, deliver_next, due_message_ids, renew_leases
from .peering import refresh_peer

log = logging.getLogger(__name__)
REFRESH_EVERY_S = 6 * 3600


class _Held:
    """The messages this pump has leased and not finished with yet (their leases are renewed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pks: set[int] = set()

    def add(self, pks: list[int]) -> None:
        with self._lock:
            self._pks.update(pks)

    def done(self, pks: list[int]) -> None:
        with self._lock:
            self._pks.difference_update(pks)

    def all(self) -> list[int]:
        with self._lock:
            return sorted(self._pks)


def _poller(stop: threading.Event, work: queue.Queue[list[int]], senders: int, poll_s: float, held: _Held) -> None:
    """Lease due messages and hand them to the senders in batches per peer; one poller, so an idle
    pump costs one query."""
    try:
        while not stop.is_set():
            try:
                free = senders - work.qsize()
                if free <= 0:  # every sender busy: lease nothing yet
                    stop.wait(0.02)
                    continue
                if not due_message_ids(1):
                    stop.wait(poll_s)
                    continue
                claimed = claim_due(free * MAX_BATCH_MESSAGES, lease_s=RENEWED_LEASE_S)
                held.add([c.pk for c in claimed])
                for batch in batches_of(claimed, spread=free):
                    work.put(batch)
                if not claimed:
                    stop.wait(poll_s)
            except Exception:  # a database that went away: try again shortly on a new connection
                log.exception("exchange pump: looking for due messages failed")
                connection.close()
                stop.wait(5)
    finally:
        connection.close()


def _renewer(stop: threading.Event, held: _Held) -> None:
    """Keep this pump's leases alive while their attempts last (a killed pump's run out soon)."""
    try:
        while not stop.wait(RENEWED_LEASE_S / 3):
            try:
                renew_leases(held.all())
            except Exception:  # a database that went away: the leases may run out; tried again
                log.exception("exchange pump: renewing leases failed")
                connection.close()
    finally:
        connection.close()


def _sender(stop: threading.Event, work: queue.Queue[list[int]], held: _Held) -> None:
    """Deliver what the poller leased, keeping this thread's database and HTTP connections open."""
    try:
        while not stop.is_set():
            try:
                batch = work.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                deliver_batch(batch)
            except Exception:  # the attempt is not recorded: its leases run out and it is tried again
                log.exception("exchange pump: delivering messages %s failed", batch)
                connection.close()
            finally:
                held.done(batch)
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
            refresh_directories()
            close_old_connections()
    finally:
        connection.close()


def _guarded(name: str, loop: Loop, stop: threading.Event) -> None:
    """Run a channel's loop; if it fails, log it and start it again (its work is in the database)."""
    try:
        while not stop.is_set():
            try:
                loop(stop)
            except Exception:
                log.exception("exchange pump: the %s loop failed; starting it again", name)
                connection.close()
                stop.wait(5)
    finally:
        connection.close()


def run_pump(stop: threading.Event, *, senders: int, poll_s: float = 0.25,
             refresh_every_s: float = REFRESH_EVERY_S) -> None:
    """Deliver with ``senders`` threads until ``stop`` is set; returns once they have all finished.

    Beside them, the peers' directories are read again every ``refresh_every_s`` (6 hours), and the
    other channels' loops run (``channels.pump_loops``: e-CMS posting and polling).
    """
    work: queue.Queue[list[int]] = queue.Queue()
    held = _Held()
    threads = [threading.Thread(target=_sender, args=(stop, work, held), name=f"exchange-sender-{i}", daemon=True)
               for i in range(senders)]
    threads.append(threading.Thread(target=_poller, args=(stop, work, senders, poll_s, held), name="exchange-poller",
                                    daemon=True))
    threads.append(threading.Thread(target=_renewer, args=(stop, held), name="exchange-leases", daemon=True))
    threads.append(threading.Thread(target=_refresher, args=(stop, refresh_every_s), name="exchange-directories",
                                    daemon=True))
    threads += [threading.Thread(target=_guarded, args=(name, loop, stop), name=name, daemon=True)
                for name, loop in pump_loops()]
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
