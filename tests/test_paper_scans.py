"""Registering a paper letter refuses a scan it cannot stamp or store, on the page and the API, keeping nothing.

Refused, each with a clear message in Thai and English and never a 500: a flate bomb (a 200 KB PDF
whose page inflates to 200 MB), a valid PDF over the size limit (``SARABAN_MAX_UPLOAD_MB``, 50 MB),
an upload far over it (refused before its body is read: not one byte), a ZIP archive behind a
``%PDF-1.7`` header. After each refusal there is no blob, no ``StoredFile`` row, no letter, no
register entry (no number drawn) and no audit event.
"""

from __future__ import annotations

import functools
import html
import io
import json
import os
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader, PdfWriter
from pypdf.errors import LimitReachedError
from pypdf.generic import NameObject, StreamObject

from saraban import settings as saraban_settings
from saraban.audit.models import AuditEvent
from saraban.core.errors import ValidationFailed
from saraban.directory.models import Person
from saraban.documents.models import StoredFile
from saraban.documents.services import FileTooLarge, store_file
from saraban.inbox import services as inbox
from saraban.inbox.models import IncomingLetter, IncomingSource
from saraban.registers.models import RegisterBook, RegisterEntry
from saraban.rendering import stamps
from saraban.web.i18n import LANG_COOKIE

from .api import Api, Side, side_b
from .api.test_api_inbox import blank_pdf

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
FIELDS = {
    "sender_name": "สำนักงานจังหวัดนนทบุรี", "letter_number": "นบ 0017/1234", "subject": "ขอความอนุเคราะห์ข้อมูล",
    "urgency": "normal", "secrecy": "normal",
}
PAPER = inbox.PaperLetter(sender_name=FIELDS["sender_name"], letter_number="", letter_date=None,
                          subject=FIELDS["subject"])


# ---- the files ----------------------------------------------------------------------------------------


def pdf_with_content(content: bytes, *, deflated: bool) -> bytes:
    """A one-page A4 PDF whose page content stream is ``content`` (deflated as tight as zlib can when asked)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = StreamObject()
    stream._data = zlib.compress(content, 9) if deflated else content
    if deflated:
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.cache
def flate_bomb() -> bytes:
    """About 200 KB whose only page's content inflates to 200 MB of zeros (built once, in about a second)."""
    return pdf_with_content(b"0" * 200_000_000, deflated=True)


def valid_pdf_of(size: int) -> bytes:
    """A valid one-page PDF of a little more than ``size`` bytes (its content: one long PDF comment)."""
    return pdf_with_content(b"%" + b"x" * size + b"\n0 0 m\n", deflated=False)


def zip_behind_pdf_header(method: int = zipfile.ZIP_STORED) -> bytes:
    """``%PDF-1.7`` and then a ZIP archive holding a PDF (stored: pypdf finds its pages) and a program."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", method) as z:
        z.writestr("letter.pdf", blank_pdf())
        z.writestr("payload.exe", b"MZ" + bytes(1000))
    return b"%PDF-1.7\n" + archive.getvalue()


def png(width: int, height: int) -> bytes:
    """An RGB PNG of random pixels (it does not compress: about 3 × width × height bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")


# ---- the routes and what they leave behind ------------------------------------------------------------------


@pytest.fixture
def b(db: None) -> Side:
    return side_b()


def kept(tmp_path: Path) -> dict[str, Any]:
    """Everything a registration writes: blob files (temporary ones too), rows, numbers, audit events."""
    blobs = tmp_path / "blobs"
    return {
        "blobs": sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else [],
        "stored_files": StoredFile.objects.count(), "letters": IncomingLetter.objects.count(),
        "books": RegisterBook.objects.count(), "entries": RegisterEntry.objects.count(),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)),
    }


Post = Callable[..., Any]


def web_client(person: Person, lang: str = "th") -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(person)
    if lang == "en":
        client.cookies[LANG_COOKIE] = "en"
    return client


@pytest.fixture(params=["web", "api"])
def route(request: pytest.FixtureRequest, b: Side) -> str:
    return str(request.param)


@pytest.fixture
def post(route: str, b: Side) -> Post:
    """Register through ``route`` with the typed fields and the given files (name, content, type)."""
    api = b.apis["clerk"].client
    api.raise_request_exception = False
    web = {lang: web_client(b.people["clerk"], lang) for lang in ("th", "en")}

    def send(files: list[tuple[str, bytes, str]], lang: str = "th") -> Any:
        uploads = [SimpleUploadedFile(name, data, kind) for name, data, kind in files]
        if route == "web":
            return web[lang].post("/inbox/register/", {**FIELDS, "scan": uploads})
        return api.post("/api/inbox/paper", {**FIELDS, "scans": uploads})

    return send


def refused(route: str, post: Post, files: list[tuple[str, bytes, str]], status: int) -> tuple[str, str]:
    """The (Thai, English) texts of the refusal: the API's JSON, or the page in each language (two posts).

    The page shows the form again, with the message next to the file box.
    """
    texts = []
    for lang in ("th", "en") if route == "web" else ("th",):
        response = post(files, lang)
        assert response.status_code == status, response.content.decode()[:3000]
        assert b"Traceback" not in response.content
        if route == "api":
            body = json.loads(response.content)
            assert body["code"] and body["message_th"] and body["message_en"], body
            pairs = [(body["message_th"], body["message_en"])]
            pairs += [(p["message_th"], p["message_en"]) for p in body["problems"]]
            return " / ".join(t for t, _ in pairs), " / ".join(e for _, e in pairs)
        page = html.unescape(response.content.decode())
        assert 'name="sender_name"' in page and 'type="file"' in page  # the form again
        texts.append(page)
    return texts[0], texts[1]


# ---- a flate bomb ---------------------------------------------------------------------------------------------


def test_the_flate_bomb_is_small_and_pypdf_refuses_to_inflate_it() -> None:
    bomb = flate_bomb()
    assert len(bomb) < 300_000
    with pytest.raises(LimitReachedError):
        PdfReader(io.BytesIO(bomb)).pages[0].get_contents().get_data()  # type: ignore[union-attr]


def test_a_flate_bomb_is_refused_in_thai_and_english_and_nothing_is_kept(
    route: str, post: Post, b: Side, tmp_path: Path
) -> None:
    before = kept(tmp_path)
    started = time.monotonic()
    th, en = refused(route, post, [("scan.pdf", flate_bomb(), "application/pdf")], 422)
    assert time.monotonic() - started < 20
    assert "ใหญ่เกินที่ระบบรับได้" in th and "too large once decompressed" in en
    assert kept(tmp_path) == before


def test_a_flate_bomb_delivered_electronically_cannot_be_registered(b: Side, tmp_path: Path) -> None:
    incoming = IncomingLetter.objects.create(
        organisation=b.org, source=IncomingSource.ELECTRONIC, sender_name="กรมบัญชีกลาง", subject="เรื่อง",
        original=store_file(flate_bomb(), "application/pdf"), delivered_at=timezone.now(),
    )
    before = kept(tmp_path)
    with pytest.raises(ValidationFailed) as refused:
        inbox.register(incoming, actor=b.people["clerk"])
    assert refused.value.problems[0].code == "unreadable"
    assert kept(tmp_path) == before
    assert IncomingLetter.objects.get(pk=incoming.pk).receive_number is None


# ---- over the size limit ---------------------------------------------------------------------------------------


def test_the_limit_is_a_setting_of_50_mb_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.conf import settings

    monkeypatch.delenv("SARABAN_MAX_UPLOAD_MB", raising=False)
    assert saraban_settings._max_upload_bytes() == 50 * MB == settings.SARABAN_MAX_UPLOAD_BYTES
    monkeypatch.setenv("SARABAN_MAX_UPLOAD_MB", "12.5")
    assert saraban_settings._max_upload_bytes() == int(12.5 * MB)
    for wrong in ("0", "-1", "many", "nan", "inf", "5000"):
        monkeypatch.setenv("SARABAN_MAX_UPLOAD_MB", wrong)
        with pytest.raises(ImproperlyConfigured, match="SARABAN_MAX_UPLOAD_MB"):
            saraban_settings._max_upload_bytes()


def test_a_valid_60_mb_pdf_is_refused_by_the_service_naming_the_limit(b: Side, tmp_path: Path) -> None:
    pdf = valid_pdf_of(60 * MB)
    before = kept(tmp_path)
    with pytest.raises(FileTooLarge) as refused:
        inbox.register_paper(b.org, PAPER, scans=[(pdf, "application/pdf")], actor=b.people["clerk"])
    assert "50 MB" in refused.value.message_th and "50 MB" in refused.value.message_en
    assert refused.value.problems[0].field == "scan"
    assert kept(tmp_path) == before


def test_a_valid_pdf_over_the_limit_is_413_naming_the_limit(
    route: str, post: Post, b: Side, tmp_path: Path, settings: Any
) -> None:
    settings.SARABAN_MAX_UPLOAD_BYTES = 1 * MB  # the body (1.2 MB) is read: the file is dropped as it streams
    pdf = valid_pdf_of(1_200_000)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    before = kept(tmp_path)
    th, en = refused(route, post, [("scan.pdf", pdf, "application/pdf")], 413)
    assert "รับได้ไม่เกิน 1 MB" in th and "at most 1 MB is accepted" in en
    if route == "web":  # the typed fields came before the file: they are shown again
        assert FIELDS["sender_name"] in th and FIELDS["letter_number"] in th
    assert kept(tmp_path) == before


def test_page_images_over_the_limit_together_are_refused_not_registered_without_the_last(
    route: str, post: Post, b: Side, tmp_path: Path, settings: Any
) -> None:
    settings.SARABAN_MAX_UPLOAD_BYTES = 1 * MB
    pages = [(f"p{i}.png", png(350, 400), "image/png") for i in (1, 2, 3)]  # 420 KB each: the third goes over
    before = kept(tmp_path)
    th, en = refused(route, post, pages, 413)
    assert "รวมทุกไฟล์" in th and "all files together" in en
    assert kept(tmp_path) == before
    assert post(pages[:2]).status_code in (201, 302)  # two pages fit: registered, the first number
    assert IncomingLetter.objects.get().receive_number == 1


class Body:
    """A multipart body of ``size`` bytes made as it is read (never held whole): fields, a file, the end."""

    BOUNDARY = "saraban-test-boundary"

    def __init__(self, size: int, file_field: str) -> None:
        head = "".join(f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                       for k, v in FIELDS.items())
        head += (f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="scan.pdf"\r\n'
                 "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n")
        self.head, self.tail = head.encode(), f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self.size, self.read_so_far = size, 0

    def _byte(self, pos: int) -> bytes:
        if pos < len(self.head):
            return self.head[pos:pos + 1]
        tail_start = self.size - len(self.tail)
        return self.tail[pos - tail_start:pos - tail_start + 1] if pos >= tail_start else b"0"

    def read(self, n: int | None = -1) -> bytes:
        n = self.size - self.read_so_far if n is None or n < 0 else min(n, self.size - self.read_so_far)
        start, self.read_so_far = self.read_so_far, self.read_so_far + n
        if start >= len(self.head) and start + n <= self.size - len(self.tail):
            return b"0" * n  # the bulk of the file, quickly
        return b"".join(self._byte(p) for p in range(start, start + n))

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size)

    def environ(self) -> dict[str, Any]:
        """The WSGI environ of a request with this body: its type, its declared length, the stream."""
        return {"CONTENT_TYPE": f"multipart/form-data; boundary={self.BOUNDARY}", "CONTENT_LENGTH": str(self.size),
                "wsgi.input": self}


@pytest.mark.parametrize("size", [60 * MB, 200 * MB])
def test_an_upload_far_over_the_limit_is_refused_before_a_byte_is_read(
    size: int, route: str, b: Side, tmp_path: Path
) -> None:
    body = Body(size, "scan" if route == "web" else "scans")
    if route == "web":
        client = web_client(b.people["clerk"], "en")
        path = "/inbox/register/"
    else:
        client = b.apis["clerk"].client
        client.raise_request_exception = False
        path = "/api/inbox/paper"
    before = kept(tmp_path)
    started = time.monotonic()
    response = client.generic("POST", path, **body.environ())
    assert time.monotonic() - started < 10
    assert response.status_code == 413, response.content.decode()[:3000]
    text = html.unescape(response.content.decode())
    assert "at most 50 MB is accepted" in text
    if route == "api":
        assert "รับได้ไม่เกิน 50 MB" in text and json.loads(response.content)["code"] == "file.too_large"
    else:  # the form again, saying that what was typed did not arrive
        assert 'name="sender_name"' in text and 'type="file"' in text and "fill it in again" in text
    assert body.read_so_far == 0
    assert kept(tmp_path) == before


def test_a_body_within_reach_is_streamed_and_its_file_dropped_as_it_goes_over(
    route: str, b: Side, tmp_path: Path, settings: Any
) -> None:
    settings.SARABAN_MAX_UPLOAD_BYTES = 1 * MB  # 3 MB is under the body's limit (1 MB + the form's 2.5 MB + 1 MB)
    body = Body(3 * MB, "scan" if route == "web" else "scans")
    client = web_client(b.people["clerk"]) if route == "web" else b.apis["clerk"].client
    before = kept(tmp_path)
    response = client.generic("POST", "/inbox/register/" if route == "web" else "/api/inbox/paper", **body.environ())
    assert response.status_code == 413, response.content.decode()[:3000]
    assert body.read_so_far == 3 * MB  # read through in chunks, the file's bytes dropped after the first 1 MB
    text = html.unescape(response.content.decode())
    assert "รับได้ไม่เกิน 1 MB" in text
    if route == "web":
        assert FIELDS["sender_name"] in text  # the typed fields are shown again
    assert kept(tmp_path) == before


def test_the_api_answers_413_before_authentication_reads_anything(b: Side) -> None:
    body = Body(200 * MB, "scans")
    response = Api(None).client.generic("POST", "/api/inbox/paper", **body.environ())
    assert response.status_code == 413 and body.read_so_far == 0


def test_the_413_is_in_the_openapi_document() -> None:
    from saraban.api.main import api

    responses = api.get_openapi_schema()["paths"]["/api/inbox/paper"]["post"]["responses"]
    assert 413 in responses and 201 in responses


# ---- a ZIP behind a PDF header ------------------------------------------------------------------------------


def test_pypdf_alone_takes_the_zip_for_a_one_page_pdf() -> None:
    assert len(PdfReader(io.BytesIO(zip_behind_pdf_header())).pages) == 1
    assert zipfile.is_zipfile(io.BytesIO(zip_behind_pdf_header()))


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_zip_behind_a_pdf_header_is_refused_and_nothing_is_kept(
    method: int, route: str, post: Post, b: Side, tmp_path: Path
) -> None:
    before = kept(tmp_path)
    th, en = refused(route, post, [("scan.pdf", zip_behind_pdf_header(method), "application/pdf")], 422)
    assert "ไม่ใช่ PDF" in th and "not a PDF" in en
    assert kept(tmp_path) == before


@pytest.mark.parametrize("data", [
    b"%PDF-1.7PK\x03\x04" + bytes(100),
    b"%PDF-1.4\r\n%\xe2\xe3\xcf\xd3\r\nPK\x03\x04" + bytes(100),
    b"%PDF-1.7\n" + b"not a pdf at all " * 100,
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",  # no page
])
def test_what_is_not_a_parseable_pdf_with_a_page_is_refused(data: bytes, b: Side, tmp_path: Path) -> None:
    before = kept(tmp_path)
    with pytest.raises(ValidationFailed) as refused:
        inbox.register_paper(b.org, PAPER, scans=[(data, "application/pdf")], actor=b.people["clerk"])
    assert refused.value.problems[0].field == "scan" and refused.value.problems[0].code in ("format", "unreadable")
    assert kept(tmp_path) == before


def test_real_pdfs_are_not_taken_for_zips() -> None:
    from saraban.regulation.content import LetterContent
    from saraban.rendering.letters import render_letter

    letter = render_letter(LetterContent.model_validate({"type": "external", "subject": "สแกน", "body": ["ข้อความ"]}))
    for pdf in (blank_pdf(), letter, valid_pdf_of(10_000), pdf_with_content(os.urandom(300_000), deflated=False)):
        assert stamps.readable_pdf(pdf) == 1


# ---- a stamp that fails after the number is drawn --------------------------------------------------------------------


def test_a_scan_that_fails_to_stamp_leaves_no_file_and_no_number(
    b: Side, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot_stamp(pdf: bytes, stamp: bytes) -> bytes:
        raise stamps.PdfError("broken resources")

    monkeypatch.setattr(inbox, "stamp_first_page", cannot_stamp)
    before = kept(tmp_path)
    with pytest.raises(ValidationFailed) as refused:
        inbox.register_paper(b.org, PAPER, scans=[(blank_pdf(), "application/pdf")], actor=b.people["clerk"])
    assert refused.value.problems[0].code == "unreadable"
    assert kept(tmp_path) == before
    monkeypatch.undo()
    registered = inbox.register_paper(b.org, PAPER, scans=[(blank_pdf(), "application/pdf")], actor=b.people["clerk"])
    assert registered.receive_number == 1  # the refused attempt drew none
    after = kept(tmp_path)
    assert after["stored_files"] == 2 and len(after["blobs"]) == 2  # the scan and its stamped copy
    assert after["audit"][len(before["audit"]):].count("incoming.registered") == 1


# ---- the page still checks CSRF ---------------------------------------------------------------------------------


def test_the_page_still_refuses_a_post_without_its_csrf_token(b: Side, tmp_path: Path) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(b.people["clerk"])
    form = browser.get("/inbox/register/")
    token = browser.cookies["csrftoken"].value
    scan = [("scan.pdf", blank_pdf(), "application/pdf")]
    before = kept(tmp_path)

    def data() -> dict[str, Any]:
        return {**FIELDS, "scan": [SimpleUploadedFile(n, d, t) for n, d, t in scan]}

    assert form.status_code == 200
    assert browser.post("/inbox/register/", data()).status_code == 403
    assert kept(tmp_path) == before
    assert browser.post("/inbox/register/", {"csrfmiddlewaretoken": token, **data()}).status_code == 302
    assert IncomingLetter.objects.get().receive_number == 1
