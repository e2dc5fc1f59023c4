"""The public /verify page: uploads and QR codes, no sign-in, clear answers for bad input."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from saraban.correspondence.services import create_letter
from saraban.directory.models import Organisation, Person
from saraban.signatures.models import Signature
from saraban.web.i18n import LANG_COOKIE

from ..helpers import signed
from ..test_letters import example


@pytest.mark.django_db
def test_an_unsigned_or_broken_upload_gets_a_report_not_an_error() -> None:
    client = Client()
    page = client.get("/verify")
    assert page.status_code == 200 and "ตรวจสอบลายมือชื่ออิเล็กทรอนิกส์" in page.content.decode()
    broken = client.post("/verify", {"pdf": SimpleUploadedFile("x.pdf", b"%PDF-1.7 truncated", "application/pdf")})
    assert broken.status_code == 200 and "FORMAT_FAILURE" in broken.content.decode()
    assert client.post("/verify", {}).status_code == 400


@pytest.mark.django_db
def test_a_file_that_is_not_a_pdf_is_said_to_be_no_pdf_not_a_failed_signature() -> None:
    """Issue 17 (minor, /verify): a .txt reads "ไฟล์นี้ไม่ใช่ PDF", not as a signature that failed."""
    client = Client()
    text = client.post("/verify", {"pdf": SimpleUploadedFile("notes.txt", "บันทึกข้อความ".encode(), "text/plain")})
    html = text.content.decode()
    assert text.status_code == 200 and "ไฟล์นี้ไม่ใช่ PDF จึงไม่มีลายมือชื่อดิจิทัลให้ตรวจสอบ" in html
    assert "ไม่ใช่ไฟล์ PDF</strong>" in html and ">TOTAL_FAILED" not in html and ">ไม่ถูกต้อง<" not in html
    assert "ไม่ถูกต้องตามหลักการเข้ารหัส" not in html and "ผิดรูปแบบหรือเสียหาย" not in html.split("<main", 1)[-1][:600]
    english = Client()
    english.cookies[LANG_COOKIE] = "en"
    answer = english.post("/verify", {"pdf": SimpleUploadedFile("notes.txt", b"plain text", "text/plain")})
    assert "This file is not a PDF" in answer.content.decode()


@pytest.mark.django_db
def test_the_qr_code_of_a_signed_letter_opens_its_record(agency: Organisation, clerk: Person, signer: Person) -> None:
    letter = signed(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer)
    digest = Signature.objects.get(letter=letter).pdf_sha256
    page = Client().get(f"/verify?d={digest}")
    body = page.content.decode()
    assert page.status_code == 200 and signer.display_name in body and "รองปลัดสำนักนายกรัฐมนตรี" in body
    assert Client().get("/verify?d=" + "0" * 64).status_code == 404
    assert Client().get("/verify?d=not-a-digest").status_code == 400
