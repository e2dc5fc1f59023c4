"""Records: the file plan from CSV, filing letters in cases, retention and its overrides, holds, what is due."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from saraban.audit.models import AuditEvent
from saraban.core.errors import PermissionRefused, StateRefused, ValidationFailed
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.records import services as records
from saraban.records.models import FilePlanEntry, HoldReason, Record, RecordStatus
from saraban.records.retention import Retention, RetentionClass, as_buddhist_year, keep_until_year
from saraban.records.selectors import due_for_destruction, held_records
from tests.helpers import numbered
from tests.test_letters import example

pytestmark = pytest.mark.django_db

PLAN = """code,title,parent,retention,years,legal_basis
01.01,การประชุมคณะกรรมการ,01,10y,,
01,การบริหารทั่วไป,,permanent,,
02,การเงินและบัญชี,,law,10,ระเบียบกระทรวงการคลังว่าด้วยการเบิกจ่ายเงินจากคลัง
03,หนังสือเวียนทั่วไป,,1y,,
"""


def _letter(agency: Organisation, clerk: Person, signer: Person) -> Letter:
    return numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer, clerk=clerk)


def test_keep_until_counts_whole_years_from_the_document_year() -> None:
    assert keep_until_year(2569, Retention(RetentionClass.TEN_YEARS)) == 2579
    assert keep_until_year(2569, Retention(RetentionClass.ONE_YEAR)) == 2570
    assert keep_until_year(2569, Retention(RetentionClass.PERMANENT)) is None
    assert keep_until_year(2569, Retention(RetentionClass.BY_LAW, 15, "พ.ร.บ.")) == 2584
    assert as_buddhist_year(2026) == 2569 and as_buddhist_year(2569) == 2569


def test_the_file_plan_is_imported_with_its_tree(agency: Organisation, clerk: Person) -> None:
    assert records.import_file_plan(agency, PLAN, actor=clerk) == 4
    child = FilePlanEntry.objects.get(organisation=agency, code="01.01")
    assert child.parent is not None and child.parent.code == "01"  # the parent came after its child
    money = FilePlanEntry.objects.get(organisation=agency, code="02")
    assert (money.retention_class, money.retention_years) == (RetentionClass.BY_LAW, 10)
    # Again, with a title changed: updated in place, not doubled.
    records.import_file_plan(agency, PLAN.replace("หนังสือเวียนทั่วไป", "หนังสือเวียน"), actor=clerk)
    assert FilePlanEntry.objects.filter(organisation=agency).count() == 4
    assert FilePlanEntry.objects.get(organisation=agency, code="03").title == "หนังสือเวียน"
    assert AuditEvent.objects.filter(action="records.file_plan_imported").count() == 2


def test_a_bad_file_plan_names_every_bad_row_and_writes_nothing(agency: Organisation, clerk: Person) -> None:
    bad = ("code,title,parent,retention,years,legal_basis\n"
           "01,การบริหาร,,forever,,\n"  # unknown retention
           ",ไม่มีรหัส,,10y,,\n"  # no code
           "02,การเงิน,,law,,\n"  # by law without years or basis
           "03,ลูก,99,10y,,\n"  # no such parent
           "04,ซ้ำ,,10y,,\n04,ซ้ำอีก,,10y,,\n")
    with pytest.raises(ValidationFailed) as refused:
        records.import_file_plan(agency, bad, actor=clerk)
    said = " ".join(p.message_th for p in refused.value.problems)
    for row in ("แถว 2", "แถว 3", "แถว 4", "แถว 5", "แถว 7"):
        assert row in said, row
    assert not FilePlanEntry.objects.filter(organisation=agency).exists()
    with pytest.raises(ValidationFailed):
        records.import_file_plan(agency, "a,b\n1,2\n", actor=clerk)  # not the columns
    with pytest.raises(ValidationFailed) as refused:
        records.import_file_plan(agency, "code,title,parent\nA,แฟ้ม A,B\nB,แฟ้ม B,A\n", actor=clerk)  # a loop
    assert [p.code for p in refused.value.problems] == ["cycle"]
    assert not FilePlanEntry.objects.filter(organisation=agency).exists()


def test_only_the_registry_keeps_records(agency: Organisation, signer: Person) -> None:
    with pytest.raises(PermissionRefused):
        records.import_file_plan(agency, PLAN, actor=signer)


def test_a_filed_letter_takes_its_files_retention_and_an_override_needs_a_reason(
    agency: Organisation, clerk: Person, signer: Person,
) -> None:
    records.import_file_plan(agency, PLAN, actor=clerk)
    letter = _letter(agency, clerk, signer)
    year = (letter.date or letter.created_at.date()).year + 543
    case = records.open_case(FilePlanEntry.objects.get(organisation=agency, code="03"), "หนังสือเวียนปี 2569",
                             actor=clerk)
    record = records.file_letter("out", letter.pk, case, actor=clerk)
    assert (record.retention_class, record.document_year, record.keep_until) == ("1y", year, year + 1)
    with pytest.raises(ValidationFailed) as refused:
        records.override_retention(record, Retention(RetentionClass.PERMANENT), reason=" ", actor=clerk)
    assert [p.field for p in refused.value.problems] == ["reason"]
    record = records.override_retention(record, Retention(RetentionClass.PERMANENT),
                                        reason="เป็นแบบอย่างการปฏิบัติ", actor=clerk)
    assert record.keep_until is None and record.override_reason == "เป็นแบบอย่างการปฏิบัติ"
    event = AuditEvent.objects.filter(action="records.retention_changed").get()
    assert event.detail["from"] == year + 1 and event.detail["to"] is None
    Record.objects.filter(pk=record.pk).update(status=RecordStatus.DESTROYED)
    with pytest.raises(StateRefused):
        records.override_retention(record, Retention(RetentionClass.TEN_YEARS), reason="x", actor=clerk)


def test_a_draft_is_not_a_record_and_another_organisations_letter_cannot_be_filed(
    agency: Organisation, clerk: Person, signer: Person, ministry: Organisation,
) -> None:
    draft = create_letter(agency, example("external"), author=clerk)
    with pytest.raises(ValidationFailed):
        records.record_for("out", draft.pk)
    minister_clerk = create_person(username="m.clerk", name_th="นายสมชาย ดีงาม", password="x-Pass-1234")
    assign_role(minister_clerk, ministry, "central_clerk")
    records.import_file_plan(ministry, PLAN, actor=minister_clerk)
    theirs = records.open_case(FilePlanEntry.objects.get(organisation=ministry, code="01"), "เรื่องของกระทรวง",
                               actor=minister_clerk)
    mine = _letter(agency, clerk, signer)
    with pytest.raises(PermissionRefused):
        records.file_letter("out", mine.pk, theirs, actor=clerk)  # not a keeper of the ministry's records
    with pytest.raises(ValidationFailed):
        records.file_letter("out", mine.pk, theirs, actor=minister_clerk)  # not the ministry's letter


def test_due_lists_what_ended_and_holds_keep_records_out(agency: Organisation, clerk: Person, signer: Person) -> None:
    letter = _letter(agency, clerk, signer)
    assert records.ensure_records(agency.pk) == 1 and records.ensure_records(agency.pk) == 0
    record = Record.objects.get(kind="out", object_id=letter.pk)
    assert record.retention_class == "10y"  # filed nowhere: the default retention
    until = record.keep_until or 0
    assert list(due_for_destruction(agency.pk, until - 1)) == []
    assert list(due_for_destruction(agency.pk, until)) == [record]
    hold = records.place_hold(record, HoldReason.COURT, "คดีหมายเลขดำที่ 123/2569", actor=clerk)
    assert list(due_for_destruction(agency.pk, until)) == [] and list(held_records(agency.pk, until)) == [record]
    with pytest.raises(ValidationFailed):
        records.release_hold(hold, note="", actor=clerk)
    records.release_hold(hold, note="ศาลพิพากษาถึงที่สุดแล้ว", actor=clerk)
    with pytest.raises(StateRefused):
        records.release_hold(hold, note="อีกครั้ง", actor=clerk)
    assert list(due_for_destruction(agency.pk, until)) == [record]


def test_the_command(agency: Organisation, clerk: Person, signer: Person, tmp_path: Path) -> None:
    letter = _letter(agency, clerk, signer)
    until = (letter.date or letter.created_at.date()).year + 543 + 10
    out = io.StringIO()
    call_command("records", "due", "--organisation", agency.identifier, "--year", str(until), stdout=out)
    assert f"out:{letter.pk}" in out.getvalue() and "1 ฉบับ" in out.getvalue()
    out = io.StringIO()
    call_command("records", "due", "--organisation", agency.identifier, "--year", str(until - 543 - 1), stdout=out)
    assert f"out:{letter.pk}" not in out.getvalue()  # a year in ค.ศ., read as พ.ศ.
    for args in (["due", "--organisation", agency.identifier, "--year", "๒๕๖๙x"],
                 ["due", "--organisation", "nowhere", "--year", "2569"]):
        with pytest.raises(CommandError) as refused:
            call_command("records", *args)
        assert refused.value.returncode == 2
    plan = tmp_path / "plan.csv"
    plan.write_text("code,title\n01,\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("records", "import-plan", "--organisation", agency.identifier, "--user", clerk.username,
                     str(plan))
    assert refused.value.returncode == 2 and "แถว 2" in str(refused.value)
    plan.write_text(PLAN, encoding="utf-8")
    out = io.StringIO()
    call_command("records", "import-plan", "--organisation", agency.identifier, "--user", clerk.username,
                 str(plan), stdout=out)
    assert "4" in out.getvalue()


@pytest.mark.pdf
def test_completing_a_case_stamps_a_stored_copy_and_never_the_original(
    agency: Organisation, clerk: Person, signer: Person, tmp_path: Path,
) -> None:
    import subprocess

    from saraban.documents.services import read_file

    records.import_file_plan(agency, PLAN, actor=clerk)
    from saraban.correspondence.tasks import render_letter_pdf

    letter = _letter(agency, clerk, signer)
    render_letter_pdf.call(letter.pk)  # as the worker does after numbering
    letter.refresh_from_db()
    assert letter.pdf_id is not None
    original = read_file(letter.pdf_id)
    case = records.open_case(FilePlanEntry.objects.get(organisation=agency, code="01.01"), "ประชุมคณะกรรมการ",
                             actor=clerk)
    records.file_letter("out", letter.pk, case, actor=clerk)
    records.complete_case(case, actor=clerk)
    record = Record.objects.get(kind="out", object_id=letter.pk)
    assert record.stored_copy_id not in (None, letter.pdf_id)
    assert read_file(letter.pdf_id) == original
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(read_file(record.stored_copy_id or ""))
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(copy), "-"], capture_output=True, text=True,
                          check=True).stdout
    until = "".join("๐๑๒๓๔๕๖๗๘๙"[int(c)] for c in str(record.keep_until))
    assert f"เก็บถึง พ.ศ. {until}" in text and "ลงชื่อ" in text
    with pytest.raises(StateRefused):
        records.complete_case(case, actor=clerk)
    records.override_retention(record, Retention(RetentionClass.PERMANENT), reason="เป็นหลักฐานทางประวัติศาสตร์",
                               actor=clerk)
    copy.write_bytes(read_file(Record.objects.get(pk=record.pk).stored_copy_id or ""))
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(copy), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "ห้ามทำลาย" in text
