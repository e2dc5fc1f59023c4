"""Repair of Typst 0.15's Thai text layer: a raised mark must not repeat its syllable.

Typst draws a mark that is shifted up over an upper vowel (the ้ of ตั้ and ทั้, the ์ of ธิ์) as a
run of its own, right after the run of the syllable's other glyphs. The syllable's run carries the
whole syllable as ``/ActualText``; the mark's run carries it again, either as its own
``/ActualText`` or through the font's ToUnicode entry for the raised glyph. Text extraction then
reads the syllable twice ("ติดตั้ตั้ง"), which breaks copying, searching and accessibility of the
archived letter.

The repair looks for a text run that draws exactly one glyph and whose text repeats the text of
the run just before it (a syllable with a mark), and gives it an empty ``/ActualText``: the page
looks the same, and the text reads once.
"""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader, PdfWriter

_TOKEN = re.compile(
    rb"(?P<span>/Span<</ActualText<(?P<actual>[0-9A-Fa-f]*)>>>BDC)"
    rb"|/(?P<font>[A-Za-z0-9_.]+) [0-9.]+ Tf"
    rb"|(?P<show>\[(?:\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]*>|[^\]])*\]TJ|\((?:\\.|[^\\)])*\)Tj|<[0-9A-Fa-f]*>Tj)"
    rb"|(?P<emc>\bEMC\b)",
    re.DOTALL,
)
_HEX_STRING = re.compile(rb"<([0-9A-Fa-f]*)>")
_LITERAL_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
# Thai marks drawn above or below a consonant: vowels, tone marks, thanthakhat...
_THAI_MARKS = {0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)}


def _unescape(body: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(one, body)


def _glyph_ids(show: bytes) -> list[int]:
    """The 2-byte glyph ids a text-showing operator draws (Typst writes Identity-H fonts)."""
    data = b""
    position = 0
    while position < len(show):
        hex_match = _HEX_STRING.match(show, position)
        literal_match = _LITERAL_STRING.match(show, position)
        if hex_match:
            data += bytes.fromhex(hex_match.group(1).decode())
            position = hex_match.end()
        elif literal_match:
            data += _unescape(literal_match.group(1))
            position = literal_match.end()
        else:
            position += 1
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]


def _utf16(hex_text: bytes) -> str:
    return bytes.fromhex(hex_text.decode()).decode("utf-16-be", errors="ignore").lstrip("\ufeff")


def _to_unicode(font: Any) -> dict[int, str]:
    """Glyph id → text, from a font's ToUnicode CMap (``bfchar`` entries, as Typst writes them)."""
    cmap = font.get("/ToUnicode") if font is not None else None
    if cmap is None:
        return {}
    data = cmap.get_object().get_data()
    return {int(glyph, 16): _utf16(text) for glyph, text in _BFCHAR.findall(data)}


def _is_syllable_with_mark(text: str) -> bool:
    return len(text) > 1 and any(ord(c) in _THAI_MARKS for c in text)


def dedupe_stream(content: bytes, fonts: dict[str, dict[int, str]]) -> tuple[bytes, int]:
    """The content stream with each repeating raised-mark run silenced, and how many there were."""
    edits: list[tuple[int, int, bytes]] = []
    font = ""
    span: re.Match[bytes] | None = None
    span_used = False
    previous: str | None = None
    for token in _TOKEN.finditer(content):
        if token.group("span"):
            span, span_used = token, False
        elif token.group("emc"):
            span = None
        elif token.group("font"):
            font = token.group("font").decode()
        elif token.group("show"):
            glyphs = _glyph_ids(token.group("show"))
            in_span = span is not None and not span_used
            if span is not None and in_span:
                text = _utf16(span.group("actual"))
                span_used = True
            elif span is not None:
                text = ""  # the rest of a span: its text was given by the span
            else:
                text = "".join(fonts.get(font, {}).get(g, "") for g in glyphs)
            if len(glyphs) == 1 and text == previous and _is_syllable_with_mark(text):
                if in_span and span is not None:
                    edits.append((span.start(), span.end(), b"/Span<</ActualText()>>BDC"))
                else:
                    edits.append((token.start(), token.end(), b"/Span<</ActualText()>>BDC " + token.group(0) + b" EMC"))
                previous = None
            elif text:
                previous = text
    if not edits:
        return content, 0
    out, position = [], 0
    for start, end, replacement in edits:
        out += [content[position:start], replacement]
        position = end
    out.append(content[position:])
    return b"".join(out), len(edits)


def repair_text_layer(pdf: bytes) -> bytes:
    """``pdf`` with its Thai text layer repaired; the same bytes when nothing needed repair."""
    reader = PdfReader(io.BytesIO(pdf))
    writer: PdfWriter | None = None
    for index, page in enumerate(reader.pages):
        contents = page.get_contents()
        if contents is None:
            continue
        resources = page.get("/Resources")
        font_dict = resources.get_object().get("/Font") if resources is not None else None
        fonts = {}
        if font_dict is not None:
            for name, ref in font_dict.get_object().items():
                fonts[name.lstrip("/")] = _to_unicode(ref.get_object())
        new, fixed = dedupe_stream(contents.get_data(), fonts)
        if not fixed:
            continue
        if writer is None:
            writer = PdfWriter(clone_from=reader)
        target_page = writer.pages[index]
        target = target_page.get_contents()
        assert target is not None
        target.set_data(new)
        target_page.replace_contents(target)
        target_page.compress_content_streams()
    if writer is None:
        return pdf
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
