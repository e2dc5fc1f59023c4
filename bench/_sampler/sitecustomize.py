"""A small in-process CPU sampler for ``bench/exchange.py --profile`` (py-spy is not installed here).

Put this directory first on a deployment's ``PYTHONPATH`` with ``SARABAN_BENCH_SAMPLE_DIR`` set, and
every Python process of that deployment (``saraban serve``, its pump and worker, the harness's
console) starts a daemon thread that, every ``SARABAN_BENCH_SAMPLE_MS`` (default 10 ms), looks at the
stack of each other thread and weighs it by the CPU time that thread used since the last look
(``/proc/self/task/TID/schedstat``, nanoseconds). So a thread waiting on a socket, a lock or the
database weighs nothing, and the totals are CPU seconds by function (leaf, "self") and by every
function on the stack ("cumulative"). The totals are written to ``DIR/<pid>.json`` every two seconds
(a process killed with SIGKILL loses at most the last two) and at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

_DIR = os.environ.get("SARABAN_BENCH_SAMPLE_DIR", "")


def _where(frame) -> str:  # type: ignore[no-untyped-def]
    code = frame.f_code
    path = code.co_filename
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path.removesuffix('.py')}:{code.co_name}"


def _runtime_ns(tid: int) -> int:
    try:
        with open(f"/proc/self/task/{tid}/schedstat", "rb") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class _Sampler:
    def __init__(self, directory: Path, interval: float) -> None:
        self.path = directory / f"{os.getpid()}.json"
        self.interval = interval
        self.self_ns: Counter[str] = Counter()
        self.cum_ns: Counter[str] = Counter()
        self.stacks: Counter[str] = Counter()
        self.last: dict[int, int] = {}
        self.total_ns = 0
        self.started = time.time()
        self.lock = threading.Lock()

    def sample(self) -> None:
        me = threading.get_ident()
        natives = {t.ident: t.native_id for t in threading.enumerate() if t.native_id is not None}
        frames = sys._current_frames()
        frame = None
        for ident, frame in list(frames.items()):
            if ident == me or ident not in natives:
                continue
            tid = natives[ident]
            now = _runtime_ns(tid)
            used = now - self.last.get(tid, now)
            self.last[tid] = now
            if used <= 0:
                continue
            names: list[str] = []
            while frame is not None and len(names) < 80:
                names.append(_where(frame))
                frame = frame.f_back
            with self.lock:
                self.total_ns += used
                self.self_ns[names[0]] += used
                for name in set(names):
                    self.cum_ns[name] += used
                ours = [n for n in names if n.startswith("saraban/")][:6]
                self.stacks[" < ".join([names[0], *ours])] += used
        del frames, frame  # hold no other thread's frame longer than the walk

    def dump(self) -> None:
        with self.lock:
            data = {
                "pid": os.getpid(), "argv": sys.argv, "home": os.environ.get("SARABAN_HOME", ""),
                "started": self.started, "written": time.time(), "cpu_s": self.total_ns / 1e9,
                "self": {k: v / 1e9 for k, v in self.self_ns.most_common(60)},
                "cumulative": {k: v / 1e9 for k, v in self.cum_ns.most_common(150)},
                "stacks": {k: v / 1e9 for k, v in self.stacks.most_common(40)},
            }
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(data, ensure_ascii=False))
        partial.replace(self.path)

    def run(self) -> None:
        next_dump = time.monotonic() + 2
        while True:
            time.sleep(self.interval)
            try:
                self.sample()
                if time.monotonic() >= next_dump:
                    self.dump()
                    next_dump = time.monotonic() + 2
            except Exception:  # never disturb the process being measured
                pass


if _DIR:
    _directory = Path(_DIR)
    _directory.mkdir(parents=True, exist_ok=True)
    _sampler = _Sampler(_directory, float(os.environ.get("SARABAN_BENCH_SAMPLE_MS", "10")) / 1000)
    threading.Thread(target=_sampler.run, name="bench-sampler", daemon=True).start()
    atexit.register(_sampler.dump)
