"""``saraban.core.spreadsheets``: the one formula guard of the CSV and XLSX exports, and its undo."""

from __future__ import annotations

import io
import itertools

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from saraban.core.spreadsheets import looks_like_formula, neutralise, restore, set_cell


@pytest.mark.parametrize("text", [
    '=HYPERLINK("http://x","y")', "@SUM(1+1)", "=1+1", "+1+1", "-1+1", "- 1+1", "-x", "\t=1+1", "\r=1+1",
    "=cmd|' /C calc'!A0", "-", "-12", "-1,250.50", "-0.5", "-12abc", "-1,2", "--12", "+66 2 283 4000",
])
def test_neutralise_follows_the_owasp_list_but_keeps_a_dash_and_negative_numbers(text: str) -> None:
    kept = text in ("-", "-12", "-1,250.50", "-0.5")
    assert neutralise(text) == (text if kept else "'" + text)
    assert looks_like_formula(text) is not kept


def test_plain_text_is_left_alone() -> None:
    for text in ("", "หนังสือขอเชิญประชุม", "นร 0105/123", "'ร้านค้า'", "'", "a=b", " =1+1", "12", "๑๒"):
        assert neutralise(text) == text == restore(text)


def test_restore_undoes_exactly_what_neutralise_did() -> None:
    alphabet = ["'", "=", "-", "+", "@", "\t", "1", "ก", " "]
    texts = ["".join(p) for n in range(5) for p in itertools.product(alphabet, repeat=n)]
    for text in texts:
        assert restore(neutralise(text)) == text, repr(text)
    assert neutralise("'=1+1") == "''=1+1" and restore("''=1+1") == "'=1+1"
    assert restore("'=1+1") == "=1+1" and restore("'-") == "'-" and restore("'-12") == "'-12"


def test_set_cell_writes_text_never_a_formula() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    values: list[object] = ["=1+1", "@SUM(1+1)", "ธรรมดา", -12, 3.5, "-", "ชื่อ\x00เสีย"]
    sheet.append([set_cell(WriteOnlyCell(sheet), v) for v in values])  # type: ignore[arg-type]
    out = io.BytesIO()
    book.save(out)
    read_back = load_workbook(io.BytesIO(out.getvalue())).active
    assert read_back is not None
    cells = read_back[1]
    assert [c.value for c in cells] == ["=1+1", "@SUM(1+1)", "ธรรมดา", -12, 3.5, "-", "ชื่อ\ufffdเสีย"]
    assert [c.data_type for c in cells] == ["s", "s", "s", "n", "n", "s", "s"]
    assert [bool(c.quotePrefix) for c in cells] == [True, True, False, False, False, False, False]
