"""The text of an attached file, for search: a PDF's text layer, a DOCX's paragraphs, an XLSX's cells.

Each file is read once (``ExtractedText``, by SHA-256). A file that cannot be read gives no text,
never an error: search is a convenience, the file itself is kept as it came. Scans without a text
layer, and images, get theirs from OCR (``saraban.ocr``): the file is queued for reading, its text
is what little the file has until then, and the index takes the OCR text in when it is read
(``signals.scan_read``).
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import zipfile

from django.utils import timezone
from lxml import etree

from saraban.documents.models import StoredFile
from saraban.documents.services import read_file
from saraban.ocr.reading import IMAGE_TYPES
from saraban.ocr.selectors import ocr_text
from saraban.ocr.services import request_reading

from .models import ExtractedText

MAX_TEXT_CHARS = 500_000  # of one file: enough for a 200-page enclosure
# A PDF with fewer visible characters a page than this is a scan (a page number or a stamp at most).
SCAN_CHARS_PER_PAGE = 40
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF (poppler's pdftotext, 60 s at most)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(data)
        file.flush()
        try:
            done = subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", file.name, "-"], capture_output=True,
                                  timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else ""


def docx_text(data: bytes) -> str:
    """The paragraphs of a Word document (word/document.xml), without a Word library."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("word/document.xml")
        if info.file_size > 50 * 1024 * 1024:
            return ""
        root = etree.fromstring(archive.read(info), etree.XMLParser(resolve_entities=False, no_network=True,
                                                                     huge_tree=True))
    return "\n".join("".join(t.text or "" for t in p.iter(f"{_W}t")) for p in root.iter(f"{_W}p"))


def xlsx_text(data: bytes) -> str:
    """The cells of every sheet of a workbook (values, not formulas)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = [str(v) for v in row if v is not None]
            if cells:
                lines.append(" ".join(cells))
    return "\n".join(lines)


def is_scan(text: str) -> bool:
    """Whether a PDF's text layer (pdftotext, a form feed after each page) is too thin to be its text."""
    pages = max(text.count("\f"), 1)
    return len("".join(text.split())) < SCAN_CHARS_PER_PAGE * pages


def _read(data: bytes, content_type: str, name: str) -> tuple[str, str]:
    lowered = name.lower()
    if content_type == "application/pdf" or data[:5] == b"%PDF-":
        return pdf_text(data), "pdf"
    if content_type in IMAGE_TYPES:
        return "", "image"
    if lowered.endswith(".docx") or "wordprocessingml" in content_type:
        return docx_text(data), "docx"
    if lowered.endswith(".xlsx") or "spreadsheetml" in content_type:
        return xlsx_text(data), "xlsx"
    if content_type.startswith("text/") or lowered.endswith((".txt", ".csv")):
        return data.decode("utf-8", errors="replace"), "text"
    return "", "none"


def text_of(sha256: str, *, name: str = "") -> str:
    """The text of the stored file ``sha256`` (read once, then kept); "" when it has none we can read."""
    kept = ExtractedText.objects.filter(sha256=sha256).first()
    if kept is not None and kept.method == "scan":  # waiting for OCR: read by now?
        read = ocr_text(sha256)
        if read is not None:
            take_ocr_text(sha256, read)
            return _with_ocr(kept.text, read)[:MAX_TEXT_CHARS]
    if kept is not None:
        return kept.text
    stored = StoredFile.objects.filter(pk=sha256).first()
    if stored is None:
        return ""
    try:
        text, method = _read(read_file(sha256), stored.content_type or "", name)
    except Exception:  # any unreadable file (broken zip, bad XML, odd PDF): no text, the file stays as it is
        text, method = "", "none"
    if method == "image" or (method == "pdf" and is_scan(text)):
        read = ocr_text(sha256)  # read already (a paper letter's scan is read when it is registered)
        if read is not None:
            text, method = _with_ocr(text, read), "ocr"
        else:
            method = "scan"  # its text comes from OCR, when the file has been read
            request_reading(sha256)
    text = text[:MAX_TEXT_CHARS]
    ExtractedText.objects.update_or_create(sha256=sha256, defaults={
        "text": text, "method": method, "extracted_at": timezone.now()})
    return text


def _with_ocr(layer: str, read: str) -> str:
    return "\n".join(t for t in (layer.strip(), read) if t)


def take_ocr_text(sha256: str, read: str) -> None:
    """Keep what OCR read from the file ``sha256`` as its text, beside what its own text layer had."""
    kept = ExtractedText.objects.filter(sha256=sha256).first()
    layer = kept.text if kept is not None and kept.method == "scan" else ""
    ExtractedText.objects.update_or_create(sha256=sha256, defaults={
        "text": _with_ocr(layer, read)[:MAX_TEXT_CHARS], "method": "ocr", "extracted_at": timezone.now()})
