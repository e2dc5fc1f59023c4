"""Outgoing letters: my drafts, the editor with its live PDF preview, the letter page and its actions, the outbox.

Letters are always fetched through the selectors (another organisation's letter is a 404) and
changed only through the services; a refusal is shown next to the field or at the top of the page.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from saraban.access.policy import has_role
from saraban.core.errors import SarabanError, ValidationFailed
from saraban.correspondence.content import letter_problems
from saraban.correspondence.models import Letter
from saraban.correspondence.permissions import can_draft, can_edit
from saraban.correspondence.selectors import drafts_of, letter_for, outbox, outbox_matching
from saraban.correspondence.services import create_letter, update_letter
from saraban.correspondence.workflow import set_recipients, submit_for_review
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import search_recipients, unit_ids_under, visible_organisation_ids
from saraban.documents.services import FileGone
from saraban.regulation.kinds import LetterType
from saraban.rendering.engine import RenderError
from saraban.rendering.letters import render_letter
from saraban.rendering.printable import unrenderable_problems
from saraban.web.context_processors import acting_organisation
from saraban.web.forms.letters import (
    PROBLEM_FIELDS,
    LetterForm,
    SubmitForm,
    letter_type_from,
    organisation_id,
    unit_names,
)
from saraban.web.i18n import text

from . import errors
from .letters_actions import ACTIONS, letter_context, pdf_response, perform, stored_or_rendered
from .paging import page_of_rows

PAGE_SIZE = 50
PREVIEW_SECONDS = 15 * 60
TYPE_CHOICES = [
    (t.value, t.label_th, t.label_en) for t in LetterType
]
MAX_SEARCH = 100  # characters of a search of the recipient picker


def person_of(request: HttpRequest) -> Person:
    """The signed-in person (the views are all behind ``login_required``)."""
    user = request.user
    assert isinstance(user, Person)
    return user


def organisation_of(request: HttpRequest) -> Organisation:
    """The organisation the user is acting for (404 when they hold no role anywhere)."""
    org = acting_organisation(request)
    if org is None:
        raise Http404("no organisation")
    return org


def visible_letter(request: HttpRequest, pk: int) -> Letter:
    """The letter ``pk`` if the user may see it; 404 otherwise, leaking nothing."""
    letter = letter_for(person_of(request), pk)
    if letter is None:
        raise Http404("no such letter")
    return letter


def page_of(request: HttpRequest, rows: Any) -> Any:
    """One page of 50 rows of a list (``?page=``)."""
    return page_of_rows(rows, request.GET.get("page"), PAGE_SIZE)


@require_GET
@login_required
def drafts(request: HttpRequest) -> HttpResponse:
    """ร่างหนังสือ: my drafts (returned ones marked with the reviewer's comment), newest first."""
    rows = drafts_of(person_of(request)).select_related("organisation")
    return render(request, "web/letters/drafts.html", {"page": page_of(request, rows), "types": TYPE_CHOICES})


def _editor(
    request: HttpRequest, form: LetterForm, letter: Letter | None, submit: SubmitForm, status: int = 200
) -> HttpResponse:
    context = {
        "form": form, "letter": letter, "submit_form": submit, "letter_type": form.letter_type,
        "type_label": text(request, form.letter_type.label_th, form.letter_type.label_en),
        "units": unit_names(form.organisation), "organisation": form.organisation,
    }
    return render(request, "web/letters/editor.html", context, status=status)


@login_required
def new_letter(request: HttpRequest) -> HttpResponse:
    """The editor for a new letter of ``?type=`` (external by default) of the acting organisation."""
    person, org = person_of(request), organisation_of(request)
    letter_type = letter_type_from(request.POST.get("type") or request.GET.get("type"))
    refused = can_draft(person, org)
    if refused is not None:
        messages.error(request, errors.message_of(request, refused.error()))
        return render(request, "web/letters/refused.html", status=refused.http_status)
    if request.method != "POST":
        form = LetterForm(initial=LetterForm.initial_new(letter_type, org), request=request, organisation=org,
                          letter_type=letter_type)
        return _editor(request, form, None, SubmitForm(request=request, organisation=org))
    form = LetterForm(request.POST, request=request, organisation=org, letter_type=letter_type)
    submit = SubmitForm(_submit_data(request), request=request, organisation=org)
    if not (form.is_valid() and submit.is_valid()):
        return _editor(request, form, None, submit, status=400)
    try:
        with transaction.atomic():
            letter = create_letter(org, form.content(), author=person)
            to, cc = form.recipients()
            set_recipients(letter, to, cc, actor=person)
    except SarabanError as exc:
        errors.add_to_form(request, form, exc, PROBLEM_FIELDS)
        return _editor(request, form, None, submit, status=errors.status_of(exc))
    return _after_save(request, letter, submit)


@login_required
def edit_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor for a draft its author or a registry clerk may change (``permissions.can_edit``)."""
    person, letter = person_of(request), visible_letter(request, pk)
    org = letter.organisation
    letter_type = LetterType(letter.type)
    refused = can_edit(person, letter)
    if refused is not None:
        messages.error(request, errors.message_of(request, refused.error()))
        return HttpResponseRedirect(f"/letters/{letter.pk}/")
    if request.method != "POST":
        form = LetterForm(initial=LetterForm.initial_for(letter), request=request, organisation=org,
                          letter_type=letter_type)
        initial = {"signer": letter.signer_id}
        return _editor(request, form, letter, SubmitForm(initial=initial, request=request, organisation=org))
    form = LetterForm(request.POST, request=request, organisation=org, letter_type=letter_type)
    submit = SubmitForm(_submit_data(request), request=request, organisation=org)
    if not (form.is_valid() and submit.is_valid()):
        return _editor(request, form, letter, submit, status=400)
    changes = {k: v for k, v in form.content(letter.content).items() if k not in ("number", "date")}
    try:
        with transaction.atomic():
            letter = update_letter(letter, changes, actor=person)
            to, cc = form.recipients()
            set_recipients(letter, to, cc, actor=person)
    except SarabanError as exc:
        errors.add_to_form(request, form, exc, PROBLEM_FIELDS)
        return _editor(request, form, letter, submit, status=errors.status_of(exc))
    return _after_save(request, letter, submit)


def _submit_data(request: HttpRequest) -> dict[str, str]:
    data = {k: request.POST.get(k, "") for k in ("reviewer_1", "reviewer_2", "reviewer_3")}
    data["signer"] = request.POST.get("signer_person", "")
    return data


def _after_save(request: HttpRequest, letter: Letter, submit: SubmitForm) -> HttpResponse:
    """Saved: stay a draft, or go on to review when the user pressed "save and submit"."""
    if request.POST.get("then") != "submit":
        messages.success(request, text(request, "บันทึกร่างแล้ว", "Draft saved"))
        return HttpResponseRedirect(f"/letters/{letter.pk}/")
    reviewers, signer = submit.chosen()
    try:
        submit_for_review(letter, actor=person_of(request), reviewers=reviewers, signer=signer)
    except SarabanError as exc:
        messages.success(request, text(request, "บันทึกร่างแล้ว", "Draft saved"))
        errors.to_messages(request, exc)
        return HttpResponseRedirect(f"/letters/{letter.pk}/edit/")
    messages.success(request, text(request, "บันทึกและส่งตรวจแล้ว", "Saved and submitted for review"))
    return HttpResponseRedirect(f"/letters/{letter.pk}/")


@require_GET
@login_required
def recipients(request: HttpRequest) -> JsonResponse:
    """The organisations a letter may be sent to that match ``?q=``, for the editor's recipient picker (JSON).

    ``?for=`` is the organisation the letter is written in: one where the user holds a role, or a
    unit below it (the acting organisation when it is left out). At most 20 answers, each
    ``{id, name_th, name_en, letter_code, remote}``. A search too long or with a NUL, or a ``for``
    that is not an id, is a 400; an organisation the user does not write for is a 404 (JSON both).
    """
    query, sender_id = request.GET.get("q", ""), request.GET.get("for", "")
    if len(query) > MAX_SEARCH or any(ord(c) < 32 or ord(c) == 127 for c in query):
        return _json_error(request, 400, "bad_search", f"คำค้นต้องยาวไม่เกิน {MAX_SEARCH} ตัวอักษรและไม่มีอักขระควบคุม",
                           f"The search must be at most {MAX_SEARCH} characters, without control characters")
    try:
        sender_pk = organisation_id(sender_id) if sender_id else None
    except ValueError:
        return _json_error(request, 400, "bad_organisation", "รหัสหน่วยงานไม่ถูกต้อง", "The organisation id is malformed")
    if sender_pk is None:
        sender = acting_organisation(request)
    elif sender_pk in visible_organisation_ids(person_of(request)):
        sender = Organisation.objects.filter(pk=sender_pk).first()
    else:
        sender = None
    if sender is None:
        return _json_error(request, 404, "no_organisation", "ไม่พบหน่วยงานที่ท่านร่างหนังสือในนาม",
                           "No organisation you write letters for")
    return JsonResponse({"results": [
        {"id": o.pk, "name_th": o.name_th, "name_en": o.name_en, "letter_code": o.letter_code, "remote": o.is_remote}
        for o in search_recipients(sender, query)
    ]})


def _json_error(request: HttpRequest, status: int, code: str, th: str, en: str) -> JsonResponse:
    """An error of a JSON answer, in the API's shape: a stable code, a Thai and an English message."""
    return JsonResponse({"code": code, "message": text(request, th, en), "message_th": th, "message_en": en},
                        status=status)


@require_POST
@login_required
def preview(request: HttpRequest) -> HttpResponse:
    """The live preview (htmx): render the editor's current fields to PDF and answer a frame that shows it.

    The PDF waits in the cache under a random token for the signed-in user; the frame loads it
    from ``/letters/preview/<token>.pdf``. Missing fields are listed, not refused: it is a draft.
    """
    person = person_of(request)
    letter_id = request.POST.get("letter", "")
    org = visible_letter(request, int(letter_id)).organisation if letter_id.isdigit() else organisation_of(request)
    letter_type = letter_type_from(request.POST.get("type"))
    form = LetterForm(request.POST, request=request, organisation=org, letter_type=letter_type)
    context: dict[str, Any] = {"token": None, "problems": []}
    if form.is_valid():
        try:
            content = form.preview_content()
            blocking = unrenderable_problems(content)
            pdf = b"" if blocking else render_letter(content)
        except (ValidationError, RenderError, ValidationFailed):
            context["failed"] = True
        else:
            if blocking:  # what must be fixed before the letter can be drawn at all
                context["problems"] = [errors.message_of(request, p) for p in blocking]
                return render(request, "web/letters/preview.html", context)
            token = secrets.token_urlsafe(16)
            cache.set(f"saraban:preview:{token}", (person.pk, pdf), PREVIEW_SECONDS)
            context["token"] = token
            context["problems"] = [errors.message_of(request, p) for p in letter_problems(content)]
    else:
        context["failed"] = True
    return render(request, "web/letters/preview.html", context)


@require_GET
@login_required
def preview_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The preview PDF stored under ``token``, for the user who made it only."""
    stored = cache.get(f"saraban:preview:{token}")
    if not stored or stored[0] != person_of(request).pk:
        raise Http404("preview expired")
    return pdf_response(stored[1], "preview.pdf")


@require_GET
@login_required
def letter_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter page: its PDF, state, history, recipients' status and the actions open to the viewer."""
    letter = visible_letter(request, pk)
    return render(request, "web/letters/letter.html", letter_context(request, letter, person_of(request)))


@require_POST
@login_required
def letter_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on a letter (approve, return, sign, number, send, cancel, close, correct, submit)."""
    if action not in ACTIONS:
        raise Http404("no such action")
    letter = visible_letter(request, pk)
    return perform(request, letter, person_of(request), action)


@require_GET
@login_required
def letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter's PDF as it stands (the stored rendition, or rendered now for a draft), inline."""
    letter = visible_letter(request, pk)
    name = (letter.number or f"draft-{letter.pk}").replace("/", "-").replace(" ", "")
    blocking = unrenderable_problems(letter.letter_content) if letter.pdf is None else []
    try:
        if blocking:
            raise ValidationFailed(blocking)
        return pdf_response(stored_or_rendered(letter), f"{name}.pdf")
    except FileGone as exc:  # destroyed under the Regulation: its register line and record remain
        return errors.file_gone(request, exc, back=f"/letters/{letter.pk}/")
    except (ValidationFailed, RenderError) as exc:  # a draft saved before these checks existed
        problems = exc.problems if isinstance(exc, ValidationFailed) else []
        reason = "; ".join(errors.message_of(request, p) for p in problems) or text(
            request, "สร้าง PDF ของหนังสือนี้ไม่ได้", "The PDF of this letter cannot be made")
        return render(request, "web/forbidden.html", {
            "heading": text(request, "ยังสร้าง PDF ของหนังสือนี้ไม่ได้", "This letter cannot be drawn yet"),
            "reason": reason, "back": f"/letters/{letter.pk}/edit/",
            "back_label": text(request, "แก้ไขร่างหนังสือ", "Edit the draft"),
        }, status=409)


@require_GET
@login_required
def outbox_page(request: HttpRequest) -> HttpResponse:
    """หนังสือออก: numbered and sent letters of my organisation, each recipient's status, 50 a page;
    ``q`` searches the subject, the number and the recipients."""
    person, org = person_of(request), organisation_of(request)
    words = request.GET.get("q", "").strip()[:200]
    rows = outbox_matching(outbox(person, unit_ids_under({org.pk})), words).select_related("organisation")
    clerk = has_role(person, org, Role.CENTRAL_CLERK, Role.UNIT_CLERK)
    return render(request, "web/letters/outbox.html", {"page": page_of(request, rows), "is_clerk": clerk,
                                                       "q": words})
