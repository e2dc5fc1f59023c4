"""Import and export of the directory as CSV (UTF-8, Thai; Excel's BOM accepted and written).

An import checks every row first and reports each problem with its line and column, in Thai and
English. If any row is wrong, nothing is written; otherwise the whole file is applied in one
transaction. Besides each column's own rules, every cell is checked for:

- **quotes**: a quote (``"``) left open or followed by more text is a problem of the row where it
  starts (the file is read strictly), never a name that swallows the rest of the file;
- **length**: no longer than the database column (``name_th`` of an organisation 255 characters,
  of a person 200, and so on);
- **control characters** (NUL, tab, the other C0 and C1 controls, DEL) are refused; only the
  ``address`` may hold line breaks (a quoted cell typed with Alt+Enter in Excel).

Exports write every cell through ``saraban.core.spreadsheets.neutralise``: a cell that a spreadsheet
would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab, carriage return) gets one leading
apostrophe. An import undoes exactly that with ``saraban.core.spreadsheets.restore``: one leading
apostrophe is removed only where the text after it starts like a formula (after any further
apostrophes), which is exactly where an export put it, so an exported file imports back to the
same data. ``'ร้านค้า`` or ``'-`` are imported as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction

from saraban.core.errors import SarabanError
from saraban.core.spreadsheets import neutralise_row, restore
from saraban.core.thai import arabic_digits, parse_thai_date

from .models import Organisation, OrganisationKind, Person, ProgrammeCategory, Province, Role, RoleAssignment
from .services import (
    assign_role,
    create_organisation,
    create_person,
    organisation_problems,
    update_organisation,
)

ORGANISATION_COLUMNS = [
    "identifier", "parent_identifier", "kind", "name_th", "name_en", "letter_code", "address",
    "province", "email", "phone", "category", "thai_digits",
]
PEOPLE_COLUMNS = [
    "username", "name_th", "name_en", "email", "organisation_identifier", "role", "position_title",
    "valid_from", "valid_until",
]
_TRUE = {"1", "true", "yes", "y", "ใช่", "ไทย"}
_FALSE = {"0", "false", "no", "n", "ไม่", "ไม่ใช่", "อารบิก", ""}


@dataclass(frozen=True)
class RowProblem:
    """A problem in one cell (or row) of an imported file; ``line`` counts the header as line 1."""

    line: int
    column: str
    message_th: str
    message_en: str

    def __str__(self) -> str:
        return f"บรรทัด/line {self.line}, {self.column}: {self.message_th} / {self.message_en}"


@dataclass
class ImportReport:
    """What an import did, or (with problems) why it did nothing."""

    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# Where a line break may stand in a cell: the address (a quoted cell typed with Alt+Enter in Excel).
_MULTILINE = frozenset({"address"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {0: "NUL", 9: "tab", 10: "line feed", 13: "carriage return", 127: "DEL"}
_CONTROL_NAMES_TH = {9: "แท็บ", 10: "ขึ้นบรรทัดใหม่", 13: "ขึ้นบรรทัดใหม่"}


def _max_length(model: type[models.Model], name: str) -> int:
    db_field = model._meta.get_field(name)
    assert isinstance(db_field, models.Field) and db_field.max_length is not None
    return db_field.max_length


@cache
def _limits(columns: tuple[str, ...]) -> dict[str, int]:
    """The longest text each column may hold: its database column's ``max_length``."""
    org = {c: _max_length(Organisation, c) for c in ("identifier", "name_th", "name_en", "letter_code", "email",
                                                     "phone")}
    if columns == tuple(ORGANISATION_COLUMNS):
        return org | {"parent_identifier": org["identifier"]}
    return {
        **{c: _max_length(Person, c) for c in ("username", "name_th", "name_en", "email")},
        "organisation_identifier": org["identifier"],
        "position_title": _max_length(RoleAssignment, "position_title"),
    }


def _cell_problems(line: int, column: str, value: str, limit: int | None) -> Iterator[RowProblem]:
    """What is wrong with ``value`` in any column: control characters, a line break, its length."""
    control = (_CONTROL_BUT_LINE_BREAKS if column in _MULTILINE else _CONTROL).search(value)
    if control is not None and control.group() in "\r\n":
        yield RowProblem(
            line, column,
            'ช่องนี้มีการขึ้นบรรทัดใหม่ ซึ่งใช้ได้เฉพาะช่องที่อยู่ (address) '
            'อาจลืมปิดเครื่องหมายคำพูด (") ในแถวนี้',
            'This cell runs over more than one line, which only the address may do; '
            'is a quote (") in this row left open?',
        )
    elif control is not None:
        code = ord(control.group())
        name = f"U+{code:04X}" + (f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else "")
        name_th = f"U+{code:04X}" + (f" ({_CONTROL_NAMES_TH[code]})" if code in _CONTROL_NAMES_TH else
                                     f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else "")
        yield RowProblem(
            line, column,
            f"มีอักขระควบคุม {name_th} ซึ่งใช้ในข้อมูลไม่ได้ (ตำแหน่งที่ {control.start() + 1})",
            f"Contains the control character {name}, which is not allowed (position {control.start() + 1})",
        )
    if limit is not None and len(value) > limit:
        yield RowProblem(
            line, column, f"ยาวเกิน {limit} ตัวอักษร (มี {len(value)} ตัวอักษร)",
            f"Longer than {limit} characters ({len(value)} given)",
        )


def _bad_quote_cell(record: str) -> int | None:
    """The index of the cell of ``record`` (one row's lines) whose quote is left open or followed by text."""
    text = record.removesuffix("\n").removesuffix("\r")
    index, quoted, at_start, i = 0, False, True, 0
    while i < len(text):
        char = text[i]
        if quoted and char == '"':
            if text[i + 1:i + 2] == '"':  # "" stands for one quote inside a quoted cell
                i += 2
                continue
            quoted = False
            if text[i + 1:i + 2] not in ("", ","):
                return index
        elif not quoted and char == '"' and at_start:
            quoted = True
        elif not quoted and char == ",":
            index, at_start, i = index + 1, True, i + 1
            continue
        at_start = False
        i += 1
    return index if quoted else None


def _quote_problem(lines: list[str], start: int, end: int, header: list[str]) -> RowProblem:
    """The problem of a row whose quotes the strict CSV reader refused, named by the cell of the quote."""
    index = _bad_quote_cell("".join(lines[start - 1:max(start, end)]))
    column = header[index] if index is not None and index < len(header) else "(row)"
    span_th = f"บรรทัด {start}" if end <= start else f"บรรทัด {start} ถึง {end}"
    span_en = f"line {start}" if end <= start else f"lines {start}–{end}"
    return RowProblem(
        start, column,
        f'เครื่องหมายคำพูด (") ในแถวนี้ไม่ได้ปิดหรือวางผิดที่ ({span_th}) ช่องที่ใส่เครื่องหมายคำพูดต้องขึ้นต้น'
        f'และลงท้ายด้วย " และเขียน " ในข้อความเป็น "" ไม่ได้นำเข้าข้อมูลใดเลย',
        f'A quote (") in this row is not closed or is misplaced ({span_en}); a quoted cell must start and '
        f'end with " and write a " inside it as ""; nothing was imported',
    )


def _read_rows(data: bytes, columns: list[str], report: ImportReport) -> list[tuple[int, dict[str, str]]] | None:
    """The data rows of ``data`` as (line where the row starts, cells), or ``None`` if the file cannot be read.

    Cells are stripped and ``restore``d (the apostrophe an export put before a formula-like cell is
    removed); every cell problem (control characters, length) is added to ``report``.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.problems.append(RowProblem(
            1, "(file)", f"ไฟล์ไม่ใช่ UTF-8 (ไบต์ที่ {exc.start}) กรุณาบันทึกเป็น CSV UTF-8",
            f"The file is not UTF-8 (byte {exc.start}); save it as CSV UTF-8",
        ))
        return None
    lines = io.StringIO(text, newline="").readlines()
    # strict: a quote left open is an error, not a cell that swallows the rest of the file.
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, [])
    except csv.Error:
        report.problems.append(_quote_problem(lines, 1, reader.line_num, []))
        return None
    missing = [c for c in columns if c not in header]
    unknown = [c for c in header if c not in columns]
    if missing or unknown:
        if missing:
            report.problems.append(RowProblem(
                1, ", ".join(missing), "ไม่พบคอลัมน์ที่ต้องมี", "Required columns are missing",
            ))
        if unknown:
            report.problems.append(RowProblem(
                1, ", ".join(unknown), "ไม่รู้จักคอลัมน์นี้", "Unknown columns",
            ))
        return None
    limits = _limits(tuple(columns))
    rows = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # a quote left open also shows as a field over the reader's limit, once it has run on long enough
            if any(sign in str(exc) for sign in ('"', "end of data", "field larger")):
                report.problems.append(_quote_problem(lines, start, reader.line_num, header))
            else:
                report.problems.append(RowProblem(
                    start, "(file)", f"รูปแบบ CSV ไม่ถูกต้อง: {exc}", f"Bad CSV: {exc}",
                ))
            return None
        if len(cells) > len(header):
            report.problems.append(RowProblem(
                start, "(row)", "จำนวนช่องเกินหัวตาราง", "More cells than header columns",
            ))
            continue
        clean = {c: restore(v.strip()) for c, v in zip(header, cells, strict=False)}
        clean |= {c: "" for c in header[len(cells):]}
        if not any(clean.values()):
            continue
        for column in header:
            report.problems += _cell_problems(start, column, clean[column], limits.get(column))
        rows.append((start, clean))
    if not rows and not report.problems:
        report.problems.append(RowProblem(1, "(file)", "ไม่มีข้อมูลในไฟล์", "The file has no data rows"))
        return None
    return rows


def _parse_bool(value: str) -> bool | None:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def import_organisations(data: bytes, *, actor: Person | None = None) -> ImportReport:
    """Create or update organisations from CSV; all rows or none."""
    report = ImportReport()
    rows = _read_rows(data, ORGANISATION_COLUMNS, report)
    if rows is None:
        return report
    provinces = {p.name_th: p for p in Province.objects.all()} | {p.code: p for p in Province.objects.all()}
    existing = {o.identifier: o for o in Organisation.objects.all()}
    in_file: dict[str, int] = {}
    parsed: list[tuple[int, str, str, dict[str, Any]]] = []
    for line, row in rows:
        def bad(column: str, th: str, en: str, line: int = line) -> None:
            report.problems.append(RowProblem(line, column, th, en))

        ident = row["identifier"]
        if not ident:
            bad("identifier", "ต้องระบุรหัสอ้างอิงหน่วยงาน", "The identifier is required")
        elif not all(c.isascii() and (c.isalnum() or c in "-_") for c in ident):
            bad("identifier", "รหัสอ้างอิงใช้ได้เฉพาะ a-z 0-9 - _", "The identifier may only use a-z 0-9 - _")
        elif ident in in_file:
            bad("identifier", f"ซ้ำกับบรรทัด {in_file[ident]}", f"Duplicate of line {in_file[ident]}")
        in_file.setdefault(ident, line)
        if row["kind"] not in OrganisationKind.values:
            bad("kind", f"ประเภทหน่วยงาน “{row['kind']}” ไม่ถูกต้อง ใช้: {', '.join(OrganisationKind.values)}",
                f"Unknown kind “{row['kind']}”; use one of: {', '.join(OrganisationKind.values)}")
        category = row["category"] or ProgrammeCategory.OTHER
        if category not in ProgrammeCategory.values:
            bad("category", f"กลุ่ม “{category}” ไม่ถูกต้อง ใช้: {', '.join(ProgrammeCategory.values)}",
                f"Unknown category “{category}”; use one of: {', '.join(ProgrammeCategory.values)}")
        province = None
        if row["province"]:
            province = provinces.get(row["province"].removeprefix("จังหวัด"))
            if province is None:
                bad("province", f"ไม่พบจังหวัด “{row['province']}”", f"Unknown province “{row['province']}”")
        if row["email"]:
            try:
                validate_email(row["email"])
            except ValidationError:
                bad("email", f"อีเมล “{row['email']}” ไม่ถูกต้อง", f"Malformed e-mail address “{row['email']}”")
        thai_digits = _parse_bool(row["thai_digits"]) if row["thai_digits"] else True
        if thai_digits is None:
            bad("thai_digits", "ต้องเป็น 1 หรือ 0", "Must be 1 or 0")
        fields = {
            "kind": row["kind"], "name_th": row["name_th"], "name_en": row["name_en"],
            "letter_code": arabic_digits(row["letter_code"]), "address": row["address"].replace("\\n", "\n"),
            "province": province, "email": row["email"], "phone": row["phone"], "category": category,
            "thai_digits": bool(thai_digits),
        }
        for problem in organisation_problems(fields):
            bad(problem.field, problem.message_th, problem.message_en)
        parsed.append((line, ident, row["parent_identifier"], fields))

    for line, ident, parent_ident, _fields in parsed:
        if parent_ident and parent_ident not in in_file and parent_ident not in existing:
            report.problems.append(RowProblem(
                line, "parent_identifier", f"ไม่พบหน่วยงานแม่ “{parent_ident}”", f"Unknown parent “{parent_ident}”",
            ))
        if parent_ident == ident:
            report.problems.append(RowProblem(
                line, "parent_identifier", "หน่วยงานเป็นแม่ของตัวเองไม่ได้", "An organisation cannot be its own parent",
            ))
    if report.problems:
        return report

    try:
        with transaction.atomic():
            saved: dict[str, Organisation] = {}
            for line, ident, _parent, fields in parsed:
                org = existing.get(ident)
                with _refused_as_problems(report, line):
                    if org is None:
                        saved[ident] = create_organisation(actor=actor, identifier=ident, **fields)
                        report.created += 1
                    else:
                        saved[ident] = update_organisation(org, actor=actor, **fields)
                        report.updated += 1
            for line, ident, parent_ident, _fields in parsed:
                parent = saved.get(parent_ident) or existing.get(parent_ident) if parent_ident else None
                org = saved[ident]
                if org.parent_id != (parent.pk if parent else None):
                    problems = organisation_problems({"name_th": org.name_th, "parent": parent}, existing=org)
                    if problems:
                        report.problems += [RowProblem(line, p.field, p.message_th, p.message_en) for p in problems]
                        raise _Rollback
                    update_organisation(org, actor=actor, parent=parent)
    except _Rollback:
        report.created = report.updated = 0
    return report


class _Rollback(Exception):
    pass


@contextmanager
def _refused_as_problems(report: ImportReport, line: int) -> Iterator[None]:
    """Turn a refusal by the services or the model (a check this module missed) into row problems.

    The checks above should leave nothing for ``full_clean`` to refuse; should one slip through, the
    row is still reported with its line and field, and ``_Rollback`` undoes the whole import.
    """
    try:
        yield
    except SarabanError as exc:
        report.problems += [RowProblem(line, p.field, p.message_th, p.message_en) for p in exc.problems] or [
            RowProblem(line, "(row)", exc.message_th, exc.message_en)]
        raise _Rollback from exc
    except ValidationError as exc:
        for name, messages in exc.message_dict.items() if hasattr(exc, "error_dict") else [("(row)", exc.messages)]:
            for message in messages:
                report.problems.append(RowProblem(line, name, f"ข้อมูลไม่ถูกต้อง: {message}", message))
        raise _Rollback from exc


def import_people(data: bytes, *, actor: Person | None = None) -> ImportReport:
    """Create people and give them roles from CSV (one row per role); all rows or none.

    Passwords are never imported: new accounts get no usable password until an administrator
    sets one or the person resets it.
    """
    report = ImportReport()
    rows = _read_rows(data, PEOPLE_COLUMNS, report)
    if rows is None:
        return report
    orgs = {o.identifier: o for o in Organisation.objects.all()}
    people = {p.username: p for p in Person.objects.all()}
    parsed = []
    for line, row in rows:
        def bad(column: str, th: str, en: str, line: int = line) -> None:
            report.problems.append(RowProblem(line, column, th, en))

        if not row["username"]:
            bad("username", "ต้องระบุชื่อผู้ใช้", "The username is required")
        elif row["username"] not in people:
            try:
                Person.username_validator(row["username"])
            except ValidationError:
                bad("username", "ชื่อผู้ใช้ใช้ได้เฉพาะตัวอักษร ตัวเลข และ @ . + - _",
                    "The username may only use letters, digits and @ . + - _")
        if not row["name_th"]:
            bad("name_th", "ต้องระบุชื่อ-นามสกุลภาษาไทย", "The Thai full name is required")
        org = orgs.get(row["organisation_identifier"])
        if org is None:
            bad("organisation_identifier", f"ไม่พบหน่วยงาน “{row['organisation_identifier']}”",
                f"Unknown organisation “{row['organisation_identifier']}”")
        if row["role"] not in Role.values:
            bad("role", f"บทบาท “{row['role']}” ไม่ถูกต้อง ใช้: {', '.join(Role.values)}",
                f"Unknown role “{row['role']}”; use one of: {', '.join(Role.values)}")
        if row["email"]:
            try:
                validate_email(row["email"])
            except ValidationError:
                bad("email", f"อีเมล “{row['email']}” ไม่ถูกต้อง", f"Malformed e-mail address “{row['email']}”")
        dates: dict[str, dt.date | None] = {}
        for column in ("valid_from", "valid_until"):
            dates[column] = None
            if row[column]:
                try:
                    dates[column] = parse_thai_date(row[column])
                except ValueError:
                    bad(column, f"วันที่ “{row[column]}” ต้องอยู่ในรูป วัน/เดือน/ปี พ.ศ. เช่น 1/10/2569",
                        f"Date “{row[column]}” must be day/month/Buddhist year, e.g. 1/10/2569")
        parsed.append((line, row, org, dates))
    if report.problems:
        return report
    try:
        with transaction.atomic():
            for line, row, org, dates in parsed:
                assert org is not None
                with _refused_as_problems(report, line):
                    person = people.get(row["username"])
                    if person is None:
                        person = create_person(
                            username=row["username"], name_th=row["name_th"], name_en=row["name_en"],
                            email=row["email"], password=None, actor=actor,
                        )
                        people[person.username] = person
                        report.created += 1
                    else:
                        report.updated += 1
                    assign_role(
                        person, org, row["role"], position_title=row["position_title"],
                        valid_from=dates["valid_from"], valid_until=dates["valid_until"], actor=actor,
                    )
    except _Rollback:
        report.created = report.updated = 0
    return report


def export_organisations() -> bytes:
    """Every organisation as CSV (UTF-8 with BOM, so Excel shows Thai), parents first; cells ``neutralise``d."""
    from .selectors import organisation_tree

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(ORGANISATION_COLUMNS)
    for _depth, org in organisation_tree():
        writer.writerow(neutralise_row([
            org.identifier, org.parent.identifier if org.parent else "", org.kind, org.name_th, org.name_en,
            org.letter_code, org.address.replace("\n", "\\n"), org.province.name_th if org.province else "",
            org.email, org.phone, org.category, "1" if org.thai_digits else "0",
        ]))
    return out.getvalue().encode("utf-8-sig")


def export_people() -> bytes:
    """Every role assignment as a CSV row of the people file (no passwords, ever); cells ``neutralise``d."""
    from saraban.core.thai import buddhist_year

    def thai(day: dt.date | None) -> str:
        return f"{day.day}/{day.month}/{buddhist_year(day.year)}" if day else ""

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(PEOPLE_COLUMNS)
    assignments = RoleAssignment.objects.select_related("person", "organisation").order_by(
        "person__username", "organisation__identifier", "role"
    )
    for a in assignments:
        writer.writerow(neutralise_row([
            a.person.username, a.person.name_th, a.person.name_en, a.person.email, a.organisation.identifier,
            a.role, a.position_title, thai(a.valid_from), thai(a.valid_until),
        ]))
    return out.getvalue().encode("utf-8-sig")
