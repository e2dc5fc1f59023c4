"""One form of Thai text for searching: what the index holds and what a query is matched as.

Both sides go through ``fold``: Unicode NFC; SARA AM written as NIKHAHIT + SARA AA (as OCR and some
keyboards produce it) as the one character ``ำ``; Thai digits as Arabic ones; Latin letters in lower
case; and no whitespace at all, so that ``นร 0105.04/1``, ``นร0105.04/1`` and ``๐๑๐๕.๐๔/๑`` meet, and a
code typed with or without its spaces is found. Matching is by substring of the folded text, so a
fragment of a compound word (``ทรอนิกส์``) is found: no word segmentation decides what a word is.
"""

from __future__ import annotations

import re
import unicodedata

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SPACE = re.compile(r"\s+")
_DIGIT_CLASSES = {str(d): f"[{d}{'๐๑๒๓๔๕๖๗๘๙'[d]}]" for d in range(10)}


def fold(text: str) -> str:
    """``text`` as the index and the queries compare it (see the module's docstring)."""
    # SARA AM is joined after the whitespace is gone: OCR text layers put spaces inside it ("ส ํ า").
    folded = _SPACE.sub("", unicodedata.normalize("NFC", text).translate(_THAI_DIGITS).lower())
    return folded.replace("\u0e4d\u0e32", "\u0e33")


def passage_pattern(term: str) -> re.Pattern[str]:
    """A pattern that finds a folded ``term`` in the original text: any whitespace between its
    characters, either digit form, either case, either way of writing SARA AM."""
    parts = []
    for char in term:
        if char in _DIGIT_CLASSES:
            parts.append(_DIGIT_CLASSES[char])
        elif char == "\u0e33":
            parts.append("(?:\u0e33|\u0e4d\u0e32)")
        else:
            parts.append(re.escape(char))
    return re.compile(r"\s*".join(parts), re.IGNORECASE)
