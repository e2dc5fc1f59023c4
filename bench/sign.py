"""Benchmark: PAdES B-B and B-LTA signatures per second for a one-page letter (JSON line last).

Runs the test PKI (certomancer's Animator with OCSP, CRLs and the TSA) on 127.0.0.1 in its own process,
renders examples/letters/external.json once, then times:
- stock: ``pyhanko.sign.signers.sign_pdf`` called the default way (``SimpleSigner.load_pkcs12``),
- Saraban B-B: ``PadesSigner`` (cached key, ``bytes_reserved``), one process and one per core,
- Saraban B-LTA: the same with the loopback TSA and revocation data, one process and one per core.

Usage: ``.venv/bin/python bench/sign.py [--n 200] [--lta-n 40]``
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
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
from saraban.signatures.pades.sign import PadesSigner  # noqa: E402
from saraban.signatures.trust import load_certificates  # noqa: E402

_STATE: dict[str, object] = {}


def render_letter_pdf() -> bytes:
    """The one-page example letter as PDF."""
    from saraban.correspondence.content import parse_letter_json
    from saraban.rendering.letters import render_letter

    data = json.loads((ROOT / "examples/letters/external.json").read_text("utf-8"))
    return render_letter(parse_letter_json(data))


def serve_pki(out_dir: str, ready: multiprocessing.synchronize.Event, stop: multiprocessing.synchronize.Event,
              port_box: multiprocessing.sharedctypes.Synchronized) -> None:  # type: ignore[name-defined]
    """Child process: run the test PKI until told to stop."""
    from tests.signatures.pki import TestPki

    pki = TestPki(Path(out_dir)).start()
    port_box.value = pki.port
    ready.set()
    stop.wait()
    pki.stop()


def _init(p12: str, level: str, tsa: str | None, roots_pem: str, pdf: bytes) -> None:
    key = Pkcs12Key.from_file(p12, "secret")
    roots = load_certificates([roots_pem])
    session = PadesSigner(key, level=level, tsa_url=tsa, trust_roots=roots)  # type: ignore[arg-type]
    _STATE["session"] = session
    _STATE["pdf"] = pdf  # rendered once in the parent: no Typst in forked workers
    session.sign(_STATE["pdf"])  # type: ignore[arg-type]  # warm up (key, fonts, revocation cache)


def _work(count: int) -> int:
    session = _STATE["session"]
    assert isinstance(session, PadesSigner)
    session.sign_many([_STATE["pdf"]] * count)  # type: ignore[list-item]
    return count


def rate_one_process(n: int, p12: str, level: str, tsa: str | None, roots: str, pdf: bytes) -> float:
    """Signatures per second in this process."""
    _init(p12, level, tsa, roots, pdf)
    started = time.perf_counter()
    _work(n)
    return n / (time.perf_counter() - started)


def rate_per_core(n: int, p12: str, level: str, tsa: str | None, roots: str, pdf: bytes, cores: int) -> float:
    """Signatures per second with one worker process per core (wall clock, after warm-up)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(cores, initializer=_init, initargs=(p12, level, tsa, roots, pdf)) as pool:
        pool.map(_work, [1] * cores)  # make sure every worker is up
        chunks = [n // (cores * 4)] * (cores * 4)
        started = time.perf_counter()
        done = sum(pool.map(_work, chunks, chunksize=1))
        return done / (time.perf_counter() - started)


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
    parser.add_argument("--lta-n", type=int, default=40, help="B-LTA signatures per measurement")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    out = tempfile.mkdtemp(prefix="saraban-bench-pki-")
    ctx = multiprocessing.get_context("spawn")
    ready, stop, port = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    server = ctx.Process(target=serve_pki, args=(out, ready, stop, port), daemon=True)
    server.start()
    try:
        if not ready.wait(60):
            raise SystemExit("the test PKI did not start")
        p12, roots = f"{out}/signer.p12", f"{out}/root.cert.pem"
        tsa = f"http://127.0.0.1:{port.value}/th-test/tsa/tsa"
        pdf = render_letter_pdf()
        stock = rate_stock(max(args.n // 4, 10), p12, pdf)
        print(f"stock pyHanko B-B, one process: {stock:.1f}/s", flush=True)
        bb_one = rate_one_process(args.n, p12, "B-B", None, roots, pdf)
        print(f"Saraban B-B, one process: {bb_one:.1f}/s", flush=True)
        bb_batch = rate_per_core(args.n, p12, "B-B", None, roots, pdf, cores)
        print(f"Saraban B-B, {cores} processes: {bb_batch:.1f}/s", flush=True)
        lta_one = rate_one_process(args.lta_n, p12, "B-LTA", tsa, roots, pdf)
        print(f"Saraban B-LTA (loopback TSA), one process: {lta_one:.1f}/s", flush=True)
        lta_batch = rate_per_core(args.lta_n, p12, "B-LTA", tsa, roots, pdf, cores)
        print(f"Saraban B-LTA (loopback TSA), {cores} processes: {lta_batch:.1f}/s", flush=True)
    finally:
        stop.set()
        server.join(10)
    print(json.dumps({
        "bench": "sign", "cores": cores, "letter": "examples/letters/external.json",
        "stock_bb_per_s": round(stock, 1), "bb_one_per_s": round(bb_one, 1), "bb_batch_per_s": round(bb_batch, 1),
        "lta_one_per_s": round(lta_one, 1), "lta_batch_per_s": round(lta_batch, 1),
    }))


if __name__ == "__main__":
    main()
