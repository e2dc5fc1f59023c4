"""Render the two lists of records of the Regulation as landscape A4 PDFs (PDF/A-3b by default).

- บัญชีหนังสือส่งเก็บ (แบบที่ 19, ข้อ 54): the letters of a completed case sent to storage, with the
  year each is kept to (อายุการเก็บหนังสือ).
- บัญชีหนังสือขอทำลาย (แบบที่ 25, ข้อ 66): the letters whose retention ended by the end of a year, with
  the committee's decision on each (การพิจารณา), then the committee's signature slots and the head's
  approval.

Both forms share one template (``records_list.typ``): the heading (title, ส่วนราชการ, วันที่, แผ่นที่ x
จาก y) is the page header of every sheet, as each sheet of a paper form carries it, and the header
row of the table repeats on every page. The data travels as JSON in ``sys.inputs``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from saraban.core.thai import format_thai_date

from .digits import numeral, printed_digits
from .engine import DEFAULT_PDF_STANDARD, compile_pdf
from .fonts import sizes
from .textlayer import repair_text_layer

STORAGE_COLUMNS = ("ลำดับที่", "รหัสแฟ้ม", "ที่", "ลงวันที่", "เรื่อง", "อายุการเก็บหนังสือ", "หมายเหตุ")
DESTRUCTION_COLUMNS = ("ลำดับที่", "รหัสแฟ้ม", "ที่", "ลงวันที่", "เรื่อง", "การพิจารณา", "หมายเหตุ")
NO_FILE = "—"  # a record filed in no case has no file code


@dataclass(frozen=True)
class ListRow:
    """One line of either list: a letter, its file and what is decided about keeping it."""

    file_code: str  # รหัสแฟ้ม; "" prints "—"
    letter_number: str  # ที่
    letter_date: dt.date | None  # ลงวันที่
    subject: str  # เรื่อง
    keeping: str  # อายุการเก็บหนังสือ (แบบ 19) or การพิจารณา (แบบ 25)
    remarks: str = ""  # หมายเหตุ


@dataclass(frozen=True)
class Signatory:
    """A signature slot: its role under the line, and the person's name and position once known."""

    role: str  # "ประธานกรรมการ", "กรรมการ", "หัวหน้าส่วนราชการ"
    name: str = ""  # "" leaves the dotted line to write on
    position: str = ""
    signed_on: dt.date | None = None  # signed (or approved) in Saraban on this day
    note: str = ""  # e.g. the approval's reference
    signed_word: str = "ลงนามในระบบ"  # printed before ``signed_on``: "อนุมัติในระบบ" for the head


@dataclass(frozen=True)
class RecordsListSheet:
    """A list to print: which form, its heading, rows and (แบบ 25) signature slots."""

    form: str  # "19" or "25"
    title: str  # "บัญชีหนังสือส่งเก็บ", "บัญชีหนังสือขอทำลาย ประจำปี พ.ศ. 2568"
    organisation: str  # ส่วนราชการ
    day: dt.date | None = None  # วันที่ of the list
    rows: list[ListRow] = field(default_factory=list)
    committee: list[Signatory] = field(default_factory=list)  # แบบ 25: the committee's slots
    approval: Signatory | None = None  # แบบ 25: the head's approval
    draft: bool = False  # no list drawn up yet: what would be on it
    thai_digits: bool = True  # numbers and dates in Thai digits (๐–๙)

    @property
    def columns(self) -> tuple[str, ...]:
        """The seven columns of the form, in order."""
        return DESTRUCTION_COLUMNS if self.form == "25" else STORAGE_COLUMNS


def _date(day: dt.date | None, *, thai: bool, abbreviated: bool = True) -> str:
    return format_thai_date(day, use_thai_digits=thai, abbreviated=abbreviated) if day else ""


def records_list_view(sheet: RecordsListSheet) -> dict[str, Any]:
    """The data the template draws, with dates in พ.ศ. and digits in the organisation's style."""
    thai = sheet.thai_digits

    def p(text: str) -> str:
        return printed_digits(text, thai=thai)

    def slot(s: Signatory) -> dict[str, str]:
        return {"role": p(s.role), "name": p(s.name), "position": p(s.position), "note": p(s.note),
                "signed_on": _date(s.signed_on, thai=thai), "signed_word": s.signed_word}

    return {
        "form": sheet.form,
        "title": p(sheet.title),
        "organisation": p(sheet.organisation),
        "day": _date(sheet.day, thai=thai, abbreviated=False),
        "draft": sheet.draft,
        "columns": list(sheet.columns),
        "thai_digits": thai,
        "sizes": sizes(),
        "total": numeral(len(sheet.rows), thai=thai),
        "rows": [
            [numeral(i, thai=thai), p(row.file_code) or NO_FILE, p(row.letter_number),
             _date(row.letter_date, thai=thai), p(row.subject), p(row.keeping), p(row.remarks)]
            for i, row in enumerate(sheet.rows, start=1)
        ],
        "committee": [slot(s) for s in sheet.committee],
        "approval": slot(sheet.approval) if sheet.approval is not None else None,
    }


def render_records_list(sheet: RecordsListSheet, *, pdf_standard: str = DEFAULT_PDF_STANDARD) -> bytes:
    """Render ``sheet`` (แบบที่ 19 or 25) as a landscape A4 PDF and return the bytes (PDF/A-3b unless
    ``pdf_standard`` names another; "" writes a plain PDF). Thread-safe."""
    return repair_text_layer(compile_pdf("records_list", records_list_view(sheet), pdf_standard=pdf_standard or None))
