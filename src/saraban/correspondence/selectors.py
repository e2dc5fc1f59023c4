"""Reads of outgoing letters, always through the access rules."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from saraban.access.policy import organisations_of, secrecy_filter, today
from saraban.core.thai import arabic_digits
from saraban.directory.models import ActingAppointment, Person
from saraban.regulation.kinds import LetterType
from saraban.signatures.models import Signature

from .models import Letter, LetterRecipient, LetterStatus, ReviewStatus, ReviewStep


def acting_signer_filter(person: Person) -> Q:
    """Approved letters ``person`` signs today as an acting official (รักษาราชการแทน) in the signer's place.

    An appointment in the letter's organisation, for its designated signer or for the post (naming
    nobody): ``permissions.acting_appointment_for``. Stamped letters are not signed.
    """
    day = today()
    found = Q(pk__in=[])
    appointments = ActingAppointment.objects.filter(person=person, starts_on__lte=day, ends_on__gte=day)
    for org_id, for_whom in appointments.values_list("organisation_id", "on_behalf_of_id"):
        found |= Q(organisation_id=org_id) if for_whom is None else Q(organisation_id=org_id, signer_id=for_whom)
    return found & Q(status=LetterStatus.APPROVED) & ~Q(type=LetterType.STAMPED)


def participant_filter(person: Person) -> Q:
    """Letters ``person`` takes part in: as author, reviewer or signer (designated, acting, or who signed)."""
    reviews = ReviewStep.objects.filter(letter=OuterRef("pk"), reviewer=person)
    signed = Signature.objects.filter(letter=OuterRef("pk"), signer=person)
    return (Q(created_by=person) | Q(signer=person) | Q(Exists(reviews)) | Q(Exists(signed))
            | acting_signer_filter(person))


def letters_visible_to(person: Person) -> QuerySet[Letter]:
    """Letters of the organisations where ``person`` holds a role (classified ones by grant), and those
    the person takes part in (author, reviewer, signer)."""
    # Whoever takes part in a letter sees it, even from outside its organisation's tree: a reviewer in a
    # unit reviews the department's letter (the drafter named them); others by organisation and grant.
    return Letter.objects.filter(
        (Q(organisation_id__in=organisations_of(person)) & secrecy_filter(person)) | participant_filter(person)
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
    """Approved letters this person signs: as their designated signer, or acting in the signer's place
    (``permissions.can_sign``)."""
    mine = (Q(signer=person) & ~Q(type=LetterType.STAMPED)) | acting_signer_filter(person)
    return letters_visible_to(person).filter(status=LetterStatus.APPROVED).filter(mine)


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


def outbox_matching(letters: QuerySet[Letter], words: str) -> QuerySet[Letter]:
    """Those of ``letters`` whose subject, number or a recipient's name holds ``words`` (Thai or Arabic
    digits alike), for the หนังสือออก list's own search."""
    words = words.strip()
    if not words:
        return letters
    found = Q(subject__icontains=words) | Q(Exists(
        LetterRecipient.objects.filter(letter_id=OuterRef("pk"), organisation__name_th__icontains=words)))
    for written in {words, arabic_digits(words)}:  # a number is kept as typed, in either digits
        found |= Q(number__icontains=written)
    return letters.filter(found)


def letter_ids_with_file(sha256: str) -> list[int]:
    """The letters whose PDF is the stored file ``sha256``, or whose content names it (an enclosure)."""
    return list(Letter.objects.filter(Q(pdf_id=sha256) | Q(content__icontains=sha256)).values_list("pk", flat=True))


def files_of_letter(letter_id: int) -> set[str]:
    """The stored files that hold what the letter says: its PDF and its enclosures (for destruction)."""
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        return set()
    files = {str(e.get("sha256")) for e in (letter.content or {}).get("enclosures", []) if e.get("sha256")}
    return files | ({letter.pdf_id} if letter.pdf_id else set())


def letter_pdf_of(letter_id: int) -> str | None:
    """The SHA-256 of the letter's PDF as issued (signed), if it has one."""
    return Letter.objects.filter(pk=letter_id).values_list("pdf_id", flat=True).first()
