"""The directory as CSV: round trip, every bad row reported with its line and column, all rows or none."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from saraban.directory.csv_io import (
    ORGANISATION_COLUMNS,
    PEOPLE_COLUMNS,
    export_organisations,
    export_people,
    import_organisations,
    import_people,
)
from saraban.directory.models import Organisation, Person, Province, RoleAssignment
from saraban.directory.services import assign_role, create_organisation, create_person, load_provinces


@pytest.fixture
def _provinces(db: None) -> None:
    load_provinces()


def _csv(header: list[str], *rows: dict[str, str]) -> str:
    """A CSV text with ``header`` and one line per row (missing cells empty); no quoting needed here."""
    lines = [",".join(header)]
    lines += [",".join(row.get(c, "") for c in header) for row in rows]
    return "\n".join(lines) + "\n"


def _org_row(identifier: str, **cells: str) -> dict[str, str]:
    return {"identifier": identifier, "kind": "division", "name_th": f"หน่วยงาน {identifier}", **cells}


def _tree() -> list[tuple[Any, ...]]:
    """Every organisation's importable fields, with its parent by identifier."""
    return sorted(
        Organisation.objects.values_list(
            "identifier", "parent__identifier", "kind", "name_th", "name_en", "letter_code", "address",
            "province__code", "email", "phone", "category", "thai_digits",
        )
    )


def _build_directory() -> None:
    bangkok = Province.objects.get(name_th="กรุงเทพมหานคร")
    nonthaburi = Province.objects.get(name_th="นนทบุรี")
    opm = create_organisation(
        identifier="rt-opm", kind="ministry", name_th="สำนักนายกรัฐมนตรี", name_en="Office of the Prime Minister",
        letter_code="นร 01", category="opm", province=bangkok,
    )
    ops = create_organisation(
        identifier="rt-opm-ops", parent=opm, kind="department", name_th="สำนักงานปลัดสำนักนายกรัฐมนตรี",
        letter_code="นร ๐๑๐๕", address="ทำเนียบรัฐบาล ถนนพิษณุโลก\nเขตดุสิต กรุงเทพมหานคร 10300",
        email="saraban@opm.go.th", phone="0 2283 4000", category="opm", province=bangkok,
    )
    create_organisation(
        identifier="rt-opm-ops-it", parent=ops, kind="division", name_th="ศูนย์เทคโนโลยีสารสนเทศและการสื่อสาร",
        letter_code="นร 0105.04", thai_digits=False,
    )
    create_organisation(
        identifier="rt-nonthaburi", kind="municipality", name_th="เทศบาลนครนนทบุรี", letter_code="นบ 52001",
        category="lao", province=nonthaburi, email="saraban@nonthaburicity.go.th",
    )


class _Undo(Exception):
    """Raised to roll a savepoint back."""


@pytest.mark.django_db
def test_round_trip_into_an_empty_directory(_provinces: None) -> None:
    try:
        with transaction.atomic():
            _build_directory()
            exported = export_organisations()
            before = _tree()
            raise _Undo
    except _Undo:
        pass
    assert Organisation.objects.count() == 0
    assert exported.startswith(b"\xef\xbb\xbf" + ",".join(ORGANISATION_COLUMNS).encode())
    assert "ทำเนียบรัฐบาล ถนนพิษณุโลก\\nเขตดุสิต".encode() in exported  # one line per organisation

    report = import_organisations(exported)
    assert report.problems == []
    assert (report.created, report.updated) == (4, 0)
    assert _tree() == before
    assert [row[:2] for row in before] == [
        ("rt-nonthaburi", None), ("rt-opm", None), ("rt-opm-ops", "rt-opm"), ("rt-opm-ops-it", "rt-opm-ops"),
    ]
    assert Organisation.objects.get(identifier="rt-opm-ops").letter_code == "นร 0105"  # stored with Arabic digits
    assert export_organisations() == exported


BAD_ROWS = [
    _org_row("good-one", kind="department", letter_code="นร 0199"),  # line 2: fine
    _org_row("bad-kind", kind="bureau"),  # line 3
    _org_row("bad-code", letter_code="XX 12"),  # line 4
    _org_row("orphan", parent_identifier="no-such-parent"),  # line 5
    _org_row("good-one", name_th="ซ้ำ"),  # line 6: the identifier of line 2 again
    _org_row("bad-mail", email="saraban at opm"),  # line 7
    _org_row("bad-province", province="จังหวัดแอตแลนติส"),  # line 8
    _org_row("csv-existing", name_th="ชื่อใหม่ที่ไม่ควรถูกบันทึก"),  # line 9: a valid update of an existing one
]


@pytest.mark.django_db
def test_every_bad_row_is_reported_and_nothing_is_written(_provinces: None) -> None:
    existing = create_organisation(identifier="csv-existing", kind="department", name_th="ชื่อเดิม")
    count = Organisation.objects.count()
    report = import_organisations(_csv(ORGANISATION_COLUMNS, *BAD_ROWS).encode("utf-8"))
    assert [(p.line, p.column) for p in report.problems] == [
        (3, "kind"), (4, "letter_code"), (6, "identifier"), (7, "email"), (8, "province"), (5, "parent_identifier"),
    ]
    messages = {p.column: (p.message_th, p.message_en) for p in report.problems}
    assert messages["kind"][0].startswith("ประเภทหน่วยงาน “bureau” ไม่ถูกต้อง")
    assert messages["kind"][1].startswith("Unknown kind “bureau”")
    assert messages["letter_code"] == (
        "รหัสหนังสือ “XX 12” ไม่ถูกต้อง (เช่น นร 0105)", "Letter code “XX 12” is malformed (e.g. นร 0105)",
    )
    assert messages["identifier"] == ("ซ้ำกับบรรทัด 2", "Duplicate of line 2")
    assert messages["email"] == ("อีเมล “saraban at opm” ไม่ถูกต้อง", "Malformed e-mail address “saraban at opm”")
    assert messages["province"] == ("ไม่พบจังหวัด “จังหวัดแอตแลนติส”", "Unknown province “จังหวัดแอตแลนติส”")
    assert messages["parent_identifier"] == ("ไม่พบหน่วยงานแม่ “no-such-parent”", "Unknown parent “no-such-parent”")
    assert str(report.problems[0]).startswith("บรรทัด/line 3, kind: ")
    assert (report.created, report.updated, report.ok) == (0, 0, False)
    assert Organisation.objects.count() == count
    existing.refresh_from_db()
    assert existing.name_th == "ชื่อเดิม"


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_gets_the_utf8_message(_provinces: None) -> None:
    text = _csv(ORGANISATION_COLUMNS, _org_row("cp874", name_th="สำนักงานเขตพื้นที่การศึกษา"))
    report = import_organisations(text.encode("cp874"))
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.line, problem.column) == (1, "(file)")
    assert "ไฟล์ไม่ใช่ UTF-8" in problem.message_th and "บันทึกเป็น CSV UTF-8" in problem.message_th
    assert "The file is not UTF-8" in problem.message_en and "save it as CSV UTF-8" in problem.message_en
    assert Organisation.objects.count() == 0


@pytest.mark.django_db
def test_missing_and_unknown_columns_are_named(_provinces: None) -> None:
    header = [c for c in ORGANISATION_COLUMNS if c not in ("kind", "province")] + ["fax"]
    report = import_organisations(_csv(header, _org_row("x")).encode())
    assert [(p.line, p.column, p.message_en) for p in report.problems] == [
        (1, "kind, province", "Required columns are missing"),
        (1, "fax", "Unknown columns"),
    ]
    assert report.problems[0].message_th == "ไม่พบคอลัมน์ที่ต้องมี"
    assert Organisation.objects.count() == 0


@pytest.mark.django_db
def test_excel_bom_is_accepted(_provinces: None) -> None:
    text = _csv(
        ORGANISATION_COLUMNS,
        _org_row("excel-org", kind="sao", name_th="องค์การบริหารส่วนตำบลท่าอิฐ", province="จังหวัดนนทบุรี",
                 letter_code="นบ ๗๓๕๐๑", thai_digits="0"),
    )
    report = import_organisations(text.encode("utf-8-sig"))
    assert (report.problems, report.created) == ([], 1)
    org = Organisation.objects.get(identifier="excel-org")  # not "\ufeffidentifier"
    assert (org.name_th, org.province_id, org.letter_code, org.thai_digits) == (
        "องค์การบริหารส่วนตำบลท่าอิฐ", "12", "นบ 73501", False,
    )


@pytest.mark.django_db
def test_people_get_accounts_without_passwords_and_their_roles(_provinces: None) -> None:
    create_organisation(identifier="ppl-ops", kind="department", name_th="สำนักงานปลัดสำนักนายกรัฐมนตรี")
    text = _csv(
        PEOPLE_COLUMNS,
        {"username": "somjai", "name_th": "นางสาวสมใจ รักงาน", "email": "somjai@opm.go.th",
         "organisation_identifier": "ppl-ops", "role": "central_clerk", "position_title": "เจ้าพนักงานธุรการ",
         "valid_from": "1/10/2569"},
        {"username": "somjai", "name_th": "นางสาวสมใจ รักงาน", "organisation_identifier": "ppl-ops",
         "role": "officer", "position_title": "เจ้าพนักงานธุรการ"},
        {"username": "prasert", "name_th": "นายประเสริฐ ใจดี", "name_en": "Prasert Jaidee",
         "organisation_identifier": "ppl-ops", "role": "signer", "position_title": "ปลัดสำนักนายกรัฐมนตรี",
         "valid_until": "๓๐/๙/๒๕๗๐"},
    )
    people_report = import_people(text.encode("utf-8-sig"))
    assert people_report.problems == []
    assert people_report.created == 2
    for username in ("somjai", "prasert"):
        person = Person.objects.get(username=username)
        assert not person.has_usable_password()
    roles = sorted(
        RoleAssignment.objects.values_list(
            "person__username", "organisation__identifier", "role", "position_title", "valid_from", "valid_until",
        )
    )
    assert roles == [
        ("prasert", "ppl-ops", "signer", "ปลัดสำนักนายกรัฐมนตรี", None, dt.date(2027, 9, 30)),
        ("somjai", "ppl-ops", "central_clerk", "เจ้าพนักงานธุรการ", dt.date(2026, 10, 1), None),
        ("somjai", "ppl-ops", "officer", "เจ้าพนักงานธุรการ", None, None),
    ]
    exported = export_people().decode("utf-8-sig").splitlines()
    assert exported[0] == ",".join(PEOPLE_COLUMNS)
    assert exported[1] == "prasert,นายประเสริฐ ใจดี,Prasert Jaidee,,ppl-ops,signer,ปลัดสำนักนายกรัฐมนตรี,,30/9/2570"


@pytest.mark.django_db
def test_people_file_problems_and_no_password_column(_provinces: None) -> None:
    create_organisation(identifier="ppl-ops", kind="department", name_th="สำนักงานปลัดสำนักนายกรัฐมนตรี")
    with_password = _csv([*PEOPLE_COLUMNS, "password"], {"username": "a", "name_th": "ก", "password": "secret"})
    assert [(p.column, p.message_en) for p in import_people(with_password.encode()).problems] == [
        ("password", "Unknown columns"),
    ]
    bad = _csv(
        PEOPLE_COLUMNS,
        {"username": "a", "name_th": "นาย ก", "organisation_identifier": "nowhere", "role": "king",
         "valid_from": "2026-10-01"},
    )
    report = import_people(bad.encode())
    assert [(p.line, p.column) for p in report.problems] == [
        (2, "organisation_identifier"), (2, "role"), (2, "valid_from"),
    ]
    assert Person.objects.count() == 0


# --- saraban directory ----------------------------------------------------------------------------


def _database_url() -> str:
    """The URL of the test database, for a ``saraban`` subprocess to use what this test committed."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    user = quote(settings.get("USER") or "")
    password = quote(settings.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}/{settings['NAME']}"


def _directory(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ, "SARABAN_HOME": str(tmp_path / "home"), "SARABAN_DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "saraban.settings",
    }
    return subprocess.run(
        [sys.executable, "-m", "saraban", "directory", *args],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )


@pytest.mark.django_db(transaction=True)
def test_cli_refuses_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    load_provinces()
    source = tmp_path / "organisations.csv"
    source.write_text(_csv(ORGANISATION_COLUMNS, *BAD_ROWS[:4]), encoding="utf-8")
    result = _directory(tmp_path, "import", "organisations", str(source))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "มีปัญหา 3 รายการ ไม่ได้นำเข้าข้อมูลใดเลย" in result.stderr
    assert "has 3 problem(s); nothing was imported" in result.stderr
    for expected in (
        "บรรทัด/line 3, kind: ประเภทหน่วยงาน “bureau” ไม่ถูกต้อง",
        "บรรทัด/line 4, letter_code: รหัสหนังสือ “XX 12” ไม่ถูกต้อง (เช่น นร 0105) / Letter code “XX 12” is malformed",
        "บรรทัด/line 5, parent_identifier: ไม่พบหน่วยงานแม่ “no-such-parent” / Unknown parent “no-such-parent”",
    ):
        assert expected in result.stderr, result.stderr
    assert Organisation.objects.count() == 0

    missing = _directory(tmp_path, "import", "organisations", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "ไม่พบไฟล์" in missing.stderr and "File not found" in missing.stderr
    unknown = _directory(tmp_path, "import", "provinces", str(source))
    assert unknown.returncode == 2 and "ไม่รู้จักข้อมูล “provinces”" in unknown.stderr


@pytest.mark.django_db(transaction=True)
def test_cli_imports_exports_and_loads_provinces(tmp_path: Path) -> None:
    loaded = _directory(tmp_path, "load-provinces")
    assert loaded.returncode == 0, loaded.stderr
    assert "77 provinces" in loaded.stdout and Province.objects.count() == 77
    source = tmp_path / "organisations.csv"
    source.write_bytes(_csv(
        ORGANISATION_COLUMNS,
        _org_row("cli-root", kind="ministry", name_th="กระทรวงทดสอบ", province="กรุงเทพมหานคร"),
        _org_row("cli-unit", parent_identifier="cli-root"),
    ).encode("utf-8-sig"))
    result = _directory(tmp_path, "import", "organisations", str(source))
    assert result.returncode == 0, result.stderr
    assert "created 2, updated 0" in result.stdout and "สร้างใหม่ 2" in result.stdout
    assert Organisation.objects.get(identifier="cli-unit").parent == Organisation.objects.get(identifier="cli-root")

    person = create_person(username="cli-clerk", name_th="นางสาวทดสอบ ระบบ", password=None)
    assign_role(person, Organisation.objects.get(identifier="cli-unit"), "unit_clerk")
    for what in ("organisations", "people"):
        out = tmp_path / f"{what}-out.csv"
        exported = _directory(tmp_path, "export", what, "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        assert out.read_bytes() == (export_organisations() if what == "organisations" else export_people())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- cells the import refuses: quotes left open, too long, control characters -----------------------


def _header() -> str:
    return ",".join(ORGANISATION_COLUMNS)


def _problems(report: Any) -> list[tuple[int, str]]:
    return [(p.line, p.column) for p in report.problems]


@pytest.mark.django_db
def test_an_unclosed_quote_is_a_row_problem_not_a_merged_name(_provinces: None) -> None:
    # line 2 opens a quote in name_th and never closes it: the rest of the file would become the name
    text = f'{_header()}\nuq-one,,division,"หน่วยงานหนึ่ง,Unit one,,,,,,,\nuq-two,,division,หน่วยงานสอง,,,,,,,,\n'
    report = import_organisations(text.encode())
    assert _problems(report) == [(2, "name_th")]
    problem = report.problems[0]
    assert 'เครื่องหมายคำพูด (") ในแถวนี้ไม่ได้ปิดหรือวางผิดที่ (บรรทัด 2 ถึง 3)' in problem.message_th
    assert 'A quote (") in this row is not closed or is misplaced (lines 2–3)' in problem.message_en
    assert Organisation.objects.count() == 0

    # the quote is closed by a quote of a later line: a name that runs over two lines
    text = f'{_header()}\nuq-one,,division,"หน่วยงานหนึ่ง,,,,,,,,\nuq-two,,division,หน่วยงานสอง",,,,,,,,\n'
    report = import_organisations(text.encode())
    assert _problems(report) == [(2, "name_th")]
    assert 'อาจลืมปิดเครื่องหมายคำพูด (")' in report.problems[0].message_th
    assert 'is a quote (") in this row left open?' in report.problems[0].message_en
    assert Organisation.objects.count() == 0

    # text after a closing quote
    text = f'{_header()}\nuq-one,,division,"หน่วยงาน"หนึ่ง,,,,,,,,\n'
    assert _problems(import_organisations(text.encode())) == [(2, "name_th")]
    people = f'{",".join(PEOPLE_COLUMNS)}\nuq,"นาย ก,,,x,officer,,,\n'
    assert _problems(import_people(people.encode())) == [(2, "name_th")]


@pytest.mark.django_db
def test_a_value_longer_than_its_column_is_a_row_problem(_provinces: None) -> None:
    long_name = "ก" * 256
    text = _csv(ORGANISATION_COLUMNS, _org_row("long-ok", name_th="ก" * 255), _org_row("long-name", name_th=long_name),
                _org_row("x" * 65, kind="bureau"))
    report = import_organisations(text.encode())
    assert _problems(report) == [(3, "name_th"), (4, "identifier"), (4, "kind")]
    assert (report.problems[0].message_th, report.problems[0].message_en) == (
        "ยาวเกิน 255 ตัวอักษร (มี 256 ตัวอักษร)", "Longer than 255 characters (256 given)",
    )
    assert report.problems[1].message_en == "Longer than 64 characters (65 given)"
    assert Organisation.objects.count() == 0  # all rows or none: the good line 2 is not written either

    create_organisation(identifier="long-ops", kind="department", name_th="สำนักงานทดสอบ")
    people = _csv(PEOPLE_COLUMNS, {"username": "u" * 151, "name_th": "ข" * 201, "organisation_identifier": "long-ops",
                                   "role": "officer", "position_title": "ค" * 256})
    report = import_people(people.encode())
    assert [(p.column, p.message_en) for p in report.problems] == [
        ("username", "Longer than 150 characters (151 given)"),
        ("name_th", "Longer than 200 characters (201 given)"),
        ("position_title", "Longer than 255 characters (256 given)"),
    ]
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_the_command_reports_a_long_name_instead_of_a_traceback(_provinces: None, tmp_path: Path) -> None:
    source = tmp_path / "organisations.csv"
    source.write_text(_csv(ORGANISATION_COLUMNS, _org_row("long-name", name_th="ก" * 300)), encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("directory", "import", "organisations", str(source))
    assert refused.value.returncode == 2
    assert "บรรทัด/line 2, name_th: ยาวเกิน 255 ตัวอักษร (มี 300 ตัวอักษร) / Longer than 255 characters" in str(
        refused.value)
    assert Organisation.objects.count() == 0


@pytest.mark.django_db
def test_control_characters_are_refused_but_an_address_may_have_line_breaks(_provinces: None) -> None:
    text = _csv(ORGANISATION_COLUMNS, _org_row("nul", name_th="หน่วยงาน\x00ทดสอบ"),
                _org_row("tab", name_en="Unit\tone"), _org_row("bell", phone="0 2283\x074000"),
                _org_row("c1", name_th="หน่วยงาน\x85ทดสอบ"))
    report = import_organisations(text.encode())
    assert _problems(report) == [(2, "name_th"), (3, "name_en"), (4, "phone"), (5, "name_th")]
    assert (report.problems[0].message_th, report.problems[0].message_en) == (
        "มีอักขระควบคุม U+0000 (NUL) ซึ่งใช้ในข้อมูลไม่ได้ (ตำแหน่งที่ 9)",
        "Contains the control character U+0000 (NUL), which is not allowed (position 9)",
    )
    assert "U+0009 (แท็บ)" in report.problems[1].message_th and "U+0009 (tab)" in report.problems[1].message_en
    assert Organisation.objects.count() == 0

    # a quoted cell with a line break (Alt+Enter in Excel): fine in the address, not in a name
    text = f'{_header()}\nbreaks,,division,หน่วยงานทดสอบ,,,"99 ถนนพิษณุโลก\nเขตดุสิต",,,,,\n'
    assert import_organisations(text.encode()).problems == []
    assert Organisation.objects.get(identifier="breaks").address == "99 ถนนพิษณุโลก\nเขตดุสิต"
    text = f'{_header()}\nbroken,,division,"หน่วยงาน\nทดสอบ",,,,,,,,\n'
    report = import_organisations(text.encode())
    assert _problems(report) == [(2, "name_th")] and "ขึ้นบรรทัดใหม่" in report.problems[0].message_th
    people = _csv(PEOPLE_COLUMNS, {"username": "nul", "name_th": "นาย\x00ก", "organisation_identifier": "breaks",
                                   "role": "officer"})
    assert _problems(import_people(people.encode())) == [(2, "name_th")]
    assert not Person.objects.filter(username="nul").exists()


@pytest.mark.django_db
def test_the_leading_apostrophe_is_removed_only_where_an_export_adds_it(_provinces: None) -> None:
    text = _csv(ORGANISATION_COLUMNS, _org_row("ap-formula", name_th="'=1+1"), _org_row("ap-own", name_th="'ร้านค้า'"),
                _org_row("ap-double", name_th="''@SUM(1+1)"), _org_row("ap-dash", name_th="'-"),
                _org_row("ap-number", name_th="'-12"))
    assert import_organisations(text.encode()).problems == []
    names = dict(Organisation.objects.values_list("identifier", "name_th"))
    assert names == {"ap-formula": "=1+1", "ap-own": "'ร้านค้า'", "ap-double": "'@SUM(1+1)", "ap-dash": "'-",
                     "ap-number": "'-12"}


@pytest.mark.django_db
def test_a_username_django_refuses_is_a_row_problem(_provinces: None) -> None:
    create_organisation(identifier="user-ops", kind="department", name_th="สำนักงานทดสอบ")
    people = _csv(PEOPLE_COLUMNS, {"username": "สมใจ รักงาน", "name_th": "นางสาวสมใจ รักงาน",
                                   "organisation_identifier": "user-ops", "role": "officer"})
    report = import_people(people.encode())
    assert [(p.line, p.column, p.message_en) for p in report.problems] == [
        (2, "username", "The username may only use letters, digits and @ . + - _"),
    ]
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_a_refusal_the_checks_missed_is_still_a_row_report(_provinces: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ValidationError

    from saraban.directory import csv_io

    def refuse(**fields: Any) -> Organisation:
        raise ValidationError({"name_en": ["Ensure this value has at most 255 characters (it has 300)."]})

    monkeypatch.setattr(csv_io, "create_organisation", refuse)
    report = import_organisations(_csv(ORGANISATION_COLUMNS, _org_row("net-one"), _org_row("net-two")).encode())
    assert [(p.line, p.column, p.message_en) for p in report.problems] == [
        (2, "name_en", "Ensure this value has at most 255 characters (it has 300)."),
    ]
    assert report.problems[0].message_th.startswith("ข้อมูลไม่ถูกต้อง: ")
    assert (report.created, report.updated, Organisation.objects.count()) == (0, 0, 0)
