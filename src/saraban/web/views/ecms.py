"""e-CMS (DGA): the system administrators' page of connections and the e-CMS directory; the registry's resend.

- ``/network/ecms/``: each organisation's account on its own e-CMS node (add or replace one),
  "ปรับปรุงทะเบียนหน่วยงาน e-CMS" per account, and the e-CMS directory: search, and match each
  agency to a directory organisation (typed, resolved here: one hit matches, none or several say
  so), add it to the directory as a new organisation, or undo a match.
- ``/network/ecms/dispatch/<pk>/resend/`` and ``…/dispute/``: the registry withdraws and resends a
  letter e-CMS returned or failed, or tells the receiver its เลขรับ is wrong (buttons on the queue page).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from saraban.access.policy import organisations_with_role
from saraban.core.errors import FieldProblem, SarabanError, ValidationFailed
from saraban.core.thai import arabic_digits
from saraban.correspondence.permissions import REGISTRY
from saraban.directory.models import Organisation, Person
from saraban.ecms.client import NodeError
from saraban.ecms.models import EcmsConnection, EcmsOrganisation
from saraban.ecms.selectors import connections, search_agencies
from saraban.ecms.services import (
    add_to_directory,
    connect,
    dispute_accept_id,
    is_system_admin,
    match,
    refresh_directory,
    resend,
    set_active,
)
from saraban.exchange.models import Dispatch
from saraban.web.i18n import text

PAGE = "/network/ecms/"
DIRECTORY_ROWS = 50
AGENCY_ACTIONS = ("match", "unmatch", "add")
CANDIDATES_NAMED = 5  # an ambiguous match names this many of the organisations it found
CONNECTION_FIELDS = ("organisation", "endpoint", "ministry_id", "department_id")


def _person(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)
    return request.user


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/forbidden.html", {
        "reason": text(request, "เฉพาะผู้ดูแลระบบตั้งค่าการเชื่อมต่อ e-CMS ได้",
                       "Only system administrators set up the e-CMS connections"),
        "back": "/", "back_label": text(request, "กลับหน้าแรก", "Back home"),
    }, status=403)


def _refused(request: HttpRequest, exc: SarabanError) -> None:
    """A service's refusal as one error message: its problems in words (the general message when it has none)."""
    details = [text(request, p.message_th, p.message_en) for p in exc.problems]
    messages.error(request, "; ".join(details) if details else text(request, exc.message_th, exc.message_en))


def words_in(request: HttpRequest, words: str) -> str:
    """The request's half of an error stored in both languages ("ไทย / English", ``NodeError.words``).

    A description the node gave appears in both halves, so an even number of " / " parts splits in
    the middle; any other text is shown whole.
    """
    parts = words.split(" / ")
    if len(parts) < 2 or len(parts) % 2:
        return words
    half = len(parts) // 2
    return text(request, " / ".join(parts[:half]), " / ".join(parts[half:]))


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the directory as it was searched (the agency forms carry ``q`` and ``unmatched``)."""
    query = {"q": (request.POST.get("q") or "").strip()[:100], "unmatched": request.POST.get("unmatched") == "1"}
    params = urlencode({k: "1" if v is True else v for k, v in query.items() if v})
    # No #directory: the page opens at its top, where the message about what was done is shown.
    return HttpResponseRedirect(f"{PAGE}{'?' + params if params else ''}")


def hostable_organisations() -> QuerySet[Organisation]:
    """Organisations that may have an e-CMS account: ours (no ``home_deployment``), not an agency reached
    through e-CMS (one matched in the e-CMS directory without an account of its own), by name."""
    reached = EcmsOrganisation.objects.filter(organisation__isnull=False).values("organisation_id")
    connected = EcmsConnection.objects.values("organisation_id")
    return (Organisation.objects.filter(home_deployment="", is_active=True)
            .exclude(Q(pk__in=reached) & ~Q(pk__in=connected)).order_by("name_th"))


def find_organisations(query: str, limit: int = CANDIDATES_NAMED + 1) -> list[Organisation]:
    """Directory organisations a typed identifier, letter code or name stands for, the most exact kind first.

    The identifier, then the letter code (spaces ignored: "นร0105" is "นร 0105"), then the whole
    Thai or English name, then a part of a name: the first of these that finds anything decides.
    """
    typed = arabic_digits(query.strip())
    if not typed:
        return []
    squeezed = typed.replace(" ", "")
    rows = Organisation.objects.filter(home_deployment="").order_by("name_th", "pk")
    for found in (
        rows.filter(identifier__iexact=typed),
        rows.annotate(code=Replace("letter_code", Value(" "), Value(""))).filter(code__iexact=squeezed)
        .exclude(letter_code=""),
        rows.filter(Q(name_th__iexact=typed) | Q(name_en__iexact=typed)),
        rows.filter(Q(name_th__icontains=typed) | Q(name_en__icontains=typed)),
    ):
        hits = list(found[:limit])
        if hits:
            return hits
    return []


def _named(organisation: Organisation) -> str:
    code = f" ({organisation.letter_code})" if organisation.letter_code else ""
    return f"{organisation.name_th}{code}"


@login_required
def ecms_page(request: HttpRequest) -> HttpResponse:
    """การเชื่อมต่อ e-CMS: accounts (add or replace one), refreshing the directory, and the e-CMS directory."""
    person = _person(request)
    if not is_system_admin(person):
        return _forbidden(request)
    hostable = list(hostable_organisations())
    accounts = list(connections())
    form = dict.fromkeys(CONNECTION_FIELDS, "")
    editing = request.GET.get("edit", "")
    chosen = next((c for c in accounts if str(c.pk) == editing), None)
    if chosen is not None:
        form = {"organisation": str(chosen.organisation_id), "endpoint": chosen.endpoint,
                "ministry_id": chosen.ministry_id, "department_id": chosen.department_id}
    if request.method == "POST":
        form = {name: (request.POST.get(name) or "").strip()[:500] for name in CONNECTION_FIELDS}
        organisation = next((o for o in hostable if str(o.pk) == form["organisation"]), None)
        if organisation is None:
            messages.error(request, text(request, "เลือกหน่วยงานที่จะเชื่อมต่อ", "Choose the organisation to connect"))
        else:
            taken = EcmsConnection.objects.filter(department_id=form["department_id"]).exclude(
                organisation=organisation).select_related("organisation").first()
            try:
                if taken is not None:  # the service would stumble on the unique department id
                    raise ValidationFailed([FieldProblem(
                        "department_id", "taken",
                        f"รหัสกรม {taken.department_id} เป็นบัญชี e-CMS ของ {taken.organisation.name_th} อยู่แล้ว",
                        f"Department id {taken.department_id} is already the e-CMS account of "
                        f"{taken.organisation.name_th}")])
                replaced = EcmsConnection.objects.filter(organisation=organisation).exists()
                connect(organisation, endpoint=form["endpoint"], ministry_id=form["ministry_id"],
                        department_id=form["department_id"], actor=person)
            except SarabanError as exc:
                _refused(request, exc)
            else:
                messages.success(request, text(
                    request,
                    f"{'แก้ไข' if replaced else 'บันทึก'}การเชื่อมต่อ e-CMS ของ {organisation.name_th} แล้ว",
                    f"The e-CMS account of {organisation.name_en or organisation.name_th} is "
                    f"{'replaced' if replaced else 'saved'}",
                ))
                return HttpResponseRedirect(PAGE)
    query = request.GET.get("q", "").strip()[:100]
    unmatched_only = request.GET.get("unmatched") == "1"
    agencies = search_agencies(query, unmatched_only=unmatched_only, limit=DIRECTORY_ROWS)
    total = EcmsOrganisation.objects.count()
    return render(request, "web/network/ecms.html", {
        "connections": [(c, words_in(request, c.last_error)) for c in accounts],
        "hostable": hostable, "form": form, "editing": chosen,
        "form_open": chosen is not None or request.method == "POST" or not accounts,
        "connected_ids": {c.organisation_id for c in accounts},
        "agencies": agencies, "query": query, "unmatched_only": unmatched_only, "limit": DIRECTORY_ROWS,
        "total": total, "unmatched_total": EcmsOrganisation.objects.filter(organisation__isnull=True).count(),
    })


@require_POST
@login_required
def refresh(request: HttpRequest, pk: int) -> HttpResponse:
    """ปรับปรุงทะเบียนหน่วยงาน e-CMS: read the directory from this account's node; counts, or the node's error."""
    if not is_system_admin(_person(request)):
        return _forbidden(request)
    connection = get_object_or_404(EcmsConnection.objects.select_related("organisation"), pk=pk)
    name = connection.organisation.name_th
    try:
        new, updated = refresh_directory(connection, actor=_person(request))
    except NodeError as exc:
        messages.error(request, text(
            request, f"ปรับปรุงทะเบียนหน่วยงาน e-CMS จากบัญชีของ {name} ไม่สำเร็จ: {exc.message_th}",
            f"The e-CMS directory could not be read through {name}'s account: {exc.message_en}"))
    except SarabanError as exc:
        _refused(request, exc)
    else:
        messages.success(request, text(
            request, f"ปรับปรุงทะเบียนหน่วยงาน e-CMS แล้ว: เพิ่มใหม่ {new} หน่วยงาน ปรับปรุงข้อมูล {updated} หน่วยงาน",
            f"e-CMS directory refreshed: {new} new agencies, {updated} updated"))
    return HttpResponseRedirect(PAGE)


@require_POST
@login_required
def switch(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """ระงับ / เปิดใช้: stop or restart posting and polling for this account."""
    if not is_system_admin(_person(request)):
        return _forbidden(request)
    if action not in ("suspend", "resume"):
        raise Http404
    connection = get_object_or_404(EcmsConnection.objects.select_related("organisation"), pk=pk)
    try:
        set_active(connection, action == "resume", actor=_person(request))
    except SarabanError as exc:
        _refused(request, exc)
    else:
        name = connection.organisation.name_th
        messages.success(request, text(request, f"{'เปิดใช้' if action == 'resume' else 'ระงับ'}บัญชี e-CMS ของ {name} แล้ว",
                                       f"{name}'s e-CMS account {'resumed' if action == 'resume' else 'suspended'}"))
    return HttpResponseRedirect(PAGE)


def _match_typed(request: HttpRequest, agency: EcmsOrganisation, person: Person) -> None:
    typed = (request.POST.get("organisation") or "").strip()[:255]
    if not typed:
        messages.error(request, text(request, "พิมพ์รหัสหน่วยงาน รหัสหนังสือ หรือชื่อหน่วยงานในทะเบียนที่จะจับคู่",
                                     "Type the directory organisation's identifier, letter code or name"))
        return
    found = find_organisations(typed)
    if not found:
        messages.error(request, text(
            request, f"ไม่พบหน่วยงานในทะเบียนที่ตรงกับ “{typed}” ลองพิมพ์รหัสหนังสือ (เช่น นร 0105) หรือชื่อเต็ม "
                     "หรือใช้ปุ่ม “เพิ่มเป็นหน่วยงานใหม่ในทะเบียน”",
            f"No directory organisation matches “{typed}”: try its letter code or full name, "
            "or add the agency to the directory"))
        return
    if len(found) > 1:
        names = ", ".join(_named(o) for o in found[:CANDIDATES_NAMED])
        more = text(request, " และอื่น ๆ", " and more") if len(found) > CANDIDATES_NAMED else ""
        messages.error(request, text(
            request, f"“{typed}” ตรงกับหน่วยงานหลายแห่ง: {names}{more} ให้พิมพ์รหัสหนังสือหรือชื่อเต็มของหน่วยงานที่ต้องการ",
            f"“{typed}” matches several organisations: {names}{more}; type the letter code or full name of one"))
        return
    try:
        match(agency, found[0], actor=person)
    except SarabanError as exc:  # say what the typed text stood for: the refusal names the organisation
        details = "; ".join(text(request, p.message_th, p.message_en) for p in exc.problems) or \
            text(request, exc.message_th, exc.message_en)
        messages.error(request, f"“{typed}” → {_named(found[0])}: {details}")
        return
    messages.success(request, text(request, f"จับคู่ {agency.th_name} กับ {_named(found[0])} แล้ว",
                                   f"{agency.th_name} is matched to {_named(found[0])}"))


@require_POST
@login_required
def agency_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Match an e-CMS agency to a directory organisation, undo the match, or add it to the directory."""
    person = _person(request)
    if not is_system_admin(person):
        return _forbidden(request)
    if action not in AGENCY_ACTIONS:
        raise Http404
    agency = get_object_or_404(EcmsOrganisation.objects.select_related("organisation"), pk=pk)
    try:
        if action == "match":
            _match_typed(request, agency, person)
        elif action == "unmatch":
            if agency.organisation is None:
                messages.error(request, text(request, "หน่วยงานนี้ยังไม่ได้จับคู่", "This agency is not matched"))
            else:
                was = agency.organisation
                match(agency, None, actor=person)
                messages.success(request, text(request, f"ยกเลิกการจับคู่ {agency.th_name} กับ {was.name_th} แล้ว",
                                               f"{agency.th_name} is no longer matched to {was.name_th}"))
        else:
            organisation = add_to_directory(agency, actor=person)
            messages.success(request, text(
                request, f"เพิ่ม {organisation.name_th} เป็นหน่วยงานใหม่ในทะเบียน (รหัส {organisation.identifier}) "
                         "และจับคู่แล้ว",
                f"{organisation.name_th} is added to the directory ({organisation.identifier}) and matched"))
    except SarabanError as exc:
        _refused(request, exc)
    return _back(request)


def _dispatch_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    person = _person(request)
    dispatch = get_object_or_404(Dispatch.objects.select_related("letter"), pk=pk,
                                 letter__organisation_id__in=organisations_with_role(person, *REGISTRY))
    number = dispatch.letter.number
    try:
        if action == "resend":
            row = resend(dispatch, actor=person)
            th, en = ((" ระบบจะถอนฉบับเดิมออกจาก e-CMS ก่อนส่ง", " (the earlier copy is withdrawn from e-CMS first)")
                      if row.withdraw_first else ("", ""))
            messages.success(request, text(request, f"นำหนังสือ {number} เข้าคิวส่งทาง e-CMS อีกครั้งแล้ว{th}",
                                           f"Letter {number} is queued for e-CMS again{en}"))
        else:
            dispute_accept_id(dispatch, actor=person)
            messages.success(request, text(
                request, f"แจ้งผู้รับทาง e-CMS แล้วว่าเลขรับ {dispatch.receive_number} ของหนังสือ {number} ไม่ถูกต้อง",
                f"The receiver is told through e-CMS that receipt number {dispatch.receive_number} of letter "
                f"{number} is wrong"))
    except SarabanError as exc:
        _refused(request, exc)
    return HttpResponseRedirect("/network/queue/")  # at its top, where the message is


@require_POST
@login_required
def dispatch_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """ถอนและส่งใหม่."""
    return _dispatch_action(request, pk, "resend")


@require_POST
@login_required
def dispatch_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """แจ้งเลขรับไม่ถูกต้อง."""
    return _dispatch_action(request, pk, "dispute")
