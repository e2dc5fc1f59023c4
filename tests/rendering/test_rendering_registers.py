"""Registers: landscape A4, official columns, cancelled rows, thousands of rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from saraban.rendering.registers import RegisterRow, RegisterSheet, register_view, render_register

from .conftest import pdf_info, pdf_text, raw_pdf_text

pytestmark = pytest.mark.pdf


def rows(n: int) -> list[RegisterRow]:
    start = dt.date(2026, 1, 5)
    return [
        RegisterRow(
            registered_on=start + dt.timedelta(days=i // 10),
            number=str(i + 1),
            letter_number=f"นร 0105/{i + 1}",
            letter_date=start + dt.timedelta(days=i // 10),
            sender="สำนักงานปลัดสำนักนายกรัฐมนตรี",
            recipient="ผู้ว่าราชการจังหวัดนนทบุรี",
            subject=f"การใช้ระบบสารบรรณอิเล็กทรอนิกส์ ฉบับที่ {i + 1}",
            action="ส่งทางระบบ",
            remarks="",
            cancelled=i == 2,
        )
        for i in range(n)
    ]


def sheet(n: int, *, thai: bool = True) -> RegisterSheet:
    return RegisterSheet(
        title="ทะเบียนหนังสือส่ง",
        organisation="สำนักงานปลัดสำนักนายกรัฐมนตรี",
        period="ประจำปี พ.ศ. 2569",
        number_heading="เลขทะเบียนส่ง",
        rows=rows(n),
        thai_digits=thai,
    )


def test_columns_in_official_order() -> None:
    assert register_view(sheet(1))["columns"] == [
        "วันที่ลงทะเบียน", "เลขทะเบียนส่ง", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ",
    ]


def test_small_register(tmp_path: Path) -> None:
    pdf = render_register(sheet(5))
    info = pdf_info(pdf, tmp_path)
    assert info["Page size"].startswith("841.89 x 595.276")  # landscape A4
    assert b"<pdfaid:part>3</pdfaid:part>" in pdf
    text = pdf_text(pdf, tmp_path)
    assert "ทะเบียนหนังสือส่ง" in text and "วันที่ลงทะเบียน" in text and "หมายเหตุ" in text
    assert "๕ม.ค.๒๕๖๙" in text and "นร๐๑๐๕/๔" in text  # dates in พ.ศ., Thai digits
    assert "ยกเลิก" in text and text.count("ยกเลิก") == 1


def test_arabic_digits(tmp_path: Path) -> None:
    text = pdf_text(render_register(sheet(3, thai=False)), tmp_path)
    assert "5ม.ค.2569" in text and "นร0105/3" in text


def test_two_thousand_rows_repeat_the_header(tmp_path: Path) -> None:
    pdf = render_register(sheet(2000))
    pages = int(pdf_info(pdf, tmp_path)["Pages"])
    assert pages > 50
    raw = raw_pdf_text(pdf, tmp_path).split("\f")[:pages]
    assert all("การปฏิบัติ" in page for page in raw)
    assert f"หน้า {pages}".translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")) in raw[-1]
    assert "นร ๐๑๐๕/๒๐๐๐" in raw[-1].replace("  ", " ")
