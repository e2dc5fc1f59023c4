"""Reads of the programme console: scores, groups, certificates, overlaps, follow-up, dashboard figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Min
from django.utils import timezone

from saraban.directory.models import Organisation, Person, ProgrammeCategory, Province, RoleAssignment
from saraban.exchange.models import Dispatch

from . import grouping, overlap, scoring
from .models import (
    Answer,
    BudgetSource,
    FundApplication,
    FundStatus,
    GroupingRule,
    Need,
    OutreachActivity,
    Participant,
    ProgrammeMember,
    ProgrammeSettings,
    ReadinessLevel,
    ReportedCertificate,
    SupportProvider,
    Survey,
    SurveyInvitation,
)
from .services import hash_token

CATEGORY_ORDER = (ProgrammeCategory.MHESI, ProgrammeCategory.OPM, ProgrammeCategory.LAO,
                  ProgrammeCategory.DEPARTMENT, ProgrammeCategory.OTHER)
LEVEL_ORDER = (ReadinessLevel.HIGH, ReadinessLevel.MEDIUM, ReadinessLevel.LOW)


def member_role(person: Any) -> str | None:
    """The programme role of ``person`` ("office" or "partner"), or ``None`` when not a member."""
    if not isinstance(person, Person) or not person.is_authenticated:
        return None
    return ProgrammeMember.objects.filter(person=person).values_list("role", flat=True).first()


def invitation_by_token(token: str, *, now: dt.datetime | None = None) -> tuple[SurveyInvitation | None, str]:
    """The invitation of a link's token and its state: "ok", "unknown", "expired" or "used"."""
    if not token or len(token) > 200:
        return None, "unknown"
    invitation = (SurveyInvitation.objects.select_related("survey", "organisation")
                  .filter(token_hash=hash_token(token)).first())
    if invitation is None:
        return None, "unknown"
    if invitation.answered_at is not None:
        return invitation, "used"
    if invitation.expires_at <= (now or timezone.now()) or not invitation.survey.is_open:
        return invitation, "expired"
    return invitation, "ok"


def current_survey() -> Survey | None:
    """The survey the console reports on: the newest open one, else the newest."""
    return Survey.objects.filter(is_open=True).order_by("-pk").first() or Survey.objects.order_by("-pk").first()


def question_specs(survey: Survey) -> list[scoring.QuestionSpec]:
    """The survey's questions as scoring sees them, in order."""
    return [scoring.question_from_model(q) for q in survey.questions.all()]


def answers_by_organisation(survey: Survey) -> dict[int, dict[str, Any]]:
    """Every agency's answers to ``survey``: organisation id → question code → value (one query)."""
    result: dict[int, dict[str, Any]] = defaultdict(dict)
    rows = Answer.objects.filter(response__survey=survey).values_list(
        "response__organisation_id", "question__code", "value")
    for org_id, code, value in rows:
        result[org_id][code] = value
    return dict(result)


def agency_scores(survey: Survey) -> dict[int, scoring.Score]:
    """The readiness score of every agency that answered ``survey``."""
    specs = question_specs(survey)
    return {org_id: scoring.score(specs, answers) for org_id, answers in answers_by_organisation(survey).items()}


def level_rules() -> list[grouping.LevelRule]:
    """The grouping rules as they stand (highest threshold first)."""
    return [grouping.LevelRule(r.level, r.min_percent) for r in GroupingRule.objects.all()]


@dataclass
class GroupRow:
    """One row of the groups × needs × providers table."""

    category: str
    level: str
    size: int
    organisation_ids: list[int]
    needs: list[tuple[str, int, list[str]]]  # need, agencies signalling it, provider codes covering it


@dataclass
class GroupTable:
    """The analysis of agenda item 1.1: every (kind, level) group, its needs, and who covers them."""

    rows: list[GroupRow]
    needs: list[str]
    providers: dict[str, SupportProvider]
    total: int


def group_table(survey: Survey | None = None) -> GroupTable:
    """Agencies that answered the survey, grouped by kind × readiness level, with needs and providers."""
    survey = survey or current_survey()
    providers = {p.code: p for p in SupportProvider.objects.filter(is_active=True)}
    covering = {code: p.needs for code, p in providers.items()}
    needs = list(Need.values)
    if survey is None:
        return GroupTable([], needs, providers, 0)
    scores = agency_scores(survey)
    categories = dict(Organisation.objects.filter(pk__in=scores).values_list("pk", "category"))
    facts = [grouping.AgencyFacts(org_id, categories.get(org_id, "other"), s.percent, s.needs)
             for org_id, s in scores.items()]
    groups = grouping.group_agencies(facts, level_rules())
    rows = []
    for category in CATEGORY_ORDER:
        for level in LEVEL_ORDER:
            g = groups.get((category, level))
            if g is None:
                continue
            rows.append(GroupRow(category, level, g.size, sorted(g.organisation_ids), [
                (n, g.need_counts.get(n, 0), grouping.providers_for(n, covering)) for n in needs
            ]))
    return GroupTable(rows, needs, providers, len(facts))


@dataclass(frozen=True)
class SigningCertificate:
    """A signing certificate of an agency, whichever source it comes from."""

    organisation_id: int
    holder: str
    provider: str
    expires_on: dt.date
    yearly_cost: Decimal
    budget_source: str
    source: str  # "reported" (survey or office); "registry" once Saraban's certificate registry exists


def signing_certificates(org: Organisation) -> list[SigningCertificate]:
    """The signing certificates of ``org``, soonest expiry first.

    The certificates registered in Saraban's certificate registry come first (``source="registry"``;
    their cost and budget are not known there); the ones the agency reported are listed only when the
    registry holds none for it.
    """
    from asn1crypto import x509

    from saraban.core.thai import local_date
    from saraban.signatures.registry import common_name
    from saraban.signatures.selectors import organisation_certificates

    registered = [
        SigningCertificate(
            c.organisation_id,
            c.holder.display_name if c.holder else "ตราประทับของหน่วยงาน",
            common_name(x509.Certificate.load(bytes(c.certificate)).issuer),
            local_date(c.not_after), Decimal(0), "", "registry",
        )
        for c in organisation_certificates(org).filter(active=True).order_by("not_after", "pk")
    ]
    if registered:
        return registered
    return [
        SigningCertificate(c.organisation_id, c.holder, c.provider, c.expires_on, c.yearly_cost, c.budget_source,
                           "reported")
        for c in ReportedCertificate.objects.filter(organisation=org).order_by("expires_on", "pk")
    ]


@dataclass
class LapseRow:
    """A certificate that expires within the horizon and whether its renewal is paid for."""

    organisation: Organisation
    certificate: ReportedCertificate
    days_left: int
    funding: str  # "covered", "pending" (a fund application under way) or "none"
    fund_status: str

    @property
    def without_budget(self) -> bool:
        """The certificate will lapse with nothing to pay for its renewal."""
        return self.funding == "none"


def _fund_state(budget_source: str, applications: list[str]) -> tuple[str, str]:
    if budget_source in (BudgetSource.OWN, BudgetSource.OTHER_FUND):
        return "covered", ""
    if FundStatus.APPROVED in applications:
        return "covered", FundStatus.APPROVED
    pending = [s for s in applications if s in (FundStatus.SUBMITTED, FundStatus.DRAFTED)]
    if pending:
        return "pending", pending[0]
    return "none", applications[0] if applications else ""


def certificate_lapses(today: dt.date | None = None, *, months: int = 12) -> list[LapseRow]:
    """Certificates expiring from ``today`` to ``months`` months ahead (and those already lapsed this month)."""
    day = today or timezone.localdate()
    horizon = _add_months(day, months)
    apps: dict[int, list[str]] = defaultdict(list)
    for org_id, status in FundApplication.objects.order_by("-pk").values_list("organisation_id", "status"):
        apps[org_id].append(status)
    rows = []
    certs = ReportedCertificate.objects.filter(expires_on__gte=day - dt.timedelta(days=30), expires_on__lt=horizon)
    for cert in certs.select_related("organisation", "organisation__province").order_by("expires_on", "pk"):
        funding, status = _fund_state(cert.budget_source, apps.get(cert.organisation_id, []))
        rows.append(LapseRow(cert.organisation, cert, (cert.expires_on - day).days, funding, status))
    return rows


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, 1)


@dataclass
class MonthBucket:
    """Expiries in one month of the timeline."""

    month: dt.date
    total: int = 0
    without_budget: int = 0
    pending: int = 0


def lapse_timeline(rows: list[LapseRow], today: dt.date | None = None, *, months: int = 12) -> list[MonthBucket]:
    """The 12 months from this one, with how many certificates expire in each and how many lack a budget."""
    day = today or timezone.localdate()
    buckets = [MonthBucket(_add_months(day, i)) for i in range(months)]
    index = {(b.month.year, b.month.month): b for b in buckets}
    for row in rows:
        bucket = index.get((row.certificate.expires_on.year, row.certificate.expires_on.month))
        if bucket is None:
            continue
        bucket.total += 1
        bucket.without_budget += row.without_budget
        bucket.pending += row.funding == "pending"
    return buckets


def overlap_window() -> int:
    """The configured overlap window, in days."""
    settings = ProgrammeSettings.objects.filter(pk=1).first()
    return settings.overlap_window_days if settings else 14


def outreach_overlaps(window_days: int | None = None) -> list[overlap.Overlap]:
    """Every pair of outreach activities that reach the same group in the same places within the window."""
    window = overlap_window() if window_days is None else window_days
    region_of = dict(Province.objects.values_list("code", "region"))
    activities = [
        overlap.Activity(
            id=a.pk, owner=a.owner, title=a.title, starts_on=a.starts_on, ends_on=a.ends_on,
            kinds=frozenset(a.target_kinds), provinces=frozenset(p.code for p in a.provinces.all()),
            regions=frozenset(a.regions),
        )
        for a in OutreachActivity.objects.prefetch_related("provinces")
    ]
    return overlap.find_overlaps(activities, window, region_of)


@dataclass
class FollowUp:
    """Where an agency stands after the roadshow: onboarded to Saraban, first electronic letter sent."""

    onboarded: bool
    first_letter_at: dt.datetime | None


def follow_up(organisation_ids: list[int]) -> dict[int, FollowUp]:
    """Follow-up computed from Saraban's own data: people with roles, and letters dispatched electronically."""
    onboarded = set(RoleAssignment.objects.filter(organisation_id__in=organisation_ids)
                    .values_list("organisation_id", flat=True))
    first = dict(Dispatch.objects.filter(letter__organisation_id__in=organisation_ids)
                 .values("letter__organisation_id").annotate(first=Min("sent_at"))
                 .values_list("letter__organisation_id", "first"))
    return {i: FollowUp(i in onboarded, first.get(i)) for i in organisation_ids}


@dataclass
class Dashboard:
    """The figures at the top of the console."""

    ready_by_category: dict[str, int] = field(default_factory=dict)
    ready_provinces: int = 0
    ready_lao_provinces: int = 0
    pilot: int = 0
    onboarded: int = 0
    first_letter: int = 0
    responses: int = 0
    invitations_open: int = 0
    lapsing_90: int = 0
    lapsing_without_budget: int = 0
    overlaps: int = 0
    funds: dict[str, int] = field(default_factory=dict)
    fund_amount_approved: Decimal = Decimal(0)

    @property
    def ready(self) -> int:
        """How many agencies are ready, all kinds together."""
        return sum(self.ready_by_category.values())


def dashboard(today: dt.date | None = None) -> Dashboard:
    """The programme's headline figures."""
    day = today or timezone.localdate()
    ready = Participant.objects.filter(ready=True).select_related("organisation")
    ready_orgs = [p.organisation for p in ready]
    board = Dashboard()
    board.ready_by_category = dict(Counter(o.category for o in ready_orgs))
    board.ready_provinces = len({o.province_id for o in ready_orgs if o.province_id})
    board.ready_lao_provinces = len({o.province_id for o in ready_orgs
                                     if o.province_id and o.category == ProgrammeCategory.LAO})
    board.pilot = sum(1 for p in ready if p.pilot)
    follow = follow_up([o.pk for o in ready_orgs])
    board.onboarded = sum(f.onboarded for f in follow.values())
    board.first_letter = sum(f.first_letter_at is not None for f in follow.values())
    survey = current_survey()
    if survey is not None:
        board.responses = survey.responses.count()
        board.invitations_open = survey.invitations.filter(
            answered_at__isnull=True, expires_at__gt=timezone.now()).count()
    lapses = certificate_lapses(day)
    board.lapsing_90 = sum(1 for r in lapses if 0 <= r.days_left <= 90)
    board.lapsing_without_budget = len({r.organisation.pk for r in lapses if r.without_budget})
    board.overlaps = len(outreach_overlaps())
    board.funds = dict(Counter(FundApplication.objects.values_list("status", flat=True)))
    board.fund_amount_approved = sum(
        (a for a in FundApplication.objects.filter(status=FundStatus.APPROVED).values_list("amount", flat=True)),
        Decimal(0),
    )
    return board


def province_counts() -> dict[str, tuple[int, int]]:
    """Province code → (ready agencies, of which onboarded to Saraban), for the map."""
    ready = list(Participant.objects.filter(ready=True, organisation__province__isnull=False)
                 .values_list("organisation_id", "organisation__province_id"))
    follow = follow_up([o for o, _ in ready])
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for org_id, code in ready:
        counts[code][0] += 1
        counts[code][1] += follow[org_id].onboarded
    return {code: (c[0], c[1]) for code, c in counts.items()}
