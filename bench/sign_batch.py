"""Benchmark: the signer's batch in the workflow, letters per second end to end (JSON line last).

What a signer waits for at ``/work/sign/``: for each letter the number is drawn, the letter is rendered
with it, the stamp is placed in its signature block, it is signed (PAdES B-B with a registered
PKCS#12 certificate) and stored, each letter in its own transaction. Beside it, the same batch with the
typed-name signature (what the signer would otherwise use: render and record, no cryptography).
Runs on SQLite in a temporary ``SARABAN_HOME`` with the demo PKI, or on a fresh PostgreSQL database
made (and dropped) on the server of ``--database-url``.

``--with-numbering``: numbering while a batch signs. Other processes (other app servers) draw numbers
from the same send register, first alone, then while the signer's batch signs at PAdES B-T with a
loopback TSA that answers ``--tsa-delay-ms`` late (a TSA across the Internet): how many numbers per
second they still get, the longest one waited, and that the register has no gap and no duplicate.

Usage: ``.venv/bin/python bench/sign_batch.py [--letters 40] [--with-numbering] [--database-url URL]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "bench")]
os.environ["DJANGO_SETTINGS_MODULE"] = "saraban.settings"
if not os.environ.get("SARABAN_BENCH_CHILD"):  # a numbering process uses the database its parent made
    os.environ["SARABAN_HOME"] = tempfile.mkdtemp(prefix="saraban-bench-batch-")
    os.environ.pop("SARABAN_DATABASE_URL", None)
    _early = argparse.ArgumentParser(add_help=False)
    _early.add_argument("--database-url", default="")
    _url = _early.parse_known_args()[0].database_url
    if _url:
        import atexit

        from psycopg import connect, sql
        from psycopg.conninfo import conninfo_to_dict

        _fresh = f"saraban_bench_{os.getpid()}"
        with connect(_url, autocommit=True) as _admin:
            _admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_fresh)))

        def _drop() -> None:
            from django.db import connections

            connections.close_all()
            with connect(_url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_fresh)))

        atexit.register(_drop)
        _info = conninfo_to_dict(_url)
        _info["dbname"] = _fresh
        _auth = _info.get("user", "") + (f":{_info['password']}" if _info.get("password") else "")
        os.environ["SARABAN_DATABASE_URL"] = (
            f"postgres://{_auth}@{_info.get('host', 'localhost')}:{_info.get('port', 5432)}/{_fresh}"
        )

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

PASSWORD = "bench-Pass-2569"


def approved_letters(count: int, tag: str) -> list[int]:
    """``count`` letters approved and waiting for the signer."""
    from saraban.correspondence.models import Letter
    from saraban.correspondence.services import create_letter
    from saraban.correspondence.workflow import submit_for_review
    from saraban.directory.models import Organisation, Person
    from saraban.regulation.content import parse_letter_json

    org = Organisation.objects.get(identifier="bench")
    clerk, signer = Person.objects.get(username="clerk"), Person.objects.get(username="signer")
    data = json.loads((ROOT / "examples/letters/external.json").read_text("utf-8"))
    data.pop("number", None)
    data.pop("date", None)
    data["issuer"] = {}
    ids = []
    for n in range(count):
        content = parse_letter_json({**data, "subject": f"{data['subject']} ({tag} {n})"})
        letter = create_letter(org, content.model_dump(mode="json"), author=clerk)
        ids.append(submit_for_review(letter, actor=clerk, reviewers=[], signer=signer).pk)
    assert Letter.objects.filter(pk__in=ids, status="approved").count() == count
    return ids


def timed_batch(ids: list[int], certificate: object | None) -> float:
    """Letters per second of one batch (``background=False``: the time a signer waits for the bar)."""
    from saraban.correspondence.batch import start_batch
    from saraban.directory.models import Organisation, Person
    from saraban.signatures.batch import batch_progress
    from saraban.signatures.methods import SignerProof

    org = Organisation.objects.get(identifier="bench")
    signer = Person.objects.get(username="signer")
    started = time.perf_counter()
    batch = start_batch(signer=signer, organisation=org, letter_ids=ids, proof=SignerProof(PASSWORD),
                        certificate=certificate, background=False)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    progress = batch_progress(batch)
    assert progress.signed == len(ids) and progress.failed == 0, progress
    return len(ids) / seconds


def _numbering_client(org_id: int, ready: Any, go: Any, stop: Any, out: Any) -> None:
    """Another app server: draw send-register numbers from ``go`` until ``stop``; report count and worst wait."""
    from django.db import connection

    from saraban.registers.models import BookKind
    from saraban.registers.numbering import EntryFields
    from saraban.registers.services import register_outgoing

    for _ in range(20):  # warm up: the connection, the book's id, the queries
        register_outgoing(org_id, BookKind.SEND, letter_code="นร 9999", fields=EntryFields(subject="อุ่นเครื่อง"))
    ready.release()
    go.wait()
    count, worst = 0, 0.0
    while not stop.is_set():
        started = time.perf_counter()
        register_outgoing(org_id, BookKind.SEND, letter_code="นร 9999", fields=EntryFields(subject="เลขจากที่อื่น"))
        worst = max(worst, time.perf_counter() - started)
        count += 1
    out.put((count, worst))
    connection.close()


def numbering_meanwhile(org_id: int, clients: int, during: Callable[[], float]) -> tuple[float, float, float]:
    """Numbers per second that ``clients`` processes draw while ``during()`` runs; its seconds; worst wait (s)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    os.environ["SARABAN_BENCH_CHILD"] = "1"
    ready, go, stop, out = ctx.Semaphore(0), ctx.Event(), ctx.Event(), ctx.Queue()
    processes = [ctx.Process(target=_numbering_client, args=(org_id, ready, go, stop, out)) for _ in range(clients)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    go.set()
    seconds = during()
    stop.set()
    results = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(60)
    return sum(c for c, _ in results) / seconds, seconds, max(w for _, w in results)


def register_check(org_id: int) -> tuple[int, int]:
    """Gaps and duplicates in the organisation's send register (cancelled numbers count as present)."""
    from django.db.models import Count

    from saraban.registers.models import RegisterEntry

    entries = RegisterEntry.objects.filter(book__organisation_id=org_id, book__kind="send")
    numbers = set(entries.values_list("number", flat=True))
    duplicates = entries.values("number").annotate(n=Count("id")).filter(n__gt=1).count()
    return len(set(range(1, max(numbers, default=0) + 1)) - numbers), duplicates


def with_numbering(org_id: int, certificate: object, *, letters: int, clients: int, tsa_delay_ms: int,
                   seconds_alone: float) -> dict[str, object]:
    """Numbering alone, then numbering while a B-T batch signs with a slow loopback TSA (see the docstring)."""
    from certomancer.registry import CertomancerConfig
    from django.conf import settings

    from _tsa import FastTimeStamper, FastTsaServer
    from saraban.registers.models import RegisterEntry

    config = CertomancerConfig.from_file(str(ROOT / "tests/pki/certomancer.yml"), external_url_prefix="http://127.0.0.1:9")
    tsa = FastTsaServer(FastTimeStamper.for_arch(config.get_pki_arch("th-test")), delay=tsa_delay_ms / 1000)
    settings.SARABAN_PADES = {**(getattr(settings, "SARABAN_PADES", None) or {}), "tsa_url": tsa.url, "level": "B-T"}
    ids = approved_letters(letters, "b-t")
    batch_rate: list[float] = []

    def wait_alone() -> float:
        time.sleep(seconds_alone)
        return seconds_alone

    def sign_the_batch() -> float:
        batch_rate.append(timed_batch(ids, certificate))
        return letters / batch_rate[0]

    try:
        alone, _, alone_worst = numbering_meanwhile(org_id, clients, wait_alone)
        during, batch_seconds, worst = numbering_meanwhile(org_id, clients, sign_the_batch)
    finally:
        tsa.stop()
    gaps, duplicates = register_check(org_id)
    return {
        "level": "B-T", "tsa_delay_ms": tsa_delay_ms, "batch_letters": letters, "numbering_processes": clients,
        "batch_letters_per_s": round(batch_rate[0], 2), "batch_seconds": round(batch_seconds, 2),
        "numbering_alone_per_s": round(alone, 1), "numbering_alone_worst_wait_ms": round(alone_worst * 1000),
        "numbering_during_batch_per_s": round(during, 1), "numbering_during_batch_worst_wait_ms": round(worst * 1000),
        "register_entries": RegisterEntry.objects.filter(book__organisation_id=org_id).count(),
        "gaps": gaps, "duplicates": duplicates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=40)
    parser.add_argument("--database-url", default="", help="PostgreSQL server to make a fresh database on")
    parser.add_argument("--with-numbering", action="store_true", help="numbering while a B-T batch signs")
    parser.add_argument("--numbering-letters", type=int, default=20)
    parser.add_argument("--numbering-processes", type=int, default=2)
    parser.add_argument("--tsa-delay-ms", type=int, default=300)
    parser.add_argument("--seconds-alone", type=float, default=5.0)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    from saraban.demo.pki import demo_ca, issue_pkcs12
    from saraban.directory.services import assign_role, create_organisation, create_person
    from saraban.signatures.registry import register_pkcs12

    org = create_organisation(identifier="bench", kind="department", name_th="สำนักงานทดสอบความเร็ว",
                              letter_code="นร 9999", category="opm", address="ทำเนียบรัฐบาล\nกรุงเทพมหานคร 10300")
    clerk = create_person(username="clerk", name_th="นางสาวธุรการ ทดสอบ", password=PASSWORD)
    assign_role(clerk, org, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    signer = create_person(username="signer", name_th="นายผู้ลงนาม ทดสอบ", password=PASSWORD)
    assign_role(signer, org, "signer", position_title="ผู้อำนวยการ")
    data = issue_pkcs12(demo_ca(), common_name="Bench Signer", organisation="Bench", email="s@bench.invalid",
                        password=PASSWORD)
    certificate = register_pkcs12(organisation=org, holder=signer, data=data, password=PASSWORD, actor=signer)

    timed_batch(approved_letters(2, "warm-up"), certificate)  # fonts, Typst compiler, imports
    typed = timed_batch(approved_letters(args.letters, "typed"), None)
    print(f"typed-name batch: {typed:.1f} letters/s", flush=True)
    pades = timed_batch(approved_letters(args.letters, "pades"), certificate)
    print(f"PAdES B-B batch: {pades:.1f} letters/s", flush=True)
    result: dict[str, object] = {
        "bench": "sign_batch", "letters": args.letters, "database": connection.vendor,
        "pades_bb_batch_letters_per_s": round(pades, 1), "typed_name_batch_letters_per_s": round(typed, 1),
    }
    if args.with_numbering:
        result["numbering_while_signing"] = meanwhile = with_numbering(
            org.pk, certificate, letters=args.numbering_letters, clients=args.numbering_processes,
            tsa_delay_ms=args.tsa_delay_ms, seconds_alone=args.seconds_alone,
        )
        print(f"numbering alone: {meanwhile['numbering_alone_per_s']}/s; while a B-T batch signs: "
              f"{meanwhile['numbering_during_batch_per_s']}/s, worst wait "
              f"{meanwhile['numbering_during_batch_worst_wait_ms']} ms", flush=True)
    result["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
