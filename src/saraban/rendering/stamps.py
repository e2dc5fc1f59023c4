"""Stamps laid over existing PDFs: the receipt stamp (ตรารับหนังสือ) on a registered letter."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader, PdfWriter, Transformation

from saraban.core.thai import BANGKOK, format_thai_date

from .digits import printed_digits
from .engine import compile_pdf
from .fonts import th_sarabun_pt

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
    """Scanned page images (PNG or JPEG) as one A4 PDF, a page per image, scaled to fit."""
    import base64

    data = {"pages": [base64.b64encode(image).decode() for image in images]}
    return compile_pdf("scan_pages", data, pdf_standard=None)
