"""Register exports (B5): the official columns in order, as CSV, XLSX and PDF, and ``saraban register export``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection

from saraban.core.errors import ValidationFailed
from saraban.directory.models import Organisation
from saraban.directory.services import create_organisation
from saraban.registers.exports import export_register, period_text, register_sheet
from saraban.registers.models import BookKind, RegisterEntry
from saraban.registers.numbering import EntryFields
from saraban.registers.services import cancel_entry, register_incoming, register_outgoing

BKK = ZoneInfo("Asia/Bangkok")
SEND_COLUMNS = ["วันที่ลงทะเบียน", "เลขทะเบียนส่ง", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ"]
RECEIVE_COLUMNS = ["วันที่ลงทะเบียน", "เลขทะเบียนรับ", *SEND_COLUMNS[2:]]
SENDER = "สำนักงานปลัดสำนักนายกรัฐมนตรี"
RECIPIENT = "ผู้ว่าราชการจังหวัดนนทบุรี"
SUBJECT_MEETING = "ขอเชิญประชุมคณะกรรมการพัฒนาระบบสารบรรณ"
SUBJECT_CANCELLED = "ขอความอนุเคราะห์ข้อมูลบุคลากร"
SUBJECT_LATE = "ขอส่งรายงานผลการดำเนินงาน"
NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))  # 1/11/2569 – 30/11/2569


@dataclass
class _Register:
    org: Organisation
    cancelled: RegisterEntry


def _send(org: Organisation, at: dt.datetime, subject: str, *, action: str = "ส่งทางระบบ") -> RegisterEntry:
    allocation = register_outgoing(
        org.pk, BookKind.SEND, letter_code=org.letter_code, at=at,
        fields=EntryFields(
            letter_date=at.astimezone(BKK).date(), sender=SENDER, recipient=RECIPIENT, subject=subject, action=action,
        ),
    )
    return RegisterEntry.objects.get(pk=allocation.entry_id)


def _make_register() -> _Register:
    org = create_organisation(
        identifier="exports-opm", kind="department", name_th=SENDER, letter_code="นร 0105", thai_digits=True,
    )
    _send(org, dt.datetime(2026, 10, 31, 23, 59, tzinfo=BKK), "ก่อนช่วง")  # 1: 31 Oct, outside
    _send(org, dt.datetime(2026, 11, 1, 0, 0, tzinfo=BKK), SUBJECT_MEETING)  # 2: first instant of 1 Nov
    cancelled = _send(org, dt.datetime(2026, 11, 15, 10, 0, tzinfo=BKK), SUBJECT_CANCELLED)  # 3
    cancel_entry(cancelled, reason="ออกเลขซ้ำ")
    _send(org, dt.datetime(2026, 11, 30, 23, 30, tzinfo=BKK), SUBJECT_LATE)  # 4: 16:30 UTC, still 30 Nov
    _send(org, dt.datetime(2026, 12, 1, 0, 10, tzinfo=BKK), "หลังช่วง")  # 5: 30 Nov in UTC, 1 Dec in Bangkok
    _send(org, dt.datetime(2026, 12, 31, 23, 30, tzinfo=BKK), "ส่งท้ายปี")  # 6: 31 Dec 2569
    _send(org, dt.datetime(2027, 1, 1, 0, 30, tzinfo=BKK), "ต้อนรับปีใหม่")  # 1 of the 2570 book
    return _Register(org, cancelled)


@pytest.fixture
def _register(db: None) -> _Register:
    return _make_register()


@pytest.fixture
def _committed_register(transactional_db: None) -> _Register:
    return _make_register()


NOVEMBER_ROWS = [
    ["1 พ.ย. 2569", "2", "นร 0105/2", "1 พ.ย. 2569", SENDER, RECIPIENT, SUBJECT_MEETING, "ส่งทางระบบ", ""],
    ["15 พ.ย. 2569", "3", "นร 0105/3", "15 พ.ย. 2569", SENDER, RECIPIENT, SUBJECT_CANCELLED, "ส่งทางระบบ",
     "ยกเลิก: ออกเลขซ้ำ"],
    ["30 พ.ย. 2569", "4", "นร 0105/4", "30 พ.ย. 2569", SENDER, RECIPIENT, SUBJECT_LATE, "ส่งทางระบบ", ""],
]


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_has_the_official_columns_and_only_the_rows_of_the_period(_register: _Register) -> None:
    data = export_register(_register.org, BookKind.SEND, *NOVEMBER, "csv")
    rows = _csv_rows(data)
    assert rows[0] == SEND_COLUMNS
    assert rows[1:] == NOVEMBER_ROWS
    assert "การพัฒนาระบบสารบรรณ".encode() in data  # Thai as UTF-8, not escaped or transcoded


def test_csv_day_boundaries_are_bangkok_days(_register: _Register) -> None:
    last_day = _csv_rows(export_register(_register.org, "send", dt.date(2026, 12, 31), dt.date(2026, 12, 31), "csv"))
    assert [r[:3] + r[6:7] for r in last_day[1:]] == [["31 ธ.ค. 2569", "6", "นร 0105/6", "ส่งท้ายปี"]]
    across_years = _csv_rows(export_register(_register.org, "send", dt.date(2026, 12, 31), dt.date(2027, 1, 1), "csv"))
    assert [r[:3] for r in across_years[1:]] == [
        ["31 ธ.ค. 2569", "6", "นร 0105/6"],
        ["1 ม.ค. 2570", "1", "นร 0105/1"],  # the 2570 book starts again at 1
    ]
    december_1 = dt.date(2026, 12, 1)
    first_of_december = _csv_rows(export_register(_register.org, "send", december_1, december_1, "csv"))
    assert [r[1] for r in first_of_december[1:]] == ["5"]  # 00:10 Bangkok = 30 Nov 17:10 UTC


def test_receive_register_has_the_receive_number_heading(_register: _Register) -> None:
    register_incoming(
        _register.org.pk, classified=False, at=dt.datetime(2026, 11, 20, 9, 15, tzinfo=BKK),
        fields=EntryFields(
            letter_number="ศธ 0206/ว 123", letter_date=dt.date(2026, 11, 18), sender="กระทรวงศึกษาธิการ",
            recipient=SENDER, subject="การจัดงานวันครู", action="มอบกองการเจ้าหน้าที่",
        ),
    )
    rows = _csv_rows(export_register(_register.org, BookKind.RECEIVE, *NOVEMBER, "csv"))
    assert rows == [
        RECEIVE_COLUMNS,
        ["20 พ.ย. 2569", "1", "ศธ 0206/ว 123", "18 พ.ย. 2569", "กระทรวงศึกษาธิการ", SENDER, "การจัดงานวันครู",
         "มอบกองการเจ้าหน้าที่", ""],
    ]


def test_a_cell_that_looks_like_a_formula_stays_text(_register: _Register) -> None:
    _send(_register.org, dt.datetime(2026, 11, 20, 9, tzinfo=BKK), '=HYPERLINK("http://x","y")', action="-")
    rows = _csv_rows(export_register(_register.org, "send", dt.date(2026, 11, 20), dt.date(2026, 11, 20), "csv"))
    assert rows[1][6:8] == ['\'=HYPERLINK("http://x","y")', "-"]
    book = openpyxl.load_workbook(
        io.BytesIO(export_register(_register.org, "send", dt.date(2026, 11, 20), dt.date(2026, 11, 20), "xlsx"))
    )
    cell = book.active["G5"]  # type: ignore[index]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x","y")', "s")


def test_bad_arguments_are_refused_in_thai_and_english(_register: _Register) -> None:
    with pytest.raises(ValidationFailed) as refused:
        export_register(_register.org, "ledger", dt.date(2026, 12, 1), dt.date(2026, 11, 1), "docx")
    assert [p.field for p in refused.value.problems] == ["kind", "start", "format"]
    assert "วันเริ่มต้นต้องไม่อยู่หลังวันสิ้นสุด" in str(refused.value)
    assert "The start date cannot be after the end date" in str(refused.value)


def test_period_text_in_buddhist_era() -> None:
    assert period_text(*NOVEMBER) == "ระหว่างวันที่ 1–30 พฤศจิกายน 2569"
    assert period_text(dt.date(2026, 11, 26), dt.date(2026, 11, 26)) == "วันที่ 26 พฤศจิกายน 2569"
    assert period_text(dt.date(2026, 10, 1), dt.date(2026, 11, 30)) == "ระหว่างวันที่ 1 ตุลาคม – 30 พฤศจิกายน 2569"
    assert period_text(dt.date(2026, 12, 31), dt.date(2027, 1, 1)) == (
        "ระหว่างวันที่ 31 ธันวาคม 2569 – 1 มกราคม 2570"
    )


# --- XLSX --------------------------------------------------------------------------------------------


def test_xlsx_has_the_header_block_the_columns_and_the_same_values(_register: _Register) -> None:
    data = export_register(_register.org, BookKind.SEND, *NOVEMBER, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book.active
    assert ws is not None
    assert ws.title == "ทะเบียนหนังสือส่ง"
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0][0] == "ทะเบียนหนังสือส่ง"
    assert values[1][0] == SENDER
    assert values[2][0] == "ระหว่างวันที่ 1–30 พฤศจิกายน 2569"
    assert values[3][:9] == SEND_COLUMNS
    assert [[str(v or "") for v in row[:9]] for row in values[4:]] == NOVEMBER_ROWS  # same cells as the CSV
    assert [row[1] for row in values[4:]] == [2, 3, 4]  # register numbers are numbers (they sort 1, 2, ... 10)
    # The real dates, for sorting, in the hidden columns J (registered) and K (letter date).
    assert [row[9:11] for row in values[4:]] == [
        [dt.datetime(2026, 11, d), dt.datetime(2026, 11, d)] for d in (1, 15, 30)
    ]
    assert ws.column_dimensions["J"].hidden and ws.column_dimensions["K"].hidden
    assert not any(ws.column_dimensions[c].hidden for c in "ABCDEFGHI")
    assert ws.column_dimensions["G"].width == 50 and ws.column_dimensions["A"].width == 15
    assert ws.freeze_panes == "A5"  # the heading row stays in view
    assert ws["A5"].font.name == "TH Sarabun New" and ws["G5"].font.name == "TH Sarabun New"
    assert ws["A4"].font.bold
    assert not ws["G5"].font.strike
    cancelled = [ws.cell(row=6, column=c) for c in range(1, 10)]
    assert all(c.font.strike for c in cancelled[:8])  # struck through...
    assert cancelled[8].value == "ยกเลิก: ออกเลขซ้ำ" and not cancelled[8].font.strike  # ...and marked
    assert ws["J5"].number_format == "yyyy-mm-dd"


# --- PDF ---------------------------------------------------------------------------------------------

_DUPLICATED_CLUSTER = re.compile(r"([ก-ฮ][\u0E31\u0E34-\u0E3A\u0E47-\u0E4E]+)\1")


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is not installed: the PDF export cannot be checked")
    path = tmp_path / "register.pdf"
    path.write_bytes(pdf)
    raw = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout.decode()
    # pdftotext spaces Thai out and repeats some clusters of Typst's output (see tests/rendering).
    return _DUPLICATED_CLUSTER.sub(r"\1", re.sub(r"\s+", "", raw))


def test_pdf_has_the_title_subjects_and_the_cancelled_mark(_register: _Register, tmp_path: Path) -> None:
    pdf = export_register(_register.org, BookKind.SEND, *NOVEMBER, "pdf")
    assert pdf.startswith(b"%PDF-")
    text = _pdf_text(pdf, tmp_path)
    assert "ทะเบียนหนังสือส่ง" in text
    assert "ระหว่างวันที่๑–๓๐พฤศจิกายน๒๕๖๙" in text  # the organisation prints Thai digits
    assert SUBJECT_MEETING in text and SUBJECT_LATE in text
    assert "ยกเลิกออกเลขซ้ำ" in text  # the mark, then the reason, once
    assert "ก่อนช่วง" not in text and "หลังช่วง" not in text
    assert "นร๐๑๐๕/๓" in text


def test_register_sheet_keeps_the_reason_without_repeating_the_mark(_register: _Register) -> None:
    sheet = register_sheet(_register.org, "send", *NOVEMBER)
    assert (sheet.title, sheet.number_heading, sheet.thai_digits) == ("ทะเบียนหนังสือส่ง", "เลขทะเบียนส่ง", True)
    assert [(r.number, r.cancelled, r.remarks) for r in sheet.rows] == [
        ("2", False, ""), ("3", True, "ออกเลขซ้ำ"), ("4", False, ""),
    ]


# --- saraban register export ----------------------------------------------------------------------


def _database_url() -> str:
    """The URL of the test database, for a ``saraban`` subprocess to read what this test committed."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    user = quote(settings.get("USER") or "")
    password = quote(settings.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}/{settings['NAME']}"


def _saraban(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ, "SARABAN_HOME": str(tmp_path / "home"), "SARABAN_DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "saraban.settings",
    }
    return subprocess.run(
        [sys.executable, "-m", "saraban", *args], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )


def _export(tmp_path: Path, out: Path, *, org: str = "exports-opm", start: str = "1/11/2569",
            end: str = "30/11/2569") -> subprocess.CompletedProcess[str]:
    return _saraban(
        tmp_path, "register", "export", "--organisation", org, "--kind", "send", "--from", start, "--to", end,
        "--format", out.suffix.lstrip("."), "-o", str(out),
    )


def _assert_refused(result: subprocess.CompletedProcess[str], out: Path, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.django_db(transaction=True)
def test_cli_writes_the_export(_committed_register: _Register, tmp_path: Path) -> None:
    out = tmp_path / "send.csv"
    result = _export(tmp_path, out, start="๑/๑๑/๒๕๖๙")  # Thai digits, as some clerks type them
    assert result.returncode == 0, result.stderr
    assert "3 รายการ / entries" in result.stdout
    assert _csv_rows(out.read_bytes()) == [SEND_COLUMNS, *NOVEMBER_ROWS]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["send.csv"]  # no temporary file left


@pytest.mark.django_db(transaction=True)
def test_cli_refuses_a_bad_date(_committed_register: _Register, tmp_path: Path) -> None:
    out = tmp_path / "send.xlsx"
    _assert_refused(
        _export(tmp_path, out, start="31/2/2569"), out,
        "วันที่ “31/2/2569” ไม่ถูกต้อง", "Date “31/2/2569” is not a valid day/month/Buddhist year",
    )
    _assert_refused(_export(tmp_path, out, end="30/11/2026"), out, "--to", "ไม่ถูกต้อง", "not a valid")


@pytest.mark.django_db(transaction=True)
def test_cli_refuses_an_unknown_organisation(_committed_register: _Register, tmp_path: Path) -> None:
    out = tmp_path / "send.pdf"
    _assert_refused(
        _export(tmp_path, out, org="no-such-org"), out,
        "ไม่พบหน่วยงาน “no-such-org”", "Unknown organisation “no-such-org”",
    )


@pytest.mark.django_db(transaction=True)
def test_cli_refuses_a_start_after_the_end(_committed_register: _Register, tmp_path: Path) -> None:
    out = tmp_path / "send.csv"
    _assert_refused(
        _export(tmp_path, out, start="1/12/2569", end="30/11/2569"), out,
        "วันเริ่มต้น 1/12/2569 อยู่หลังวันสิ้นสุด 30/11/2569", "The start date 1/12/2569 is after the end date 30/11/2569",
    )


@pytest.mark.django_db(transaction=True)
def test_cli_refuses_an_unknown_kind_and_format(_committed_register: _Register, tmp_path: Path) -> None:
    out = tmp_path / "send.doc"
    result = _saraban(
        tmp_path, "register", "export", "--organisation", "exports-opm", "--kind", "ledger", "--from", "1/11/2569",
        "--to", "30/11/2569", "-o", str(out),
    )
    _assert_refused(
        result, out, "ไม่รู้จักทะเบียน “ledger”", "Unknown register kind “ledger”", "ไม่รู้จักรูปแบบ “doc”",
        "Unknown format “doc”",
    )
