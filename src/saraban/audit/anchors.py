"""Anchors of the audit chains outside the database (``saraban audit anchor``, and the daily jobs).

The hash chains reveal any change *inside* a chain, but whoever can write to the database can delete
the newest events of a chain and rewrite its head (``AuditChain``) to match: the shorter chain still
verifies. An anchor is a copy of a chain head kept out of that person's reach: a line appended to the
anchor file (JSON Lines: ``SARABAN_HOME/audit-anchors.jsonl``, or the file the setting
``SARABAN_AUDIT_ANCHORS`` names), fsync'd, and the same line written to the log (logger
``saraban.audit.anchors``). When a time-stamping authority is configured (``SARABAN_PADES["tsa_url"]``,
env ``SARABAN_TSA_URL``), each anchoring run also gets an RFC 3161 timestamp token over its lines,
which proves when those heads existed.

A head line: ``{"type": "head", "database", "run", "chain", "organisation_id", "position", "hash",
"genesis", "anchored_at"}``: ``position`` is the chain's length (the head's sequence number), ``hash``
its head hash, ``genesis`` the hash of its first event. A timestamp line: ``{"type": "timestamp",
"database", "run", "digest", "tsa_url", "token"}``: ``digest`` is the SHA-256 of the run's head lines
(canonical JSON, in file order), the message imprint of ``token`` (DER, base64). A chain whose head has
not moved since its last anchor is not anchored again (unless that anchor still lacks a timestamp a
configured TSA could give it), and a chain whose new events do not follow its last anchor is refused.

``verify_anchors`` (run by ``saraban audit verify``) checks every anchored head of this database: the
chain must still hold an event at that position with that hash, and every timestamp token must cover its
run's lines and come from a TSA under the trust roots. Each anchor names the database it was taken from
(``AuditDatabase``), so the file may also hold the anchors of other databases (a test database, one that
was replaced): those are counted, not checked, unless a chain here starts with the same first event,
which shows that it is this database under a rewritten identity.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import x509
from django.apps import apps
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from .hashing import canonical_json
from .models import AuditChain, AuditDatabase, AuditEvent
from .selectors import ChainBreak, verify_chain

log = logging.getLogger(__name__)
if log.level == logging.NOTSET:  # anchors are written to the log even where the root logger says WARNING
    log.setLevel(logging.INFO)

TSA_TIMEOUT = 10  # seconds for one request to the TSA
_CHUNK = 500  # positions or chains per query


def anchor_path() -> Path:
    """The anchor file: ``SARABAN_AUDIT_ANCHORS`` when set, else ``SARABAN_HOME/audit-anchors.jsonl``."""
    configured = getattr(settings, "SARABAN_AUDIT_ANCHORS", None)
    return Path(configured) if configured else Path(settings.SARABAN_HOME) / "audit-anchors.jsonl"


def configured_tsa_url() -> str:
    """The deployment's time-stamping authority (``SARABAN_PADES["tsa_url"]``), '' when none."""
    config = getattr(settings, "SARABAN_PADES", None) or {}
    return str(config.get("tsa_url") or "")


def database_id(*, create: bool = False) -> str | None:
    """This database's identity in the anchor file (made on first use when ``create``)."""
    found = AuditDatabase.objects.filter(key="this").values_list("uuid", flat=True).first()
    if found is not None or not create:
        return found
    AuditDatabase.objects.bulk_create([AuditDatabase(key="this", uuid=uuid.uuid4().hex)], ignore_conflicts=True)
    return AuditDatabase.objects.values_list("uuid", flat=True).get(key="this")


def organisation_of(chain: str) -> int | None:
    """The organisation a chain key belongs to (``org:<id>``); ``None`` for the deployment-wide chain."""
    if chain.startswith("org:"):
        with contextlib.suppress(ValueError):
            return int(chain[4:])
    return None


def chain_label(chain: str) -> tuple[str, str]:
    """Who a chain belongs to, in English and Thai: "organisation 5 (name)" or the deployment-wide chain."""
    org_id = organisation_of(chain)
    if org_id is None:
        return f"deployment-wide chain {chain}", f"สายโซ่ของทั้งระบบ {chain}"
    # The directory's table, named as a string as the signals name ``api.ApiToken``: the directory
    # records its own changes in the audit trail, so audit (the layer below) does not import it.
    organisations = apps.get_model("directory", "Organisation")
    name = organisations.objects.filter(pk=org_id).values_list("name_th", flat=True).first()
    suffix = f" {name}" if name else ""
    return f"organisation {org_id}{suffix}", f"หน่วยงาน {org_id}{suffix}"


def run_digest(heads: Iterable[dict[str, Any]], algorithm: str = "sha256") -> bytes:
    """The digest a run's timestamp token covers: of the canonical JSON of its head lines, in order."""
    return hashlib.new(algorithm, canonical_json(list(heads)).encode()).digest()


# --- the file ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    number: int
    data: dict[str, Any]


_FIELDS: dict[str, dict[str, type]] = {
    "head": {"database": str, "run": str, "chain": str, "position": int, "hash": str, "genesis": str,
             "anchored_at": str},
    "timestamp": {"database": str, "run": str, "digest": str, "token": str},
    "torn": {"line": int},  # written after a line a crash cut short: that line is not tampering
}


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") not in _FIELDS:
        return None
    for name, kind in _FIELDS[data["type"]].items():
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            return None
    if data["type"] == "head" and data["position"] < 1:
        return None
    return data


@dataclass
class _Contents:
    lines: list[_Line] = field(default_factory=list)  # heads and timestamps
    breaks: list[ChainBreak] = field(default_factory=list)  # unreadable lines
    notes: list[str] = field(default_factory=list)
    torn: int | None = None  # the last line, when a crash cut it short (no end of line)


def _read(path: Path) -> _Contents:
    """The file's heads and timestamps; breaks for unreadable lines, except lines cut short by a crash."""
    contents = _Contents()
    unreadable: list[int] = []
    torn: set[int] = set()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return contents
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            data = _parse(raw)
            if data is None:
                unreadable.append(number)
                if not raw.endswith(b"\n"):
                    contents.torn = number
            elif data["type"] == "torn":
                torn.add(data["line"])
            else:
                contents.lines.append(_Line(number, data))
    for number in unreadable:
        if number in torn or number == contents.torn:
            contents.notes.append(
                f"anchor file line {number} was cut short by an interrupted write and is ignored"
                f" / บรรทัดที่ {number} ของแฟ้มจุดยึดเขียนไม่ครบ (การเขียนถูกขัดจังหวะ) จึงข้ามไป"
            )
        else:
            contents.breaks.append(ChainBreak(
                str(path), number, None, "unreadable anchor line / อ่านบรรทัดจุดยึดนี้ไม่ได้",
                where=f"anchor file line {number}",
            ))
    return contents


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    """The anchor file opened for appending, locked against other anchoring runs (``flock``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if created:  # the new directory entry survives a crash too
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _append(fd: int, lines: list[dict[str, Any]], *, torn: int | None) -> None:
    if torn is not None:  # end the line a crash cut short, and say so
        lines = [{"type": "torn", "line": torn}, *lines]
    data = "".join(canonical_json(line) + "\n" for line in lines).encode()
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        data = b"\n" + data
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


# --- anchoring --------------------------------------------------------------------------------------

@dataclass
class AnchorRun:
    """What one anchoring run did."""

    path: Path
    heads: list[dict[str, Any]] = field(default_factory=list)  # the head lines written now
    unchanged: int = 0  # chains whose head was anchored already
    timestamped: bool = False
    breaks: list[ChainBreak] = field(default_factory=list)  # chains refused: their new events do not verify
    error: str = ""  # why the TSA gave no timestamp (the heads were written all the same)

    def as_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data (kept with the daily task's result)."""
        return {"anchored": len(self.heads), "unchanged": self.unchanged, "timestamped": self.timestamped,
                "broken": [str(b) for b in self.breaks], "error": self.error, "file": str(self.path)}


def anchor_chains(*, tsa_url: str | None = None) -> AnchorRun:
    """Anchor the head of every chain that moved since its last anchor, in the anchor file and the log.

    The events added since a chain's last anchor (all of them, the first time) must verify and follow
    that anchor, otherwise the chain is not anchored and its break is returned. With a TSA (``tsa_url``
    or the configured one) the run's lines get one RFC 3161 timestamp token; when the TSA fails the heads
    are still written and ``error`` says why.
    """
    url = configured_tsa_url() if tsa_url is None else tsa_url
    database = database_id(create=True)
    assert database is not None
    path = anchor_path()
    run = AnchorRun(path=path)
    with _locked(path) as fd:
        contents = _read(path)
        latest: dict[str, dict[str, Any]] = {}
        stamped: set[str] = set()
        for line in contents.lines:
            if line.data["database"] != database:
                continue
            if line.data["type"] == "head":
                latest[line.data["chain"]] = line.data
            else:
                stamped.add(line.data["run"])
        due: list[AuditChain] = []  # heads that moved since their last anchor
        unstamped: list[AuditChain] = []  # heads anchored already, but without the timestamp a TSA can give now
        for head in AuditChain.objects.filter(length__gt=0).order_by("key"):
            last = latest.get(head.key)
            after = (last["position"], last["hash"]) if last is not None else None
            if last is not None and after == (head.length, head.head_hash):
                if url and last["run"] not in stamped:
                    unstamped.append(head)
                else:
                    run.unchanged += 1
                continue
            chain_break = verify_chain(head.key, after=after, until=(head.length, head.head_hash))
            if chain_break is not None:
                log.error("audit chain not anchored, it does not follow its last anchor: %s", chain_break)
                run.breaks.append(chain_break)
                continue
            due.append(head)
        run_id, now = uuid.uuid4().hex, timezone.now().isoformat()
        heads = _heads(database, run_id, now, sorted([*due, *unstamped], key=lambda head: head.key))
        written = list(heads)
        if url and heads:
            try:
                token = _request_timestamp(run_digest(heads), url)
            except Exception as exc:  # the TSA is down: the moved heads are anchored without a timestamp
                run.error = f"{type(exc).__name__}: {exc}"
                log.warning("audit anchors of run %s have no timestamp, the TSA failed: %s", run_id, run.error)
                moved = {head.key for head in due}
                heads = written = [line for line in heads if line["chain"] in moved]
                run.unchanged += len(unstamped)
            else:
                written.append({"type": "timestamp", "database": database, "run": run_id,
                                "digest": run_digest(heads).hex(), "tsa_url": url,
                                "token": base64.b64encode(token).decode("ascii")})
                run.timestamped = True
        if not heads:
            return run
        run.heads = heads
        _append(fd, written, torn=contents.torn)
    for written_head in run.heads:
        log.info("audit anchor: %s", canonical_json(written_head))
    if run.timestamped:
        log.info("audit anchor timestamp: run %s, digest %s, TSA %s", run_id, run_digest(run.heads).hex(), url)
    return run


def _heads(database: str, run_id: str, now: str, heads: list[AuditChain]) -> list[dict[str, Any]]:
    """The anchor file's lines for these chain heads, anchored in one run at ``now``."""
    genesis = _genesis_of(head.key for head in heads)
    return [
        {"type": "head", "database": database, "run": run_id, "chain": head.key,
         "organisation_id": organisation_of(head.key), "position": head.length, "hash": head.head_hash,
         "genesis": genesis.get(head.key, ""), "anchored_at": now}
        for head in heads
    ]


def _request_timestamp(digest: bytes, url: str) -> bytes:
    """An RFC 3161 timestamp token (DER) over ``digest`` (SHA-256) from the TSA at ``url``."""
    from pyhanko.sign import timestamps

    stamper = timestamps.HTTPTimeStamper(url, timeout=TSA_TIMEOUT)
    token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
    return bytes(token.dump())


def _genesis_of(chains: Iterable[str]) -> dict[str, str]:
    """The hash of each chain's first event."""
    keys = sorted(set(chains))
    found: dict[str, str] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = AuditEvent.objects.filter(chain__in=keys[start:start + _CHUNK], position=1)
        found.update(rows.values_list("chain", "hash"))
    return found


# --- verifying --------------------------------------------------------------------------------------

@dataclass
class AnchorReport:
    """What checking the anchor file found."""

    path: Path
    checked: int = 0  # anchored heads of this database, checked against the chains
    other_databases: int = 0  # anchored heads of other databases, not checked
    timestamps: int = 0  # timestamp tokens verified, up to a trusted TSA
    untrusted: int = 0  # tokens that match but whose TSA could not be checked (no trust roots)
    breaks: list[ChainBreak] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify_anchors(path: Path | None = None) -> AnchorReport:
    """Check every anchored head of this database against its chain, and every timestamp token."""
    path = path or anchor_path()
    report = AnchorReport(path=path)
    contents = _read(path)
    lines, report.breaks, report.notes = contents.lines, contents.breaks, contents.notes
    heads = [line for line in lines if line.data["type"] == "head"]
    ours = _our_databases(heads)
    mine = [line for line in heads if line.data["database"] in ours]
    report.checked, report.other_databases = len(mine), len(heads) - len(mine)
    by_chain: dict[str, list[_Line]] = {}
    for line in mine:
        by_chain.setdefault(line.data["chain"], []).append(line)
    for chain, anchored in sorted(by_chain.items()):
        chain_break = _check_chain(chain, anchored)
        if chain_break is not None:
            report.breaks.append(chain_break)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for line in mine:
        runs.setdefault((line.data["database"], line.data["run"]), []).append(line.data)
    stamps = [line for line in lines if line.data["type"] == "timestamp" and line.data["database"] in ours]
    if stamps:
        # The second import goes upward on purpose (an exception listed in pyproject's import contract):
        # the deployment's trust roots are signatures', and signatures records audit events.
        from saraban.core.errors import SarabanError
        from saraban.signatures.trust import trust_roots

        try:
            roots = trust_roots()
        except SarabanError as exc:
            report.breaks.append(ChainBreak(str(path), stamps[0].number, None, str(exc), where="trust roots"))
            return report
        for line in stamps:
            _check_timestamp(path, line, runs.get((line.data["database"], line.data["run"]), []), roots, report)
    return report


def _our_databases(heads: list[_Line]) -> set[str]:
    own = database_id()
    ours = {own} if own is not None else set()
    foreign = [line for line in heads if line.data["database"] not in ours]
    if foreign:
        genesis = _genesis_of(line.data["chain"] for line in foreign)
        ours |= {line.data["database"] for line in foreign
                 if line.data["genesis"] and genesis.get(line.data["chain"]) == line.data["genesis"]}
    return ours


def _check_chain(chain: str, anchored: list[_Line]) -> ChainBreak | None:
    """The first anchored head (lowest position) the chain no longer holds, or ``None``."""
    positions = sorted({line.data["position"] for line in anchored})
    found: dict[int, tuple[str, int]] = {}
    for start in range(0, len(positions), _CHUNK):
        rows = AuditEvent.objects.filter(chain=chain, position__in=positions[start:start + _CHUNK])
        found.update((position, (digest, pk)) for position, digest, pk in rows.values_list("position", "hash", "id"))
    for line in sorted(anchored, key=lambda line: (line.data["position"], line.number)):
        position, at = line.data["position"], line.data["anchored_at"]
        where = f"anchor file line {line.number}, anchored {at}"
        if position not in found:
            end = AuditEvent.objects.filter(chain=chain).aggregate(end=Max("position"))["end"] or 0
            en, th = chain_label(chain)
            return ChainBreak(chain, position, None, where=where, reason=(
                f"{en}: anchored head #{position} is missing, the chain now ends at #{end}"
                f" / {th}: ไม่พบเหตุการณ์ลำดับที่ {position} ที่ยึดไว้ สายโซ่เหลือถึงลำดับที่ {end}"
            ))
        if found[position][0] != line.data["hash"]:
            en, th = chain_label(chain)
            return ChainBreak(chain, position, found[position][1], where=where, reason=(
                f"{en}: event #{position} differs from its anchor"
                f" / {th}: เหตุการณ์ลำดับที่ {position} ไม่ตรงกับจุดยึด"
            ))
    return None


def _check_timestamp(
    path: Path, line: _Line, heads: list[dict[str, Any]], roots: list[x509.Certificate], report: AnchorReport
) -> None:
    def broken(en: str, th: str) -> None:
        report.breaks.append(ChainBreak(
            str(path), line.number, None, f"{en} / {th}", where=f"timestamp of anchor run {line.data['run']}",
        ))

    if not heads or line.data["digest"] != run_digest(heads).hex():
        broken("the anchors this timestamp covers were changed or removed",
               "จุดยึดที่ตราประทับเวลานี้รับรองไว้ถูกแก้ไขหรือลบ")
        return
    payload = canonical_json(heads).encode()
    try:
        status = _validate_token(base64.b64decode(line.data["token"], validate=True), payload, roots)
    except Exception as exc:  # not DER, not a timestamp token, …
        broken(f"unreadable timestamp token ({type(exc).__name__}: {exc})", "อ่านตราประทับเวลาไม่ได้")
        return
    if not status["intact"] or not status["valid"]:
        broken("the timestamp token does not match its anchors or its signature is invalid",
               "ตราประทับเวลาไม่ตรงกับจุดยึด หรือลายมือชื่อของตราประทับเวลาไม่ถูกต้อง")
    elif status["trust_problem_indic"] is None:
        report.timestamps += 1
    elif roots:
        broken(f"the timestamp's TSA is not trusted ({status['trust_problem_indic']})",
               "หน่วยประทับรับรองเวลาของตราประทับเวลานี้ไม่อยู่ภายใต้ใบรับรองหลักที่เชื่อถือ")
    else:
        report.untrusted += 1
        report.notes.append(
            f"the timestamp of anchor run {line.data['run']} matches its anchors, but no trust roots are configured"
            " to check its TSA (SARABAN_TRUST_ROOTS) / ตราประทับเวลาตรงกับจุดยึด แต่ยังไม่ได้กำหนดใบรับรองหลัก"
            "ที่เชื่อถือเพื่อตรวจหน่วยประทับรับรองเวลา"
        )


def _validate_token(token: bytes, payload: bytes, roots: list[x509.Certificate]) -> dict[str, Any]:
    """pyHanko's status of a timestamp token over ``payload``, checked at its own time, offline."""
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    signed = cms.ContentInfo.load(token)["content"]
    moment = signed["encap_content_info"]["content"].parsed["gen_time"].native

    async def validate() -> dict[str, Any]:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail",
                                    moment=moment)
        try:
            return dict(await validate_tst_signed_data(
                signed, context, lambda algorithm: hashlib.new(algorithm, payload).digest(),
            ))
        finally:
            await context.aclose()

    return asyncio.run(validate())
