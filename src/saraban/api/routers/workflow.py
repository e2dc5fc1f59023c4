"""The outgoing workflow's actions on a letter, and the caller's work queue.

Each action finds the letter through the access rules (404 otherwise) and calls one service, which
checks the caller's role (403) and the letter's state (409) and writes in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from saraban.access.policy import organisations_with_role, today
from saraban.core.errors import FieldProblem, ReferenceNotFound
from saraban.correspondence.selectors import awaiting_my_review, awaiting_my_signature, awaiting_number, drafts_of
from saraban.correspondence.services import cancel_letter, issue_number, start_correction
from saraban.correspondence.workflow import (
    approve_review,
    close_letter,
    return_for_changes,
    set_recipients,
    sign_letter,
    submit_for_review,
)
from saraban.directory.models import Role
from saraban.exchange.services import send_letter
from saraban.inbox.permissions import executive_organisation_ids
from saraban.inbox.selectors import awaiting_endorsement, awaiting_registration, my_assignments
from saraban.signatures.methods import SignerProof
from saraban.signatures.selectors import usable_certificates

from ..auth import person_of
from ..schemas import (
    ERRORS,
    CommentIn,
    Id,
    LetterDetail,
    ReasonIn,
    RecipientsIn,
    ReturnIn,
    SignedOut,
    SignIn,
    SubmitIn,
    WorkQueue,
    assignment_out,
    incoming_summary,
    letter_detail,
    letter_summary,
)
from . import colleague, organisations_by_id, visible_letter

router = Router(tags=["workflow"])
CLERKS = (Role.CENTRAL_CLERK, Role.UNIT_CLERK)
QUEUE_ITEMS = 20


@router.put("/letters/{int:letter_id}/recipients", response={200: LetterDetail, **ERRORS}, summary="Set recipients")
def put_recipients(request: HttpRequest, letter_id: Id, payload: RecipientsIn) -> dict[str, Any]:
    """Choose the organisations a draft goes to (``to``) and copies to (``cc``), from the public directory."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    to = organisations_by_id(payload.to, "to")
    cc = organisations_by_id(payload.cc, "cc")
    set_recipients(letter, to, cc, actor=person)
    return letter_detail(letter)


@router.post("/letters/{int:letter_id}/submit", response={200: LetterDetail, **ERRORS}, summary="Submit for review")
def submit(request: HttpRequest, letter_id: Id, payload: SubmitIn) -> dict[str, Any]:
    """Send a draft to its reviewers in order and name its signer (none for a stamped letter). A draft
    that still lacks a field its type requires, a missing signer, or a reviewer or signer without that
    role is 422, naming each problem."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    reviewers = [colleague(person, pk, f"reviewer_ids.{i}") for i, pk in enumerate(payload.reviewer_ids)]
    signer = colleague(person, payload.signer_id, "signer_id") if payload.signer_id is not None else None
    return letter_detail(submit_for_review(letter, actor=person, reviewers=reviewers, signer=signer))


@router.post("/letters/{int:letter_id}/approve", response={200: LetterDetail, **ERRORS}, summary="Approve (review)")
def approve(request: HttpRequest, letter_id: Id, payload: CommentIn) -> dict[str, Any]:
    """The current reviewer passes the letter on, with an optional comment."""
    person = person_of(request)
    return letter_detail(approve_review(visible_letter(person, letter_id), actor=person, comment=payload.comment))


@router.post("/letters/{int:letter_id}/return", response={200: LetterDetail, **ERRORS}, summary="Return for changes")
def return_letter(request: HttpRequest, letter_id: Id, payload: ReturnIn) -> dict[str, Any]:
    """The current reviewer (or the signer) sends the letter back to its author, saying what to change."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    return letter_detail(return_for_changes(letter, actor=person, comment=payload.comment))


@router.post("/letters/{int:letter_id}/sign", response={200: SignedOut, **ERRORS}, summary="Sign")
def sign(request: HttpRequest, letter_id: Id, payload: SignIn) -> dict[str, Any]:
    """Sign an approved letter: by typed name (the sign-in password) or, with ``certificate_id``, with a
    registered certificate (PAdES; the letter is numbered as it is signed). Secrets are never stored."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    certificate = None
    if payload.certificate_id is not None:
        certificate = next(
            (c for c in usable_certificates(person, letter.organisation_id) if c.pk == payload.certificate_id), None
        )
        if certificate is None:
            raise ReferenceNotFound([FieldProblem(
                "certificate_id", "unusable", "ท่านใช้ใบรับรองนี้ลงนามหนังสือฉบับนี้ไม่ได้",
                "You cannot sign this letter with that certificate",
            )])
    signature = sign_letter(letter, actor=person, proof=SignerProof(payload.password), certificate=certificate)
    letter.refresh_from_db()
    return {"letter": letter_detail(letter), "pdf_sha256": signature.pdf_sha256}


@router.post("/letters/{int:letter_id}/number", response={200: LetterDetail, **ERRORS}, summary="Issue the number")
def number(request: HttpRequest, letter_id: Id) -> dict[str, Any]:
    """The registry gives a signed letter its number and date from the right register (idempotent)."""
    person = person_of(request)
    return letter_detail(issue_number(visible_letter(person, letter_id), actor=person))


@router.post("/letters/{int:letter_id}/send", response={200: LetterDetail, **ERRORS}, summary="Send")
def send(request: HttpRequest, letter_id: Id) -> dict[str, Any]:
    """Send a numbered letter to all its recipients at once."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    send_letter(letter, actor=person)
    return letter_detail(letter)


@router.post("/letters/{int:letter_id}/cancel", response={200: LetterDetail, **ERRORS}, summary="Cancel")
def cancel(request: HttpRequest, letter_id: Id, payload: ReasonIn) -> dict[str, Any]:
    """Cancel a letter (its author or the registry); a drawn number stays in the register marked ยกเลิก."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    return letter_detail(cancel_letter(letter, reason=payload.reason, actor=person))


@router.post("/letters/{int:letter_id}/close", response={200: LetterDetail, **ERRORS}, summary="Close")
def close(request: HttpRequest, letter_id: Id) -> dict[str, Any]:
    """Close a sent letter's file."""
    person = person_of(request)
    return letter_detail(close_letter(visible_letter(person, letter_id), actor=person))


@router.post(
    "/letters/{int:letter_id}/correction", response={201: LetterDetail, **ERRORS}, summary="Start a correction"
)
def correction(request: HttpRequest, letter_id: Id) -> Status[dict[str, Any]]:
    """A new draft that supersedes this numbered letter once it is numbered itself."""
    person = person_of(request)
    letter = visible_letter(person, letter_id)
    return Status(201, letter_detail(start_correction(letter, actor=person)))


@router.get("/work", response={200: WorkQueue, **ERRORS}, summary="My work queue")
def work_queue(request: HttpRequest) -> dict[str, Any]:
    """What waits for the caller, urgent first: drafts, reviews, signatures, numbering, registering,
    endorsing, and assignments (overdue ones flagged)."""
    person = person_of(request)
    clerk_of = organisations_with_role(person, *CLERKS)
    executive_of = executive_organisation_ids(person)  # signers and acting officials, as the pages count
    day = today()
    letters = {
        "drafts": drafts_of(person),
        "review": awaiting_my_review(person).order_by("-urgency_rank", "created_at"),
        "sign": awaiting_my_signature(person).order_by("-urgency_rank", "created_at"),
        "number": awaiting_number(person, clerk_of).order_by("-urgency_rank", "created_at"),
    }
    incoming = {
        "receive": awaiting_registration(person, clerk_of),
        "endorse": awaiting_endorsement(person, executive_of),
    }
    assignments = my_assignments(person)
    counts = {name: qs.count() for name, qs in letters.items()}
    counts.update({name: qs.count() for name, qs in incoming.items()})
    counts["assignments"] = assignments.count()
    return {
        "counts": counts,
        **{name: [letter_summary(x) for x in qs[:QUEUE_ITEMS]] for name, qs in letters.items()},
        **{name: [incoming_summary(x, day) for x in qs[:QUEUE_ITEMS]] for name, qs in incoming.items()},
        "assignments": [assignment_out(a, day) for a in assignments.select_related("assignee")[:QUEUE_ITEMS]],
    }
