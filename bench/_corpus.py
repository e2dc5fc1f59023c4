"""The corpus part of ``bench/verify.py``: every shared-corpus file through Saraban and through stock pyHanko.

Saraban: ``verify_pdf`` in this process under its time limit, as ``saraban verify`` calls it (the trust
roots and local CRLs of ``SARABAN_HOME``), offline and with fetching (the command's default).
Stock pyHanko: what ``pyhanko sign validate --trust ROOTS --trust-replace FILE`` does (the pyhanko-cli
package is not installed, so its steps are repeated here): a strict reader, the empty password for an
encrypted file, and ``validate_pdf_signature`` with a fresh hard-fail ``ValidationContext`` for each
regular signature, with fetching or without (``--no-revocation-check`` turns fetching off). The strict
reader refuses hybrid-reference files at once (``lt-short.pdf`` among them), so stock pyHanko is also
timed with ``--no-strict-syntax`` (``pyhanko_lenient``), which reads files as Saraban does.

Fetching stays on this machine: while the corpus runs, name look-ups and connections to anything but
loopback are refused at once (``loopback_only``), as a machine without a network would answer. The
corpus's EU CAs are not asked; how many requests were refused is reported.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import signal
import socket
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from asn1crypto import x509

STOCK_LIMIT_S = 60.0  # stock pyHanko has no time limit of its own; a file that loops is stopped here
GOAL_S = 5.0


def corpus_files(folder: Path) -> list[Path]:
    """The corpus's PDFs (``dss-pades`` and ``pyhanko-pdfs``), in name order."""
    return sorted(p for p in folder.glob("*/*") if p.is_file() and p.name != "README.md")


class _Refusals:
    count = 0


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def loopback_only() -> Iterator[_Refusals]:
    """Refuse name look-ups and connections to any host that is not loopback (counted)."""
    refusals = _Refusals()
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            refusals.count += 1
            raise socket.gaierror(socket.EAI_NONAME, "bench: no network beyond loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    def check(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            refusals.count += 1
            raise ConnectionRefusedError("bench: no network beyond loopback")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    try:
        yield refusals
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


class _StockTimeout(Exception):
    pass


def _with_limit[T](fn: Callable[[], T], seconds: float) -> T:
    def on_alarm(signum: int, frame: Any) -> None:
        raise _StockTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def stock_pyhanko(pdf: bytes, roots: Sequence[x509.Certificate], allow_fetching: bool, strict: bool = True) -> str:
    """Validate like ``pyhanko sign validate``: ``VALID``, ``INVALID`` or the exception's name."""
    from pyhanko.pdf_utils import crypt
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy

    def run() -> str:
        reader = PdfFileReader(io.BytesIO(pdf), strict=strict)
        encrypted = isinstance(reader.security_handler, crypt.StandardSecurityHandler)
        if encrypted and reader.decrypt("").status == crypt.AuthStatus.FAILED:
            return "password"
        policy = "hard-fail" if allow_fetching else "none"
        ok = True
        for sig in reader.embedded_regular_signatures:
            vc = ValidationContext(trust_roots=list(roots), allow_fetching=allow_fetching,
                                   revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy(policy)))
            try:
                ok &= validate_pdf_signature(sig, signer_validation_context=vc).bottom_line
            except SignatureValidationError:
                ok = False
        return "VALID" if ok else "INVALID"

    try:
        return _with_limit(run, STOCK_LIMIT_S)
    except _StockTimeout:
        return "timeout"
    except Exception as exc:  # the CLI would print it and exit 1
        return type(exc).__name__


def saraban(pdf: bytes, roots: Sequence[x509.Certificate], allow_fetching: bool) -> str:
    """Validate as ``saraban verify`` does; the overall indication."""
    from saraban.signatures.pades.verify import verify_pdf
    from saraban.signatures.trust import local_crls

    report = verify_pdf(pdf, roots, allow_fetching=allow_fetching, in_process=True, crls=local_crls())
    return f"{report.indication}/{report.sub_indication}" if report.sub_indication else str(report.indication)


def run_corpus(files: Sequence[Path], roots: Sequence[x509.Certificate]) -> dict[str, Any]:
    """Time every file each way (Saraban and stock, offline and fetching); the figures for the JSON line."""
    ways: dict[str, Callable[[bytes], str]] = {
        "saraban_offline": lambda pdf: saraban(pdf, roots, False),
        "saraban_fetch": lambda pdf: saraban(pdf, roots, True),
        "pyhanko_offline": lambda pdf: stock_pyhanko(pdf, roots, False),
        "pyhanko_fetch": lambda pdf: stock_pyhanko(pdf, roots, True),
        "pyhanko_lenient_fetch": lambda pdf: stock_pyhanko(pdf, roots, True, strict=False),
    }
    seconds: dict[str, dict[str, float]] = {way: {} for way in ways}
    outcomes: dict[str, dict[str, str]] = {way: {} for way in ways}
    with loopback_only() as refusals:
        warm = files[0].read_bytes()
        for fn in ways.values():  # first-use imports and caches are start-up, not this file's time
            fn(warm)
        for path in files:
            pdf, name = path.read_bytes(), f"{path.parent.name}/{path.name}"
            for way, fn in ways.items():
                started = time.perf_counter()
                outcomes[way][name] = outcome = fn(pdf)
                seconds[way][name] = elapsed = time.perf_counter() - started
                if elapsed > GOAL_S:
                    print(f"slow: {name} {way} {elapsed:.1f} s ({outcome})", flush=True)
    figures: dict[str, Any] = {"corpus_files": len(files), "corpus_fetches_refused": refusals.count}
    for way, times in seconds.items():
        figures[f"{way}_max_s"] = round(max(times.values()), 2)
        figures[f"{way}_median_s"] = round(statistics.median(times.values()), 3)
        figures[f"{way}_total_s"] = round(sum(times.values()), 1)
        figures[f"{way}_over_5s"] = sum(t > GOAL_S for t in times.values())
        print(f"{way}: max {figures[f'{way}_max_s']} s, median {figures[f'{way}_median_s']} s, "
              f"total {figures[f'{way}_total_s']} s", flush=True)
    slowest = sorted(seconds["saraban_fetch"], key=lambda n: -seconds["saraban_fetch"][n])[:5]
    figures["slowest"] = [{"file": n, **{w: round(seconds[w][n], 2) for w in ways},
                           "saraban": outcomes["saraban_fetch"][n], "pyhanko": outcomes["pyhanko_fetch"][n]}
                          for n in slowest]
    return figures
