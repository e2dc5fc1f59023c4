"""The roadshow planner: pilot provinces, events, invited agencies, attendance and follow-up.

Everyone in the programme reads it; only the programme office adds events, invites agencies and
records attendance. Follow-up (onboarded to Saraban, first electronic letter) is computed from
Saraban's own data and shown read-only.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation, Province

from . import selectors, services
from .models import Channel, EventInvitation, InfrastructureSupport, Participant, Roadshow, RoadshowEvent
from .views import console
from .views_support import bad, done, pick_row, posted_date, refuse

MAX_TITLE = 255


def candidates(roadshow: Roadshow) -> list[Organisation]:
    """The agencies that may be invited to the roadshow's events: participants in its provinces."""
    provinces = roadshow.provinces.all()
    ids = Participant.objects.filter(organisation__province__in=provinces).values_list("organisation_id", flat=True)
    return list(Organisation.objects.filter(pk__in=ids).select_related("province")
                .order_by("province__name_th", "name_th"))


def _add_event(request: HttpRequest) -> HttpResponse:
    roadshow = pick_row(Roadshow.objects.all(), request.POST.get("roadshow"), "roadshow",
                        "ไม่พบโรดโชว์นี้", "No such roadshow")
    title = request.POST.get("title", "").strip()
    if not title or len(title) > MAX_TITLE:
        raise bad("title", "ต้องระบุชื่อกิจกรรม (ไม่เกิน 255 ตัวอักษร)", "The title is required (at most 255 characters)")
    date = posted_date(request, "date", "วันที่จัด", "date")
    assert date is not None
    province = None
    if request.POST.get("province"):
        province = Province.objects.filter(code=request.POST["province"]).first()
        if province is None:
            raise bad("province", "เลือกจังหวัดจากรายการ", "Choose a province from the list")
    partner = None
    if request.POST.get("partner"):
        partner = pick_row(Channel.objects.all(), request.POST.get("partner"), "partner",
                           "เลือกสมาคมหรือช่องทางจากรายการ", "Choose an association or channel from the list")
    support = request.POST.get("infrastructure_support", "")
    if support not in InfrastructureSupport.values:
        raise bad("infrastructure_support", "เลือกการสนับสนุนโครงสร้างพื้นฐานจากรายการ",
                  "Choose the infrastructure support from the list")
    place = request.POST.get("place", "").strip()
    if len(place) > MAX_TITLE:
        raise bad("place", "สถานที่ยาวเกิน 255 ตัวอักษร", "The place is longer than 255 characters")
    services.add_event(roadshow, title=title, date=date, province=province, place=place,
                       online=request.POST.get("online") == "on", partner=partner, infrastructure_support=support,
                       actor=request.user)  # type: ignore[arg-type]
    return done(request, f"เพิ่มกิจกรรม “{title}” แล้ว", f"Event “{title}” added")


def _invite(request: HttpRequest) -> HttpResponse:
    event = pick_row(RoadshowEvent.objects.select_related("roadshow"), request.POST.get("event"), "event",
                     "ไม่พบกิจกรรมนี้", "No such event")
    allowed = {o.pk: o for o in candidates(event.roadshow)}
    chosen = request.POST.getlist("organisations")
    if not chosen:
        raise bad("organisations", "เลือกหน่วยงานที่จะเชิญอย่างน้อยหนึ่งแห่ง", "Choose at least one agency to invite")
    if any(not c.isdigit() or int(c) not in allowed for c in chosen):
        raise bad("organisations", "เชิญได้เฉพาะหน่วยงานที่เข้าร่วมโครงการในจังหวัดของโรดโชว์",
                  "Only participating agencies in the roadshow's provinces may be invited")
    new = services.invite_to_event(event, [allowed[int(c)] for c in chosen],
                                   actor=request.user)  # type: ignore[arg-type]
    return done(request, f"เชิญเพิ่ม {new} หน่วยงาน", f"{new} agencies newly invited")


def _attendance(request: HttpRequest) -> HttpResponse:
    event = pick_row(RoadshowEvent.objects.all(), request.POST.get("event"), "event",
                     "ไม่พบกิจกรรมนี้", "No such event")
    changed = 0
    for invitation in EventInvitation.objects.filter(event=event).select_related("organisation"):
        raw = request.POST.get(f"attended_{invitation.organisation_id}", "")
        if raw not in ("", "yes", "no"):
            raise bad("attended", "เลือก มา หรือ ไม่มา", "Choose attended or not")
        if raw and (raw == "yes") != invitation.attended:
            services.record_attendance(event, invitation.organisation, raw == "yes",
                                       actor=request.user)  # type: ignore[arg-type]
            changed += 1
    return done(request, f"บันทึกการเข้าร่วม {changed} หน่วยงาน", f"Attendance recorded for {changed} agencies")


ACTIONS = {"event": _add_event, "invite": _invite, "attendance": _attendance}


@console
@require_http_methods(["GET", "POST"])
def roadshows(request: HttpRequest) -> HttpResponse:
    """โรดโชว์: events by roadshow with invited agencies, attendance and follow-up; the office edits."""
    status = 200
    if request.method == "POST":
        try:
            services.require_office(request.user)  # type: ignore[arg-type]
            action = ACTIONS.get(request.POST.get("action", ""))
            if action is None:
                raise bad("action", "ไม่รู้จักคำสั่งนี้", "Unknown action")
            return action(request)
        except SarabanError as error:
            status = refuse(request, error)
    role = request.programme_role  # type: ignore[attr-defined]
    shows = list(Roadshow.objects.prefetch_related("provinces").order_by("starts_on", "pk"))
    events = list(RoadshowEvent.objects.filter(roadshow__in=shows).select_related("province", "partner")
                  .prefetch_related("invitations__organisation__province"))
    invited = sorted({i.organisation_id for e in events for i in e.invitations.all()})
    follow = selectors.follow_up(invited)
    blocks: list[dict[str, Any]] = []
    for show in shows:
        pool = candidates(show) if role == "office" else []
        rows = []
        for event in (e for e in events if e.roadshow_id == show.pk):
            invitations = sorted(event.invitations.all(), key=lambda i: i.organisation.name_th)
            taken = {i.organisation_id for i in invitations}
            rows.append({
                "e": event,
                "invitations": [{"i": i, "f": follow[i.organisation_id]} for i in invitations],
                "attended": sum(i.attended is True for i in invitations),
                "onboarded": sum(follow[i.organisation_id].onboarded for i in invitations),
                "first_letter": sum(follow[i.organisation_id].first_letter_at is not None for i in invitations),
                "pool": [o for o in pool if o.pk not in taken],
            })
        blocks.append({"r": show, "provinces": sorted(p.name_th for p in show.provinces.all()), "events": rows,
                       "province_choices": sorted(show.provinces.all(), key=lambda p: p.name_th)})
    return render(request, "rollout/roadshows.html", {
        "section": "roadshows", "role": role, "blocks": blocks,
        "channels": Channel.objects.all(), "supports": InfrastructureSupport.choices,
        "posted": request.POST if request.method == "POST" else {},
    }, status=status)
