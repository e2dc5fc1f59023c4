"""Benchmark: N concurrent clients drawing register numbers.

    bench/numbering.py --database-url URL --clients N --count M

Runs Saraban's allocator (requests of one process queue per book and are drawn in batches under the
book's row lock) and, side by side, the classic allocator a developer would otherwise write (lock the
counter, increment, insert, audit, commit: one disk flush per number while holding the lock).

By default the clients are threads of one process, each with its own database connection, as the
concurrent requests of `saraban serve` are; `--mode process` makes each client a process of its own
(nothing is shared between clients then but the database). Prints one JSON line last:
allocations_per_s, gaps, duplicates (Saraban's), and the same figures for the classic allocator.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def _setup(database_url: str | None) -> None:
    if database_url:
        os.environ["SARABAN_DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    import django

    django.setup()


def _saraban_client(args: tuple[str | None, int, int, int]) -> None:
    url, org_id, count, _client = args
    _setup(url)
    from saraban.registers.models import BookKind
    from saraban.registers.numbering import EntryFields
    from saraban.registers.services import register_outgoing

    for i in range(count):
        register_outgoing(org_id, BookKind.SEND, letter_code="ทบ 0001", fields=EntryFields(subject=f"bench {i}"))


def _classic_client(args: tuple[str | None, int, int, int]) -> None:
    url, org_id, count, _client = args
    _setup(url)
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from saraban.audit.services import record_event
    from saraban.registers.models import BookKind, RegisterBook, RegisterEntry
    from saraban.registers.numbering import book_for

    book_id = book_for(org_id, BookKind.CIRCULAR, timezone.now().year)
    for i in range(count):
        with transaction.atomic():
            book = RegisterBook.objects.select_for_update().get(pk=book_id)
            RegisterBook.objects.filter(pk=book_id).update(last_number=F("last_number") + 1)
            n = book.last_number + 1
            entry = RegisterEntry.objects.create(
                book_id=book_id, number=n, registered_at=timezone.now(), letter_number=f"ทบ 0001/ว {n}",
                subject=f"bench {i}",
            )
            record_event(
                "register.number_issued", object_type="register_entry", object_id=entry.pk,
                organisation_id=org_id, detail={"number": n},
            )


def _check(org_id: int, kind: str) -> tuple[int, int, int]:
    from django.db.models import Count

    from saraban.registers.models import RegisterEntry

    entries = RegisterEntry.objects.filter(book__organisation_id=org_id, book__kind=kind)
    numbers = list(entries.values_list("number", flat=True))
    duplicates = entries.values("number").annotate(n=Count("id")).filter(n__gt=1).count()
    present = {n for n in numbers if n is not None}
    top = max(present, default=0)
    gaps = len(set(range(1, top + 1)) - present) + sum(1 for n in numbers if n is None)
    return len(numbers), gaps, duplicates


def _run(target, url: str | None, org_id: int, clients: int, count: int, mode: str = "process") -> float:  # type: ignore[no-untyped-def]
    per_client = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    if mode == "thread":
        import threading

        from django.db import connection

        def run(args: tuple[str | None, int, int, int]) -> None:
            try:
                target(args)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=((url, org_id, n, i),)) for i, n in enumerate(per_client)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started
    ctx = mp.get_context("spawn")
    with ctx.Pool(clients) as pool:
        pool.map(_setup_only, [url] * clients)  # pay start-up outside the timed part
        started = time.perf_counter()
        pool.map(target, [(url, org_id, n, i) for i, n in enumerate(per_client)])
        return time.perf_counter() - started


def _setup_only(url: str | None) -> None:
    _setup(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="empty: a fresh SQLite file")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--skip-classic", action="store_true")
    parser.add_argument("--mode", choices=["process", "thread"], default="thread",
                        help="clients as separate processes (default) or threads of one process")
    options = parser.parse_args()

    url = options.database_url or None
    if url is None:
        os.environ["SARABAN_HOME"] = tempfile.mkdtemp(prefix="saraban-bench-")
    _setup(url)
    from django.core.management import call_command

    from saraban.directory.services import create_organisation

    call_command("migrate", verbosity=0)
    org = create_organisation(
        identifier=f"bench-{os.getpid()}-{int(time.time())}", kind="department", name_th="หน่วยงานทดสอบความเร็ว",
        letter_code="ทบ 0001",
    )
    from django.db import connections

    connections.close_all()

    seconds = _run(_saraban_client, url, org.pk, options.clients, options.count, options.mode)
    total, gaps, duplicates = _check(org.pk, "send")
    result: dict[str, object] = {
        "benchmark": "numbering",
        "database": connections["default"].vendor,
        "clients": options.clients,
        "mode": options.mode,
        "count": total,
        "seconds": round(seconds, 3),
        "allocations_per_s": round(total / seconds, 1),
        "gaps": gaps,
        "duplicates": duplicates,
    }
    if not options.skip_classic:
        connections.close_all()
        seconds = _run(_classic_client, url, org.pk, options.clients, options.count, options.mode)
        c_total, c_gaps, c_duplicates = _check(org.pk, "circular")
        result |= {
            "classic_allocations_per_s": round(c_total / seconds, 1),
            "classic_gaps": c_gaps,
            "classic_duplicates": c_duplicates,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
