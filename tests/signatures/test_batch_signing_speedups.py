"""The fast batch path signs complete, valid PDFs: cached CMS parts, one loop per session, worker processes.

Every speed-up must leave the output what stock pyHanko would accept: the signed attributes are
byte-identical to pyHanko's own, each letter of a batch validates TOTAL_PASSED at the level asked
(pyHanko's validator, openssl cms, qpdf), revocation data is fetched once per session rather than per
letter, and the benchmark's fast TSA issues tokens that validate like the Animator's.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import logging
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509
from pyhanko.sign import signers
from pyhanko.sign.attributes import SigningCertificateV2Provider
from pyhanko.sign.general import as_signing_certificate_v2

from saraban.signatures.pades.keys import CachedKeySigner, FrozenSigningCertificate, Pkcs11Key, Pkcs12Key
from saraban.signatures.pades.report import Indication, Modifications
from saraban.signatures.pades.sign import PadesSigner, SigningFailed, signing_pool
from saraban.signatures.pades.verify import verify_pdf

from .. import worker_jobs
from .checks import openssl_cms_verify, pyhanko_bottom_line, qpdf_check
from .conftest import REPO, p12
from .pki import PASSWORD, TRUSTED_ARCH, TestPki


def _signed_attrs_der(signer: signers.Signer, digest: bytes) -> bytes:
    attrs = asyncio.run(signer.signed_attrs(digest, "sha256", use_pades=True))
    return bytes(attrs.dump())


def test_cached_signed_attributes_equal_pyhankos_own(pki: TestPki) -> None:
    data = pki.path("signer.p12").read_bytes()
    stock = signers.SimpleSigner.load_pkcs12_data(data, [], passphrase=PASSWORD.encode())
    assert stock is not None
    cached = Pkcs12Key(data, PASSWORD).signer()
    assert isinstance(cached, CachedKeySigner)
    for content in (b"first letter", b"second letter"):
        digest = hashlib.sha256(content).digest()
        assert _signed_attrs_der(cached, digest) == _signed_attrs_der(stock, digest)


def test_cached_signing_certificate_follows_the_certificate(pki: TestPki) -> None:
    signer = p12(pki, "signer").signer()
    assert isinstance(signer, CachedKeySigner)
    for label in ("signer", "seal", "signer"):  # another certificate: the cached value must not stick
        cert = pki.cert(label)
        value = asyncio.run(signer._frozen_provider(SigningCertificateV2Provider(cert)).build_attr_value())
        assert value.dump() == as_signing_certificate_v2(cert).dump()
        assert value["certs"][0]["cert_hash"].native == cert.sha256


def _check_letter(out: bytes, pdf: bytes, level: str, roots: list[x509.Certificate]) -> None:
    assert out.startswith(pdf)  # an incremental update of the letter, nothing rewritten
    assert all(pyhanko_bottom_line(out, roots))
    report = verify_pdf(out, roots)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    sig = report.signatures[0]
    assert sig.level == level
    if level == "B-LTA":
        assert sig.covers in ("entire_file", "entire_revision")
        assert sig.modifications is Modifications.LTA_UPDATES
        assert report.signatures[-1].kind == "document_timestamp"
    else:
        assert sig.covers == "entire_file"  # the signature covers every byte of the file
        assert sig.modifications is Modifications.NONE


def _independent(out: bytes, pki: TestPki, tmp_path: Path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(out)
    check = qpdf_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    cms = openssl_cms_verify(out, pki.path("root.cert.pem"), tmp_path)
    assert cms and "CMS Verification successful" in cms[0]


def test_batch_b_b_every_letter_validates(p12_key: Pkcs12Key, letter_pdf: bytes, small_pdf: bytes, pki: TestPki,
                                         roots: list[x509.Certificate], tmp_path: Path) -> None:
    inputs = [letter_pdf, small_pdf, letter_pdf, small_pdf]
    with PadesSigner(p12_key) as session:
        outputs = session.sign_many(inputs)
        outputs.append(session.sign(letter_pdf))  # the UI's way: sign() per letter in one session
    inputs.append(letter_pdf)
    for pdf, out in zip(inputs, outputs, strict=True):
        _check_letter(out, pdf, "B-B", roots)
    _independent(outputs[0], pki, tmp_path)


@pytest.fixture
def count_fetches(pki: TestPki) -> Iterator[Callable[[], int]]:
    """Count the OCSP and CRL requests the test PKI answers while the test runs."""
    assert pki._server is not None
    app = pki._server.app
    hits = [0]

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if "/ocsp/" in path or "/crls/" in path:
            hits[0] += 1
        return app(environ, start_response)

    pki._server.app = counting
    yield lambda: hits[0]
    pki._server.app = app


def test_batch_lta_fetches_revocation_once(p12_key: Pkcs12Key, small_pdf: bytes, letter_pdf: bytes, pki: TestPki,
                                           roots: list[x509.Certificate], tmp_path: Path,
                                           count_fetches: Callable[[], int]) -> None:
    with PadesSigner(p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots) as one:
        one.sign(small_pdf)
    per_letter = count_fetches()
    assert per_letter > 0  # B-LTA does need revocation data
    inputs = [letter_pdf, small_pdf, small_pdf, letter_pdf]
    with PadesSigner(p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots) as session:
        outputs = session.sign_many(inputs[:2]) + [session.sign(pdf) for pdf in inputs[2:]]
        # Four letters cost what one did (the data is reused); under load pyHanko may fold a fetch or two.
        assert count_fetches() <= 2 * per_letter
        session.close()
        outputs.append(session.sign(small_pdf))  # a closed session reopens its loop and sessions
    inputs.append(small_pdf)
    for pdf, out in zip(inputs, outputs, strict=True):
        _check_letter(out, pdf, "B-LTA", roots)
    _independent(outputs[0], pki, tmp_path)


def test_closed_session_leaves_no_open_http_session(p12_key: Pkcs12Key, small_pdf: bytes, pki: TestPki,
                                                    roots: list[x509.Certificate],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    with PadesSigner(p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots) as session:
        session.sign(small_pdf)
    del session
    gc.collect()
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]


def test_parallel_batch_keeps_order_and_validates(p12_key: Pkcs12Key, letter_pdf: bytes, small_pdf: bytes,
                                                  pki: TestPki, roots: list[x509.Certificate],
                                                  tmp_path: Path) -> None:
    inputs = [letter_pdf, small_pdf, small_pdf, letter_pdf, small_pdf]
    with PadesSigner(p12_key) as session:
        outputs = session.sign_many_parallel(inputs, processes=2)
        again = session.sign_many_parallel(inputs[:2], processes=2)  # the same workers, a second batch
        assert set(signing_pool().map(worker_jobs.signing_session, [(), ()], timeout=30)) == {session._token}
        session.close()  # the workers forget the key; the next batch hands it to them again
        assert signing_pool().map(worker_jobs.signing_session, [(), ()], timeout=30) == [None, None]
        again += session.sign_many_parallel(inputs[:2], processes=2)
        again.append(session.sign(letter_pdf))  # this process's own loop still signs
    assert len(outputs) == len(inputs)
    for pdf, out in zip(inputs + inputs[:2] * 2 + [letter_pdf], outputs + again, strict=True):
        _check_letter(out, pdf, "B-B", roots)
    _independent(outputs[3], pki, tmp_path)


def test_parallel_batch_lta(p12_key: Pkcs12Key, small_pdf: bytes, letter_pdf: bytes, pki: TestPki,
                            roots: list[x509.Certificate]) -> None:
    inputs = [small_pdf, letter_pdf, small_pdf]
    with PadesSigner(p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots) as session:
        outputs = session.sign_many_parallel(inputs, processes=2)
    for pdf, out in zip(inputs, outputs, strict=True):
        _check_letter(out, pdf, "B-LTA", roots)


def test_parallel_batch_refuses_a_bad_letter_cleanly(p12_key: Pkcs12Key, small_pdf: bytes) -> None:
    with PadesSigner(p12_key) as session, pytest.raises(SigningFailed) as caught:
        session.sign_many_parallel([small_pdf, b"not a pdf", small_pdf], processes=2)
    assert caught.value.code == "signing.failed"
    assert caught.value.message_th and caught.value.message_en


def test_parallel_batch_with_a_token_key_signs_in_process(hsm_key: Pkcs11Key, small_pdf: bytes,
                                                          roots: list[x509.Certificate]) -> None:
    with PadesSigner(hsm_key) as session:  # a token's key cannot leave the token
        outputs = session.sign_many_parallel([small_pdf, small_pdf], processes=2)
    for out in outputs:
        _check_letter(out, small_pdf, "B-B", roots)


@pytest.fixture
def fast_tsa(pki: TestPki) -> Iterator[Any]:
    """The benchmark's RFC 3161 responder (bench/_tsa.py) with the test PKI's TSA key."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from _tsa import FastTimeStamper, FastTsaServer
    finally:
        sys.path.remove(str(REPO / "bench"))
    server = FastTsaServer(FastTimeStamper.for_arch(pki.archs[TRUSTED_ARCH]))
    yield server
    server.stop()


@pytest.mark.parametrize("level", ["B-T", "B-LTA"])
def test_bench_tsa_tokens_validate(level: str, fast_tsa: Any, p12_key: Pkcs12Key, letter_pdf: bytes,
                                   roots: list[x509.Certificate]) -> None:
    with PadesSigner(p12_key, level=level, tsa_url=fast_tsa.url, trust_roots=roots) as session:  # type: ignore[arg-type]
        outputs = session.sign_many([letter_pdf, letter_pdf])
    for out in outputs:
        report = verify_pdf(out, roots)
        assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
        assert report.signatures[0].level == level
        assert all(s.timestamp_trusted for s in report.signatures if s.timestamp)


def test_bench_tsa_refuses_garbage(fast_tsa: Any) -> None:
    request = urllib.request.Request(fast_tsa.url, data=b"not a request", method="POST",
                                     headers={"Content-Type": "application/timestamp-query"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400


def test_frozen_attribute_mixin_on_a_token_signer(hsm_key: Pkcs11Key, small_pdf: bytes,
                                                  roots: list[x509.Certificate]) -> None:
    from pyhanko.sign.pkcs11 import PKCS11Signer

    token_signer: Any = hsm_key.signer()
    assert isinstance(token_signer, FrozenSigningCertificate)  # Pkcs11Key signs with the mixin
    frozen_class = token_signer.__class__
    token_signer.__class__ = PKCS11Signer  # stock pyHanko, for comparison
    stock = _signed_attrs_der(token_signer, hashlib.sha256(b"x").digest())
    token_signer.__class__ = frozen_class
    assert _signed_attrs_der(token_signer, hashlib.sha256(b"x").digest()) == stock
    with PadesSigner(hsm_key) as session:
        outputs = session.sign_many([small_pdf] * 3)
    for out in outputs:
        _check_letter(out, small_pdf, "B-B", roots)


def test_parallel_batch_with_a_stamp_per_letter(p12_key: Pkcs12Key, letter_pdf: bytes, small_pdf: bytes,
                                                roots: list[x509.Certificate]) -> None:
    import datetime as dt

    from saraban.signatures.pades.appearance import SignatureAppearance

    names = ["นายหนึ่ง ทดสอบ", "นางสองสาม ทดสอบ", "นายสี่ ทดสอบ"]
    stamps = [SignatureAppearance(name, "ผู้อำนวยการ", dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
                                  f"https://saraban.example/verify?d={n:064d}") for n, name in enumerate(names)]
    inputs = [letter_pdf, small_pdf, letter_pdf]
    with PadesSigner(p12_key) as session:
        outputs = session.sign_many_parallel(inputs, processes=2,
                                             per_letter=[{"visible": stamp} for stamp in stamps], reason="batch")
        with pytest.raises(SigningFailed):
            session.sign_many_parallel(inputs, processes=2, per_letter=[{}])
    for pdf, out in zip(inputs, outputs, strict=True):
        _check_letter(out, pdf, "B-B", roots)
    # each letter got its own stamp: the first and third (same letter, different names) differ in it
    assert _stamp(outputs[0]) and _stamp(outputs[1]) and _stamp(outputs[0]) != _stamp(outputs[2])


def _stamp(pdf: bytes) -> bytes:
    """The drawing of the signature widget (its appearance stream and the forms it paints)."""
    import pypdf

    def drawn(stream: Any) -> bytes:
        data = bytes(stream.get_data())
        for inner in (stream.get("/Resources", {}).get("/XObject", {}) or {}).values():
            data += drawn(inner.get_object())
        return data

    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for annot in page.get("/Annots") or []:
            widget = annot.get_object()
            if widget.get("/FT") == "/Sig" and "/AP" in widget:
                return drawn(widget["/AP"]["/N"].get_object())
    return b""
