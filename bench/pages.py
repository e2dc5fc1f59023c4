"""Benchmark: server time of the busiest pages with 100,000 letters in the database.

    bench/pages.py [--database-url URL] [--letters 100000] [--runs 7]

Builds (once per database) a deployment where one ministry office has written ``--letters``
letters over three years, half of them sent to a province whose clerk has registered most of
them, with the registers that go with them. Then it times each page in-process with Django's test
client (the server's own time: URL routing, middleware, queries, templates; no network), several
runs per page after one warm-up, and prints one JSON line last: the median and the worst time of
each page in milliseconds, the page sizes, and the row counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PASSWORD = "bench-Pass-2569"
RANKS = ["normal", "urgent", "very_urgent", "most_urgent"]


def _setup(url: str | None) -> None:
    if url:
        os.environ["SARABAN_DATABASE_URL"] = url
    else:
        os.environ.setdefault("SARABAN_HOME", tempfile.mkdtemp(prefix="saraban-pages-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    import django

    django.setup()


def _populate(letters: int) -> dict[str, Any]:
    """Create the organisations, people and rows (bulk, bypassing the per-letter services for speed)."""
    from zoneinfo import ZoneInfo

    from saraban.correspondence.models import Letter
    from saraban.directory.models import Organisation
    from saraban.directory.services import assign_role, create_organisation, create_person
    from saraban.documents.services import store_file
    from saraban.exchange.models import Dispatch
    from saraban.inbox.models import IncomingLetter
    from saraban.registers.models import RegisterBook, RegisterEntry
    from saraban.regulation.content import parse_letter_json
    from saraban.rendering.letters import render_letter

    existing = Organisation.objects.filter(identifier="bench-sender").first()
    if existing is not None and Letter.objects.filter(organisation=existing).count() >= letters:
        return {"created": False}
    bkk = ZoneInfo("Asia/Bangkok")
    sender = create_organisation(identifier="bench-sender", kind="department", name_th="สำนักงานทดสอบความเร็ว",
                                 letter_code="ทบ 0001", address="ถนนทดสอบ กรุงเทพมหานคร 10300", phone="0 2000 0000")
    receiver = create_organisation(identifier="bench-receiver", kind="provincial_office", name_th="จังหวัดทดสอบ",
                                   letter_code="ทบ 0017")
    people = {}
    for username, org, role in (
        ("bench.clerk", sender, "central_clerk"), ("bench.signer", sender, "signer"),
        ("bench.rclerk", receiver, "central_clerk"), ("bench.rsigner", receiver, "signer"),
    ):
        people[username] = create_person(username=username, name_th=f"ผู้ทดสอบ {username}", password=PASSWORD)
        assign_role(people[username], org, role, position_title="ตำแหน่งทดสอบ")
        if role == "central_clerk":
            assign_role(people[username], org, "officer", position_title="ตำแหน่งทดสอบ")
    example = json.loads((ROOT / "examples" / "letters" / "external.json").read_text(encoding="utf-8"))
    pdf = store_file(render_letter(parse_letter_json(example)), "application/pdf")
    statuses = ["draft"] * 5 + ["in_review"] * 2 + ["approved"] * 2 + ["signed"] + ["numbered"] * 5 + ["sent"] * 75 + [
        "closed"] * 10
    start = dt.datetime(2024, 1, 2, 9, tzinfo=bkk)
    books: dict[tuple[int, int, str], RegisterBook] = {}

    def book(org: Organisation, year: int, kind: str) -> RegisterBook:
        key = (org.pk, year, kind)
        if key not in books:
            books[key] = RegisterBook.objects.create(organisation=org, kind=kind, year=year)
        return books[key]

    urgencies = ["normal"] * 7 + ["urgent", "very_urgent", "most_urgent"]
    batch = 2000
    counters: dict[int, int] = {}
    for first in range(0, letters, batch):
        rows, entries, plan = [], [], []
        for i in range(first, min(first + batch, letters)):
            at = start + dt.timedelta(minutes=15 * i)
            status = statuses[i % len(statuses)]
            urgency = urgencies[i % len(urgencies)]
            numbered = status in ("numbered", "sent", "closed")
            content = {**example, "subject": f"{example['subject']} ฉบับที่ {i}", "urgency": urgency}
            number = ""
            if numbered:
                b = book(sender, at.year, "send")
                counters[b.pk] = counters.get(b.pk, 0) + 1
                number = f"ทบ 0001/{counters[b.pk]}"
                entries.append((b, counters[b.pk], at, number, content["subject"]))
            content["number"] = number
            rows.append(Letter(
                organisation=sender, content=content, type="external", subject=content["subject"], number=number,
                date=at.date() if numbered else None, urgency=urgency, urgency_rank=RANKS.index(urgency),
                secrecy="normal",
                status=status, created_by=people["bench.clerk"], signer=people["bench.signer"], pdf=pdf,
            ))
            plan.append((status, at))
        created = Letter.objects.bulk_create(rows)
        RegisterEntry.objects.bulk_create([
            RegisterEntry(book=b, number=n, registered_at=at, letter_number=num, letter_date=at.date(),
                          sender="สำนักงานทดสอบความเร็ว", recipient="จังหวัดทดสอบ", subject=subject)
            for b, n, at, num, subject in entries
        ])
        dispatches = [
            Dispatch(letter=letter, recipient=receiver, sent_at=at, status_at=at, status="registered")
            for letter, (status, at) in zip(created, plan, strict=True) if status in ("sent", "closed")
        ]
        Dispatch.objects.bulk_create(dispatches)
        incoming, receive_entries = [], []
        for d in dispatches:
            b = book(receiver, d.sent_at.year, "receive")
            counters[b.pk] = counters.get(b.pk, 0) + 1
            receive_entries.append(RegisterEntry(
                book=b, number=counters[b.pk], registered_at=d.sent_at, letter_number=d.letter.number,
                letter_date=d.letter.date, sender="สำนักงานทดสอบความเร็ว", recipient="จังหวัดทดสอบ",
                subject=d.letter.subject,
            ))
        RegisterEntry.objects.bulk_create(receive_entries)
        for d, entry in zip(dispatches, receive_entries, strict=True):
            registered = entry.number % 10 != 0
            incoming.append(IncomingLetter(
                organisation=receiver, source="electronic", dispatch=d, sender_name="สำนักงานทดสอบความเร็ว",
                sender_organisation=sender, letter_number=d.letter.number, letter_date=d.letter.date,
                subject=d.letter.subject, urgency=d.letter.urgency, urgency_rank=d.letter.urgency_rank,
                original=pdf, stamped=pdf if registered else None, delivered_at=d.sent_at,
                status="registered" if registered else "delivered",
                receive_entry=entry if registered else None, receive_number=entry.number if registered else None,
                registered_at=d.sent_at if registered else None,
            ))
        IncomingLetter.objects.bulk_create(incoming)
    for b in books.values():
        RegisterBook.objects.filter(pk=b.pk).update(last_number=counters.get(b.pk, 0))
    return {"created": True}


def _time(client: Any, url: str, runs: int) -> tuple[float, float, int, int]:
    response = client.get(url)  # warm-up
    status = response.status_code
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), max(timings), len(response.content), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    _setup(options.database_url or None)
    from django.core.management import call_command
    from django.test import Client

    from saraban.correspondence.models import Letter
    from saraban.inbox.models import IncomingLetter
    from saraban.registers.models import RegisterEntry

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    built = _populate(options.letters)
    populate_s = time.perf_counter() - started
    from django.db import connection as db

    with db.cursor() as cursor:
        # Fresh statistics after the bulk load, as autovacuum (PostgreSQL) would gather them.
        cursor.execute("ANALYZE")
    letter = Letter.objects.filter(organisation__identifier="bench-sender", status="sent").order_by("-pk").first()
    incoming = IncomingLetter.objects.filter(organisation__identifier="bench-receiver").order_by("-pk").first()
    assert letter is not None and incoming is not None
    year = letter.date.year + 543 if letter.date else 2569
    pages = {
        "sender": {
            "work": "/work/", "drafts": "/letters/drafts/", "outbox": "/outbox/", "letter": f"/letters/{letter.pk}/",
            "send_register": "/registers/?kind=send",
            "send_register_search": f"/registers/?kind=send&q=ฉบับที่ 99&from=1/1/{year}&to=31/12/{year}",
        },
        "receiver": {
            "work": "/work/", "inbox": "/inbox/", "inbox_delivered": "/inbox/?status=delivered",
            "incoming": f"/inbox/{incoming.pk}/", "receive_register": "/registers/?kind=receive",
        },
    }
    results: dict[str, Any] = {}
    for who, urls in pages.items():
        client = Client()
        username = "bench.clerk" if who == "sender" else "bench.rclerk"
        assert client.login(username=username, password=PASSWORD)
        for name, url in urls.items():
            median, worst, size, status = _time(client, url, options.runs)
            results[f"{who}.{name}"] = {"median_ms": round(median, 1), "max_ms": round(worst, 1), "bytes": size,
                                        "status": status}
    from django.db import connection

    summary = {
        "benchmark": "pages",
        "database": connection.vendor,
        "letters": Letter.objects.count(),
        "incoming": IncomingLetter.objects.count(),
        "register_entries": RegisterEntry.objects.count(),
        "populate_s": round(populate_s, 1) if built["created"] else 0,
        "worst_median_ms": max(r["median_ms"] for r in results.values()),
        "pages": results,
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
