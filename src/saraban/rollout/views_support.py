"""The programme office's editing pages: support requests, DE Fund applications, channels (read-only).

Everyone in the programme reads these pages; only the programme office changes anything (partners who
post get a refusal and nothing changes). Bad input is shown back in Thai (or English), never a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from saraban.core.errors import FieldProblem, SarabanError, ValidationFailed
from saraban.core.thai import parse_thai_date
from saraban.directory.models import Organisation
from saraban.web.i18n import text
from saraban.web.views.errors import message_of, status_of

from . import services
from .models import (
    BudgetSource,
    Channel,
    FundApplication,
    FundStatus,
    Need,
    Participant,
    RequestStatus,
    SupportProvider,
    SupportRequest,
)
from .views import console

# --- helpers shared by the editing pages ------------------------------------------------------------------

def bad(field: str, th: str, en: str) -> ValidationFailed:
    """A refusal of one field, in Thai and English."""
    return ValidationFailed([FieldProblem(field, "invalid", th, en)])


def pick_row[M: models.Model](queryset: models.QuerySet[M], raw: str | None, field: str, th: str, en: str) -> M:
    """The row of ``queryset`` whose primary key was posted as ``raw``; a Thai refusal when there is none."""
    if raw is not None and str(raw).strip().isdigit():
        row = queryset.filter(pk=int(str(raw))).first()
        if row is not None:
            return row
    raise bad(field, th, en)


def posted_date(request: HttpRequest, name: str, th: str, en: str, *, required: bool = True) -> dt.date | None:
    """A date typed d/m/พ.ศ. in field ``name``; ``None`` when empty and not required."""
    raw = request.POST.get(name, "").strip()
    if not raw:
        if required:
            raise bad(name, f"ต้องระบุ{th}", f"The {en} is required")
        return None
    try:
        return parse_thai_date(raw)
    except ValueError:
        raise bad(name, f"{th} “{raw}” ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ. เช่น 26/11/2569",
                  f"The {en} “{raw}” is not a date day/month/Buddhist year, e.g. 26/11/2569") from None


def posted_amount(request: HttpRequest, name: str = "amount") -> Decimal:
    """An amount in baht (commas allowed, Thai digits allowed)."""
    from saraban.core.thai import arabic_digits

    raw = arabic_digits(request.POST.get(name, "")).replace(",", "").strip()
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise bad(name, f"จำนวนเงิน “{raw}” ต้องเป็นตัวเลข", f"The amount “{raw}” must be a number") from None
    if not amount.is_finite() or not 0 < amount < Decimal(10) ** 12:
        raise bad(name, "จำนวนเงินต้องมากกว่า 0 และน้อยกว่าล้านล้านบาท",
                  "The amount must be above 0 and below a trillion baht")
    return amount.quantize(Decimal("0.01"))


def refuse(request: HttpRequest, error: SarabanError) -> int:
    """Show a refusal as a message (with the problems of each field); returns the HTTP status that fits."""
    details = "; ".join(message_of(request, p) for p in error.problems)
    messages.error(request, f"{message_of(request, error)} {details}".strip())
    return status_of(error)


def done(request: HttpRequest, th: str, en: str) -> HttpResponse:
    """A success message and back to the page (post/redirect/get)."""
    messages.success(request, text(request, th, en))
    return HttpResponseRedirect(request.path)


def participant_organisations() -> models.QuerySet[Organisation]:
    """The agencies taking part in the programme, by province and name."""
    ids = Participant.objects.values_list("organisation_id", flat=True)
    return Organisation.objects.filter(pk__in=ids).select_related("province").order_by("province__name_th", "name_th")


def _role(request: HttpRequest) -> str:
    return str(request.programme_role)  # type: ignore[attr-defined]


# --- support requests -------------------------------------------------------------------------------------

def _support_post(request: HttpRequest) -> HttpResponse:
    services.require_office(request.user)  # type: ignore[arg-type]
    providers = SupportProvider.objects.filter(is_active=True)
    action = request.POST.get("action")
    if action == "create":
        org = pick_row(participant_organisations(), request.POST.get("organisation"), "organisation",
                       "เลือกหน่วยงานจากรายการ", "Choose an agency from the list")
        need = request.POST.get("need", "")
        if need not in Need.values:
            raise bad("need", "เลือกความต้องการจากรายการ", "Choose a need from the list")
        provider = None
        if request.POST.get("provider"):
            provider = pick_row(providers, request.POST.get("provider"), "provider",
                                "เลือกผู้ให้การสนับสนุนจากรายการ", "Choose a provider from the list")
        on = posted_date(request, "requested_on", "วันที่ขอรับการสนับสนุน", "request date", required=False)
        services.request_support(org, need, provider=provider, on=on, note=request.POST.get("note", "").strip(),
                                 actor=request.user)  # type: ignore[arg-type]
        return done(request, f"บันทึกคำขอของ {org.name_th} แล้ว", f"Request of {org.name_th} saved")
    if action == "status":
        req = pick_row(SupportRequest.objects.all(), request.POST.get("request"), "request",
                       "ไม่พบคำขอนี้", "No such request")
        status = request.POST.get("status", "")
        if status not in RequestStatus.values:
            raise bad("status", "เลือกสถานะจากรายการ", "Choose a status from the list")
        provider = None
        if request.POST.get("provider"):
            provider = pick_row(providers, request.POST.get("provider"), "provider",
                                "เลือกผู้ให้การสนับสนุนจากรายการ", "Choose a provider from the list")
        on = posted_date(request, "on", "วันที่", "date", required=False)
        services.set_request_status(req, status, provider=provider, on=on, actor=request.user)  # type: ignore[arg-type]
        return done(request, "เปลี่ยนสถานะคำขอแล้ว", "Request status changed")
    raise bad("action", "ไม่รู้จักคำสั่งนี้", "Unknown action")


@console
@require_http_methods(["GET", "POST"])
def support(request: HttpRequest) -> HttpResponse:
    """คำขอรับการสนับสนุน: every agency's need, its provider, status and dates; the office adds and moves them."""
    status = 200
    if request.method == "POST":
        try:
            return _support_post(request)
        except SarabanError as error:
            status = refuse(request, error)
    shown = request.GET.get("status", "")
    requests = SupportRequest.objects.select_related("organisation", "organisation__province", "provider")
    if shown in RequestStatus.values:
        requests = requests.filter(status=shown)
    closed = (RequestStatus.DONE, RequestStatus.CANCELLED)
    return render(request, "rollout/support.html", {
        "section": "support", "role": _role(request),
        "requests": requests.order_by("-requested_on", "-pk"), "shown": shown, "closed": closed,
        "statuses": RequestStatus.choices, "needs": Need.choices,
        "providers": SupportProvider.objects.filter(is_active=True),
        "organisations": participant_organisations() if _role(request) == "office" else [],
        "posted": request.POST if request.method == "POST" else {},
    }, status=status)


# --- DE Fund applications ---------------------------------------------------------------------------------

_NEXT = {
    FundStatus.DRAFTED: [FundStatus.SUBMITTED],
    FundStatus.SUBMITTED: [FundStatus.APPROVED, FundStatus.REJECTED],
    FundStatus.APPROVED: [],
    FundStatus.REJECTED: [FundStatus.DRAFTED],
}


def _funds_post(request: HttpRequest) -> HttpResponse:
    services.require_office(request.user)  # type: ignore[arg-type]
    action = request.POST.get("action")
    if action == "create":
        org = pick_row(participant_organisations(), request.POST.get("organisation"), "organisation",
                       "เลือกหน่วยงานจากรายการ", "Choose an agency from the list")
        purpose = request.POST.get("purpose", "").strip()
        if not purpose:
            raise bad("purpose", "ต้องระบุวัตถุประสงค์", "The purpose is required")
        fund = request.POST.get("fund", BudgetSource.DE_FUND)
        if fund not in (BudgetSource.DE_FUND, BudgetSource.OTHER_FUND):
            raise bad("fund", "เลือกกองทุนจากรายการ", "Choose a fund from the list")
        services.draft_fund_application(org, purpose=purpose[:255], amount=posted_amount(request), fund=fund,
                                        actor=request.user)  # type: ignore[arg-type]
        return done(request, f"บันทึกร่างคำขอของ {org.name_th} แล้ว", f"Draft application of {org.name_th} saved")
    app = pick_row(FundApplication.objects.all(), request.POST.get("application"), "application",
                   "ไม่พบคำขอนี้", "No such application")
    if action == "status":
        status = request.POST.get("status", "")
        if status not in FundStatus.values:
            raise bad("status", "เลือกสถานะจากรายการ", "Choose a status from the list")
        on = posted_date(request, "on", "วันที่", "date", required=False)
        services.set_fund_status(app, status, on=on, actor=request.user)  # type: ignore[arg-type]
        return done(request, "เปลี่ยนสถานะคำขอแล้ว", "Application status changed")
    if action == "amount":
        services.set_fund_amount(app, posted_amount(request), actor=request.user)  # type: ignore[arg-type]
        return done(request, "บันทึกจำนวนเงินแล้ว", "Amount saved")
    raise bad("action", "ไม่รู้จักคำสั่งนี้", "Unknown action")


@console
@require_http_methods(["GET", "POST"])
def funds(request: HttpRequest) -> HttpResponse:
    """คำขอกองทุนดีอี: applications with their status and amount; the office drafts and moves them."""
    status = 200
    if request.method == "POST":
        try:
            return _funds_post(request)
        except SarabanError as error:
            status = refuse(request, error)
    apps = FundApplication.objects.select_related("organisation", "organisation__province").order_by("-pk")
    labels = dict(FundStatus.choices)
    rows: list[dict[str, Any]] = [
        {"a": a, "moves": [(s, labels[s]) for s in _NEXT.get(FundStatus(a.status), [])]} for a in apps
    ]
    totals = {s: sum((r["a"].amount for r in rows if r["a"].status == s), Decimal(0)) for s in FundStatus.values}
    return render(request, "rollout/funds.html", {
        "section": "funds", "role": _role(request), "rows": rows,
        "totals": [(labels[s], totals[s]) for s in FundStatus.values],
        "funds": [(BudgetSource.DE_FUND, BudgetSource.DE_FUND.label), (BudgetSource.OTHER_FUND,
                                                                       BudgetSource.OTHER_FUND.label)],
        "organisations": participant_organisations() if _role(request) == "office" else [],
        "posted": request.POST if request.method == "POST" else {},
    }, status=status)


# --- channels ---------------------------------------------------------------------------------------------

@console
def channels(request: HttpRequest) -> HttpResponse:
    """ช่องทาง: the associations and networks, and which messages went to which agencies (read-only)."""
    chans = Channel.objects.prefetch_related("messages__organisations")
    kinds = {k: v for k, v in Organisation._meta.get_field("kind").flatchoices}
    rows = [{"c": c, "serves": [str(kinds.get(k, k)) for k in c.serves_kinds],
             "messages": sorted(c.messages.all(), key=lambda m: (m.sent_on, m.pk), reverse=True)} for c in chans]
    return render(request, "rollout/channels.html", {"section": "channels", "rows": rows, "role": _role(request)})
