"""The receiver's incoming-letter page shows the validation report stored on receipt (or that it is pending)."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import x509

from saraban.core.thai import format_thai_datetime
from saraban.directory.models import Organisation, Person
from saraban.inbox.models import IncomingLetter
from saraban.inbox.services import PaperLetter, register_paper
from saraban.signatures.models import ValidationRecord
from saraban.signatures.pades.keys import Pkcs12Key
from tests.signatures.conftest import minimal_pdf, p12_key, pki, roots  # noqa: F401  (fixtures)
from tests.signatures.pki import TestPki
from tests.signatures.test_validation_on_receipt import (
    deliver_pdf,
    numbered_letter,
    pades_letter,
    run_queued_validations,
    trusted,  # noqa: F401  (fixture)
)

from . import test_workflow_pages as workflow
from .test_workflow_pages import client_for

pytestmark = pytest.mark.django_db
other_org = workflow.other_org
other_clerk = workflow.other_clerk


@pytest.fixture
def signed_incoming(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, pki: TestPki,  # noqa: F811
    roots: list[x509.Certificate], p12_key: Pkcs12Key, trusted: None,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> IncomingLetter:
    """A PAdES B-LT signed letter delivered to ``other_org``, its validation queued but not run."""
    letter = numbered_letter(agency, clerk, signer, other_org, subject="หนังสือลงนามดิจิทัลทดสอบ")
    return deliver_pdf(letter, other_org, pades_letter(letter, p12_key, pki, roots),
                       django_capture_on_commit_callbacks)


def test_the_page_says_pending_then_shows_the_stored_verdict(
    signed_incoming: IncomingLetter, other_clerk: Person
) -> None:
    client = client_for(other_clerk)
    page = client.get(f"/inbox/{signed_incoming.pk}/").content.decode()
    assert "ผลตรวจสอบลายมือชื่อ ณ วันที่รับ" in page and "กำลังตรวจสอบลายมือชื่อ" in page
    assert "TOTAL_PASSED" not in page

    assert run_queued_validations() == 1
    record = ValidationRecord.objects.get()
    response = client.get(f"/inbox/{signed_incoming.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "กำลังตรวจสอบลายมือชื่อ" not in page
    assert f"ตรวจสอบเมื่อ {format_thai_datetime(record.validated_at)}" in page
    assert 'data-indication="TOTAL_PASSED"' in page
    assert "ผลรวม: ลายมือชื่อทั้ง 1 รายการถูกต้อง" in page  # the overall verdict in plain Thai
    assert "นายทดสอบ ลงนาม" in page and "B-LT" in page  # signer and level
    assert "ไม่ถูกเพิกถอน (ข้อมูลที่ฝังในเอกสาร)" in page  # revocation status and its source
    assert "หลังลงนามมีเพียงการเพิ่มข้อมูลเพื่อการตรวจสอบระยะยาว" in page  # modifications
    assert "ลงนามเมื่อ" in page and " น." in page  # the signing time in Thai

    english = client_for(other_clerk, "en").get(f"/inbox/{signed_incoming.pk}/").content.decode()
    assert "Validated on" in english and "Overall: all 1 signatures are valid" in english
    assert "not revoked (data embedded in the document)" in english


def test_the_stored_verdict_is_shown_even_if_a_later_check_would_differ(
    signed_incoming: IncomingLetter, other_clerk: Person, settings: Any, pki: TestPki  # noqa: F811
) -> None:
    run_queued_validations()
    settings.SARABAN_TRUST_ROOTS = [str(pki.path("root2.cert.pem"))]  # the test root no longer trusted
    page = client_for(other_clerk).get(f"/inbox/{signed_incoming.pk}/").content.decode()
    assert 'data-indication="TOTAL_PASSED"' in page


def test_another_organisation_gets_404(signed_incoming: IncomingLetter, clerk: Person) -> None:
    run_queued_validations()
    client = client_for(clerk)  # the sender's clerk: the recipient's copy is not theirs
    assert client.get(f"/inbox/{signed_incoming.pk}/").status_code == 404


def test_a_paper_letter_has_no_validation_section(other_org: Organisation, other_clerk: Person) -> None:
    paper = register_paper(other_org, PaperLetter(
        sender_name="อำเภอเมือง", letter_number="นบ 0017/1", letter_date=None, subject="หนังสือกระดาษ",
    ), scans=[(minimal_pdf(), "application/pdf")], actor=other_clerk)
    page = client_for(other_clerk).get(f"/inbox/{paper.pk}/").content.decode()
    assert "หนังสือกระดาษ" in page and "ผลตรวจสอบลายมือชื่อ ณ วันที่รับ" not in page
