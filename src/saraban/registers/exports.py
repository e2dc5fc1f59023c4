"""Export of a register (ทะเบียนหนังสือส่ง/รับ, แบบที่ 12 and 14) for a date range as PDF, CSV or XLSX.

Every format carries the official columns, in this order (B5 of the requirements): วันที่ลงทะเบียน,
เลขทะเบียนส่ง (เลขทะเบียนรับ for a receive book), ที่, ลงวันที่, จาก, ถึง, เรื่อง, การปฏิบัติ, หมายเหตุ.

- **PDF**: the printed register of ``saraban.rendering.registers`` (landscape A4), with Thai or Arabic
  digits as the organisation prints its letters.
- **CSV**: exactly the nine columns, UTF-8 with a BOM so that Excel shows the Thai, one row per entry.
  Data for other programs, so digits are Arabic and dates are written "26 พ.ย. 2569". A cell that a
  spreadsheet would run as a formula (leading =, +, -, @, tab or carriage return; not a lone "-") is
  prefixed with "'" (``saraban.core.spreadsheets.neutralise``).
- **XLSX**: a header block (register title, organisation, period in พ.ศ.), the nine columns, and two
  hidden columns with the real dates (see ``_write_xlsx``).

Rows are the entries registered between ``start`` and ``end`` inclusive, as calendar days in Bangkok,
in register-number order. A cancelled number stays in the register: หมายเหตุ reads "ยกเลิก: <reason>"
and the row is struck through (the subject in the PDF, the whole row but หมายเหตุ in the XLSX).

CSV and XLSX stream the rows from the database (``QuerySet.iterator``) into openpyxl's write-only
mode, so a 50,000-row register needs neither 50,000 model instances nor a full worksheet in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from copy import copy
from typing import Literal, cast

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from saraban.core.errors import FieldProblem, RuleViolated, ValidationFailed
from saraban.core.spreadsheets import neutralise_row, print_landscape_a4, set_cell
from saraban.core.thai import THAI_MONTHS, buddhist_year, format_thai_date, local_date
from saraban.directory.models import Organisation
from saraban.rendering.registers import COLUMNS, RegisterRow, RegisterSheet, render_register

from .models import BookKind, EntryStatus, RegisterEntry
from .selectors import register_entries

ExportFormat = Literal["pdf", "csv", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("pdf", "csv", "xlsx")
CANCELLED = "ยกเลิก"

# Cells of the spreadsheet: the Thai government font where installed, Sarabun being its open twin.
FONT_NAME = "TH Sarabun New"
_FONT_SIZE = 14
_ROW_BATCH = 2000
# Column widths (characters) of the nine official columns, then of the two hidden date columns.
_WIDTHS = (15, 12, 18, 13, 30, 30, 50, 25, 25, 12, 12)
_HIDDEN_HEADINGS = ("registered_on (ISO)", "letter_date (ISO)")


def number_heading(kind: BookKind) -> str:
    """The heading of the register-number column: เลขทะเบียนรับ for receive books, else เลขทะเบียนส่ง."""
    return "เลขทะเบียนรับ" if kind.is_receive else "เลขทะเบียนส่ง"


def column_headings(kind: BookKind) -> list[str]:
    """The nine official column headings of a register of ``kind``, in order."""
    return [c if c is not None else number_heading(kind) for c in COLUMNS]


def period_text(start: dt.date, end: dt.date) -> str:
    """The period of a register in พ.ศ.: "ระหว่างวันที่ 1–30 พฤศจิกายน 2569", "วันที่ 1 พฤศจิกายน 2569"..."""
    if start == end:
        return f"วันที่ {format_thai_date(start, use_thai_digits=False)}"
    if (start.year, start.month) == (end.year, end.month):
        return f"ระหว่างวันที่ {start.day}–{end.day} {THAI_MONTHS[end.month - 1]} {buddhist_year(end.year)}"
    if start.year == end.year:
        return (
            f"ระหว่างวันที่ {start.day} {THAI_MONTHS[start.month - 1]} – "
            f"{format_thai_date(end, use_thai_digits=False)}"
        )
    return (
        f"ระหว่างวันที่ {format_thai_date(start, use_thai_digits=False)} – "
        f"{format_thai_date(end, use_thai_digits=False)}"
    )


def _check(kind: BookKind | str, start: dt.date, end: dt.date, fmt: str | None = None) -> BookKind:
    problems = []
    try:
        book_kind = BookKind(kind)
    except ValueError:
        book_kind = BookKind.SEND
        problems.append(FieldProblem(
            "kind", "unknown", f"ไม่รู้จักทะเบียน “{kind}” ใช้: {', '.join(BookKind.values)}",
            f"Unknown register kind “{kind}”; use one of: {', '.join(BookKind.values)}",
        ))
    if start > end:
        problems.append(FieldProblem(
            "start", "after_end", "วันเริ่มต้นต้องไม่อยู่หลังวันสิ้นสุด", "The start date cannot be after the end date",
        ))
    if fmt is not None and fmt not in FORMATS:
        problems.append(FieldProblem(
            "format", "unknown", f"ไม่รู้จักรูปแบบ “{fmt}” ใช้: {', '.join(FORMATS)}",
            f"Unknown format “{fmt}”; use one of: {', '.join(FORMATS)}",
        ))
    if problems:
        # a range that ends before it starts is well-formed: a rule refuses it (422), not its shape
        raise (RuleViolated if all(p.code == "after_end" for p in problems) else ValidationFailed)(problems)
    return book_kind


def _row(entry: RegisterEntry) -> RegisterRow:
    """One register line; a cancelled entry's หมายเหตุ keeps only the reason (the PDF prints ยกเลิก itself)."""
    cancelled = entry.status == EntryStatus.CANCELLED
    remarks = entry.remarks
    if cancelled:
        remarks = remarks.removeprefix(CANCELLED).lstrip(":").strip() or entry.cancelled_reason
    return RegisterRow(
        registered_on=local_date(entry.registered_at),
        number=str(entry.number),
        letter_number=entry.letter_number,
        letter_date=entry.letter_date,
        sender=entry.sender,
        recipient=entry.recipient,
        subject=entry.subject,
        action=entry.action,
        remarks=remarks,
        cancelled=cancelled,
    )


# Blanks what the reader may not see in a batch of entries (``access.policy.hide_classified_details``).
Redactor = Callable[[list[RegisterEntry]], list[RegisterEntry]]


def _rows(organisation: Organisation, kind: BookKind, start: dt.date, end: dt.date,
          redact: Redactor | None = None) -> Iterator[RegisterRow]:
    entries = register_entries(organisation.pk, kind, start=start, end=end)
    batch: list[RegisterEntry] = []
    for entry in entries.iterator(chunk_size=_ROW_BATCH):
        batch.append(entry)
        if len(batch) == _ROW_BATCH:
            yield from (_row(e) for e in (redact(batch) if redact else batch))
            batch = []
    yield from (_row(e) for e in (redact(batch) if redact and batch else batch))


def remarks_text(row: RegisterRow) -> str:
    """หมายเหตุ as a spreadsheet shows it: "ยกเลิก: <reason>" for a cancelled number."""
    if row.cancelled:
        return f"{CANCELLED}: {row.remarks}" if row.remarks else CANCELLED
    return row.remarks


def _date_text(day: dt.date | None) -> str:
    return format_thai_date(day, use_thai_digits=False, abbreviated=True) if day else ""


def row_values(row: RegisterRow) -> list[str]:
    """The nine official cells of ``row`` as text (Arabic digits, dates "26 พ.ย. 2569")."""
    return [
        _date_text(row.registered_on), row.number, row.letter_number, _date_text(row.letter_date),
        row.sender, row.recipient, row.subject, row.action, remarks_text(row),
    ]


def register_sheet(
    organisation: Organisation, kind: BookKind | str, start: dt.date, end: dt.date, redact: Redactor | None = None
) -> RegisterSheet:
    """The register of ``kind`` of ``organisation`` for ``start``–``end`` (Bangkok days, inclusive), to print.

    Raises ``ValidationFailed`` for an unknown kind or a start after the end.
    """
    book_kind = _check(kind, start, end)
    return RegisterSheet(
        title=book_kind.title_th,
        organisation=organisation.name_th,
        period=period_text(start, end),
        number_heading=number_heading(book_kind),
        rows=list(_rows(organisation, book_kind, start, end, redact)),
        thai_digits=organisation.thai_digits,
    )


def _write_csv(organisation: Organisation, kind: BookKind, start: dt.date, end: dt.date,
               redact: Redactor | None = None) -> bytes:
    buffer = io.BytesIO()
    # utf-8-sig writes the BOM first: Excel then reads the file as UTF-8 and shows the Thai.
    with io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="", write_through=True) as out:
        writer = csv.writer(out)
        writer.writerow(column_headings(kind))
        for row in _rows(organisation, kind, start, end, redact):
            writer.writerow(neutralise_row(row_values(row)))
        out.flush()
        return buffer.getvalue()


def _write_xlsx(organisation: Organisation, kind: BookKind, start: dt.date, end: dt.date,
                redact: Redactor | None = None) -> bytes:
    """The register as an Excel workbook (openpyxl write-only mode, so rows stream).

    Layout: row 1 the register's title, row 2 the organisation, row 3 the period in พ.ศ.; row 4 the
    nine official headings (frozen, repeated on every printed page, with an auto-filter); one row per
    entry from row 5.

    Dates are *text* in the official form "26 พ.ย. 2569" so that every spreadsheet program shows the
    Buddhist-era date the same way (Excel's Buddhist-calendar number formats such as
    ``[$-107041E]`` do not carry over reliably to other spreadsheet programs). To sort or filter by
    date, the real dates are also written, as date cells ("yyyy-mm-dd"), in two **hidden columns**
    after หมายเหตุ (J: วันที่ลงทะเบียน, K: ลงวันที่). The nine visible columns are exactly the official ones.

    The register number is a number cell (it sorts 1, 2, ... 10); the other cells are text.
    Cells use the font "TH Sarabun New" 14 pt. A cancelled entry is struck through (all cells but
    หมายเหตุ), and หมายเหตุ reads "ยกเลิก: <reason>" in red.
    """
    book_kind = kind
    wb = Workbook(write_only=True)
    # A WriteOnlyWorksheet at run time; it has the page-setup, dimension and filter attributes of a
    # Worksheet (set by the same ``_setup``), which its type stubs do not declare.
    ws = cast(Worksheet, wb.create_sheet(title=book_kind.title_th[:31]))
    wb.properties.title = f"{book_kind.title_th} {organisation.name_th}"
    wb.properties.language = "th-TH"

    for index, width in enumerate(_WIDTHS, start=1):
        dim = ws.column_dimensions[get_column_letter(index)]
        dim.width = width
        if index > len(COLUMNS):
            dim.hidden = True
    print_landscape_a4(ws, header_row=4)

    def style(
        font: Font, *, align: Alignment | None = None, number_format: str = "", fill: PatternFill | None = None
    ) -> StyleArray:
        # Styling a cell hashes its Font and Alignment objects; doing that once per style rather than
        # once per cell makes a 50,000-row register about three times faster.
        probe = WriteOnlyCell(ws)
        probe.font = font
        if align is not None:
            probe.alignment = align
        if number_format:
            probe.number_format = number_format
        if fill is not None:
            probe.fill = fill
        return probe._style  # type: ignore[attr-defined]

    def cell(value: str | dt.date | None, styled: StyleArray) -> Cell:
        c = WriteOnlyCell(ws)
        c._style = copy(styled)  # type: ignore[attr-defined]
        return set_cell(c, value)  # text, never a formula (openpyxl takes "=..." for one)

    plain = Font(name=FONT_NAME, size=_FONT_SIZE)
    bold = Font(name=FONT_NAME, size=_FONT_SIZE, bold=True)
    text = style(plain, align=Alignment(vertical="top", wrap_text=True))
    struck = style(
        Font(name=FONT_NAME, size=_FONT_SIZE, strike=True, color="FF808080"),
        align=Alignment(vertical="top", wrap_text=True),
    )
    cancelled_mark = style(
        Font(name=FONT_NAME, size=_FONT_SIZE, bold=True, color="FFC00000"),
        align=Alignment(vertical="top", wrap_text=True),
    )
    iso_date = style(plain, align=Alignment(vertical="top"), number_format="yyyy-mm-dd")

    ws.append([cell(book_kind.title_th, style(Font(name=FONT_NAME, size=_FONT_SIZE + 4, bold=True)))])
    ws.append([cell(organisation.name_th, style(bold))])
    ws.append([cell(period_text(start, end), style(plain))])
    headings = [*column_headings(book_kind), *_HIDDEN_HEADINGS]
    heading = style(
        bold, align=Alignment(horizontal="center", vertical="center", wrap_text=True),
        fill=PatternFill("solid", fgColor="FFE8E8E8"),
    )
    ws.append([cell(h, heading) for h in headings])
    last_row = 4
    for row in _rows(organisation, book_kind, start, end, redact):
        values = row_values(row)
        body = struck if row.cancelled else text
        cells = [cell(v, body) for v in values[:8]]
        cells[1].value = int(row.number)  # a number, so that the register sorts 1, 2, ... 10 and not 1, 10, 2
        cells.append(cell(values[8], cancelled_mark if row.cancelled else text))
        cells.append(cell(row.registered_on, iso_date))
        cells.append(cell(row.letter_date, iso_date))
        ws.append(cells)
        last_row += 1
    ws.auto_filter.ref = f"A4:{get_column_letter(len(headings))}{last_row}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_register(
    organisation: Organisation,
    kind: BookKind | str,
    start: dt.date,
    end: dt.date,
    fmt: ExportFormat | str,
    *,
    redact: Redactor | None = None,
) -> bytes:
    """The register of ``kind`` of ``organisation`` for ``start``–``end`` as ``fmt`` ("pdf", "csv", "xlsx").

    ``redact`` blanks, batch by batch, what the reader may not see (the pages and the API pass the
    secrecy rule of the person exporting; the command line, run by the administrator, passes none).

    ``start`` and ``end`` are calendar days in Bangkok, both included. Raises ``ValidationFailed``
    (Thai and English) for an unknown kind or format or a start after the end, and
    ``saraban.rendering.engine.RenderError`` if Typst fails on the PDF.
    """
    book_kind = _check(kind, start, end, fmt)
    if fmt == "pdf":
        return render_register(register_sheet(organisation, book_kind, start, end, redact))
    if fmt == "csv":
        return _write_csv(organisation, book_kind, start, end, redact)
    return _write_xlsx(organisation, book_kind, start, end, redact)
