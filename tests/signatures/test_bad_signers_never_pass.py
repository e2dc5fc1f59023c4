"""A revoked, expired or unverifiable signer's signature is never TOTAL_PASSED: the command line, the
/verify page and ``POST /api/verify`` give the same verdict, at B-B and B-T.

(B-LT cannot be made for these signers: pyHanko embeds validation data only for a certificate it can
validate, and Saraban refuses to sign with them at all; see test_signer_status.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from saraban.signatures.pades.sign import sign_pdf

from .conftest import minimal_pdf, p12
from .pki import TestPki
from .test_validation_on_receipt import trusted  # noqa: F401  (fixture)

LABELS = ("signer-revoked", "signer-expired", "signer-unreachable")
LEVELS = ("B-B", "B-T")
# What each may honestly be called: never TOTAL_PASSED, and the reason is the right one.
ALLOWED = {
    "signer-revoked": {("TOTAL_FAILED", "REVOKED"), ("INDETERMINATE", "REVOKED_NO_POE")},
    "signer-expired": {("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE"), ("INDETERMINATE", "OUT_OF_BOUNDS_NOT_REVOKED"),
                       ("TOTAL_FAILED", "EXPIRED"), ("INDETERMINATE", "EXPIRED")},
    "signer-unreachable": {("INDETERMINATE", "TRY_LATER")},
}


@pytest.fixture(scope="module")
def bad_pdfs(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """One PDF per signer and level, signed past Saraban's own refusal (as another product might)."""
    folder = tmp_path_factory.mktemp("bad-signers")
    made = {}
    for label in LABELS:
        for level in LEVELS:
            data = sign_pdf(minimal_pdf(), p12(pki, label), level=level,  # type: ignore[arg-type]
                            tsa_url=pki.tsa_url, check_signer=False)
            made[label, level] = folder / f"{label}-{level}.pdf"
            made[label, level].write_bytes(data)
    return made


def _verdict(report: dict[str, Any]) -> tuple[str, str]:
    sig = report["signatures"][0]
    return sig["indication"], sig["sub_indication"]


def test_the_command_line(bad_pdfs: dict[tuple[str, str], Path], pki: TestPki, tmp_path: Path) -> None:
    env = {**os.environ, "SARABAN_HOME": str(tmp_path)}
    env.pop("SARABAN_TRUST_ROOTS", None)
    keys = sorted(bad_pdfs)
    done = subprocess.run(
        [sys.executable, "-m", "saraban", "verify", "--json", "--trust", str(pki.path("root.cert.pem")),
         *[str(bad_pdfs[k]) for k in keys]], capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr
    reports = json.loads(done.stdout)
    for key, report in zip(keys, reports, strict=True):
        assert report["indication"] != "TOTAL_PASSED", key
        assert _verdict(report) in ALLOWED[key[0]], (key, _verdict(report))


@pytest.mark.django_db
@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("level", LEVELS)
def test_the_api_and_the_page(label: str, level: str, bad_pdfs: dict[tuple[str, str], Path],
                              trusted: None) -> None:  # noqa: F811
    data = bad_pdfs[label, level].read_bytes()
    api = Client().post("/api/verify", {"pdf": SimpleUploadedFile("x.pdf", data, "application/pdf")})
    assert api.status_code == 200, api.content
    body = api.json()
    assert body["indication"] != "TOTAL_PASSED" and _verdict(body) in ALLOWED[label], _verdict(body)
    page = Client().post("/verify", {"pdf": SimpleUploadedFile("x.pdf", data, "application/pdf")})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-indication="TOTAL_PASSED"' not in html and f'data-indication="{body["indication"]}"' in html
    assert body["signatures"][0]["sub_indication"] in html
