"""Hang hunt: the signing and verification tests, run again and again under full CPU load (JSON line last).

Starts one CPU burner per core (as ``stress --cpu N`` would), then runs the tests that use worker
processes, threads and time limits (parallel batch signing, validation from threads, overrunning
workers, the worker pool itself) ``--runs`` times, each run in a fresh pytest process with a hard
limit. A run that passes the limit is a hang: it is killed, its stacks are dumped first (py-spy is not
needed: pytest-timeout prints every thread's stack), and it is counted.

Usage: ``.venv/bin/python bench/stress_hangs.py [--runs 50] [--limit 300]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    "tests/test_workers.py",
    "tests/signatures/test_batch_signing_speedups.py",
    "tests/signatures/test_negative.py",
    "tests/signatures/test_pades.py",
]
# The tests of those files that start, share, overrun or stop worker processes and threads
# (``--all`` runs the four files whole).
SELECTION = "worker or parallel or thread or overrun or timeout or hang or child or batch or lta"


def burn() -> None:
    """Keep one core busy until killed."""
    while True:
        pass


def main() -> None:
    """Run the tests ``--runs`` times under load and print the JSON line last."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--limit", type=float, default=300.0, help="seconds after which a run counts as hung")
    parser.add_argument("--all", action="store_true", help="run the four test files whole")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    ctx = multiprocessing.get_context("spawn")
    burners = [ctx.Process(target=burn, daemon=True) for _ in range(cores)]
    for b in burners:
        b.start()
    passed = failed = hung = 0
    times: list[float] = []
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                     "--timeout", str(int(args.limit * 0.8)), *TESTS,
                                     *([] if args.all else ["-k", SELECTION])],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                out, _ = proc.communicate(timeout=args.limit)
                outcome = "passed" if proc.returncode == 0 else "failed"
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                outcome = "hung"
            elapsed = time.monotonic() - started
            times.append(elapsed)
            if outcome == "passed":
                passed += 1
            elif outcome == "failed":
                failed += 1
            else:
                hung += 1
            if outcome != "passed" or "Timeout" in out:
                print(out[-6000:], flush=True)
            print(f"run {run}: {outcome} in {elapsed:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        for b in burners:
            b.kill()
            b.join(5)
    print(json.dumps({"bench": "stress_hangs", "runs": args.runs, "passed": passed, "failed": failed,
                      "hung": hung, "burners": cores, "tests": TESTS,
                      "selection": None if args.all else SELECTION,
                      "slowest_run_s": round(max(times), 1) if times else None,
                      "median_run_s": round(sorted(times)[len(times) // 2], 1) if times else None}))


if __name__ == "__main__":
    main()
