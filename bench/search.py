"""Benchmark: Thai search over N letters, through Saraban's index and through a plain substring scan.

    .venv/bin/python bench/search.py --letters N [--kind sqlite|postgres] [--queries 50] [--detail]
                                     [--reuse NAME] [--repeat R]

In a fresh database (SQLite in a temporary SARABAN_HOME, or a new PostgreSQL database on
127.0.0.1:5432), N realistic Thai letters (subjects and bodies from government vocabulary, letter
numbers with Thai or Arabic digits, parties) are written as index entries of one organisation
(``SearchEntry`` rows built as ``indexing`` builds them: folded text, the database's trigram index
kept by its triggers or GIN index). Then 50 queries (compound fragments, numbers in both digit
forms, two-word queries, rare and common words) run

- through Saraban's search (``engine.search`` as a registry clerk of that organisation: candidates,
  the first page of 20 with its passages), timed; the access check on the letters' own rows (a query
  per batch of candidates) is left out, as the entries stand for letters not written out;
- through a plain substring scan, what a user would otherwise get (``display LIKE '%q%'`` on the text
  as written, first 20), timed;
- for recall, the index's every hit (``engine.matching_ids``) against a scan of every folded text in
  Python (the same terms, each found as a substring): recall = found ∩ scanned / scanned.

One JSON line last: letters, index_s, index_mb, p50_ms, p95_ms, recall_min, recall_mean, scan_p50_ms,
scan_p95_ms (and the kind, the one-minute load average at the end, and per-query detail with
``--detail``). ``--repeat R`` times each query R times after the warming one and takes the median, so
that a moment when others load the machine does not stand for the query (1, the default, times once).

``--reuse NAME`` keeps the database instead of dropping it, so that another run (after a change to the
engine) does not generate the letters again: PostgreSQL database ``NAME`` (created when missing), or
SQLite in ``$TMPDIR/NAME``. It is built when it does not hold this many letters of this seed; the
``index_s`` reported is then the one measured when it was built (new migrations are applied to it, and
their time is not counted: give a fresh run for the figures). Drop it afterwards
(``DROP DATABASE NAME``, or remove the directory).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]
POSTGRES = "postgres://postgres@127.0.0.1:5432"

SUBJECTS = [
    "ขอเชิญประชุมคณะกรรมการ{unit}", "ขอความอนุเคราะห์ข้อมูล{topic}", "รายงานผลการดำเนินงาน{topic}",
    "แต่งตั้งคณะทำงาน{topic}", "ขออนุมัติงบประมาณ{topic}", "แจ้งกำหนดการ{topic}", "ส่งสำเนาคำสั่ง{topic}",
    "ขอเชิญเข้าร่วมการอบรม{topic}", "การเบิกจ่ายค่าใช้จ่าย{topic}", "ขอให้จัดส่งรายชื่อ{topic}",
]
TOPICS = [
    "ระบบสารบรรณอิเล็กทรอนิกส์", "การพัฒนาเมืองอัจฉริยะ", "การป้องกันและบรรเทาสาธารณภัย", "โครงการถนนปลอดภัย",
    "การจัดเก็บภาษีที่ดินและสิ่งปลูกสร้าง", "การส่งเสริมการท่องเที่ยวชุมชน", "การบริหารจัดการขยะมูลฝอย",
    "การพัฒนาคุณภาพชีวิตผู้สูงอายุ", "โครงการอาหารกลางวันนักเรียน", "การใช้จ่ายเงินสะสม", "ศูนย์พัฒนาเด็กเล็ก",
    "การประเมินประสิทธิภาพองค์กรปกครองส่วนท้องถิ่น", "โครงการเศรษฐกิจฐานราก", "การรักษาความปลอดภัยไซเบอร์",
]
UNITS = ["กองคลัง", "กองช่าง", "กองการศึกษา", "กองสาธารณสุขและสิ่งแวดล้อม", "สำนักปลัด", "กองยุทธศาสตร์และงบประมาณ"]
PROVINCES = ["เชียงใหม่", "ขอนแก่น", "นครราชสีมา", "ชลบุรี", "สงขลา", "อุบลราชธานี", "พิษณุโลก", "ภูเก็ต", "นนทบุรี"]
CODES = ["มท 0810", "นร 0105", "ชม 51001", "ขก 0023", "นม 0017", "ชบ 0023.3", "สข 51101"]
BODY = [
    "ด้วย{org}มีความประสงค์จะดำเนิน{topic} ประจำปีงบประมาณ พ.ศ. {year}",
    "ในการนี้ จึงขอความร่วมมือจากหน่วยงานของท่านแจ้งรายชื่อผู้รับผิดชอบภายในวันที่ {day} {month} {year}",
    "ทั้งนี้ สามารถสอบถามรายละเอียดเพิ่มเติมได้ที่{unit} โทร. 0 {phone}",
    "จึงเรียนมาเพื่อโปรดทราบและพิจารณาดำเนินการต่อไป",
    "โดยมีวัตถุประสงค์เพื่อเพิ่มประสิทธิภาพการให้บริการประชาชนในเขตจังหวัด{province}",
]
MONTHS = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน",
          "ตุลาคม", "พฤศจิกายน", "ธันวาคม"]
QUERIES = [
    "สารบรรณ", "ทรอนิกส์", "อิเลคทรอนิกส์", "สารบรรณ อิเล็กทรอนิกส์", '"ระบบสารบรรณ"', "ไซเบอร์", "ปลอดภัย",
    "งบประมาณ", "ขยะมูลฝอย", "มูลฝอย", "ผู้สูงอายุ", "สูงอายุ", "เด็กเล็ก", "อาหารกลางวัน", "ท่องเที่ยวชุมชน",
    "ภาษีที่ดิน", "สิ่งปลูกสร้าง", "เงินสะสม", "เมืองอัจฉริยะ", "อัจฉริยะ", "เศรษฐกิจฐานราก", "ฐานราก",
    "บรรเทาสาธารณภัย", "สาธารณภัย", "ประชุม คณะกรรมการ", "อบรม", "เบิกจ่าย", "คำสั่ง", "กองช่าง", "กองคลัง",
    "สำนักปลัด", "ภูเก็ต", "นครราชสีมา", "ขอนแก่น ประชาชน", "มท 0810", "มท0810", "๐๘๑๐", "0810/1", "นร ๐๑๐๕",
    "ชบ 0023.3", "๒๕๖๙", "2569", "ตุลาคม ๒๕๖๘", "0 5321", "ประสิทธิภาพ องค์กร", "ผู้รับผิดชอบ", "ประจำปีงบประมาณ",
    "ไม่มีคำนี้ในหนังสือใดเลย", "ถนนปลอดภัย", "ความร่วมมือ",
]


def _digits(text: str, thai: bool) -> str:
    return text.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")) if thai else text


def letter(rng: random.Random, i: int) -> dict[str, str]:
    """One letter's number, subject, parties and body, as written (Thai digits in about half)."""
    thai = rng.random() < 0.5
    topic, unit = rng.choice(TOPICS), rng.choice(UNITS)
    code = rng.choice(CODES)
    year = rng.choice([2567, 2568, 2569])
    number = _digits(f"{code}/{rng.randint(1, 9999)}", thai)
    subject = rng.choice(SUBJECTS).format(topic=topic, unit=unit)
    province = rng.choice(PROVINCES)
    org = f"องค์การบริหารส่วนจังหวัด{province}"
    body = " ".join(rng.choice(BODY).format(
        org=org, topic=rng.choice(TOPICS), year=_digits(str(year), thai), day=_digits(str(rng.randint(1, 28)), thai),
        month=rng.choice(MONTHS), unit=rng.choice(UNITS),
        phone=_digits(f"{rng.randint(2000, 5999)} {rng.randint(1000, 9999)}", thai), province=province)
        for _ in range(rng.randint(3, 6)))
    return {"number": number, "subject": subject, "parties": f"ผู้ว่าราชการจังหวัด{rng.choice(PROVINCES)}",
            "body": body, "unit": unit, "year": str(year)}


def _setup(kind: str, reuse: str) -> str | None:
    """Point Django at a new database (or the kept one named ``reuse``) and migrate it; the PostgreSQL
    database to drop afterwards, if any."""
    if reuse:
        home = Path(tempfile.gettempdir()) / reuse
        home.mkdir(exist_ok=True)
        os.environ["SARABAN_HOME"] = str(home)
    else:
        os.environ["SARABAN_HOME"] = tempfile.mkdtemp(prefix="saraban-bench-search-")
    database = None
    if kind == "postgres":
        import psycopg

        database = reuse or f"bench_search_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
        os.environ["SARABAN_DATABASE_URL"] = f"{POSTGRES}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return None if reuse else database


def _kept(n: int, seed: int) -> float | None:
    """The seconds the kept database took to index, if it holds ``n`` letters of ``seed``."""
    meta = Path(os.environ["SARABAN_HOME"]) / "bench-search.json"
    if not meta.exists():
        return None
    recorded = json.loads(meta.read_text())
    if recorded.get("letters") != n or recorded.get("seed") != seed:
        return None
    return float(recorded["index_s"])


def _keep(n: int, seed: int, index_s: float) -> None:
    meta = Path(os.environ["SARABAN_HOME"]) / "bench-search.json"
    meta.write_text(json.dumps({"letters": n, "seed": seed, "index_s": index_s}))


def _clear() -> None:
    """Empty a kept database that holds other letters (or a build that stopped half way)."""
    from saraban.directory.models import Organisation, Person
    from saraban.search.models import SearchEntry

    SearchEntry.objects.all().delete()
    Person.objects.filter(username="bench.clerk").delete()
    Organisation.objects.filter(identifier="bench").delete()


def _drop(database: str | None) -> None:
    if database:
        import psycopg
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _index_mb() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size('search_searchentry')")
            return round(cursor.fetchone()[0] / 1e6, 1)
        cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'search_searchentry%'")
        return round((cursor.fetchone()[0] or 0) / 1e6, 1)


def build(n: int, seed: int) -> tuple[Any, dict[int, str], float]:
    """The organisation, its clerk, and N index entries; (clerk, {entry id: folded text}, seconds)."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from saraban.directory.services import assign_role, create_organisation, create_person
    from saraban.search.models import SearchEntry
    from saraban.search.normalize import fold

    org = create_organisation(identifier="bench", kind="sao", name_th="องค์การบริหารส่วนตำบลทดสอบ", letter_code="ทบ 0001")
    clerk = create_person(username="bench.clerk", name_th="นางสาวทดสอบ ค้นหา", password="bench-Pass-2569")
    assign_role(clerk, org, "central_clerk")
    rng = random.Random(seed)
    now = timezone.now()
    started = time.perf_counter()
    chunk = 5_000
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(n, start + chunk)):
            data = letter(rng, i)
            display = "\n".join([data["number"], data["subject"], data["parties"], data["body"], data["unit"]])
            rows.append(SearchEntry(
                kind="in", object_id=i + 1, organisation=org, number=data["number"], subject=data["subject"],
                parties=data["parties"],
                date=dt.date(int(data["year"]) - 543, 1, 1) + dt.timedelta(days=i % 365),
                letter_type="incoming_electronic", status="registered", urgency="normal", secrecy="normal",
                unit=data["unit"], text=fold(display),
                title=fold(f"{data['number']} {data['subject']} {data['parties']}"),
                display=display, indexed_at=now))
        with transaction.atomic():
            SearchEntry.objects.bulk_create(rows, batch_size=1000)
        print(f"  indexed {min(n, start + chunk):,}/{n:,}", file=sys.stderr, end="\r")
    seconds = time.perf_counter() - started
    print(file=sys.stderr)
    texts = dict(SearchEntry.objects.values_list("id", "text").iterator(chunk_size=10_000))
    return clerk, texts, seconds


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def run(n: int, kind: str, queries: int, seed: int, detail: bool, reuse: str = "", repeat: int = 1) -> dict[str, Any]:
    """Build (or reuse), query, compare; the figures."""
    database = _setup(kind, reuse)
    try:
        from django.db import connection

        from saraban.directory.models import Person
        from saraban.search import engine
        from saraban.search.models import SearchEntry
        from saraban.search.query import parse

        kept = _kept(n, seed) if reuse else None
        if kept is not None and SearchEntry.objects.count() == n:
            clerk, index_s = Person.objects.get(username="bench.clerk"), kept
            texts = dict(SearchEntry.objects.values_list("id", "text").iterator(chunk_size=10_000))
        else:
            if reuse:
                _clear()
            clerk, texts, index_s = build(n, seed)
            if reuse:
                _keep(n, seed, index_s)
        # The access rules read the letters' own rows (a query per batch of candidates); the entries
        # here stand for letters that are not written out, so the clerk is let see each of them.
        engine_visible = engine._visible
        engine._visible = lambda person, entries: entries  # type: ignore[assignment]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE search_searchentry")
        chosen = QUERIES[:queries]
        times, scan_times, recalls, rows = [], [], [], []
        variant_sets = engine.variant_sets()
        for typed in chosen:
            query = parse(typed, variant_sets=variant_sets)
            engine.search(clerk, typed)  # warm
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                results = engine.search(clerk, typed)
                runs.append((time.perf_counter() - t0) * 1000)
            took = statistics.median(runs)
            times.append(took)
            t0 = time.perf_counter()
            list(SearchEntry.objects.filter(display__contains=typed.strip('"')).order_by("-id")
                 .values_list("id", flat=True)[:20])
            scan_ms = (time.perf_counter() - t0) * 1000
            scan_times.append(scan_ms)
            found = set(engine.matching_ids(query))
            expected = {pk for pk, text in texts.items()
                        if all(any(form in text for form in term.forms) for term in query.terms)}
            recall = len(found & expected) / len(expected) if expected else 1.0
            recalls.append(recall)
            rows.append({"q": typed, "ms": round(took, 1), "scan_ms": round(scan_ms, 1), "hits": len(expected),
                         "found": len(found), "recall": round(recall, 4), "page": len(results.hits)})
        engine._visible = engine_visible  # type: ignore[assignment]
        result: dict[str, Any] = {
            "bench": "search", "kind": kind, "letters": n, "index_s": round(index_s, 1), "index_mb": _index_mb(),
            "queries": len(chosen), "p50_ms": round(statistics.median(times), 1), "p95_ms": _ms(times, 0.95),
            "recall_min": round(min(recalls), 4), "recall_mean": round(statistics.fmean(recalls), 4),
            "scan_p50_ms": round(statistics.median(scan_times), 1), "scan_p95_ms": _ms(scan_times, 0.95),
            "repeat": repeat, "load": round(os.getloadavg()[0], 1),
        }
        if detail:
            result["detail"] = rows
        return result
    finally:
        _drop(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--kind", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2569)
    parser.add_argument("--detail", action="store_true", help="per-query figures in the JSON line")
    parser.add_argument("--reuse", default="", metavar="NAME",
                        help="keep the database NAME between runs (letters generated only when it lacks them)")
    parser.add_argument("--repeat", type=int, default=1, metavar="R",
                        help="time each query R times and take the median (a machine others share)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat: at least 1 (อย่างน้อย 1 ครั้ง)")
    if args.reuse and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.reuse):
        parser.error("--reuse: a name of lower-case letters, digits and _ (ชื่อฐานข้อมูลไม่ถูกต้อง)")
    print(json.dumps(run(args.letters, args.kind, args.queries, args.seed, args.detail, args.reuse, args.repeat),
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
