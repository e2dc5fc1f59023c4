"""LTA renewal of archived signed PDFs: one more document timestamp, still valid, stored as the current file.

Independent checks: pyHanko's own validators (``validate_pdf_signature``, ``validate_pdf_timestamp`` and
the ETSI EN 319 102-1 LTA validation ``ades_lta_validation``, offline from the file's DSS) and ``qpdf
--check``. A TSA whose certificate ends in 30 days is made here, in-process, under the test root (the
certomancer TSA's certificate lasts until 2050), so that "due before it expires" is real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import socket
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from saraban.directory.models import Organisation
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file, store_file
from saraban.signatures.archive import current_version, renew_due, renewal_plan, track_signed_pdf
from saraban.signatures.models import ArchivedPdf
from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.renewal import RenewalFailed, add_archival_timestamp, newest_timestamp_expiry
from saraban.signatures.pades.report import Indication
from saraban.signatures.pades.sign import sign_pdf
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.tasks import renew_archival_timestamps

from .checks import qpdf_check
from .pki import PASSWORD, PKI_DIR, TestPki

TSA_END_2050 = dt.datetime(2050, 1, 1, tzinfo=dt.UTC)


# --- helpers ---------------------------------------------------------------------------------------


def short_lived_tsa(pki: TestPki, days: int) -> tuple[DummyTimeStamper, dt.datetime]:
    """An in-process TSA whose certificate (issued by the trusted test root) ends in ``days`` days."""
    root_key: Any = serialization.load_pem_private_key(
        (PKI_DIR / "keys" / "root.key.pem").read_bytes(), password=PASSWORD.encode()
    )
    root = x509.load_der_x509_certificate(pki.cert("root").dump())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ends = now + dt.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Government PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Saraban Short-lived Test TSA"),
        ]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(ends)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    tsa_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tsa_key = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key), ends


def with_document_timestamp(pdf: bytes, stamper: DummyTimeStamper, roots: list[asn1_x509.Certificate]) -> bytes:
    """``pdf`` with one more document timestamp from ``stamper`` (its chain in the DSS)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    vc = ValidationContext(trust_roots=roots, allow_fetching=True)
    out = PdfTimeStamper(stamper).timestamp_pdf(writer, "sha256", validation_context=vc)
    result: bytes = out.getvalue()
    return result


def doc_timestamp_count(pdf: bytes) -> int:
    return len(PdfFileReader(io.BytesIO(pdf)).embedded_timestamp_signatures)


def dead_tsa_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


def assert_independently_valid(pdf: bytes, roots: list[asn1_x509.Certificate], tmp_path: Path) -> None:
    """pyHanko's validators called directly (no Saraban code) and qpdf agree that ``pdf`` is sound."""
    reader = PdfFileReader(io.BytesIO(pdf))
    for sig in reader.embedded_regular_signatures:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots))
        assert status.bottom_line, status.pretty_print_details()
    for ts in reader.embedded_timestamp_signatures:
        ts_status = validate_pdf_timestamp(ts, validation_context=ValidationContext(trust_roots=roots))
        assert ts_status.valid and ts_status.trusted, ts_status.summary()
    # the newest timestamp covers everything before it (only the DSS update for its own chain follows)
    newest = reader.embedded_timestamp_signatures[-1]
    assert newest.evaluate_signature_coverage() in (SignatureCoverageLevel.ENTIRE_REVISION,
                                                    SignatureCoverageLevel.ENTIRE_FILE)
    assert all(sig.signed_revision < newest.signed_revision for sig in reader.embedded_signatures[:-1])
    # ETSI EN 319 102-1 LTA validation from the file alone (no fetching): the DSS carries the evidence.
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=roots),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("soft-fail")),
        ),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
        ),
    ))
    for sig in reader.embedded_regular_signatures:
        lta = asyncio.run(ades_lta_validation(sig, spec))
        assert lta.ades_subindic.status.name == "PASSED", lta.ades_subindic
    path = tmp_path / "renewed.pdf"
    path.write_bytes(pdf)
    check = qpdf_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lta_pdf(pki: TestPki, roots: list[asn1_x509.Certificate], p12_key: Pkcs12Key, small_pdf: bytes) -> bytes:
    """A B-LTA PDF from the test PKI (its document timestamp's TSA certificate ends in 2050)."""
    return sign_pdf(small_pdf, p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots)


@pytest.fixture(scope="module")
def expiring_pdf(pki: TestPki, roots: list[asn1_x509.Certificate], p12_key: Pkcs12Key,
                 small_pdf: bytes) -> tuple[bytes, dt.datetime]:
    """A B-LTA PDF whose newest document timestamp comes from a TSA certificate ending in 30 days."""
    signed = sign_pdf(small_pdf, p12_key, level="B-LT", tsa_url=pki.tsa_url, trust_roots=roots)
    stamper, ends = short_lived_tsa(pki, days=30)
    return with_document_timestamp(signed, stamper, roots), ends


@pytest.fixture
def pades_settings(settings: Any, pki: TestPki) -> Any:
    """The deployment's TSA and trust roots point at the test PKI."""
    settings.SARABAN_PADES = {"tsa_url": pki.tsa_url}
    settings.SARABAN_TRUST_ROOTS = [str(pki.path("root.cert.pem"))]
    return settings


@pytest.fixture
def other_agency(ministry: Organisation) -> Organisation:
    from saraban.directory.services import create_organisation

    return create_organisation(
        identifier="nakhon-nonthaburi", kind="municipality", name_th="เทศบาลนครนนทบุรี", letter_code="นบ 52001",
    )


# --- the PDF operation (no database) -----------------------------------------------------------------


def test_renewal_adds_one_document_timestamp_and_stays_valid(
    pki: TestPki, roots: list[asn1_x509.Certificate], lta_pdf: bytes, tmp_path: Path
) -> None:
    renewed = add_archival_timestamp(lta_pdf, tsa_url=pki.tsa_url, trust_roots=roots)
    assert renewed.startswith(lta_pdf)  # an incremental update: the signed revisions are untouched
    assert doc_timestamp_count(renewed) == doc_timestamp_count(lta_pdf) + 1
    assert_independently_valid(renewed, roots, tmp_path)
    report = verify_pdf(renewed, roots)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    assert report.signatures[0].level == "B-LTA"
    assert [s.kind for s in report.signatures].count("document_timestamp") == doc_timestamp_count(renewed)
    # the same TSA (certificate until 2050): the expiry stays
    assert newest_timestamp_expiry(lta_pdf) == newest_timestamp_expiry(renewed) == TSA_END_2050
    # and a renewal can be renewed again
    again = add_archival_timestamp(renewed, tsa_url=pki.tsa_url, trust_roots=roots)
    assert doc_timestamp_count(again) == doc_timestamp_count(renewed) + 1
    assert verify_pdf(again, roots).indication is Indication.TOTAL_PASSED


def test_renewal_of_a_short_lived_timestamp_moves_the_expiry_later(
    pki: TestPki, roots: list[asn1_x509.Certificate], expiring_pdf: tuple[bytes, dt.datetime], tmp_path: Path
) -> None:
    pdf, ends = expiring_pdf
    assert newest_timestamp_expiry(pdf) == ends
    assert_independently_valid(pdf, roots, tmp_path)  # the starting point is sound
    renewed = add_archival_timestamp(pdf, tsa_url=pki.tsa_url, trust_roots=roots)
    assert doc_timestamp_count(renewed) == 2
    assert newest_timestamp_expiry(renewed) == TSA_END_2050
    assert_independently_valid(renewed, roots, tmp_path)


def test_a_b_t_signature_becomes_b_lta(
    pki: TestPki, roots: list[asn1_x509.Certificate], p12_key: Pkcs12Key, small_pdf: bytes, tmp_path: Path
) -> None:
    bt = sign_pdf(small_pdf, p12_key, level="B-T", tsa_url=pki.tsa_url)
    assert newest_timestamp_expiry(bt) == TSA_END_2050  # the signature timestamp's TSA
    renewed = add_archival_timestamp(bt, tsa_url=pki.tsa_url, trust_roots=roots)
    assert doc_timestamp_count(renewed) == 1
    report = verify_pdf(renewed, roots)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    assert report.signatures[0].level == "B-LTA"
    assert report.signatures[0].revocation_source == "embedded"
    assert_independently_valid(renewed, roots, tmp_path)


def test_refusals_say_why(pki: TestPki, roots: list[asn1_x509.Certificate], lta_pdf: bytes,
                          small_pdf: bytes) -> None:
    cases = [
        (b"not a pdf at all", pki.tsa_url, roots, "renewal.unreadable"),
        (lta_pdf[: len(lta_pdf) // 2], pki.tsa_url, roots, "renewal.unreadable"),
        (small_pdf, pki.tsa_url, roots, "renewal.not_signed"),
        (lta_pdf, dead_tsa_url(), roots, "renewal.tsa_unreachable"),
        (lta_pdf, None, roots, "renewal.no_tsa"),
        # the newest timestamp does not chain to these roots: renewing it would prove nothing
        (lta_pdf, pki.tsa_url, [pki.cert("root2", "th-untrusted")], "renewal.timestamp_untrusted"),
    ]
    for pdf, url, trust, code in cases:
        with pytest.raises(RenewalFailed) as caught:
            add_archival_timestamp(pdf, tsa_url=url, trust_roots=trust)
        assert caught.value.code == code, (code, caught.value)
        assert caught.value.message_th and caught.value.message_en
    assert newest_timestamp_expiry(b"garbage") is None
    assert newest_timestamp_expiry(small_pdf) is None


def test_a_tampered_file_is_not_renewed(pki: TestPki, roots: list[asn1_x509.Certificate], lta_pdf: bytes) -> None:
    at = lta_pdf.index(b"100 100 l")
    tampered = lta_pdf[:at] + b"101" + lta_pdf[at + 3:]
    with pytest.raises(RenewalFailed) as caught:
        add_archival_timestamp(tampered, tsa_url=pki.tsa_url, trust_roots=roots)
    assert caught.value.code == "renewal.timestamp_broken"


# --- the archive (database) ------------------------------------------------------------------------


def _archive(pdf: bytes, organisation: Organisation) -> ArchivedPdf:
    return track_signed_pdf(store_file(pdf, "application/pdf"), organisation_id=organisation.pk)


@pytest.mark.django_db
def test_track_is_idempotent_and_keyed_by_content(
    agency: Organisation, other_agency: Organisation, lta_pdf: bytes, small_pdf: bytes
) -> None:
    first = _archive(lta_pdf, agency)
    assert first.current_id == first.original_id
    assert first.timestamp_expires_at == TSA_END_2050
    assert _archive(lta_pdf, agency).pk == first.pk
    # the receiver of the same signed bytes gets the same archive (renewed once, served to both)
    assert _archive(lta_pdf, other_agency).pk == first.pk
    assert ArchivedPdf.objects.count() == 1
    unsigned = _archive(small_pdf, agency)
    assert unsigned.timestamp_expires_at is None  # never due
    with pytest.raises(Exception) as caught:
        track_signed_pdf(store_file(b"%PDF-1.7 x", "application/pdf"), organisation_id=999_999)
    assert getattr(caught.value, "code", "") == "validation_failed"


@pytest.mark.django_db
def test_renew_due_renews_what_is_due_and_leaves_the_rest(
    pades_settings: Any, agency: Organisation, roots: list[asn1_x509.Certificate],
    expiring_pdf: tuple[bytes, dt.datetime], lta_pdf: bytes, tmp_path: Path,
) -> None:
    pdf, ends = expiring_pdf
    due = _archive(pdf, agency)
    not_due = _archive(lta_pdf, agency)
    assert due.timestamp_expires_at == ends
    plan = renewal_plan(within_days=90)
    assert [a.pk for a in plan.batch] == [due.pk] and plan.not_due == 1

    summary = renew_due(within_days=90)

    assert (summary.renewed, summary.failed, summary.not_due, summary.deferred) == (1, 0, 1, 0)
    due.refresh_from_db()
    assert due.renewals == 1 and due.renewed_at is not None and due.last_error == ""
    assert due.current_id != due.original_id
    assert due.timestamp_expires_at == TSA_END_2050 > ends  # moved later
    renewed = read_file(due.current_id)
    assert renewed.startswith(pdf) and doc_timestamp_count(renewed) == doc_timestamp_count(pdf) + 1
    assert_independently_valid(renewed, roots, tmp_path)
    assert read_file(due.original_id) == pdf  # the original stays as signed
    # downloads serve the renewal; an archive not yet renewed, or an untracked file, serves itself
    assert current_version(due.original) == due.current
    assert current_version(not_due.original) == not_due.original
    stray = store_file(b"%PDF-1.7 untracked", "application/pdf")
    assert current_version(stray) == stray
    # tracking the renewal itself (e.g. a download re-registered) finds the same archive
    assert track_signed_pdf(due.current, organisation_id=agency.pk).pk == due.pk
    # the one not due is untouched
    before = ArchivedPdf.objects.get(pk=not_due.pk)
    assert (before.renewals, before.current_id, before.renewed_at) == (0, not_due.original_id, None)
    # the next run finds nothing due
    again = renew_due(within_days=90)
    assert (again.renewed, again.failed, again.not_due) == (0, 0, 2)
    # the audit trail records the renewal
    from saraban.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="signature.archive_renewed", object_id=str(due.pk)).count() == 1


@pytest.mark.django_db
def test_expiry_that_stays_and_the_limit(
    pades_settings: Any, agency: Organisation, lta_pdf: bytes, expiring_pdf: tuple[bytes, dt.datetime]
) -> None:
    lta = _archive(lta_pdf, agency)
    short = _archive(expiring_pdf[0], agency)
    # seen from December 2049 both are due; the sooner one goes first and the limit defers the other
    later = dt.datetime(2049, 12, 1, tzinfo=dt.UTC)
    first = renew_due(within_days=90, now=later, limit=1)
    assert (first.renewed, first.deferred, first.outcomes[0].archive_id) == (1, 1, short.pk)
    second = renew_due(within_days=90, now=later)
    # the short one now ends in 2050 too, so both are renewed in this run
    assert second.renewed == 2 and second.failed == 0
    lta.refresh_from_db()
    assert lta.renewals == 1 and lta.timestamp_expires_at == TSA_END_2050  # stays: same TSA certificate


@pytest.mark.django_db
def test_tsa_down_records_the_error_and_exits_1(
    pades_settings: Any, agency: Organisation, expiring_pdf: tuple[bytes, dt.datetime],
) -> None:
    archive = _archive(expiring_pdf[0], agency)
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("renew_timestamps", "--tsa", dead_tsa_url(), stdout=out)
    assert caught.value.returncode == 1
    text = out.getvalue()
    assert "ไม่สำเร็จ 1" in text and "failed 1" in text
    archive.refresh_from_db()
    assert "TSA" in archive.last_error and "ติดต่อ" in archive.last_error
    assert (archive.renewals, archive.current_id, archive.renewed_at) == (0, archive.original_id, None)
    assert read_file(archive.original_id) == expiring_pdf[0]
    # once the TSA is back, the next run renews it and clears the error
    call_command("renew_timestamps", stdout=io.StringIO())
    archive.refresh_from_db()
    assert archive.renewals == 1 and archive.last_error == ""


@pytest.mark.django_db
def test_one_broken_file_does_not_stop_the_run(
    pades_settings: Any, agency: Organisation, expiring_pdf: tuple[bytes, dt.datetime]
) -> None:
    good = _archive(expiring_pdf[0], agency)
    broken = _archive(b"%PDF-1.7\nbroken beyond repair", agency)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    ArchivedPdf.objects.filter(pk=broken.pk).update(timestamp_expires_at=soon)  # due first
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("renew_timestamps", "--within-days", "60", stdout=out)
    assert caught.value.returncode == 1
    assert "แล้ว 1 ฉบับ" in out.getvalue() and "Renewed 1, failed 1" in out.getvalue()
    broken.refresh_from_db()
    good.refresh_from_db()
    assert broken.last_error and broken.renewals == 0 and broken.current_id == broken.original_id
    assert good.renewals == 1 and good.last_error == ""
    assert StoredFile.objects.filter(pk=good.current_id).exists()


@pytest.mark.django_db
def test_command_dry_run_and_bad_arguments(
    pades_settings: Any, agency: Organisation, expiring_pdf: tuple[bytes, dt.datetime]
) -> None:
    archive = _archive(expiring_pdf[0], agency)
    out = io.StringIO()
    call_command("renew_timestamps", "--dry-run", stdout=out)
    assert "would renew 1" in out.getvalue() and "จะต่ออายุ 1" in out.getvalue()
    archive.refresh_from_db()
    assert archive.renewals == 0
    with pytest.raises(CommandError) as caught:
        call_command("renew_timestamps", "--limit", "0", stdout=io.StringIO())
    assert caught.value.returncode == 2
    with pytest.raises(CommandError) as caught:
        call_command("renew_timestamps", "--within-days", "-5", stdout=io.StringIO())
    assert caught.value.returncode == 2 and "ติดลบ" in str(caught.value)
    pades_settings.SARABAN_PADES = {}
    with pytest.raises(CommandError) as caught:
        call_command("renew_timestamps", stdout=io.StringIO())
    assert caught.value.returncode == 2 and "TSA" in str(caught.value)
    # without a TSA but with nothing due, the daily job just reports and exits 0
    out = io.StringIO()
    call_command("renew_timestamps", "--within-days", "1", stdout=out)
    assert "not due 1" in out.getvalue()


@pytest.mark.django_db
def test_the_scheduled_task_runs_the_same_job(
    pades_settings: Any, agency: Organisation, expiring_pdf: tuple[bytes, dt.datetime]
) -> None:
    archive = _archive(expiring_pdf[0], agency)
    result = renew_archival_timestamps.call(within_days=90)
    assert result["renewed"] == 1 and result["failed"] == 0
    assert result["outcomes"][0]["archive_id"] == archive.pk
    archive.refresh_from_db()
    assert archive.renewals == 1
