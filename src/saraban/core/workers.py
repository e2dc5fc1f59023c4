"""Long-lived worker processes for work that must be stoppable: validation of foreign PDFs, batch signing.

Why not ``fork``: the server and the worker run threads (waitress request threads, the batch-signing
thread, the daily-jobs thread). Forking such a process copies the locks other threads held at that
moment (logging, SSL, asyncio, multiprocessing's own queues), and the child can wait on one of them
for ever. Workers here are fresh interpreters started with ``subprocess`` (fork+exec in C, nothing of
the parent's threads or locks), once per pool and kept, so the cost of starting one is paid once.

A ``WorkerPool`` hands each job to an idle worker over its own pipe and waits at most the job's time
limit. A worker that overruns or dies is killed, reaped and replaced by a fresh one on next use, and
the caller gets ``WorkerTimeout`` or ``WorkerCrashed``. Jobs are module-level functions and plain
data; nothing goes through a file. ``shutdown_all()`` (also run at exit and by ``saraban serve`` on
SIGTERM) stops every worker of every pool and reaps it: no zombie, no stray child.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any


class WorkerTimeout(Exception):
    """The job did not finish within its time limit; its worker was killed."""


class WorkerCrashed(Exception):
    """The worker died during the job (killed, out of memory, a crash in C code)."""


class WorkerJobFailed(Exception):
    """The job raised an exception in the worker; its type and message are in ``args``."""


def _serve(conn: Connection, warm: str | None) -> None:
    """A worker's main loop: run each ``(function, args)`` received and send back the outcome."""
    # Ctrl+C is for the parent, which stops its workers itself; if the parent dies without doing so
    # (SIGKILL, a crash), Linux kills the worker too, even in the middle of a job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if warm:
        module, _, name = warm.partition(":")
        getattr(importlib.import_module(module), name)()
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        function, args = message
        try:
            outcome: tuple[str, Any] = ("ok", function(*args))
        except BaseException as exc:  # reported to the caller, the worker goes on
            outcome = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # the result could not be pickled
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _die_with_parent() -> None:
    # A watcher thread rather than prctl(PR_SET_PDEATHSIG), which fires when the *thread* that started
    # the worker ends (a batch-signing thread, say), not the parent process.
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Worker:
    """One worker process and the parent's end of its pipe (a socket pair).

    The worker is a new interpreter (``python -m saraban.core.workers``) started with ``subprocess``:
    fork+exec in C, so nothing of this process's threads, locks or main module comes along, and no
    helper process of ``multiprocessing`` either.
    """

    _ids = itertools.count(1)

    def __init__(self, pool_name: str, warm: str | None) -> None:
        self.id = next(self._ids)
        parent_end, child_end = socket.socketpair()
        env = {**os.environ, "SARABAN_WORKER_PATH": json.dumps(sys.path)}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "saraban.core.workers", str(child_end.fileno()), warm or "",
                 f"saraban-{pool_name}-{self.id}"],
                pass_fds=(child_end.fileno(),), env=env, stdin=subprocess.DEVNULL, close_fds=True,
            )
        finally:
            child_end.close()
        self.conn = Connection(parent_end.detach())
        self._ready = False
        self._stopped = False
        self.jobs = 0
        self.retired = False  # stop it when its job is done, do not reuse it

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def submit(self, function: Callable[..., Any], args: Sequence[Any]) -> None:
        """Send one job (the worker must be idle)."""
        self.jobs += 1
        try:
            self.conn.send((function, tuple(args)))
        except (BrokenPipeError, OSError) as exc:
            raise WorkerCrashed(f"worker {self.pid} is gone: {exc}") from None

    def outcome(self, deadline: float) -> Any:
        """The result of the job sent last (``WorkerTimeout`` at ``deadline``, monotonic seconds)."""
        while True:
            try:
                if not self.conn.poll(max(0.0, deadline - time.monotonic())):
                    raise WorkerTimeout()
                kind, value = self.conn.recv()
            except (EOFError, OSError):
                raise WorkerCrashed(f"worker {self.pid} died (exit code {self._exit_code()})") from None
            if kind == "ready":  # sent once when the worker has started and warmed up
                self._ready = True
                continue
            if kind == "error":
                raise WorkerJobFailed(value)
            return value

    def _exit_code(self) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(0.5)
        return self.process.returncode

    def stop(self, *, kill: bool = False, grace: float = 2.0) -> None:
        """End the worker and reap it: ask it to leave, or kill it (always reaped before returning)."""
        if self._stopped:
            return
        self._stopped = True
        if not kill and self.process.poll() is None:
            with contextlib.suppress(Exception):
                self.conn.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        with contextlib.suppress(Exception):
            self.conn.close()


def worker_main(argv: Sequence[str]) -> None:
    """A worker process's entry point: ``python -m saraban.core.workers FD WARM NAME``."""
    fd, warm, _name = int(argv[0]), argv[1], argv[2]
    paths = json.loads(os.environ.pop("SARABAN_WORKER_PATH", "[]"))
    sys.path[:] = [p for p in paths if p] + [p for p in sys.path if p not in paths]
    _serve(Connection(fd), warm or None)


_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


class WorkerPool:
    """Up to ``size`` workers started on demand and kept; each runs one job at a time.

    ``warm`` (``"module:function"``) runs once in each new worker before its first job: imports and
    other setup that does not depend on the job, so a job does not pay for it. A worker that has run
    ``max_jobs`` jobs is retired and a fresh one started when needed, so memory that a job's caches or a
    large input took is given back. Thread-safe: callers from several threads share the workers and
    wait for an idle one.
    """

    def __init__(self, name: str, size: int, *, warm: str | None = None, max_jobs: int | None = None) -> None:
        self.name = name
        self.size = max(1, size)
        self.warm = warm
        self.max_jobs = max_jobs
        self._idle: list[Worker] = []
        self._busy: set[Worker | _Placeholder] = set()
        self._changed = threading.Condition()
        self._closed = False
        self._owner_pid = os.getpid()
        _POOLS.add(self)

    def _acquire(self, wait_s: float | None) -> Worker | None:
        deadline = None if wait_s is None else time.monotonic() + wait_s
        with self._changed:
            worker: Worker | None = None
            while True:
                if self._closed:
                    raise WorkerCrashed(f"the {self.name} pool was shut down")
                if self._idle:
                    worker = self._idle.pop()
                    break
                if len(self._busy) < self.size:  # start one, outside the lock
                    self._busy.add(placeholder := _Placeholder())
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._changed.wait(remaining)
            if worker is not None:
                self._busy.add(worker)
                return worker
        try:
            started = Worker(self.name, self.warm)
        except BaseException:
            with self._changed:
                self._busy.discard(placeholder)
                self._changed.notify()
            raise
        with self._changed:
            self._busy.discard(placeholder)
            self._busy.add(started)
        return started

    def _release(self, worker: Worker, *, broken: bool) -> None:
        if broken:
            worker.stop(kill=True)
        elif worker.retired or (self.max_jobs is not None and worker.jobs >= self.max_jobs):
            worker.stop()
            broken = True  # retired: not put back
        with self._changed:
            self._busy.discard(worker)
            if not broken and not self._closed:
                self._idle.append(worker)
            self._changed.notify()
        if not broken and self._closed:
            worker.stop()

    def run(self, function: Callable[..., Any], *args: Any, timeout: float, start_timeout: float = 60.0,
            retire: Callable[[Any], bool] | None = None) -> Any:
        """Run ``function(*args)`` in a worker within ``timeout`` seconds and return its result.

        Waiting for an idle worker is not counted; a new worker's start-up is allowed
        ``start_timeout`` more. ``WorkerTimeout``, ``WorkerCrashed`` or ``WorkerJobFailed`` otherwise.
        When ``retire(result)`` is true the worker is stopped afterwards (e.g. after a job that left
        it holding much memory) and a fresh one is started when needed.
        """
        worker = self._acquire(None)
        assert worker is not None
        broken = True
        try:
            fresh = not worker._ready
            worker.submit(function, args)
            result = worker.outcome(time.monotonic() + timeout + (start_timeout if fresh else 0.0))
            worker.retired = retire is not None and bool(retire(result))
            broken = False
            return result
        except WorkerJobFailed:
            broken = False
            raise
        finally:
            self._release(worker, broken=broken)

    def map(self, function: Callable[..., Any], jobs: Sequence[Sequence[Any]], *, timeout: float,
            workers: int | None = None, start_timeout: float = 60.0) -> list[Any]:
        """``[function(*job) for job in jobs]`` spread over up to ``workers`` idle workers, in order.

        All the jobs together are allowed ``timeout`` seconds (plus ``start_timeout`` when a worker had
        to be started). One job failing stops the rest and raises, as ``run`` does.
        """
        wanted = max(1, min(workers or self.size, self.size, len(jobs)))
        held: list[Worker] = []
        first = self._acquire(None)
        assert first is not None
        held.append(first)
        while len(held) < wanted:  # take what is free now; do not wait for other callers' workers
            more = self._acquire(0)
            if more is None:
                break
            held.append(more)
        fresh = any(not w._ready for w in held)
        deadline = time.monotonic() + timeout + (start_timeout if fresh else 0.0)
        results: list[Any] = [None] * len(jobs)
        pending = list(enumerate(jobs))
        running: dict[Connection, tuple[Worker, int]] = {}
        broken: set[Worker] = set()
        try:
            for worker in held:
                if pending:
                    index, job = pending.pop(0)
                    worker.submit(function, job)
                    running[worker.conn] = (worker, index)
            while running:
                ready = wait(list(running), timeout=max(0.0, deadline - time.monotonic()))
                if not ready:
                    broken.update(w for w, _ in running.values())
                    raise WorkerTimeout()
                for conn in ready:
                    assert isinstance(conn, Connection)
                    worker, index = running.pop(conn)
                    try:
                        value = worker.outcome(deadline)
                    except WorkerJobFailed:
                        broken.update(w for w, _ in running.values())  # their jobs are abandoned
                        raise
                    except BaseException:
                        broken.add(worker)
                        broken.update(w for w, _ in running.values())
                        raise
                    results[index] = value
                    if pending:
                        index, job = pending.pop(0)
                        worker.submit(function, job)
                        running[worker.conn] = (worker, index)
            return results
        finally:
            for worker in held:
                self._release(worker, broken=worker in broken)

    def run_on_each(self, function: Callable[..., Any], *args: Any, timeout: float = 10.0) -> None:
        """Run ``function(*args)`` once in every idle worker (e.g. to make them forget a key)."""
        with self._changed:
            idle, self._idle = self._idle, []
            self._busy.update(idle)
        for worker in idle:
            broken = True
            try:
                worker.submit(function, args)
                worker.outcome(time.monotonic() + timeout)
                broken = False
            except WorkerJobFailed:
                broken = False
            except (WorkerTimeout, WorkerCrashed):
                pass
            finally:
                self._release(worker, broken=broken)

    def pids(self) -> list[int]:
        """The process ids of this pool's workers."""
        with self._changed:
            workers = [*self._idle, *(w for w in self._busy if isinstance(w, Worker))]
        return [w.pid for w in workers if w.pid is not None]

    def shutdown(self) -> None:
        """Stop and reap every worker; busy ones are killed. The pool starts new ones if used again."""
        if os.getpid() != self._owner_pid:
            return
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = [w for w in self._busy if isinstance(w, Worker)]
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.stop(kill=True)
        with self._changed:
            self._closed = False
            self._changed.notify_all()


class _Placeholder:
    """A slot taken in ``_busy`` while a worker starts (so the pool never exceeds its size)."""


_SHARED: dict[str, WorkerPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(name: str, *, size_setting: str, warm: str, max_jobs: int) -> WorkerPool:
    """This process's pool ``name``, made on first use with ``size_setting`` workers (an environment
    variable; default one per core)."""
    with _SHARED_LOCK:
        pool = _SHARED.get(name)
        if pool is None:
            size = int(os.environ.get(size_setting) or os.cpu_count() or 1)
            pool = _SHARED[name] = WorkerPool(name, size, warm=warm, max_jobs=max_jobs)
        return pool


def worker_pids() -> list[int]:
    """The process ids of every pool's workers in this process."""
    return [pid for pool in list(_POOLS) for pid in pool.pids()]


def shutdown_all() -> None:
    """Stop and reap the workers of every pool of this process."""
    for pool in list(_POOLS):
        pool.shutdown()


atexit.register(shutdown_all)


if __name__ == "__main__":
    worker_main(sys.argv[1:])
