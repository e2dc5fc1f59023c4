"""A revoked, expired or unverifiable certificate never signs: the command line, the signing step, batches, the API.

The revoked signer was revoked for key compromise on 1 January 2025 (the test PKI's OCSP responder and
CRL say so); the unreachable signer's OCSP responder and CRL sit on a closed port. Each refusal says why
in Thai and English, uses no number and writes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from saraban.api.auth import issue_token
from saraban.audit.models import AuditEvent
from saraban.core.errors import SarabanError
from saraban.correspondence.batch import start_batch
from saraban.correspondence.models import Letter, LetterStatus
from saraban.directory.models import Organisation, Person
from saraban.registers.models import RegisterEntry
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import Signature, SigningCertificate
from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.sign import PadesSigner, SigningFailed
from saraban.signatures.registry import register_pkcs12

from ..api import Api
from .conftest import minimal_pdf, p12
from .pki import PASSWORD as P12_PASSWORD
from .pki import TestPki
from .test_workflow_pades import approved

REFUSED = {
    "signer-revoked": ("signing.certificate_revoked", "เพิกถอน", "revoked"),
    "signer-expired": ("signing.certificate_expired", "หมดอายุ", "expired"),
    "signer-unreachable": ("signing.certificate_status_unknown", "ตรวจสอบสถานะ", "could not be learnt"),
}


@pytest.mark.parametrize("label", sorted(REFUSED))
@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_the_library_refuses_before_the_key_is_used(label: str, level: str, pki: TestPki, roots: list) -> None:
    code, th, en = REFUSED[label]
    with pytest.raises(SigningFailed) as refused:
        PadesSigner(p12(pki, label), level=level, tsa_url=pki.tsa_url, trust_roots=roots)  # type: ignore[arg-type]
    assert refused.value.code == code and th in refused.value.message_th and en in refused.value.message_en


def test_a_good_certificate_still_signs(pki: TestPki, roots: list) -> None:
    with PadesSigner(p12(pki, "signer"), level="B-B", trust_roots=roots) as session:
        assert session.sign(minimal_pdf()).startswith(b"%PDF")


@pytest.mark.parametrize("label", sorted(REFUSED))
@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_the_command_line_refuses_and_writes_nothing(label: str, level: str, pki: TestPki, tmp_path: Path) -> None:
    src, out = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(minimal_pdf())
    env = {**os.environ, "SARABAN_HOME": str(tmp_path), "SARABAN_P12_PASSWORD": P12_PASSWORD}
    env.pop("SARABAN_TRUST_ROOTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "saraban", "sign", str(src), "-o", str(out), "--p12", str(pki.path(f"{label}.p12")),
         "--level", level, "--tsa", pki.tsa_url, "--trust", str(pki.path("root.cert.pem"))],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
    )
    _code, th, en = REFUSED[label]
    assert done.returncode != 0 and th in done.stderr and en in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() and not list(tmp_path.glob("out*"))


def _registered(pki: TestPki, agency: Organisation, signer: Person, label: str) -> SigningCertificate:
    data = pki.path(f"{label}.p12").read_bytes()
    return register_pkcs12(organisation=agency, holder=signer, data=data, password=P12_PASSWORD, actor=signer)


@pytest.mark.django_db
def test_an_expired_certificate_is_refused_at_registration(pki: TestPki, agency: Organisation, signer: Person) -> None:
    """So it never reaches the signing step, a batch or the API (the library refuses it too, above)."""
    with pytest.raises(SarabanError) as refused:
        _registered(pki, agency, signer, "signer-expired")
    assert "หมดอายุ" in str(refused.value) and "expired" in str(refused.value)
    assert not SigningCertificate.objects.exists()


REGISTRABLE = ["signer-revoked", "signer-unreachable"]


@pytest.mark.django_db
@pytest.mark.parametrize("label", REGISTRABLE)
def test_the_signing_step_refuses_and_uses_no_number(
    label: str, pki: TestPki, agency: Organisation, clerk: Person, signer: Person
) -> None:
    from saraban.correspondence.workflow import sign_letter

    certificate = _registered(pki, agency, signer, label)
    letter = approved(agency, clerk, signer)
    events = AuditEvent.objects.count()
    with pytest.raises(SarabanError) as refused:
        sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    assert refused.value.code == REFUSED[label][0]
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED and not letter.number
    assert not RegisterEntry.objects.exists() and not Signature.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_batch_refuses_to_start(pki: TestPki, agency: Organisation, clerk: Person, signer: Person) -> None:
    certificate = _registered(pki, agency, signer, "signer-revoked")
    letters = [approved(agency, clerk, signer, subject=f"เรื่องที่ {n}") for n in range(3)]
    with pytest.raises(SarabanError) as refused:
        start_batch(signer=signer, organisation=agency, letter_ids=[letter.pk for letter in letters],
                    proof=SignerProof(P12_PASSWORD), certificate=certificate, background=False)
    assert refused.value.code == "signing.certificate_revoked"
    assert not RegisterEntry.objects.exists()
    assert set(Letter.objects.values_list("status", flat=True)) == {LetterStatus.APPROVED}


@pytest.mark.django_db
@pytest.mark.parametrize("label", REGISTRABLE)
def test_the_api_answers_with_the_reason(
    label: str, pki: TestPki, agency: Organisation, clerk: Person, signer: Person
) -> None:
    certificate = _registered(pki, agency, signer, label)
    letter = approved(agency, clerk, signer)
    api = Api(issue_token(signer, "tests")[1])
    response = api.post(f"/letters/{letter.pk}/sign", {"password": P12_PASSWORD, "certificate_id": certificate.pk})
    assert response.status_code in (400, 403, 409), response.content
    body = response.json()
    code, th, _en = REFUSED[label]
    assert body["code"] == code and th in body["message_th"]
    assert not RegisterEntry.objects.exists()


def test_an_organisation_seal_that_was_revoked_does_not_seal(pki: TestPki, roots: list) -> None:
    """The seal is a PKCS#11 key in production; its certificate is checked the same way."""
    key = Pkcs12Key.from_file(pki.path("signer-revoked.p12"), P12_PASSWORD)
    with pytest.raises(SigningFailed):
        PadesSigner(key, level="B-B", trust_roots=roots)


# --- the validator never says TOTAL_PASSED without learning the signer's status -------------------

@pytest.mark.parametrize("level", ["B-B", "B-T"])  # pyHanko itself will not embed B-LT data for a revoked key
def test_a_revoked_signers_signature_is_never_passed(level: str, pki: TestPki, roots: list) -> None:
    from saraban.signatures.pades.sign import sign_pdf
    from saraban.signatures.pades.verify import verify_pdf

    signed = sign_pdf(minimal_pdf(), p12(pki, "signer-revoked"), level=level, tsa_url=pki.tsa_url,  # type: ignore[arg-type]
                      trust_roots=roots, check_signer=False)  # a revoked key signs only here, for the validator
    for fetching in (True, False):
        sig = verify_pdf(signed, roots, allow_fetching=fetching).signatures[0]
        assert sig.indication != "TOTAL_PASSED", (level, fetching)
    sig = verify_pdf(signed, roots).signatures[0]
    assert (sig.indication, sig.sub_indication) in {("TOTAL_FAILED", "REVOKED"), ("INDETERMINATE", "REVOKED_NO_POE")}


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_a_status_that_cannot_be_learnt_is_try_later(level: str, pki: TestPki, roots: list) -> None:
    from saraban.signatures.pades.sign import sign_pdf
    from saraban.signatures.pades.verify import verify_pdf

    signed = sign_pdf(minimal_pdf(), p12(pki, "signer-unreachable"), level=level, tsa_url=pki.tsa_url,  # type: ignore[arg-type]
                      check_signer=False)
    sig = verify_pdf(signed, roots).signatures[0]
    assert (sig.indication, sig.sub_indication) == ("INDETERMINATE", "TRY_LATER")
    good = sign_pdf(minimal_pdf(), p12(pki, "signer"), level=level, tsa_url=pki.tsa_url)  # type: ignore[arg-type]
    assert verify_pdf(good, roots).signatures[0].indication == "TOTAL_PASSED"  # asks the loopback OCSP
    offline = verify_pdf(good, roots, allow_fetching=False).signatures[0]
    assert (offline.indication, offline.sub_indication) == ("INDETERMINATE", "TRY_LATER")


def test_the_command_line_offline_flag(pki: TestPki, tmp_path: Path) -> None:
    from saraban.signatures.pades.sign import sign_pdf

    signed = tmp_path / "signed.pdf"
    signed.write_bytes(sign_pdf(minimal_pdf(), p12(pki, "signer")))
    env = {**os.environ, "SARABAN_HOME": str(tmp_path)}
    env.pop("SARABAN_TRUST_ROOTS", None)
    run = [sys.executable, "-m", "saraban", "verify", str(signed), "--trust", str(pki.path("root.cert.pem")), "--json"]
    online = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    offline = subprocess.run([*run, "--offline"], capture_output=True, text=True, env=env, timeout=120)
    assert online.returncode == 0, online.stdout + online.stderr
    assert offline.returncode == 1 and '"TRY_LATER"' in offline.stdout


def test_many_files_in_one_command(pki: TestPki, tmp_path: Path) -> None:
    import json as jsonlib

    from saraban.signatures.pades.sign import sign_pdf

    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(sign_pdf(minimal_pdf(), p12(pki, "signer")))
    bad.write_bytes(b"%PDF-1.7 not signed at all")
    env = {**os.environ, "SARABAN_HOME": str(tmp_path)}
    env.pop("SARABAN_TRUST_ROOTS", None)
    base = [sys.executable, "-m", "saraban", "verify", "--trust", str(pki.path("root.cert.pem")), "--json"]
    both = subprocess.run([*base, str(good), str(bad)], capture_output=True, text=True, env=env, timeout=120)
    reports = jsonlib.loads(both.stdout)
    assert [r["file"] for r in reports] == [str(good), str(bad)]
    assert reports[0]["indication"] == "TOTAL_PASSED" and reports[1]["indication"] != "TOTAL_PASSED"
    assert both.returncode == 1
    missing = subprocess.run([*base, str(good), str(tmp_path / "nope.pdf")], capture_output=True, text=True,
                             env=env, timeout=120)
    assert missing.returncode == 2 and "nope.pdf" in missing.stderr and "Traceback" not in missing.stderr
