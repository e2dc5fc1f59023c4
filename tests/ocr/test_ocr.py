"""Thai OCR of scans: a paper letter's scan is read in the background into a searchable PDF/A.

The scans are Saraban's own letters printed to 300 dpi grey images and turned a little, as a
scanner would. Reading them runs the real OCRmyPDF and Tesseract (``tesseract-ocr-tha``); each
reading takes a few seconds, so these tests are marked ``ocr`` (OCR is off in the others).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from saraban.directory.models import Organisation, Person
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file, store_file
from saraban.inbox.models import IncomingLetter
from saraban.inbox.services import PaperLetter, register_paper
from saraban.ocr import reading as ocr_reading
from saraban.ocr import services as ocr
from saraban.ocr.models import ReadingStatus, ScanReading
from saraban.ocr.reading import ReadingOptions, ScanUnreadable, read_scan
from saraban.ocr.worker import MAX_ATTEMPTS, run_reading
from saraban.regulation.content import parse_letter_json
from saraban.rendering.letters import render_letter
from saraban.search.engine import search
from saraban.search.extract import text_of
from saraban.search.models import ExtractedText
from saraban.search.normalize import fold
from tests.web.test_workflow_pages import client_for, other_clerk, other_org

pytestmark = [pytest.mark.django_db, pytest.mark.ocr]
other = (other_org, other_clerk)  # fixtures: the other organisation and its clerk, for the tenancy check

ANNOUNCEMENT = Path(__file__).resolve().parents[2] / "examples" / "letters" / "announcement.json"
BODY_WORD = "ศูนย์ดำรงธรรม"  # in the announcement's body, not in its subject


@functools.cache
def scanned_page() -> bytes:
    """The announcement as a scanner gives it: a 300 dpi grey PNG, turned 0.6°."""
    letter = parse_letter_json(json.loads(ANNOUNCEMENT.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as work:
        pdf = Path(work) / "letter.pdf"
        pdf.write_bytes(render_letter(letter))
        subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", str(pdf), f"{work}/page"], check=True)
        with Image.open(f"{work}/page.png") as page:
            turned = page.rotate(0.6, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
            out = io.BytesIO()
            turned.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def _paper(agency: Organisation, clerk: Person, scans: list[tuple[bytes, str]] | None = None) -> IncomingLetter:
    return register_paper(agency, PaperLetter(
        sender_name="จังหวัดนนทบุรี", letter_number="นบ 0017/5", letter_date=dt.date(2026, 11, 25),
        subject="ประกาศช่องทางการรับส่งหนังสือ",
    ), scans=scans or [(scanned_page(), "image/png")], actor=clerk)


def _work() -> None:
    """Run every queued task (the OCR, then the indexing it asks for) as ``saraban db_worker`` would."""
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)


def _found(person: Person, query: str) -> list[int]:
    return [h.entry.object_id for h in search(person, query).hits]


def test_reading_a_scan_gives_a_pdfa_with_the_thai_text() -> None:
    steps: list[tuple[str, int, int]] = []
    result = read_scan(scanned_page(), "image/png", progress=lambda s, d, t: steps.append((s, d, t)))
    assert result.pages == 1
    assert fold(BODY_WORD) in fold(result.text)
    assert "ํา" not in result.text  # SARA AM as one character, as search folds it
    with pikepdf.open(io.BytesIO(result.pdf)) as pdf:
        assert len(pdf.pages) == 1
        with pdf.open_metadata() as meta:
            assert meta.pdfa_status == "2B"
    layer = subprocess.run(["pdftotext", "-", "-"], input=result.pdf, capture_output=True, check=True).stdout
    assert fold(BODY_WORD) in fold(layer.decode("utf-8"))  # the invisible text layer, for any PDF reader
    assert ("OCR", 1, 1) in steps  # page progress came back from the child process


@pytest.mark.django_db(transaction=True)
def test_a_paper_letter_is_read_in_the_background_and_found_by_its_body(
    agency: Organisation, clerk: Person,
) -> None:
    incoming = _paper(agency, clerk)
    reading = ScanReading.objects.get(source_id=incoming.original_id)
    assert reading.status == ReadingStatus.QUEUED
    original = read_file(incoming.original_id)
    _work()
    reading.refresh_from_db()
    assert reading.status == ReadingStatus.DONE, (reading.error_code, reading.error_en)
    assert (reading.pages, reading.pages_done, reading.attempts) == (1, 1, 1)
    assert reading.searchable_id not in (None, incoming.original_id)
    assert read_file(incoming.original_id) == original  # the scan is kept as it came
    assert ExtractedText.objects.get(sha256=incoming.original_id).method == "ocr"
    assert _found(clerk, BODY_WORD) == [incoming.pk]  # only in the scan's body: found through OCR


@pytest.mark.django_db(transaction=True)
def test_before_it_is_read_the_body_is_not_found(agency: Organisation, clerk: Person, settings: Any) -> None:
    settings.SARABAN_OCR = {**settings.SARABAN_OCR, "enabled": False}
    incoming = _paper(agency, clerk)
    _work()
    assert not ScanReading.objects.filter(source_id=incoming.original_id).exists()
    assert _found(clerk, BODY_WORD) == []
    assert _found(clerk, "ประกาศช่องทาง") == [incoming.pk]


def test_an_image_only_enclosure_is_read_and_a_text_pdf_is_not(agency: Organisation, clerk: Person) -> None:
    scan = store_file(scanned_page(), "image/png")
    texty = store_file(render_letter(parse_letter_json(json.loads(ANNOUNCEMENT.read_text(encoding="utf-8")))),
                       "application/pdf")
    assert text_of(texty.sha256) and not ScanReading.objects.filter(source_id=texty.sha256).exists()
    assert text_of(scan.sha256) == ""  # nothing yet: queued for OCR
    assert ScanReading.objects.get(source_id=scan.sha256).status == ReadingStatus.QUEUED
    run_reading(scan.sha256)
    assert ScanReading.objects.get(source_id=scan.sha256).status == ReadingStatus.DONE
    assert fold(BODY_WORD) in fold(text_of(scan.sha256))


def test_a_damaged_scan_fails_with_its_reason_and_can_be_read_again(agency: Organisation, clerk: Person) -> None:
    broken = store_file(b"%PDF-1.7\n% not really a PDF\n", "application/pdf")
    assert ocr.request_reading(broken.sha256) is not None
    reading = run_reading(broken.sha256)
    assert reading is not None and reading.status == ReadingStatus.FAILED
    assert reading.error_code == "ocr_unreadable" and reading.error_th and reading.error_en
    assert reading.searchable_id is None
    again = ocr.read_again(broken.sha256)
    assert again.status == ReadingStatus.QUEUED and again.attempts == 0
    with pytest.raises(Exception, match="being read already"):
        ocr.read_again(broken.sha256)


def test_a_scan_past_its_time_is_stopped(monkeypatch: Any) -> None:
    monkeypatch.setattr(ocr_reading, "START_ALLOWANCE_S", 0)
    with pytest.raises(ScanUnreadable) as refused:
        read_scan(scanned_page(), "image/png", options=ReadingOptions(page_timeout_s=1))
    assert refused.value.code == "ocr_timeout"


def test_too_many_pages_are_refused_before_reading() -> None:
    page = scanned_page()
    with Image.open(io.BytesIO(page)) as image:
        out = io.BytesIO()
        image.save(out, format="TIFF", save_all=True, append_images=[image.copy(), image.copy()])
    with pytest.raises(ScanUnreadable) as refused:
        read_scan(out.getvalue(), "image/tiff", options=ReadingOptions(max_pages=2))
    assert refused.value.code == "ocr_too_many_pages" and "3" in refused.value.message_th


def test_a_reading_whose_worker_died_is_taken_again_up_to_its_limit(agency: Organisation, clerk: Person) -> None:
    scan = store_file(scanned_page(), "image/png")
    ocr.request_reading(scan.sha256)
    long_ago = timezone.now() - dt.timedelta(hours=2)
    ScanReading.objects.filter(pk=scan.sha256).update(status=ReadingStatus.READING, started_at=long_ago,
                                                      attempts=MAX_ATTEMPTS)
    assert ocr.requeue_stalled() == 1
    reading = run_reading(scan.sha256)
    assert reading is not None and reading.status == ReadingStatus.FAILED and reading.error_code == "ocr_attempts"
    # A reading that is running now is left to its worker.
    ScanReading.objects.filter(pk=scan.sha256).update(status=ReadingStatus.READING, started_at=timezone.now())
    assert ocr.requeue_stalled() == 0 and run_reading(scan.sha256) is None


def test_nothing_is_read_with_ocr_off_or_for_other_files(settings: Any) -> None:
    text = store_file(b"plain words", "text/plain")
    assert ocr.request_reading(text.sha256) is None
    settings.SARABAN_OCR = {**settings.SARABAN_OCR, "enabled": False}
    scan = store_file(scanned_page(), "image/png")
    assert ocr.request_reading(scan.sha256) is None


@pytest.mark.django_db(transaction=True)
def test_the_letter_page_shows_progress_and_offers_the_searchable_copy(
    agency: Organisation, clerk: Person, other_org: Organisation, other_clerk: Person,
) -> None:
    incoming = _paper(agency, clerk)
    browser = client_for(clerk)
    page = browser.get(f"/inbox/{incoming.pk}/").content.decode()
    assert 'id="scans"' in page and "every 3s" in page and "รอคิวอ่านข้อความ" in page
    ScanReading.objects.filter(pk=incoming.original_id).update(status=ReadingStatus.READING, pages=3, pages_done=1,
                                                               started_at=timezone.now())
    card = browser.get(f"/inbox/{incoming.pk}/scans").content.decode()
    assert "หน้า 2 จาก 3" in card and 'value="33"' in card
    ScanReading.objects.filter(pk=incoming.original_id).update(status=ReadingStatus.QUEUED, pages=0, pages_done=0)
    _work()
    card = browser.get(f"/inbox/{incoming.pk}/scans").content.decode()
    assert "every 3s" not in card and "ฉบับค้นหาข้อความได้" in card and BODY_WORD in card
    copy = browser.get(f"/inbox/{incoming.pk}/files/0?copy=searchable")
    assert copy.status_code == 200 and copy["Content-Type"] == "application/pdf" and copy.content.startswith(b"%PDF")
    assert copy.content == read_file(ScanReading.objects.get(pk=incoming.original_id).searchable_id or "")
    # Another organisation's clerk learns nothing: the page, the card and both files are 404s.
    outsider = client_for(other_clerk)
    for path in (f"/inbox/{incoming.pk}/scans", f"/inbox/{incoming.pk}/files/0?copy=searchable",
                 f"/inbox/{incoming.pk}/files/0"):
        assert outsider.get(path).status_code == 404, path
    assert outsider.post(f"/inbox/{incoming.pk}/files/0/read-again").status_code == 404


def test_a_failed_reading_is_offered_again_on_the_page(agency: Organisation, clerk: Person) -> None:
    incoming = _paper(agency, clerk)
    ScanReading.objects.filter(pk=incoming.original_id).update(
        status=ReadingStatus.FAILED, error_code="ocr_timeout", error_th="อ่านข้อความไม่เสร็จภายใน 240 วินาที",
        error_en="OCR did not finish within 240 s")
    browser = Client()
    browser.force_login(clerk)
    card = browser.get(f"/inbox/{incoming.pk}/scans").content.decode()
    assert "อ่านข้อความไม่เสร็จภายใน 240 วินาที" in card and "read-again" in card
    answer = browser.post(f"/inbox/{incoming.pk}/files/0/read-again")
    assert answer.status_code == 302
    assert ScanReading.objects.get(pk=incoming.original_id).status == ReadingStatus.QUEUED
    assert browser.get(f"/inbox/{incoming.pk}/files/7").status_code == 404  # no such file
    assert StoredFile.objects.filter(pk=incoming.original_id).exists()


def test_the_command_reads_a_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    scan = tmp_path / "scan.png"
    scan.write_bytes(scanned_page())
    out = io.StringIO()
    call_command("ocr", "read", str(scan), "-o", str(tmp_path / "out.pdf"), "--text", stdout=out)
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF") and BODY_WORD in out.getvalue()
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf at all")
    for args in (["read", str(tmp_path / "bad.pdf")], ["read", str(tmp_path / "missing.pdf")],
                 ["read", str(tmp_path / "notes.txt")]):
        with pytest.raises(CommandError) as refused:
            call_command("ocr", *args, "-o", str(tmp_path / "x.pdf"))
        assert refused.value.returncode == 2 and " / " in str(refused.value)
    assert not (tmp_path / "x.pdf").exists()
    status = io.StringIO()
    call_command("ocr", "status", stdout=status)
    assert "อ่านข้อความแล้ว / Read: 0" in status.getvalue()


def test_a_page_that_takes_too_long_is_kept_without_text_and_said() -> None:
    result = read_scan(scanned_page(), "image/png", options=ReadingOptions(page_timeout_s=0.01))
    assert result.pages == 1 and result.pages_unread == 1
    assert fold(BODY_WORD) not in fold(result.text)
    assert result.pdf.startswith(b"%PDF")  # the page is in the copy, without a text layer


def test_the_card_says_which_pages_have_no_text(agency: Organisation, clerk: Person) -> None:
    incoming = _paper(agency, clerk)
    ScanReading.objects.filter(pk=incoming.original_id).update(
        status=ReadingStatus.DONE, pages=3, pages_done=3, error_code="ocr_partial",
        error_th="อ่านไม่ทันเวลา 1 หน้า หน้าเหล่านั้นจึงค้นหาข้อความไม่ได้ (อ่านอีกครั้งได้)", error_en="x",
        finished_at=timezone.now())
    card = client_for(clerk).get(f"/inbox/{incoming.pk}/scans").content.decode()
    assert "อ่านไม่ทันเวลา 1 หน้า" in card and "read-again" in card
