"""Fixtures shared by the database tests."""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.registers.numbering import forget_cached_books

from .processes import children

# Helpers that live longer than one test on purpose: a browser test module's Playwright driver.
_SESSION_HELPERS = ("playwright", "chrom")


def _stray_children(before: set[int]) -> list[str]:
    from saraban.core.workers import worker_pids

    kept = set(worker_pids())
    return [f"{c.pid} [{c.state}] {c.cmdline[:120]}" for c in children()
            if c.state == "Z" or (c.pid not in before and c.pid not in kept
                                  and not any(h in c.cmdline for h in _SESSION_HELPERS))]


@pytest.fixture(autouse=True)
def _no_stray_child() -> Iterator[None]:
    """No child process the test started outlives it, and none is left a zombie (the pools' workers
    are kept for the next test; they are stopped at the end of the session)."""
    before = {c.pid for c in children()}
    yield
    stray = _stray_children(before)
    deadline = time.monotonic() + 3
    while stray and time.monotonic() < deadline:  # a child that is exiting right now
        time.sleep(0.05)
        stray = _stray_children(before)
    assert not stray, f"child processes outlived the test: {stray}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the worker pools; no child may be left (a worker that would not stop fails the run)."""
    from saraban.core.workers import shutdown_all, worker_pids

    pids = worker_pids()
    shutdown_all()
    left = [c for c in children() if c.pid in pids]
    if left:
        print(f"\nworker processes left after the session: {left}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _fresh_book_cache() -> Iterator[None]:
    """Book ids cached by one test must not leak into the next (its rows are gone)."""
    forget_cached_books()
    yield
    forget_cached_books()


@pytest.fixture(autouse=True)
def _fresh_rate_counters() -> None:
    """Rate-limit and lockout counts of one test never carry into the next (all come from 127.0.0.1)."""
    from django.core.cache import caches

    with contextlib.suppress(Exception):
        caches[getattr(django_settings, "SARABAN_RATE_LIMIT_CACHE", "default")].clear()


@pytest.fixture(autouse=True)
def _ocr_only_where_asked(request: pytest.FixtureRequest, settings: Any) -> None:
    """Scans are read by OCR (seconds a page) only in the tests marked ``ocr``; elsewhere they stay unread."""
    if request.node.get_closest_marker("ocr") is None:
        settings.SARABAN_OCR = {**settings.SARABAN_OCR, "enabled": False}


@pytest.fixture(autouse=True)
def _blob_store_in_tmp(tmp_path: Path, settings: Any) -> Iterator[None]:
    """Files written by a test go to its own temporary folder."""
    from saraban.documents.storage import blob_store

    settings.SARABAN_BLOB_STORE = {
        "BACKEND": "saraban.documents.storage.LocalBlobStore", "OPTIONS": {"root": tmp_path / "blobs"},
    }
    blob_store.cache_clear()
    yield
    blob_store.cache_clear()


@pytest.fixture(autouse=True)
def _allow_flushing_the_audit_trail(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let a transactional test's database be emptied afterwards on SQLite.

    Django empties the database with DELETE on SQLite (TRUNCATE on PostgreSQL, which row triggers
    do not see), and the audit trail's triggers refuse DELETE. This teardown runs before the flush.
    """
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from django.db import connection

    triggers = importlib.import_module("saraban.audit.migrations.0003_append_only")

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for sql in triggers.SQLITE_DROP:
            cursor.execute(sql)
        cursor.execute("DELETE FROM audit_auditevent")
        for sql in triggers.SQLITE:
            cursor.execute(sql)


@pytest.fixture
def ministry(db: None) -> Organisation:
    return create_organisation(
        identifier="opm", kind="ministry", name_th="สำนักนายกรัฐมนตรี", name_en="Office of the Prime Minister",
        letter_code="นร 01", category="opm",
    )


@pytest.fixture
def agency(ministry: Organisation) -> Organisation:
    return create_organisation(
        identifier="opm-ops", parent=ministry, kind="department", name_th="สำนักงานปลัดสำนักนายกรัฐมนตรี",
        name_en="Office of the Permanent Secretary, OPM", letter_code="นร 0105", category="opm",
        address="ทำเนียบรัฐบาล ถนนพิษณุโลก\nเขตดุสิต กรุงเทพมหานคร 10300", phone="0 2283 4000",
        email="saraban@opm.go.th",
    )


@pytest.fixture
def clerk(agency: Organisation) -> Person:
    person = create_person(username="clerk", name_th="นางสาวสมใจ รักงาน", password="x-Pass-1234")
    assign_role(person, agency, "central_clerk", position_title="เจ้าพนักงานธุรการชำนาญงาน")
    assign_role(person, agency, "officer", position_title="เจ้าพนักงานธุรการชำนาญงาน")
    return person


@pytest.fixture
def signer(agency: Organisation) -> Person:
    person = create_person(username="signer", name_th="นายธีรวัฒน์ ศรีสวัสดิ์", password="x-Pass-1234")
    assign_role(person, agency, "signer", position_title="รองปลัดสำนักนายกรัฐมนตรี")
    return person
