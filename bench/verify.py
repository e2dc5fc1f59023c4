"""Benchmark: validations per second of signed one-page letters, B-B and B-LTA (JSON line last).

Signs examples/letters/external.json once at B-B and once at B-LTA with the test PKI (loopback only),
then validates each file repeatedly with ``verify_pdf`` (B-LTA from its embedded revocation data,
B-B asking the loopback OCSP responder, with the per-file time limit as in production), two ways:

- in this process under an interval timer, as ``saraban verify`` does (``in_process``);
- in the validation workers, as a web request thread or the background worker does: the round trip
  to a long-lived worker process that is killed if it overruns (what replaced forking a child per file).

Then the command line: ``saraban verify --help`` (``help_s``, the median of 3 runs) and
``saraban verify`` of the B-B file (``cli_verify_s``, wall and CPU: mostly start-up). Last, every file
of the shared corpus (``../shared/corpus``: ``dss-pades`` and ``pyhanko-pdfs``) through Saraban's
``verify_pdf`` and through stock pyHanko's own validation (as ``pyhanko sign validate``, and with
``--no-strict-syntax``), offline and with fetching, refusing any connection beyond loopback
(``bench/_corpus.py``): per-file max and median seconds, the slowest files.
The goals (issue 9): ``help_s`` under 1 s, every corpus file under 5 s in Saraban.

Usage: ``.venv/bin/python bench/verify.py [--n 50] [--corpus DIR | --no-corpus]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
os.environ.setdefault("SARABAN_HOME", tempfile.mkdtemp(prefix="saraban-bench-"))
os.environ.pop("SARABAN_TRUST_ROOTS", None)  # the corpus is judged with SARABAN_HOME's roots only (none)

import django  # noqa: E402

django.setup()

from saraban.signatures.pades.keys import Pkcs12Key  # noqa: E402
from saraban.signatures.pades.sign import sign_pdf  # noqa: E402
from saraban.signatures.pades.verify import verify_pdf  # noqa: E402
from saraban.signatures.trust import load_certificates, trust_roots  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
SARABAN = [str(ROOT / ".venv/bin/saraban")] if (ROOT / ".venv/bin/saraban").exists() else [
    sys.executable, "-m", "saraban"]


def timed_command(*args: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and exit code of ``saraban ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    code = subprocess.run([*SARABAN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, code


def main() -> None:
    """Sign the two files, time their validation, print the JSON line last."""
    from tests.signatures.pki import TestPki

    from saraban.regulation.content import parse_letter_json
    from saraban.rendering.letters import render_letter

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus of signed PDFs")
    parser.add_argument("--no-corpus", action="store_true", help="only the rates and the command line")
    args = parser.parse_args()
    pdf = render_letter(parse_letter_json(json.loads((ROOT / "examples/letters/external.json").read_text("utf-8"))))
    pki = TestPki(Path(tempfile.mkdtemp(prefix="saraban-bench-pki-"))).start()
    try:
        roots = load_certificates([pki.path("root.cert.pem")])
        key = Pkcs12Key.from_file(pki.path("signer.p12"), "secret")
        signed = {
            "B-B": sign_pdf(pdf, key),
            "B-LTA": sign_pdf(pdf, key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots),
        }
        # The PKI keeps running: a B-B signature carries no revocation data, so its validation asks
        # the loopback OCSP responder (as a receiver's would ask the CA); B-LTA uses what it embeds.
        rates = {}
        for mode, in_process in (("in_process", True), ("worker", False)):
            for level, data in signed.items():
                assert verify_pdf(data, roots, in_process=in_process).passed  # warms the worker up too
                started = time.perf_counter()
                for _ in range(args.n):
                    verify_pdf(data, roots, in_process=in_process)
                rates[mode, level] = args.n / (time.perf_counter() - started)
                print(f"verify {level}, {mode}: {rates[mode, level]:.1f}/s", flush=True)
        help_s = statistics.median(timed_command("verify", "--help")[0] for _ in range(3))
        bb_file = Path(tempfile.mkdtemp(prefix="saraban-bench-cli-")) / "b-b.pdf"
        bb_file.write_bytes(signed["B-B"])
        cli_wall, cli_cpu, cli_code = timed_command("verify", str(bb_file), "--trust", str(pki.path("root.cert.pem")))
        assert cli_code == 0, "saraban verify of the B-B file did not say TOTAL_PASSED"
        print(f"saraban verify --help: {help_s:.2f} s; saraban verify b-b.pdf: {cli_wall:.2f} s "
              f"({cli_cpu:.2f} s CPU)", flush=True)
    finally:
        pki.stop()
    figures = {"bench": "verify", "bb_verify_per_s": round(rates["in_process", "B-B"], 1),
               "lta_verify_per_s": round(rates["in_process", "B-LTA"], 1),
               "bb_worker_verify_per_s": round(rates["worker", "B-B"], 1),
               "lta_worker_verify_per_s": round(rates["worker", "B-LTA"], 1),
               "help_s": round(help_s, 2), "cli_verify_s": round(cli_wall, 2), "cli_verify_cpu_s": round(cli_cpu, 2)}
    if not args.no_corpus:
        from bench._corpus import corpus_files, run_corpus

        files = corpus_files(args.corpus)
        assert files, f"no corpus at {args.corpus} (--corpus DIR, or --no-corpus)"
        figures.update(run_corpus(files, trust_roots()))
    # other work on the machine shares the core being measured
    figures["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
