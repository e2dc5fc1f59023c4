"""Benchmark: PAdES B-B and B-LTA signatures per second for a one-page letter (JSON line last).

Runs the test PKI on 127.0.0.1 in its own process: certomancer's Animator for OCSP and CRLs, and
``bench/_tsa.py``'s RFC 3161 responder (the test PKI's TSA key and certificate, HTTP/1.1 keep-alive)
as the loopback TSA. Renders examples/letters/external.json once, then times:
- stock: ``pyhanko.sign.signers.sign_pdf`` called the default way (``SimpleSigner.load_pkcs12``),
- Saraban B-B: ``PadesSigner.sign_many`` in one process, and ``sign_many_parallel`` with one worker
  process per core,
- Saraban B-LTA: the same with the loopback TSA and the revocation data.
Every measured batch is checked afterwards (outside the timing): its first, middle and last letters must
validate TOTAL_PASSED at the level asked, with the signature covering the whole file before the LTA
update; the revocation fetches the PKI served are counted (they are per worker, not per letter).

Usage: ``.venv/bin/python bench/sign.py [--n 200] [--lta-n 100]``
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import multiprocessing.synchronize
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
os.environ.setdefault("SARABAN_HOME", tempfile.mkdtemp(prefix="saraban-bench-"))

import django  # noqa: E402

django.setup()

from saraban.signatures.pades.keys import Pkcs12Key  # noqa: E402
from saraban.signatures.pades.sign import PadesSigner  # noqa: E402
from saraban.signatures.trust import load_certificates  # noqa: E402


def render_letter_pdf() -> bytes:
    """The one-page example letter as PDF."""
    from saraban.regulation.content import parse_letter_json
    from saraban.rendering.letters import render_letter

    data = json.loads((ROOT / "examples/letters/external.json").read_text("utf-8"))
    return render_letter(parse_letter_json(data))


def serve_pki(out_dir: str, ready: multiprocessing.synchronize.Event, stop: multiprocessing.synchronize.Event,
              ports: Any, fetches: Any) -> None:
    """Child process: run the test PKI and the fast TSA until told to stop; count revocation fetches."""
    sys.path.insert(0, str(ROOT / "bench"))
    from tests.signatures.pki import TRUSTED_ARCH, TestPki

    from _tsa import FastTimeStamper, FastTsaServer

    pki = TestPki(Path(out_dir)).start()
    assert pki._server is not None
    animator = pki._server.app

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if "/ocsp/" in path or "/crls/" in path:
            with fetches.get_lock():
                fetches.value += 1
        return animator(environ, start_response)

    pki._server.app = counting
    tsa = FastTsaServer(FastTimeStamper.for_arch(pki.archs[TRUSTED_ARCH]))
    ports[0], ports[1] = pki.port, tsa.port
    ready.set()
    stop.wait()
    tsa.stop()
    pki.stop()


def check(outputs: list[bytes], pdf: bytes, level: str, roots: list[Any]) -> None:
    """The first, middle and last letters of a measured batch are complete, valid signed PDFs at ``level``."""
    from saraban.signatures.pades.report import Indication
    from saraban.signatures.pades.verify import verify_pdf

    for out in (outputs[0], outputs[len(outputs) // 2], outputs[-1]):
        assert out.startswith(pdf), "not an incremental update of the letter"
        report = verify_pdf(out, roots)
        assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
        signature = report.signatures[0]
        assert signature.level == level, signature.level
        if level == "B-LTA":
            assert signature.covers in ("entire_file", "entire_revision"), signature.covers
            assert report.signatures[-1].kind == "document_timestamp"
        else:
            assert signature.covers == "entire_file", signature.covers


def rate_one_process(n: int, p12: str, level: str, tsa: str | None, roots: list[Any],
                     pdf: bytes) -> tuple[float, float]:
    """Signatures per second in this process (after one warm-up letter: key, revocation data, TSA),
    and this process's CPU milliseconds per letter (the TSA's share runs in the PKI process)."""
    with PadesSigner(Pkcs12Key.from_file(p12, "secret"), level=level,  # type: ignore[arg-type]
                     tsa_url=tsa, trust_roots=roots) as session:
        session.sign(pdf)
        started, cpu = time.perf_counter(), time.process_time()
        outputs = session.sign_many([pdf] * n)
        rate = n / (time.perf_counter() - started)
        cpu_ms = (time.process_time() - cpu) * 1000 / n
    check(outputs, pdf, level, roots)
    return rate, cpu_ms


def rate_per_core(n: int, p12: str, level: str, tsa: str | None, roots: list[Any], pdf: bytes, cores: int) -> float:
    """Signatures per second with one worker process per core (wall clock, after each worker's warm-up)."""
    with PadesSigner(Pkcs12Key.from_file(p12, "secret"), level=level,  # type: ignore[arg-type]
                     tsa_url=tsa, trust_roots=roots) as session:
        session.sign_many_parallel([pdf] * (cores * 4), processes=cores)  # fork the workers, warm them up
        started = time.perf_counter()
        outputs = session.sign_many_parallel([pdf] * n, processes=cores)
        rate = n / (time.perf_counter() - started)
    check(outputs, pdf, level, roots)
    return rate


def rate_stock(n: int, p12: str, pdf: bytes) -> float:
    """Stock pyHanko B-B, the default way: ``SimpleSigner.load_pkcs12`` + ``signers.sign_pdf``."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(p12, passphrase=b"secret")
    assert signer is not None
    meta = signers.PdfSignatureMetadata(field_name="Signature1")
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    started = time.perf_counter()
    for _ in range(n):
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return n / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark and print the JSON line last."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="B-B signatures per measurement")
    parser.add_argument("--lta-n", type=int, default=100, help="B-LTA signatures per measurement")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]  # other work on the machine shares the cores being measured
    out = tempfile.mkdtemp(prefix="saraban-bench-pki-")
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    ports, fetches = ctx.Array("i", 2), ctx.Value("i", 0)
    server = ctx.Process(target=serve_pki, args=(out, ready, stop, ports, fetches), daemon=True)
    server.start()
    try:
        if not ready.wait(60):
            raise SystemExit("the test PKI did not start")
        p12 = f"{out}/signer.p12"
        roots = load_certificates([f"{out}/root.cert.pem"])
        tsa = f"http://127.0.0.1:{ports[1]}/tsa"
        pdf = render_letter_pdf()
        stock = rate_stock(max(args.n // 4, 10), p12, pdf)
        print(f"stock pyHanko B-B, one process: {stock:.1f}/s", flush=True)
        bb_one, bb_cpu = rate_one_process(args.n, p12, "B-B", None, roots, pdf)
        print(f"Saraban B-B, one process: {bb_one:.1f}/s ({bb_cpu:.1f} ms CPU per letter)", flush=True)
        bb_batch = rate_per_core(args.n, p12, "B-B", None, roots, pdf, cores)
        print(f"Saraban B-B, {cores} processes: {bb_batch:.1f}/s", flush=True)
        before = fetches.value
        lta_one, lta_cpu = rate_one_process(args.lta_n, p12, "B-LTA", tsa, roots, pdf)
        print(f"Saraban B-LTA (loopback TSA), one process: {lta_one:.1f}/s ({lta_cpu:.1f} ms CPU per letter, "
              f"{fetches.value - before} OCSP/CRL fetches for {args.lta_n + 1} letters)", flush=True)
        before = fetches.value
        lta_batch = rate_per_core(args.lta_n, p12, "B-LTA", tsa, roots, pdf, cores)
        lta_fetches = fetches.value - before
        print(f"Saraban B-LTA (loopback TSA), {cores} processes: {lta_batch:.1f}/s "
              f"({lta_fetches} OCSP/CRL fetches for {args.lta_n + cores * 4} letters)", flush=True)
    finally:
        stop.set()
        server.join(10)
    print(json.dumps({
        "bench": "sign", "cores": cores, "letter": "examples/letters/external.json",
        "stock_bb_per_s": round(stock, 1), "bb_one_per_s": round(bb_one, 1), "bb_batch_per_s": round(bb_batch, 1),
        "lta_one_per_s": round(lta_one, 1), "lta_batch_per_s": round(lta_batch, 1),
        "bb_cpu_ms_per_letter": round(bb_cpu, 1), "lta_cpu_ms_per_letter": round(lta_cpu, 1),
        "lta_batch_revocation_fetches": lta_fetches,
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }))


if __name__ == "__main__":
    main()
