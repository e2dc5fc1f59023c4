"""The two lists as files: บัญชีหนังสือส่งเก็บ (แบบที่ 19) of a case and บัญชีหนังสือขอทำลาย (แบบที่ 25) of a
year, as PDF (the printed form, PDF/A) and XLSX, and the commands that write them."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from saraban.core.errors import StateRefused, ValidationFailed
from saraban.core.thai import format_thai_date, thai_digits
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.records import destruction as flow
from saraban.records import services as records
from saraban.records.exports import destruction_list_file, storage_list_file
from saraban.records.models import Case, CommitteeRole, FilePlanEntry, HoldReason, Record
from saraban.records.retention import Retention, RetentionClass
from saraban.rendering.records_lists import DESTRUCTION_COLUMNS, STORAGE_COLUMNS
from tests.helpers import numbered
from tests.test_letters import example

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 7)  # พ.ศ. 2569: the destruction list is for 2568
PLAN = "code,title,parent,retention\n01,การบริหารทั่วไป,,10y\n02,ประวัติศาสตร์,,permanent\n"


def _text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text by pdftotext, whitespace removed (it puts spaces between Thai characters)."""
    path = tmp_path / "list.pdf"
    path.write_bytes(pdf)
    raw = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout.decode()
    return re.sub(r"\s+", "", raw)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _letter(agency: Organisation, clerk: Person, signer: Person, subject: str, **changes: Any) -> Letter:
    return numbered(create_letter(agency, example("external", subject=subject, **changes), author=clerk),
                    author=clerk, signer=signer, clerk=clerk)


def _year_of(letter: Letter) -> int:
    return (letter.date or letter.created_at.date()).year + 543


def _completed_case(agency: Organisation, clerk: Person, signer: Person) -> tuple[Case, Letter, Letter]:
    records.import_file_plan(agency, PLAN, actor=clerk)
    case = records.open_case(FilePlanEntry.objects.get(organisation=agency, code="01"), "การจัดประชุมประจำปี",
                             actor=clerk)
    first = _letter(agency, clerk, signer, "ขอเชิญประชุมคณะกรรมการบริหารประจำปี")
    second = _letter(agency, clerk, signer, "รายงานผลการประชุมคณะกรรมการ")
    records.file_letter("out", first.pk, case, actor=clerk)
    record = records.file_letter("out", second.pk, case, actor=clerk)
    records.override_retention(record, Retention(RetentionClass.PERMANENT), reason="เป็นแบบอย่างการปฏิบัติ",
                               actor=clerk)
    return records.complete_case(case, actor=clerk), first, second


def _person(agency: Organisation, username: str, name: str) -> Person:
    person = create_person(username=username, name_th=name, password="x-Pass-1234")
    assign_role(person, agency, "officer", position_title="นักจัดการงานทั่วไปชำนาญการ")
    return person


def _committee(agency: Organisation, clerk: Person) -> list[flow.Appointee]:
    return [flow.Appointee(_person(agency, "chair", "นายประธาน ตั้งใจ"), CommitteeRole.CHAIR, "ผู้อำนวยการกอง"),
            flow.Appointee(_person(agency, "m1", "นางกรรมการ หนึ่ง"), CommitteeRole.MEMBER),
            flow.Appointee(clerk, CommitteeRole.MEMBER)]


def _due_in_2568(*letters: Letter) -> None:
    records.ensure_records(letters[0].organisation_id)
    Record.objects.filter(kind="out", object_id__in=[x.pk for x in letters]).update(document_year=2558,
                                                                                    keep_until=2568)


@pytest.mark.pdf
def test_the_storage_list_of_a_completed_case(agency: Organisation, clerk: Person, signer: Person,
                                              tmp_path: Path) -> None:
    case, first, _ = _completed_case(agency, clerk, signer)
    pdf = storage_list_file(case, "pdf")
    assert b"<pdfaid:part>3</pdfaid:part>" in pdf
    text = _text(pdf, tmp_path)
    assert "บัญชีหนังสือส่งเก็บ" in text and "ส่วนราชการสำนักงานปลัดสำนักนายกรัฐมนตรี" in text
    assert "แผ่นที่๑จาก๑" in text
    for column in STORAGE_COLUMNS:
        assert _squash(column) in text, column
    assert _squash("ขอเชิญประชุมคณะกรรมการบริหารประจำปี") in text
    assert f"เก็บถึงพ.ศ.{thai_digits(str(_year_of(first) + 10))}" in text  # Thai digits, as the agency prints
    assert "ห้ามทำลาย" in text and thai_digits(first.number).replace(" ", "") in text
    open_case = records.open_case(case.file, "ยังไม่เสร็จ", actor=clerk)
    with pytest.raises(StateRefused):
        storage_list_file(open_case, "pdf")


def test_the_storage_list_as_a_workbook(agency: Organisation, clerk: Person, signer: Person, tmp_path: Path) -> None:
    case, first, second = _completed_case(agency, clerk, signer)
    ws = load_workbook(io.BytesIO(storage_list_file(case, "xlsx"))).active
    assert ws is not None
    assert ws["A1"].value == "บัญชีหนังสือส่งเก็บ"
    assert [c.value for c in ws[4]] == list(STORAGE_COLUMNS)
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_row=6)]
    assert [r[0] for r in rows] == [1, 2] and {r[1] for r in rows} == {"01"}
    by_subject = {r[4]: r for r in rows}
    assert by_subject["ขอเชิญประชุมคณะกรรมการบริหารประจำปี"][5] == f"เก็บถึง พ.ศ. {_year_of(first) + 10}"
    assert by_subject["รายงานผลการประชุมคณะกรรมการ"][5] == "ห้ามทำลาย"
    assert by_subject["รายงานผลการประชุมคณะกรรมการ"][2] == second.number


@pytest.mark.pdf
def test_a_draft_destruction_list_of_what_is_due(agency: Organisation, clerk: Person, signer: Person,
                                                 tmp_path: Path) -> None:
    due = _letter(agency, clerk, signer, "ขอความอนุเคราะห์ใช้สถานที่จัดอบรม")
    _letter(agency, clerk, signer, "เรื่องที่ยังไม่ครบกำหนด")
    _due_in_2568(due)
    text = _text(destruction_list_file(agency, 2568, "pdf"), tmp_path)
    assert "บัญชีหนังสือขอทำลายประจำปีพ.ศ.๒๕๖๘(ร่าง)" in text
    for column in DESTRUCTION_COLUMNS:
        assert _squash(column) in text, column
    assert _squash("ขอความอนุเคราะห์ใช้สถานที่จัดอบรม") in text and "ไม่ครบกำหนด" not in text
    assert "รวม๑รายการ" in text and "—" in text  # filed in no case: no file code
    assert "(ลงชื่อ)" in text and "ประธานกรรมการ" in text and "หัวหน้าส่วนราชการ" in text  # slots to fill by hand
    agency.thai_digits = False
    agency.save()
    text = _text(destruction_list_file(agency, 2568, "pdf"), tmp_path)
    assert "บัญชีหนังสือขอทำลายประจำปีพ.ศ.2568(ร่าง)" in text and "รวม1รายการ" in text


@pytest.mark.pdf
def test_the_destruction_list_with_the_committees_decisions(agency: Organisation, clerk: Person, signer: Person,
                                                            tmp_path: Path) -> None:
    gone = _letter(agency, clerk, signer, "ขอความอนุเคราะห์ใช้สถานที่จัดอบรม")
    saved = _letter(agency, clerk, signer, "แนวทางปฏิบัติเรื่องการเบิกจ่าย")
    secret = _letter(agency, clerk, signer, "รายงานการสอบข้อเท็จจริง", secrecy="confidential")
    _due_in_2568(gone, saved, secret)
    listed = flow.draw_up(agency, 2568, actor=clerk, today=TODAY)
    order = numbered(create_letter(agency, example("order"), author=clerk), author=clerk, signer=signer, clerk=clerk)
    committee = _committee(agency, clerk)
    listed = flow.appoint_committee(listed, committee, order=order, actor=signer)
    flow.decide(listed.items.get(record__object_id=saved.pk), keep=True, actor=clerk,
                retention=Retention(RetentionClass.BY_LAW, 20, "ระเบียบกระทรวงการคลัง"), reason="ยังใช้อ้างอิง")
    for member in committee:
        listed = flow.sign(listed, actor=member.person)
    listed = flow.approve(listed, reference="บันทึกที่ นร 0105/999", actor=signer)
    records.place_hold(Record.objects.get(kind="out", object_id=gone.pk), HoldReason.AUDIT, "สตง. ขอตรวจ",
                       actor=clerk)
    text = _text(destruction_list_file(agency, 2568, "pdf"), tmp_path)
    assert "บัญชีหนังสือขอทำลายประจำปีพ.ศ.๒๕๖๘" in text and "(ร่าง)" not in text
    assert "ให้เก็บไว้ถึงพ.ศ.๒๕๗๘" in text and "(ยังใช้อ้างอิง)" in text  # 2558 + 20
    assert "ทำลาย" in text and "ระงับการทำลาย" in text and "ลับ" in text
    assert "(นายประธานตั้งใจ)" in text and "ตำแหน่งผู้อำนวยการกอง" in text  # the chair's own position
    assert "(นางกรรมการหนึ่ง)" in text and "ตำแหน่งนักจัดการงานทั่วไปชำนาญการ" in text  # from the role
    assert "(นายธีรวัฒน์ศรีสวัสดิ์)" in text and "ตำแหน่งรองปลัดสำนักนายกรัฐมนตรี" in text  # the head approved
    assert "บันทึกที่นร๐๑๐๕/๙๙๙" in text

    ws = load_workbook(io.BytesIO(destruction_list_file(agency, 2568, "xlsx"))).active
    assert ws is not None
    assert ws["A1"].value == "บัญชีหนังสือขอทำลาย ประจำปี พ.ศ. 2568"
    assert [c.value for c in ws[4]] == list(DESTRUCTION_COLUMNS)
    rows = {r[4]: r for r in ws.iter_rows(min_row=5, max_row=7, values_only=True)}
    assert rows["ขอความอนุเคราะห์ใช้สถานที่จัดอบรม"][5:] == ("ทำลาย", "ระงับการทำลาย")
    assert rows["แนวทางปฏิบัติเรื่องการเบิกจ่าย"][5] == "ให้เก็บไว้ถึง พ.ศ. 2578\n(ยังใช้อ้างอิง)"
    assert rows["รายงานการสอบข้อเท็จจริง"][6] == "ลับ"
    day = saved.date or saved.created_at.date()
    assert rows["แนวทางปฏิบัติเรื่องการเบิกจ่าย"][3] == format_thai_date(day, use_thai_digits=False, abbreviated=True)
    values = [c for row in ws.iter_rows(min_row=8, values_only=True) for c in row if isinstance(c, str)]
    assert "ประธานกรรมการ" in values and any("นายประธาน ตั้งใจ" in v for v in values)


def test_a_bad_format_or_year_is_refused(agency: Organisation, clerk: Person, signer: Person) -> None:
    case, _, _ = _completed_case(agency, clerk, signer)
    for call in (lambda: destruction_list_file(agency, 2568, "docx"), lambda: storage_list_file(case, "csv"),
                 lambda: destruction_list_file(agency, 99, "pdf")):
        with pytest.raises(ValidationFailed) as refused:
            call()
        problem = refused.value.problems[0]
        assert problem.message_th and problem.message_en and problem.message_th != problem.message_en


@pytest.mark.pdf
def test_the_commands_write_the_lists_and_refuse_bad_arguments(agency: Organisation, clerk: Person, signer: Person,
                                                              tmp_path: Path) -> None:
    case, _, _ = _completed_case(agency, clerk, signer)
    out = io.StringIO()
    call_command("records", "storage-list", "--case", str(case.pk), "-o", str(tmp_path / "19.pdf"), stdout=out)
    assert (tmp_path / "19.pdf").read_bytes().startswith(b"%PDF") and "19.pdf" in out.getvalue()
    call_command("records", "storage-list", "--case", str(case.pk), "-o", str(tmp_path / "19.XLSX"), stdout=out)
    assert load_workbook(tmp_path / "19.XLSX").active is not None
    call_command("records", "destruction-list", "--organisation", agency.identifier, "--year", "2025",
                 "-o", str(tmp_path / "25.pdf"), stdout=out)  # ค.ศ. 2025 is พ.ศ. 2568
    text = _text((tmp_path / "25.pdf").read_bytes(), tmp_path)
    assert "พ.ศ.๒๕๖๘(ร่าง)" in text and "ไม่มีรายการ" in text  # nothing of this agency was due by then
    open_case = records.open_case(case.file, "ยังไม่เสร็จ", actor=clerk)
    bad = {
        "bad.docx": ["destruction-list", "--organisation", agency.identifier, "--year", "2568"],
        "nowhere.pdf": ["destruction-list", "--organisation", "nowhere", "--year", "2568"],
        "year.pdf": ["destruction-list", "--organisation", agency.identifier, "--year", "๒๕๖๘x"],
        "case.xlsx": ["storage-list", "--case", "999999"],
        "open.pdf": ["storage-list", "--case", str(open_case.pk)],
        "noext": ["storage-list", "--case", str(case.pk)],
    }
    for name, args in bad.items():
        with pytest.raises(CommandError) as refused:
            call_command("records", *args, "-o", str(tmp_path / name))
        assert refused.value.returncode == 2, name
        assert "/" in str(refused.value), name  # Thai / English
        assert not (tmp_path / name).exists(), name
    with pytest.raises(CommandError) as refused:
        call_command("records", "storage-list", "--case", str(case.pk), "-o", str(tmp_path / "no" / "dir.pdf"))
    assert refused.value.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no partial file left


@pytest.mark.pdf
def test_a_long_list_repeats_its_heading_and_numbers_its_sheets(tmp_path: Path) -> None:
    from saraban.rendering.records_lists import ListRow, RecordsListSheet, render_records_list

    rows = [ListRow("01.02", f"นร 0105/{i}", dt.date(2015, 3, 1), f"เรื่องที่ {i} ของปีงบประมาณ", "ทำลาย")
            for i in range(1, 81)]
    sheet = RecordsListSheet("25", "บัญชีหนังสือขอทำลาย ประจำปี พ.ศ. 2568", "สำนักงานปลัดสำนักนายกรัฐมนตรี",
                             rows=rows, thai_digits=True)
    path = tmp_path / "long.pdf"
    path.write_bytes(render_records_list(sheet))
    pages = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout.decode()
    sheets = [_squash(p) for p in pages.split("\f") if p.strip()]
    assert len(sheets) > 2
    for number, text in enumerate(sheets, start=1):
        assert "ลำดับที่" in text and "การพิจารณา" in text and "บัญชีหนังสือขอทำลาย" in text
        assert f"แผ่นที่{thai_digits(str(number))}จาก{thai_digits(str(len(sheets)))}" in text
    assert "เรื่องที่๘๐ของปีงบประมาณ" in sheets[-1] and "เรื่องที่๘๐ของ" not in sheets[0]
    assert "๑มี.ค.๒๕๕๘" in sheets[0] and "รวม๘๐รายการ" in sheets[-1]
