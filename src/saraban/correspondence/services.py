"""Writes to letters: create and edit drafts, issue numbers, cancel, correct. Every change is audited.

Lock order: a number is drawn (book, then audit chain) before any other audit event of the same
transaction is written, so two transactions never wait on each other's locks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from saraban.access import refusals
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, StateRefused, ValidationFailed, enforce
from saraban.core.thai import local_date
from saraban.directory.models import Organisation, Person
from saraban.directory.selectors import unit_ids_under
from saraban.documents.models import StoredFile
from saraban.registers.models import BookKind, EntryStatus, RegisterEntry
from saraban.registers.numbering import Allocation, EntryFields
from saraban.registers.services import (
    cancel_entry,
    cancel_reservations,
    confirm_reservation,
    number_template,
    register_outgoing,
    reservation_of,
)
from saraban.regulation.content import LetterContent, parse_letter_json
from saraban.regulation.kinds import DigitStyle, LetterSubtype, LetterType, Secrecy

from .content import check_letter
from .models import Letter, LetterStatus
from .permissions import can_cancel, can_correct, can_draft, can_edit, can_number, numberable
from .sealing import seal_stamped_letter
from .snapshots import letter_snapshot

# Who may do what is decided by the rules in ``permissions``; each service enforces its rule.

# Fields fixed once the number is issued (a correction is a new, superseding letter).
FIXED_AFTER_NUMBERING = ("number", "date", "subject")


def _with_issuer(content: LetterContent, organisation: Organisation, owner_unit: Organisation | None) -> LetterContent:
    """Fill what the directory knows: issuer, letter code, unit in charge, contact, digit style.

    The issuer's name, address and letter code always come from the directory entry of the
    organisation (or, for its own letter code or a memo, the unit) that issues the letter: whatever a
    draft or an API client typed there is replaced, so nobody can write as another agency.
    """
    issuer = content.issuer.model_copy(update={
        "name": owner_unit.name_th if content.type is LetterType.INTERNAL and owner_unit else organisation.name_th,
        "address": organisation.address,
        "letter_code": (owner_unit.letter_code if owner_unit else "") or organisation.letter_code,
    })
    return content.model_copy(update={
        "issuer": issuer,
        "owner_unit": content.owner_unit or (owner_unit.name_th if owner_unit else ""),
        "phone": content.phone or (owner_unit.phone if owner_unit else "") or organisation.phone,
        "digits": DigitStyle.THAI if organisation.thai_digits else DigitStyle.ARABIC,
    })


def _require_own_unit(organisation: Organisation, owner_unit: Organisation | None) -> None:
    if owner_unit is not None and owner_unit.pk not in unit_ids_under({organisation.pk}):
        raise ValidationFailed([FieldProblem(
            "owner_unit", "not_a_unit", "หน่วยงานเจ้าของเรื่องต้องเป็นหน่วยงานในส่วนราชการผู้จัดทำ",
            "The unit in charge must be a unit of the writing organisation",
        )])


def _check_enclosures(content: LetterContent) -> None:
    wanted = {e.sha256 for e in content.enclosures if e.sha256}
    if not wanted:
        return
    found = set(StoredFile.objects.filter(sha256__in=wanted).values_list("sha256", flat=True))
    problems = [
        FieldProblem(f"enclosures.{i}.sha256", "unknown_file", "ไม่พบไฟล์แนบนี้ในระบบ", "No stored file has this digest")
        for i, e in enumerate(content.enclosures) if e.sha256 and e.sha256 not in found
    ]
    if problems:
        raise ValidationFailed(problems)


def _copy_columns(letter: Letter, content: LetterContent) -> None:
    letter.content = content.model_dump(mode="json")
    letter.type = content.type
    letter.subtype = content.subtype or ""
    letter.subject = content.subject
    letter.number = content.number
    letter.date = content.date
    letter.urgency = content.urgency
    letter.urgency_rank = content.urgency.rank
    letter.secrecy = content.secrecy
    letter.circular = content.circular


@transaction.atomic
def create_letter(
    organisation: Organisation,
    content: LetterContent | dict[str, Any],
    *,
    author: Person,
    owner_unit: Organisation | None = None,
    supersedes: Letter | None = None,
) -> Letter:
    """Write a new draft letter of ``organisation``: kept unfinished if need be (the fields its type
    requires are checked at submission), refused only for what could not be kept or printed."""
    enforce(can_draft(author, organisation))
    _require_own_unit(organisation, owner_unit)
    parsed = content if isinstance(content, LetterContent) else parse_letter_json(content)
    parsed = _with_issuer(parsed.model_copy(update={"number": "", "date": None}), organisation, owner_unit)
    check_letter(parsed, draft=True)
    _check_enclosures(parsed)
    letter = Letter(organisation=organisation, owner_unit=owner_unit, created_by=author, supersedes=supersedes)
    _copy_columns(letter, parsed)
    letter.save()
    record_event(
        "letter.created", object_type="letter", object_id=letter.pk, organisation_id=organisation.pk,
        actor=author, after=letter_snapshot(letter),
        detail={"supersedes": supersedes.pk} if supersedes else {},
    )
    return letter


@transaction.atomic
def update_letter(letter: Letter, changes: dict[str, Any], *, actor: Person) -> Letter:
    """Change fields of a draft. After numbering, number, date and subject are fixed (C2)."""
    letter = Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)
    refused = can_edit(actor, letter)
    if refused == refusals.LETTER_FIXED_AFTER_NUMBERING:  # name the fields that cannot change
        fixed = [f for f in FIXED_AFTER_NUMBERING if f in changes]
        raise StateRefused(
            code=refused.code, message_th=refused.message_th, message_en=refused.message_en,
            problems=[FieldProblem(f, "fixed", "แก้ไขไม่ได้หลังออกเลข", "fixed after numbering") for f in fixed],
        )
    enforce(refused)
    for forbidden in ("number", "date"):
        if forbidden in changes:
            raise ValidationFailed([FieldProblem(
                forbidden, "set_by_register", "เลขที่และวันที่กำหนดโดยทะเบียนเมื่อออกเลข",
                "The number and date are set by the register when the letter is numbered",
            )])
    before = letter_snapshot(letter)
    merged = {**letter.content, **changes}
    parsed = _with_issuer(parse_letter_json(merged), letter.organisation, letter.owner_unit)
    check_letter(parsed, draft=True)
    _check_enclosures(parsed)
    _copy_columns(letter, parsed)
    letter.save()
    record_event(
        "letter.updated", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
        actor=actor, before=before, after=letter_snapshot(letter), detail={"fields": sorted(changes)},
    )
    return letter


def _render_later(letter_id: int) -> None:
    from .tasks import render_letter_pdf

    render_letter_pdf.enqueue(letter_id)


def book_kind_for(content: LetterContent) -> BookKind | None:
    """The register that numbers a letter, or ``None`` for kinds that carry no number (ระเบียบ, ข่าว...)."""
    if content.subtype is LetterSubtype.ORDER:
        return BookKind.ORDER
    if content.subtype is LetterSubtype.ANNOUNCEMENT:
        return BookKind.ANNOUNCEMENT
    numbered_types = (LetterType.EXTERNAL, LetterType.INTERNAL, LetterType.STAMPED)
    if content.type in numbered_types or content.subtype is LetterSubtype.CERTIFICATE:
        if content.secrecy is not Secrecy.NORMAL:
            return BookKind.SEND_CLASSIFIED
        return BookKind.CIRCULAR if content.circular else BookKind.SEND
    return None


def issue_number(letter: Letter, *, actor: Person, at: dt.datetime | None = None) -> Letter:
    """Give the letter its number from the right register and its date (ออกเลขหนังสือ).

    Idempotent, also when many requests number one letter at once: the letter's row lock is taken
    first, and the register entry is looked up and the number drawn under it, in one transaction, so
    a letter gets exactly one entry and one number. The letter is checked completely (with a
    provisional number) before a number is drawn, so a refused letter burns no number.
    """
    moment = at or timezone.now()
    letter = Letter.objects.select_related("organisation").get(pk=letter.pk)
    refused = can_number(actor, letter)
    if refused == refusals.LETTER_ALREADY_NUMBERED:
        return letter  # a repeated request (many at once): the letter keeps its one number
    enforce(refused)
    content = letter.letter_content
    kind = book_kind_for(content)
    today = local_date(moment)
    if kind is not None:
        provisional = number_template(kind, content.issuer.letter_code, moment).replace("{n}", "1")
        check_letter(content.model_copy(update={"number": provisional, "date": today}), issued=True)
    with transaction.atomic():
        letter = Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)
        if letter.is_numbered:
            return letter
        entry = _require_numberable(letter, actor)
        existing = Allocation(entry.pk, entry.book_id, entry.number, entry.letter_number) if entry else None
        content = letter.letter_content
        if existing is None and kind is not None:
            existing = register_outgoing(
                letter.organisation_id, kind, letter_code=content.issuer.letter_code, at=moment,
                actor_label=actor.display_name,
                fields=EntryFields(
                    letter_date=today, sender=content.owner_unit or content.issuer.name,
                    recipient=content.recipient, subject=content.subject, letter_id=letter.pk,
                    registered_by_id=actor.pk,
                ),
            )
        before = letter_snapshot(letter)
        number = existing.letter_number if existing is not None else ""
        issued_on = entry.letter_date if entry is not None and entry.letter_date else today
        _copy_columns(letter, content.model_copy(update={"number": number, "date": issued_on}))
        letter.status = LetterStatus.NUMBERED
        letter.pdf = None  # the signed rendition has no number yet; the worker renders the numbered one
        letter.save()
        record_event(
            "letter.numbered", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
            actor=actor, before=before, after=letter_snapshot(letter),
            detail={"number": number, "register_entry": existing.entry_id if existing else None},
        )
        sealed = seal_stamped_letter(letter, actor=actor) if letter.type == LetterType.STAMPED else None
        if sealed is not None:
            Letter.objects.filter(pk=letter.pk).update(pdf=sealed)
            letter.pdf = sealed
        else:
            transaction.on_commit(lambda: _render_later(letter.pk))
        _supersede(letter, actor)
    return letter


def _require_numberable(letter: Letter, actor: Person) -> RegisterEntry | None:
    """The letter's active register entry, if it has one; ``StateRefused`` when it cannot be numbered."""
    entry = RegisterEntry.objects.filter(letter=letter, status=EntryStatus.ACTIVE).first()
    if entry is None and not numberable(letter):  # changed since the rule was asked, before the lock
        enforce(can_number(actor, letter))
    return entry


def _supersede(letter: Letter, actor: Person) -> None:
    """A numbered correction replaces the letter it corrects (ฉบับที่ถูกแทนที่)."""
    if letter.supersedes_id:
        Letter.objects.filter(pk=letter.supersedes_id).update(status=LetterStatus.SUPERSEDED)
        record_event(
            "letter.superseded", object_type="letter", object_id=letter.supersedes_id,
            organisation_id=letter.organisation_id, actor=actor, detail={"by": letter.pk},
        )


def draw_number_at_signing(
    letter: Letter, content: LetterContent, *, actor: Person, at: dt.datetime
) -> tuple[LetterContent, int | None]:
    """Reserve the number and date of a letter about to be signed with PKI (จองเลข).

    A PAdES-signed PDF cannot change afterwards, so such a letter is numbered as it is signed (the
    registry clerk's numbering step is skipped). Returns the content with its number and date, and the
    reserved register entry's id. The caller holds the letter's row lock in a short transaction that
    commits before the letter is signed, so the book is not locked while a TSA or OCSP server answers;
    ``finish_numbering_at_signing`` then makes the number the letter's, or ``release_signing_number``
    cancels it (it stays in the register marked ยกเลิก: no gap, no duplicate).
    """
    kind = book_kind_for(content)
    today = local_date(at)
    if kind is None:
        return content.model_copy(update={"date": today}), None
    provisional = number_template(kind, content.issuer.letter_code, at).replace("{n}", "1")
    check_letter(content.model_copy(update={"number": provisional, "date": today}), issued=True)
    allocation = register_outgoing(
        letter.organisation_id, kind, letter_code=content.issuer.letter_code, at=at,
        actor_label=f"{actor.display_name} (ลงนามดิจิทัล)", reserve=True,
        fields=EntryFields(
            letter_date=today, sender=content.owner_unit or content.issuer.name, recipient=content.recipient,
            subject=content.subject, letter_id=letter.pk, registered_by_id=actor.pk,
        ),
    )
    return content.model_copy(update={"number": allocation.letter_number, "date": today}), allocation.entry_id


def signing_number_reserved_at(letter: Letter) -> dt.datetime | None:
    """When a PKI signature still in progress reserved the letter's number, if one did."""
    entry = reservation_of(letter.pk)
    return entry.registered_at if entry is not None else None


def keep_signing_number(entry_id: int | None, *, actor: Person) -> None:
    """Make the reserved number the letter's, first thing as its signed PDF is recorded.

    ``StateRefused`` when the reservation was cancelled meanwhile (the letter was returned or cancelled
    while it was being signed, or another attempt found it abandoned): nothing is recorded then.
    """
    if entry_id is not None and not confirm_reservation(entry_id, actor=actor):
        enforce(refusals.LETTER_NUMBER_RESERVATION_LOST)


def release_signing_number(
    letter_id: int, *, reason: str, actor: Person | None = None, entry_id: int | None = None
) -> int:
    """Cancel the number reserved for a PKI signature that will not be recorded (it stays, ยกเลิก).

    ``entry_id``: only that reservation; without it, every reservation of the letter.
    """
    return cancel_reservations(letter_id, reason=reason, actor=actor, entry_id=entry_id)


def finish_numbering_at_signing(
    letter: Letter, content: LetterContent, *, actor: Person, entry_id: int | None, pdf: StoredFile
) -> Letter:
    """Record the number reserved by ``draw_number_at_signing`` (once ``keep_signing_number`` kept it):
    the letter is numbered with its signed PDF."""
    before = letter_snapshot(letter)
    _copy_columns(letter, content)
    letter.status = LetterStatus.NUMBERED
    letter.pdf = pdf
    letter.save()
    record_event(
        "letter.numbered", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
        actor=actor, before=before, after=letter_snapshot(letter),
        detail={"number": content.number, "register_entry": entry_id, "at_signing": True},
    )
    _supersede(letter, actor)
    return letter


@transaction.atomic
def cancel_letter(letter: Letter, *, reason: str, actor: Person) -> Letter:
    """Cancel a letter; its number, if any, stays in the register marked ยกเลิก."""
    letter = Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)
    enforce(can_cancel(actor, letter))
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "required", "ต้องระบุเหตุผล", "A reason is required")])
    before = letter_snapshot(letter)
    for entry in RegisterEntry.objects.filter(letter=letter, status__in=(EntryStatus.ACTIVE, EntryStatus.RESERVED)):
        cancel_entry(entry, reason=reason, actor=actor)
    letter.status = LetterStatus.CANCELLED
    letter.save(update_fields=["status", "updated_at"])
    record_event(
        "letter.cancelled", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
        actor=actor, before=before, after=letter_snapshot(letter), detail={"reason": reason.strip()},
    )
    return letter


def start_correction(letter: Letter, *, actor: Person) -> Letter:
    """A new draft that will supersede a numbered letter once it is numbered itself (C2): its author or a
    registry clerk starts it (``permissions.can_correct``)."""
    letter = Letter.objects.select_related("organisation").get(pk=letter.pk)
    enforce(can_correct(actor, letter))
    content = letter.letter_content
    return create_letter(
        letter.organisation, content, author=actor, owner_unit=letter.owner_unit, supersedes=letter
    )
