"""Directory admin pages: tree, organisation page, edit rights, CSV import and export."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from saraban.directory.csv_io import ORGANISATION_COLUMNS
from saraban.directory.models import Organisation, Person
from saraban.directory.services import appoint_acting, assign_role, create_person

pytestmark = pytest.mark.django_db


def login(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def org_admin(agency: Organisation) -> Person:
    person = create_person(username="orgadmin", name_th="นางสาวปวีณา ตั้งมั่น", password=None)
    assign_role(person, agency, "org_admin", position_title="นักวิชาการคอมพิวเตอร์")
    return person


@pytest.fixture
def sys_admin(ministry: Organisation) -> Person:
    person = create_person(username="sysadmin", name_th="นายระบบ ดูแลดี", password=None)
    assign_role(person, ministry, "sys_admin")
    return person


def test_tree_is_indented_and_searchable(clerk: Person, agency: Organisation) -> None:
    client = login(clerk)
    response = client.get("/directory/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "ทำเนียบหน่วยงาน" in page and "สำนักนายกรัฐมนตรี" in page
    assert "--depth: 1" in page and "หน่วยงานของฉัน" in page
    assert "นำเข้า CSV" not in page  # not a sys_admin
    found = client.get("/directory/", {"q": "0105"}).content.decode()
    assert "สำนักงานปลัดสำนักนายกรัฐมนตรี" in found


def test_organisation_page_shows_details_people_and_acting(clerk: Person, agency: Organisation) -> None:
    appoint_acting(
        clerk, agency, position_title="ปลัดสำนักนายกรัฐมนตรี", starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2099, 12, 31), order_reference="คำสั่ง ที่ 12/2569",
    )
    page = login(clerk).get(f"/directory/{agency.pk}/").content.decode()
    assert "ข้อมูลหน่วยงาน" in page and "นร 0105" in page and "saraban@opm.go.th" in page
    assert "บุคลากรและบทบาท" in page and "นางสาวสมใจ รักงาน" in page and "สารบรรณกลาง" in page
    assert "รักษาราชการแทนปลัดสำนักนายกรัฐมนตรี" in page and "คำสั่ง ที่ 12/2569" in page
    assert f"/directory/{agency.pk}/edit/" not in page  # a clerk cannot edit
    assert login(clerk).get("/directory/999999/").status_code == 404


def test_edit_refused_for_a_plain_officer(clerk: Person, agency: Organisation) -> None:
    client = login(clerk)
    assert client.get(f"/directory/{agency.pk}/edit/").status_code == 403
    response = client.post(f"/directory/{agency.pk}/edit/", {"name_th": "ชื่อใหม่"})
    assert response.status_code == 403
    assert "ไม่มีสิทธิ์" in response.content.decode()
    agency.refresh_from_db()
    assert agency.name_th == "สำนักงานปลัดสำนักนายกรัฐมนตรี"


def test_org_admin_edits_through_the_service(org_admin: Person, agency: Organisation, ministry: Organisation) -> None:
    client = login(org_admin)
    form = client.get(f"/directory/{agency.pk}/edit/")
    assert form.status_code == 200 and "แก้ไขข้อมูลหน่วยงาน" in form.content.decode()
    data = {
        "name_th": "สำนักงานปลัดสำนักนายกรัฐมนตรี", "name_en": "OPS", "letter_code": "นร ๐๑๐๕",
        "address": "ทำเนียบรัฐบาล", "email": "saraban@opm.go.th", "phone": "0 2283 4000", "thai_digits": "on",
    }
    response = client.post(f"/directory/{agency.pk}/edit/", data)
    assert response.status_code == 302 and response["Location"] == f"/directory/{agency.pk}/"
    agency.refresh_from_db()
    assert agency.name_en == "OPS" and agency.letter_code == "นร 0105"
    bad = client.post(f"/directory/{agency.pk}/edit/", {**data, "letter_code": "XX", "email": "nope"})
    assert bad.status_code == 200
    assert "อีเมลไม่ถูกต้อง" in bad.content.decode()
    bad = client.post(f"/directory/{agency.pk}/edit/", {**data, "letter_code": "XX 12 34"})
    assert "ไม่ถูกต้อง (เช่น นร 0105)" in bad.content.decode()
    # the ministry above is not theirs
    assert client.get(f"/directory/{ministry.pk}/edit/").status_code == 403


def test_import_is_for_sys_admin_only(org_admin: Person, sys_admin: Person) -> None:
    assert login(org_admin).get("/directory/import/").status_code == 403
    page = login(sys_admin).get("/directory/import/")
    assert page.status_code == 200 and "นำเข้าข้อมูลทำเนียบจากไฟล์ CSV" in page.content.decode()


def test_import_with_a_bad_row_shows_it_and_writes_nothing(sys_admin: Person, ministry: Organisation) -> None:
    header = ",".join(ORGANISATION_COLUMNS)
    good = "new-unit,opm,division,กองใหม่,,นร 0199,,,,,opm,1"
    bad = "bad-unit,opm,planet,กองผิด,,,,,not-an-email,,,1"
    upload = SimpleUploadedFile("orgs.csv", f"{header}\n{good}\n{bad}\n".encode(), content_type="text/csv")
    before = Organisation.objects.count()
    response = login(sys_admin).post("/directory/import/", {"what": "organisations", "file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "ไม่ได้นำเข้า" in page and "planet" in page and "not-an-email" in page
    assert '<td class="num">3</td>' in page  # the line of the bad row
    assert Organisation.objects.count() == before


def test_import_of_good_rows_redirects_with_counts(sys_admin: Person, ministry: Organisation) -> None:
    header = ",".join(ORGANISATION_COLUMNS)
    upload = SimpleUploadedFile("orgs.csv", f"{header}\nnew-unit,opm,division,กองใหม่,,นร 0199,,,,,opm,1\n".encode())
    response = login(sys_admin).post("/directory/import/", {"what": "organisations", "file": upload}, follow=True)
    assert "นำเข้าแล้ว: เพิ่ม 1 รายการ" in response.content.decode()
    assert Organisation.objects.filter(identifier="new-unit").exists()


def test_import_without_a_file_says_so(sys_admin: Person) -> None:
    response = login(sys_admin).post("/directory/import/", {"what": "people"})
    assert response.status_code == 200 and "เลือกไฟล์ CSV" in response.content.decode()


def test_exports(clerk: Person, sys_admin: Person, agency: Organisation) -> None:
    orgs = login(clerk).get("/directory/export/organisations.csv")
    assert orgs.status_code == 200 and orgs["Content-Type"] == "text/csv; charset=utf-8"
    assert orgs["Content-Disposition"] == 'attachment; filename="organisations.csv"'
    assert "สำนักงานปลัดสำนักนายกรัฐมนตรี" in orgs.content.decode("utf-8-sig")
    assert login(clerk).get("/directory/export/people.csv").status_code == 403
    people = login(sys_admin).get("/directory/export/people.csv")
    assert people.status_code == 200 and "clerk" in people.content.decode("utf-8-sig")
    assert login(clerk).get("/directory/export/secrets.csv").status_code == 404


def test_every_directory_page_in_english(sys_admin: Person, agency: Organisation) -> None:
    client = login(sys_admin)
    client.cookies["saraban_lang"] = "en"
    assert "Directory of organisations" in client.get("/directory/").content.decode()
    assert "People and roles" in client.get(f"/directory/{agency.pk}/").content.decode()
    assert "Edit organisation" in client.get(f"/directory/{agency.pk}/edit/").content.decode()
    assert "Import the directory from CSV" in client.get("/directory/import/").content.decode()


def test_another_organisations_staff_are_not_shown(clerk: Person, agency: Organisation, sys_admin: Person) -> None:
    """The API's rule: names and codes are public, the people only to who works there (or a sys_admin)."""
    from saraban.directory.services import create_organisation

    elsewhere = create_organisation(identifier="nont-sao", kind="sao", name_th="องค์การบริหารส่วนตำบลบางรักน้อย",
                                    letter_code="นบ 72010")
    outsider = create_person(username="sao.registry", name_th="นายอื่น ต่างถิ่น", password=None)
    assign_role(outsider, elsewhere, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    appoint_acting(clerk, agency, position_title="ปลัดสำนักนายกรัฐมนตรี", starts_on=dt.date(2020, 1, 1),
                   ends_on=dt.date(2099, 12, 31), order_reference="คำสั่ง ที่ 12/2569")
    page = login(outsider).get(f"/directory/{agency.pk}/").content.decode()
    assert "สำนักงานปลัดสำนักนายกรัฐมนตรี" in page and "นร 0105" in page  # the entry itself is public
    for secret in ("นางสาวสมใจ รักงาน", "เจ้าพนักงานธุรการชำนาญงาน", "คำสั่ง ที่ 12/2569", "สารบรรณกลาง"):
        assert secret not in page, secret
    assert "แสดงเฉพาะผู้ปฏิบัติงานในหน่วยงาน" in page
    assert "นางสาวสมใจ รักงาน" in login(sys_admin).get(f"/directory/{agency.pk}/").content.decode()
    assert "นายอื่น ต่างถิ่น" in login(outsider).get(f"/directory/{elsewhere.pk}/").content.decode()
