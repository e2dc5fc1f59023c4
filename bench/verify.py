"""Benchmark: validations per second of signed one-page letters, B-B and B-LTA (JSON line last).

Signs examples/letters/external.json once at B-B and once at B-LTA with the test PKI (loopback only),
then validates each file repeatedly with ``verify_pdf`` (B-LTA from its embedded revocation data,
B-B asking the loopback OCSP responder, with the per-file time limit as in production), two ways:

- in this process under an interval timer, as ``saraban verify`` does (``in_process``);
- in the validation workers, as a web request thread or the background worker does: the round trip
  to a long-lived worker process that is killed if it overruns (what replaced forking a child per file).


Usage: ``.venv/bin/python bench/verify.py [--n 50]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
os.environ.setdefault("SARABAN_HOME", tempfile.mkdtemp(prefix="saraban-bench-"))

import django  # noqa: E402

django.setup()

from saraban.signatures.pades.keys import Pkcs12Key  # noqa: E402
from saraban.signatures.pades.sign import sign_pdf  # noqa: E402
from saraban.signatures.pades.verify import verify_pdf  # noqa: E402
from saraban.signatures.trust import load_certificates  # noqa: E402


def main() -> None:
    """Sign the two files, time their validation, print the JSON line last."""
    from tests.signatures.pki import TestPki

    from saraban.correspondence.content import parse_letter_json
    from saraban.rendering.letters import render_letter

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
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
    finally:
        pki.stop()
    print(json.dumps({"bench": "verify", "bb_verify_per_s": round(rates["in_process", "B-B"], 1),
                      "lta_verify_per_s": round(rates["in_process", "B-LTA"], 1),
                      "bb_worker_verify_per_s": round(rates["worker", "B-B"], 1),
                      "lta_worker_verify_per_s": round(rates["worker", "B-LTA"], 1),
                      # other work on the machine shares the core being measured
                      "load_avg_1min": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
