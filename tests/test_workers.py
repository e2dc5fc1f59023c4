"""Worker processes: started without fork, killed and replaced when they overrun, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from saraban.core.workers import WorkerCrashed, WorkerJobFailed, WorkerPool, WorkerTimeout

from . import worker_jobs
from .processes import alive, children

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def pool() -> WorkerPool:
    made = WorkerPool("test", 2)
    yield made
    made.shutdown()


def test_a_job_runs_in_another_process(pool: WorkerPool) -> None:
    assert pool.run(worker_jobs.square, 7, timeout=5) == 49
    assert pool.run(worker_jobs.pid, timeout=5) != os.getpid()


def test_an_overrunning_worker_is_killed_reaped_and_replaced(pool: WorkerPool) -> None:
    first = pool.run(worker_jobs.pid, timeout=5)
    started = time.monotonic()
    with pytest.raises(WorkerTimeout):
        pool.run(worker_jobs.spin, timeout=0.5)
    assert time.monotonic() - started < 5
    assert not alive(first), "the looping worker is still running (or a zombie)"
    assert first not in pool.pids()
    assert pool.run(worker_jobs.square, 3, timeout=5) == 9  # a fresh worker took its place


def test_a_worker_that_dies_is_replaced(pool: WorkerPool) -> None:
    with pytest.raises(WorkerCrashed, match="exit code 3"):
        pool.run(worker_jobs.die, 3, timeout=5)
    assert pool.run(worker_jobs.square, 4, timeout=5) == 16
    assert not [c for c in children() if c.state == "Z"]


def test_a_failing_job_keeps_its_worker(pool: WorkerPool) -> None:
    before = pool.run(worker_jobs.pid, timeout=5)
    with pytest.raises(WorkerJobFailed, match="ValueError: no good"):
        pool.run(worker_jobs.fail, "no good", timeout=5)
    assert pool.run(worker_jobs.pid, timeout=5) == before


def test_threads_share_the_workers_without_exceeding_the_size(pool: WorkerPool) -> None:
    results: list[int] = []
    seen: set[int] = set()
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(5):
            value = pool.run(worker_jobs.square, n * 10 + i, timeout=30)
            with lock:
                results.append(value)
                seen.update(pool.pids())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == sorted((n * 10 + i) ** 2 for n in range(6) for i in range(5))
    assert len(seen) <= 2


def test_map_keeps_the_order_and_kills_every_worker_on_overrun(pool: WorkerPool) -> None:
    assert pool.map(worker_jobs.square, [(n,) for n in range(20)], timeout=30) == [n * n for n in range(20)]
    held = pool.pids()
    with pytest.raises(WorkerTimeout):
        pool.map(worker_jobs.spin, [(), ()], timeout=0.5)
    assert not any(alive(p) for p in held)
    assert pool.map(worker_jobs.square, [(2,), (3,)], timeout=30) == [4, 9]


def test_workers_retire_after_max_jobs() -> None:
    pool = WorkerPool("retire", 1, max_jobs=3)
    try:
        pids = [pool.run(worker_jobs.pid, timeout=5) for _ in range(4)]
    finally:
        pool.shutdown()
    assert pids[0] == pids[1] == pids[2] != pids[3]
    assert not alive(pids[0])


def test_shutdown_leaves_no_child(pool: WorkerPool) -> None:
    pool.map(worker_jobs.square, [(1,), (2,)], timeout=30)
    pids = pool.pids()
    assert len(pids) == 2
    pool.shutdown()
    assert not any(alive(p) for p in pids)
    assert not {c.pid for c in children()} & set(pids)


def test_workers_do_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = [{str(REPO)!r}, {str(REPO / "src")!r}]
        from saraban.core.workers import WorkerPool
        from tests import worker_jobs
        pool = WorkerPool("orphan", 1)
        print(pool.run(worker_jobs.pid, timeout=30), flush=True)
        time.sleep(60)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert alive(worker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker), "the worker outlived its parent"


def test_no_fork_start_method_in_the_source() -> None:
    offenders = [f"{p}:{n}" for p in (REPO / "src").rglob("*.py")
                 for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
                 if '"fork"' in line or "'fork'" in line or "os.fork(" in line]
    assert not offenders
