"""The registers page: own organisations only, search, keyset paging, date errors, exports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from saraban.core.thai import BANGKOK
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.registers.models import BookKind, RegisterEntry
from saraban.registers.numbering import EntryFields
from saraban.registers.services import cancel_entry, register_incoming, register_outgoing

pytestmark = pytest.mark.django_db
THIS_YEAR = dt.datetime.now(BANGKOK).year
BE = THIS_YEAR + 543


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(THIS_YEAR, month, day, hour, tzinfo=BANGKOK)


def send(org: Organisation, subject: str, when: dt.datetime, recipient: str = "กระทรวงมหาดไทย") -> None:
    register_outgoing(
        org.pk, BookKind.SEND, letter_code=org.letter_code, at=when,
        fields=EntryFields(subject=subject, sender=org.name_th, recipient=recipient),
    )


@pytest.fixture
def client_of(clerk: Person) -> Client:
    client = Client()
    client.force_login(clerk)
    return client


@pytest.fixture
def other_org(ministry: Organisation) -> Organisation:
    return create_organisation(
        identifier="dla", kind="department", name_th="กรมส่งเสริมการปกครองท้องถิ่น", letter_code="มท 0810",
    )


def test_page_renders_the_send_register_of_the_acting_organisation(client_of: Client, agency: Organisation) -> None:
    send(agency, "ขอเชิญประชุมคณะกรรมการ", at(1, 5))
    response = client_of.get("/registers/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "ทะเบียนหนังสือส่ง" in page and f"ปี พ.ศ. {BE}" in page
    assert "ขอเชิญประชุมคณะกรรมการ" in page and "นร 0105/1" in page
    assert f"5 ม.ค. {BE}" in page
    assert "เลขทะเบียนส่ง" in page
    assert "ทะเบียนหนังสือส่ง (ลับ)" in page  # a central clerk sees the classified books


def test_another_organisation_is_404_and_not_offered(client_of: Client, other_org: Organisation) -> None:
    send(other_org, "เรื่องลับของกรมอื่น", at(2, 1))
    assert client_of.get(f"/registers/?org={other_org.pk}").status_code == 404
    assert client_of.get(f"/registers/export/?org={other_org.pk}&format=csv").status_code == 404
    assert client_of.get("/registers/?org=abc").status_code == 404
    page = client_of.get("/registers/").content.decode()
    assert "กรมส่งเสริมการปกครองท้องถิ่น" not in page and "เรื่องลับของกรมอื่น" not in page


def test_classified_registers_only_for_central_clerks(agency: Organisation) -> None:
    officer = create_person(username="officer", name_th="นายสมชาย ทำงาน", password=None)
    assign_role(officer, agency, "officer")
    client = Client()
    client.force_login(officer)
    page = client.get("/registers/").content.decode()
    assert "ทะเบียนหนังสือส่ง (ลับ)" not in page
    assert client.get("/registers/?kind=send_classified").status_code == 404


def test_search_by_text_number_and_date_range(client_of: Client, agency: Organisation) -> None:
    send(agency, "ขอเชิญประชุม", at(1, 5))
    send(agency, "รายงานงบประมาณ", at(2, 10), recipient="สำนักงบประมาณ")
    send(agency, "ขออนุมัติเดินทาง", at(3, 15))
    page = client_of.get("/registers/", {"q": "งบประมาณ"}).content.decode()
    assert "รายงานงบประมาณ" in page and "ขอเชิญประชุม" not in page and "ขออนุมัติเดินทาง" not in page
    page = client_of.get("/registers/", {"q": "สำนักงบ"}).content.decode()  # recipient
    assert "รายงานงบประมาณ" in page
    page = client_of.get("/registers/", {"number": "๓"}).content.decode()  # Thai digits
    assert "ขออนุมัติเดินทาง" in page and "ขอเชิญประชุม" not in page
    page = client_of.get("/registers/", {"date_from": f"1/2/{BE}", "date_to": f"28/2/{BE}"}).content.decode()
    assert "รายงานงบประมาณ" in page and "ขอเชิญประชุม" not in page and "ขออนุมัติเดินทาง" not in page


def test_year_chooses_the_book(client_of: Client, agency: Organisation) -> None:
    send(agency, "หนังสือปีก่อน", dt.datetime(THIS_YEAR - 1, 12, 30, 10, tzinfo=BANGKOK))
    send(agency, "หนังสือปีนี้", at(1, 2))
    page = client_of.get("/registers/").content.decode()
    assert "หนังสือปีนี้" in page and "หนังสือปีก่อน" not in page
    page = client_of.get("/registers/", {"year": str(BE - 1)}).content.decode()
    assert "หนังสือปีก่อน" in page and "หนังสือปีนี้" not in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "31/2/2569"}, "ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ."),
        ({"date_from": "abc"}, "ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ."),
        ({"date_to": "1/1/2026"}, "ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ."),
        ({"date_from": "2/1/2569", "date_to": "1/1/2569"}, "วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น"),
        ({"date_from": "1/12/2568", "date_to": "1/1/2569"}, "ค้นหาได้ครั้งละหนึ่งปี"),
        ({"number": "12a"}, "เลขทะเบียนต้องเป็นตัวเลข"),
        ({"year": "99999"}, "ปี พ.ศ. ต้องเป็นตัวเลขสี่หลัก"),
    ],
)
def test_bad_input_is_a_form_error_not_a_crash(
    client_of: Client, agency: Organisation, params: dict[str, str], message: str
) -> None:
    response = client_of.get("/registers/", params)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "Traceback" not in page


def test_bad_date_in_english(client_of: Client, agency: Organisation) -> None:
    client_of.cookies["saraban_lang"] = "en"
    page = client_of.get("/registers/", {"date_from": "32/1/2569"}).content.decode()
    assert "is not a date day/month/Buddhist year" in page


def test_keyset_paging_newest_first(client_of: Client, agency: Organisation) -> None:
    for i in range(120):
        send(agency, f"เรื่องที่ {i + 1:03d}", at(1, 1) + dt.timedelta(hours=i))
    first = client_of.get("/registers/")
    rows = first.context["rows"]
    assert [r.number for r in rows][:2] == [120, 119] and len(rows) == 50
    assert first.context["total"] == 120 and first.context["newer"] is None and first.context["older"] == 71
    second = client_of.get("/registers/", {"before": 71})
    assert second.context["rows"][0].number == 70
    assert second.context["newer"] == 70 and second.context["older"] == 21
    last = client_of.get("/registers/", {"before": 21})
    assert [r.number for r in last.context["rows"]] == list(range(20, 0, -1)) and last.context["older"] is None
    back = client_of.get("/registers/", {"after": 70})
    assert back.context["rows"][0].number == 120 and back.context["newer"] is None


def test_cancelled_entries_are_marked(client_of: Client, agency: Organisation) -> None:
    send(agency, "หนังสือที่ยกเลิก", at(1, 5))
    cancel_entry(RegisterEntry.objects.get(), reason="ออกเลขซ้ำ")
    page = client_of.get("/registers/").content.decode()
    assert 'class="cancelled"' in page and "badge-cancel" in page and "ยกเลิก" in page and "ออกเลขซ้ำ" in page


def test_receive_register(client_of: Client, agency: Organisation) -> None:
    register_incoming(agency.pk, classified=False, at=at(4, 1), fields=EntryFields(
        letter_number="มท 0810/123", sender="กรมส่งเสริมการปกครองท้องถิ่น", subject="แจ้งเวียนหนังสือ",
    ))
    page = client_of.get("/registers/", {"kind": "receive"}).content.decode()
    assert "ทะเบียนหนังสือรับ" in page and "เลขทะเบียนรับ" in page and "มท 0810/123" in page


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("csv", "text/csv; charset=utf-8", b"\xef\xbb\xbf"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ],
)
def test_export_downloads(client_of: Client, agency: Organisation, fmt: str, content_type: str, magic: bytes) -> None:
    send(agency, "หนังสือเดือนพฤศจิกายน", at(11, 3))
    response = client_of.get(
        "/registers/export/", {"kind": "send", "date_from": f"1/11/{BE}", "date_to": f"30/11/{BE}", "format": fmt}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="send-{BE}-11.{fmt}"'
    assert response.content.startswith(magic)
    if fmt == "csv":
        assert "หนังสือเดือนพฤศจิกายน" in response.content.decode("utf-8-sig")


@pytest.mark.pdf
def test_export_pdf(client_of: Client, agency: Organisation) -> None:
    send(agency, "หนังสือทดสอบ", at(1, 3))
    response = client_of.get("/registers/export/", {"format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="send-{BE}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_export_with_bad_input_goes_back_with_a_message(client_of: Client, agency: Organisation) -> None:
    response = client_of.get("/registers/export/", {"format": "doc"}, follow=True)
    assert response.status_code == 200
    assert "ส่งออกไม่ได้" in response.content.decode()
    response = client_of.get("/registers/export/", {"format": "csv", "date_from": "x"}, follow=True)
    assert "ส่งออกไม่ได้" in response.content.decode()


def test_page_weighs_less_than_300_kb(client_of: Client, agency: Organisation) -> None:
    from django.contrib.staticfiles import finders

    for i in range(60):
        send(agency, "ขอเชิญประชุมคณะกรรมการพัฒนาระบบราชการ " * 5 + str(i), at(1, 1) + dt.timedelta(hours=i),
             recipient="สำนักงานคณะกรรมการพัฒนาระบบราชการ " * 3)
    html = client_of.get("/registers/").content
    assets = 0
    for name in ("web/saraban.css", "vendor/htmx.min.js"):
        found = finders.find(name)
        assert found, name
        with open(found, "rb") as handle:
            assets += len(handle.read())
    assert len(html) + assets < 300 * 1024
