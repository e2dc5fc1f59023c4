"""Negative cases: each gives the right ETSI indication and a Thai explanation."""

from __future__ import annotations

import pytest
from asn1crypto import x509

from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.report import Indication
from saraban.signatures.pades.sign import sign_pdf
from saraban.signatures.pades.verify import verify_pdf

from .conftest import minimal_pdf, p12
from .pki import TestPki
from .test_corpus import CORPUS


def test_one_changed_byte_is_hash_failure(p12_key: Pkcs12Key, roots: list[x509.Certificate]) -> None:
    original = minimal_pdf(b"0 0 m 100 100 l S")
    signed = sign_pdf(original, p12_key)
    at = signed.index(b"100 100 l")
    tampered = signed[:at] + b"101" + signed[at + 3:]
    report = verify_pdf(tampered, roots)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication == "HASH_FAILURE"
    assert "ถูกแก้ไขหลังลงนาม" in report.explain_th()


def test_expired_certificate(pki: TestPki, roots: list[x509.Certificate], small_pdf: bytes) -> None:
    report = verify_pdf(sign_pdf(small_pdf, p12(pki, "signer-expired"), check_signer=False), roots)
    assert report.indication is Indication.INDETERMINATE
    assert report.signatures[0].sub_indication == "OUT_OF_BOUNDS_NO_POE"
    assert "หมดอายุ" in report.explain_th()


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_revoked_certificate(level: str, pki: TestPki, roots: list[x509.Certificate], small_pdf: bytes) -> None:
    signed = sign_pdf(small_pdf, p12(pki, "signer-revoked"), level=level, tsa_url=pki.tsa_url,  # type: ignore[arg-type]
                      check_signer=False)  # a revoked key signs only here, to test the validator
    report = verify_pdf(signed, roots, allow_fetching=True)  # asks the loopback OCSP responder
    sig = report.signatures[0]
    assert sig.revocation_status == "revoked"
    assert (sig.indication, sig.sub_indication) in {
        (Indication.TOTAL_FAILED, "REVOKED"), (Indication.INDETERMINATE, "REVOKED_NO_POE"),
    }
    assert sig.revocation_source == "fetched"
    assert "เพิกถอน" in report.explain_th()


def test_untrusted_root(pki: TestPki, roots: list[x509.Certificate], small_pdf: bytes) -> None:
    report = verify_pdf(sign_pdf(small_pdf, p12(pki, "signer2")), roots)
    assert report.indication is Indication.INDETERMINATE
    assert report.signatures[0].sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert report.signatures[0].trust_anchor is None
    assert "ไม่ได้ออกโดยผู้ออกใบรับรองที่ระบบเชื่อถือ" in report.explain_th()


def test_timestamp_from_untrusted_tsa(pki: TestPki, p12_key: Pkcs12Key, roots: list[x509.Certificate],
                                      small_pdf: bytes) -> None:
    signed = sign_pdf(small_pdf, p12_key, level="B-T", tsa_url=pki.untrusted_tsa_url)
    report = verify_pdf(signed, roots)
    sig = report.signatures[0]
    assert sig.indication is Indication.INDETERMINATE
    assert sig.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert sig.timestamp_trusted is False
    assert any("timestamp" in d for d in sig.details)


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\n", b"%PDF-1.7\n1 0 obj << /Type /Catalog", b"\0" * 5000])
def test_garbage_gives_format_failure(data: bytes, roots: list[x509.Certificate]) -> None:
    report = verify_pdf(data, roots)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication == "FORMAT_FAILURE"
    assert report.explain_th().startswith("ตรวจสอบไม่ได้")


def test_truncated_signed_file(p12_key: Pkcs12Key, roots: list[x509.Certificate], small_pdf: bytes) -> None:
    signed = sign_pdf(small_pdf, p12_key)
    for cut in (len(signed) // 2, len(signed) - 40, len(small_pdf) + 100):
        report = verify_pdf(signed[:cut], roots)
        assert report.indication is not Indication.TOTAL_PASSED


def test_unsigned_pdf(roots: list[x509.Certificate], small_pdf: bytes) -> None:
    report = verify_pdf(small_pdf, roots)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication == "SIGNED_DATA_NOT_FOUND"


def test_timeout_guard_stops_a_hang() -> None:
    import time

    from saraban.signatures.pades.verify import ValidationTimeout, run_with_alarm

    with pytest.raises(ValidationTimeout):
        run_with_alarm(lambda: time.sleep(5), 0.3)


def test_alarm_honours_a_timer_already_running() -> None:
    """The test suite's own per-test limit (an interval timer too) survives a validation."""
    import signal
    import time

    from saraban.signatures.pades.verify import run_with_alarm

    fired: list[float] = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(time.monotonic()))
    outer = signal.getitimer(signal.ITIMER_REAL)
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        assert run_with_alarm(lambda: 42, 1.0) == 42
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 3.0 < left <= 5.0  # re-armed with what was left of it
        signal.setitimer(signal.ITIMER_REAL, 0.2)  # the outer limit comes first: its handler runs
        run_with_alarm(lambda: time.sleep(0.6), 5.0)
        assert len(fired) == 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, *outer)
        signal.signal(signal.SIGALRM, previous)


def test_a_file_that_overruns_is_stopped_from_any_thread() -> None:
    """Validation from a server thread runs in a worker that is killed at the limit, then replaced."""
    import threading

    from saraban.signatures.pades.verify import validation_pool

    slow = CORPUS / "dss-pades" / "lt-short.pdf"  # 25 signatures: several seconds of work
    reports: list[object] = []

    def request_thread() -> None:
        reports.append(verify_pdf(slow.read_bytes(), [], timeout=0.5))
        reports.append(verify_pdf(b"%PDF-1.7 not really", [], timeout=5))

    thread = threading.Thread(target=request_thread)
    thread.start()
    thread.join(60)
    late, after = reports
    assert late.sub_indication == "FORMAT_FAILURE" and "took longer than 0.5 s" in (late.problem or "")
    assert late.seconds < 5
    assert after.sub_indication == "FORMAT_FAILURE" and "took longer" not in (after.problem or "")
    assert len(validation_pool().pids()) <= validation_pool().size
