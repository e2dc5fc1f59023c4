"""Reads of outgoing letters, always through the access rules."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from saraban.access.policy import organisations_of, secrecy_filter
from saraban.directory.models import Person

from .models import Letter, LetterStatus, ReviewStatus, ReviewStep


def participant_filter(person: Person) -> Q:
    """Letters ``person`` takes part in: as author, reviewer or signer."""
    reviews = ReviewStep.objects.filter(letter=OuterRef("pk"), reviewer=person)
    return Q(created_by=person) | Q(signer=person) | Q(Exists(reviews))


def letters_visible_to(person: Person) -> QuerySet[Letter]:
    """Letters of the organisations where ``person`` holds a role; classified ones by grant or part taken."""
    return Letter.objects.filter(
        Q(organisation_id__in=organisations_of(person)) & (secrecy_filter(person) | participant_filter(person))
    )


def letter_for(person: Person, letter_id: int) -> Letter | None:
    """One letter if ``person`` may see it (``None`` otherwise: callers answer 404, leaking nothing)."""
    return letters_visible_to(person).select_related("organisation", "signer", "created_by").filter(
        pk=letter_id
    ).first()


def letters_of(organisation_ids: set[int]) -> QuerySet[Letter]:
    """Letters written by the given organisations, newest first (no access rules: internal use)."""
    return Letter.objects.filter(organisation_id__in=organisation_ids).order_by("-created_at")


def drafts_of(person: Person) -> QuerySet[Letter]:
    """The person's own drafts (returned ones included), newest first."""
    return letters_visible_to(person).filter(created_by=person, status=LetterStatus.DRAFT).order_by("-updated_at")


def awaiting_my_review(person: Person) -> QuerySet[Letter]:
    """Letters whose current review step is this person's."""
    steps = ReviewStep.objects.filter(letter=OuterRef("pk"), status=ReviewStatus.PENDING)
    first_pending = steps.order_by("round", "position").values("reviewer_id")[:1]
    return letters_visible_to(person).filter(status=LetterStatus.IN_REVIEW).annotate(
        current_reviewer=first_pending
    ).filter(current_reviewer=person.pk)


def awaiting_my_signature(person: Person) -> QuerySet[Letter]:
    """Approved letters this person signs (acting officials see them through their appointments)."""
    return letters_visible_to(person).filter(status=LetterStatus.APPROVED, signer=person)


def awaiting_number(person: Person, organisation_ids: set[int]) -> QuerySet[Letter]:
    """Signed letters (and approved stamped ones) of registries this person works for."""
    # ``status IN (...)`` first, so the (organisation, status) index narrows the rows.
    return letters_visible_to(person).filter(
        organisation_id__in=organisation_ids, status__in=[LetterStatus.SIGNED, LetterStatus.APPROVED]
    ).filter(Q(status=LetterStatus.SIGNED) | Q(type="stamped"))


def outbox(person: Person, organisation_ids: set[int]) -> QuerySet[Letter]:
    """Sent and numbered letters of the given organisations, newest first, with their dispatches."""
    return letters_visible_to(person).filter(
        organisation_id__in=organisation_ids,
        status__in=[LetterStatus.NUMBERED, LetterStatus.SENT, LetterStatus.CLOSED],
    ).order_by("-date", "-pk").prefetch_related("dispatches__recipient")
