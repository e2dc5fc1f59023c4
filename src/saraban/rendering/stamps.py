"""Stamps laid over existing PDFs: the receipt stamp (ตรารับหนังสือ) on a registered letter."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tempfile
from pathlib import Path

import typst
from pypdf import PdfReader, PdfWriter, Transformation

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


def readable_pdf(pdf: bytes) -> int:
    """The page count of ``pdf``; ``PdfError`` if it cannot be read or has no page."""
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise PdfError("the PDF is encrypted")
        count = len(reader.pages)
        reader.pages[0].cropbox  # noqa: B018 — the first page must parse: the stamp goes there
    except PdfError:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise PdfError(str(exc) or type(exc).__name__) from exc
    if count == 0:
        raise PdfError("the PDF has no page")
    return count


class PdfError(ValueError):
    """A PDF that cannot be read."""


def stamp_first_page(pdf: bytes, stamp: bytes) -> bytes:
    """A copy of ``pdf`` with ``stamp`` laid over the top right corner of its first page.

    The original bytes are not touched; the caller stores the copy separately.
    """
    reader = PdfReader(io.BytesIO(pdf))
    stamp_page = PdfReader(io.BytesIO(stamp)).pages[0]
    writer = PdfWriter(clone_from=reader)
    first = writer.pages[0]
    box = first.cropbox
    width, height = float(stamp_page.mediabox.width), float(stamp_page.mediabox.height)
    x = float(box.right) - width - STAMP_MARGIN_PT
    y = float(box.top) - height - STAMP_MARGIN_PT
    first.merge_transformed_page(stamp_page, Transformation().translate(x, y))
    out = io.BytesIO()
    writer.write(out)
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
