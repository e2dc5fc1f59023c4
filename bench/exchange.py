"""Benchmark: letters between two Saraban deployments, sent to registered receipt (JSON line last).

    .venv/bin/python bench/exchange.py --letters N [--faults] [--kinds sqlite,postgres] [--profile]

Two real deployments on loopback (``tests/exchange/deployments.py``: A on the first kind, B on the
second, each ``saraban serve`` with its worker and exchange pump) pin each other. A prepares N
signed one-page letters to B's organisation (created, approved and signed in batches, PAdES B-B by
default; timed apart, not part of the figures). Then the timed run: A's registry sends them through
the service layer (``send_letter``, in A's process, ``--batch`` letters per snippet) while A's pump
delivers; B's registry clerk registers whatever has arrived, in a loop in B's process, up to
``--select`` letters at once (ลงรับหลายฉบับ, ``inbox.services.register_many``; ``--select 1``: one by
one with ``register``); the signed receipts go back to A.

- ``letters_per_s``: N / (A sees the last registered receipt − the first send), from A's rows
  (``Dispatch.sent_at`` and the ``status_at`` of ``registered``);
- ``receipt_p95_ms``: per letter, its send to A seeing its registered receipt;
- ``delivered``, ``registered_once``, ``duplicates``, ``lost`` (see ``counts``), and
  ``validation_missing`` / ``failed_tasks`` (the receiver's signature reports);
- ``--faults``: B is killed (SIGKILL of its whole process group) and started again every
  ``--fault-every`` seconds while the run lasts (at most ``--fault-window`` seconds), counted from
  when its server answers again (its pump starts seconds later and may be killed before it sends
  anything), or with ``--fault-wait-pump`` from when its pump runs;
- ``internal_letters_per_s`` / ``internal_receipt_p95_ms``: the alternative, the same N letters sent
  within deployment A to a second organisation of it (internal transport), registered the same way
  by its clerk (run after the exchange, not with ``--faults``);
- ``stages_ms``: where a letter's time goes (median and p95 of each step, from the rows' timestamps);
- ``cpu_s``: CPU seconds of each process of both deployments (and their PostgreSQL backends) over
  the timed run, ``cpu_ms_per_letter`` and ``cpu_bound_letters_per_s`` (what the machine's cores
  would give if that work ran perfectly in parallel: comparable between runs on a busy machine);
  ``queries_per_send`` / ``queries_per_register`` and ``postgres_per_letter`` (commits, rows);
- ``--profile`` adds a CPU sampler in every process (``bench/_sampler``) and prints the heaviest
  functions per process before the JSON line; ``--micro`` times each step of a letter alone
  (pack, open, CMS sign/verify, stamp, store) in A's process; ``--timeline`` (always with
  ``--faults``) prints each letter's moments.

The logs of both deployments are copied to a temporary folder (``logs_kept_in``) when they name a
trouble (``log_counts``: tracebacks, deadlocks, locked databases…).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.exchange.deployments import PASSWORD, Deployment, _base_env, _pg, deployments  # noqa: E402
from tests.exchange.network import identity_of, pin_both  # noqa: E402

SAMPLER = ROOT / "bench" / "_sampler"
WARM_UP = 6  # letters sent (and registered) before the timed run

# ---------------------------------------------------------------------------------------------------
# Snippets (run in a deployment's own process through the harness, Django set up, models in scope)

PREPARE = """
import time
from saraban.correspondence.batch import start_batch
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter, issue_number
from saraban.correspondence.workflow import set_recipients, submit_for_review
from saraban.exchange.models import RemoteOrganisation
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import SigningCertificate
org = Organisation.objects.get(identifier=ORG)
officer = Person.objects.get(username=ORG + ".officer")
signer = Person.objects.get(username=ORG + ".signer")
clerk = Person.objects.get(username=ORG + ".registry")
if PEER:
    to = RemoteOrganisation.objects.get(peer__deployment_id=PEER, remote_identifier=TO).organisation
else:
    to = Organisation.objects.get(identifier=TO)
certificate = SigningCertificate.objects.filter(holder=signer, active=True).first() if SIGNING == "pades" else None
if SIGNING == "pades" and certificate is None:
    raise RuntimeError("no certificate for " + signer.username)
t0 = time.perf_counter()
ids = []
for i in range(COUNT):
    content = {
        "type": "external", "subject": f"{SUBJECT} ฉบับที่ {FIRST + i}", "salutation": "เรียน",
        "recipient": "ผู้ว่าราชการจังหวัด", "body": ["ด้วยสำนักงานขอส่งหนังสือฉบับนี้มาเพื่อโปรดทราบ"],
        "closing": "ขอแสดงความนับถือ", "owner_unit": "กองกลาง", "secrecy": "normal", "phone": "0 2283 4000",
        "signer": {"name": signer.name_th, "position": "ผู้อำนวยการ"},
    }
    letter = create_letter(org, content, author=officer)
    set_recipients(letter, [to], [], actor=officer)
    ids.append(submit_for_review(letter, actor=officer, reviewers=[], signer=signer).pk)
t1 = time.perf_counter()
start_batch(signer=signer, organisation=org, letter_ids=ids, proof=SignerProof(PASSWORD), certificate=certificate,
            background=False)
t2 = time.perf_counter()
if SIGNING != "pades":  # a typed-name signature is numbered afterwards by the registry
    for pk in ids:
        issue_number(Letter.objects.get(pk=pk), actor=clerk)
t3 = time.perf_counter()
numbered = Letter.objects.filter(pk__in=ids, status="numbered").count()
if numbered != len(ids):
    raise RuntimeError(f"only {numbered} of {len(ids)} letters are numbered")
result = {"ids": ids, "create_s": t1 - t0, "sign_s": t2 - t1, "number_s": t3 - t2}
"""

SEND = """
import time
from saraban.correspondence.models import Letter
from saraban.exchange.models import Dispatch
from saraban.exchange.services import send_letter
from django.db import connection
from django.test.utils import CaptureQueriesContext
clerk = Person.objects.get(username=ORG + ".registry")
sent = []
for pk in IDS:
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        dispatches = send_letter(Letter.objects.get(pk=pk), actor=clerk)
    ms = (time.perf_counter() - t0) * 1000
    for d in dispatches:
        sent.append({"letter": pk, "dispatch": d.pk, "message_id": str(d.message_id) if d.message_id else None,
                     "send_ms": ms, "queries": len(queries)})
result = sent
"""

# B's registry (or A's second organisation's): register what has arrived until told to stop.
REGISTRAR = """
import time
from pathlib import Path
from saraban.inbox.models import IncomingLetter, IncomingStatus
from django.db import connection
from django.test.utils import CaptureQueriesContext
from saraban.inbox.services import register, register_many
clerk = Person.objects.get(username=ORG + ".registry")
stop = Path(STOP)
waiting = IncomingLetter.objects.filter(organisation__identifier=ORG, status=IncomingStatus.DELIVERED)
waiting = waiting.filter(received_message__isnull=False) if CHANNEL == "exchange" else waiting.filter(
    dispatch__isnull=False)
times, queries, errors, polls, started = [], [], [], 0, time.monotonic()
while not stop.exists() and time.monotonic() - started < DEADLINE_S:
    batch = list(waiting.order_by("pk")[:SELECTION])
    polls += 1
    if not batch:
        time.sleep(0.1)  # the clerk looks again (and this loop costs B no CPU meanwhile)
        continue
    # One at a time (ลงรับ), or the whole selection at once (ลงรับหลายฉบับ): per letter, the mean.
    for selection in ([[i] for i in batch] if SELECTION == 1 else [batch]):
        t0 = time.perf_counter()
        try:
            with CaptureQueriesContext(connection) as captured:
                if SELECTION == 1:
                    register(selection[0], actor=clerk)
                else:
                    register_many(selection, actor=clerk)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        times += [(time.perf_counter() - t0) * 1000 / len(selection)] * len(selection)
        queries += [len(captured) / len(selection)] * len(selection)
result = {"register_ms": times, "register_queries": queries, "errors": errors[:20], "error_count": len(errors),
          "polls": polls}
"""

# Wait until the deployment's worker has run every task queued so far (the signature validations
# of the warm-up letters: the validation worker process starts on the first one).
QUIET = """
import time
started = time.monotonic()
pending = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"])
while pending.exists() and time.monotonic() - started < LIMIT_S:
    time.sleep(0.2)
result = pending.count()
"""

# The sender's view of the dispatches: status and the moments that matter, per dispatch.
SENDER_ROWS = """
import uuid
from saraban.exchange.models import Dispatch, OutgoingMessage, ReceivedMessage
from saraban.exchange.replies import receipt_id
rows = {}
for d in Dispatch.objects.filter(pk__in=DISPATCHES):
    rows[d.pk] = {"status": d.status, "sent_at": d.sent_at.timestamp(), "status_at": d.status_at.timestamp(),
                  "receive_number": d.receive_number, "message_id": str(d.message_id) if d.message_id else None}
if DETAIL:
    by_message = {r["message_id"]: r for r in rows.values() if r["message_id"]}
    for m in OutgoingMessage.objects.filter(kind="letter", message_id__in=list(by_message)):
        r = by_message[str(m.message_id)]
        r |= {"queued_at": m.created_at.timestamp(), "attempt_at": m.last_attempt_at and m.last_attempt_at.timestamp(),
              "answered_at": m.delivered_at and m.delivered_at.timestamp(), "attempts": m.attempts,
              "outbox": m.status, "last_error": m.last_error[:200]}
    wanted = {str(receipt_id(uuid.UUID(k), "registered")): k for k in by_message}
    for message_id, received_at in ReceivedMessage.objects.filter(message_id__in=list(wanted)).values_list(
            "message_id", "received_at"):
        by_message[wanted[str(message_id)]]["receipt_received_at"] = received_at.timestamp()
result = rows
"""

RECEIVER_ROWS = """
from django.db.models import Count
from saraban.exchange.models import OutgoingMessage, ReceivedMessage
from saraban.inbox.models import IncomingLetter
from saraban.registers.models import RegisterEntry
org = Organisation.objects.get(identifier=ORG)
letters = IncomingLetter.objects.filter(organisation=org)
letters = letters.exclude(received_message=None) if CHANNEL == "exchange" else letters.exclude(dispatch=None)
key = "received_message__message_id" if CHANNEL == "exchange" else "dispatch_id"
per_key = {}
for incoming in letters.values(key, "receive_number", "receive_entry_id", "delivered_at", "registered_at",
                                "received_message__received_at", "validation_id"):
    per_key.setdefault(str(incoming[key]), []).append({
        "receive_number": incoming["receive_number"], "entry": incoming["receive_entry_id"],
        "validated": incoming["validation_id"] is not None,
        "delivered_at": incoming["delivered_at"].timestamp(),
        "registered_at": incoming["registered_at"] and incoming["registered_at"].timestamp(),
        "stored_at": stored.timestamp() if (stored := incoming["received_message__received_at"]) else None,
    })
receipts = {}
if CHANNEL == "exchange":
    for m in OutgoingMessage.objects.filter(kind="receipt", receipt_status="registered"):
        receipts[str(m.in_reply_to)] = {
            "queued_at": m.created_at.timestamp(), "attempt_at": m.last_attempt_at and m.last_attempt_at.timestamp(),
            "answered_at": m.delivered_at and m.delivered_at.timestamp(), "attempts": m.attempts, "outbox": m.status,
            "last_error": m.last_error[:200]}
book = RegisterEntry.objects.filter(book__organisation=org, book__kind="receive")
result = {
    "letters": per_key, "receipts": receipts,
    "received_messages": ReceivedMessage.objects.filter(kind="letter").count(),
    "receive_entries": book.count(),
    "duplicate_receive_numbers": book.values("book_id", "number").annotate(n=Count("pk")).filter(n__gt=1).count(),
    "failed_tasks": dict(DBTaskResult.objects.filter(status="FAILED").values_list("task_path").annotate(n=Count("pk"))),
}
"""

# The steps of one letter's journey, each timed alone in A's process (``--micro``): ms per call.
MICRO = """
import datetime as dt, os, time
from saraban.documents.services import read_file, store_file
from saraban.exchange.asic import read_container, Limits
from saraban.exchange.cades import sign_detached, verify_detached
from saraban.exchange.envelope import open_envelope, pack
from saraban.exchange.identity import deployment_identity
from saraban.exchange.models import OutgoingMessage
from saraban.exchange.replies import receipt
from saraban.rendering.stamps import readable_pdf, render_receipt_stamp, stamp_first_page
identity = deployment_identity()
trusted = {identity.fingerprint: identity.deployment_id}
message = OutgoingMessage.objects.filter(kind="letter").order_by("pk").first()
data = read_file(message.container_id)
limits = dict(max_bytes=64 * 1024 * 1024, max_parts=100)
zip_limits = Limits(max_bytes=limits["max_bytes"], max_parts=100, max_uncompressed=2 * limits["max_bytes"])
def timed(fn, n=REPEAT):
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return round((time.perf_counter() - t0) * 1000 / n, 2)
opened = open_envelope(data, trusted=trusted, **limits)
letter = opened.envelope
container = read_container(data, zip_limits)
signature = sign_detached(container.manifest, identity.sealing_key, signing_time=dt.datetime.now(dt.UTC))
answer = receipt(letter, "delivered")
answer_data = pack(answer, identity.sealing_key)
pdf = letter.part(letter.metadata["main_part"]).data
stamp = render_receipt_stamp("สำนักงานจังหวัดเชียงใหม่", 123, dt.datetime.now(dt.UTC))
result = {
    "letter_container_bytes": len(data), "letter_pdf_bytes": len(pdf), "receipt_container_bytes": len(answer_data),
    "pack_letter_ms": timed(lambda: pack(letter, identity.sealing_key)),
    "open_letter_ms": timed(lambda: open_envelope(data, trusted=trusted, **limits)),
    "read_container_ms": timed(lambda: read_container(data, zip_limits)),
    "cms_sign_ms": timed(lambda: sign_detached(container.manifest, identity.sealing_key,
                                               signing_time=dt.datetime.now(dt.UTC))),
    "cms_verify_ms": timed(lambda: verify_detached(container.manifest, signature)),
    "pack_receipt_ms": timed(lambda: pack(receipt(letter, "delivered"), identity.sealing_key)),
    "open_receipt_ms": timed(lambda: open_envelope(answer_data, trusted=[identity.fingerprint], **limits)),
    "render_stamp_ms": timed(lambda: render_receipt_stamp("สำนักงานจังหวัดเชียงใหม่", 123, dt.datetime.now(dt.UTC)), 5),
    "readable_pdf_ms": timed(lambda: readable_pdf(pdf)),
    "stamp_first_page_ms": timed(lambda: stamp_first_page(pdf, stamp), 5),
    "store_file_100k_fsync_ms": timed(lambda: store_file(os.urandom(100_000), "application/octet-stream"), 5),
}
"""


# ---------------------------------------------------------------------------------------------------
# CPU of the deployments' processes, read from /proc while the run lasts


def _clock_ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK"))


def _cpu_of(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / _clock_ticks(), total / _clock_ticks()


class CpuTracker:
    """Polls /proc: the CPU each process of the deployments used (a process that died keeps its last reading)."""

    def __init__(self, deployments_: list[Deployment], interval: float = 0.25) -> None:
        self.deployments = deployments_
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cpu-tracker")

    def _classify(self, pid: int, cmdline: str) -> str | None:
        if cmdline.startswith("postgres:"):
            for d in self.deployments:
                if d.kind == "postgres" and f" {d.database} " in f"{cmdline} ":
                    return f"{d.name}.postgres"
            return None
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return None
        homes = {e.split(b"=", 1)[1].decode(errors="replace") for e in environ if e.startswith(b"SARABAN_HOME=")}
        for d in self.deployments:
            if str(d.home) in homes:
                if "saraban.core.workers" in cmdline:
                    part = "pool"
                elif " serve " in f"{cmdline} ":
                    part = "serve"
                elif "exchange pump" in cmdline:
                    part = "pump"
                elif "db_worker" in cmdline:
                    part = "db_worker"
                elif "django.setup()" in cmdline:
                    part = "console"
                else:
                    part = "other"
                return f"{d.name}.{part}"
        return None

    def poll(self) -> None:
        from tests.processes import processes

        for process in processes():
            if process.state == "Z":
                continue
            if process.pid not in self.role:
                role = self._classify(process.pid, process.cmdline)
                if role is None:
                    continue
                self.role[process.pid] = role
            cpu = _cpu_of(process.pid)
            if cpu is not None:
                self.first.setdefault(process.pid, 0.0 if self._started else cpu)  # new since the start: all of it
                self.last[process.pid] = cpu

    _started = False

    def start(self) -> CpuTracker:
        self.poll()  # what each process had used before the run
        self._started = True
        self.machine_start = _machine_busy()
        self.wall_start = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        self.poll()
        busy, _total = _machine_busy()
        wall = time.monotonic() - self.wall_start
        by_role: dict[str, float] = {}
        for pid, last in self.last.items():
            role = self.role[pid]
            by_role[role] = by_role.get(role, 0.0) + last - self.first.get(pid, 0.0)
        ours = sum(by_role.values())
        machine = busy - self.machine_start[0]
        return {
            "wall_s": round(wall, 2), "deployments_cpu_s": round(ours, 2), "machine_cpu_s": round(machine, 2),
            "others_cpu_s": round(max(machine - ours, 0.0), 2),
            "by_process": {k: round(v, 2) for k, v in sorted(by_role.items(), key=lambda kv: -kv[1])},
        }


# ---------------------------------------------------------------------------------------------------
# The sampler's files (--profile)


def read_samples(directory: Path) -> dict[int, dict[str, Any]]:
    """Every process's sampler totals so far, by pid."""
    found = {}
    for path in directory.glob("*.json"):
        try:
            found[int(path.stem)] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return found


def profile_report(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]],
                   deployments_: list[Deployment], top: int = 14) -> dict[str, Any]:
    """CPU seconds by function during the timed run, per deployment and process kind."""
    homes = {str(d.home): d.name for d in deployments_}
    groups: dict[str, dict[str, dict[str, float]]] = {}
    for pid, data in after.items():
        argv = " ".join(data.get("argv", []))
        part = ("pool" if "core/workers" in argv else "serve" if "serve" in argv
                else "pump" if "exchange" in argv and "pump" in argv else "db_worker" if "db_worker" in argv
                else "console" if argv.startswith("-c") else "other")
        name = f"{homes.get(data.get('home', ''), '?')}.{part}"
        old = before.get(pid, {})
        group = groups.setdefault(name, {"self": {}, "cumulative": {}, "stacks": {}, "cpu": {"total": 0.0}})
        group["cpu"]["total"] += data["cpu_s"] - old.get("cpu_s", 0.0)
        for table in ("self", "cumulative", "stacks"):
            for key, value in data[table].items():
                delta = value - old.get(table, {}).get(key, 0.0)
                if delta > 0:
                    group[table][key] = group[table].get(key, 0.0) + delta
    report: dict[str, Any] = {}
    for name, group in sorted(groups.items(), key=lambda kv: -kv[1]["cpu"]["total"]):
        if group["cpu"]["total"] < 0.05:
            continue
        report[name] = {
            "sampled_cpu_s": round(group["cpu"]["total"], 2),
            "cumulative": {k: round(v, 2) for k, v in sorted(group["cumulative"].items(), key=lambda kv: -kv[1])
                           [:120] if v >= 0.01},
            "self": {k: round(v, 2) for k, v in sorted(group["self"].items(), key=lambda kv: -kv[1])[:top]},
            "stacks": {k: round(v, 2) for k, v in sorted(group["stacks"].items(), key=lambda kv: -kv[1])[:8]},
        }
    return report


# ---------------------------------------------------------------------------------------------------
# The run


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> dict[str, float] | None:
    """Median, p95 and max, rounded to a millisecond."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"p50": round(statistics.median(values)), "p95": round(percentile(values, 95) or 0),
            "max": round(max(values)), "n": len(values)}


def prepare(a: Deployment, *, org: str, to: str, peer: str | None, count: int, signing: str, first: int,
            chunk: int = 50) -> tuple[list[int], dict[str, float]]:
    """``count`` letters from ``org`` to ``to`` (remote at ``peer`` or local), created, signed, numbered."""
    ids: list[int] = []
    times = {"create_s": 0.0, "sign_s": 0.0, "number_s": 0.0}
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        answer = a.query(PREPARE, timeout=900, variables={
            "ORG": org, "TO": to, "PEER": peer or "", "COUNT": n, "SIGNING": signing, "PASSWORD": PASSWORD,
            "SUBJECT": "ขอเชิญประชุมคณะทำงานระบบสารบรรณอิเล็กทรอนิกส์", "FIRST": first + start + 1,
        })
        ids += answer["ids"]
        for key in times:
            times[key] += answer[key]
    return ids, times


def send_batches(a: Deployment, org: str, ids: list[int], batch: int) -> list[dict[str, Any]]:
    """Send ``ids`` from ``org`` in snippets of ``batch`` letters; the dispatches made."""
    sent: list[dict[str, Any]] = []
    for start in range(0, len(ids), batch):
        sent += a.query(SEND, timeout=600, variables={"ORG": org, "IDS": ids[start:start + batch]})
    return sent


def sender_rows(a: Deployment, dispatches: list[int], detail: bool = False) -> dict[int, dict[str, Any]]:
    """The sender's dispatch rows by dispatch id (with the outbox and receipt moments when ``detail``)."""
    rows = a.query(SENDER_ROWS, timeout=300, variables={"DISPATCHES": dispatches, "DETAIL": detail})
    return {int(k): v for k, v in rows.items()}


def wait_registered(a: Deployment, dispatches: list[int], timeout: float,
                    on_poll: Callable[[int], None] | None = None) -> bool:
    """Poll the sender until every dispatch is ``registered`` (False after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = sender_rows(a, dispatches)
        done = sum(1 for r in rows.values() if r["status"] == "registered")
        if on_poll:
            on_poll(done)
        if done == len(dispatches):
            return True
        time.sleep(0.25)
    return False


class Registrar:
    """The recipient's registry clerk: one long snippet in the recipient's process, registering as letters arrive."""

    def __init__(self, d: Deployment, org: str, channel: str, *, fresh: bool = False, deadline_s: float = 3600,
                 selection: int = 1) -> None:
        self.deployment, self.stop_file = d, d.home / f"bench-stop-{channel}"
        self.stop_file.unlink(missing_ok=True)
        self.result: dict[str, Any] = {}
        self.error: BaseException | None = None
        variables = {"ORG": org, "CHANNEL": channel, "STOP": str(self.stop_file), "DEADLINE_S": deadline_s,
                     "SELECTION": selection}

        def run() -> None:
            try:
                self.result = d.query(REGISTRAR, fresh=fresh, timeout=deadline_s + 120, variables=variables)
            except BaseException as exc:  # reported by stop()
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True, name=f"registrar-{d.name}")
        self.thread.start()

    def stop(self) -> dict[str, Any]:
        self.stop_file.touch()
        self.thread.join(300)
        if self.error is not None:
            raise self.error
        return self.result


class Faults:
    """Kill the receiver (SIGKILL of every process of it) and start it again, every ``every`` seconds."""

    def __init__(self, d: Deployment, every: float, window: float, *, wait_pump: bool = False) -> None:
        self.deployment, self.every, self.window, self.wait_pump = d, every, window, wait_pump
        self.kills = 0
        self.restart_s: list[float] = []
        self.pump_ready_s: list[float] = []
        self.events: list[tuple[str, float]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="faults")

    def start(self) -> Faults:
        self.started, self.epoch = time.monotonic(), time.time()
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every) and time.monotonic() - self.started < self.window:
            self.deployment.kill()
            self.kills += 1
            self.events.append(("kill", time.time()))
            began = time.monotonic()
            log = self.deployment.home / "worker.log"
            log_size = log.stat().st_size if log.exists() else 0
            try:
                self.deployment.start()
            except Exception as exc:  # keep going: the run's counts will show what it cost
                self.errors.append(str(exc)[-300:])
                time.sleep(1)
                if not self.deployment.running:
                    self.deployment.start()
            self.restart_s.append(time.monotonic() - began)
            if self.wait_pump:  # up means the pump runs too (it starts seconds after the server answers)
                self.pump_ready_s.append(_wait_for_pump(log, log_size, began))
            self.events.append(("up", time.time()))

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self.thread.join(300)
        if not self.deployment.running:
            self.deployment.start()
        return {"kills": self.kills, "events": [(what, round(at - self.epoch, 1)) for what, at in self.events],
                "restart_s_mean": round(statistics.mean(self.restart_s), 2) if self.restart_s
                else None, "restart_errors": self.errors[:3],
                "pump_ready_s_mean": round(statistics.mean(self.pump_ready_s), 2) if self.pump_ready_s else None}


def _wait_for_pump(log: Path, offset: int, began: float, timeout: float = 90.0) -> float:
    """Seconds from ``began`` until the restarted pump says it runs (its line in worker.log after ``offset``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            with log.open("rb") as f:
                f.seek(offset)
                if b"exchange pump:" in f.read():
                    break
        time.sleep(0.1)
    return time.monotonic() - began


def figures(sent: list[dict[str, Any]], rows: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """letters_per_s and the per-letter latency (send → registered status at the sender)."""
    done = [rows[s["dispatch"]] for s in sent if rows.get(s["dispatch"], {}).get("status") == "registered"]
    first_send = min(r["sent_at"] for r in rows.values())
    if not done:
        return {"letters_per_s": 0.0, "receipt_p95_ms": None, "receipt_p50_ms": None}
    span = max(r["status_at"] for r in done) - first_send
    latencies = [(r["status_at"] - r["sent_at"]) * 1000 for r in done]
    return {"letters_per_s": round(len(done) / span, 2) if span > 0 else None, "span_s": round(span, 2),
            "receipt_p95_ms": round(percentile(latencies, 95) or 0),
            "receipt_p50_ms": round(statistics.median(latencies))}


def counts(sent: list[dict[str, Any]], rows: dict[int, dict[str, Any]], receiver: dict[str, Any],
           key: str) -> dict[str, int]:
    """Exactly-once counts of the timed letters.

    - ``delivered``: letters with an entry in the recipient's inbox;
    - ``registered_once``: letters with exactly one inbox entry holding exactly one receive number, and
      the sender showing ``registered`` with that number;
    - ``duplicates``: extra inbox entries (any letter), receive-book entries beyond one per registered
      letter, and receive numbers given twice;
    - ``lost``: letters sent whose registered status never reached the sender (not delivered, not
      registered, or its receipt did not come back) by the end of the run;
    - ``validation_missing``: letters delivered whose signature report (``validate_received_letter``,
      the recipient's worker) is missing once its queue is empty; ``failed_tasks``: tasks that failed.
    """
    letters = receiver["letters"]
    delivered = registered_once = 0
    for s in sent:
        entries = letters.get(str(s[key]), [])
        delivered += bool(entries)
        numbered = [e for e in entries if e["receive_number"] is not None]
        row = rows.get(s["dispatch"], {})
        if len(entries) == 1 and len(numbered) == 1 and row.get("status") == "registered" and \
                str(row.get("receive_number")) == str(numbered[0]["receive_number"]):
            registered_once += 1
    extra_inbox = sum(len(v) - 1 for v in letters.values() if len(v) > 1)
    registered_total = sum(1 for v in letters.values() for e in v if e["receive_number"] is not None)
    extra_entries = max(0, receiver["receive_entries"] - registered_total)
    lost = sum(1 for s in sent if rows.get(s["dispatch"], {}).get("status") != "registered")
    validated = sum(1 for s in sent if any(e.get("validated") for e in letters.get(str(s[key]), [])))
    return {"delivered": delivered, "registered_once": registered_once, "validation_missing": delivered - validated,
            "failed_tasks": receiver.get("failed_tasks", {}),
            "duplicates": extra_inbox + extra_entries + receiver["duplicate_receive_numbers"], "lost": lost,
            "not_in_inbox": len(sent) - delivered}


def stages(sent: list[dict[str, Any]], rows: dict[int, dict[str, Any]], receiver: dict[str, Any]) -> dict[str, Any]:
    """Where each letter's time went, from the timestamps both sides keep (ms: p50, p95, max)."""
    steps: dict[str, list[float]] = {k: [] for k in (
        "a_send_to_outbox", "a_outbox_wait_for_pump", "http_post_to_b_stored", "b_stored_to_a_answered",
        "b_stored_to_registered", "b_receipt_wait_for_pump", "receipt_post_to_a_stored", "a_receipt_stored_to_status",
        "total")}
    retried = 0
    for s in sent:
        r = rows.get(s["dispatch"], {})
        mid = s["message_id"]
        entries = receiver["letters"].get(mid) or [{}]
        b = entries[0]
        receipt = receiver["receipts"].get(mid, {})

        def gap(later: float | None, earlier: float | None, name: str) -> None:
            if later is not None and earlier is not None:
                steps[name].append((later - earlier) * 1000)

        if r.get("attempts", 1) > 1 or receipt.get("attempts", 1) > 1:
            retried += 1
        gap(r.get("queued_at"), r.get("sent_at"), "a_send_to_outbox")
        if r.get("attempts") == 1:  # the only attempt: its moment is the first one
            gap(r.get("attempt_at"), r.get("queued_at"), "a_outbox_wait_for_pump")
            gap(b.get("stored_at"), r.get("attempt_at"), "http_post_to_b_stored")
        gap(r.get("answered_at"), b.get("stored_at"), "b_stored_to_a_answered")
        gap(b.get("registered_at"), b.get("stored_at"), "b_stored_to_registered")
        if receipt.get("attempts") == 1:
            gap(receipt.get("attempt_at"), receipt.get("queued_at"), "b_receipt_wait_for_pump")
            gap(r.get("receipt_received_at"), receipt.get("attempt_at"), "receipt_post_to_a_stored")
        gap(r.get("status_at"), r.get("receipt_received_at"), "a_receipt_stored_to_status")
        if r.get("status") == "registered":
            gap(r.get("status_at"), r.get("sent_at"), "total")
    out: dict[str, Any] = {k: summary(v) for k, v in steps.items()}
    out["letters_retried"] = retried
    errors: Counter[str] = Counter()
    attempts: Counter[str] = Counter()
    for s in sent:
        letter_row, receipt = rows.get(s["dispatch"], {}), receiver["receipts"].get(s["message_id"], {})
        for side, row in (("letter", letter_row), ("receipt", receipt)):
            attempts[f"{side}:{row.get('attempts')}"] += 1
            if row.get("attempts", 1) > 1 and row.get("last_error"):
                errors[f"{side}: {row['last_error'][:90]}"] += 1
    out["attempts"] = dict(sorted(attempts.items()))
    out["last_errors"] = dict(errors.most_common(6))
    return out


def pg_stats(d: Deployment) -> dict[str, int] | None:
    """PostgreSQL's counters for the deployment's database (None on SQLite)."""
    if d.kind != "postgres":
        return None
    rows = _pg("SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, "
               "tup_deleted FROM pg_stat_database WHERE datname = %s", d.database)
    names = ("commits", "rollbacks", "rows_returned", "rows_fetched", "rows_inserted", "rows_updated", "rows_deleted")
    return dict(zip(names, (int(v) for v in rows[0]), strict=True)) if rows else None


def pg_per_letter(before: dict[str, int] | None, after: dict[str, int] | None, letters: int) -> dict[str, float]:
    """PostgreSQL's counters over the run, per letter."""
    if not before or not after:
        return {}
    return {k: round((after[k] - before[k]) / max(letters, 1), 1) for k in before}


LOG_PATTERNS = ("could not be received", "database is locked", "delivery step failed", "Traceback",
                "OperationalError", " 503 ", "Exception ignored", "BufferError",
                "deadlock detected")


def log_counts(deployments_: list[Deployment]) -> dict[str, dict[str, int]]:
    """How often the deployments' logs (server, worker and pump) name each trouble of ``LOG_PATTERNS``."""
    found: dict[str, dict[str, int]] = {}
    for d in deployments_:
        text = ""
        for path in (d.log_path, d.home / "worker.log"):
            if path.exists():
                text += path.read_text(errors="replace")
        counts_ = {p.strip(): text.count(p) for p in LOG_PATTERNS if text.count(p)}
        if counts_:
            found[d.name] = counts_
    return found


def print_timeline(sent: list[dict[str, Any]], rows: dict[int, dict[str, Any]], receiver: dict[str, Any],
                   epoch: float) -> None:
    """Each letter's moments in seconds from the first send: A sent, queued, last attempt (attempts), B stored,
    registered, B's receipt queued, its last attempt, A stored the receipt, A's status."""
    def at(value: float | None) -> str:
        return f"{value - epoch:7.1f}" if value else "      -"

    print("letter    sent  queued attempt(n)  stored  regist  r.queue r.attempt(n) a.recv  status")
    for s in sent:
        r = rows.get(s["dispatch"], {})
        b = (receiver["letters"].get(s["message_id"]) or [{}])[0]
        q = receiver["receipts"].get(s["message_id"], {})
        print(f"{s['letter']:6d} {at(r.get('sent_at'))} {at(r.get('queued_at'))} {at(r.get('attempt_at'))}"
              f"({r.get('attempts')}) {at(b.get('stored_at'))} {at(b.get('registered_at'))} {at(q.get('queued_at'))}"
              f" {at(q.get('attempt_at'))}({q.get('attempts')}) {at(r.get('receipt_received_at'))}"
              f" {at(r.get('status_at'))} {r.get('status')}")


def keep_logs(deployments_: list[Deployment]) -> Path:
    """Copies of the deployments' logs (they go with their homes at the end), in a new temporary folder."""
    import shutil
    import tempfile

    target = Path(tempfile.mkdtemp(prefix="saraban-bench-exchange-logs-"))
    for d in deployments_:
        (target / d.name).mkdir()
        for path in (d.log_path, d.home / "worker.log", d.home / "console.log"):
            if path.exists():
                shutil.copy(path, target / d.name / path.name)
    return target


def run_exchange(a: Deployment, b: Deployment, options: argparse.Namespace, sample_dir: Path | None) -> dict[str, Any]:
    """Prepare, warm up, and the timed run A → B; the figures and counts."""
    org_a, org_b = a.organisations[0].identifier, b.organisations[0].identifier
    peer = identity_of(b)["deployment"]
    started = time.perf_counter()
    # Warm-up: enough letters at once that every pool worker (validation, rendering) has started.
    warm_ids, _ = prepare(a, org=org_a, to=org_b, peer=peer, count=WARM_UP, signing=options.signing, first=0)
    ids, prep = prepare(a, org=org_a, to=org_b, peer=peer, count=options.letters, signing=options.signing,
                        first=WARM_UP)
    prep_s = time.perf_counter() - started
    print(f"prepared {len(ids)} letters in {prep_s:.1f} s (create {prep['create_s']:.1f} s, "
          f"sign {prep['sign_s']:.1f} s, number {prep['number_s']:.1f} s)", flush=True)

    registrar = Registrar(b, org_b, "exchange", selection=options.select)
    warm = send_batches(a, org_a, warm_ids, options.batch)
    if not wait_registered(a, [w["dispatch"] for w in warm], 120):
        raise RuntimeError("the warm-up letters did not come back registered")
    left = b.query(QUIET, fresh=True, timeout=180, variables={"LIMIT_S": 120})  # b's console is the clerk's
    print(f"warm-up done ({left} tasks still queued at B)", flush=True)

    samples_before = read_samples(sample_dir) if sample_dir else {}
    stats_before = {d.name: pg_stats(d) for d in (a, b)}
    cpu = CpuTracker([a, b]).start()
    faults = Faults(b, options.fault_every, options.fault_window, wait_pump=options.fault_wait_pump).start() \
        if options.faults else None
    t0, epoch = time.perf_counter(), time.time()
    sent = send_batches(a, org_a, ids, options.batch)
    send_s = time.perf_counter() - t0
    print(f"sent {len(sent)} in {send_s:.2f} s ({len(sent) / send_s:.1f}/s in A's process)", flush=True)
    progress = {"last": -1}

    def show(done: int) -> None:
        if done != progress["last"]:
            progress["last"] = done
            print(f"  {time.perf_counter() - t0:6.1f} s: {done}/{len(sent)} registered at A", flush=True)

    finished = wait_registered(a, [s["dispatch"] for s in sent], options.timeout, show)
    wall_s = time.perf_counter() - t0
    fault_report = faults.stop() if faults else None
    cpu_report = cpu.stop()
    time.sleep(1.2)  # PostgreSQL's statistics reach pg_stat_database within a second; the samplers write every one
    stats_after = {d.name: pg_stats(d) for d in (a, b)}  # the samplers write every second
    samples_after = read_samples(sample_dir) if sample_dir else {}
    if faults:  # B stays up now: the leftovers (if any) have time to arrive before counting
        wait_registered(a, [s["dispatch"] for s in sent], 60)
    registered = registrar.stop()
    b.query(QUIET, timeout=180, variables={"LIMIT_S": 120})  # the last letters' signature validations

    rows = sender_rows(a, [s["dispatch"] for s in sent], detail=True)
    receiver = b.query(RECEIVER_ROWS, timeout=300, variables={"ORG": org_b, "CHANNEL": "exchange"})
    if options.faults or options.timeline:
        print_timeline(sent, rows, receiver, epoch)
    result: dict[str, Any] = figures(sent, rows)
    result |= counts(sent, rows, receiver, "message_id")
    result |= {
        "finished": finished, "wall_s": round(wall_s, 2), "send_s": round(send_s, 2),
        "send_ms": summary([s["send_ms"] for s in sent]), "register_ms": summary(registered.get("register_ms", [])),
        "queries_per_send": round(statistics.mean(s["queries"] for s in sent), 1),
        "queries_per_register": round(statistics.mean(registered["register_queries"]), 1)
        if registered.get("register_queries") else None,
        "register_errors": registered.get("error_count", 0), "prepare_s": round(prep_s, 1),
        "prepare_per_letter_ms": {k.removesuffix("_s"): round(v * 1000 / len(ids)) for k, v in prep.items()},
        "stages_ms": stages(sent, rows, receiver), "cpu_s": cpu_report,
        "cpu_ms_per_letter": round(cpu_report["deployments_cpu_s"] * 1000 / max(len(sent), 1)),
        # what 2 idle cores would give if all that work ran in parallel: the bound whatever the load
        "cpu_bound_letters_per_s": round(len(sent) / cpu_report["deployments_cpu_s"] * (os.cpu_count() or 1), 2)
        if cpu_report["deployments_cpu_s"] else None,
    }
    if fault_report:
        result["fault_report"] = fault_report
    result["log_counts"] = log_counts([a, b])
    if result["log_counts"]:
        result["logs_kept_in"] = str(keep_logs([a, b]))
    result["postgres_per_letter"] = {name: per for name in stats_before
                                     if (per := pg_per_letter(stats_before[name], stats_after[name], len(sent)))}
    if registered.get("errors"):
        result["register_error_sample"] = registered["errors"][:3]
    if sample_dir:
        result["profile"] = profile_report(samples_before, samples_after, [a, b])
    return result


def run_internal(a: Deployment, options: argparse.Namespace) -> dict[str, Any]:
    """The alternative: the same N letters within deployment A (internal transport), sent → registered."""
    org, to = a.organisations[0].identifier, a.organisations[1].identifier
    warm_ids, _ = prepare(a, org=org, to=to, peer=None, count=WARM_UP, signing=options.signing, first=10_000)
    ids, _ = prepare(a, org=org, to=to, peer=None, count=options.letters, signing=options.signing,
                     first=10_000 + WARM_UP)
    registrar = Registrar(a, to, "internal", fresh=True, selection=options.select)
    warm = send_batches(a, org, warm_ids, options.batch)
    if not wait_registered(a, [w["dispatch"] for w in warm], 120):
        raise RuntimeError("the internal warm-up letters were not registered")
    a.query(QUIET, timeout=180, variables={"LIMIT_S": 120})
    cpu = CpuTracker([a]).start()
    t0 = time.perf_counter()
    sent = send_batches(a, org, ids, options.batch)
    send_s = time.perf_counter() - t0
    finished = wait_registered(a, [s["dispatch"] for s in sent], options.timeout)
    cpu_report = cpu.stop()
    registered = registrar.stop()
    a.query(QUIET, timeout=180, variables={"LIMIT_S": 120})
    rows = sender_rows(a, [s["dispatch"] for s in sent])
    receiver = a.query(RECEIVER_ROWS, timeout=300, variables={"ORG": to, "CHANNEL": "internal"})
    result = figures(sent, rows)
    c = counts(sent, rows, receiver, "dispatch")
    return {
        "internal_letters_per_s": result["letters_per_s"], "internal_receipt_p95_ms": result["receipt_p95_ms"],
        "internal_finished": finished, "internal_send_s": round(send_s, 2),
        "internal_send_ms": summary([s["send_ms"] for s in sent]),
        "internal_register_ms": summary(registered.get("register_ms", [])),
        "internal_cpu_ms_per_letter": round(cpu_report["deployments_cpu_s"] * 1000 / max(len(sent), 1)),
        "internal_cpu_bound_letters_per_s": round(len(sent) / cpu_report["deployments_cpu_s"] * (os.cpu_count() or 1),
                                                  2) if cpu_report["deployments_cpu_s"] else None,
        "internal_cpu_s": cpu_report,
        "internal_duplicates": c["duplicates"], "internal_lost": c["lost"],
        "internal_validation_missing": c["validation_missing"], "internal_failed_tasks": c["failed_tasks"],
    }


def print_profile(profile: dict[str, Any]) -> None:
    """The heaviest functions per process, as text (before the JSON line)."""
    for name, group in profile.items():
        print(f"\n== {name}: {group['sampled_cpu_s']} CPU s sampled ==")
        print("  cumulative (saraban):")
        shown = 0
        for fn, s in group["cumulative"].items():
            if fn.startswith("saraban/") and shown < 22:
                print(f"    {s:7.2f}  {fn}")
                shown += 1
        print("  self:")
        for fn, s in group["self"].items():
            print(f"    {s:7.2f}  {fn}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--faults", action="store_true", help="kill and restart the receiver during the run")
    parser.add_argument("--kinds", default="sqlite,postgres", help="A's and B's databases")
    parser.add_argument("--batch", type=int, default=20, help="letters sent per snippet in A's process")
    parser.add_argument("--select", type=int, default=20,
                        help="letters the clerk registers at once (register_many); 1: one by one (register)")
    parser.add_argument("--signing", choices=["pades", "typed"], default="pades",
                        help="PAdES B-B with a demo certificate (default) or a typed-name signature")
    parser.add_argument("--fault-every", type=float, default=3.0, help="seconds between a restart and the next kill")
    parser.add_argument("--fault-window", type=float, default=60.0, help="no kill after this many seconds")
    parser.add_argument("--fault-wait-pump", action="store_true",
                        help="count a restart from when B's exchange pump runs, not when its server answers")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the last receipt")
    parser.add_argument("--no-internal", action="store_true", help="skip the within-one-deployment alternative")
    parser.add_argument("--profile", action="store_true", help="sample CPU by function in every process")
    parser.add_argument("--timeline", action="store_true", help="print each letter's moments (always with --faults)")
    parser.add_argument("--micro", action="store_true", help="time each step of a letter alone, in A's process")
    options = parser.parse_args()
    kinds = tuple(k.strip() for k in options.kinds.split(","))
    if len(kinds) != 2 or not set(kinds) <= {"sqlite", "postgres"}:
        parser.error("--kinds is two of sqlite, postgres")

    env: dict[str, str] = {}
    sample_dir: Path | None = None
    if options.profile:
        import tempfile

        sample_dir = Path(tempfile.mkdtemp(prefix="saraban-bench-samples-"))
        env = {"PYTHONPATH": os.pathsep.join([str(SAMPLER), _base_env()["PYTHONPATH"]]),
               "SARABAN_BENCH_SAMPLE_DIR": str(sample_dir), "SARABAN_BENCH_SAMPLE_MS": "10"}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with deployments(2, kinds=kinds, organisations=2, certificates=options.signing == "pades", env=env) as (a, b):
        print(f"deployments up in {time.perf_counter() - started:.1f} s: A {a.kind} {a.url}, B {b.kind} {b.url}",
              flush=True)
        pin_both(a, b)
        result: dict[str, Any] = {"bench": "exchange", "letters": options.letters, "faults": options.faults,
                                  "kinds": list(kinds), "signing": options.signing, "batch": options.batch,
                                  "select": options.select}
        result |= run_exchange(a, b, options, sample_dir)
        if not options.faults and not options.no_internal:
            try:
                result |= run_internal(a, options)
            except Exception as exc:  # the exchange's figures stand; say why the alternative has none
                result["internal_error"] = str(exc)[-1500:]
        if options.micro:
            result["micro_ms"] = a.query(MICRO, timeout=600, variables={"REPEAT": 20})
    result["load_avg_1min_before"] = round(load_before, 2)
    result["load_avg_1min"] = round(os.getloadavg()[0], 2)
    profile = result.pop("profile", None)
    if profile:
        print_profile(profile)
        if sample_dir:
            (sample_dir / "profile.json").write_text(json.dumps(profile, ensure_ascii=False, indent=1))
            print(f"\nprofile written to {sample_dir / 'profile.json'}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
