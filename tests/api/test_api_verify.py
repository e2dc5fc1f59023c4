"""The verification API: ``POST /api/verify`` (public upload), ``GET /api/inbox/{id}/validation`` (kept on receipt)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from pypdf import PdfWriter

from saraban.api.routers import verify as verify_router
from saraban.directory.models import Organisation, Person
from saraban.inbox.models import IncomingLetter
from saraban.inbox.services import PaperLetter, register_paper
from saraban.signatures.models import ValidationRecord
from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.sign import sign_pdf
from tests.signatures.conftest import minimal_pdf, p12_key, pki, roots  # noqa: F401  (fixtures)
from tests.signatures.pki import TestPki
from tests.signatures.test_validation_on_receipt import (
    deliver_pdf,
    numbered_letter,
    pades_letter,
    run_queued_validations,
    trusted,  # noqa: F401  (fixture)
)
from tests.web import test_workflow_pages as workflow

from . import person_with_token

pytestmark = pytest.mark.django_db
other_org = workflow.other_org
other_clerk = workflow.other_clerk


def upload(data: bytes, name: str = "letter.pdf") -> dict[str, Any]:
    return {"pdf": SimpleUploadedFile(name, data, content_type="application/pdf")}


def post_verify(data: bytes) -> Any:
    """An anonymous upload: no token, no session, no CSRF token."""
    return Client(enforce_csrf_checks=True).post("/api/verify", upload(data))


def test_a_signed_pdf_gives_the_same_json_as_the_command(
    p12_key: Pkcs12Key, trusted: None, tmp_path: Path  # noqa: F811
) -> None:
    signed = sign_pdf(minimal_pdf(), p12_key)
    response = post_verify(signed)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["indication"] == "TOTAL_PASSED" and body["signatures"][0]["signer"] == "นายทดสอบ ลงนาม"
    assert body["explained"]["verdict_th"] == "ผลรวม: ลายมือชื่อทั้ง 1 รายการถูกต้อง"
    assert body["explained"]["signatures"][0]["level"] == "B-B"
    assert isinstance(body["seconds"], float)
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    out = io.StringIO()
    call_command("verify", str(path), "--json", stdout=out)
    from_command = json.loads(out.getvalue())
    assert {k: v for k, v in body.items() if k not in ("seconds", "explained")} == from_command


def test_a_tampered_pdf_is_failed(p12_key: Pkcs12Key, trusted: None) -> None:  # noqa: F811
    signed = sign_pdf(minimal_pdf(b"0 0 m 100 100 l S"), p12_key)
    at = signed.index(b"100 100 l")
    body = post_verify(signed[:at] + b"101" + signed[at + 3:]).json()
    assert body["indication"] == "TOTAL_FAILED" and body["signatures"][0]["sub_indication"] == "HASH_FAILURE"
    assert "ถูกแก้ไขหลังลงนาม" in body["explained"]["signatures"][0]["reason_th"]


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("open-sesame")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("data, sub", [
    (b"GIF89a not a pdf", "FORMAT_FAILURE"),
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog", "FORMAT_FAILURE"),  # truncated
    (minimal_pdf(), "SIGNED_DATA_NOT_FOUND"),  # no signature
])
def test_bad_files_get_a_report_not_an_error(data: bytes, sub: str, trusted: None) -> None:  # noqa: F811
    response = post_verify(data)
    assert response.status_code == 200
    body = response.json()
    assert body["sub_indication"] == sub and body["indication"] != "TOTAL_PASSED"
    assert body["explanation_th"] and body["explanation_en"] and body["explained"]["verdict_th"]


def test_an_encrypted_pdf_is_reported(trusted: None) -> None:  # noqa: F811
    body = post_verify(encrypted_pdf()).json()
    assert body["indication"] == "TOTAL_FAILED" and "encrypted" in (body["problem"] or "")


def test_empty_missing_and_too_large_uploads_are_json_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    empty = post_verify(b"")
    assert empty.status_code == 422 and empty.json()["code"] == "verify.empty"
    assert empty.json()["message_th"] and empty.json()["message_en"]
    missing = Client().post("/api/verify", {})
    assert missing.status_code == 400 and missing.json()["problems"][0]["field"] == "pdf"
    monkeypatch.setattr(verify_router, "MAX_VERIFY_BYTES", 1024)
    large = post_verify(b"%PDF-1.7\n" + b"0" * 2048)
    assert large.status_code == 413
    assert large.json()["code"] == "verify.too_large" and "MB" in large.json()["message_th"]
    assert Client().get("/api/verify").status_code in (404, 405)


def test_the_upload_route_is_in_the_openapi_document_as_public() -> None:
    document = json.loads(Client().get("/api/openapi.json").content)
    operation = document["paths"]["/api/verify"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert not operation.get("security")
    assert document["paths"]["/api/inbox/{incoming_id}/validation"]["get"].get("security")


# --- the report stored on receipt --------------------------------------------------------------------

@pytest.fixture
def signed_incoming(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, pki: TestPki,  # noqa: F811
    roots: list[x509.Certificate], p12_key: Pkcs12Key, trusted: None,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> IncomingLetter:
    letter = numbered_letter(agency, clerk, signer, other_org, subject="หนังสือลงนามดิจิทัลของหน่วยงานเอ")
    return deliver_pdf(letter, other_org, pades_letter(letter, p12_key, pki, roots),
                       django_capture_on_commit_callbacks)


def session(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_the_stored_report_pending_then_validated(signed_incoming: IncomingLetter, other_clerk: Person) -> None:
    url = f"/api/inbox/{signed_incoming.pk}/validation"
    client = session(other_clerk)
    pending = client.get(url)
    assert pending.status_code == 200 and pending.json()["status"] == "pending"
    assert pending.json()["report"] is None
    run_queued_validations()
    record = ValidationRecord.objects.get()
    body = client.get(url).json()
    assert body["status"] == "validated" and body["indication"] == "TOTAL_PASSED"
    assert body["signature_count"] == 1 and body["validated_at"] == record.validated_at.isoformat()
    assert body["report"]["signatures"][0]["level"] == "B-LT"
    assert body["report"]["signatures"][0]["revocation_source"] == "embedded"
    assert body["report"]["explained"]["signatures"][0]["signer"] == "นายทดสอบ ลงนาม"
    assert {k: v for k, v in body["report"].items() if k != "explained"} == record.report


def test_the_stored_report_is_tenant_checked(
    signed_incoming: IncomingLetter, clerk: Person, other_clerk: Person
) -> None:
    run_queued_validations()
    url = f"/api/inbox/{signed_incoming.pk}/validation"
    assert Client().get(url).status_code == 401
    refused = session(clerk).get(url)  # the sender's clerk: not the recipient's copy
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert "นายทดสอบ" not in refused.content.decode()
    _stranger, api = person_with_token("stranger", "นายแปลก หน้า")  # a token, but no role anywhere
    assert api.get(f"/inbox/{signed_incoming.pk}/validation").status_code == 404
    assert session(other_clerk).get("/api/inbox/999999/validation").status_code == 404


def test_a_paper_letter_has_no_report(other_org: Organisation, other_clerk: Person) -> None:
    paper = register_paper(other_org, PaperLetter(
        sender_name="อำเภอเมือง", letter_number="นบ 0017/1", letter_date=None, subject="หนังสือกระดาษ",
    ), scans=[(minimal_pdf(), "application/pdf")], actor=other_clerk)
    body = session(other_clerk).get(f"/api/inbox/{paper.pk}/validation").json()
    assert body["status"] == "not_applicable" and body["indication"] is None


def test_a_token_client_reads_its_own_report(signed_incoming: IncomingLetter, other_org: Organisation) -> None:
    from saraban.directory.services import assign_role

    person, api = person_with_token("nont.api", "ระบบเชื่อมโยงนนทบุรี")
    assign_role(person, other_org, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    run_queued_validations()
    assert api.get(f"/inbox/{signed_incoming.pk}/validation").json()["indication"] == "TOTAL_PASSED"
