"""Writes of the programme console. Every change is audited (``audit.record_event``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, PermissionRefused, StateRefused, ValidationFailed
from saraban.directory.models import Organisation, Person, Province

from .models import (
    AnswerType,
    BudgetSource,
    Channel,
    ChannelMessage,
    EventInvitation,
    FundApplication,
    FundStatus,
    GroupingRule,
    Need,
    OutreachActivity,
    Participant,
    ProgrammeMember,
    ProgrammeRole,
    ProgrammeSettings,
    Question,
    ReadinessLevel,
    ReportedCertificate,
    RequestStatus,
    ResponseSource,
    Roadshow,
    RoadshowEvent,
    SupportProvider,
    SupportRequest,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)

DEFAULT_RULES = {ReadinessLevel.HIGH: 70.0, ReadinessLevel.MEDIUM: 40.0, ReadinessLevel.LOW: 0.0}
DEFAULT_PROVIDERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (  # code, Thai, English, needs
    ("dga", "สำนักงานพัฒนารัฐบาลดิจิทัล (สพร.)", "Digital Government Development Agency (DGA)",
     (Need.SYSTEM, Need.TRAINING)),
    ("etda", "สำนักงานพัฒนาธุรกรรมทางอิเล็กทรอนิกส์ (สพธอ.)", "Electronic Transactions Development Agency (ETDA)",
     (Need.CERTIFICATES, Need.TRAINING)),
    ("nectec", "ศูนย์เทคโนโลยีอิเล็กทรอนิกส์และคอมพิวเตอร์แห่งชาติ (เนคเทค)", "NECTEC",
     (Need.SYSTEM, Need.TRAINING)),
    ("thailand-post", "บริษัท ไปรษณีย์ไทย จำกัด", "Thailand Post", (Need.CERTIFICATES, Need.INFRASTRUCTURE)),
    ("nt", "บริษัท โทรคมนาคมแห่งชาติ จำกัด (มหาชน)", "National Telecom (NT)", (Need.INFRASTRUCTURE, Need.CERTIFICATES)),
    ("de-fund", "กองทุนพัฒนาดิจิทัลเพื่อเศรษฐกิจและสังคม", "DE Fund", (Need.BUDGET,)),
)
SHORT_NAMES = {"dga": "สพร. (DGA)", "etda": "สพธอ. (ETDA)", "nectec": "เนคเทค (NECTEC)",
               "thailand-post": "ไปรษณีย์ไทย", "nt": "NT", "de-fund": "กองทุนดีอี (DE Fund)"}
TOKEN_BYTES = 32


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The fields of a row as JSON-ready data, for the audit digests."""
    data = model_to_dict(obj)
    data["pk"] = obj.pk
    return {k: (v if isinstance(v, str | int | float | bool | type(None) | list | dict) else str(v))
            for k, v in data.items() if not isinstance(v, list) or all(isinstance(x, str | int) for x in v)}


def _audit(action: str, obj: models.Model, *, actor: Person | None, organisation_id: int | None = None,
           before: Any = None, detail: dict[str, Any] | None = None) -> None:
    record_event(
        f"rollout.{action}", object_type=f"rollout.{obj._meta.model_name}", object_id=obj.pk,
        organisation_id=organisation_id, actor=actor, before=before, after=snapshot(obj), detail=detail,
    )


def record_bulk(action: str, *, actor: Person | None, detail: dict[str, Any]) -> None:
    """Audit a bulk operation (demo load, import) as one event that says what was written."""
    record_event(f"rollout.{action}", object_type="rollout.bulk", object_id=action, organisation_id=None,
                 actor=actor, after=detail, detail=detail)


# --- programme office -------------------------------------------------------------------------------

@transaction.atomic
def add_member(person: Person, role: str = ProgrammeRole.PARTNER, *, actor: Person | None = None) -> ProgrammeMember:
    """Let ``person`` use the console (``office`` edits, ``partner`` reads)."""
    if role not in ProgrammeRole.values:
        raise ValidationFailed([FieldProblem("role", "invalid", "บทบาทไม่ถูกต้อง", "Unknown programme role")])
    member, _ = ProgrammeMember.objects.update_or_create(person=person, defaults={"role": role})
    _audit("member_set", member, actor=actor)
    return member


def require_office(actor: Person | None) -> None:
    """Refuse unless ``actor`` is of the programme office (``None``, the system, may)."""
    if actor is None:
        return
    if not ProgrammeMember.objects.filter(person=actor, role=ProgrammeRole.OFFICE).exists():
        raise PermissionRefused("not_programme_office", "เฉพาะสำนักงานโครงการเท่านั้น",
                                "Only the programme office may do this")


@transaction.atomic
def set_participant(org: Organisation, *, ready: bool, pilot: bool = False, ready_on: dt.date | None = None,
                    actor: Person | None = None) -> Participant:
    """Record that an agency takes part (ready or not, in the pilot or not)."""
    participant, _ = Participant.objects.update_or_create(
        organisation=org, defaults={"ready": ready, "pilot": pilot, "ready_on": ready_on if ready else None},
    )
    _audit("participant_set", participant, actor=actor, organisation_id=org.pk)
    return participant


# --- survey -----------------------------------------------------------------------------------------

@transaction.atomic
def create_survey(title: str, *, description: str = "", actor: Person | None = None) -> Survey:
    """A new, empty questionnaire."""
    if not title.strip():
        raise ValidationFailed([FieldProblem("title", "required", "ต้องระบุชื่อแบบสำรวจ", "The title is required")])
    survey = Survey.objects.create(title=title, description=description)
    _audit("survey_created", survey, actor=actor)
    return survey


def question_problems(fields: Mapping[str, Any]) -> list[FieldProblem]:
    """What is wrong with the fields of a question (Thai and English)."""
    problems = []
    kind = fields.get("answer_type")
    if not str(fields.get("code", "")).strip():
        problems.append(FieldProblem("code", "required", "ต้องระบุรหัสคำถาม", "The question code is required"))
    if not str(fields.get("text_th", "")).strip():
        problems.append(FieldProblem("text_th", "required", "ต้องระบุคำถามภาษาไทย", "The Thai text is required"))
    if kind not in AnswerType.values:
        problems.append(FieldProblem("answer_type", "invalid", "ชนิดคำตอบไม่ถูกต้อง", "Unknown answer type"))
    options = fields.get("options") or []
    if kind in (AnswerType.CHOICE, AnswerType.MULTI_CHOICE, AnswerType.YES_NO):
        values = [str(o.get("value", "")) for o in options]
        if not options or any(not v for v in values) or len(set(values)) != len(values):
            problems.append(FieldProblem("options", "invalid", "ตัวเลือกต้องมีค่าไม่ว่างและไม่ซ้ำกัน",
                                         "Options need distinct, non-empty values"))
        if kind == AnswerType.YES_NO and set(values) != {"yes", "no"}:
            problems.append(FieldProblem("options", "invalid", "คำถามใช่/ไม่ใช่ต้องมีตัวเลือก yes และ no",
                                         "A yes/no question has exactly the options yes and no"))
        for o in options:
            if o.get("need") and o["need"] not in Need.values:
                problems.append(FieldProblem("options", "invalid", f"ไม่รู้จักความต้องการ “{o['need']}”",
                                             f"Unknown need “{o['need']}”"))
            try:
                float(o.get("weight") or 0)
            except (TypeError, ValueError):
                problems.append(FieldProblem("options", "invalid", "น้ำหนักต้องเป็นตัวเลข", "Weights must be numbers"))
    if kind == AnswerType.NUMBER and not (fields.get("scale_max") or 0) > 0:
        problems.append(FieldProblem("scale_max", "invalid", "ต้องระบุค่าที่ได้คะแนนเต็ม (มากกว่า 0)",
                                     "The value earning full points must be above 0"))
    if fields.get("need") and fields["need"] not in Need.values:
        problems.append(FieldProblem("need", "invalid", "ไม่รู้จักความต้องการนี้", "Unknown need"))
    return problems


@transaction.atomic
def add_question(survey: Survey, *, actor: Person | None = None, **fields: Any) -> Question:
    """Add a question to ``survey`` (at the end unless ``position`` is given)."""
    require_office(actor)
    problems = question_problems(fields)
    if problems:
        raise ValidationFailed(problems)
    fields.setdefault("position", survey.questions.count() + 1)
    question = Question.objects.create(survey=survey, **fields)
    _audit("question_added", question, actor=actor)
    return question


@transaction.atomic
def update_question(question: Question, *, actor: Person | None = None, **fields: Any) -> Question:
    """Change a question: its text, type, options and weights; scores follow at once (they are computed)."""
    require_office(actor)
    before = snapshot(question)
    merged = {**model_to_dict(question), **fields}
    problems = question_problems(merged)
    if problems:
        raise ValidationFailed(problems)
    for name, value in fields.items():
        setattr(question, name, value)
    question.save()
    _audit("question_updated", question, actor=actor, before=before)
    return question


def hash_token(token: str) -> str:
    """The SHA-256 of an invitation token (the only form it is stored in)."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite(survey: Survey, org: Organisation, *, days: int = 30, actor: Person | None = None
           ) -> tuple[SurveyInvitation, str]:
    """A per-agency link to answer ``survey``; returns the invitation and its token (shown once).

    Inviting again replaces the token (the old link stops working) and extends the expiry.
    """
    require_office(actor)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = timezone.now() + dt.timedelta(days=days)
    invitation, _ = SurveyInvitation.objects.update_or_create(
        survey=survey, organisation=org,
        defaults={"token_hash": hash_token(token), "expires_at": expires, "answered_at": None},
    )
    _audit("invitation_issued", invitation, actor=actor, organisation_id=org.pk,
           detail={"expires_at": expires.isoformat()})
    return invitation, token


@transaction.atomic
def reopen_invitation(invitation: SurveyInvitation, *, days: int = 14, actor: Person | None = None
                      ) -> SurveyInvitation:
    """Let an agency answer again through the same link (after a submission or after expiry)."""
    require_office(actor)
    before = snapshot(invitation)
    invitation.answered_at = None
    invitation.reopened_at = timezone.now()
    invitation.expires_at = max(invitation.expires_at, timezone.now() + dt.timedelta(days=days))
    invitation.save()
    _audit("invitation_reopened", invitation, actor=actor, organisation_id=invitation.organisation_id, before=before)
    return invitation


@transaction.atomic
def submit_response(survey: Survey, org: Organisation, answers: Mapping[str, Any], *, source: str,
                    actor: Person | None = None, invitation: SurveyInvitation | None = None,
                    at: dt.datetime | None = None) -> SurveyResponse:
    """Store an agency's answers (question code → parsed value), replacing earlier ones; audited."""
    questions = {q.code: q for q in survey.questions.all()}
    unknown = [code for code in answers if code not in questions]
    if unknown:
        raise ValidationFailed([FieldProblem(c, "unknown", "ไม่มีคำถามนี้", "No such question") for c in unknown])
    if source not in ResponseSource.values:
        raise ValidationFailed([FieldProblem("source", "invalid", "ที่มาไม่ถูกต้อง", "Unknown source")])
    now = at or timezone.now()
    response, created = SurveyResponse.objects.update_or_create(
        survey=survey, organisation=org, defaults={"source": source, "submitted_at": now},
    )
    response.answers.all().delete()
    from .models import Answer

    Answer.objects.bulk_create([
        Answer(response=response, question=questions[code], value=value) for code, value in answers.items()
        if value is not None
    ])
    if invitation is not None:
        invitation.answered_at = now
        invitation.save(update_fields=["answered_at"])
    _audit("response_submitted" if created else "response_replaced", response, actor=actor,
           organisation_id=org.pk, detail={"answers": {k: v for k, v in answers.items()}})
    return response


# --- grouping and settings --------------------------------------------------------------------------

@transaction.atomic
def ensure_defaults() -> None:
    """The default grouping rules, settings and support providers, created once."""
    for level, percent in DEFAULT_RULES.items():
        GroupingRule.objects.get_or_create(level=level, defaults={"min_percent": percent})
    ProgrammeSettings.objects.get_or_create(pk=1)
    for code, name_th, name_en, needs in DEFAULT_PROVIDERS:
        SupportProvider.objects.get_or_create(code=code, defaults={
            "name_th": name_th, "name_en": name_en, "needs": [str(n) for n in needs],
            "short_name": SHORT_NAMES.get(code, "")})


@transaction.atomic
def set_grouping_rules(thresholds: Mapping[str, float], *, actor: Person | None = None) -> list[GroupingRule]:
    """Set the lowest score (percent) of each readiness level; higher levels need higher thresholds."""
    require_office(actor)
    problems = []
    for level, value in thresholds.items():
        if level not in ReadinessLevel.values:
            problems.append(FieldProblem(level, "invalid", "ไม่รู้จักระดับนี้", "Unknown level"))
        elif not 0 <= value <= 100:
            problems.append(FieldProblem(level, "range", "ต้องอยู่ระหว่าง 0 ถึง 100", "Must be between 0 and 100"))
    merged = {r.level: r.min_percent for r in GroupingRule.objects.all()} | dict(thresholds)
    if not problems and not merged.get("high", 100) > merged.get("medium", 50) >= merged.get("low", 0):
        problems.append(FieldProblem("medium", "order", "เกณฑ์ต้องเรียง สูง > กลาง ≥ ต่ำ",
                                     "Thresholds must be ordered high > medium ≥ low"))
    if problems:
        raise ValidationFailed(problems)
    rules = []
    for level, value in thresholds.items():
        rule, _ = GroupingRule.objects.get_or_create(level=level, defaults={"min_percent": value})
        before = snapshot(rule)
        rule.min_percent = value
        rule.save()
        _audit("grouping_rule_set", rule, actor=actor, before=before)
        rules.append(rule)
    return rules


@transaction.atomic
def set_overlap_window(days: int, *, actor: Person | None = None) -> ProgrammeSettings:
    """How many days apart two activities may be and still count as overlapping."""
    require_office(actor)
    if not 0 <= days <= 365:
        raise ValidationFailed([FieldProblem("overlap_window_days", "range", "ต้องอยู่ระหว่าง 0 ถึง 365 วัน",
                                             "Must be between 0 and 365 days")])
    settings, _ = ProgrammeSettings.objects.get_or_create(pk=1)
    before = snapshot(settings)
    settings.overlap_window_days = days
    settings.save()
    _audit("settings_set", settings, actor=actor, before=before)
    return settings


# --- support -----------------------------------------------------------------------------------------

@transaction.atomic
def add_provider(code: str, name_th: str, *, name_en: str = "", short_name: str = "", needs: Iterable[str] = (),
                 actor: Person | None = None) -> SupportProvider:
    """Add a support provider and the needs it covers."""
    require_office(actor)
    needs = list(needs)
    bad = [n for n in needs if n not in Need.values]
    if bad or not code or not name_th:
        raise ValidationFailed([FieldProblem("needs" if bad else "code", "invalid", "ข้อมูลผู้ให้การสนับสนุนไม่ถูกต้อง",
                                             "The provider's code, name or needs are invalid")])
    provider = SupportProvider.objects.create(code=code, name_th=name_th, name_en=name_en, short_name=short_name,
                                              needs=needs)
    _audit("provider_added", provider, actor=actor)
    return provider


@transaction.atomic
def request_support(org: Organisation, need: str, *, provider: SupportProvider | None = None,
                    on: dt.date | None = None, note: str = "", actor: Person | None = None) -> SupportRequest:
    """Record an agency's need, optionally assigned to a provider at once."""
    require_office(actor)
    if need not in Need.values:
        raise ValidationFailed([FieldProblem("need", "invalid", "ไม่รู้จักความต้องการนี้", "Unknown need")])
    day = on or timezone.localdate()
    req = SupportRequest.objects.create(
        organisation=org, need=need, provider=provider, requested_on=day, note=note,
        status=RequestStatus.ASSIGNED if provider else RequestStatus.OPEN, assigned_on=day if provider else None,
    )
    _audit("support_requested", req, actor=actor, organisation_id=org.pk)
    return req


@transaction.atomic
def set_request_status(req: SupportRequest, status: str, *, provider: SupportProvider | None = None,
                       on: dt.date | None = None, actor: Person | None = None) -> SupportRequest:
    """Move a support request on (assign a provider, start, finish, cancel)."""
    require_office(actor)
    if status not in RequestStatus.values:
        raise ValidationFailed([FieldProblem("status", "invalid", "สถานะไม่ถูกต้อง", "Unknown status")])
    if req.status in (RequestStatus.DONE, RequestStatus.CANCELLED):
        raise StateRefused("request_closed", "คำขอนี้ปิดแล้ว", "This request is closed")
    before = snapshot(req)
    day = on or timezone.localdate()
    if provider is not None:
        req.provider = provider
        req.assigned_on = req.assigned_on or day
    req.status = status
    if status in (RequestStatus.DONE, RequestStatus.CANCELLED):
        req.closed_on = day
    req.save()
    _audit("support_request_updated", req, actor=actor, organisation_id=req.organisation_id, before=before)
    return req


# --- certificates and funds ---------------------------------------------------------------------------

@transaction.atomic
def report_certificate(org: Organisation, *, holder: str, provider: str, expires_on: dt.date,
                       yearly_cost: Decimal | int = 0, budget_source: str = BudgetSource.NONE,
                       reported_on: dt.date | None = None, actor: Person | None = None) -> ReportedCertificate:
    """Record a signing certificate an agency reported (its CA, expiry, yearly cost and budget)."""
    if budget_source not in BudgetSource.values:
        raise ValidationFailed([FieldProblem("budget_source", "invalid", "แหล่งงบประมาณไม่ถูกต้อง",
                                             "Unknown budget source")])
    cert = ReportedCertificate.objects.create(
        organisation=org, holder=holder, provider=provider, expires_on=expires_on, yearly_cost=Decimal(yearly_cost),
        budget_source=budget_source, reported_on=reported_on or timezone.localdate(),
    )
    _audit("certificate_reported", cert, actor=actor, organisation_id=org.pk)
    return cert


_FUND_MOVES = {
    FundStatus.DRAFTED: {FundStatus.SUBMITTED},
    FundStatus.SUBMITTED: {FundStatus.APPROVED, FundStatus.REJECTED},
    FundStatus.APPROVED: set(),
    FundStatus.REJECTED: {FundStatus.DRAFTED},
}


@transaction.atomic
def draft_fund_application(org: Organisation, *, purpose: str, amount: Decimal | int,
                           fund: str = BudgetSource.DE_FUND, actor: Person | None = None) -> FundApplication:
    """Start an application to the DE Fund (or another fund)."""
    require_office(actor)
    if Decimal(amount) <= 0:
        raise ValidationFailed([FieldProblem("amount", "range", "จำนวนเงินต้องมากกว่า 0", "The amount must be above 0")])
    app = FundApplication.objects.create(organisation=org, purpose=purpose, amount=Decimal(amount), fund=fund)
    _audit("fund_drafted", app, actor=actor, organisation_id=org.pk)
    return app


@transaction.atomic
def set_fund_status(app: FundApplication, status: str, *, on: dt.date | None = None,
                    actor: Person | None = None) -> FundApplication:
    """Move a fund application: drafted → submitted → approved or rejected (rejected may be redrafted)."""
    require_office(actor)
    if status not in _FUND_MOVES.get(FundStatus(app.status), set()):
        raise StateRefused("fund_move", f"เปลี่ยนสถานะจาก {app.status} เป็น {status} ไม่ได้",
                           f"Cannot move from {app.status} to {status}")
    before = snapshot(app)
    day = on or timezone.localdate()
    app.status = status
    if status == FundStatus.SUBMITTED:
        app.submitted_on = day
    elif status in (FundStatus.APPROVED, FundStatus.REJECTED):
        app.decided_on = day
    app.save()
    _audit("fund_status_set", app, actor=actor, organisation_id=app.organisation_id, before=before)
    return app


@transaction.atomic
def set_fund_amount(app: FundApplication, amount: Decimal | int, *, actor: Person | None = None) -> FundApplication:
    """Change the amount asked (or granted) of a fund application; office only."""
    require_office(actor)
    if not 0 < Decimal(amount) < Decimal(10) ** 12:
        raise ValidationFailed([FieldProblem("amount", "range", "จำนวนเงินต้องมากกว่า 0 และน้อยกว่าล้านล้านบาท",
                                             "The amount must be above 0 and below a trillion baht")])
    before = snapshot(app)
    app.amount = Decimal(amount)
    app.save()
    _audit("fund_amount_set", app, actor=actor, organisation_id=app.organisation_id, before=before)
    return app


# --- roadshows, outreach, channels --------------------------------------------------------------------

@transaction.atomic
def create_roadshow(name: str, provinces: Iterable[Province], starts_on: dt.date, ends_on: dt.date, *,
                    actor: Person | None = None) -> Roadshow:
    """A roadshow over pilot provinces."""
    if ends_on < starts_on:
        raise ValidationFailed([FieldProblem("ends_on", "range", "วันสิ้นสุดต้องไม่ก่อนวันเริ่ม",
                                             "The end cannot be before the start")])
    roadshow = Roadshow.objects.create(name=name, starts_on=starts_on, ends_on=ends_on)
    roadshow.provinces.set(list(provinces))
    _audit("roadshow_created", roadshow, actor=actor)
    return roadshow


@transaction.atomic
def add_event(roadshow: Roadshow, *, title: str, date: dt.date, province: Province | None = None, place: str = "",
              online: bool = False, partner: Channel | None = None, infrastructure_support: str = "",
              actor: Person | None = None) -> RoadshowEvent:
    """An event of a roadshow: a place, or online."""
    require_office(actor)
    if not online and not place.strip():
        raise ValidationFailed([FieldProblem("place", "required", "ต้องระบุสถานที่ หรือเลือกจัดออนไลน์",
                                             "Give a place, or hold it online")])
    event = RoadshowEvent.objects.create(
        roadshow=roadshow, title=title, date=date, province=province, place=place, online=online, partner=partner,
        infrastructure_support=infrastructure_support,
    )
    _audit("event_added", event, actor=actor)
    return event


@transaction.atomic
def invite_to_event(event: RoadshowEvent, organisations: Iterable[Organisation], *,
                    actor: Person | None = None) -> int:
    """Invite agencies to an event; returns how many were newly invited."""
    require_office(actor)
    orgs = list(organisations)
    done = {i.organisation_id for i in event.invitations.all()}
    new = [EventInvitation(event=event, organisation=o) for o in orgs if o.pk not in done]
    EventInvitation.objects.bulk_create(new)
    record_event("rollout.event_invitations", object_type="rollout.roadshowevent", object_id=event.pk,
                 organisation_id=None, actor=actor, detail={"organisations": [o.organisation_id for o in new]})
    return len(new)


@transaction.atomic
def record_attendance(event: RoadshowEvent, org: Organisation, attended: bool, *,
                      actor: Person | None = None) -> EventInvitation:
    """Whether an invited agency came to the event."""
    require_office(actor)
    invitation = EventInvitation.objects.get(event=event, organisation=org)
    before = snapshot(invitation)
    invitation.attended = attended
    invitation.save()
    _audit("attendance_recorded", invitation, actor=actor, organisation_id=org.pk, before=before)
    return invitation


@transaction.atomic
def add_outreach(*, owner: str, title: str, starts_on: dt.date, ends_on: dt.date, target_kinds: Iterable[str] = (),
                 regions: Iterable[str] = (), provinces: Iterable[Province] = (), roadshow: Roadshow | None = None,
                 actor: Person | None = None) -> OutreachActivity:
    """Put an activity on the shared outreach calendar."""
    if ends_on < starts_on:
        raise ValidationFailed([FieldProblem("ends_on", "range", "วันสิ้นสุดต้องไม่ก่อนวันเริ่ม",
                                             "The end cannot be before the start")])
    activity = OutreachActivity.objects.create(
        owner=owner, title=title, starts_on=starts_on, ends_on=ends_on, target_kinds=list(target_kinds),
        regions=list(regions), roadshow=roadshow,
    )
    activity.provinces.set(list(provinces))
    _audit("outreach_added", activity, actor=actor)
    return activity


@transaction.atomic
def add_channel(name_th: str, *, name_en: str = "", kind: str = "association", serves_kinds: Iterable[str] = (),
                actor: Person | None = None) -> Channel:
    """A channel to reach agencies (an association, a network)."""
    channel = Channel.objects.create(name_th=name_th, name_en=name_en, kind=kind, serves_kinds=list(serves_kinds))
    _audit("channel_added", channel, actor=actor)
    return channel


@transaction.atomic
def send_channel_message(channel: Channel, subject: str, organisations: Iterable[Organisation], *,
                         sent_on: dt.date | None = None, actor: Person | None = None) -> ChannelMessage:
    """Record that a message went through ``channel`` to these agencies."""
    message = ChannelMessage.objects.create(channel=channel, subject=subject, sent_on=sent_on or timezone.localdate())
    orgs = list(organisations)
    message.organisations.set(orgs)
    _audit("channel_message_sent", message, actor=actor, detail={"organisations": [o.pk for o in orgs]})
    return message
