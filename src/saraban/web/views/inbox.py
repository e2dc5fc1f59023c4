"""Incoming letters: the inbox, the incoming letter page and its actions, registering paper letters.

Letters are fetched through ``incoming_for`` (another organisation's letter is a 404) and changed
only through the inbox services. Opening a delivered letter as a clerk tells the sender "received".
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from saraban.access.policy import today
from saraban.core.errors import SarabanError
from saraban.directory.selectors import unit_ids_under
from saraban.documents.services import FileGone, megabytes, read_file
from saraban.documents.uploads import limit_uploads, upload_refusal
from saraban.inbox.models import Assignment, IncomingLetter, IncomingSource, IncomingStatus
from saraban.inbox.permissions import INCOMING_RULES, can_register_paper, my_open_assignments, offered_actions
from saraban.inbox.selectors import inbox, inbox_matching, incoming_for, likely_duplicates
from saraban.inbox.services import (
    close,
    complete_assignment,
    endorse,
    mark_opened,
    register,
    register_many,
    register_paper,
    return_to_sender,
)
from saraban.signatures.validation import present_report, record_for
from saraban.web.forms.inbox import ASSIGNMENT_ROWS, EndorseForm, NoteForm, PaperLetterForm
from saraban.web.forms.letters import ReasonForm
from saraban.web.i18n import pick, text

from . import errors
from .inbox_scans import scans_context, visible_incoming
from .letters import organisation_of, page_of, person_of
from .letters_actions import pdf_response
from .records_panel import records_panel

OPEN_STATUSES = (IncomingStatus.DELIVERED, IncomingStatus.REGISTERED, IncomingStatus.ASSIGNED, IncomingStatus.ACTED)
ENDORSE_FIELDS = {
    **{f"assign.{i}": f"assign_{i + 1}" for i in range(ASSIGNMENT_ROWS)},
    **{f"assign.{i}.due_date": f"due_{i + 1}" for i in range(ASSIGNMENT_ROWS)},
}
SUCCESS = {
    "register": ("ลงรับแล้ว", "Registered"), "return": ("ส่งคืนผู้ส่งแล้ว", "Returned to the sender"),
    "endorse": ("บันทึกการเกษียนแล้ว", "Endorsement saved"), "complete": ("บันทึกผลการดำเนินการแล้ว", "Marked done"),
    "close": ("ปิดเรื่องแล้ว", "Closed"),
}
ACTIONS = tuple(SUCCESS)


@require_GET
@login_required
def inbox_page(request: HttpRequest) -> HttpResponse:
    """หนังสือเข้า: received letters of my organisation, urgent first, by due date; filter by status and
    search (``q``: subject, sender, number or เลขรับ)."""
    person, org = person_of(request), organisation_of(request)
    status = request.GET.get("status", "open")
    words = request.GET.get("q", "").strip()[:200]
    rows = inbox_matching(inbox(person, organisation_ids=unit_ids_under({org.pk})), words)
    if status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status in IncomingStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    lang = text(request, "th", "en")
    statuses = [("open", text(request, "ยังไม่ปิดเรื่อง", "Open")), ("", text(request, "ทั้งหมด", "All"))] + [
        (s.value, pick(s.label, lang)) for s in IncomingStatus
    ]
    return render(request, "web/inbox/list.html", {
        "page": page_of(request, rows), "status": status, "statuses": statuses, "today": today(), "q": words,
        "may_register_many": can_register_paper(person, org) is None, "register_many_limit": REGISTER_MANY_LIMIT,
    })


REGISTER_MANY_LIMIT = 100  # letters registered at once: one page of the inbox, stamped in seconds


@require_POST
@login_required
def register_selected(request: HttpRequest) -> HttpResponse:
    """ลงรับหลายฉบับ: register the delivered letters chosen on the inbox page, all or none refused."""
    person = person_of(request)
    ids = [int(v) for v in request.POST.getlist("incoming") if v.isdigit()][:REGISTER_MANY_LIMIT + 1]
    if not ids:
        messages.error(request, text(request, "ยังไม่ได้เลือกหนังสือ", "No letter was chosen"))
        return HttpResponseRedirect("/inbox/")
    if len(ids) > REGISTER_MANY_LIMIT:
        messages.error(request, text(request, f"เลือกได้ครั้งละไม่เกิน {REGISTER_MANY_LIMIT} ฉบับ",
                                     f"Choose at most {REGISTER_MANY_LIMIT} letters at once"))
        return HttpResponseRedirect("/inbox/")
    chosen = [i for i in (incoming_for(person, pk) for pk in ids) if i is not None]
    if len(chosen) != len(ids):
        raise Http404("no such letter")
    try:
        done = register_many(chosen, actor=person)
    except SarabanError as exc:
        errors.to_messages(request, exc)
        return HttpResponseRedirect("/inbox/")
    numbers = ", ".join(str(i.receive_number) for i in done)
    left = len(chosen) - len(done)
    th = f"ลงรับแล้ว {len(done)} ฉบับ เลขรับ {numbers}" + (f" ({left} ฉบับลงรับโดยผู้อื่นไปแล้วหรือประทับตราไม่ได้)" if left else "")
    en = f"Registered {len(done)}: receive nos. {numbers}" + (f" ({left} registered meanwhile or not stampable)"
                                                              if left else "")
    messages.success(request, text(request, th, en))
    return HttpResponseRedirect("/inbox/")


def _available(incoming: IncomingLetter, request: HttpRequest) -> dict[str, Any]:
    """What the page offers: exactly the actions the rules allow (``inbox.permissions``)."""
    person = person_of(request)
    offered = offered_actions(person, incoming, seen=True)  # the page found it through ``incoming_for``
    assignments = list(incoming.assignments.select_related("unit", "assignee", "done_by").order_by("pk"))
    mine = {a.pk for a in my_open_assignments(person, incoming, seen=True)}
    return {
        **{f"may_{action}": action in offered for action in INCOMING_RULES},
        "assignments": assignments, "my_assignments": [a for a in assignments if a.pk in mine],
    }


def _page(
    request: HttpRequest, incoming: IncomingLetter, bound: dict[str, forms.Form] | None = None, error: str = "",
    status: int = 200,
) -> HttpResponse:
    page_forms: dict[str, forms.Form] = {
        "return": ReasonForm(request=request, prefix="return"),
        "endorse": EndorseForm(request=request, organisation=incoming.organisation),
        "complete": NoteForm(request=request, prefix="complete"),
    }
    page_forms.update(bound or {})
    context = {
        "incoming": incoming, "forms": page_forms, "action_error": error, "today": today(),
        "endorsements": list(incoming.endorsements.select_related("author")),
        "copy": "stamped" if incoming.stamped_id else "original",
        "validation": _validation(incoming),
        **scans_context(incoming, request),
        **records_panel("in", incoming.pk, person_of(request)),
        **_available(incoming, request),
    }
    return render(request, "web/inbox/incoming.html", context, status=status)


def _validation(incoming: IncomingLetter) -> dict[str, Any] | None:
    """The signatures' report kept on receipt (ผลตรวจสอบลายมือชื่อ ณ วันที่รับ); ``pending`` until the worker ran."""
    if incoming.source != IncomingSource.ELECTRONIC:
        return None
    record = record_for(incoming.validation_id, organisation_id=incoming.organisation_id)
    if record is None:
        return {"pending": True}
    return {"pending": False, "validated_at": record.validated_at, "report": present_report(record.report)}


@require_GET
@login_required
def incoming_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The incoming letter: its PDF (stamped copy once registered), details, endorsements and actions."""
    incoming = visible_incoming(request, pk)
    if incoming.status == IncomingStatus.DELIVERED and incoming.opened_at is None:
        mark_opened(incoming, actor=person_of(request))
    return _page(request, incoming)


@require_POST
@login_required
def incoming_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on an incoming letter: register, return, endorse, complete (an assignment), close."""
    if action not in ACTIONS:
        raise Http404("no such action")
    incoming, person = visible_incoming(request, pk), person_of(request)
    form: forms.Form | None = None
    if action == "return":
        form = ReasonForm(request.POST, request=request, prefix="return")
    elif action == "endorse":
        form = EndorseForm(request.POST, request=request, organisation=incoming.organisation)
    elif action == "complete":
        form = NoteForm(request.POST, request=request, prefix="complete")
    if form is not None and not form.is_valid():
        return _page(request, incoming, {action: form}, status=400)
    try:
        if action == "register":
            register(incoming, actor=person)
        elif action == "return":
            assert form is not None
            return_to_sender(incoming, actor=person, reason=form.cleaned_data["reason"])
        elif action == "endorse":
            assert isinstance(form, EndorseForm)
            endorse(incoming, actor=person, instruction=form.cleaned_data["instruction"], assign=form.assignments())
        elif action == "complete":
            assert form is not None
            assignment = Assignment.objects.filter(incoming=incoming, pk=_int(request.POST.get("assignment"))).first()
            if assignment is None:
                raise Http404("no such assignment")
            complete_assignment(assignment, actor=person, note=form.cleaned_data["note"])
        else:
            close(incoming, actor=person)
    except SarabanError as exc:
        message = errors.message_of(request, exc)
        if form is not None and exc.problems:
            errors.add_to_form(request, form, exc, ENDORSE_FIELDS)
            message = ""
        else:
            message = "; ".join([message, *(errors.message_of(request, p) for p in exc.problems)])
        incoming = visible_incoming(request, pk)
        return _page(request, incoming, {action: form} if form else None, message, errors.status_of(exc))
    th, en = SUCCESS[action]
    if action == "register":
        number = IncomingLetter.objects.values_list("receive_number", flat=True).get(pk=incoming.pk)
        th, en = f"{th} เลขรับ {number}", f"{en}: receive no. {number}"
    messages.success(request, text(request, th, en))
    return HttpResponseRedirect(f"/inbox/{pk}/")


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@require_GET
@login_required
def incoming_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The incoming letter's PDF: ``?copy=stamped`` (the registered copy) or ``original``, inline."""
    incoming = visible_incoming(request, pk)
    if request.GET.get("copy", "stamped") == "stamped" and incoming.stamped_id:
        sha, name = incoming.stamped_id, f"received-{incoming.receive_number}.pdf"
    else:
        sha, name = incoming.original_id, f"original-{incoming.pk}.pdf"
    try:
        return pdf_response(read_file(sha), name)
    except FileGone as exc:  # destroyed under the Regulation: its register line and record remain
        return errors.file_gone(request, exc, back=f"/inbox/{incoming.pk}/")


@csrf_exempt  # the upload's size is checked before its body is read; the CSRF check follows (csrf_protect)
@login_required
def register_paper_page(request: HttpRequest) -> HttpResponse:
    """ลงรับหนังสือกระดาษ: type the metadata, attach the scan, Enter; the receive number, then the next one.

    A scan over the limit (``SARABAN_MAX_UPLOAD_MB``) is refused while it streams, before it is read
    whole: the form comes back (413) with the limit named next to the file box.
    """
    if request.method == "POST":
        too_large = limit_uploads(request, field="scan")
        if too_large is not None:  # the body is not read, so the typed fields cannot be shown again
            form = PaperLetterForm({"urgency": "normal", "secrecy": "normal"}, request=request)
            errors.add_to_form(request, form, too_large)
            mb = megabytes(too_large.limit)
            form.add_error(None, text(
                request, f"ไฟล์ที่แนบใหญ่เกิน {mb} MB ระบบจึงไม่ได้รับข้อมูลในแบบฟอร์ม กรุณากรอกใหม่และแนบไฟล์ที่เล็กลง",
                f"The attached files are over {mb} MB, so the form was not received: fill it in again with a smaller"
                " scan",
            ))
            clerk = can_register_paper(person_of(request), organisation_of(request)) is None
            return _register_form(request, form, None, clerk, errors.status_of(too_large))
    return _register_paper(request)


@require_GET
@login_required
def paper_duplicates(request: HttpRequest) -> HttpResponse:
    """The likely-duplicate warning as the clerk types (htmx): letters received already that look the same."""
    person, org = person_of(request), organisation_of(request)
    if can_register_paper(person, org) is not None:
        raise Http404("registry only")
    form = PaperLetterForm(request.GET, request=request)
    form.is_valid()  # the typed date, if it reads as one
    day = form.cleaned_data.get("letter_date") if "letter_date" not in form.errors else None
    found = likely_duplicates(org.pk, sender=request.GET.get("sender_name", ""),
                              letter_number=request.GET.get("letter_number", ""), letter_date=day,
                              subject=request.GET.get("subject", ""))
    return render(request, "web/inbox/_duplicates.html", {"duplicates": found, "form": form})


@csrf_protect
def _register_paper(request: HttpRequest) -> HttpResponse:
    person, org = person_of(request), organisation_of(request)
    clerk = can_register_paper(person, org) is None
    done = None
    if request.method == "POST":
        form = PaperLetterForm(request.POST, request.FILES, request=request)
        too_large = upload_refusal(request)
        if too_large is not None:
            form.is_valid()
            errors.add_to_form(request, form, too_large)
            return _register_form(request, form, None, clerk, errors.status_of(too_large))
        if form.is_valid():
            letter = form.paper_letter()
            duplicates = [] if form.cleaned_data.get("register_anyway") else likely_duplicates(
                org.pk, sender=letter.sender_name, letter_number=letter.letter_number,
                letter_date=letter.letter_date, subject=letter.subject)
            if duplicates:  # a number cannot be taken back: the clerk goes on only deliberately
                form.add_error("register_anyway", text(
                    request, "หนังสือนี้อาจลงรับไปแล้ว ตรวจสอบรายการด้านบน "
                    "ถ้าเป็นคนละฉบับให้เลือก \"ลงรับซ้ำโดยตั้งใจ\" และแนบไฟล์อีกครั้ง",
                    "This letter may be registered already: check the list above; if it is another letter, tick "
                    "\"Register it anyway\" and attach the scan again"))
                return _register_form(request, form, None, clerk, 409, duplicates)
            try:
                incoming = register_paper(org, letter, scans=form.scans(), actor=person)
            except SarabanError as exc:
                errors.add_to_form(request, form, exc)
                return _register_form(request, form, None, clerk, errors.status_of(exc))
            return HttpResponseRedirect(f"/inbox/register/?done={incoming.pk}")
        return _register_form(request, form, None, clerk, 400)
    done_id = _int(request.GET.get("done"))
    if done_id:
        done = incoming_for(person, done_id)
    return _register_form(request, PaperLetterForm(request=request, initial={"urgency": "normal", "secrecy": "normal"}),
                          done, clerk, 200)


def _register_form(
    request: HttpRequest, form: PaperLetterForm, done: IncomingLetter | None, clerk: bool, status: int,
    duplicates: list[IncomingLetter] | None = None,
) -> HttpResponse:
    context = {"form": form, "done": done, "is_clerk": clerk, "organisation": organisation_of(request),
               "duplicates": duplicates or []}
    return render(request, "web/inbox/register.html", context, status=status)
