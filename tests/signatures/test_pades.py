"""PAdES signing at every level, with PKCS#12 and SoftHSM2, checked by tools other than the signing code."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import x509

from saraban.signatures.pades.keys import KeyUnavailable, OrganisationSeal, Pkcs12Key
from saraban.signatures.pades.report import Indication, Modifications
from saraban.signatures.pades.sign import PadesSigner, SigningFailed, sign_pdf
from saraban.signatures.pades.verify import verify_pdf

from .checks import openssl_cms_verify, pyhanko_bottom_line, qpdf_check
from .conftest import p12
from .pki import TestPki

LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]


def _independent(pdf: bytes, pki: TestPki, roots: list[x509.Certificate], tmp_path: Path) -> None:
    out = tmp_path / "signed.pdf"
    out.write_bytes(pdf)
    assert all(pyhanko_bottom_line(pdf, roots))
    cms = openssl_cms_verify(pdf, pki.path("root.cert.pem"), tmp_path)
    assert cms and "CMS Verification successful" in cms[0]
    check = qpdf_check(out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout


@pytest.mark.parametrize("level", LEVELS)
def test_sign_pkcs12_each_level(level: str, pki: TestPki, roots: list[x509.Certificate], p12_key: Pkcs12Key,
                                small_pdf: bytes, tmp_path: Path) -> None:
    signed = sign_pdf(small_pdf, p12_key, level=level, tsa_url=pki.tsa_url, trust_roots=roots)  # type: ignore[arg-type]
    assert signed.startswith(small_pdf)  # an incremental update
    _independent(signed, pki, roots, tmp_path)
    report = verify_pdf(signed, roots)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    sig = report.signatures[0]
    assert sig.level == level
    assert sig.signer == "นายทดสอบ ลงนาม"
    assert sig.trust_anchor and "Saraban Test Root CA" in sig.trust_anchor
    assert sig.covers in ("entire_file", "entire_revision")
    if level in ("B-LT", "B-LTA"):
        assert sig.revocation_source == "embedded" and sig.revocation_status == "good"
        assert sig.modifications is Modifications.LTA_UPDATES
    else:
        assert sig.modifications is Modifications.NONE
    if level != "B-B":
        assert sig.timestamp and sig.timestamp_trusted
    if level == "B-LTA":
        assert report.signatures[-1].kind == "document_timestamp"


@pytest.mark.parametrize("level", ["B-B", "B-LTA"])
def test_sign_softhsm(level: str, hsm_key: object, pki: TestPki, roots: list[x509.Certificate],
                      small_pdf: bytes, tmp_path: Path) -> None:
    signed = sign_pdf(small_pdf, hsm_key, level=level, tsa_url=pki.tsa_url, trust_roots=roots)  # type: ignore[arg-type]
    _independent(signed, pki, roots, tmp_path)
    report = verify_pdf(signed, roots)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    assert report.signatures[0].level == level


def test_organisation_seal_on_token(softhsm: dict[str, str], pki: TestPki, roots: list[x509.Certificate],
                                    small_pdf: bytes) -> None:
    seal = OrganisationSeal(softhsm["lib"], token_label=softhsm["token_label"], pin=softhsm["pin"],
                            key_label="seal", extra_certs=[pki.cert("interm")])
    try:
        report = verify_pdf(sign_pdf(small_pdf, seal), roots)
    finally:
        seal.close()
    assert report.passed
    assert report.signatures[0].signer == "ตราประทับ สำนักงานทดสอบ"


def test_wrong_pin_and_password_are_refused(softhsm: dict[str, str], pki: TestPki) -> None:
    with pytest.raises(KeyUnavailable):
        OrganisationSeal(softhsm["lib"], token_label=softhsm["token_label"], pin="0000", key_label="seal")
    with pytest.raises(KeyUnavailable):
        Pkcs12Key.from_file(pki.path("signer.p12"), "wrong")


def test_stacked_signatures_then_certify_first(pki: TestPki, roots: list[x509.Certificate], p12_key: Pkcs12Key,
                                               small_pdf: bytes, tmp_path: Path) -> None:
    certified = sign_pdf(small_pdf, p12_key, certify=True)
    second = sign_pdf(certified, p12(pki, "seal"), level="B-T", tsa_url=pki.tsa_url)
    third = sign_pdf(second, p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots)
    for earlier in (certified, second):
        assert third.startswith(earlier)
    report = verify_pdf(third, roots)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    kinds = [s.kind for s in report.signatures]
    assert kinds[:3] == ["certification", "signature", "signature"]
    assert [s.field_name for s in report.signatures[:3]] == ["Signature1", "Signature2", "Signature3"]
    assert report.signatures[0].modifications is Modifications.FORM_FILLING
    (tmp_path / "third.pdf").write_bytes(third)
    assert qpdf_check(tmp_path / "third.pdf").returncode == 0
    assert all(pyhanko_bottom_line(third, roots))
    cms = openssl_cms_verify(third, pki.path("root.cert.pem"), tmp_path)
    assert all("CMS Verification successful" in out for out in cms[:3])
    with pytest.raises(SigningFailed):  # certification must be the first signature
        sign_pdf(third, p12_key, certify=True)


def test_batch_session_signs_many(pki: TestPki, roots: list[x509.Certificate], p12_key: Pkcs12Key,
                                  small_pdf: bytes) -> None:
    session = PadesSigner(p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots)
    signed = session.sign_many([small_pdf] * 3)
    assert all(verify_pdf(pdf, roots).passed for pdf in signed)


def test_level_needs_tsa(p12_key: Pkcs12Key, small_pdf: bytes) -> None:
    with pytest.raises(SigningFailed):
        sign_pdf(small_pdf, p12_key, level="B-T")
    with pytest.raises(SigningFailed):
        sign_pdf(b"not a pdf", p12_key)
