"""การจัดเก็บหนังสือ: the organisation's file plan, what is due, holds, and the destruction lists step by step.

Shown to the organisation's record keepers (its central registry and administrators), its heads (who
appoint the committee and approve), and the members of a list's committee. Every change goes through
``saraban.records``; each step's button is offered only to whom the step belongs.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from saraban.access.policy import cleared_levels, has_role
from saraban.core.errors import SarabanError
from saraban.correspondence.models import NUMBERED_STATUSES, Letter
from saraban.correspondence.selectors import letter_for
from saraban.directory.models import Organisation, Person, Role, RoleAssignment
from saraban.inbox.selectors import incoming_for
from saraban.records import destruction as flow
from saraban.records import services as records
from saraban.records.exports import HIDDEN_SUBJECT, destruction_list_file, storage_list_file
from saraban.records.letters import letter_facts, listed_facts
from saraban.records.models import (
    Case,
    CommitteeMember,
    CommitteeRole,
    DestructionItem,
    DestructionList,
    DestructionStatus,
    FilePlanEntry,
    HoldReason,
    ItemDecision,
    LegalHold,
)
from saraban.records.permissions import can_keep_records, may_see_records
from saraban.records.retention import Retention, RetentionClass, buddhist_year
from saraban.records.selectors import active_holds, due_for_destruction, file_plan, open_cases
from saraban.records.transfer import due_for_transfer, handover_deadline
from saraban.regulation.kinds import LetterSubtype
from saraban.web.i18n import text

from . import errors
from .letters import organisation_of, person_of

STEPS = [DestructionStatus.DRAFTED, DestructionStatus.COMMITTEE, DestructionStatus.REVIEWED,
         DestructionStatus.APPROVED, DestructionStatus.SENT, DestructionStatus.DESTROYED]


def _allowed(request: HttpRequest) -> tuple[Person, Organisation]:
    person, org = person_of(request), organisation_of(request)
    if not may_see_records(person, org):
        raise Http404("records are kept by the registry")
    return person, org


def _today_be() -> int:
    from saraban.access.policy import today

    return buddhist_year(today())


@require_GET
@login_required
def records_page(request: HttpRequest) -> HttpResponse:
    """The overview: file plan, due for destruction and transfer, holds, the destruction lists."""
    person, org = _allowed(request)
    year = _today_be() - 1
    records.ensure_records(org.pk)
    plan = list(file_plan(org.pk))
    return render(request, "web/records/page.html", {
        "organisation": org, "plan": plan, "year": year,
        "due": due_for_destruction(org.pk, year).count(),
        # The handover due next: this year's, by 31 January of the next (ข้อ 58).
        "transfer_year": year + 1, "transfer_due": due_for_transfer(org.pk, year + 1).count(),
        "transfer_deadline": handover_deadline(year + 1),
        "holds": active_holds().filter(record__organisation=org).select_related("record", "placed_by")[:50],
        "lists": DestructionList.objects.filter(organisation=org).order_by("-year"),
        "may_keep": can_keep_records(person, org) is None,
        "has_list": DestructionList.objects.filter(organisation=org, year=year).exists(),
    })


@require_POST
@login_required
def records_plan(request: HttpRequest) -> HttpResponse:
    """Import the file plan from a CSV upload (UTF-8)."""
    person, org = _allowed(request)
    upload = request.FILES.get("plan")
    try:
        if upload is None or upload.size is None or upload.size > 2 * 1024 * 1024:
            raise SarabanError("records.plan_file", "แนบไฟล์ CSV ของแผนแฟ้ม (ไม่เกิน 2 MB)",
                               "Attach the file plan as CSV (2 MB at most)")
        try:
            content = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise SarabanError("records.plan_encoding", "ไฟล์ต้องเป็น CSV แบบ UTF-8",
                               "The file must be UTF-8 CSV") from None
        rows = records.import_file_plan(org, content, actor=person)
    except SarabanError as exc:
        errors.to_messages(request, exc)
    else:
        messages.success(request, text(request, f"นำเข้าแผนแฟ้ม {rows} รายการแล้ว", f"Imported {rows} files"))
    return HttpResponseRedirect("/records/")


@require_GET
@login_required
def records_plan_csv(request: HttpRequest) -> HttpResponse:
    """The file plan as CSV, to edit and import back."""
    _, org = _allowed(request)
    response = HttpResponse(records.file_plan_csv(org.pk), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="file-plan-{org.identifier}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def records_draw_up(request: HttpRequest) -> HttpResponse:
    """Draw up last year's destruction list."""
    person, org = _allowed(request)
    try:
        listed = flow.draw_up(org, _today_be() - 1, actor=person)
    except SarabanError as exc:
        errors.to_messages(request, exc)
        return HttpResponseRedirect("/records/")
    messages.success(request, text(request, "จัดทำบัญชีหนังสือขอทำลายแล้ว", "The destruction list is drawn up"))
    return HttpResponseRedirect(f"/records/destruction/{listed.pk}/")


def _list_for(request: HttpRequest, pk: int) -> tuple[Person, DestructionList]:
    person = person_of(request)
    listed = DestructionList.objects.filter(pk=pk).select_related("organisation", "committee_order").first()
    if listed is None:
        raise Http404("no such list")
    member = CommitteeMember.objects.filter(destruction=listed, person=person).exists()
    if not member and not may_see_records(person, listed.organisation_id):
        raise Http404("no such list")
    return person, listed


class RetentionForm(forms.Form):
    """A kept item's new retention and why."""

    retention = forms.ChoiceField(choices=RetentionClass.choices)
    years = forms.IntegerField(required=False, min_value=1, max_value=200)
    legal_basis = forms.CharField(required=False, max_length=300)
    reason = forms.CharField(required=False, max_length=500)


def _rows(listed: DestructionList, cleared: list[str]) -> list[dict[str, Any]]:
    rows = []
    items = list(listed.items.select_related("record", "record__case__file").order_by("pk"))
    held = set(active_holds().filter(record_id__in=[i.record_id for i in items]).values_list("record_id", flat=True))
    letters = listed_facts(i.record for i in items)
    for item in items:
        facts = letters.get((item.record.kind, item.record.object_id))
        hidden = facts is not None and facts.secrecy != "normal" and facts.secrecy not in cleared
        rows.append({"item": item, "facts": facts, "held": item.record_id in held,
                     "subject": HIDDEN_SUBJECT if hidden else (facts.subject if facts else ""),
                     "file": item.record.case.file.code if item.record.case else ""})
    return rows


def _people_of(org: Organisation) -> list[Person]:
    ids = RoleAssignment.objects.filter(organisation=org).values_list("person_id", flat=True)
    return list(Person.objects.filter(pk__in=ids).order_by("name_th"))


@require_GET
@login_required
def destruction_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One destruction list: its steps, its items, and the step the person may take now."""
    person, listed = _list_for(request, pk)
    org = listed.organisation
    member = CommitteeMember.objects.filter(destruction=listed, person=person).first()
    committee = list(listed.committee.select_related("person").order_by("role", "pk"))
    is_head = has_role(person, org, Role.SIGNER)
    keeper = can_keep_records(person, org) is None
    status = DestructionStatus(listed.status)
    reached = STEPS.index(status) if status in STEPS else len(STEPS) - 1
    return render(request, "web/records/destruction.html", {
        "listed": listed, "rows": _rows(listed, cleared_levels(person, org.pk)),
        "committee": committee, "member": member,
        "steps": [(s, i <= reached) for i, s in enumerate(STEPS)],
        "may_appoint": is_head and status == DestructionStatus.DRAFTED,
        "may_decide": member is not None and status == DestructionStatus.COMMITTEE,
        "may_sign": member is not None and status == DestructionStatus.COMMITTEE and member.signed_at is None,
        "may_approve": is_head and status == DestructionStatus.REVIEWED,
        "may_send": keeper and status == DestructionStatus.APPROVED,
        "may_destroy": keeper and status in (DestructionStatus.SENT, DestructionStatus.DESTROYING),
        "people": _people_of(org) if status == DestructionStatus.DRAFTED else [],
        "orders": Letter.objects.filter(organisation=org, subtype=LetterSubtype.ORDER,
                                        status__in=NUMBERED_STATUSES).order_by("-pk")[:30],
        "retentions": RetentionClass.choices, "channels": flow.CHANNELS,
    })


def _appoint(request: HttpRequest, person: Person, listed: DestructionList) -> None:
    chosen = [int(v) for v in request.POST.getlist("member") if v.isdigit()]
    chair = request.POST.get("chair", "")
    people = {p.pk: p for p in Person.objects.filter(pk__in=chosen)}
    members = [flow.Appointee(people[i], CommitteeRole.CHAIR if str(i) == chair else CommitteeRole.MEMBER)
               for i in chosen if i in people]
    order = Letter.objects.filter(pk=int(request.POST.get("order") or 0), organisation=listed.organisation).first()
    if order is None:
        raise SarabanError("records.order_required", "เลือกคำสั่งแต่งตั้งคณะกรรมการ",
                           "Choose the order that appoints the committee")
    flow.appoint_committee(listed, members, order=order, actor=person)


def _decide(request: HttpRequest, person: Person, listed: DestructionList) -> None:
    item = DestructionItem.objects.filter(destruction=listed, pk=int(request.POST.get("item") or 0)).first()
    if item is None:
        raise Http404("no such item")
    if request.POST.get("decision") == ItemDecision.DESTROY:
        flow.decide(item, keep=False, actor=person)
        return
    form = RetentionForm(request.POST)
    if not form.is_valid():
        raise SarabanError("records.retention_form", "อายุการเก็บไม่ถูกต้อง", "The retention is not valid")
    data = form.cleaned_data
    flow.decide(item, keep=True, actor=person, reason=data["reason"],
                retention=Retention(RetentionClass(data["retention"]), data["years"], data["legal_basis"] or ""))


ACTIONS = {
    "appoint": _appoint,
    "decide": _decide,
    "sign": lambda request, person, listed: flow.sign(listed, actor=person),
    "approve": lambda request, person, listed: flow.approve(listed, actor=person,
                                                            reference=request.POST.get("reference", "")),
    "send": lambda request, person, listed: flow.send_to_archives(
        listed, actor=person, channel=request.POST.get("channel", ""), reference=request.POST.get("reference", "")),
    "object": lambda request, person, listed: flow.record_objection(listed, actor=person,
                                                                    note=request.POST.get("note", "")),
    "destroy": lambda request, person, listed: flow.destroy(listed, actor=person),
}
DONE = {
    "appoint": ("แต่งตั้งคณะกรรมการแล้ว", "The committee is appointed"),
    "decide": ("บันทึกการพิจารณาแล้ว", "The decision is saved"),
    "sign": ("ลงนามรับรองบัญชีแล้ว", "You signed the list"),
    "approve": ("อนุมัติการทำลายแล้ว", "Destruction approved"),
    "send": ("บันทึกการส่งกรมศิลปากรแล้ว", "Sent to the National Archives"),
    "object": ("บันทึกการทักท้วงแล้ว", "The objection is recorded"),
    "destroy": ("ทำลายหนังสือตามบัญชีแล้ว", "The listed letters are destroyed"),
}


@require_POST
@login_required
def destruction_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step of the list (the services check who may and when)."""
    if action not in ACTIONS and action != "covering":
        raise Http404("no such step")
    person, listed = _list_for(request, pk)
    if action == "covering":
        try:
            letter = flow.draft_covering_letter(listed, actor=person)
        except SarabanError as exc:
            errors.to_messages(request, exc)
            return HttpResponseRedirect(f"/records/destruction/{pk}/")
        messages.success(request, text(request, "ร่างหนังสือนำส่งพร้อมบัญชีแล้ว ตรวจแล้วส่งตามขั้นตอนปกติ",
                                       "The covering letter is drafted with the list: check it and send it as usual"))
        return HttpResponseRedirect(f"/letters/{letter.pk}/edit/")
    try:
        ACTIONS[action](request, person, listed)
    except SarabanError as exc:
        errors.to_messages(request, exc)
    else:
        messages.success(request, text(request, *DONE[action]))
    return HttpResponseRedirect(f"/records/destruction/{pk}/")


def _letter_record(request: HttpRequest, kind: str, object_id: int) -> str:
    """The page of the letter the panel is on, after checking the person may open that letter."""
    person = person_of(request)
    if kind == "out" and letter_for(person, object_id) is not None:
        return f"/letters/{object_id}/"
    if kind == "in" and incoming_for(person, object_id) is not None:
        return f"/inbox/{object_id}/"
    raise Http404("no such letter")


@require_POST
@login_required
def letter_record_action(request: HttpRequest, kind: str, object_id: int, action: str) -> HttpResponse:
    """The panel's forms: file the letter, set its retention, place or release a hold."""
    back = _letter_record(request, kind, object_id)
    person = person_of(request)
    try:
        record = records.record_for(kind, object_id)
        if action == "file" and (request.POST.get("case") or "").isdigit():  # into a case already open
            joined = open_cases(record.organisation_id).filter(pk=int(request.POST["case"])).first()
            if joined is None:
                raise Http404("no such case")
            records.file_letter(kind, object_id, joined, actor=person)
        elif action == "file":
            file = FilePlanEntry.objects.filter(pk=int(request.POST.get("file") or 0),
                                                organisation_id=record.organisation_id).first()
            if file is None:
                raise Http404("no such file")
            facts = letter_facts(kind, object_id)
            case = record.case if record.case and record.case.file_id == file.pk else records.open_case(
                file, facts.subject if facts and facts.subject else file.title, actor=person)
            records.file_letter(kind, object_id, case, actor=person)
        elif action == "retention":
            form = RetentionForm(request.POST)
            if not form.is_valid():
                raise SarabanError("records.retention_form", "อายุการเก็บไม่ถูกต้อง", "The retention is not valid")
            data = form.cleaned_data
            retention = Retention(RetentionClass(data["retention"]), data["years"], data["legal_basis"] or "")
            records.override_retention(record, retention, reason=data["reason"], actor=person)
        elif action == "hold":
            reason = request.POST.get("reason", "")
            if reason not in HoldReason.values:
                raise SarabanError("records.hold_reason", "เลือกเหตุของการระงับ", "Choose why it is held")
            records.place_hold(record, HoldReason(reason), request.POST.get("detail", ""), actor=person)
        elif action == "release":
            hold = LegalHold.objects.filter(pk=int(request.POST.get("hold") or 0), record=record).first()
            if hold is None:
                raise Http404("no such hold")
            records.release_hold(hold, note=request.POST.get("note", ""), actor=person)
        else:
            raise Http404("no such action")
    except SarabanError as exc:
        errors.to_messages(request, exc)
    else:
        messages.success(request, text(request, "บันทึกการจัดเก็บแล้ว", "Saved"))
    return HttpResponseRedirect(back + "#records-panel")


_FORMATS = {"pdf": "application/pdf",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _download(data: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=_FORMATS[fmt])
    response["Content-Disposition"] = f'{"inline" if fmt == "pdf" else "attachment"}; filename="{name}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def destruction_form(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """แบบที่ 25 of the list, as PDF or XLSX."""
    if fmt not in _FORMATS:
        raise Http404("no such format")
    person, listed = _list_for(request, pk)
    cleared = cleared_levels(person, listed.organisation_id)  # classified subjects only to those cleared
    data = destruction_list_file(listed.organisation, listed.year, fmt, cleared=cleared)
    return _download(data, fmt, f"destruction-list-{listed.year}")


def _case_for(request: HttpRequest, pk: int) -> tuple[Person, Case]:
    person = person_of(request)
    case = Case.objects.filter(pk=pk).select_related("file").first()
    if case is None or not may_see_records(person, case.organisation_id):
        raise Http404("no such case")
    return person, case


def _back_to_letter(request: HttpRequest) -> HttpResponse:
    """Back to the letter page the form was on (only a page of this site), else the records page."""
    back = str(request.POST.get("back", ""))
    local = back.startswith(("/letters/", "/inbox/")) and "//" not in back and "\\" not in back
    return HttpResponseRedirect(back if local else "/records/")


CASE_STEPS = {
    "complete": (records.complete_case, ("ส่งเก็บเรื่องแล้ว: ประทับตรากำหนดเก็บบนสำเนาเก็บแล้ว",
                                          "The case is stored: its copies carry the retention stamp")),
    "audit": (records.keep_for_audit, ("เก็บไว้เพื่อใช้ในการตรวจสอบแล้ว", "Kept for audit")),
}


@require_POST
@login_required
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """A case's next storage stage (ข้อ 52): completed (its stored copies stamped), then kept for audit."""
    if step not in CASE_STEPS:
        raise Http404("no such step")
    person, case = _case_for(request, pk)
    change, (th, en) = CASE_STEPS[step]
    try:
        change(case, actor=person)
    except SarabanError as exc:
        errors.to_messages(request, exc)
    else:
        messages.success(request, text(request, th, en))
    return _back_to_letter(request)


@require_GET
@login_required
def case_form(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """แบบที่ 19 of a completed case, as PDF or XLSX."""
    if fmt not in _FORMATS:
        raise Http404("no such format")
    _, case = _case_for(request, pk)
    try:
        data = storage_list_file(case, fmt)
    except SarabanError as exc:
        return render(request, "web/forbidden.html", {
            "heading": text(request, "ยังไม่มีบัญชีหนังสือส่งเก็บ", "No storage list yet"),
            "reason": errors.message_of(request, exc), "back": "/records/",
            "back_label": text(request, "จัดเก็บหนังสือ", "Records")}, status=errors.status_of(exc))
    return _download(data, fmt, f"storage-list-{case.pk}")
