"""Stamps laid over existing PDFs: the receipt stamp (ตรารับหนังสือ) on a registered letter, and the
retention stamp (ตรากำหนดเก็บหนังสือ) on a record's stored copy."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import typst
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import LimitReachedError

from saraban.core.thai import BANGKOK, format_thai_date

from .digits import printed_digits
from .engine import RenderError, compile_pdf, template_path
from .fonts import FONT_DIR, th_sarabun_pt

# The stamp sits this far from the top and right edges of the first page.
STAMP_MARGIN_PT = 20.0


def render_receipt_stamp(
    organisation: str, receive_number: int, registered_at: dt.datetime, *, thai_digits: bool = True
) -> bytes:
    """The receipt stamp alone, as a one-page PDF of its own size (5 × 2.5 cm)."""
    local = registered_at.astimezone(BANGKOK)
    data = {
        "organisation": organisation,
        "number": printed_digits(str(receive_number), thai=thai_digits),
        "date": format_thai_date(local.date(), use_thai_digits=thai_digits, abbreviated=True),
        "time": printed_digits(f"{local:%H.%M} น.", thai=thai_digits),
        "size": th_sarabun_pt(14),
    }
    return compile_pdf("receipt_stamp", data, pdf_standard=None)


def render_retention_stamp(keep_until_be: int | None, keeper: str, *, thai_digits: bool = True) -> bytes:
    """The retention stamp alone (4.5 × 1.5 cm): "เก็บถึง พ.ศ. …", or "ห้ามทำลาย" when ``keep_until_be`` is None."""
    label = "ห้ามทำลาย" if keep_until_be is None else printed_digits(f"เก็บถึง พ.ศ. {keep_until_be}", thai=thai_digits)
    data = {"label": label, "keeper": keeper, "size": th_sarabun_pt(14)}
    return compile_pdf("retention_stamp", data, pdf_standard=None)


def readable_pdf(pdf: bytes) -> int:
    """The page count of ``pdf``; ``PdfError`` if it is not a PDF that can be stamped.

    Refused: a ZIP archive behind a PDF header (``NotAPdf``); a file pypdf cannot parse, an encrypted
    one, one without a page; a first page whose content cannot be decoded, or decodes to more than
    pypdf's limit of 75 MB (``PdfTooLarge``: a decompression bomb, a few hundred KB that inflate to
    gigabytes). The stamp goes on the first page, so its content is what stamping decodes.
    """
    if _zip_archive(pdf):
        raise NotAPdf("a ZIP archive behind a PDF header")
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise PdfError("the PDF is encrypted")
        count = len(reader.pages)
        if count == 0:
            raise PdfError("the PDF has no page")
        first = reader.pages[0]
        first.cropbox  # noqa: B018 — the first page must parse: the stamp goes there
        contents = first.get_contents()
        if contents is not None:
            contents.get_data()
    except PdfError:
        raise
    except LimitReachedError as exc:
        raise PdfTooLarge(f"the content of the first page is too large once decompressed: {exc}") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise PdfError(str(exc) or type(exc).__name__) from exc
    return count


class PdfError(ValueError):
    """A PDF that cannot be read."""


class NotAPdf(PdfError):
    """Another kind of file (a ZIP archive) behind a PDF header."""


class PdfTooLarge(PdfError):
    """A PDF whose content decompresses beyond pypdf's limits (a decompression bomb)."""


_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
_ZIP_LOCAL_FILE = b"PK\x03\x04"
_ZIP_END = b"PK\x05\x06"
_ZIP_CENTRAL_FILE = b"PK\x01\x02"
_ZIP_END_SIZE = 22  # the end-of-central-directory record without its comment


def _zip_archive(data: bytes) -> bool:
    """Whether ``data`` is a ZIP archive with a PDF header in front (PDF/ZIP polyglots included).

    Either a ZIP local file header comes right after the ``%PDF-x.y`` header (and any comment line,
    such as the binary marker), or the file ends with a ZIP end-of-central-directory record whose
    central directory is where it says. A PDF ends with ``%%EOF``, so neither happens in a real one.
    """
    head = data[:1024]
    match = _PDF_HEADER.match(head)
    pos = match.end() if match else 0
    while pos < len(head):
        if head.startswith(_ZIP_LOCAL_FILE, pos):
            return True
        if head[pos] in b" \t\r\n\x0c\x00":
            pos += 1
        elif head[pos] == ord("%"):  # a comment line: skip to its end
            ends = [i for i in (head.find(b"\r", pos), head.find(b"\n", pos)) if i >= 0]
            pos = min(ends, default=len(head))
        else:
            break
    start = max(0, len(data) - _ZIP_END_SIZE - 0xFFFF)  # the record's comment is at most 64 KB
    end = data.rfind(_ZIP_END, start)
    while end >= 0:
        comment = int.from_bytes(data[end + 20:end + 22], "little")
        directory = int.from_bytes(data[end + 12:end + 16], "little")
        if (end + _ZIP_END_SIZE + comment == len(data) and 0 < directory <= end
                and data.startswith(_ZIP_CENTRAL_FILE, end - directory)):
            return True
        end = data.rfind(_ZIP_END, start, end)
    return False


def stamp_first_page(pdf: bytes, stamp: bytes, *, corner: str = "top-right") -> bytes:
    """A copy of ``pdf`` with ``stamp`` laid over the ``corner`` (top-right or bottom-right) of its first page.

    The original bytes are not touched; the caller stores the copy separately. The first page's
    content is compressed again, so the copy is about the size of the original. ``PdfError`` when
    ``pdf`` cannot be stamped (``readable_pdf`` checks that beforehand).
    """
    try:
        reader = PdfReader(io.BytesIO(pdf))
        stamp_page = PdfReader(io.BytesIO(stamp)).pages[0]
        writer = PdfWriter(clone_from=reader)
        first = writer.pages[0]
        box = first.cropbox
        width, height = float(stamp_page.mediabox.width), float(stamp_page.mediabox.height)
        x = float(box.right) - width - STAMP_MARGIN_PT
        y = float(box.top) - height - STAMP_MARGIN_PT
        if corner == "bottom-right":
            y = float(box.bottom) + STAMP_MARGIN_PT
        first.merge_transformed_page(stamp_page, Transformation().translate(x, y))
        first.compress_content_streams()
        out = io.BytesIO()
        writer.write(out)
    except LimitReachedError as exc:
        raise PdfTooLarge(f"the content of the first page is too large once decompressed: {exc}") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise PdfError(str(exc) or type(exc).__name__) from exc
    return out.getvalue()


def images_to_pdf(images: list[bytes]) -> bytes:
    """Scanned page images (PNG or JPEG) as one A4 PDF, a page per image, scaled to fit.

    Raises ``ValueError`` when an image is neither PNG nor JPEG, ``RenderError`` when Typst cannot
    read it.
    """
    with tempfile.TemporaryDirectory(prefix="saraban-scan-") as tmp:
        folder = Path(tmp)
        names = []
        for i, image in enumerate(images, start=1):
            suffix = _IMAGE_SUFFIX.get(image[:3])
            if suffix is None:
                raise ValueError(f"page {i} is neither PNG nor JPEG")
            names.append(f"page-{i}{suffix}")
            (folder / names[-1]).write_bytes(image)
        shutil.copy(template_path("scan_pages"), folder / "scan_pages.typ")
        try:
            pdf = typst.compile(
                str(folder / "scan_pages.typ"), root=str(folder), sys_inputs={"data": json.dumps({"pages": names})},
                font_paths=[str(FONT_DIR)], ignore_system_fonts=True,
            )
        except typst.TypstError as exc:
            raise RenderError(f"typst could not read a scanned page: {exc.message}") from exc
    assert isinstance(pdf, bytes)
    return pdf


_IMAGE_SUFFIX = {b"\x89PN": ".png", b"\xff\xd8\xff": ".jpg"}
