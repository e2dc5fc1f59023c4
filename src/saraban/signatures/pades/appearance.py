"""The visible signature stamp, drawn in the blank room of the letter's signature block.

The stamp shows the signer's name, position and the date in the Buddhist era (พ.ศ.), with Thai text
shaped by HarfBuzz (pyHanko's OpenType engine and the Sarabun font that letters use), and a QR code
that opens ``/verify?d=<sha256>`` for this document. ``locate_signature_block`` finds the room above
"(name)" in a rendered letter, so the stamp sits where a handwritten signature would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign.fields import SigFieldSpec
from pyhanko.stamp import BaseStampStyle, QRStampStyle, TextStampStyle

from saraban.rendering.fonts import FONT_DIR

from .report import thai_datetime

FONT_FILE = FONT_DIR / "Sarabun-Regular.ttf"
# pyHanko draws QR codes with the ``qrcode`` package (the ``pyhanko[qr]`` extra).
HAS_QR = importlib.util.find_spec("qrcode") is not None
STAMP_WIDTH = 230.0
STAMP_HEIGHT = 46.0
_FONT_FACTORY: GlyphAccumulatorFactory | None = None


def _font() -> GlyphAccumulatorFactory:
    global _FONT_FACTORY
    if _FONT_FACTORY is None:
        _FONT_FACTORY = GlyphAccumulatorFactory(str(stamp_font()))
    return _FONT_FACTORY


# What a stamp can print: Latin, Latin-1, general punctuation and Thai (names, positions, dates, URLs).
STAMP_UNICODES = [*range(0x20, 0x7F), *range(0xA0, 0x100), *range(0x2000, 0x2070), *range(0x0E00, 0x0E80)]


def stamp_font() -> Path:
    """Sarabun reduced to the characters a stamp prints, made once per installation.

    pyHanko subsets the font again for every stamp it draws; from this smaller font (Thai shaping
    tables kept) that takes about a third of the time, which halves the cost of a visible signature.
    """
    source = FONT_FILE.read_bytes()
    target = Path(tempfile.gettempdir()) / f"saraban-stamp-{hashlib.sha256(source).hexdigest()[:16]}.ttf"
    if not target.exists():
        from fontTools import subset
        from fontTools.ttLib import TTFont

        options = subset.Options()
        options.layout_features = ["*"]  # keep every GSUB/GPOS feature: Thai marks must still shape
        options.name_IDs = ["*"]
        options.notdef_outline = True
        font = TTFont(io.BytesIO(source))
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=STAMP_UNICODES)
        subsetter.subset(font)
        partial = target.with_suffix(f".{os.getpid()}.part")
        font.save(str(partial))
        partial.replace(target)  # atomic: a concurrent process sees the whole font or none
    return target


def warm_up() -> None:
    """Load the stamp font now (a signing worker does this before its first letter)."""
    _font()


def verify_url(sha256: str, base_url: str = "") -> str:
    """The verification page for the document whose SHA-256 is ``sha256``."""
    return f"{base_url.rstrip('/')}/verify?d={sha256}"


@dataclass(frozen=True)
class SignatureAppearance:
    """What the stamp says and where it goes (``box`` in PDF points, origin bottom-left)."""

    signer_name: str
    position: str
    signed_at: dt.datetime
    url: str
    page: int = -1
    box: tuple[float, float, float, float] = (330.0, 120.0, 560.0, 166.0)
    extra: dict[str, str] = field(default_factory=dict)

    def field_spec(self, name: str) -> SigFieldSpec:
        """The signature field that holds the stamp."""
        return SigFieldSpec(sig_field_name=name, on_page=self.page, box=_int_box(self.box))

    def stamp_style(self) -> BaseStampStyle:
        """A Thai text stamp with a QR code (text only when the ``qrcode`` package is missing)."""
        text_style = TextBoxStyle(font=_font(), font_size=8, leading=10)
        common: dict[str, Any] = {
            "text_box_style": text_style,
            "border_width": 1,
            "border_color": (0.11, 0.23, 0.55),
            "background": None,
        }
        if HAS_QR:
            return QRStampStyle(stamp_text=self._text(), innsep=2, **common)
        return TextStampStyle(stamp_text=self._text() + "\n" + self._short_url().replace("%", "%%"), **common)

    def _short_url(self) -> str:
        """Without a QR code the full URL would shrink the text: print the page and the digest's start."""
        page, _, query = self.url.partition("?d=")
        return f"ตรวจสอบที่ {page} รหัส {query[:12]}" if query else f"ตรวจสอบที่ {page}"

    def text_params(self) -> dict[str, str]:
        """Values for the ``%(…)s`` fields of the stamp text."""
        return {"url": self.url, **self.extra}

    def _text(self) -> str:
        lines = [
            f"ลงนามโดย {self.signer_name}".replace("%", "%%"),
            self.position.replace("%", "%%"),
            f"วันที่ {thai_datetime(self.signed_at)}",
        ]
        return "\n".join(line for line in lines if line)


def _int_box(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (round(v) for v in box)
    return x1, y1, x2, y2


def locate_signature_block(pdf: bytes, signer_name: str) -> tuple[int, tuple[float, float, float, float]] | None:
    """The page index and the box of the blank room above "(``signer_name``)", or ``None`` if not found.

    The letter's text layer is read with pypdf; the line holding the name is found by its text,
    and the box fills the room between it and the line above (the closing or the dated line).
    """
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        pages = list(reader.pages)
    except Exception:
        return None
    wanted = _squash(f"({signer_name}")
    for index in range(len(pages) - 1, -1, -1):
        lines = _text_lines(pages[index])
        width = float(pages[index].mediabox.width)
        # The name in the text layer, else (fonts whose text pypdf cannot map) the last line in the
        # right half of the page that opens with "(" — the "(name)" line of the signature block.
        match = next((i for i, line in enumerate(lines) if wanted in _squash(line[1])), None)
        if match is None:
            candidates = [
                i for i, line in enumerate(lines) if line[1].lstrip().startswith("(") and line[2] > width * 0.3
            ]
            match = candidates[-1] if candidates else None
        if match is not None:
            return index, _room_above(lines, match)
    return None


def _room_above(lines: list[tuple[float, str, float, float]], i: int) -> tuple[float, float, float, float]:
    y, _text, x0, x1 = lines[i]
    above = [line[0] for line in lines[:i] if line[0] > y + 12]
    ceiling = min(above) - 4 if above else y + 14 + STAMP_HEIGHT
    floor = y + 13
    top = min(ceiling, floor + STAMP_HEIGHT + 10)
    bottom = max(floor, top - STAMP_HEIGHT - 10)
    centre = (x0 + x1) / 2
    return centre - STAMP_WIDTH / 2, bottom, centre + STAMP_WIDTH / 2, top


def _squash(text: str) -> str:
    return "".join(text.split())


def _text_lines(page: Any) -> list[tuple[float, str, float, float]]:
    """Text of ``page`` grouped into lines: (baseline y, text, first x, estimated last x), top first."""
    pieces: list[tuple[float, float, str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _fd: Any, size: float) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[3] * cm[3]) or 1.0
        pieces.append((y, x, text, size * scale))

    page.extract_text(visitor_text=visit)
    pieces.sort(key=lambda p: (-round(p[0]), p[1]))
    lines: list[tuple[float, str, float, float]] = []
    for y, x, text, size in pieces:
        end = x + 0.5 * size * len(text)
        if lines and abs(lines[-1][0] - y) < 2:
            ly, lt, lx0, lx1 = lines[-1]
            lines[-1] = (ly, lt + text, min(lx0, x), max(lx1, end))
        else:
            lines.append((y, text, x, end))
    return lines


def letter_appearance(
    pdf: bytes, *, signer_name: str, position: str, signed_at: dt.datetime, url: str
) -> SignatureAppearance:
    """The stamp for a rendered letter, placed in its signature block (bottom right when not found)."""
    found = locate_signature_block(pdf, signer_name)
    if found is None:
        return SignatureAppearance(signer_name, position, signed_at, url)
    page, box = found
    return SignatureAppearance(signer_name, position, signed_at, url, page=page, box=box)


__all__ = [
    "HAS_QR",
    "SignatureAppearance",
    "letter_appearance",
    "locate_signature_block",
    "thai_datetime",
    "verify_url",
]
