"""What a letter may hold to be printable and signable: no control characters, only characters its font
draws, and a size a letter can have.

A draft with an emoji, a CJK character or a terminal escape passed review and then could not be
rendered (Typst refuses a PDF/A glyph its font lacks), so it could never be signed. These checks
refuse such text when it is typed, naming the field and the characters. The size limits keep one
draft from taking the renderer's time and memory from everybody else (settings in the README).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from typing import Any

from saraban.core.errors import FieldProblem

from .fonts import printable_codepoints

# Layout controls the renderer handles without a glyph: tab, line break, and the invisible
# characters of Thai line breaking and joining (zero-width space, ZWNJ, ZWJ, word joiner).
_LAYOUT = {0x09, 0x0A, 0x0D, 0x200B, 0x200C, 0x200D, 0x2060}
# Direction overrides and isolates: they make text read differently from what is stored (spoofing).
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_SHOWN = 5  # at most this many distinct characters are named in one message


def _limit(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name) or default)
    except ValueError:
        return default


def max_body_characters() -> int:
    """The longest body, in characters (``SARABAN_LETTER_MAX_CHARS``, default 200,000)."""
    return _limit("SARABAN_LETTER_MAX_CHARS", 200_000)


def max_paragraphs() -> int:
    """The most paragraphs a body may have (``SARABAN_LETTER_MAX_PARAGRAPHS``, default 1,000)."""
    return _limit("SARABAN_LETTER_MAX_PARAGRAPHS", 1_000)


def max_pages() -> int:
    """The most pages a rendered letter may have (``SARABAN_LETTER_MAX_PAGES``, default 100)."""
    return _limit("SARABAN_LETTER_MAX_PAGES", 100)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}")


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, '').title()}".strip()


def _shown(chars: list[str]) -> tuple[str, str]:
    """The characters for a message: each visible one in quotes, with its code point and name."""
    parts = [f"“{c}” ({_name(c)})" if unicodedata.category(c)[0] not in "CZ" else _name(c) for c in chars[:_SHOWN]]
    more = len(chars) - _SHOWN
    return ", ".join(parts) + (f" และอีก {more} ตัว" if more > 0 else ""), ", ".join(parts) + (
        f" and {more} more" if more > 0 else "")


def text_problems(data: dict[str, Any]) -> list[FieldProblem]:
    """Control characters and characters the letter's font cannot draw, per field of ``data`` (JSON)."""
    printable = printable_codepoints()
    problems: list[FieldProblem] = []
    for path, text in _strings(data, ""):
        control: list[str] = []
        undrawable: list[str] = []
        for ch in dict.fromkeys(text):  # each distinct character once, in order
            code = ord(ch)
            if code in _LAYOUT:
                continue
            if code in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
                control.append(ch)
            elif code not in printable and not ch.isspace():
                undrawable.append(ch)
        if control:
            th, en = _shown(control)
            problems.append(FieldProblem(
                path, "control_character", f"มีอักขระควบคุมที่พิมพ์ไม่ได้: {th} ให้ลบออก",
                f"Contains control characters that cannot be printed: {en}; remove them",
            ))
        if undrawable:
            th, en = _shown(undrawable)
            problems.append(FieldProblem(
                path, "unprintable_character",
                f"มีตัวอักษรที่ฟอนต์ของหนังสือราชการพิมพ์ไม่ได้: {th} ให้ลบหรือเปลี่ยนเป็นข้อความ",
                f"Contains characters the letter's font cannot print: {en}; remove them or write them out",
            ))
    return problems


def size_problems(body: list[str]) -> list[FieldProblem]:
    """A body too long for a letter (characters or paragraphs)."""
    problems: list[FieldProblem] = []
    if len(body) > max_paragraphs():
        problems.append(FieldProblem(
            "body", "too_many_paragraphs",
            f"เนื้อหามี {len(body):,} ย่อหน้า เกินกว่าที่กำหนด {max_paragraphs():,} ย่อหน้า ให้แยกเป็นสิ่งที่ส่งมาด้วย",
            f"The body has {len(body):,} paragraphs, more than the limit of {max_paragraphs():,}; "
            "attach the rest as an enclosure",
        ))
    total = sum(len(p) for p in body)
    if total > max_body_characters():
        problems.append(FieldProblem(
            "body", "too_long",
            f"เนื้อหายาว {total:,} ตัวอักษร เกินกว่าที่กำหนด {max_body_characters():,} ตัวอักษร ให้แยกเป็นสิ่งที่ส่งมาด้วย",
            f"The body is {total:,} characters long, more than the limit of {max_body_characters():,}; "
            "attach the rest as an enclosure",
        ))
    return problems


def unrenderable_problems(content: Any) -> list[FieldProblem]:
    """The problems of a ``LetterContent`` that keep it from being rendered at all (checked first)."""
    return [*text_problems(content.model_dump(mode="json")), *size_problems(list(content.body))]
