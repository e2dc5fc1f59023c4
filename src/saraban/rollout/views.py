"""Pages of the programme console (members only) and the agencies' survey link (no account needed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from saraban.core.errors import SarabanError
from saraban.core.labels import pair
from saraban.directory.models import Organisation, ProgrammeCategory, Province
from saraban.web.i18n import language, text
from saraban.web.views.errors import message_of

from . import charts, maps, report, selectors, services
from .imports import AnswerProblem, parse_answer
from .models import (
    AnswerType,
    BudgetSource,
    Need,
    OutreachActivity,
    ReadinessLevel,
    RequestStatus,
    ResponseSource,
    SupportRequest,
)

View = Callable[..., HttpResponse]


def console(view: View) -> View:
    """Members of the programme only: sign-in first, then 403 for everyone else."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        role = selectors.member_role(request.user)
        if role is None:
            return render(request, "rollout/refused.html", status=403)
        request.programme_role = role  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)
    return wrapper


def _labels(lang: str) -> dict[str, dict[str, str]]:
    def half(label: str) -> str:
        th, en = pair(label)
        return en if lang == "en" else th
    return {
        "category": {c.value: half(c.label) for c in ProgrammeCategory},
        "level": {v.value: half(v.label) for v in ReadinessLevel},
        "need": {n.value: half(n.label) for n in Need},
    }


@console
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts of the programme, the map of ready agencies and the headlines of each question."""
    lang = language(request)
    board = selectors.dashboard()
    labels = _labels(lang)
    categories = [(labels["category"][c], board.ready_by_category.get(c, 0)) for c in selectors.CATEGORY_ORDER
                  if board.ready_by_category.get(c)]
    return render(request, "rollout/dashboard.html", {
        "section": "dashboard",
        "board": board, "categories": categories, "map_svg": maps.province_map(selectors.province_counts(), lang=lang),
        "shades": list(zip(maps.SHADES, ["0", "1–2", "3–5", "6–10", "11–20", "21+"], strict=True)),
        "survey": selectors.current_survey(), "role": request.programme_role,  # type: ignore[attr-defined]
        "charts": _adoption_charts(lang),
    })


def _adoption_charts(lang: str) -> list[dict[str, str]]:
    """The dashboard's charts (SVG drawn on the server): adoption over 12 months and the survey's readiness."""
    series = charts.adoption()
    en = lang == "en"
    levels = _labels(lang)["level"]
    readiness = charts.readiness_by_category()
    category = _labels(lang)["category"]
    rows = [(category[c], readiness[c]) for c in selectors.CATEGORY_ORDER if c in readiness]
    no_pki = not any(series.pki_signatures)
    return [
        {"title": "Agencies active per month" if en else "หน่วยงานที่ใช้งานระบบรายเดือน (แห่ง)",
         "svg": charts.bar_chart("Agencies active per month" if en else "หน่วยงานที่ใช้งานระบบรายเดือน",
                                 series.labels, series.agencies_active, slug="ch-active", colour="#3d85c6"),
         "note": "An agency is active in a month when it created or registered a letter." if en else
                 "หน่วยงานที่สร้างหรือลงทะเบียนหนังสืออย่างน้อย 1 ฉบับในเดือนนั้น"},
        {"title": "Letters sent electronically per month" if en else "หนังสือที่ส่งทางอิเล็กทรอนิกส์รายเดือน (ฉบับ)",
         "svg": charts.bar_chart("Letters sent electronically" if en else "หนังสือที่ส่งทางอิเล็กทรอนิกส์รายเดือน",
                                 series.labels, series.dispatches, slug="ch-sent"),
         "note": "One per recipient agency." if en else "นับหนึ่งฉบับต่อหน่วยงานผู้รับ"},
        {"title": "Share signed with a PKI certificate" if en else "สัดส่วนการลงนามด้วยใบรับรองอิเล็กทรอนิกส์ (PKI)",
         "svg": charts.line_chart("Share signed with a PKI certificate" if en else "สัดส่วนการลงนามด้วยใบรับรอง PKI",
                                  series.labels, series.pki_percent, slug="ch-pki", unit="%",
                                  note=("No letter has been signed with a PKI certificate yet." if en else
                                        "ยังไม่มีการลงนามด้วยใบรับรอง PKI") if no_pki else ""),
         "note": (f"{sum(series.pki_signatures)} of {sum(series.signatures)} signatures in 12 months" if en else
                  f"ลงนามด้วย PKI {sum(series.pki_signatures):,} จาก {sum(series.signatures):,} ลายมือชื่อใน 12 เดือน")},
        {"title": "Survey: readiness by kind of agency" if en else "ผลสำรวจ: ระดับความพร้อมรายกลุ่มหน่วยงาน",
         "svg": charts.readiness_chart("Readiness by kind of agency" if en else "ระดับความพร้อมรายกลุ่มหน่วยงาน",
                                       rows, levels),
         "note": ""},
    ]


@console
def report_page(request: HttpRequest) -> HttpResponse:
    """The quarterly progress report: choose the fiscal quarter, preview the tables, download PDF or XLSX."""
    try:
        quarter = report.parse_quarter(request.GET.get("quarter"))
    except ValueError:
        quarter = report.parse_quarter(None)
        messages.error(request, text(request, "ไตรมาสไม่ถูกต้อง แสดงไตรมาสปัจจุบันแทน",
                                     "Not a quarter: showing the current one"))
    built = report.build_report(quarter)
    quarters = report.available_quarters()
    if quarter not in quarters:
        quarters.append(quarter)
    return render(request, "rollout/report.html", {
        "section": "report", "report": built, "quarter": quarter, "quarters": quarters,
    })


@console
def report_file(request: HttpRequest, fmt: str) -> HttpResponse:
    """The quarterly report as a PDF or an XLSX download."""
    try:
        quarter = report.parse_quarter(request.GET.get("quarter"))
    except ValueError as error:
        raise Http404("no such quarter") from error
    built = report.build_report(quarter)
    name = f"programme-report-{quarter.code}"
    if fmt == "pdf":
        response = HttpResponse(report.report_pdf(built), content_type="application/pdf")
    else:
        response = HttpResponse(report.report_xlsx(built), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@console
@require_http_methods(["GET", "POST"])
def groups(request: HttpRequest) -> HttpResponse:
    """Groups (kind × readiness level) × needs × providers; the grouping rules, editable by the office."""
    lang = language(request)
    if request.method == "POST":
        try:
            thresholds = {lvl: float(request.POST.get(lvl, "")) for lvl in ReadinessLevel.values}
        except ValueError:
            messages.error(request, text(request, "เกณฑ์ต้องเป็นตัวเลข", "Thresholds must be numbers"))
            return HttpResponseRedirect(request.path)
        try:
            services.set_grouping_rules(thresholds, actor=request.user)  # type: ignore[arg-type]
        except SarabanError as error:
            details = "; ".join(message_of(request, p) for p in error.problems)
            messages.error(request, f"{message_of(request, error)} {details}".strip())
        else:
            messages.success(request, text(request, "บันทึกเกณฑ์การจัดกลุ่มแล้ว", "Grouping rules saved"))
        return HttpResponseRedirect(request.path)
    table = selectors.group_table()
    labels = _labels(lang)
    chosen = None
    category, level = request.GET.get("category", ""), request.GET.get("level", "")
    if category and level:
        row = next((r for r in table.rows if r.category == category and r.level == level), None)
        if row is not None:
            survey = selectors.current_survey()
            scores = selectors.agency_scores(survey) if survey else {}
            orgs = Organisation.objects.filter(pk__in=row.organisation_ids).select_related("province")
            chosen = {"row": row, "agencies": sorted(
                ({"org": o, "percent": scores[o.pk].percent, "needs": [labels["need"][n] for n in scores[o.pk].needs]}
                 for o in orgs), key=lambda a: -float(str(a["percent"])))}
    rules = {r.level: r.min_percent for r in selectors.level_rules()}
    return render(request, "rollout/groups.html", {
        "section": "groups",
        "table": table, "labels": labels, "chosen": chosen, "rules": [
            (lvl, labels["level"][lvl], rules.get(lvl, 0)) for lvl in ReadinessLevel.values],
        "need_labels": [labels["need"][n] for n in table.needs],
        "provider_names": {c: p.short_name or (p.name_en if lang == "en" and p.name_en else p.name_th)
                           for c, p in table.providers.items()},
        "provider_full": {c: (p.name_en if lang == "en" and p.name_en else p.name_th)
                          for c, p in table.providers.items()},
        "role": request.programme_role,  # type: ignore[attr-defined]
        "requests": SupportRequest.objects.values("status").annotate(n=Count("pk")).order_by("status"),
        "status_labels": {s.value: s.label for s in RequestStatus},
    })


CERTIFICATES_PER_PAGE = 50


def _certificate_matches(row: selectors.LapseRow, folded: str) -> bool:
    province = row.organisation.province.name_th if row.organisation.province else ""
    return any(folded in text.casefold() for text in (
        row.organisation.name_th, row.organisation.name_en, province, row.certificate.holder, row.certificate.provider))


@console
def certificates(request: HttpRequest) -> HttpResponse:
    """Whose certificates lapse in the next 12 months, and whose lapse with no budget (flagged); the list
    is searched by agency, province, holder or CA (``q``) and paged, ``CERTIFICATES_PER_PAGE`` a page."""
    rows = selectors.certificate_lapses()
    timeline = selectors.lapse_timeline(rows)
    only_unfunded = request.GET.get("only") == "nobudget"
    query = request.GET.get("q", "").strip()[:100]
    shown = [r for r in rows if r.without_budget] if only_unfunded else rows
    if query:
        shown = [r for r in shown if _certificate_matches(r, query.casefold())]
    page = Paginator(shown, CERTIFICATES_PER_PAGE).get_page(request.GET.get("page"))
    top = max((b.total for b in timeline), default=0) or 1
    return render(request, "rollout/certificates.html", {
        "section": "certificates", "q": query, "page": page, "shown_total": len(shown),
        "rows": page.object_list, "timeline": timeline, "top": top, "only_unfunded": only_unfunded,
        "unfunded_agencies": len({r.organisation.pk for r in rows if r.without_budget}),
        "unfunded": sum(r.without_budget for r in rows), "total": len(rows),
    })


@console
@require_http_methods(["GET", "POST"])
def outreach(request: HttpRequest) -> HttpResponse:
    """The shared outreach calendar and the activities that reach the same group twice."""
    if request.method == "POST":
        try:
            services.set_overlap_window(int(request.POST.get("window", "")), actor=request.user)  # type: ignore[arg-type]
        except ValueError:
            messages.error(request, text(request, "จำนวนวันต้องเป็นตัวเลข", "The window must be a number of days"))
        except SarabanError as error:
            messages.error(request, message_of(request, error.problems[0] if error.problems else error))
        else:
            messages.success(request, text(request, "บันทึกช่วงเวลาแล้ว", "Window saved"))
        return HttpResponseRedirect(request.path)
    window = selectors.overlap_window()
    overlaps = selectors.outreach_overlaps(window)
    provinces = dict(Province.objects.values_list("code", "name_th"))
    kinds = {k: pair(v)[0] for k, v in Organisation._meta.get_field("kind").flatchoices}
    found = [{
        "o": o, "provinces": [provinces.get(c, c) for c in sorted(o.provinces)],
        "kinds": [kinds.get(k, k) for k in sorted(o.kinds)],
    } for o in overlaps]
    flagged = {o.host.id for o in overlaps} | {o.guest.id for o in overlaps}
    activities = OutreachActivity.objects.prefetch_related("provinces")
    return render(request, "rollout/outreach.html", {
        "section": "outreach",
        "overlaps": found, "window": window, "activities": activities, "flagged": flagged, "kinds": kinds,
        "role": request.programme_role,  # type: ignore[attr-defined]
    })


@console
def agency(request: HttpRequest, pk: int) -> HttpResponse:
    """One agency: its readiness score with the breakdown, certificates, requests and follow-up."""
    org = get_object_or_404(Organisation.objects.select_related("province"), pk=pk)
    survey = selectors.current_survey()
    score = None
    if survey is not None:
        answers = selectors.answers_by_organisation(survey).get(org.pk)
        if answers is not None:
            from . import scoring

            score = scoring.score(selectors.question_specs(survey), answers)
    level = None
    if score is not None:
        from .grouping import level_for

        level = _labels(language(request))["level"].get(level_for(score.percent, selectors.level_rules()))
    lang = language(request)
    answer_labels: list[str] = []
    if score is not None and survey is not None:
        options = {q.code: {o["value"]: (o.get("label_en") if lang == "en" else o.get("label_th")) or o["value"]
                            for o in q.options or []} for q in survey.questions.all()}
        for c in score.contributions:
            values = c.answer if isinstance(c.answer, list) else [] if c.answer is None else [c.answer]
            answer_labels.append(", ".join(str(options.get(c.code, {}).get(str(v), v)) for v in values) or "–")
    return render(request, "rollout/agency.html", {
        "rows": list(zip(score.contributions, answer_labels, strict=True)) if score else [],
        "budget_labels": {b.value: b.label for b in BudgetSource},
        "org": org, "score": score, "level": level, "certificates": selectors.signing_certificates(org),
        "requests": SupportRequest.objects.filter(organisation=org).select_related("provider"),
        "follow": selectors.follow_up([org.pk])[org.pk], "labels": _labels(language(request)),
    })


@console
def map_svg(request: HttpRequest) -> HttpResponse:
    """The province map alone, as an SVG document."""
    svg = maps.province_map(selectors.province_counts(), lang=language(request))
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


def _survey_refusal(request: HttpRequest, state: str) -> HttpResponse:
    status = 404 if state == "unknown" else 410
    return render(request, "rollout/survey_closed.html", {"state": state}, status=status)


@require_http_methods(["GET", "POST"])
def survey_form(request: HttpRequest, token: str) -> HttpResponse:
    """The per-agency survey link: no account; 404 unknown, 410 expired or already answered."""
    invitation, state = selectors.invitation_by_token(token)
    if invitation is None or state != "ok":
        return _survey_refusal(request, state)
    questions = list(invitation.survey.questions.all())
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        for q in questions:
            raw: str | list[str] = (request.POST.getlist(q.code) if q.answer_type == AnswerType.MULTI_CHOICE
                                    else request.POST.get(q.code, ""))
            try:
                values[q.code] = parse_answer(q, raw)
            except AnswerProblem as problem:
                errors[q.code] = text(request, problem.message_th, problem.message_en)
                values[q.code] = raw
        if not errors:
            services.submit_response(invitation.survey, invitation.organisation,
                                     {k: v for k, v in values.items() if v is not None},
                                     source=ResponseSource.ONLINE, invitation=invitation)
            return render(request, "rollout/survey_done.html", {"invitation": invitation})
    lang = language(request)
    items = []
    for q in questions:
        current = values.get(q.code)
        items.append({
            "q": q, "text": q.text_en if lang == "en" and q.text_en else q.text_th, "error": errors.get(q.code),
            "value": "" if current is None else current,
            "options": [{"value": o["value"], "label": o.get("label_en") if lang == "en" and o.get("label_en")
                         else o.get("label_th") or o["value"],
                         "checked": o["value"] == current or (isinstance(current, list) and o["value"] in current)}
                        for o in q.options or []],
        })
    return render(request, "rollout/survey_form.html", {
        "invitation": invitation, "items": items, "has_errors": bool(errors),
        "expires": timezone.localtime(invitation.expires_at),
    }, status=400 if errors else 200)
