"""What a signature does not cover (trailing bytes, later revisions by purpose), and plain-ECDSA signatures."""

from __future__ import annotations

import io
import os

import pytest
from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.plain_ecdsa import PlainEcdsaAwareValidator
from saraban.signatures.pades.report import CONTENT_BROKEN, Indication, Modifications
from saraban.signatures.pades.sign import sign_pdf
from saraban.signatures.pades.verify import verify_pdf

from .pki import TestPki
from .test_corpus import CORPUS

PLAIN_ECDSA = CORPUS / "dss-pades" / "dss-PLAIN-ECDSA__TeleSec_PKS_eIDAS_QES_CA_1-baseline-b.pdf"


@pytest.fixture(scope="module")
def signed(small_pdf: bytes, p12_key: Pkcs12Key, pki: TestPki) -> bytes:
    return sign_pdf(small_pdf, p12_key)


def _with_new_title(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    info = generic.DictionaryObject({generic.pdf_name("/Title"): generic.TextStringObject("Another title")})
    writer.set_info(writer.add_object(info))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_clean_signature_leaves_nothing_uncovered(signed: bytes, roots: list) -> None:
    report = verify_pdf(signed, roots, in_process=True)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    assert report.signatures[0].not_covered == []
    assert report.signatures[0].covers == "entire_file"


@pytest.mark.parametrize("junk", [b"\n%not a revision\nhello\n", os.urandom(300) + b"x"])
def test_bytes_after_the_last_revision_are_reported_and_fail(signed: bytes, roots: list, junk: bytes) -> None:
    report = verify_pdf(signed + junk, roots, in_process=True)
    sig = report.signatures[0]
    assert report.indication is Indication.TOTAL_FAILED and sig.sub_indication == "FORMAT_FAILURE"
    assert sig.covers != "entire_file"
    assert [part["what"] for part in sig.not_covered] == ["trailing_data"]
    # the line end after %%EOF is the signed revision's own; what follows is counted
    assert sig.not_covered[0]["bytes"] == len(junk.lstrip(b"\r\n")) and sig.not_covered[0]["end"] == len(signed + junk)
    assert "ต่อท้ายไฟล์" in sig.explain_th() and "trailing data" in sig.explain_en()


def test_line_ends_after_eof_are_not_data(signed: bytes, roots: list) -> None:
    report = verify_pdf(signed + b"\r\n\n", roots, in_process=True)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    assert report.signatures[0].not_covered == []


def test_a_metadata_only_update_is_called_metadata(signed: bytes, roots: list) -> None:
    report = verify_pdf(_with_new_title(signed), roots, in_process=True)
    sig = report.signatures[0]
    assert sig.modifications is Modifications.METADATA  # pyHanko alone says lta_updates
    assert [(p["what"], p["revision"], p["changes"]) for p in sig.not_covered] == [("revision", 3, ["metadata"])]
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()  # allowed, but named
    assert "ข้อมูลกำกับเอกสาร" in sig.explain_th()


def test_validation_data_after_signing_stays_lta_updates(
        small_pdf: bytes, p12_key: Pkcs12Key, pki: TestPki, roots: list) -> None:
    lta = sign_pdf(small_pdf, p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots)
    report = verify_pdf(lta, roots, in_process=True)
    sig = next(s for s in report.signatures if s.kind != "document_timestamp")
    assert sig.modifications is Modifications.LTA_UPDATES, sig.explain_en()
    purposes = [p["changes"] for p in sig.not_covered]
    assert ["document_timestamp"] in purposes
    assert any("validation_data" in p for p in purposes)  # pyHanko refreshes /Info beside the DSS
    assert all(p["what"] == "revision" for p in sig.not_covered)


def test_the_plain_ecdsa_corpus_signature_is_intact() -> None:
    assert PLAIN_ECDSA.is_file(), f"the shared corpus is missing at {CORPUS}"
    report = verify_pdf(PLAIN_ECDSA.read_bytes(), [], in_process=True, allow_fetching=False)
    sig = report.signatures[0]
    # A real EU CA (TeleSec) that Saraban does not trust: never passed, but never "modified" or "failed".
    assert sig.sub_indication not in CONTENT_BROKEN and sig.indication is not Indication.TOTAL_FAILED, sig.explain_en()
    assert sig.modifications is Modifications.NONE and sig.covers == "entire_file"


def _plain_signature(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


@pytest.mark.parametrize("curve", [ec.BrainpoolP256R1(), ec.SECP256R1()])
def test_plain_ecdsa_validator_accepts_r_s_and_refuses_a_changed_value(curve: ec.EllipticCurve) -> None:
    key = ec.generate_private_key(curve)
    public = keys.PublicKeyInfo.load(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    algorithm = algos.SignedDigestAlgorithm({"algorithm": "0.4.0.127.0.7.1.1.4.1.3"})  # ecdsa-plain-SHA256
    validator = PlainEcdsaAwareValidator()
    value = _plain_signature(key, b"signed attributes")
    validator.validate_signature(value, b"signed attributes", public, algorithm)
    with pytest.raises(InvalidSignature):
        validator.validate_signature(value, b"other attributes", public, algorithm)
    with pytest.raises(InvalidSignature):
        validator.validate_signature(value[:-1], b"signed attributes", public, algorithm)


def test_the_replace_shadow_attack_is_caught() -> None:
    path = CORPUS / "dss-pades" / "dss-2236__replace.pdf"
    assert path.is_file(), f"the shared corpus is missing at {CORPUS}"
    report = verify_pdf(path.read_bytes(), [], in_process=True, allow_fetching=False)
    sig = report.signatures[0]
    assert sig.modifications is Modifications.OTHER and sig.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert report.indication is Indication.TOTAL_FAILED
    assert sig.replaced_fields == ["Text1"]
    assert "Text1" in sig.explain_th() and "shadow attack" in sig.explain_en()
