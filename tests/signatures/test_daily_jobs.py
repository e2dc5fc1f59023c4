"""The daily jobs: revocation checks of registered certificates, expiry warnings, enqueued once a day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from saraban.directory.models import Organisation, Person
from saraban.signatures.daily import enqueue_if_due, run_daily_jobs
from saraban.signatures.models import ExpiryNotice, RevocationStatus, SigningCertificate
from saraban.signatures.registry import register_pkcs12

from .pki import PASSWORD, TestPki


@pytest.fixture(autouse=True)
def _anchors_in_tmp(tmp_path: Path, settings: Any) -> None:
    """The daily run anchors the audit chains: into the test's folder, not SARABAN_HOME."""
    settings.SARABAN_AUDIT_ANCHORS = tmp_path / "audit-anchors.jsonl"


@pytest.mark.django_db
def test_the_daily_run_checks_revocation_and_warns_of_expiry(
    pki: TestPki, agency: Organisation, signer: Person,
) -> None:
    good = register_pkcs12(organisation=agency, holder=signer, data=pki.path("signer.p12").read_bytes(),
                           password=PASSWORD, actor=signer)
    revoked = register_pkcs12(organisation=agency, holder=signer, data=pki.path("signer-revoked.p12").read_bytes(),
                              password=PASSWORD, actor=signer)
    with override_settings(SARABAN_TRUST_ROOTS=[str(pki.path("root.cert.pem"))]):
        # Thirty days before the good certificate ends: its 30-day warning is due.
        result = run_daily_jobs(today=(good.not_after - dt.timedelta(days=29)).date())
    assert result.revocation_checked == 2 and result.revoked == 1
    assert SigningCertificate.objects.get(pk=revoked.pk).revocation_status == RevocationStatus.REVOKED
    assert SigningCertificate.objects.get(pk=good.pk).revocation_status == RevocationStatus.GOOD
    assert ExpiryNotice.objects.filter(certificate=good, threshold_days=30).exists()
    assert result.notices == 1  # the holder; the fixture's organisation has no administrator


@pytest.mark.django_db
def test_the_daily_run_is_enqueued_once_a_day(tmp_path: Path) -> None:
    with override_settings(SARABAN_HOME=tmp_path):
        morning = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)
        assert enqueue_if_due(morning) is True
        assert enqueue_if_due(morning + dt.timedelta(hours=5)) is False
        assert enqueue_if_due(morning + dt.timedelta(days=1)) is True


@pytest.mark.django_db
def test_the_command_reports_in_thai_and_english(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("daily_jobs")
    out = capsys.readouterr().out
    assert "ตรวจสถานะการเพิกถอน 0 ใบ" in out and "Revocation checked: 0" in out
