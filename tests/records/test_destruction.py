"""The annual destruction, whole: due, committee, keep some, approve, objection period, destroy, holds,
classified letters, and a run that stops half-way and is resumed. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from saraban.access.services import grant_secrecy
from saraban.audit.models import AuditEvent
from saraban.core.errors import PermissionRefused, StateRefused, ValidationFailed
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.correspondence.tasks import render_letter_pdf
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.documents.services import read_file, store_file
from saraban.documents.storage import blob_store
from saraban.records import destruction as flow
from saraban.records import erasure
from saraban.records import services as records
from saraban.records.models import (
    CommitteeRole,
    DestructionStatus,
    HoldReason,
    ItemDecision,
    PendingErasure,
    Record,
    RecordStatus,
)
from saraban.records.retention import Retention, RetentionClass
from saraban.registers.models import RegisterEntry
from saraban.search.indexing import index_object
from saraban.search.models import SearchEntry
from tests.helpers import numbered
from tests.test_letters import example
from tests.web.test_workflow_pages import client_for

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 7)  # พ.ศ. 2569: the list is for 2568


def _person(agency: Organisation, username: str, name: str, role: str = "officer") -> Person:
    person = create_person(username=username, name_th=name, password="x-Pass-1234")
    assign_role(person, agency, role, position_title="นักจัดการงานทั่วไปชำนาญการ")
    return person


@pytest.fixture
def committee(agency: Organisation, clerk: Person) -> list[flow.Appointee]:
    return [flow.Appointee(_person(agency, "chair", "นายประธาน ตั้งใจ"), CommitteeRole.CHAIR, "ผู้อำนวยการกอง"),
            flow.Appointee(_person(agency, "m1", "นางกรรมการ หนึ่ง"), CommitteeRole.MEMBER),
            flow.Appointee(clerk, CommitteeRole.MEMBER)]


def _letter(agency: Organisation, clerk: Person, signer: Person, **changes: Any) -> Letter:
    letter = numbered(create_letter(agency, example("external", **changes), author=clerk), author=clerk,
                      signer=signer, clerk=clerk)
    render_letter_pdf.call(letter.pk)
    letter.refresh_from_db()
    index_object("out", letter.pk)
    return letter


def _order(agency: Organisation, clerk: Person, signer: Person) -> Letter:
    return numbered(create_letter(agency, example("order"), author=clerk), author=clerk, signer=signer, clerk=clerk)


def _due_in_2568(*letters: Letter) -> None:
    Record.objects.filter(kind="out", object_id__in=[x.pk for x in letters]).update(document_year=2558,
                                                                                    keep_until=2568)


def _reviewed(agency: Organisation, clerk: Person, signer: Person, committee: list[flow.Appointee]) -> Any:
    listed = flow.draw_up(agency, 2568, actor=clerk, today=TODAY)
    listed = flow.appoint_committee(listed, committee, order=_order(agency, clerk, signer), actor=signer)
    for member in committee:
        listed = flow.sign(listed, actor=member.person)
    return flow.approve(listed, reference="บันทึกที่ นร 0105/999 ลงวันที่ 1 ก.พ. 2569", actor=signer)


def test_the_whole_cycle(agency: Organisation, clerk: Person, signer: Person, committee: list[flow.Appointee]) -> None:
    shared = store_file(b"%PDF-1.4 shared enclosure", "application/pdf")
    plan = [{"title": "แผนงาน", "sha256": shared.sha256, "filename": "a.pdf"}]
    gone = _letter(agency, clerk, signer, enclosures=plan)
    kept = _letter(agency, clerk, signer, enclosures=plan)
    saved = _letter(agency, clerk, signer)  # the committee keeps this one
    records.ensure_records(agency.pk)
    _due_in_2568(gone, saved)
    with pytest.raises(ValidationFailed):
        flow.draw_up(agency, 2569, actor=clerk, today=TODAY)  # the year is not over
    listed = flow.draw_up(agency, 2568, actor=clerk, today=TODAY)
    assert {i.record.object_id for i in listed.items.all()} == {gone.pk, saved.pk}
    with pytest.raises(StateRefused):
        flow.draw_up(agency, 2568, actor=clerk, today=TODAY)  # one list a year
    order = _order(agency, clerk, signer)
    with pytest.raises(PermissionRefused):
        flow.appoint_committee(listed, committee, order=order, actor=clerk)  # only the head appoints
    with pytest.raises(ValidationFailed):
        flow.appoint_committee(listed, committee[:2], order=order, actor=signer)  # a chair and one member
    with pytest.raises(ValidationFailed):
        flow.appoint_committee(listed, committee, order=gone, actor=signer)  # not an order
    listed = flow.appoint_committee(listed, committee, order=order, actor=signer)
    item = listed.items.get(record__object_id=saved.pk)
    with pytest.raises(PermissionRefused):
        flow.decide(item, keep=True, retention=Retention(RetentionClass.TEN_YEARS), reason="ยังใช้อ้างอิง", actor=signer)
    with pytest.raises(ValidationFailed):
        flow.decide(item, keep=True, retention=Retention(RetentionClass.TEN_YEARS), reason="", actor=clerk)
    flow.sign(listed, actor=committee[0].person)
    with pytest.raises(ValidationFailed):  # 2558 + 10 ends with this list's year: not longer
        flow.decide(item, keep=True, retention=Retention(RetentionClass.TEN_YEARS), reason="ยังใช้อ้างอิง", actor=clerk)
    flow.decide(item, keep=True, retention=Retention(RetentionClass.BY_LAW, 20, "พ.ร.บ.วิธีปฏิบัติราชการทางปกครอง"),
                reason="ยังใช้อ้างอิงในคดี", actor=clerk)
    assert not listed.committee.filter(signed_at__isnull=False).exists()  # a changed list is signed again
    for member in committee:
        listed = flow.sign(listed, actor=member.person)
    assert listed.status == DestructionStatus.REVIEWED  # the chair signed again after the decision changed
    assert Record.objects.get(kind="out", object_id=saved.pk).keep_until == 2578  # 2558 + 20
    with pytest.raises(PermissionRefused):
        flow.approve(listed, reference="x", actor=clerk)
    listed = flow.approve(listed, reference="บันทึกที่ นร 0105/999", actor=signer)
    with pytest.raises(StateRefused):
        flow.destroy(listed, actor=clerk, today=TODAY)  # not sent to the Archives
    listed = flow.send_to_archives(listed, channel="exchange", reference="ศธ 0703/55", actor=clerk, today=TODAY)
    with pytest.raises(StateRefused):
        flow.destroy(listed, actor=clerk, today=TODAY + dt.timedelta(days=30))  # the objection period
    pdf, register_lines = gone.pdf_id or "", RegisterEntry.objects.filter(letter=gone).count()
    listed = flow.destroy(listed, actor=clerk, today=TODAY + dt.timedelta(days=61))
    assert listed.status == DestructionStatus.DESTROYED
    record = Record.objects.get(kind="out", object_id=gone.pk)
    assert record.status == RecordStatus.DESTROYED
    assert not blob_store().exists(pdf)  # the letter's PDF is gone
    assert blob_store().exists(shared.sha256)  # the enclosure another kept letter carries stays
    assert read_file(kept.pdf_id or "")
    assert Letter.objects.get(pk=gone.pk).content["body"] == []
    assert not SearchEntry.objects.filter(kind="out", object_id=gone.pk).exists()
    assert RegisterEntry.objects.filter(letter=gone).count() == register_lines  # the register keeps its line
    assert all("ทำลายแล้ว (แบบ 25 พ.ศ. 2568" in e.remarks for e in RegisterEntry.objects.filter(letter=gone))
    assert not any("ทำลายแล้ว" in e.remarks for e in RegisterEntry.objects.filter(letter=kept))
    event = AuditEvent.objects.get(action="records.destroyed")
    assert "บันทึกที่ นร 0105/999" in event.detail["reference"]
    assert Record.objects.get(kind="out", object_id=saved.pk).status == RecordStatus.KEPT
    assert not PendingErasure.objects.exists()
    with pytest.raises(StateRefused):
        records.override_retention(record, Retention(RetentionClass.TEN_YEARS), reason="x", actor=clerk)
    browser = client_for(clerk)
    gone_pdf = browser.get(f"/letters/{gone.pk}/pdf")
    assert gone_pdf.status_code == 410 and "ถูกทำลาย" in gone_pdf.content.decode()
    assert browser.get(f"/letters/{gone.pk}/").status_code == 200  # the letter's page, its number and subject stay
    assert browser.get(f"/letters/{kept.pk}/pdf").status_code == 200


def test_a_hold_keeps_a_record_and_a_stopped_run_resumes(
    agency: Organisation, clerk: Person, signer: Person, committee: list[flow.Appointee], monkeypatch: Any,
) -> None:
    letters = [_letter(agency, clerk, signer) for _ in range(3)]
    records.ensure_records(agency.pk)
    _due_in_2568(*letters)
    listed = _reviewed(agency, clerk, signer, committee)
    listed = flow.send_to_archives(listed, channel="paper", reference="", actor=clerk, today=TODAY)
    held = Record.objects.get(kind="out", object_id=letters[2].pk)
    records.place_hold(held, HoldReason.INVESTIGATION, "คำสั่งสอบข้อเท็จจริงที่ 5/2569", actor=clerk)
    real = erasure.destroy_record
    calls = {"n": 0}

    def stop_after_one(record: Record, **kwargs: Any) -> set[str]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the machine lost power")
        return real(record, **kwargs)

    monkeypatch.setattr(flow, "destroy_record", stop_after_one)
    with pytest.raises(RuntimeError):
        flow.destroy(listed, actor=clerk, today=TODAY + dt.timedelta(days=61))
    listed.refresh_from_db()
    assert listed.status == DestructionStatus.DESTROYING
    states = dict(Record.objects.filter(kind="out").values_list("object_id", "status"))
    assert states[letters[0].pk] == RecordStatus.DESTROYED and states[letters[1].pk] == RecordStatus.KEPT
    assert blob_store().exists(letters[1].pdf_id or "")  # the second was not touched: nothing half-deleted
    monkeypatch.setattr(flow, "destroy_record", real)
    listed = flow.destroy(listed, actor=clerk, today=TODAY + dt.timedelta(days=62))
    assert listed.status == DestructionStatus.DESTROYED
    states = dict(Record.objects.filter(kind="out").values_list("object_id", "status"))
    assert states[letters[1].pk] == RecordStatus.DESTROYED
    assert states[letters[2].pk] == RecordStatus.KEPT and blob_store().exists(letters[2].pdf_id or "")
    assert "ระงับ" in listed.items.get(record=held).skipped_reason
    assert listed.items.filter(decision=ItemDecision.DESTROY, destroyed_at__isnull=False).count() == 2


def test_classified_letters_need_a_cleared_person_and_objections_stop_everything(
    agency: Organisation, clerk: Person, signer: Person, committee: list[flow.Appointee],
) -> None:
    secret = _letter(agency, clerk, signer, secrecy="confidential")
    records.ensure_records(agency.pk)
    _due_in_2568(secret)
    listed = _reviewed(agency, clerk, signer, committee)
    listed = flow.send_to_archives(listed, channel="email", reference="", actor=clerk, today=TODAY)
    with pytest.raises(PermissionRefused):
        flow.destroy(listed, actor=clerk, today=TODAY + dt.timedelta(days=61))
    assert Record.objects.get(kind="out", object_id=secret.pk).status == RecordStatus.KEPT
    grant_secrecy(clerk, agency, "confidential", actor=None)
    assert flow.destroy(listed, actor=clerk, today=TODAY + dt.timedelta(days=61)).status == DestructionStatus.DESTROYED


def test_an_objection_of_the_archives_stops_the_destruction(
    agency: Organisation, clerk: Person, signer: Person, committee: list[flow.Appointee],
) -> None:
    letter = _letter(agency, clerk, signer)
    records.ensure_records(agency.pk)
    _due_in_2568(letter)
    listed = flow.send_to_archives(_reviewed(agency, clerk, signer, committee), channel="paper", reference="",
                                   actor=clerk, today=TODAY)
    listed = flow.record_objection(listed, note="ขอให้เก็บไว้เป็นหลักฐานทางประวัติศาสตร์", actor=clerk)
    with pytest.raises(StateRefused):
        flow.destroy(listed, actor=clerk, today=TODAY + dt.timedelta(days=90))
    assert blob_store().exists(letter.pdf_id or "")
