"""Labels in Thai and English, kept as a pair.

A choice's label is a ``Label``: a ``str`` that reads "ไทย / English" where Django shows it whole
(the admin, ``get_…_display``), and whose halves are ``.th`` and ``.en`` (``.pair``). Code takes the
halves from there, never by splitting the string.
"""

from __future__ import annotations

from typing import Any


class Label(str):
    """A label in Thai and English: ``Label("ร่าง", "Draft")`` is the string "ร่าง / Draft" with both halves."""

    th: str
    en: str

    def __new__(cls, th: str, en: str) -> Label:
        label = super().__new__(cls, f"{th} / {en}")
        label.th, label.en = th, en
        return label

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        # copy and pickle build it again from its halves
        return (self.th, self.en)

    @property
    def pair(self) -> tuple[str, str]:
        """(Thai, English)."""
        return (self.th, self.en)

    def in_language(self, lang: str) -> str:
        """The English half when ``lang`` is "en", else the Thai one."""
        return self.en if lang == "en" else self.th


def pair(label: Any) -> tuple[str, str]:
    """(Thai, English) of a label: a ``Label``'s halves; any other text is the same in both."""
    if isinstance(label, Label):
        return label.pair
    text = str(label)
    return (text, text)
