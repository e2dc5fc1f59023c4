"""Imports, the survey link, permissions and the demo loader, against the database."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from saraban.directory.models import Organisation, Person
from saraban.directory.services import create_person, load_provinces
from saraban.rollout import selectors, services
from saraban.rollout.demo import create_readiness_survey, load_rollout_demo
from saraban.rollout.imports import import_answers
from saraban.rollout.models import Answer, GroupingRule, Participant, Question, Survey, SurveyResponse

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(db: None) -> Survey:
    return create_readiness_survey(title="แบบสำรวจทดสอบ")


@pytest.fixture
def laos(db: None) -> list[Organisation]:
    return [
        services_org("sao-a", "องค์การบริหารส่วนตำบลบ้านใหม่"),
        services_org("sao-b", "องค์การบริหารส่วนตำบลหนองแก้ว"),
    ]


def services_org(identifier: str, name: str) -> Organisation:
    from saraban.directory.services import create_organisation

    return create_organisation(identifier=identifier, kind="sao", name_th=name, category="lao")


GOOD = ("organisation,system,staff,certificates,computers,scanner,internet,skills,budget,pilot,support,remarks\n"
        "sao-a,dga,3,1,enough,ใช่,fibre,trained,own,yes,training;budget,ดี\n"
        "sao-b,none,๒,0,lacking,no,limited,none,none,ไม่ใช่,,\n")


def test_good_csv_is_imported_and_scored(survey: Survey, laos: list[Organisation]) -> None:
    report = import_answers(survey, GOOD.encode("utf-8-sig"))
    assert report.ok, report.problems
    assert report.created == 2
    scores = selectors.agency_scores(survey)
    a, b = scores[laos[0].pk], scores[laos[1].pk]
    assert a.points == sum(c.points for c in a.contributions)
    assert a.percent > b.percent
    assert "budget" in a.needs and "infrastructure" in b.needs
    again = import_answers(survey, GOOD.encode())
    assert again.ok and again.updated == 2 and SurveyResponse.objects.count() == 2


def test_bad_csv_reports_every_row_and_writes_nothing(survey: Survey, laos: list[Organisation]) -> None:
    bad = ("organisation,system,staff,scanner,support\n"
           "sao-a,dga,3,yes,training\n"
           "nobody,dga,3,yes,\n"
           "sao-b,spaceship,-1,perhaps,flying\n"
           "sao-a,own,1,no,\n")
    report = import_answers(survey, bad.encode())
    assert not report.ok
    where = {(p.line, p.column) for p in report.problems}
    assert {(3, "organisation"), (4, "system"), (4, "staff"), (4, "scanner"), (4, "support"),
            (5, "organisation")} <= where
    assert all(p.message_th and p.message_en for p in report.problems)
    assert SurveyResponse.objects.count() == 0 and Answer.objects.count() == 0


def test_unknown_columns_and_missing_organisation_column(survey: Survey) -> None:
    report = import_answers(survey, b"org,colour\nx,red\n")
    assert {p.column for p in report.problems} == {"organisation", "org, colour"}


def test_non_utf8_file_is_refused(survey: Survey, laos: list[Organisation]) -> None:
    report = import_answers(survey, GOOD.encode("tis-620"))
    assert not report.ok and "UTF-8" in report.problems[0].message_en
    assert SurveyResponse.objects.count() == 0


def test_xlsx_import_with_row_numbers(survey: Survey, laos: list[Organisation]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["organisation", "system", "staff", "pilot"])
    sheet.append(["sao-a", "vendor", 4, "yes"])
    sheet.append(["sao-b", "own", 2, "no"])
    out = io.BytesIO()
    book.save(out)
    report = import_answers(survey, out.getvalue())
    assert report.ok and report.created == 2
    sheet.append(["sao-c", "own", "many", "no"])
    out = io.BytesIO()
    book.save(out)
    SurveyResponse.objects.all().delete()
    report = import_answers(survey, out.getvalue())
    assert {(p.line, p.column) for p in report.problems} == {(4, "organisation"), (4, "staff")}
    assert SurveyResponse.objects.count() == 0


def test_edited_weights_and_rules_change_scores_and_groups(survey: Survey, laos: list[Organisation]) -> None:
    services.ensure_defaults()
    assert import_answers(survey, GOOD.encode()).ok
    before = selectors.agency_scores(survey)[laos[0].pk].points
    question = Question.objects.get(survey=survey, code="system")
    options = [dict(o, weight=30 if o["value"] == "dga" else o["weight"]) for o in question.options]
    services.update_question(question, options=options)
    assert selectors.agency_scores(survey)[laos[0].pk].points == before + 20
    levels = {r.level: r.size for r in selectors.group_table(survey).rows}
    services.set_grouping_rules({"high": 99.5, "medium": 99, "low": 0})
    after = {r.level: r.size for r in selectors.group_table(survey).rows}
    assert after == {"low": 2} and levels != after
    assert GroupingRule.objects.get(level="high").min_percent == 99.5


def test_survey_link_valid_reused_expired_unknown(survey: Survey, laos: list[Organisation]) -> None:
    invitation, token = services.invite(survey, laos[0])
    assert token not in invitation.token_hash
    client = Client()
    url = f"/programme/survey/{token}/"
    page = client.get(url)
    assert page.status_code == 200 and "องค์การบริหารส่วนตำบลบ้านใหม่" in page.content.decode()
    wrong = client.post(url, {"system": "dga", "staff": "abc"})
    assert wrong.status_code == 400 and "ไม่ใช่ตัวเลข" in wrong.content.decode()
    done = client.post(url, {"system": "dga", "staff": "4", "support": ["training", "budget"], "pilot": "yes"})
    assert done.status_code == 200
    response = SurveyResponse.objects.get(organisation=laos[0])
    assert dict(response.answers.values_list("question__code", "value"))["support"] == ["training", "budget"]
    reused = client.get(url)
    assert reused.status_code == 410 and "ส่งคำตอบแล้ว" in reused.content.decode()
    assert client.post(url, {"system": "none"}).status_code == 410
    services.reopen_invitation(invitation)
    assert client.get(url).status_code == 200
    invitation.refresh_from_db()
    invitation.expires_at = timezone.now() - dt.timedelta(minutes=1)
    invitation.save()
    expired = client.get(url)
    assert expired.status_code == 410 and "หมดอายุ" in expired.content.decode()
    unknown = client.get("/programme/survey/not-a-real-token/")
    assert unknown.status_code == 404 and "ไม่พบลิงก์" in unknown.content.decode()


CONSOLE = ["/programme/", "/programme/groups/", "/programme/certificates/", "/programme/outreach/",
           "/programme/map.svg"]


def test_console_is_for_members_only(survey: Survey, laos: list[Organisation]) -> None:
    outsider = create_person(username="outsider", name_th="นายคนนอก ทั่วไป", password=None)
    anonymous = Client()
    assert anonymous.get("/programme/").status_code == 302
    client = Client()
    client.force_login(outsider)
    for url in [*CONSOLE, f"/programme/agencies/{laos[0].pk}/"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/programme/groups/", {"high": 1, "medium": 0.5, "low": 0}).status_code == 403
    assert "/programme/" not in client.get("/registers/").content.decode()


def test_partners_read_and_only_the_office_edits(survey: Survey, laos: list[Organisation]) -> None:
    services.ensure_defaults()
    assert import_answers(survey, GOOD.encode()).ok
    partner = create_person(username="partner", name_th="นางภาคี ร่วมมือ", password=None)
    services.add_member(partner, "partner")
    client = Client()
    client.force_login(partner)
    for url in [*CONSOLE, f"/programme/agencies/{laos[0].pk}/"]:
        assert client.get(url).status_code == 200, url
    client.post("/programme/groups/", {"high": 90, "medium": 50, "low": 0})
    assert GroupingRule.objects.get(level="high").min_percent == 70
    office = create_person(username="office", name_th="นางสาวสำนักงาน โครงการ", password=None)
    services.add_member(office, "office")
    client.force_login(office)
    client.post("/programme/groups/", {"high": 90, "medium": 50, "low": 0})
    assert GroupingRule.objects.get(level="high").min_percent == 90


def test_demo_loader_counts(db: None) -> None:
    load_provinces()
    assert load_rollout_demo("x-Pass-1234", today=dt.date(2026, 5, 1))
    ready = Participant.objects.filter(ready=True).select_related("organisation")
    laos = [p.organisation for p in ready if p.organisation.category == "lao"]
    others = [p.organisation for p in ready if p.organisation.category != "lao"]
    assert len(laos) == 350 and len({o.province_id for o in laos}) == 59
    assert len(others) == 26
    assert all(o.is_lao for o in laos)
    assert sum(p.pilot for p in ready) > 0
    assert SurveyResponse.objects.count() == 376
    assert not load_rollout_demo("x-Pass-1234")  # once
    assert selectors.outreach_overlaps()  # the OPDC plan meets the PMDU roadshow
    lapses = selectors.certificate_lapses(dt.date(2026, 5, 1))
    assert any(r.without_budget for r in lapses)
    client = Client()
    client.force_login(Person.objects.get(username="pmdu.office"))
    for url in CONSOLE:
        assert client.get(url).status_code == 200, url


def test_the_certificates_page_is_paged_searched_and_says_expired_not_minus_days(laos: list[Organisation]) -> None:
    """Issue 17 (programme console): 60 certificates are shown 50 a page; the search finds a holder or an
    agency; a certificate that expired 5 days ago reads "หมดอายุแล้ว 5 วัน", never "อีก -5 วัน"."""
    services.ensure_defaults()
    today = timezone.localdate()
    for n in range(59):
        services.report_certificate(laos[n % 2], holder=f"ผู้ถือที่ {n + 1:02d}", provider="TDID",
                                    expires_on=today + dt.timedelta(days=10 + n), yearly_cost=1000,
                                    budget_source="none")
    services.report_certificate(laos[1], holder="ปลัดที่หมดอายุแล้ว", provider="NT CA",
                                expires_on=today - dt.timedelta(days=5), yearly_cost=500, budget_source="own")
    office = create_person(username="office", name_th="นางสาวสำนักงาน โครงการ", password=None)
    services.add_member(office, "office")
    client = Client()
    client.force_login(office)
    first = client.get("/programme/certificates/").content.decode()
    assert first.count("<tr><td class=\"nowrap\">") == 50 and "หน้า 1 / 2" in first
    assert "หมดอายุแล้ว 5 วัน" in first and ">-5<" not in first  # sorted by expiry: the expired one comes first
    second = client.get("/programme/certificates/?page=2").content.decode()
    assert second.count("<tr><td class=\"nowrap\">") == 10 and "ผู้ถือที่ 59" in second
    found = client.get("/programme/certificates/", {"q": "ผู้ถือที่ 07"}).content.decode()
    assert found.count("<tr><td class=\"nowrap\">") == 1 and "ผู้ถือที่ 07" in found
    by_agency = client.get("/programme/certificates/", {"q": "หนองแก้ว"}).content.decode()
    assert by_agency.count("<tr><td class=\"nowrap\">") == 30
    nothing = client.get("/programme/certificates/", {"q": "ไม่มีแน่นอน"}).content.decode()
    assert "ไม่พบใบรับรองที่ตรงกับคำค้น" in nothing
    beyond = client.get("/programme/certificates/", {"page": "99"})
    assert beyond.status_code == 200 and "หน้า 2 / 2" in beyond.content.decode()
