"""The records pages: the overview for keepers and heads, and a destruction list walked through its steps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.correspondence.tasks import render_letter_pdf
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.records import services as records
from saraban.records.models import DestructionList, DestructionStatus, FilePlanEntry, Record, RecordStatus
from tests.helpers import numbered
from tests.test_letters import example
from tests.web.test_workflow_pages import client_for, other_clerk, other_org

pytestmark = pytest.mark.django_db
other = (other_org, other_clerk)  # fixtures: another organisation and its clerk


def _member(agency: Organisation, username: str, name: str) -> Person:
    person = create_person(username=username, name_th=name, password="x-Pass-1234")
    assign_role(person, agency, "officer", position_title="นักจัดการงานทั่วไป")
    return person


def test_the_overview_is_for_keepers_and_heads(agency: Organisation, clerk: Person, signer: Person,
                                               other_clerk: Person) -> None:
    page = client_for(clerk).get("/records/")
    assert page.status_code == 200 and "จัดเก็บหนังสือ" in page.content.decode()
    assert 'href="/records/"' in client_for(clerk).get("/work/").content.decode()  # in the menu
    assert client_for(signer).get("/records/").status_code == 200
    officer = _member(agency, "plain", "นายทั่วไป ทำงาน")
    assert client_for(officer).get("/records/").status_code == 404
    assert 'href="/records/"' not in client_for(officer).get("/work/").content.decode()


def test_the_file_plan_upload_names_the_bad_rows(agency: Organisation, clerk: Person) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    browser = client_for(clerk)
    bad = SimpleUploadedFile("plan.csv", "code,title,parent,retention\n01,การบริหาร,,forever\n".encode(),
                             content_type="text/csv")
    page = browser.post("/records/plan/", {"plan": bad}, follow=True).content.decode()
    assert "แถว 2" in page and not FilePlanEntry.objects.filter(organisation=agency).exists()
    good = SimpleUploadedFile("plan.csv", "code,title,parent,retention\n01,การบริหาร,,10y\n".encode(),
                              content_type="text/csv")
    page = browser.post("/records/plan/", {"plan": good}, follow=True).content.decode()
    assert "นำเข้าแผนแฟ้ม 1 รายการแล้ว" in page and "การบริหาร" in page
    exported = browser.get("/records/plan.csv")
    assert exported["Content-Type"].startswith("text/csv")
    edited = exported.content.decode("utf-8-sig").replace("การบริหาร", "การบริหารทั่วไป").encode()
    browser.post("/records/plan/", {"plan": SimpleUploadedFile("plan.csv", edited, content_type="text/csv")})
    assert FilePlanEntry.objects.get(organisation=agency, code="01").title == "การบริหารทั่วไป"  # round trip
    latin1 = SimpleUploadedFile("plan.csv", "code,title\n01,caf\xe9\n".encode("latin-1"), content_type="text/csv")
    assert "UTF-8" in browser.post("/records/plan/", {"plan": latin1}, follow=True).content.decode()


def test_a_destruction_list_through_its_pages(agency: Organisation, clerk: Person, signer: Person,
                                               other_clerk: Person) -> None:
    letter = numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer,
                      clerk=clerk)
    render_letter_pdf.call(letter.pk)
    order = numbered(create_letter(agency, example("order"), author=clerk), author=clerk, signer=signer, clerk=clerk)
    records.ensure_records(agency.pk)
    last_year = dt.date.today().year + 543 - 1
    Record.objects.filter(kind="out", object_id=letter.pk).update(document_year=last_year - 10, keep_until=last_year)
    keeper, head = client_for(clerk), client_for(signer)
    answer = keeper.post("/records/destruction/")
    listed = DestructionList.objects.get(organisation=agency)
    assert answer.status_code == 302 and answer["Location"] == f"/records/destruction/{listed.pk}/"
    page = keeper.get(answer["Location"]).content.decode()
    assert letter.subject[:30] in page and "แต่งตั้งคณะกรรมการ" in page
    assert client_for(other_clerk).get(f"/records/destruction/{listed.pk}/").status_code == 404
    chair, member = _member(agency, "chair", "นายประธาน ตั้งใจ"), _member(agency, "m1", "นางกรรมการ หนึ่ง")
    # Only two people: refused with the reason, nothing appointed.
    page = head.post(f"/records/destruction/{listed.pk}/appoint/",
                     {"member": [chair.pk, member.pk], "chair": chair.pk, "order": order.pk}, follow=True)
    assert "อย่างน้อย 2 คน" in page.content.decode()
    head.post(f"/records/destruction/{listed.pk}/appoint/",
              {"member": [chair.pk, member.pk, clerk.pk], "chair": chair.pk, "order": order.pk})
    listed.refresh_from_db()
    assert listed.status == DestructionStatus.COMMITTEE
    assert "ลงนามรับรองบัญชี" in client_for(chair).get(f"/records/destruction/{listed.pk}/").content.decode()
    for person in (chair, member, clerk):
        client_for(person).post(f"/records/destruction/{listed.pk}/sign/")
    listed.refresh_from_db()
    assert listed.status == DestructionStatus.REVIEWED
    keeper.post(f"/records/destruction/{listed.pk}/approve/", {"reference": "x"})  # not the head: refused
    listed.refresh_from_db()
    assert listed.status == DestructionStatus.REVIEWED
    head.post(f"/records/destruction/{listed.pk}/approve/", {"reference": "บันทึกที่ นร 0105/77"})
    drafted = keeper.post(f"/records/destruction/{listed.pk}/covering/")
    (covering,) = list(Letter.objects.filter(subject__startswith="ขอส่งบัญชีหนังสือขอทำลาย"))
    assert drafted["Location"] == f"/letters/{covering.pk}/edit/"
    assert covering.letter_content.enclosures[0].sha256  # แบบ 25 attached, to send the usual way
    keeper.post(f"/records/destruction/{listed.pk}/send/", {"channel": "paper", "reference": "นร 0105/78"})
    page = keeper.post(f"/records/destruction/{listed.pk}/destroy/", follow=True).content.decode()
    assert "ทักท้วง" in page  # still within the objection period
    DestructionList.objects.filter(pk=listed.pk).update(objection_until=dt.date.today() - dt.timedelta(days=1))
    page = keeper.post(f"/records/destruction/{listed.pk}/destroy/", follow=True).content.decode()
    assert "ทำลายหนังสือตามบัญชีแล้ว" in page
    assert Record.objects.get(kind="out", object_id=letter.pk).status == RecordStatus.DESTROYED
    assert keeper.get(f"/letters/{letter.pk}/pdf").status_code == 410
    assert Client().get(f"/records/destruction/{listed.pk}/").status_code == 302  # sign in first


def test_the_letter_page_panel_files_sets_retention_and_holds(agency: Organisation, clerk: Person,
                                                              signer: Person, other_clerk: Person) -> None:
    letter = numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer,
                      clerk=clerk)
    records.import_file_plan(agency, "code,title,retention\n03,นโยบายและแผน,permanent\n", actor=clerk)
    browser = client_for(clerk)
    page = browser.get(f"/letters/{letter.pk}/").content.decode()
    assert 'id="records-panel"' in page and "ยังไม่จัดเข้าแฟ้ม" in page
    assert not Record.objects.exists()  # viewing the page writes nothing
    file = FilePlanEntry.objects.get(organisation=agency, code="03")
    browser.post(f"/records/letter/out/{letter.pk}/file/", {"file": file.pk})
    record = Record.objects.get(kind="out", object_id=letter.pk)
    assert record.keep_until is None and record.case is not None and record.case.title == letter.subject
    page = browser.post(f"/records/letter/out/{letter.pk}/retention/", {"retention": "5y", "reason": ""},
                        follow=True).content.decode()
    assert "เหตุผล" in page and Record.objects.get(pk=record.pk).keep_until is None  # no reason: refused
    browser.post(f"/records/letter/out/{letter.pk}/retention/", {"retention": "5y", "reason": "เป็นสำเนา"})
    assert Record.objects.get(pk=record.pk).retention_class == "5y"
    browser.post(f"/records/letter/out/{letter.pk}/hold/", {"reason": "court", "detail": "คดีดำที่ 1/2569"})
    assert "คดีดำที่ 1/2569" in browser.get(f"/letters/{letter.pk}/").content.decode()
    # Another organisation's clerk cannot reach the letter, so not its record either.
    assert client_for(other_clerk).post(f"/records/letter/out/{letter.pk}/hold/",
                                        {"reason": "court", "detail": "x"}).status_code == 404
    assert client_for(clerk).post(f"/records/letter/zz/{letter.pk}/hold/", {}).status_code == 404
    # A reply joins its letter's case (an open case of the organisation).
    reply = numbered(create_letter(agency, example("internal"), author=clerk), author=clerk, signer=signer,
                     clerk=clerk)
    assert record.case.title[:20] in browser.get(f"/letters/{reply.pk}/").content.decode()
    browser.post(f"/records/letter/out/{reply.pk}/file/", {"case": record.case_id})
    assert Record.objects.get(kind="out", object_id=reply.pk).case_id == record.case_id
    assert browser.post(f"/records/letter/out/{reply.pk}/file/", {"case": 99999}).status_code == 404


def test_storing_a_case_and_the_forms_to_download(agency: Organisation, clerk: Person, signer: Person,
                                                  other_clerk: Person) -> None:
    letter = numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer,
                      clerk=clerk)
    render_letter_pdf.call(letter.pk)
    records.import_file_plan(agency, "code,title,retention\n01,การบริหารทั่วไป,10y\n", actor=clerk)
    browser = client_for(clerk)
    browser.post(f"/records/letter/out/{letter.pk}/file/", {"file": FilePlanEntry.objects.get(code="01").pk})
    case = Record.objects.get(kind="out", object_id=letter.pk).case
    assert case is not None
    assert browser.get(f"/records/case/{case.pk}/form19.pdf").status_code == 409  # still in progress
    answer = browser.post(f"/records/case/{case.pk}/complete/", {"back": f"/letters/{letter.pk}/"})
    assert answer["Location"] == f"/letters/{letter.pk}/"
    assert Record.objects.get(kind="out", object_id=letter.pk).stored_copy_id is not None
    pdf = browser.get(f"/records/case/{case.pk}/form19.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = browser.get(f"/records/case/{case.pk}/form19.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert browser.get(f"/records/case/{case.pk}/form19.doc").status_code == 404
    assert client_for(other_clerk).get(f"/records/case/{case.pk}/form19.pdf").status_code == 404
    assert browser.post(f"/records/case/{case.pk}/complete/", {"back": "https://evil.example/"})["Location"] == \
        "/records/"  # completed already, and never sent elsewhere
    browser.post(f"/records/case/{case.pk}/audit/", {"back": f"/letters/{letter.pk}/"})
    case.refresh_from_db()
    assert case.stage == "audit"  # ข้อ 52: kept for audit
    page = browser.post(f"/records/case/{case.pk}/audit/", follow=True).content.decode()
    assert "เฉพาะเรื่องที่ปฏิบัติเสร็จแล้ว" in page


def test_a_classified_subject_is_shown_only_to_those_cleared(agency: Organisation, clerk: Person,
                                                            signer: Person) -> None:
    import subprocess

    from saraban.access.services import grant_secrecy

    secret = numbered(create_letter(agency, example("external", secrecy="confidential",
                                                    subject="การสอบสวนวินัยข้าราชการ"), author=clerk),
                      author=clerk, signer=signer, clerk=clerk)
    records.ensure_records(agency.pk)
    last_year = dt.date.today().year + 543 - 1
    Record.objects.filter(kind="out", object_id=secret.pk).update(document_year=last_year - 10, keep_until=last_year)
    browser = client_for(clerk)
    browser.post("/records/destruction/")
    listed = DestructionList.objects.get(organisation=agency)

    def pdf_text() -> str:
        pdf = browser.get(f"/records/destruction/{listed.pk}/form25.pdf").content
        return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()

    page = browser.get(f"/records/destruction/{listed.pk}/").content.decode()
    assert "การสอบสวนวินัย" not in page and "หนังสือลับ ไม่แสดงเรื่อง" in page
    assert "การสอบสวนวินัย" not in pdf_text()
    grant_secrecy(clerk, agency, "confidential", actor=None)
    assert "การสอบสวนวินัย" in browser.get(f"/records/destruction/{listed.pk}/").content.decode()
    assert "การสอบสวนวินัย" in pdf_text()
