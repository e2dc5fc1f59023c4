"""Reading one scan: Tesseract's Thai model through OCRmyPDF, in a child process with a time limit.

The child process makes a PDF/A-2b whose pages are the scan's images with an invisible text layer,
and the recognised text (OCRmyPDF's sidecar). Only files without a text layer are given to it, so every
page is read as an image (``--mode force``; Debian 12's Ghostscript 10.0 is refused for ``skip``).
Progress comes back as lines from ``progress.py``. A child that runs past its time, or that fails, is
stopped and the reason is given in Thai and English; nothing is kept.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from saraban.core.errors import SarabanError

from .progress import MARK

IMAGE_TYPES = {"image/png", "image/jpeg", "image/tiff"}
START_ALLOWANCE_S = 60  # time for OCRmyPDF to start and to write the PDF/A, on top of the pages' time
SKIPPED_PAGE = "[skipped page]"
_SKIPPED = re.compile(r"^(\[OCR skipped on page\(s\) [\d\-, ]+\]|\[skipped page\])\s*$", re.MULTILINE)

# OCRmyPDF's exit codes that have a reason a clerk can act on (ocrmypdf.ExitCode).
_EXIT_REASONS = {
    2: ("อ่านไฟล์ไม่ได้ (ไฟล์เสียหายหรือไม่ใช่ PDF หรือรูปภาพ)", "The file cannot be read (damaged, or not a PDF or image)"),
    6: ("ไฟล์นี้มีข้อความอยู่แล้ว", "The file already has text"),
    8: ("ไฟล์ PDF ถูกเข้ารหัส อ่านข้อความไม่ได้", "The PDF is encrypted and cannot be read"),
    9: ("ระบบอ่านข้อความยังไม่ได้ติดตั้งภาษาไทย (tesseract-ocr-tha)",
        "Thai OCR is not installed on the server (tesseract-ocr-tha)"),
    3: ("ระบบอ่านข้อความยังติดตั้งไม่ครบ (tesseract-ocr, ghostscript)",
        "OCR is not fully installed on the server (tesseract-ocr, ghostscript)"),
}
_SIGNED = ("ไฟล์มีลายมือชื่อดิจิทัล จึงไม่ทำสำเนาที่อ่านข้อความ (สำเนาจะทำให้ลายมือชื่อใช้ไม่ได้)",
           "The file is digitally signed, so no OCR copy is made (a copy would break the signature)")


@dataclass(frozen=True)
class ReadingOptions:
    """How scans are read (``settings.SARABAN_OCR``; the defaults follow ``bench/ocr.py``)."""

    languages: str = "tha+eng"
    deskew: bool = True  # straightens pages scanned at a slant (also in the searchable copy)
    clean: bool = False  # unpaper's despeckling, for reading only; the copy keeps the scan as it was
    rotate_pages: bool = True  # pages scanned upside down or sideways
    jobs: int = 1  # pages read at once; the web server shares the cores
    page_timeout_s: float = 180
    max_pages: int = 300


@dataclass(frozen=True)
class ScanText:
    """What reading a scan gave: the searchable PDF/A, its text, and how many pages it has."""

    pdf: bytes
    text: str
    pages: int
    pages_unread: int = 0  # pages that took longer than page_timeout_s: in the copy, without text


class ScanUnreadable(SarabanError):
    """The scan could not be read; the reason says why (a damaged file, a time limit, a missing model)."""

    http_status = 422

    def __init__(self, message_th: str, message_en: str, *, code: str = "ocr_failed") -> None:
        super().__init__(code=code, message_th=message_th, message_en=message_en)


Progress = Callable[[str, int, int], None]  # (step, done, total)


def tidy_text(text: str) -> str:
    """Tesseract's text as it should be kept: NFC, SARA AM as one character, no skip markers."""
    text = unicodedata.normalize("NFC", _SKIPPED.sub("", text)).replace("\u0e4d\u0e32", "\u0e33")
    return re.sub(r"\n{3,}", "\n\n", text.replace("\f", "\n")).strip()


def page_count(data: bytes, content_type: str) -> int:
    """How many pages the scan has (an image: its frames); ``ScanUnreadable`` if it cannot be opened."""
    try:
        if content_type in IMAGE_TYPES:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                return int(getattr(image, "n_frames", 1))
        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception as exc:  # any unreadable input: the clerk is told, nothing is read
        raise ScanUnreadable(*_EXIT_REASONS[2], code="ocr_unreadable") from exc


def _command(options: ReadingOptions, source: Path, output: Path, sidecar: Path, image: bool) -> list[str]:
    command = [
        sys.executable, "-m", "ocrmypdf", "--plugin", "saraban.ocr.progress", "--quiet",
        "-l", options.languages, "--output-type", "pdfa-2", "--mode", "force", "--sidecar", str(sidecar),
        "--jobs", str(max(1, options.jobs)), "--tesseract-timeout", str(options.page_timeout_s),
    ]
    if options.deskew:
        command.append("--deskew")
    if options.clean:
        command.append("--clean")
    if options.rotate_pages:
        command.append("--rotate-pages")
    if image:
        command += ["--image-dpi", "300"]
    return [*command, str(source), str(output)]


@dataclass
class _ChildOutput:
    """What the child said besides its progress: its last lines."""

    lines: list[str]


def _follow(stream: io.TextIOBase, progress: Progress | None, said: _ChildOutput) -> None:
    for line in stream:
        if line.startswith(MARK):
            if progress is not None:
                try:
                    step = json.loads(line[len(MARK):])
                    progress(str(step.get("step") or ""), int(step.get("done") or 0), int(step.get("total") or 0))
                except (ValueError, TypeError):
                    pass
            continue
        said.lines.append(line.rstrip())
        del said.lines[:-40]  # the last lines are enough to say what went wrong


def read_scan(data: bytes, content_type: str, *, options: ReadingOptions | None = None,
              progress: Progress | None = None) -> ScanText:
    """Read the scan ``data`` (a PDF, or a PNG/JPEG/TIFF image) into a searchable PDF/A and its text.

    Raises ``ScanUnreadable`` with the reason when the scan has too many pages, cannot be read, is
    signed or encrypted, or takes longer than ``page_timeout_s`` a page (plus a minute).
    """
    options = options or ReadingOptions()
    pages = page_count(data, content_type)
    if pages > options.max_pages:
        raise ScanUnreadable(f"ไฟล์มี {pages} หน้า เกิน {options.max_pages} หน้าที่ระบบอ่านข้อความให้",
                             f"The file has {pages} pages, more than the {options.max_pages} read by OCR",
                             code="ocr_too_many_pages")
    image = content_type in IMAGE_TYPES
    with tempfile.TemporaryDirectory(prefix="saraban-ocr-") as work:
        source = Path(work) / ("scan.img" if image else "scan.pdf")
        output, sidecar = Path(work) / "searchable.pdf", Path(work) / "text.txt"
        source.write_bytes(data)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONUNBUFFERED": "1"}
        child = subprocess.Popen(_command(options, source, output, sidecar, image), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                 env=env, start_new_session=True)
        assert child.stderr is not None
        output_said = _ChildOutput(lines=[])
        follower = threading.Thread(target=_follow, args=(child.stderr, progress, output_said), daemon=True)
        follower.start()
        limit = round(START_ALLOWANCE_S + pages * options.page_timeout_s)
        try:
            code = child.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            raise ScanUnreadable(f"อ่านข้อความไม่เสร็จภายใน {limit} วินาที", f"OCR did not finish within {limit} s",
                                 code="ocr_timeout") from None
        finally:
            follower.join(timeout=5)
        if code != 0 or not output.exists():
            said = "\n".join(output_said.lines)
            if "digital signature" in said:
                raise ScanUnreadable(*_SIGNED, code="ocr_signed")
            th, en = _EXIT_REASONS.get(code, ("อ่านข้อความจากภาพสแกนไม่สำเร็จ", "OCR failed"))
            raise ScanUnreadable(th, f"{en} (OCRmyPDF exit {code}: {said[-300:]})")
        text = sidecar.read_text(encoding="utf-8", errors="replace") if sidecar.exists() else ""
        # A page past its time is kept without text, and the sidecar says "[skipped page]" for it.
        return ScanText(pdf=output.read_bytes(), text=tidy_text(text), pages=pages,
                        pages_unread=text.count(SKIPPED_PAGE))
