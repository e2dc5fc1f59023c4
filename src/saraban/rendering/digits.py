"""Digit style of printed text: Thai digits (๐–๙) everywhere except e-mail addresses and URLs."""

from __future__ import annotations

import re

from saraban.core.thai import thai_digits

# Tokens whose digits must stay as typed: e-mail addresses and web addresses.
_KEEP_RE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+|(?:https?://|www\.)\S+")


def printed_digits(text: str, *, thai: bool) -> str:
    """``text`` with its Arabic digits written in Thai when ``thai``, e-mail and web addresses kept."""
    if not thai or not text:
        return text
    out: list[str] = []
    pos = 0
    for match in _KEEP_RE.finditer(text):
        out.append(thai_digits(text[pos : match.start()]))
        out.append(match.group())
        pos = match.end()
    out.append(thai_digits(text[pos:]))
    return "".join(out)




def numeral(n: int, *, thai: bool) -> str:
    """The integer ``n`` in the chosen digit style."""
    return printed_digits(str(n), thai=thai)


__all__ = ["numeral", "printed_digits"]
