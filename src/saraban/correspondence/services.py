"""Writes to letters: create and edit drafts, issue numbers, cancel, correct. Every change is audited.

Lock order: a number is drawn (book, then audit chain) before any other audit event of the same
transaction is written, so two transactions never wait on each other's locks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from saraban.access.policy import has_role
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, PermissionRefused, StateRefused, ValidationFailed
from saraban.core.thai import local_date
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import unit_ids_under
from saraban.documents.models import StoredFile
from saraban.registers.models import BookKind, EntryStatus, RegisterEntry
from saraban.registers.numbering import Allocation, EntryFields
from saraban.registers.services import cancel_entry, number_template, register_outgoing

from .content import LetterContent, check_letter, parse_letter_json
from .kinds import DigitStyle, LetterSubtype, LetterType, Secrecy
from .models import Letter, LetterStatus
from .sealing import seal_stamped_letter
from .snapshots import letter_snapshot

EDITABLE_STATUSES = (LetterStatus.DRAFT,)
NUMBERING_ROLES = (Role.CENTRAL_CLERK, Role.UNIT_CLERK)


def numberable(letter: Letter) -> bool:
    """Whether the letter's state allows numbering: signed, or approved for a stamped letter (no signer)."""
    if letter.status == LetterStatus.SIGNED:
        return True
    return letter.status == LetterStatus.APPROVED and letter.type == LetterType.STAMPED
# Fields fixed once the number is issued (a correction is a new, superseding letter).
FIXED_AFTER_NUMBERING = ("number", "date", "subject")


DRAFTERS = (Role.OFFICER, Role.UNIT_CLERK, Role.CENTRAL_CLERK, Role.SIGNER, Role.REVIEWER)


def require_author_or_clerk(letter: Letter, actor: Person) -> None:
    """Refuse unless ``actor`` wrote the letter or is a registry clerk of its organisation."""
    if actor.pk != letter.created_by_id and not has_role(actor, letter.organisation_id, *NUMBERING_ROLES):
        raise PermissionRefused(
            code="letter.not_author", message_th="เฉพาะผู้จัดทำหนังสือหรือเจ้าหน้าที่สารบรรณทำรายการนี้ได้",
            message_en="Only the letter's author or a registry clerk can do this",
        )


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
    """Write a new draft letter of ``organisation``; it is checked against the rules of its type."""
    if not has_role(author, organisation, *DRAFTERS):
        raise PermissionRefused(
            code="letter.not_a_drafter", message_th="ท่านไม่มีบทบาทที่จัดทำหนังสือของหน่วยงานนี้ได้",
            message_en="You hold no role that lets you write letters for this organisation",
        )
    _require_own_unit(organisation, owner_unit)
    parsed = content if isinstance(content, LetterContent) else parse_letter_json(content)
    parsed = _with_issuer(parsed.model_copy(update={"number": "", "date": None}), organisation, owner_unit)
    check_letter(parsed)
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
    require_author_or_clerk(letter, actor)
    if letter.is_numbered:
        fixed = [f for f in FIXED_AFTER_NUMBERING if f in changes]
        raise StateRefused(
            code="letter.fixed_after_numbering",
            message_th="หนังสือออกเลขแล้ว แก้ไขเลขที่ วันที่ และเรื่องไม่ได้ ให้จัดทำหนังสือฉบับแก้ไขแทน",
            message_en="The letter is numbered: its number, date and subject cannot change; write a correction",
            problems=[FieldProblem(f, "fixed", "แก้ไขไม่ได้หลังออกเลข", "fixed after numbering") for f in fixed],
        )
    if letter.status not in EDITABLE_STATUSES:
        raise StateRefused(
            code="letter.not_editable",
            message_th=f"หนังสือสถานะ “{letter.get_status_display()}” แก้ไขไม่ได้",
            message_en=f"A letter in state “{letter.get_status_display()}” cannot be edited",
        )
    for forbidden in ("number", "date"):
        if forbidden in changes:
            raise ValidationFailed([FieldProblem(
                forbidden, "set_by_register", "เลขที่และวันที่กำหนดโดยทะเบียนเมื่อออกเลข",
                "The number and date are set by the register when the letter is numbered",
            )])
    before = letter_snapshot(letter)
    merged = {**letter.content, **changes}
    parsed = _with_issuer(parse_letter_json(merged), letter.organisation, letter.owner_unit)
    check_letter(parsed)
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
    if not has_role(actor, letter.organisation, *NUMBERING_ROLES):
        raise PermissionRefused(
            code="letter.not_registry", message_th="เฉพาะเจ้าหน้าที่สารบรรณออกเลขหนังสือได้",
            message_en="Only a registry clerk can number letters",
        )
    content = letter.letter_content
    kind = book_kind_for(content)
    today = local_date(moment)
    if not letter.is_numbered:
        _require_numberable(letter)
    if not letter.is_numbered and kind is not None:
        provisional = number_template(kind, content.issuer.letter_code, moment).replace("{n}", "1")
        check_letter(content.model_copy(update={"number": provisional, "date": today}), issued=True)
    with transaction.atomic():
        letter = Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)
        if letter.is_numbered:
            return letter
        entry = _require_numberable(letter)
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


def _require_numberable(letter: Letter) -> RegisterEntry | None:
    """The letter's active register entry, if it has one; ``StateRefused`` when it cannot be numbered."""
    entry = RegisterEntry.objects.filter(letter=letter, status=EntryStatus.ACTIVE).first()
    if entry is None and not numberable(letter):
        raise StateRefused(
            code="letter.not_numberable",
            message_th=f"ออกเลขหนังสือสถานะ “{letter.get_status_display()}” ไม่ได้",
            message_en=f"A letter in state “{letter.get_status_display()}” cannot be numbered",
        )
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
    """Draw the number and date of a letter signed with PKI, inside the signing transaction.

    A PAdES-signed PDF cannot change afterwards, so such a letter is numbered as it is signed (the
    registry clerk's numbering step is skipped). Returns the content with its number and date, and the
    register entry's id. The caller holds the letter's row lock; a failure later in the transaction
    rolls the number back, so none is burnt.
    """
    kind = book_kind_for(content)
    today = local_date(at)
    if kind is None:
        return content.model_copy(update={"date": today}), None
    provisional = number_template(kind, content.issuer.letter_code, at).replace("{n}", "1")
    check_letter(content.model_copy(update={"number": provisional, "date": today}), issued=True)
    allocation = register_outgoing(
        letter.organisation_id, kind, letter_code=content.issuer.letter_code, at=at,
        actor_label=f"{actor.display_name} (ลงนามดิจิทัล)",
        fields=EntryFields(
            letter_date=today, sender=content.owner_unit or content.issuer.name, recipient=content.recipient,
            subject=content.subject, letter_id=letter.pk, registered_by_id=actor.pk,
        ),
    )
    return content.model_copy(update={"number": allocation.letter_number, "date": today}), allocation.entry_id


def finish_numbering_at_signing(
    letter: Letter, content: LetterContent, *, actor: Person, entry_id: int | None, pdf: StoredFile
) -> Letter:
    """Record the number drawn by ``draw_number_at_signing``: the letter is numbered with its signed PDF."""
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
    require_author_or_clerk(letter, actor)
    if letter.status in (LetterStatus.CANCELLED, LetterStatus.SUPERSEDED, LetterStatus.SENT, LetterStatus.CLOSED):
        raise StateRefused(
            code="letter.not_cancellable",
            message_th=f"ยกเลิกหนังสือสถานะ “{letter.get_status_display()}” ไม่ได้",
            message_en=f"A letter in state “{letter.get_status_display()}” cannot be cancelled",
        )
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "required", "ต้องระบุเหตุผล", "A reason is required")])
    before = letter_snapshot(letter)
    for entry in RegisterEntry.objects.filter(letter=letter, status=EntryStatus.ACTIVE):
        cancel_entry(entry, reason=reason, actor=actor)
    letter.status = LetterStatus.CANCELLED
    letter.save(update_fields=["status", "updated_at"])
    record_event(
        "letter.cancelled", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
        actor=actor, before=before, after=letter_snapshot(letter), detail={"reason": reason.strip()},
    )
    return letter


def start_correction(letter: Letter, *, actor: Person) -> Letter:
    """A new draft that will supersede a numbered letter once it is numbered itself (C2)."""
    if not letter.is_numbered or letter.status == LetterStatus.SUPERSEDED:
        raise StateRefused(
            code="letter.not_correctable",
            message_th="จัดทำฉบับแก้ไขได้เฉพาะหนังสือที่ออกเลขแล้วและยังไม่มีฉบับแก้ไข",
            message_en="Only a numbered letter that has not been superseded can be corrected",
        )
    if Letter.objects.filter(supersedes=letter).exists():
        raise StateRefused(
            code="letter.correction_exists", message_th="มีร่างฉบับแก้ไขของหนังสือนี้อยู่แล้ว",
            message_en="A correction of this letter already exists",
        )
    content = letter.letter_content
    return create_letter(
        letter.organisation, content, author=actor, owner_unit=letter.owner_unit, supersedes=letter
    )
