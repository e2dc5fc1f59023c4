"""The quarterly report: fiscal quarters, exact figures on a small dataset, the PDF, the XLSX, the charts."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from saraban.core.thai import BANGKOK
from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person, Province
from saraban.directory.services import create_organisation, create_person, load_provinces
from saraban.documents.models import StoredFile
from saraban.exchange.models import Dispatch
from saraban.rollout import charts, services
from saraban.rollout.demo import create_readiness_survey
from saraban.rollout.imports import import_answers
from saraban.rollout.report import Quarter, build_report, parse_quarter, quarter_of, report_pdf, report_xlsx
from saraban.signatures.models import Signature

TODAY = dt.date(2026, 11, 15)
GOOD = ("organisation,system,staff,certificates,computers,scanner,internet,skills,budget,pilot,support,remarks\n"
        "sao-a,dga,3,1,enough,ใช่,fibre,trained,own,yes,training;budget,ดี\n"
        "sao-b,none,๒,0,lacking,no,limited,none,none,ไม่ใช่,,\n")


# --- fiscal quarters (pure) -----------------------------------------------------------------------

def test_fiscal_quarters_start_on_the_first_of_october() -> None:
    q1 = Quarter(2570, 1)
    assert (q1.start, q1.end) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert (Quarter(2570, 2).start, Quarter(2570, 2).end) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    assert (Quarter(2570, 3).start, Quarter(2570, 3).end) == (dt.date(2027, 4, 1), dt.date(2027, 6, 30))
    assert (Quarter(2570, 4).start, Quarter(2570, 4).end) == (dt.date(2027, 7, 1), dt.date(2027, 9, 30))
    assert q1.label == "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570"
    assert q1.span == "ตุลาคม 2569 – ธันวาคม 2569"
    assert q1.months == [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]


def test_the_quarter_of_a_day_across_the_fiscal_year_boundary() -> None:
    assert quarter_of(dt.date(2026, 9, 30)) == Quarter(2569, 4)
    assert quarter_of(dt.date(2026, 10, 1)) == Quarter(2570, 1)
    assert quarter_of(dt.date(2026, 12, 31)) == Quarter(2570, 1)
    assert quarter_of(dt.date(2027, 1, 1)) == Quarter(2570, 2)
    assert quarter_of(dt.date(2027, 6, 30)) == Quarter(2570, 3)
    assert quarter_of(dt.date(2027, 7, 1)) == Quarter(2570, 4)
    assert Quarter(2570, 1).previous() == Quarter(2569, 4)
    assert Quarter(2570, 3).previous() == Quarter(2570, 2)


def test_parse_quarter() -> None:
    assert parse_quarter("2570-1") == Quarter(2570, 1)
    assert parse_quarter(" 2566-4 ").code == "2566-4"
    assert parse_quarter("", today=dt.date(2027, 2, 14)) == Quarter(2570, 2)
    for bad in ("2570-5", "2570", "70-1", "2026-1x", "9999-1"):
        with pytest.raises(ValueError):
            parse_quarter(bad)


def test_axis_months_are_buddhist_era() -> None:
    assert charts.month_label(dt.date(2027, 1, 1)) == "ม.ค. 70"
    assert charts.month_label(dt.date(2026, 12, 1)) == "ธ.ค. 69"
    months = charts.last_months(dt.date(2027, 2, 10))
    assert len(months) == 12 and months[0] == dt.date(2026, 3, 1) and months[-1] == dt.date(2027, 2, 1)


def test_svg_charts_are_accessible() -> None:
    svg = charts.bar_chart("หนังสือรายเดือน", ["ม.ค. 70", "ก.พ. 70"], [3, 0], slug="t")
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert ">3<" in svg and "ม.ค. 70: 3" in svg
    line = charts.line_chart("PKI", ["ม.ค. 70"], [0.0], slug="p", unit="%", note="ยังไม่มี")
    assert ">0%<" in line and "ยังไม่มี" in line
    stacked = charts.readiness_chart("พร้อม", [("อปท.", {"high": 2, "low": 1})],
                                     {"high": "มาก", "medium": "กลาง", "low": "น้อย"})
    assert "url(#ro-solid)" in stacked and "url(#ro-dots)" in stacked  # patterns, not colour alone
    assert "อปท.: มาก 2, กลาง 0, น้อย 1" in stacked


# --- a small known dataset ------------------------------------------------------------------------

def _aware(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=BANGKOK)


def _letter(org: Organisation, author: Person, created: dt.datetime) -> Letter:
    letter = Letter.objects.create(organisation=org, content={}, type="external", subject="ทดสอบ", created_by=author)
    Letter.objects.filter(pk=letter.pk).update(created_at=created)
    return letter


@pytest.fixture
def dataset(db: None) -> dict[str, Organisation]:
    load_provinces()
    services.ensure_defaults()
    province = Province.objects.order_by("code").first()
    assert province is not None
    a = create_organisation(identifier="sao-a", kind="sao", name_th="องค์การบริหารส่วนตำบลบ้านใหม่", category="lao")
    b = create_organisation(identifier="sao-b", kind="sao", name_th="องค์การบริหารส่วนตำบลหนองแก้ว", category="lao")
    Organisation.objects.filter(pk__in=[a.pk, b.pk]).update(province=province)
    a.refresh_from_db()
    survey = create_readiness_survey(title="แบบสำรวจทดสอบ")
    assert import_answers(survey, GOOD.encode()).ok
    services.set_participant(a, ready=True, pilot=True)
    services.set_participant(b, ready=True)
    # certificates: one lapses with no budget, one is paid for, one awaits a fund, one is beyond 12 months
    services.report_certificate(a, holder="นายก อบต.", provider="TDID", expires_on=dt.date(2027, 1, 10),
                                yearly_cost=1200, budget_source="none")
    services.report_certificate(a, holder="ปลัด อบต.", provider="INET CA", expires_on=dt.date(2027, 2, 1),
                                yearly_cost=800, budget_source="own")
    services.report_certificate(b, holder="นายก อบต.", provider="NT CA", expires_on=dt.date(2026, 12, 20),
                                yearly_cost=500, budget_source="de_fund")
    services.report_certificate(b, holder="ปลัด อบต.", provider="NT CA", expires_on=dt.date(2028, 1, 1),
                                yearly_cost=500, budget_source="none")
    services.draft_fund_application(b, purpose="ค่าเช่าใบรับรอง", amount=5000)
    approved = services.draft_fund_application(b, purpose="ระบบสารบรรณ", amount=8000)
    services.set_fund_status(approved, "submitted", on=dt.date(2026, 10, 5))
    services.set_fund_status(approved, "approved", on=dt.date(2026, 11, 1))
    # a roadshow event in the quarter (A came, B did not) and one in the next quarter
    roadshow = services.create_roadshow("โรดโชว์ทดสอบ", [province], dt.date(2026, 10, 1), dt.date(2027, 3, 31))
    event = services.add_event(roadshow, title="โรดโชว์ครั้งที่ 1", date=dt.date(2026, 10, 20), province=province,
                               place="ศาลากลางจังหวัด")
    services.invite_to_event(event, [a, b])
    services.record_attendance(event, a, True)
    services.record_attendance(event, b, False)
    services.add_event(roadshow, title="โรดโชว์ครั้งที่ 2", date=dt.date(2027, 1, 20), online=True)
    # Saraban's own data: letters, dispatches and signatures
    author = create_person(username="author", name_th="นายผู้เขียน หนังสือ", password=None)
    _letter(a, author, _aware(2026, 10, 3))
    first = _letter(a, author, _aware(2026, 11, 1, 3))  # 31 Oct 20:00 UTC: November in Bangkok
    _letter(b, author, _aware(2026, 11, 12))
    for n, when in enumerate([_aware(2026, 11, 2), _aware(2026, 11, 3), _aware(2026, 11, 4), _aware(2026, 9, 9)]):
        recipient = create_organisation(identifier=f"r{n}", kind="department", name_th=f"กรมทดสอบ {n}")
        Dispatch.objects.create(letter=first, recipient=recipient, sent_at=when, status_at=when)
    pdf = StoredFile.objects.create(sha256="0" * 64, size=1, content_type="application/pdf")
    for method in ("typed_name", "pades"):
        Signature.objects.create(letter=first, signer=author, role="signer", position_title="นายก",
                                 method=method, signed_at=_aware(2026, 11, 5), pdf_sha256="0" * 64, pdf=pdf)
    return {"a": a, "b": b}


@pytest.mark.django_db
def test_chart_series_come_from_letters_dispatches_and_signatures(dataset: dict[str, Organisation]) -> None:
    series = charts.adoption(TODAY)
    assert series.months[-1] == dt.date(2026, 11, 1) and len(series.months) == 12
    assert series.agencies_active[-3:] == [0, 1, 2]  # Sep, Oct, Nov
    assert series.dispatches[-3:] == [1, 0, 3]
    assert series.signatures[-1] == 2 and series.pki_signatures[-1] == 1
    assert series.pki_percent[-1] == 50.0 and series.pki_percent[-2] == 0.0
    assert series.labels[-1] == "พ.ย. 69"


@pytest.mark.django_db
def test_report_figures_on_a_known_dataset(dataset: dict[str, Organisation]) -> None:
    report = build_report(Quarter(2570, 1), today=TODAY)
    assert report.as_of == TODAY
    assert report.title == "รายงานความก้าวหน้าการขับเคลื่อนการใช้ระบบ e-Document ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570"
    readiness = report.table("readiness").rows
    assert readiness[-1][0] == "รวม" and readiness[-1][2] == 2
    lapses = report.table("lapses")
    assert len(lapses.rows) == 1
    assert lapses.rows[0][:2] == ["องค์การบริหารส่วนตำบลบ้านใหม่", Province.objects.order_by("code")[0].name_th]
    assert lapses.rows[0][4] == 56 and lapses.rows[0][5] == Decimal("1200.00")
    assert "1 ใบ ของ 1 หน่วยงาน ค่าเช่ารวม 1,200 บาทต่อปี" in lapses.note
    funds = report.table("funds")
    assert [(r[2], r[3]) for r in funds.rows] == [(Decimal("8000.00"), "อนุมัติ"), (Decimal("5000.00"), "ร่าง")]
    assert "อนุมัติ 1 คำขอ (8,000 บาท)" in funds.note
    roadshow = report.table("roadshow").rows
    assert len(roadshow) == 2  # the event in the quarter and the total; the next quarter's is not there
    assert roadshow[0][4:8] == [2, 1, 0, 1] and roadshow[-1][0] == "รวม"  # A came, and has sent a letter
    adoption = report.table("adoption").rows
    assert adoption[-1] == ["พฤศจิกายน 2569 *", 2, 3, 2, 1, "50.0%"]
    assert adoption[-2] == ["ตุลาคม 2569 *", 1, 0, 0, 0, "0.0%"]
    assert adoption[-3][0] == "กันยายน 2569"
    headline = dict(report.headline)
    assert headline["หน่วยงานที่พร้อมเข้าร่วม"] == "2 แห่ง"
    assert headline["หนังสือที่ส่งทางอิเล็กทรอนิกส์ในไตรมาส"] == "3 ฉบับ"
    assert headline["คำขอกองทุนดีอีที่อนุมัติแล้ว"] == "1 คำขอ 8,000 บาท"
    past = build_report(Quarter(2569, 4), today=TODAY)
    assert past.as_of == dt.date(2026, 9, 30) and past.table("roadshow").rows == []
    assert past.table("adoption").rows[-1] == ["กันยายน 2569 *", 0, 1, 0, 0, "0.0%"]


@pytest.mark.django_db
def test_pdf_has_the_title_and_a_table_value(dataset: dict[str, Organisation]) -> None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext (poppler-utils) is not installed")
    pdf = report_pdf(build_report(Quarter(2570, 1), today=TODAY))
    assert pdf.startswith(b"%PDF")
    text = subprocess.run([pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text.decode("utf-8"))
    assert "รายงานความก้าวหน้าการขับเคลื่อนการใช้ระบบ e-Document" in flat
    assert "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570" in flat
    assert "องค์การบริหารส่วนตำบลบ้านใหม่" in flat and "1,200" in flat and "8,000" in flat


@pytest.mark.django_db
def test_xlsx_has_a_sheet_per_table_with_thai_headers(dataset: dict[str, Organisation]) -> None:
    report = build_report(Quarter(2570, 1), today=TODAY)
    book = load_workbook(io.BytesIO(report_xlsx(report)))
    assert book.sheetnames == ["สรุป", "ความพร้อมรายกลุ่ม", "ความต้องการและผู้สนับสนุน", "ใบรับรองไม่มีงบ",
                               "กองทุนดีอี", "โรดโชว์", "กิจกรรมซ้ำซ้อน", "การใช้งาน"]
    sheet = book["ใบรับรองไม่มีงบ"]
    assert [c.value for c in sheet[1]][:4] == ["หน่วยงาน", "จังหวัด", "ผู้ให้บริการ (CA)", "วันหมดอายุ"]
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["A"].width > 30
    assert sheet["A2"].value == "องค์การบริหารส่วนตำบลบ้านใหม่" and sheet["F2"].value == 1200
    assert book["สรุป"]["A1"].value == report.title


@pytest.mark.django_db
def test_the_report_is_for_members_only(dataset: dict[str, Organisation]) -> None:
    outsider = create_person(username="outsider", name_th="นายคนนอก ทั่วไป", password=None)
    partner = create_person(username="partner", name_th="นางภาคี ร่วมมือ", password=None)
    services.add_member(partner, "partner")
    client = Client()
    assert client.get("/programme/report/").status_code == 302
    client.force_login(outsider)
    for url in ("/programme/report/", "/programme/report.pdf", "/programme/report.xlsx"):
        assert client.get(url).status_code == 403, url
    client.force_login(partner)
    page = client.get("/programme/report/?quarter=2570-1")
    assert page.status_code == 200
    assert "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570" in page.content.decode()
    assert "/programme/report.pdf?quarter=2570-1" in page.content.decode()
    assert client.get("/programme/report.xlsx?quarter=2570-1").content[:2] == b"PK"
    assert client.get("/programme/report.pdf?quarter=nonsense").status_code == 404
    assert client.get("/programme/report/?quarter=nonsense").status_code == 200
    dashboard = client.get("/programme/").content.decode()
    assert dashboard.count('role="img"') >= 5  # the map and the four charts
    assert "สัดส่วนการลงนามด้วยใบรับรองอิเล็กทรอนิกส์ (PKI)" in dashboard


@pytest.mark.django_db
def test_the_quarters_to_choose_go_back_to_the_first_data(dataset: dict[str, Organisation]) -> None:
    from saraban.rollout.report import available_quarters

    quarters = available_quarters(dt.date(2027, 5, 1))
    # the first data is in 2570-1 (the roadshow): three quarters, padded to the minimum of four
    assert quarters == [Quarter(2570, 3), Quarter(2570, 2), Quarter(2570, 1), Quarter(2569, 4)]
