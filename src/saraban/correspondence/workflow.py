"""The outgoing workflow: draft → review (in order) → approved → signed → numbered → sent → closed.

Every step checks who may take it, refuses a step the letter's state does not allow (Thai and
English, with a stable code), writes the change and its audit event in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone

from saraban.access import refusals
from saraban.access.policy import has_role, has_role_within, today
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, RuleViolated, SarabanError, ValidationFailed, enforce
from saraban.core.labels import pair
from saraban.core.thai import format_thai_datetime
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import current_roles
from saraban.documents.models import StoredFile
from saraban.documents.services import store_file
from saraban.regulation.content import LetterContent
from saraban.regulation.kinds import LetterType
from saraban.rendering.letters import render_letter, render_letter_with_signature_room
from saraban.rendering.printable import unrenderable_problems
from saraban.signatures.methods import PadesSignature, SignerProof, SigningMethod, signing_method
from saraban.signatures.models import Signature, SignatureMethod, SigningCertificate
from saraban.signatures.services import record_signature

from .content import check_letter
from .models import Letter, LetterRecipient, LetterStatus, RecipientKind, ReviewStatus, ReviewStep
from .permissions import (
    acting_appointment_for,
    can_approve,
    can_close,
    can_return,
    can_set_recipients,
    can_sign,
    can_submit,
    current_step,
)
from .services import (
    draw_number_at_signing,
    finish_numbering_at_signing,
    keep_signing_number,
    release_signing_number,
    signing_number_reserved_at,
)
from .snapshots import letter_snapshot

log = logging.getLogger(__name__)


def _refuse_state(letter: Letter, action_th: str, action_en: str) -> SarabanError:
    """``letter.wrong_state`` for a state that changed under a step already allowed (seen again under a lock)."""
    state = pair(LetterStatus(letter.status).label)
    return refusals.LETTER_WRONG_STATE.format(action=(action_th, action_en), state=state).error()


def _locked(letter: Letter) -> Letter:
    return Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)


def _audit(letter: Letter, action: str, actor: Person, before: dict[str, object], **detail: object) -> None:
    record_event(
        action, object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
        actor=actor, before=before, after=letter_snapshot(letter), detail=dict(detail),
    )


@transaction.atomic
def set_recipients(letter: Letter, to: Sequence[Organisation], cc: Sequence[Organisation], *, actor: Person) -> None:
    """Choose the organisations a draft goes to (and copies to)."""
    letter = _locked(letter)
    enforce(can_set_recipients(actor, letter))
    seen: set[int] = set()
    rows: list[LetterRecipient] = []
    for kind, orgs in ((RecipientKind.TO, to), (RecipientKind.CC, cc)):
        for org in orgs:
            if org.pk in seen:
                continue
            seen.add(org.pk)
            rows.append(LetterRecipient(letter=letter, organisation=org, kind=kind, position=len(rows)))
    LetterRecipient.objects.filter(letter=letter).delete()
    LetterRecipient.objects.bulk_create(rows)
    record_event(
        "letter.recipients_set", object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
        actor=actor, detail={"to": [o.pk for o in to], "cc": [o.pk for o in cc]},
    )


@transaction.atomic
def submit_for_review(letter: Letter, *, actor: Person, reviewers: Sequence[Person], signer: Person | None) -> Letter:
    """Send a draft to its reviewers in order (or straight to approved when there are none)."""
    letter = _locked(letter)
    enforce(can_submit(actor, letter))
    content = letter.letter_content
    if content.type is not LetterType.STAMPED:
        if signer is None:
            raise RuleViolated([FieldProblem("signer", "required", "ต้องเลือกผู้ลงนาม", "Choose who signs")])
        if not has_role(signer, letter.organisation, Role.SIGNER):
            raise RuleViolated([FieldProblem(
                "signer", "not_a_signer", f"{signer.display_name} ไม่มีบทบาทผู้ลงนามของหน่วยงานนี้",
                f"{signer.display_name} is not a signer of this organisation",
            )])
    for reviewer in reviewers:
        if not has_role_within(reviewer, letter.organisation, Role.REVIEWER, Role.SIGNER):
            raise RuleViolated([FieldProblem(
                "reviewers", "not_a_reviewer", f"{reviewer.display_name} ไม่มีบทบาทผู้ตรวจสอบของหน่วยงานนี้",
                f"{reviewer.display_name} is not a reviewer of this organisation",
            )])
    check_letter(content)
    before = letter_snapshot(letter)
    last_round = max((s.round for s in letter.review_steps.all()), default=0)
    ReviewStep.objects.bulk_create([
        ReviewStep(letter=letter, round=last_round + 1, position=i, reviewer=r) for i, r in enumerate(reviewers)
    ])
    letter.signer = signer
    letter.returned_comment = ""
    letter.status = LetterStatus.IN_REVIEW if reviewers else LetterStatus.APPROVED
    letter.save()
    _audit(letter, "letter.submitted", actor, before, reviewers=[r.pk for r in reviewers],
           signer=signer.pk if signer else None)
    return letter


@transaction.atomic
def approve_review(letter: Letter, *, actor: Person, comment: str = "") -> Letter:
    """The current reviewer passes the letter on (to the next reviewer, or approved)."""
    letter = _locked(letter)
    enforce(can_approve(actor, letter))
    step = current_step(letter)
    assert step is not None  # the rule saw the actor's turn
    before = letter_snapshot(letter)
    step.status, step.comment, step.decided_at = ReviewStatus.APPROVED, comment.strip(), timezone.now()
    step.save()
    if current_step(letter) is None:
        letter.status = LetterStatus.APPROVED
        letter.save()
    _audit(letter, "letter.review_approved", actor, before, step=step.pk, comment=step.comment)
    return letter


@transaction.atomic
def return_for_changes(letter: Letter, *, actor: Person, comment: str) -> Letter:
    """The current reviewer (or the signer) sends the letter back to its author with a reason."""
    letter = _locked(letter)
    enforce(can_return(actor, letter))
    if not comment.strip():
        raise ValidationFailed([FieldProblem("comment", "required", "ต้องระบุสิ่งที่ต้องแก้ไข", "Say what to change")])
    step = current_step(letter)
    # A PKI signature in progress will not be recorded: its reserved number is cancelled first (the
    # lock order of numbering: book, then audit chain), and stays in the register marked ยกเลิก.
    release_signing_number(letter.pk, reason="ส่งกลับแก้ไขระหว่างลงนาม", actor=actor)
    before = letter_snapshot(letter)
    if step is not None:
        step.status, step.comment, step.decided_at = ReviewStatus.RETURNED, comment.strip(), timezone.now()
        step.save()
    letter.review_steps.filter(status=ReviewStatus.PENDING).update(status=ReviewStatus.WITHDRAWN)
    letter.status = LetterStatus.DRAFT
    letter.returned_comment = comment.strip()
    letter.save()
    _audit(letter, "letter.returned", actor, before, comment=comment.strip())
    return letter


def _acting_line(letter: Letter, actor: Person) -> str | None:
    """The acting line if ``actor`` signs in place of the designated signer today, else ``None``."""
    appointment = acting_appointment_for(actor, letter)
    return appointment.signature_line if appointment is not None else None


def _position_of(person: Person, organisation: Organisation) -> str:
    for assignment in current_roles(person, today()).filter(role=Role.SIGNER):
        if assignment.organisation_id == organisation.pk or assignment.position_title:
            return assignment.position_title
    return ""


def sign_letter(
    letter: Letter,
    *,
    actor: Person,
    proof: SignerProof,
    method: str | SigningMethod = SignatureMethod.TYPED_NAME,
    certificate: SigningCertificate | None = None,
) -> Signature:
    """Sign an approved letter: re-authenticate, render the PDF with the signature block, record it.

    The designated signer signs; an official with an acting appointment (รักษาราชการแทน) for the
    organisation that covers today may sign in their place, and the acting line is printed.
    With a ``certificate`` (or a PAdES ``method`` opened for a batch) the letter is signed with PKI:
    its number and date are drawn first, then the numbered letter is rendered and signed, and the
    letter goes straight to "numbered" (a signed PDF cannot be changed to add the number later).
    """
    signing = _signing_method(letter, actor, method, certificate)
    opened_here = isinstance(signing, PadesSignature) and not signing.is_open
    if opened_here:
        assert isinstance(signing, PadesSignature)
        signing.open(actor, proof)  # a wrong password or PIN is refused before anything is locked
    try:
        return _sign(letter, actor=actor, proof=proof, signing=signing)
    finally:
        if opened_here:
            assert isinstance(signing, PadesSignature)
            signing.close()


def _signing_method(
    letter: Letter, actor: Person, method: str | SigningMethod, certificate: SigningCertificate | None
) -> SigningMethod:
    if certificate is None:
        return signing_method(method) if isinstance(method, str) else method
    return PadesSignature.for_signer(certificate, actor, letter.organisation_id)


@dataclass(frozen=True)
class _Signing:
    """What signing one letter writes, worked out under the letter's lock before it is signed."""

    content: LetterContent  # with the signer block (and, for PKI, the reserved number and date)
    position: str
    acting: str | None
    moment: dt.datetime
    entry_id: int | None = None  # the number reserved for a PKI signature


def _prepare(letter: Letter, actor: Person, signing: SigningMethod) -> _Signing:
    """Check that ``actor`` may sign the locked ``letter`` now and fill its signer block."""
    enforce(can_sign(actor, letter))
    unprintable = unrenderable_problems(letter.letter_content)  # a draft saved before the check
    if unprintable:
        raise RuleViolated(unprintable)
    moment = timezone.now()
    acting = None if actor.pk == letter.signer_id else _acting_line(letter, actor)
    content = letter.letter_content
    position = _position_of(actor, letter.organisation) or content.signer.position
    signer_block = content.signer.model_copy(update={
        "name": actor.display_name,
        "position": position,
        "acting_for": acting if acting is not None else content.signer.acting_for,
        # A PAdES signature draws its own stamp (name, position, date, QR code) in the blank room.
        "mark": "" if isinstance(signing, PadesSignature) else f"ลงนามอิเล็กทรอนิกส์ {format_thai_datetime(moment)}",
    })
    return _Signing(content.model_copy(update={"signer": signer_block}), position, acting, moment)


def _sign(letter: Letter, *, actor: Person, proof: SignerProof, signing: SigningMethod) -> Signature:
    if signing.numbers_on_signing:
        return _sign_reserving_the_number(letter, actor=actor, proof=proof, signing=signing)
    with transaction.atomic():
        letter = _locked(letter)
        prepared = _prepare(letter, actor, signing)
        rendered = render_letter(prepared.content)
        # The signing method checks the proof (re-authentication) before anything is written.
        pdf = signing.sign(rendered, actor, proof, position=prepared.position, at=prepared.moment)
        return _record(letter, prepared, rendered, pdf, actor=actor, signing=signing)


# A number reserved for a PKI signature that has waited this long for its signed PDF is taken for
# abandoned (the process that was signing ended) and cancelled by the next attempt to sign the letter.
STALE_RESERVATION = dt.timedelta(minutes=2)


def _sign_reserving_the_number(
    letter: Letter, *, actor: Person, proof: SignerProof, signing: SigningMethod
) -> Signature:
    """Sign with PKI: reserve the number (short transaction), sign with no lock held, then record.

    The book's row lock is held only while the number is reserved, never while the signature waits on
    a TSA or OCSP server. If the signing fails, or the letter was returned or cancelled meanwhile, the
    reserved number is cancelled: it stays in the register marked ยกเลิก (no gap, no duplicate).
    """
    reserved = _reserve_number(letter, actor, signing)
    if reserved is None:  # an abandoned reservation was in the way: cancel it (lock order), then reserve
        _drop_abandoned_reservation(letter, actor)
        reserved = _reserve_number(letter, actor, signing)
    if reserved is None:
        raise _signing_in_progress()
    letter, prepared = reserved
    entry_id = prepared.entry_id
    try:
        rendered, room = render_letter_with_signature_room(prepared.content)
        pdf = signing.sign(rendered, actor, proof, position=prepared.position, at=prepared.moment, room=room)
        with transaction.atomic():
            letter = _locked(letter)
            if letter.status != LetterStatus.APPROVED:  # returned or cancelled while it was being signed
                raise _refuse_state(letter, "ลงนาม", "sign")
            keep_signing_number(entry_id, actor=actor)
            return _record(letter, prepared, rendered, pdf, actor=actor, signing=signing)
    except BaseException:
        try:
            if entry_id is not None:  # this attempt's own number only (a later attempt may hold another)
                release_signing_number(letter.pk, reason="ลงนามดิจิทัลไม่สำเร็จ", actor=actor, entry_id=entry_id)
        except Exception:  # the signing's own failure is the one to report
            log.exception("letter %s: the number reserved for signing could not be cancelled", letter.pk)
        raise


def _signing_in_progress() -> SarabanError:
    return refusals.LETTER_SIGNING_IN_PROGRESS.error()


def _reserve_number(letter: Letter, actor: Person, signing: SigningMethod) -> tuple[Letter, _Signing] | None:
    """Check and reserve the letter's number in one short transaction; ``None`` when an abandoned
    reservation must be cancelled first (``StateRefused`` when another signature is in progress)."""
    with transaction.atomic():
        letter = _locked(letter)
        prepared = _prepare(letter, actor, signing)
        reserved_at = signing_number_reserved_at(letter)
        if reserved_at is not None:
            if reserved_at >= timezone.now() - STALE_RESERVATION:
                raise _signing_in_progress()
            return None
        content, entry_id = draw_number_at_signing(letter, prepared.content, actor=actor, at=prepared.moment)
        return letter, replace(prepared, content=content, entry_id=entry_id)


def _drop_abandoned_reservation(letter: Letter, actor: Person) -> None:
    """Cancel a number reserved for this letter by a PKI signature that never finished."""
    with transaction.atomic():
        letter = _locked(letter)
        reserved_at = signing_number_reserved_at(letter)
        if reserved_at is not None and reserved_at < timezone.now() - STALE_RESERVATION:
            release_signing_number(letter.pk, reason="ลงนามดิจิทัลค้างไม่เสร็จ", actor=actor)


def _record(
    letter: Letter, prepared: _Signing, rendered: bytes, pdf: bytes, *, actor: Person, signing: SigningMethod
) -> Signature:
    """Write the signed letter, its signature and their audit events (inside the caller's transaction)."""
    stored = store_file(pdf, "application/pdf")
    before = letter_snapshot(letter)
    letter.content = prepared.content.model_dump(mode="json")
    letter.status = LetterStatus.SIGNED
    letter.pdf = stored
    letter.save()
    signature = record_signature(
        letter_id=letter.pk, signer=actor, role=Role.SIGNER, position_title=prepared.position,
        acting_line=prepared.content.signer.acting_for if prepared.acting is not None else "",
        signing=signing, signed_at=prepared.moment, signed_pdf=stored, rendered=rendered,
    )
    _audit(letter, "letter.signed", actor, before, signature=signature.pk,
           pdf_sha256=stored.sha256, method=signing.method, acting=prepared.acting or "")
    if signing.numbers_on_signing:
        finish_numbering_at_signing(letter, prepared.content, actor=actor, entry_id=prepared.entry_id, pdf=stored)
    if isinstance(signing, PadesSignature) and signing.level != "B-B":
        organisation_id = letter.organisation_id
        transaction.on_commit(lambda: _archive(stored, organisation_id))
    return signature


def _archive(stored: StoredFile, organisation_id: int) -> None:
    """Keep a timestamped PDF for LTA renewal (the renewal job adds document timestamps in time)."""
    from saraban.signatures.archive import track_signed_pdf

    track_signed_pdf(stored, organisation_id=organisation_id)


@transaction.atomic
def close_letter(letter: Letter, *, actor: Person) -> Letter:
    """Close a sent letter's file (ปิดเรื่อง)."""
    letter = _locked(letter)
    enforce(can_close(actor, letter))
    before = letter_snapshot(letter)
    letter.status = LetterStatus.CLOSED
    letter.save()
    _audit(letter, "letter.closed", actor, before)
    return letter



def mark_sent(letter: Letter, *, pdf: StoredFile) -> Letter:
    """Record that the numbered ``letter`` went to its recipients as ``pdf`` (ส่งแล้ว).

    Exchange calls it inside its sending transaction, with the letter locked; the event ``letter.sent``
    (with the recipients) is exchange's.
    """
    if letter.status != LetterStatus.NUMBERED:
        raise _refuse_state(letter, "ส่ง", "send")
    Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.SENT, pdf=pdf)
    letter.refresh_from_db()
    return letter
