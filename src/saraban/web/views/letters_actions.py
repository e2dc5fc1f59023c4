"""The letter page's context and its actions: who may do what now, and doing it through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from saraban.audit.selectors import events_for
from saraban.core.errors import SarabanError
from saraban.correspondence.models import Letter
from saraban.correspondence.permissions import offered_actions
from saraban.correspondence.services import cancel_letter, issue_number, start_correction
from saraban.correspondence.workflow import (
    approve_review,
    close_letter,
    return_for_changes,
    sign_letter,
    submit_for_review,
)
from saraban.directory.models import Person
from saraban.documents.services import read_file
from saraban.exchange.services import send_letter
from saraban.rendering.letters import render_letter
from saraban.signatures.archive import current_version
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import SigningCertificate
from saraban.signatures.selectors import usable_certificates
from saraban.web.forms.letters import CommentForm, ReasonForm, SignForm, SubmitForm
from saraban.web.i18n import text

from . import errors
from .records_panel import records_panel

ACTIONS = ("submit", "approve", "return", "sign", "number", "send", "cancel", "close", "correct")
# Audit actions of a letter, as the timeline names them.
EVENT_LABELS = {
    "letter.created": ("สร้างร่าง", "Draft created"), "letter.updated": ("แก้ไขร่าง", "Draft edited"),
    "letter.recipients_set": ("กำหนดผู้รับ", "Recipients chosen"), "letter.submitted": ("ส่งตรวจ", "Submitted"),
    "letter.review_approved": ("ผ่านการตรวจ", "Review passed"), "letter.returned": ("ส่งกลับแก้ไข", "Returned"),
    "letter.signed": ("ลงนาม", "Signed"), "letter.numbered": ("ออกเลข", "Numbered"),
    "letter.sent": ("ส่งหนังสือ", "Sent"), "letter.closed": ("ปิดเรื่อง", "Closed"),
    "letter.cancelled": ("ยกเลิก", "Cancelled"), "letter.superseded": ("มีฉบับแก้ไขแทน", "Superseded"),
}
SUCCESS = {
    "submit": ("ส่งตรวจแล้ว", "Submitted for review"), "approve": ("ผ่านการตรวจแล้ว", "Approved"),
    "return": ("ส่งกลับให้แก้ไขแล้ว", "Returned for changes"), "sign": ("ลงนามแล้ว", "Signed"),
    "number": ("ออกเลขหนังสือแล้ว", "Numbered"), "send": ("ส่งหนังสือแล้ว", "Sent"),
    "cancel": ("ยกเลิกหนังสือแล้ว", "Cancelled"), "close": ("ปิดเรื่องแล้ว", "Closed"),
    "correct": ("สร้างร่างฉบับแก้ไขแล้ว", "Correction drafted"),
}


def available_actions(letter: Letter, person: Person) -> set[str]:
    """The actions ``person`` may take on ``letter`` now: exactly what the rules allow
    (``correspondence.permissions``), which the services enforce when they are taken."""
    return offered_actions(person, letter, seen=True)  # the pages find letters through ``letter_for``


def letter_context(
    request: HttpRequest, letter: Letter, person: Person, bound: dict[str, forms.Form] | None = None,
    error: str = "",
) -> dict[str, Any]:
    """Everything the letter page shows; ``bound`` holds the forms of a refused action, with their errors."""
    content = letter.letter_content
    actions = available_actions(letter, person)
    submit = SubmitForm(request=request, organisation=letter.organisation)
    # The signer chosen in the editor is printed in the content; offer that person by default.
    named = next((p.pk for p in submit.signers if p.name == content.signer.name), None)
    submit.initial = {"signer": letter.signer_id or named}
    action_forms: dict[str, forms.Form] = {
        "submit": submit,
        "review": CommentForm(request=request),
        # The certificates are looked up only for the person who may sign now.
        "sign": SignForm(request=request, certificates=_certificates(person, letter) if "sign" in actions else ()),
        "cancel": ReasonForm(request=request, prefix="cancel"),
    }
    for action, form in (bound or {}).items():
        action_forms["review" if action in ("approve", "return") else action] = form
    events = events_for("letter", letter.pk)
    lang_en = text(request, "th", "en") == "en"
    timeline = [
        {"at": e.occurred_at, "who": e.actor_label, "what": (EVENT_LABELS.get(e.action, (e.action, e.action))[
            1 if lang_en else 0]), "detail": e.detail.get("comment") or e.detail.get("reason") or e.detail.get(
            "number") or ""}
        for e in events
    ]
    corrections = Letter.objects.filter(supersedes=letter).only("pk", "number", "status")
    return {
        "letter": letter, "content": content, "actions": actions,
        "forms": action_forms, "action_error": error,
        "steps": list(letter.review_steps.select_related("reviewer")),
        "signatures": list(letter.signatures.select_related("signer")),
        "dispatches": list(letter.dispatches.select_related("recipient").order_by("id")),
        "recipients": list(letter.recipients.select_related("organisation")),
        "timeline": timeline, "corrections": list(corrections),
        "supersedes": letter.supersedes if letter.supersedes_id else None,
        **records_panel("out", letter.pk, person),
    }


def perform(request: HttpRequest, letter: Letter, person: Person, action: str) -> HttpResponse:
    """Take ``action`` on ``letter``: success → back to the page with a message; refusal → the page with the error."""
    form = _bound_form(request, letter, action)
    if form is not None and not form.is_valid():
        context = letter_context(request, letter, person, {action: form})
        return render(request, "web/letters/letter.html", context, status=400)
    try:
        target = _STEPS[action](letter, person, form)
    except SarabanError as exc:
        message = errors.message_of(request, exc)
        if form is not None and exc.code in PROOF_REFUSED:
            form.add_error("password", message)  # wrong password: say so next to the box
            message = ""
        elif form is not None and exc.problems:
            errors.add_to_form(request, form, exc)
            message = ""
        else:
            message = "; ".join([message, *(errors.message_of(request, p) for p in exc.problems)])
        context = letter_context(request, letter, person, {action: form} if form is not None else None, message)
        return render(request, "web/letters/letter.html", context, status=errors.status_of(exc))
    messages.success(request, text(request, *SUCCESS[action]))
    return HttpResponseRedirect(target)


def _bound_form(request: HttpRequest, letter: Letter, action: str) -> forms.Form | None:
    if action == "submit":
        return SubmitForm(request.POST, request=request, organisation=letter.organisation)
    if action in ("approve", "return"):
        return CommentForm(request.POST, request=request)
    if action == "sign":
        person = request.user
        assert isinstance(person, Person)
        return SignForm(request.POST, request=request, certificates=_certificates(person, letter))
    if action == "cancel":
        return ReasonForm(request.POST, request=request, prefix="cancel")
    return None


def _page(letter: Letter) -> str:
    return f"/letters/{letter.pk}/"


def _submit(letter: Letter, person: Person, form: forms.Form | None) -> str:
    assert isinstance(form, SubmitForm)
    reviewers, signer = form.chosen()
    submit_for_review(letter, actor=person, reviewers=reviewers, signer=signer)
    return _page(letter)


def _comment(form: forms.Form | None) -> str:
    assert form is not None
    return str(form.cleaned_data.get("comment", ""))


def _correct(letter: Letter, person: Person, form: forms.Form | None) -> str:
    return f"/letters/{start_correction(letter, actor=person).pk}/edit/"


def _sign(letter: Letter, person: Person, form: forms.Form | None) -> str:
    assert isinstance(form, SignForm)
    proof = SignerProof(form.cleaned_data["password"])
    sign_letter(letter, actor=person, proof=proof, certificate=form.chosen_certificate())
    return _page(letter)


def _certificates(person: Person, letter: Letter) -> list[SigningCertificate]:
    """The certificates ``person`` may sign this letter with (none: only the typed-name signature)."""
    return usable_certificates(person, letter.organisation_id)


# Refusals that mean "the password or PIN was wrong": shown next to the box.
PROOF_REFUSED = {"signature.reauthentication_failed", "key.pkcs12_unlock_failed", "key.token_unlock_failed"}


def _cancel(letter: Letter, person: Person, form: forms.Form | None) -> str:
    assert form is not None
    cancel_letter(letter, reason=form.cleaned_data["reason"], actor=person)
    return _page(letter)


_STEPS: dict[str, Callable[[Letter, Person, forms.Form | None], str]] = {
    "submit": _submit,
    "approve": lambda letter, person, form: _page(approve_review(letter, actor=person, comment=_comment(form))),
    "return": lambda letter, person, form: _page(return_for_changes(letter, actor=person, comment=_comment(form))),
    "sign": _sign,
    "number": lambda letter, person, form: _page(issue_number(letter, actor=person)),
    "send": lambda letter, person, form: (send_letter(letter, actor=person), _page(letter))[1],
    "cancel": _cancel,
    "close": lambda letter, person, form: _page(close_letter(letter, actor=person)),
    "correct": _correct,
}


def stored_or_rendered(letter: Letter) -> bytes:
    """The letter's stored PDF (its newest LTA renewal), or its content rendered now when it has none (a draft)."""
    if letter.pdf is not None:
        return read_file(current_version(letter.pdf).sha256)
    return render_letter(letter.letter_content)


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    """A PDF shown in the browser (``inline``), which the pages may put in a frame of the same site."""
    response = HttpResponse(data, content_type="application/pdf")
    safe = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "-_.")) or "letter.pdf"
    response["Content-Disposition"] = f'inline; filename="{safe}"'
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cache-Control"] = "private, no-store"
    return response
