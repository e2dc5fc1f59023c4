"""Survey answers from CSV (UTF-8) or XLSX: one row per agency, one column per question code.

The first column, ``organisation``, holds the agency's directory identifier. Multi-choice cells list
values separated by ``;``; yes/no cells take ใช่/ไม่ใช่, yes/no, 1/0. Every problem is reported with
its line (CSV, header = line 1) or row (XLSX), its column, in Thai and English. If any row is wrong
nothing is written; otherwise all rows are stored in one transaction, audited as one import event.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from django.db import transaction

from saraban.core.thai import arabic_digits
from saraban.directory.csv_io import ImportReport, RowProblem
from saraban.directory.models import Organisation, Person

from .models import AnswerType, Question, ResponseSource, Survey
from .services import record_bulk, submit_response

ORG_COLUMN = "organisation"
_YES = {"yes", "y", "true", "1", "ใช่", "มี"}
_NO = {"no", "n", "false", "0", "ไม่ใช่", "ไม่", "ไม่มี"}


class AnswerProblem(ValueError):
    """A cell or form field that does not fit its question; carries Thai and English messages."""

    def __init__(self, message_th: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_th = message_th
        self.message_en = message_en


def _option_value(question: Question, text: str) -> str:
    for option in question.options or []:
        if text in (str(option.get("value")), option.get("label_th"), option.get("label_en")):
            return str(option["value"])
    values = ", ".join(str(o.get("value")) for o in question.options or [])
    raise AnswerProblem(f"ไม่มีตัวเลือก “{text}” ใช้: {values}", f"No option “{text}”; use one of: {values}")


def parse_answer(question: Question, raw: str | list[str] | None) -> Any:
    """The stored value of an answer typed as text (a list for multi-choice form fields); ``None`` if blank."""
    if isinstance(raw, list):
        parts = [p.strip() for p in raw if p and p.strip()]
    else:
        text = (raw or "").strip()
        parts = [p.strip() for p in text.split(";") if p.strip()] if text else []
    if not parts:
        if question.required:
            raise AnswerProblem("ต้องตอบคำถามนี้", "This question must be answered")
        return None
    kind = question.answer_type
    if kind == AnswerType.TEXT:
        return "; ".join(parts)[:2000]
    if kind == AnswerType.MULTI_CHOICE:
        return list(dict.fromkeys(_option_value(question, p) for p in parts))
    if len(parts) > 1:
        raise AnswerProblem("ตอบได้ค่าเดียว", "Only one value is allowed")
    value = parts[0]
    if kind == AnswerType.CHOICE:
        return _option_value(question, value)
    if kind == AnswerType.YES_NO:
        lowered = value.lower()
        if lowered in _YES:
            return "yes"
        if lowered in _NO:
            return "no"
        raise AnswerProblem(f"“{value}” ต้องเป็น ใช่ หรือ ไม่ใช่", f"“{value}” must be yes or no")
    if kind == AnswerType.NUMBER:
        try:
            number = float(arabic_digits(value).replace(",", ""))
        except ValueError:
            raise AnswerProblem(f"“{value}” ไม่ใช่ตัวเลข", f"“{value}” is not a number") from None
        if number < 0:
            raise AnswerProblem("ต้องไม่ติดลบ", "Must not be negative")
        return int(number) if number.is_integer() else number
    return value


def _csv_rows(data: bytes, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.problems.append(RowProblem(
            1, "(file)", f"ไฟล์ไม่ใช่ UTF-8 (ไบต์ที่ {exc.start}) กรุณาบันทึกเป็น CSV UTF-8",
            f"The file is not UTF-8 (byte {exc.start}); save it as CSV UTF-8",
        ))
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        report.problems.append(RowProblem(reader.line_num, "(file)", f"รูปแบบ CSV ไม่ถูกต้อง: {exc}", f"Bad CSV: {exc}"))


def _xlsx_rows(data: bytes, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        report.problems.append(RowProblem(1, "(file)", "อ่านไฟล์ XLSX ไม่ได้", f"Cannot read the XLSX file: {exc}"))
        return
    sheet = book.worksheets[0]
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                       for v in row]
    book.close()


def is_xlsx(data: bytes) -> bool:
    """Whether ``data`` looks like an XLSX file (a ZIP archive)."""
    return data[:4] == b"PK\x03\x04"


def import_answers(survey: Survey, data: bytes, *, actor: Person | None = None, fmt: str | None = None) -> ImportReport:
    """Import survey answers from CSV or XLSX (``fmt`` "csv"/"xlsx", else guessed); all rows or none."""
    report = ImportReport()
    xlsx = fmt == "xlsx" or (fmt is None and is_xlsx(data))
    rows = list(_xlsx_rows(data, report) if xlsx else _csv_rows(data, report))
    if report.problems:
        return report
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        report.problems.append(RowProblem(1, "(file)", "ไม่มีข้อมูลในไฟล์", "The file has no data rows"))
        return report
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    while header and not header[-1]:
        header.pop()
    questions = {q.code: q for q in survey.questions.all()}
    unknown = [h for h in header if h != ORG_COLUMN and h not in questions]
    if ORG_COLUMN not in header:
        report.problems.append(RowProblem(header_line, ORG_COLUMN, "ไม่พบคอลัมน์ organisation",
                                          "The organisation column is missing"))
    if unknown:
        report.problems.append(RowProblem(header_line, ", ".join(unknown), "ไม่รู้จักคอลัมน์นี้ (ไม่ใช่รหัสคำถาม)",
                                          "Unknown columns (not question codes)"))
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        report.problems.append(RowProblem(header_line, ", ".join(duplicates), "คอลัมน์ซ้ำ", "Duplicate columns"))
    if report.problems:
        return report
    if len(rows) == 1:
        report.problems.append(RowProblem(1, "(file)", "ไม่มีข้อมูลในไฟล์", "The file has no data rows"))
        return report
    orgs = {o.identifier: o for o in Organisation.objects.all()}
    seen: dict[str, int] = {}
    parsed: list[tuple[Organisation, dict[str, Any]]] = []
    for line, row in rows[1:]:
        if len([c for c in row[len(header):] if c.strip()]):
            report.problems.append(RowProblem(line, "(row)", "จำนวนช่องเกินหัวตาราง", "More cells than header columns"))
            continue
        cells = dict(zip(header, [c.strip() for c in row] + [""] * (len(header) - len(row)), strict=False))
        ident = cells.get(ORG_COLUMN, "")
        org = orgs.get(ident)
        if org is None:
            report.problems.append(RowProblem(line, ORG_COLUMN, f"ไม่พบหน่วยงาน “{ident}” ในทำเนียบ",
                                              f"No organisation “{ident}” in the directory"))
        elif ident in seen:
            report.problems.append(RowProblem(line, ORG_COLUMN, f"ซ้ำกับบรรทัด {seen[ident]}",
                                              f"Duplicate of line {seen[ident]}"))
        seen.setdefault(ident, line)
        answers: dict[str, Any] = {}
        for code, question in questions.items():
            if code not in cells:
                continue
            try:
                answers[code] = parse_answer(question, cells[code])
            except AnswerProblem as problem:
                report.problems.append(RowProblem(line, code, problem.message_th, problem.message_en))
        if org is not None:
            parsed.append((org, answers))
    if report.problems:
        return report
    with transaction.atomic():
        existing = set(survey.responses.values_list("organisation_id", flat=True))
        for org, answers in parsed:
            submit_response(survey, org, answers, source=ResponseSource.IMPORT, actor=actor)
            if org.pk in existing:
                report.updated += 1
            else:
                report.created += 1
        record_bulk("answers_imported", actor=actor, detail={
            "survey": survey.pk, "created": report.created, "updated": report.updated,
            "format": "xlsx" if xlsx else "csv",
        })
    return report
