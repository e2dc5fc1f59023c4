"""Import and export of the directory as CSV (UTF-8, Thai; Excel's BOM accepted and written).

An import checks every row first and reports each problem with its line and column, in Thai and
English. If any row is wrong, nothing is written; otherwise the whole file is applied in one
transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from saraban.core.thai import arabic_digits, parse_thai_date

from .models import Organisation, OrganisationKind, Person, ProgrammeCategory, Province, Role
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


def _read_rows(data: bytes, columns: list[str], report: ImportReport) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.problems.append(RowProblem(
            1, "(file)", f"ไฟล์ไม่ใช่ UTF-8 (ไบต์ที่ {exc.start}) กรุณาบันทึกเป็น CSV UTF-8",
            f"The file is not UTF-8 (byte {exc.start}); save it as CSV UTF-8",
        ))
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
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
        return []
    rows = []
    try:
        for row in reader:
            if None in row:
                report.problems.append(RowProblem(
                    reader.line_num, "(row)", "จำนวนช่องเกินหัวตาราง", "More cells than header columns",
                ))
                continue
            clean = {k: (v or "").strip() for k, v in row.items()}
            if any(clean.values()):
                rows.append((reader.line_num, clean))
    except csv.Error as exc:
        report.problems.append(RowProblem(reader.line_num, "(file)", f"รูปแบบ CSV ไม่ถูกต้อง: {exc}", f"Bad CSV: {exc}"))
    if not rows and not report.problems:
        report.problems.append(RowProblem(1, "(file)", "ไม่มีข้อมูลในไฟล์", "The file has no data rows"))
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
    if report.problems:
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
            for _line, ident, _parent, fields in parsed:
                org = existing.get(ident)
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


def import_people(data: bytes, *, actor: Person | None = None) -> ImportReport:
    """Create people and give them roles from CSV (one row per role); all rows or none.

    Passwords are never imported: new accounts get no usable password until an administrator
    sets one or the person resets it.
    """
    report = ImportReport()
    rows = _read_rows(data, PEOPLE_COLUMNS, report)
    if report.problems:
        return report
    orgs = {o.identifier: o for o in Organisation.objects.all()}
    people = {p.username: p for p in Person.objects.all()}
    parsed = []
    for line, row in rows:
        def bad(column: str, th: str, en: str, line: int = line) -> None:
            report.problems.append(RowProblem(line, column, th, en))

        if not row["username"]:
            bad("username", "ต้องระบุชื่อผู้ใช้", "The username is required")
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
        parsed.append((row, org, dates))
    if report.problems:
        return report
    with transaction.atomic():
        for row, org, dates in parsed:
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
            assert org is not None
            assign_role(
                person, org, row["role"], position_title=row["position_title"],
                valid_from=dates["valid_from"], valid_until=dates["valid_until"], actor=actor,
            )
    return report


def export_organisations() -> bytes:
    """Every organisation as CSV (UTF-8 with BOM, so Excel shows Thai), parents first."""
    from .selectors import organisation_tree

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(ORGANISATION_COLUMNS)
    for _depth, org in organisation_tree():
        writer.writerow([
            org.identifier, org.parent.identifier if org.parent else "", org.kind, org.name_th, org.name_en,
            org.letter_code, org.address.replace("\n", "\\n"), org.province.name_th if org.province else "",
            org.email, org.phone, org.category, "1" if org.thai_digits else "0",
        ])
    return out.getvalue().encode("utf-8-sig")


def export_people() -> bytes:
    """Every role assignment as a CSV row of the people file (no passwords, ever)."""
    from saraban.core.thai import buddhist_year

    def thai(day: dt.date | None) -> str:
        return f"{day.day}/{day.month}/{buddhist_year(day.year)}" if day else ""

    from .models import RoleAssignment

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(PEOPLE_COLUMNS)
    assignments = RoleAssignment.objects.select_related("person", "organisation").order_by(
        "person__username", "organisation__identifier", "role"
    )
    for a in assignments:
        writer.writerow([
            a.person.username, a.person.name_th, a.person.name_en, a.person.email, a.organisation.identifier,
            a.role, a.position_title, thai(a.valid_from), thai(a.valid_until),
        ])
    return out.getvalue().encode("utf-8-sig")
