"""The programme console in the browser: dashboard (map and charts), groups, certificates, outreach, report."""

from __future__ import annotations

import pytest
from django.utils import timezone

from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import load_provinces
from saraban.exchange.models import Dispatch
from saraban.rollout.demo import load_rollout_demo

from .conftest import shot

PASSWORD = "x-Pass-1234"


def _some_letters() -> None:
    """Three agencies write this month and two letters go out electronically, so the charts have bars."""
    author = Person.objects.get(username="pmdu.office")
    orgs = list(Organisation.objects.filter(category="lao").order_by("pk")[:3])
    now = timezone.now()
    for org in orgs:
        letter = Letter.objects.create(organisation=org, content={}, type="external", subject="ทดสอบ",
                                       created_by=author)
        for recipient in orgs[:2]:
            if recipient != org:
                Dispatch.objects.create(letter=letter, recipient=recipient, sent_at=now, status_at=now)


@pytest.mark.django_db(transaction=True)
def test_the_programme_office_opens_the_dashboard_and_downloads_the_report(live_server: object, page: object) -> None:
    load_provinces()
    assert load_rollout_demo(PASSWORD)
    _some_letters()
    url = live_server.url  # type: ignore[attr-defined]
    page.goto(f"{url}/accounts/login/?next=/programme/")  # type: ignore[attr-defined]
    page.fill("input[name=username]", "pmdu.office")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/programme/")  # type: ignore[attr-defined]

    assert page.locator("svg path[data-code]").count() == 77  # type: ignore[attr-defined]
    charts = page.locator("figure.chart svg[role=img]")  # type: ignore[attr-defined]
    assert charts.count() == 4
    for i in range(4):
        assert charts.nth(i).is_visible()
    assert "ม.ค." in page.content()  # type: ignore[attr-defined]
    assert "ผลสำรวจ: ระดับความพร้อมรายกลุ่มหน่วยงาน" in page.content()  # type: ignore[attr-defined]
    shot(page, "40-programme-dashboard")

    page.click("text=กลุ่ม ความต้องการ และผู้สนับสนุน")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/programme/groups/")  # type: ignore[attr-defined]
    shot(page, "41-programme-groups")
    page.click(".ro-nav >> text=ใบรับรองที่จะหมดอายุ")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/programme/certificates/")  # type: ignore[attr-defined]
    shot(page, "42-programme-certificates")
    page.click(".ro-nav >> text=ปฏิทินประชาสัมพันธ์และกิจกรรมซ้ำซ้อน")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/programme/outreach/")  # type: ignore[attr-defined]
    shot(page, "43-programme-outreach")

    page.click(".ro-nav >> text=รายงานรายไตรมาส")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/programme/report/")  # type: ignore[attr-defined]
    page.select_option("select[name=quarter]", "2566-2")  # type: ignore[attr-defined]
    page.click("text=แสดง")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/programme/report/?quarter=2566-2")  # type: ignore[attr-defined]
    content = page.content()  # type: ignore[attr-defined]
    assert "ไตรมาสที่ 2 ปีงบประมาณ พ.ศ. 2566" in content and "โรดโชว์" in content
    shot(page, "44-programme-report")
    link = page.get_attribute("a:has-text('ดาวน์โหลด PDF')", "href")  # type: ignore[attr-defined]
    assert link == "/programme/report.pdf?quarter=2566-2"
    response = page.request.get(f"{url}{link}")  # type: ignore[attr-defined]
    assert response.ok and response.body().startswith(b"%PDF")
    xlsx = page.request.get(f"{url}/programme/report.xlsx?quarter=2566-2")  # type: ignore[attr-defined]
    assert xlsx.ok and xlsx.body()[:2] == b"PK"
