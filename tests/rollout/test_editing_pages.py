"""The office's editing pages: roadshows, support requests, DE Fund applications, channels.

Partners read (200) and their posts change nothing; the office's posts change the data and are
audited; bad input is answered in Thai, never with a 500; people outside the programme get 403.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from saraban.audit.models import AuditEvent
from saraban.directory.models import Province
from saraban.directory.services import create_organisation, create_person, load_provinces
from saraban.rollout import services
from saraban.rollout.models import (
    EventInvitation,
    FundApplication,
    FundStatus,
    RequestStatus,
    RoadshowEvent,
    SupportProvider,
    SupportRequest,
)

pytestmark = pytest.mark.django_db
PAGES = ("/programme/roadshows/", "/programme/support/", "/programme/funds/", "/programme/channels/")


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    load_provinces()
    services.ensure_defaults()
    nonthaburi = Province.objects.get(name_th="นนทบุรี")
    far = Province.objects.get(name_th="เชียงใหม่")
    near = [create_organisation(identifier=f"sao-n{i}", kind="sao", name_th=f"อบต.ทดสอบนนท์ {i}", category="lao",
                                province=nonthaburi) for i in range(2)]
    away = create_organisation(identifier="sao-far", kind="sao", name_th="อบต.ทดสอบเชียงใหม่", category="lao",
                               province=far)
    for org in [*near, away]:
        services.set_participant(org, ready=True, pilot=org in near, ready_on=dt.date(2022, 11, 1))
    roadshow = services.create_roadshow("โรดโชว์นำร่อง 7 จังหวัด", [nonthaburi], dt.date(2022, 12, 1),
                                        dt.date(2023, 1, 31))
    channel = services.add_channel("สมาคมองค์การบริหารส่วนตำบลแห่งประเทศไทย", serves_kinds=["sao"])
    event = services.add_event(roadshow, title="เปิดตัวนนทบุรี", date=dt.date(2022, 12, 10), place="ศาลากลาง",
                               partner=channel)
    request = services.request_support(near[0], "training")
    application = services.draft_fund_application(near[0], purpose="ค่าเช่าใบรับรอง", amount=12000)
    services.send_channel_message(channel, "เชิญร่วมโรดโชว์นนทบุรี", near, sent_on=dt.date(2022, 11, 20))
    return {"near": near, "away": away, "roadshow": roadshow, "event": event, "channel": channel,
            "request": request, "application": application}


def _client(role: str | None) -> Client:
    person = create_person(username=f"user-{role}", name_th=f"ผู้ใช้ {role}", password=None)
    if role is not None:
        services.add_member(person, role)
    client = Client()
    client.force_login(person)
    return client


def _audits() -> int:
    return AuditEvent.objects.filter(action__startswith="rollout.").count()


def test_outsiders_are_refused_and_strangers_sent_to_sign_in(world: dict[str, Any]) -> None:
    outsider = _client(None)
    for page in PAGES:
        assert outsider.get(page).status_code == 403
        assert outsider.post(page, {"action": "create"}).status_code == 403
        assert Client().get(page).status_code == 302


def test_partners_read_every_page_and_their_posts_change_nothing(world: dict[str, Any]) -> None:
    partner = _client("partner")
    bodies = {page: partner.get(page) for page in PAGES}
    assert all(r.status_code == 200 for r in bodies.values())
    assert "เปิดตัวนนทบุรี" in bodies["/programme/roadshows/"].content.decode()
    assert "ค่าเช่าใบรับรอง" in bodies["/programme/funds/"].content.decode()
    channels = bodies["/programme/channels/"].content.decode()
    assert "เชิญร่วมโรดโชว์นนทบุรี" in channels and "อบต.ทดสอบนนท์ 1" in channels
    before = _audits()
    event, near = world["event"], world["near"]
    posts = [
        ("/programme/roadshows/", {"action": "event", "roadshow": world["roadshow"].pk, "title": "แอบเพิ่ม",
                                   "date": "1/1/2566", "place": "ที่ไหนก็ได้"}),
        ("/programme/roadshows/", {"action": "invite", "event": event.pk, "organisations": [near[0].pk]}),
        ("/programme/support/", {"action": "create", "organisation": near[1].pk, "need": "budget"}),
        ("/programme/support/", {"action": "status", "request": world["request"].pk, "status": "done"}),
        ("/programme/funds/", {"action": "status", "application": world["application"].pk, "status": "submitted"}),
        ("/programme/funds/", {"action": "amount", "application": world["application"].pk, "amount": "1"}),
    ]
    for page, data in posts:
        response = partner.post(page, data)
        assert response.status_code == 403
        assert "เฉพาะสำนักงานโครงการ" in response.content.decode()
    assert _audits() == before
    assert RoadshowEvent.objects.count() == 1 and EventInvitation.objects.count() == 0
    assert SupportRequest.objects.get().status == RequestStatus.OPEN
    app = FundApplication.objects.get()
    assert app.status == FundStatus.DRAFTED and app.amount == Decimal(12000)


def test_the_office_plans_a_roadshow(world: dict[str, Any]) -> None:
    office = _client("office")
    roadshow, event, near, away = world["roadshow"], world["event"], world["near"], world["away"]
    page = office.get("/programme/roadshows/").content.decode()
    assert near[1].name_th in page and away.name_th not in page  # only the roadshow's provinces are offered
    response = office.post("/programme/roadshows/", {
        "action": "event", "roadshow": roadshow.pk, "title": "อบรมออนไลน์", "date": "๑๕/๑๒/๒๕๖๕", "online": "on",
        "partner": world["channel"].pk, "infrastructure_support": "nt"})
    assert response.status_code == 302
    added = RoadshowEvent.objects.get(title="อบรมออนไลน์")
    assert added.date == dt.date(2022, 12, 15) and added.online and added.infrastructure_support == "nt"
    assert AuditEvent.objects.filter(action="rollout.event_added", object_id=str(added.pk)).exists()

    assert office.post("/programme/roadshows/", {
        "action": "invite", "event": event.pk, "organisations": [o.pk for o in near]}).status_code == 302
    assert EventInvitation.objects.filter(event=event).count() == 2
    assert AuditEvent.objects.filter(action="rollout.event_invitations").exists()
    refused = office.post("/programme/roadshows/", {
        "action": "invite", "event": event.pk, "organisations": [away.pk]})
    assert refused.status_code == 400 and "เชิญได้เฉพาะหน่วยงาน" in refused.content.decode()

    assert office.post("/programme/roadshows/", {
        "action": "attendance", "event": event.pk, f"attended_{near[0].pk}": "yes",
        f"attended_{near[1].pk}": "no"}).status_code == 302
    assert dict(EventInvitation.objects.values_list("organisation_id", "attended")) == {
        near[0].pk: True, near[1].pk: False}
    assert AuditEvent.objects.filter(action="rollout.attendance_recorded").count() == 2
    shown = office.get("/programme/roadshows/").content.decode()
    assert "ยังไม่ส่ง" in shown  # the first electronic letter: computed, none yet


@pytest.mark.parametrize("data, message", [
    ({"title": "งาน", "date": "31/2/2565", "place": "ที่ว่าการ"}, "ไม่ใช่วันที่"),
    ({"title": "งาน", "date": "15/12/2022", "place": "ที่ว่าการ"}, "ไม่ใช่วันที่"),
    ({"title": "งาน", "date": "", "place": "ที่ว่าการ"}, "ต้องระบุวันที่จัด"),
    ({"title": "", "date": "1/1/2566", "place": "ที่ว่าการ"}, "ต้องระบุชื่อกิจกรรม"),
    ({"title": "งาน", "date": "1/1/2566", "place": ""}, "ต้องระบุสถานที่"),
    ({"title": "งาน", "date": "1/1/2566", "place": "x", "province": "ZZ"}, "เลือกจังหวัด"),
    ({"title": "งาน", "date": "1/1/2566", "place": "x", "infrastructure_support": "rocket"}, "โครงสร้างพื้นฐาน"),
])
def test_bad_events_are_answered_in_thai(world: dict[str, Any], data: dict[str, str], message: str) -> None:
    office = _client("office")
    before = _audits()
    response = office.post("/programme/roadshows/", {"action": "event", "roadshow": world["roadshow"].pk, **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert RoadshowEvent.objects.count() == 1 and _audits() == before


def test_the_office_records_and_moves_support_requests(world: dict[str, Any]) -> None:
    office = _client("office")
    near = world["near"]
    nt = SupportProvider.objects.get(code="nt")
    response = office.post("/programme/support/", {
        "action": "create", "organisation": near[1].pk, "need": "infrastructure", "provider": nt.pk,
        "requested_on": "2/1/2566"})
    assert response.status_code == 302
    req = SupportRequest.objects.get(organisation=near[1])
    assert req.status == RequestStatus.ASSIGNED and req.provider == nt and req.requested_on == dt.date(2023, 1, 2)
    assert AuditEvent.objects.filter(action="rollout.support_requested", object_id=str(req.pk)).exists()
    assert office.post("/programme/support/", {
        "action": "status", "request": req.pk, "status": "done"}).status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.DONE and req.closed_on is not None
    assert AuditEvent.objects.filter(action="rollout.support_request_updated", object_id=str(req.pk)).exists()
    closed = office.post("/programme/support/", {"action": "status", "request": req.pk, "status": "open"})
    assert closed.status_code == 409 and "คำขอนี้ปิดแล้ว" in closed.content.decode()
    for data, message in [
        ({"action": "create", "organisation": world["away"].pk, "need": "flying"}, "เลือกความต้องการ"),
        ({"action": "create", "organisation": "abc", "need": "budget"}, "เลือกหน่วยงาน"),
        ({"action": "create", "organisation": near[0].pk, "need": "budget", "requested_on": "พรุ่งนี้"}, "ไม่ใช่วันที่"),
        ({"action": "status", "request": 99999, "status": "done"}, "ไม่พบคำขอนี้"),
        ({"action": "status", "request": world["request"].pk, "status": "lost"}, "เลือกสถานะ"),
    ]:
        response = office.post("/programme/support/", data)
        assert response.status_code == 400 and message in response.content.decode(), data
    assert SupportRequest.objects.count() == 2
    listed = office.get("/programme/support/?status=done").content.decode()
    assert near[1].name_th in listed and near[0].name_th not in listed.split("<tbody>")[1]


def test_the_office_moves_fund_applications_and_changes_amounts(world: dict[str, Any]) -> None:
    office = _client("office")
    app = world["application"]
    assert office.post("/programme/funds/", {
        "action": "amount", "application": app.pk, "amount": "15,500.50"}).status_code == 302
    app.refresh_from_db()
    assert app.amount == Decimal("15500.50")
    assert AuditEvent.objects.filter(action="rollout.fund_amount_set", object_id=str(app.pk)).exists()
    assert office.post("/programme/funds/", {
        "action": "status", "application": app.pk, "status": "submitted", "on": "5/1/2566"}).status_code == 302
    app.refresh_from_db()
    assert app.status == FundStatus.SUBMITTED and app.submitted_on == dt.date(2023, 1, 5)
    assert AuditEvent.objects.filter(action="rollout.fund_status_set", object_id=str(app.pk)).exists()
    wrong = office.post("/programme/funds/", {"action": "status", "application": app.pk, "status": "drafted"})
    assert wrong.status_code == 409 and "เปลี่ยนสถานะ" in wrong.content.decode()
    for amount in ("มาก", "-5", "0", "NaN", "1e20"):
        response = office.post("/programme/funds/", {"action": "amount", "application": app.pk, "amount": amount})
        assert response.status_code == 400 and "จำนวนเงิน" in response.content.decode(), amount
    assert office.post("/programme/funds/", {
        "action": "create", "organisation": world["near"][1].pk, "purpose": "ค่าเช่าใบรับรองปี 2566",
        "amount": "8000"}).status_code == 302
    assert FundApplication.objects.filter(organisation=world["near"][1], status=FundStatus.DRAFTED).exists()
    app.refresh_from_db()
    assert app.amount == Decimal("15500.50") and app.status == FundStatus.SUBMITTED


def test_every_page_opens_on_the_demo(db: None) -> None:
    from saraban.rollout.demo import load_rollout_demo

    load_provinces()
    assert load_rollout_demo("x-Pass-1234", today=dt.date(2026, 5, 1))
    for role in ("office", "partner"):
        client = _client(role)
        for page in PAGES:
            response = client.get(page)
            assert response.status_code == 200, (role, page)
            assert "{% t" not in response.content.decode()
