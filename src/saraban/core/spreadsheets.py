"""Cells that a spreadsheet program will not run: the one guard of every CSV and XLSX export.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (OWASP, "CSV injection"): ``=HYPERLINK("http://x","y")`` makes a link, ``@SUM(1+1)``
and ``=1+1`` compute, a DDE formula can start a program. Any text a user typed (a subject, a name,
a purpose) may start that way, so every exported cell goes through this module.

**CSV** (``neutralise``): such a cell gets one leading apostrophe ``'``, as OWASP advises. Two cells
are left as they are because no program runs them: a lone ``-`` (the usual "nothing" in a register)
and a real negative number in plain notation (``-12``, ``-1,250.50``), so a numeric column stays
numeric. A cell that already starts with apostrophes followed by one of those characters gets one
more apostrophe, so that the rule can be undone exactly.

The round-trip rule (``restore``): an importer removes one leading apostrophe **only** when the
text after it, once its own leading apostrophes are set aside, starts the way ``neutralise``
guards. That is exactly when the export added it, so ``restore(neutralise(x)) == x`` for every
text ``x``; ``'ร้านค้า'`` or ``'-`` come back as they were.

**XLSX** (``set_cell``): the text is written as it is, as a string cell, which a spreadsheet shows
and never runs; openpyxl would store a ``str`` that starts with ``=`` as a formula, and that is
undone. A cell that starts like a formula also gets Excel's *quote prefix* (what Excel records when
someone types ``'=1+1``), so editing it in Excel keeps it text. Numbers stay number cells. A
character that XML cannot carry (NUL and the other control characters but tab, newline and
carriage return) is written as U+FFFD, so an export never fails on old data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.utils.exceptions import IllegalCharacterError

if TYPE_CHECKING:
    from openpyxl.cell import _CellSetValue

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP's list)."""

_NEGATIVE_NUMBER = re.compile(r"-(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_APOSTROPHE = "'"


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (but not a lone "-" or a negative number)."""
    if text[:1] not in FORMULA_TRIGGERS:
        return False
    return not (text == "-" or _NEGATIVE_NUMBER.fullmatch(text))


def neutralise(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs: a "'" before a formula-like start (see the module)."""
    if looks_like_formula(text.lstrip(_APOSTROPHE)):
        return _APOSTROPHE + text
    return text


def neutralise_row(values: Iterable[str]) -> list[str]:
    """Every cell of a CSV row through ``neutralise``."""
    return [neutralise(v) for v in values]


def restore(text: str) -> str:
    """The text that ``neutralise`` turned into ``text``: one "'" removed only where the export added it."""
    if text.startswith(_APOSTROPHE) and looks_like_formula(text[1:].lstrip(_APOSTROPHE)):
        return text[1:]
    return text


def set_cell(cell: Cell, value: _CellSetValue) -> Cell:
    """Put ``value`` in an openpyxl ``cell`` so that it is never a formula (see the module); returns the cell.

    Set the cell's style before calling this: assigning ``_style`` afterwards drops the quote prefix.
    """
    try:
        cell.value = value
    except IllegalCharacterError:
        cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    if isinstance(cell.value, str):
        if cell.data_type == "f":
            cell.data_type = "s"
        if looks_like_formula(cell.value):
            cell.quotePrefix = True
    return cell


def print_landscape_a4(sheet: Any, *, header_row: int) -> None:
    """Set a worksheet to print as the official lists do: landscape A4, one page wide, the header row
    frozen below it and repeated on every printed page."""
    from openpyxl.worksheet.properties import PageSetupProperties
    from openpyxl.worksheet.worksheet import Worksheet

    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
