"""Render a send or receive register (ทะเบียนหนังสือส่ง/รับ, แบบที่ 12 and 14) as a landscape PDF.

The rows travel to Typst as JSON in ``sys.inputs``; thousands of rows are fine (the header row repeats
on every page and the pages are numbered).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from saraban.core.thai import format_thai_date

from .digits import printed_digits
from .engine import DEFAULT_PDF_STANDARD, compile_pdf
from .fonts import sizes
from .textlayer import repair_text_layer

# The official columns, in order; the second heading is the register's own.
COLUMNS = ("วันที่ลงทะเบียน", None, "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ")


@dataclass(frozen=True)
class RegisterRow:
    """One line of a register."""

    registered_on: dt.date
    number: str  # เลขทะเบียนส่ง/รับ
    letter_number: str  # ที่ of the letter
    letter_date: dt.date | None
    sender: str  # จาก
    recipient: str  # ถึง
    subject: str  # เรื่อง
    action: str = ""  # การปฏิบัติ
    remarks: str = ""  # หมายเหตุ
    cancelled: bool = False  # a number issued and cancelled stays in the register, marked ยกเลิก


@dataclass(frozen=True)
class RegisterSheet:
    """A register to print: its heading and rows."""

    title: str  # "ทะเบียนหนังสือส่ง"
    organisation: str
    period: str  # e.g. "ระหว่างวันที่ 1–30 พฤศจิกายน 2569"
    number_heading: str  # "เลขทะเบียนส่ง" or "เลขทะเบียนรับ"
    rows: list[RegisterRow] = field(default_factory=list)
    thai_digits: bool = True  # print numbers and dates with Thai digits (๐–๙)


def _date(day: dt.date | None, *, thai: bool) -> str:
    return format_thai_date(day, use_thai_digits=thai, abbreviated=True) if day else ""


def register_view(sheet: RegisterSheet) -> dict[str, Any]:
    """The data the register template draws, with dates in พ.ศ. and digits in the chosen style."""
    thai = sheet.thai_digits

    def p(text: str) -> str:
        return printed_digits(text, thai=thai)

    return {
        "title": p(sheet.title),
        "organisation": p(sheet.organisation),
        "period": p(sheet.period),
        "columns": [c if c is not None else sheet.number_heading for c in COLUMNS],
        "thai_digits": thai,
        "sizes": sizes(),
        "rows": [
            [
                _date(row.registered_on, thai=thai),
                p(row.number),
                p(row.letter_number),
                _date(row.letter_date, thai=thai),
                p(row.sender),
                p(row.recipient),
                p(row.subject),
                p(row.action),
                p(row.remarks),
                row.cancelled,
            ]
            for row in sheet.rows
        ],
    }


def render_register(sheet: RegisterSheet, *, pdf_standard: str = DEFAULT_PDF_STANDARD) -> bytes:
    """Render ``sheet`` as a landscape A4 PDF (PDF/A-3b by default) and return the bytes.

    Columns: วันที่ลงทะเบียน, the register number, ที่, ลงวันที่, จาก, ถึง, เรื่อง, การปฏิบัติ, หมายเหตุ.
    A cancelled row has its subject struck through and "ยกเลิก" in หมายเหตุ. Thread-safe.
    """
    return repair_text_layer(compile_pdf("register", register_view(sheet), pdf_standard=pdf_standard or None))
