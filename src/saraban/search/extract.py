"""The text of an attached file, for search: a PDF's text layer, a DOCX's paragraphs, an XLSX's cells.

Each file is read once (``ExtractedText``, by SHA-256). A file that cannot be read gives no text,
never an error: search is a convenience, the file itself is kept as it came. Scans without a text
layer get theirs from OCR.
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

from .models import ExtractedText

MAX_TEXT_CHARS = 500_000  # of one file: enough for a 200-page enclosure
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


def _read(data: bytes, content_type: str, name: str) -> tuple[str, str]:
    lowered = name.lower()
    if content_type == "application/pdf" or data[:5] == b"%PDF-":
        return pdf_text(data), "pdf"
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
    if kept is not None:
        return kept.text
    stored = StoredFile.objects.filter(pk=sha256).first()
    if stored is None:
        return ""
    try:
        text, method = _read(read_file(sha256), stored.content_type or "", name)
    except Exception:  # any unreadable file (broken zip, bad XML, odd PDF): no text, the file stays as it is
        text, method = "", "none"
    text = text[:MAX_TEXT_CHARS]
    ExtractedText.objects.update_or_create(sha256=sha256, defaults={
        "text": text, "method": method, "extracted_at": timezone.now()})
    return text
