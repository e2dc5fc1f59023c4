"""Real Saraban deployments on this machine, for the exchange tests and ``bench/exchange.py``.

Each ``Deployment`` has its own ``SARABAN_HOME`` (a temporary folder), its own database (SQLite in
that folder, or a PostgreSQL database of its own on 127.0.0.1:5432) and its own port on 127.0.0.1,
and runs as ``python -m saraban serve`` (with its worker) in a process group of its own::

    with deployments(2, kinds=("sqlite", "postgres")) as (a, b):
        a.url                                   # http://127.0.0.1:PORT (SARABAN_PUBLIC_URL)
        a.organisation_ids                      # {"a-hq": 1}: the small directory prepare() loaded
        b.query("result = IncomingLetter.objects.count()")   # a snippet in b's env, Django set up
        b.kill(); b.start()                     # a crash (SIGKILL of the whole group), then up again

``deployments(..., proxied=True)`` puts a ``FaultProxy`` in front of each (``d.proxy``) and makes the
proxy's address the deployment's public URL, so peers reach it through the proxy only.
``Deployment(clock_offset="+10m")`` runs one with its clock moved (libfaketime, see ``clock_env``).

Start-up is kept short: every database is a copy of a template migrated once per migration state
and database kind (a SQLite file in the temporary directory, ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL), kept between runs; ``run_python``/``query`` go to one long-lived Python process per
deployment (``fresh=True`` for a new one). Leaving the ``with`` block always kills every process of
every deployment and drops its database, whatever happened in it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import pytest

from ..processes import group_members as _group_members
from .faults import FaultProxy, free_port

__all__ = [
    "PASSWORD", "Deployment", "DeploymentError", "Kind", "Member", "Org", "clock_env", "default_directory",
    "deployments", "faketime_library", "saraban_deployments",
]

Kind = Literal["sqlite", "postgres"]
PASSWORD = "saraban-exchange-2569"  # every person prepare() makes signs in with it (typed-name proof too)
POSTGRES_SERVER = os.environ.get("SARABAN_EXCHANGE_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
SRC = Path(__file__).resolve().parents[2] / "src"
CACHE = Path(tempfile.gettempdir()) / "saraban-exchange-templates"
_DB_PREFIX = "saraban_x_"  # this harness's databases: saraban_x_<pid>_<n>
_TEMPLATE_PREFIX = "saraban_tpl_"


class DeploymentError(RuntimeError):
    """A deployment did not do what the harness asked (the message carries its log's tail)."""


# ---------------------------------------------------------------------------------------------------
# The directory each deployment gets


@dataclasses.dataclass(frozen=True)
class Org:
    """An organisation ``prepare()`` creates (through ``directory.services``)."""

    identifier: str
    name_th: str
    letter_code: str
    name_en: str = ""
    kind: str = "department"
    parent: str = ""  # the identifier of a parent created before it
    address: str = "ถนนราชดำเนินนอก เขตพระนคร กรุงเทพฯ ๑๐๒๐๐"  # ที่ตั้ง, printed on its letters
    phone: str = "0 2283 4000"


@dataclasses.dataclass(frozen=True)
class Member:
    """A person and one role of theirs; a person with several roles is listed once per role."""

    username: str
    name_th: str
    organisation: str  # identifier
    role: str  # directory.models.Role: central_clerk, unit_clerk, officer, reviewer, signer, org_admin…
    position_title: str = ""


# Real-looking organisations, one per deployment in order; names and letter codes are all distinct.
_CATALOGUE = [
    ("สำนักงานปลัดสำนักนายกรัฐมนตรี", "Office of the Permanent Secretary, OPM", "นร 0105", "department"),
    ("สำนักงานจังหวัดเชียงใหม่", "Chiang Mai Provincial Office", "ชม 0017", "provincial_office"),
    ("เทศบาลนครนนทบุรี", "Nakhon Nonthaburi City Municipality", "นบ 52001", "municipality"),
    ("องค์การบริหารส่วนจังหวัดขอนแก่น", "Khon Kaen Provincial Administrative Organisation", "ขก 51001", "pao"),
    ("กรมส่งเสริมการปกครองท้องถิ่น", "Department of Local Administration", "มท 0810", "department"),
]
_PEOPLE = [  # role, position, a first name per deployment
    ("central_clerk", "เจ้าพนักงานธุรการชำนาญงาน", "registry", ["สมใจ", "มาลี", "วันดี", "จันทร์เพ็ญ", "บุษบา"]),
    ("officer", "นักจัดการงานทั่วไปชำนาญการ", "officer", ["ประเสริฐ", "สมชาย", "วิชัย", "อนุชา", "ธนา"]),
    ("signer", "ผู้อำนวยการ", "signer", ["ธีรวัฒน์", "สุรชัย", "ณรงค์", "พิชิต", "กิตติ"]),
]
_SURNAMES = ["รักงาน", "ศรีสวัสดิ์", "ใจดี", "มั่นคง", "สุขสันต์"]


def default_directory(name: str, index: int, organisations: int = 1) -> tuple[list[Org], list[Member]]:
    """The directory of deployment ``name`` (the ``index``-th): ``organisations`` organisations, each with
    a registry clerk (สารบรรณกลาง, ``<org>.registry``), a drafter (``<org>.officer``) and a signer
    (``<org>.signer``). Identifiers start with the deployment's name, so they differ between deployments."""
    orgs: list[Org] = []
    people: list[Member] = []
    for j in range(organisations):
        if j == 0 and index < len(_CATALOGUE):
            name_th, name_en, code, kind = _CATALOGUE[index]
        else:  # ทส: two consonants, as a letter code wants; digits from the deployment and the organisation
            name_th, name_en = f"สำนักงานทดสอบ {name.upper()} แห่งที่ {j + 1}", f"Test office {name.upper()}{j + 1}"
            code, kind = f"ทส {index + 1:02d}{j + 1:02d}", "department"
        ident = f"{name}-hq" if j == 0 else f"{name}-{j + 1}"
        orgs.append(Org(ident, name_th, code, name_en, kind))
        for role, position, short, first_names in _PEOPLE:
            first = first_names[(index + j) % len(first_names)]
            surname = _SURNAMES[(index + 2 * j + len(short)) % len(_SURNAMES)]
            people.append(Member(f"{ident}.{short}", f"{first} {surname}", ident, role, position))
    return orgs, people


_DIRECTORY_SNIPPET = """
import json
from django.db import transaction
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
spec = json.loads(SPEC)
with transaction.atomic():
    orgs = {}
    for o in spec["organisations"]:
        parent_identifier = o.pop("parent", "")
        parent = orgs[parent_identifier] if parent_identifier else None
        orgs[o["identifier"]] = create_organisation(parent=parent, **o)
    people = {}
    for m in spec["people"]:
        person = people.get(m["username"]) or Person.objects.filter(username=m["username"]).first()
        if person is None:
            person = create_person(username=m["username"], name_th=m["name_th"], password=spec["password"],
                                   email=m["username"] + "@exchange.saraban.invalid")
        people[m["username"]] = person
        assign_role(person, Organisation.objects.get(identifier=m["organisation"]), m["role"],
                    position_title=m["position_title"])
if spec["certificates"]:
    from saraban.demo.pki import demo_ca, issue_pkcs12
    from saraban.signatures.registry import register_pkcs12
    ca = demo_ca()
    for m in spec["people"]:
        if m["role"] == "signer":
            org, person = Organisation.objects.get(identifier=m["organisation"]), people[m["username"]]
            data = issue_pkcs12(ca, common_name=m["username"], organisation=org.name_en or org.name_th,
                                email=person.email, password=spec["password"])
            register_pkcs12(organisation=org, holder=person, data=data, password=spec["password"], actor=person,
                            label="ใบรับรองทดสอบ / test certificate")
result = {"organisations": {o.identifier: o.pk for o in Organisation.objects.all()},
          "people": {p.username: p.pk for p in Person.objects.all()}}
"""


# ---------------------------------------------------------------------------------------------------
# Environment, clock, templates


def _base_env() -> dict[str, str]:
    """This process's environment minus everything that would point a deployment elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SARABAN_", "FAKETIME", "PYTEST_", "DJANGO_")) and k != "LD_PRELOAD"}
    # an old tree under test (PYTHONPATH=/tmp/old/src) comes first, this one's src after it
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p] + [str(SRC)]
    env |= {"DJANGO_SETTINGS_MODULE": "saraban.settings", "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
    return env


def faketime_library() -> Path | None:
    """libfaketime's multi-threaded library (Debian's ``faketime`` package), if installed."""
    for candidate in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                      "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
                      "/usr/lib/faketime/libfaketimeMT.so.1"):
        if Path(candidate).exists():
            return Path(candidate)
    return None


# libfaketime 0.9.10 with Python 3.13 and glibc 2.36: with CLOCK_MONOTONIC faked, a lock acquired with
# a time-out waits for ever (sem_clockwait is not translated); with it left alone
# (FAKETIME_DONT_FAKE_MONOTONIC=1), time.sleep fails with EINVAL (clock_nanosleep TIMER_ABSTIME is
# translated wrongly). So the monotonic clock stays true and time.sleep waits in select() instead:
# this sitecustomize is put first on the skewed deployment's PYTHONPATH (and its children inherit it).
_SLEEP_SHIM = '''"""Harness shim for libfaketime (tests/exchange/deployments.py): time.sleep through select()."""
import select as _select
import time as _time

_monotonic = _time.monotonic


def _sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = _monotonic() + seconds
    while True:
        left = deadline - _monotonic()
        if left <= 0:
            return
        _select.select([], [], [], left)


_time.sleep = _sleep
'''


def clock_env(home: Path, offset: str) -> dict[str, str]:
    """The environment that runs a process (and its children) with its wall clock moved by ``offset``.

    ``offset`` is libfaketime's: ``+10m``, ``-90s``, ``+7d``. It is read from ``home/faketime`` (at most a
    second old), so ``Deployment.set_clock`` moves a running deployment's clock without a restart.
    The monotonic clock is not moved (timers and time-outs stay true).
    """
    library = faketime_library()
    if library is None:
        raise DeploymentError("libfaketime is not installed (Debian package faketime) / ไม่มี libfaketime")
    shim = home / "faketime-shim"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "sitecustomize.py").write_text(_SLEEP_SHIM)
    (home / "faketime").write_text(offset + "\n")
    return {"LD_PRELOAD": str(library), "FAKETIME_TIMESTAMP_FILE": str(home / "faketime"),
            "FAKETIME_CACHE_DURATION": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1", "_SARABAN_SHIM": str(shim)}


def _migration_key() -> str:
    """What the migrated schema depends on: every migration file, Django's version and the Python."""
    digest = hashlib.sha256()
    src = Path(_base_env()["PYTHONPATH"].split(os.pathsep)[0]) / "saraban"
    for path in sorted(src.glob("*/migrations/*.py")):
        digest.update(path.relative_to(src).as_posix().encode() + b"\0" + path.read_bytes())
    import django

    digest.update(f"{django.__version__} {sys.version_info[:2]}".encode())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """A lock across processes of this machine (parallel test runs build a template once)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "saraban", "migrate", "--no-input", "-v", "0"], env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise DeploymentError(f"migrate failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


_templates_lock = threading.Lock()


def sqlite_template() -> Path:
    """A migrated SQLite database file for this migration state (built once, kept in ``CACHE``)."""
    key = _migration_key()
    target = CACHE / f"sqlite-{key}.sqlite3"
    with _templates_lock, _locked("sqlite"):
        if target.exists():
            return target
        with tempfile.TemporaryDirectory(prefix="saraban-tpl-") as home:
            _migrate(_base_env() | {"SARABAN_HOME": home})
            partial = CACHE / f".sqlite-{key}.{os.getpid()}.part"
            source, copy = sqlite3.connect(Path(home) / "saraban.sqlite3"), sqlite3.connect(partial)
            with contextlib.closing(source), contextlib.closing(copy):
                _check_nothing_per_deployment(source)
                source.backup(copy)
            partial.replace(target)
        for old in CACHE.glob("sqlite-*.sqlite3"):  # other migration states, unused for a day
            if old != target and time.time() - old.stat().st_mtime > 86400:
                old.unlink(missing_ok=True)
    return target


# Tables a freshly migrated database has rows in. Every copy of the template shares those rows; a
# migration that writes anything else (a deployment's key, an identity) would give every deployment
# the same one, so the template is refused: add the table here only if its rows are the same everywhere.
_SHARED_ROWS = {
    "django_migrations", "sqlite_sequence", "django_content_type", "auth_permission",
    "search_spellingvariant",  # the variant spellings every deployment starts with (editable afterwards)
    "search_searchentry_fts_data", "search_searchentry_fts_config",  # FTS5's own bookkeeping, no entries
}


def _check_nothing_per_deployment(database: sqlite3.Connection) -> None:
    tables = [t for (t,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    filled = [t for t in tables if t not in _SHARED_ROWS
              and database.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]]
    if filled:
        raise DeploymentError(f"the migrated template has rows in {filled}: every deployment copied from it "
                              "would share them (tests/exchange/deployments.py _SHARED_ROWS)")


def _pg(sql: str, *params: object, database: str = "postgres") -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/{database}", autocommit=True, connect_timeout=10) as conn:
        cursor = conn.execute(sql.encode(), params or None)
        return cursor.fetchall() if cursor.description else []


def postgres_template() -> str:
    """The name of a migrated PostgreSQL database for this migration state (built once, kept)."""
    name = f"{_TEMPLATE_PREFIX}{_migration_key()}"
    with _templates_lock, _locked("postgres"):
        if _pg("SELECT 1 FROM pg_database WHERE datname = %s", name):
            return name
        partial = f"{name}_part{os.getpid()}"
        _pg(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{partial}"')
        try:
            with tempfile.TemporaryDirectory(prefix="saraban-tpl-") as home:
                _migrate(_base_env() | {"SARABAN_HOME": home, "SARABAN_DATABASE_URL": f"{POSTGRES_SERVER}/{partial}"})
            _pg(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
            _pg(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')  # nobody writes into the template
        except BaseException:
            _pg(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
            raise
        for (old,) in _pg("SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                          f"{_TEMPLATE_PREFIX}%", name):
            with contextlib.suppress(Exception):  # another run may be copying it right now
                _pg(f'DROP DATABASE "{old}"')
    return name


_sweep_done = False


def _drop_stale_databases() -> None:
    """Drop this harness's databases left by test processes of this machine that died (once per process)."""
    global _sweep_done
    if _sweep_done:
        return
    _sweep_done = True
    host = socket.gethostname()
    rows = _pg("SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname LIKE %s",
               f"{_DB_PREFIX}%")
    for name, comment in rows:
        match = re.fullmatch(r"saraban-exchange host=(\S+) pid=(\d+)", comment or "")
        if match and match[1] == host and not Path(f"/proc/{match[2]}").exists():
            with contextlib.suppress(Exception):
                _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------------
# The long-lived Python process of a deployment (run_python, query)

_CONSOLE = r"""
import contextlib, io, json, os, sys, traceback
import django
django.setup()
from django.apps import apps
from django.db import connections
answers = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8")
models = {}
for model in apps.get_models():
    models.setdefault(model.__name__, model)
once = len(sys.argv) > 2
for line in sys.stdin:
    request = json.loads(line)
    namespace = {"__name__": "__saraban_snippet__", **models, **request.get("globals", {})}
    out = io.StringIO()
    answer = {}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(request["code"], "<snippet>", "exec"), namespace)
        if "result" in namespace:
            answer["result"] = json.dumps(namespace["result"], default=str, ensure_ascii=False)
    except BaseException:
        answer["error"] = traceback.format_exc()
    finally:
        connections.close_all()  # no transaction or snapshot outlives the snippet
    answer["out"] = out.getvalue()
    answers.write(json.dumps(answer, ensure_ascii=False) + "\n")
    answers.flush()
    if once:
        break
"""


class _Console:
    """``python -c _CONSOLE`` in the deployment's env: one snippet at a time over a pipe, answers on another."""

    def __init__(self, env: dict[str, str], log: Path, *, once: bool = False) -> None:
        read_end, write_end = os.pipe()
        self._log = log.open("ab")
        args = [sys.executable, "-c", _CONSOLE, str(write_end), *(["once"] if once else [])]
        self.process = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=self._log,
                                        stderr=self._log, pass_fds=[write_end], start_new_session=True)
        os.close(write_end)
        self._answers = os.fdopen(read_end, "r", encoding="utf-8")
        self.lock = threading.Lock()

    def ask(self, code: str, timeout: float, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        assert self.process.stdin is not None
        request = json.dumps({"code": code, "globals": dict(variables or {})}, ensure_ascii=False) + "\n"
        self.process.stdin.write(request.encode())
        self.process.stdin.flush()
        answer: list[str] = []
        reader = threading.Thread(target=lambda: answer.append(self._answers.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive() or not answer or not answer[0]:
            self.close()
            reader.join(5)
            raise DeploymentError("the snippet did not answer in time, or its process died"
                                  f" / โค้ดไม่ตอบกลับ (timeout {timeout} s)")
        return dict(json.loads(answer[0]))

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        for handle in (self.process.stdin, self._answers, self._log):
            with contextlib.suppress(OSError):
                if handle is not None:
                    handle.close()


# ---------------------------------------------------------------------------------------------------
# A deployment


class Deployment:
    """One Saraban deployment as real processes: its home, database, port and ``saraban serve``."""

    _counter = 0
    _counter_lock = threading.Lock()

    def __init__(self, name: str, *, kind: Kind = "sqlite", root: Path | None = None, index: int = 0,
                 port: int | None = None, public_url: str | None = None, clock_offset: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]*", name):
            raise ValueError("a deployment's name is lower-case letters and digits (it prefixes identifiers)")
        if kind not in ("sqlite", "postgres"):
            raise ValueError(f"unknown database kind {kind!r}")
        self.name, self.kind, self.index = name, kind, index
        self._own_root = root is None
        self.home = Path(tempfile.mkdtemp(prefix=f"saraban-{name}-")) if root is None else root / name
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self._public_url = public_url
        self.proxy: FaultProxy | None = None  # set by deployments(proxied=True)
        with Deployment._counter_lock:
            Deployment._counter += 1
            serial = Deployment._counter
        self.database = f"{_DB_PREFIX}{os.getpid()}_{serial}" if kind == "postgres" else str(
            self.home / "saraban.sqlite3")
        self._extra_env = dict(env or {})
        self.clock_offset = clock_offset
        self.log_path = self.home / "server.log"
        self.organisation_ids: dict[str, int] = {}
        self.person_ids: dict[str, int] = {}
        self.organisations: list[Org] = []
        self.people: list[Member] = []
        self.timings: dict[str, float] = {}  # seconds: database, directory, start (the last one)
        self._server: subprocess.Popen[bytes] | None = None
        self._workers: list[subprocess.Popen[bytes]] = []  # start_worker()'s, each in a group of its own
        self._worker_mode = True
        self._console: _Console | None = None
        self._database_made = False
        self._started_once = False
        self._clock: dict[str, str] = {}
        if clock_offset is not None:
            self._clock = clock_env(self.home, clock_offset)

    def __repr__(self) -> str:
        return f"<Deployment {self.name} {self.kind} {self.direct_url} {'up' if self.running else 'down'}>"

    # -- addresses and environment

    @property
    def direct_url(self) -> str:
        """The server's own address, never through a proxy."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The deployment's public address (``SARABAN_PUBLIC_URL``): its proxy's when it has one."""
        return (self._public_url or self.direct_url).rstrip("/")

    @property
    def database_url(self) -> str | None:
        """``SARABAN_DATABASE_URL`` (``None``: SQLite in the home)."""
        return f"{POSTGRES_SERVER}/{self.database}" if self.kind == "postgres" else None

    @property
    def env(self) -> dict[str, str]:
        """The environment every process of this deployment runs with."""
        env = _base_env() | {"SARABAN_HOME": str(self.home), "SARABAN_PUBLIC_URL": self.url}
        if self.database_url:
            env["SARABAN_DATABASE_URL"] = self.database_url
        if self._clock:
            env |= {k: v for k, v in self._clock.items() if not k.startswith("_")}
            env["PYTHONPATH"] = os.pathsep.join([self._clock["_SARABAN_SHIM"], env["PYTHONPATH"]])
        return env | self._extra_env

    # -- database and directory

    def create_database(self) -> None:
        """This deployment's database, a copy of the migrated template (``prepare`` does it)."""
        started = time.monotonic()
        if self.kind == "sqlite":
            shutil.copyfile(sqlite_template(), self.database)
        else:
            _drop_stale_databases()
            template = postgres_template()
            for attempt in range(20):
                try:
                    _pg(f'CREATE DATABASE "{self.database}" TEMPLATE "{template}"')
                    break
                except Exception as exc:  # another run copying the template at the same moment
                    if "being accessed by other users" not in str(exc) or attempt == 19:
                        raise
                    time.sleep(0.2)
            _pg(f"COMMENT ON DATABASE \"{self.database}\" IS 'saraban-exchange host={socket.gethostname()} "
                f"pid={os.getpid()}'")
        self._database_made = True
        self.timings["database"] = time.monotonic() - started

    def prepare(self, organisations: int | Sequence[Org] = 1, people: Sequence[Member] | None = None, *,
                certificates: bool = False) -> None:
        """Make the database and load a small directory of the deployment's own.

        ``organisations`` is a count (``default_directory``: each with a registry clerk, a drafter and a
        signer) or the organisations themselves (then ``people`` lists who holds which role). With
        ``certificates``, each signer also gets a PKCS#12 certificate under a demo root of this
        deployment (``SARABAN_HOME/demo-pki``; password ``PASSWORD``), registered for signing.
        """
        if not self._database_made:
            self.create_database()
        started = time.monotonic()
        if isinstance(organisations, int):
            orgs, default_people = default_directory(self.name, self.index, organisations)
            members = list(people) if people is not None else default_people
        else:
            orgs, members = list(organisations), list(people or [])
        spec = {"organisations": [dataclasses.asdict(o) for o in orgs],
                "people": [dataclasses.asdict(m) for m in members],
                "password": PASSWORD, "certificates": certificates}
        ids = self.query(_DIRECTORY_SNIPPET, variables={"SPEC": json.dumps(spec, ensure_ascii=False)})
        self.organisations, self.people = orgs, members
        self.organisation_ids, self.person_ids = dict(ids["organisations"]), dict(ids["people"])
        self.timings["directory"] = time.monotonic() - started

    # -- processes

    @property
    def running(self) -> bool:
        """Whether ``saraban serve`` is running (it may not answer yet)."""
        return self._server is not None and self._server.poll() is None

    @property
    def pid(self) -> int | None:
        """The pid of ``saraban serve`` (its process group has the same id)."""
        return self._server.pid if self.running and self._server else None

    def start(self, worker: bool = True, timeout: float = 120.0) -> None:
        """Run ``python -m saraban serve --host 127.0.0.1 --port P`` (``--no-worker`` unless ``worker``) in a
        process group of its own, logging to ``server.log``; return once it answers HTTP."""
        if self.running:
            raise DeploymentError(f"{self.name} is running already")
        if not self._database_made:
            self.prepare()
        self._worker_mode = worker
        started = time.monotonic()
        for attempt in range(3):
            with self.log_path.open("ab") as log:
                log.write(f"\n=== harness: start at {time.strftime('%H:%M:%S')} port {self.port} ===\n".encode())
                args = [sys.executable, "-m", "saraban", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
                self._server = subprocess.Popen([*args, *([] if worker else ["--no-worker"])], env=self.env,
                                                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                                start_new_session=True)
            if self._wait_until_answering(time.monotonic() + timeout):
                self.timings["start"] = time.monotonic() - started
                return
            self._reap_server()
            if not self._started_once and attempt < 2 and "cannot listen" in self.log_tail(5):
                self.port = free_port()  # lost the port to another process before the first start
                continue
            raise DeploymentError(f"{self.name} did not start:\n{self.log_tail()}")

    def _wait_until_answering(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if not self.running:
                return False
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                try:
                    connection.request("GET", "/accounts/login/")
                    connection.getresponse().read()
                finally:
                    connection.close()
                self._started_once = True
                return True
            except OSError:
                time.sleep(0.1)
        if self._server is not None:
            with contextlib.suppress(OSError):
                os.killpg(self._server.pid, signal.SIGKILL)
        return False

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM ``saraban serve`` (it stops its worker and pools) and wait; a kill after ``timeout``.
        Returns its exit code (``None`` when it was not running)."""
        self.stop_workers()
        if self._server is None:
            return None
        code = self._server.poll()
        if code is None:
            self._server.send_signal(signal.SIGTERM)
            try:
                code = self._server.wait(timeout)
            except subprocess.TimeoutExpired:
                code = None
        self._reap_server()
        return code

    def kill(self) -> None:
        """SIGKILL every process of the deployment at once, as a crash would (server, worker, pools)."""
        for process in [self._server, *self._workers]:
            if process is not None:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
        self._reap_workers()
        self._reap_server()

    def restart(self, *, crash: bool = False, worker: bool | None = None) -> None:
        """Stop (or ``crash``: kill) and start again on the same port with the same database."""
        self.kill() if crash else self.stop()
        self.start(self._worker_mode if worker is None else worker)

    def _reap_server(self) -> None:
        """Wait for the server and see its whole group gone (killed if it lingers)."""
        if self._server is None:
            return
        pgid = self._server.pid
        if self._server.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        self._server.wait(30)
        self._server = None
        _wait_group_gone(pgid)

    # -- the worker on its own (to kill the sender's worker but not its web server)

    def worker_pids(self) -> list[int]:
        """The pids of this deployment's background processes, ``db_worker`` and the exchange pump
        (serve's own and ``start_worker``'s)."""
        groups = [p.pid for p in [self._server, *self._workers] if p is not None and p.poll() is None]
        return [pid for g in groups for pid, cmdline in _group_members(g)
                if "db_worker" in cmdline or "exchange pump" in cmdline]

    def kill_worker(self) -> list[int]:
        """SIGKILL the worker processes only (``serve`` does not restart its own: ``start_worker`` or
        ``restart``); returns the pids killed."""
        pids = self.worker_pids()
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self._reap_workers()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{p}").exists() and _state(p) != "Z" for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        return pids

    def start_worker(self) -> None:
        """Start ``python -m saraban db_worker --interval 1`` and ``python -m saraban exchange pump`` beside
        the server (log: ``worker.log``)."""
        with (self.home / "worker.log").open("ab") as log:
            for command in (["db_worker", "--interval", "1"], ["exchange", "pump"]):
                self._workers.append(subprocess.Popen(
                    [sys.executable, "-m", "saraban", *command], env=self.env, stdout=log,
                    stderr=log, stdin=subprocess.DEVNULL, start_new_session=True))

    def stop_workers(self, timeout: float = 30.0) -> None:
        """SIGTERM the workers ``start_worker`` started and wait (a kill after ``timeout``)."""
        for process in self._workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self._workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        self._reap_workers(kill=True)

    def _reap_workers(self, kill: bool = False) -> None:
        for process in list(self._workers):
            if kill and process.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
            if kill or process.poll() is not None:
                process.wait(30)
                _wait_group_gone(process.pid)
                self._workers.remove(process)

    # -- commands and snippets

    def manage(self, *args: str, check: bool = True, timeout: float = 300.0,
               input: str | None = None) -> subprocess.CompletedProcess[str]:
        """``python -m saraban ARGS`` in this deployment's env; output captured (text). With ``check``, a
        non-zero exit raises ``DeploymentError`` naming the output."""
        done = subprocess.run([sys.executable, "-m", "saraban", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, input=input, stdin=None if input else subprocess.DEVNULL)
        if check and done.returncode:
            raise DeploymentError(f"{self.name}: saraban {' '.join(args)} exited {done.returncode}:\n"
                                  f"{done.stdout[-4000:]}{done.stderr[-4000:]}")
        return done

    def run_python(self, code: str, *, fresh: bool = False, timeout: float = 120.0,
                   variables: Mapping[str, Any] | None = None) -> str:
        """Run ``code`` with Django set up in this deployment's env and return what it printed.

        Every model is in scope by its class name (``IncomingLetter``, ``Dispatch``…), as in
        ``saraban shell``, plus ``variables`` (JSON values). It runs in this deployment's long-lived
        Python process (database connections closed after each snippet), or with ``fresh`` in a new
        one. An exception in the snippet raises ``DeploymentError`` with its traceback.
        """
        return str(self._ask(code, fresh, timeout, variables)["out"])

    def query(self, code: str, *, fresh: bool = False, timeout: float = 120.0,
              variables: Mapping[str, Any] | None = None) -> Any:
        """Like ``run_python``; returns the snippet's ``result`` variable (JSON-encoded on the way,
        ``str`` for what JSON lacks: dates, UUIDs)."""
        answer = self._ask(code, fresh, timeout, variables)
        if "result" not in answer:
            raise DeploymentError(f"{self.name}: the snippet set no `result`:\n{code}")
        return json.loads(answer["result"])

    def _ask(self, code: str, fresh: bool, timeout: float, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        if fresh:
            console = _Console(self.env, self.home / "console.log", once=True)
            try:
                answer = console.ask(code, timeout, variables)
            finally:
                console.close()
        else:
            if self._console is None or not self._console.alive():
                if self._console is not None:
                    self._console.close()
                self._console = _Console(self.env, self.home / "console.log")
            with self._console.lock:
                answer = self._console.ask(code, timeout, variables)
        if "error" in answer:
            raise DeploymentError(f"{self.name}: the snippet failed:\n{answer['error']}")
        return answer

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, then of the worker's (``worker.log``)."""
        parts = []
        for path in (self.log_path, self.home / "worker.log"):
            if path.exists():
                text = path.read_bytes()[-200_000:].decode(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ({self.name}) ---\n" + "\n".join(text))
        return "\n".join(parts)

    # -- clock

    def set_clock(self, offset: str, *, wait: bool = True) -> None:
        """Move this deployment's clock, in every process of it: ``+10m``, ``-90s``, ``+7d``, ``+0``.

        Only for a deployment made with ``clock_offset`` (its processes carry libfaketime). Each process
        reads the offset again within two seconds; ``wait`` sleeps those two seconds.
        """
        if not self._clock:
            raise DeploymentError(f"{self.name} was not made with clock_offset= / ไม่ได้เปิดใช้การเลื่อนนาฬิกา")
        partial = self.home / "faketime.part"
        partial.write_text(offset + "\n")
        partial.replace(self.home / "faketime")  # never read half-written
        self.clock_offset = offset
        if wait:
            time.sleep(2.1)

    # -- the end

    def destroy(self) -> None:
        """Kill every process, drop the database and (if the harness made it) remove the home."""
        try:
            self.kill()
        finally:
            if self._console is not None:
                self._console.close()
                self._console = None
            if self.kind == "postgres" and self._database_made:
                _pg(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                self._database_made = False
            if self._own_root:
                shutil.rmtree(self.home, ignore_errors=True)


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2]


def _wait_group_gone(pgid: int, timeout: float = 10.0) -> None:
    """Wait until no live process is left in group ``pgid``; SIGKILL stragglers; fail if any stays."""
    deadline = time.monotonic() + timeout
    while members := _group_members(pgid):
        if time.monotonic() > deadline:
            raise DeploymentError(f"processes of group {pgid} outlived it: {members}")
        if time.monotonic() > deadline - timeout / 2:  # half the time gone: SIGKILL what is left
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------
# Several at once

_NAMES = "abcdefghijklmnopqrstuvwxyz"


def _parallel(function: Callable[[Deployment], object], items: Sequence[Deployment]) -> None:
    with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        for future in [pool.submit(function, d) for d in items]:
            future.result()


@contextlib.contextmanager
def deployments(n: int = 2, kinds: Sequence[Kind] = ("sqlite", "postgres"), *, root: Path | None = None,
                names: Sequence[str] | None = None, organisations: int = 1, certificates: bool = False,
                start: bool = True, worker: bool = True, proxied: bool | Sequence[bool] = False,
                clock_offsets: Sequence[str | None] | None = None,
                env: Mapping[str, str] | None = None) -> Iterator[list[Deployment]]:
    """``n`` deployments, prepared (database + ``default_directory``) and started, side by side.

    ``kinds`` gives each one's database in turn (repeated when shorter than ``n``); names are ``a``,
    ``b``, ``c``… With ``proxied`` (all, or one flag each) a started ``FaultProxy`` stands in front of
    the deployment (``d.proxy``) and is its public URL. ``clock_offsets``: one libfaketime offset (or
    ``None``) each. On leaving, every process is killed, every database dropped and every proxy stopped,
    whatever happened inside.
    """
    chosen = list(names or _NAMES[:n])
    flags = [proxied] * n if isinstance(proxied, bool) else list(proxied)
    offsets = list(clock_offsets or [None] * n)
    made: list[Deployment] = []
    proxies: list[FaultProxy] = []
    try:
        for i in range(n):
            proxy_port = free_port() if flags[i] else None
            deployment = Deployment(chosen[i], kind=kinds[i % len(kinds)], root=root, index=i,
                                    public_url=f"http://127.0.0.1:{proxy_port}" if proxy_port else None,
                                    clock_offset=offsets[i], env=env)
            made.append(deployment)
            if proxy_port:
                deployment.proxy = FaultProxy(deployment, port=proxy_port).start()
                proxies.append(deployment.proxy)
        with ThreadPoolExecutor(max_workers=2) as pool:
            builders = {"sqlite": sqlite_template, "postgres": postgres_template}
            # the templates first, one per kind, in parallel
            for future in [pool.submit(builders[k]) for k in {d.kind for d in made}]:
                future.result()

        def bring_up(deployment: Deployment) -> None:
            """The server starts while the directory loads: its start-up (collectstatic, imports) is the
            longer of the two, and it needs no directory to answer."""
            deployment.create_database()
            if not start:
                deployment.prepare(organisations, certificates=certificates)
                return
            with ThreadPoolExecutor(max_workers=1) as pool:
                server = pool.submit(deployment.start, worker)
                try:
                    deployment.prepare(organisations, certificates=certificates)
                finally:
                    server.result()

        _parallel(bring_up, made)
        yield made
    except BaseException:
        for deployment in made:  # the homes go with the deployments: their logs are shown now
            print(deployment.log_tail(), file=sys.stderr)
        raise
    finally:
        errors = []
        for deployment in made:
            try:
                deployment.destroy()
            except Exception as exc:  # clean up the others all the same
                errors.append(exc)
        for proxy in proxies:
            proxy.stop()
        if errors:
            raise errors[0]


@pytest.fixture
def saraban_deployments(tmp_path: Path) -> Iterator[Callable[..., list[Deployment]]]:
    """A factory of ``deployments(...)`` that lasts the test: ``a, b = saraban_deployments(2)``.

    Homes go under the test's ``tmp_path`` (kept by pytest for a look after a failure); every process
    is killed, every database dropped and every proxy stopped when the test ends. Import it into a
    ``conftest.py`` (``from .deployments import saraban_deployments``) or a test module to use it.
    """
    with contextlib.ExitStack() as stack:
        made = 0

        def make(n: int = 2, kinds: Sequence[Kind] = ("sqlite", "postgres"), **options: Any) -> list[Deployment]:
            nonlocal made
            root = tmp_path / f"deployments-{made}"
            made += 1
            return stack.enter_context(deployments(n, kinds, root=root, **options))

        yield make
