"""The outgoing workflow: draft → review (in order) → approved → signed → numbered → sent → closed.

Every step checks who may take it, refuses a step the letter's state does not allow (Thai and
English, with a stable code), writes the change and its audit event in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from saraban.access.policy import has_role, has_role_within, today
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, PermissionRefused, StateRefused, ValidationFailed
from saraban.core.thai import format_thai_datetime
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import acting_appointments, current_roles
from saraban.documents.models import StoredFile
from saraban.documents.services import store_file
from saraban.rendering.letters import render_letter, render_letter_with_signature_room
from saraban.signatures.methods import PadesSignature, SignerProof, SigningMethod, signing_method
from saraban.signatures.models import Signature, SignatureMethod, SigningCertificate

from .content import check_letter
from .kinds import LetterType
from .models import Letter, LetterRecipient, LetterStatus, RecipientKind, ReviewStatus, ReviewStep
from .printable import unrenderable_problems
from .services import DRAFTERS, draw_number_at_signing, finish_numbering_at_signing, require_author_or_clerk
from .snapshots import letter_snapshot


def _refuse_state(letter: Letter, action_th: str, action_en: str) -> StateRefused:
    return StateRefused(
        code="letter.wrong_state",
        message_th=f"{action_th}ไม่ได้ เพราะหนังสืออยู่ในสถานะ “{letter.get_status_display().split(' / ')[0]}”",
        message_en=f"Cannot {action_en}: the letter is “{letter.get_status_display().split(' / ')[-1]}”",
    )


def _refuse_person(code: str, th: str, en: str) -> PermissionRefused:
    return PermissionRefused(code=code, message_th=th, message_en=en)


def _locked(letter: Letter) -> Letter:
    return Letter.objects.select_for_update().select_related("organisation").get(pk=letter.pk)


def _audit(letter: Letter, action: str, actor: Person, before: dict[str, object], **detail: object) -> None:
    record_event(
        action, object_type="letter", object_id=letter.pk, organisation_id=letter.organisation_id,
        actor=actor, before=before, after=letter_snapshot(letter), detail=dict(detail),
    )


def may_draft(person: Person, organisation: Organisation) -> bool:
    """Whether ``person`` may write letters for ``organisation``."""
    return has_role(person, organisation, *DRAFTERS)


@transaction.atomic
def set_recipients(letter: Letter, to: Sequence[Organisation], cc: Sequence[Organisation], *, actor: Person) -> None:
    """Choose the organisations a draft goes to (and copies to)."""
    letter = _locked(letter)
    require_author_or_clerk(letter, actor)
    if letter.status != LetterStatus.DRAFT:
        raise _refuse_state(letter, "เปลี่ยนผู้รับ", "change the recipients")
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
    if letter.status != LetterStatus.DRAFT:
        raise _refuse_state(letter, "ส่งตรวจ", "submit for review")
    if actor.pk != letter.created_by_id and not may_draft(actor, letter.organisation):
        raise _refuse_person("letter.not_author", "เฉพาะผู้จัดทำหนังสือส่งตรวจได้", "Only the author can submit")
    content = letter.letter_content
    if content.type is not LetterType.STAMPED:
        if signer is None:
            raise ValidationFailed([FieldProblem("signer", "required", "ต้องเลือกผู้ลงนาม", "Choose who signs")])
        if not has_role(signer, letter.organisation, Role.SIGNER):
            raise ValidationFailed([FieldProblem(
                "signer", "not_a_signer", f"{signer.display_name} ไม่มีบทบาทผู้ลงนามของหน่วยงานนี้",
                f"{signer.display_name} is not a signer of this organisation",
            )])
    for reviewer in reviewers:
        if not has_role_within(reviewer, letter.organisation, Role.REVIEWER, Role.SIGNER):
            raise ValidationFailed([FieldProblem(
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


def current_step(letter: Letter) -> ReviewStep | None:
    """The review step waiting for a decision, if any."""
    return letter.review_steps.filter(status=ReviewStatus.PENDING).order_by("round", "position").first()


@transaction.atomic
def approve_review(letter: Letter, *, actor: Person, comment: str = "") -> Letter:
    """The current reviewer passes the letter on (to the next reviewer, or approved)."""
    letter = _locked(letter)
    if letter.status != LetterStatus.IN_REVIEW:
        raise _refuse_state(letter, "ผ่านการตรวจ", "approve")
    step = current_step(letter)
    if step is None or step.reviewer_id != actor.pk:
        raise _refuse_person("review.not_your_turn", "ยังไม่ถึงลำดับการตรวจของท่าน", "It is not your turn to review")
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
    if letter.status not in (LetterStatus.IN_REVIEW, LetterStatus.APPROVED):
        raise _refuse_state(letter, "ส่งกลับแก้ไข", "return")
    if not comment.strip():
        raise ValidationFailed([FieldProblem("comment", "required", "ต้องระบุสิ่งที่ต้องแก้ไข", "Say what to change")])
    step = current_step(letter)
    if letter.status == LetterStatus.IN_REVIEW:
        if step is None or step.reviewer_id != actor.pk:
            raise _refuse_person("review.not_your_turn", "ยังไม่ถึงลำดับการตรวจของท่าน", "It is not your turn to review")
    elif not _may_sign(letter, actor):
        raise _refuse_person("letter.not_signer", "ท่านไม่ใช่ผู้ลงนามหนังสือฉบับนี้", "You do not sign this letter")
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


def _acting_line(letter: Letter, actor: Person, on: dt.date) -> str | None:
    """The acting line if ``actor`` signs in place of the designated signer today, else ``None``."""
    for appointment in acting_appointments(actor, letter.organisation, on):
        if appointment.on_behalf_of_id in (None, letter.signer_id):
            return appointment.signature_line
    return None


def _may_sign(letter: Letter, actor: Person) -> bool:
    return actor.pk == letter.signer_id or _acting_line(letter, actor, today()) is not None


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


def _sign(letter: Letter, *, actor: Person, proof: SignerProof, signing: SigningMethod) -> Signature:
    with transaction.atomic():
        letter = _locked(letter)
        if letter.status != LetterStatus.APPROVED:
            raise _refuse_state(letter, "ลงนาม", "sign")
        unprintable = unrenderable_problems(letter.letter_content)  # a draft saved before the check
        if unprintable:
            raise ValidationFailed(unprintable)
        if letter.letter_content.type is LetterType.STAMPED:
            raise StateRefused(
                code="letter.stamped_not_signed", message_th="หนังสือประทับตราไม่ต้องลงนาม ให้ออกเลขได้เลย",
                message_en="A stamped letter is not signed; number it directly",
            )
        moment = timezone.now()
        acting = None if actor.pk == letter.signer_id else _acting_line(letter, actor, today())
        if actor.pk != letter.signer_id and acting is None:
            raise _refuse_person("letter.not_signer", "ท่านไม่ใช่ผู้ลงนามหนังสือฉบับนี้", "You do not sign this letter")
        content = letter.letter_content
        position = _position_of(actor, letter.organisation) or content.signer.position
        signer_block = content.signer.model_copy(update={
            "name": actor.display_name,
            "position": position,
            "acting_for": acting if acting is not None else content.signer.acting_for,
            # A PAdES signature draws its own stamp (name, position, date, QR code) in the blank room.
            "mark": "" if isinstance(signing, PadesSignature) else f"ลงนามอิเล็กทรอนิกส์ {format_thai_datetime(moment)}",
        })
        signed_content = content.model_copy(update={"signer": signer_block})
        entry_id = None
        if signing.numbers_on_signing:  # drawn first: the lock order of the numbering service
            signed_content, entry_id = draw_number_at_signing(letter, signed_content, actor=actor, at=moment)
        room = None
        if isinstance(signing, PadesSignature):
            rendered, room = render_letter_with_signature_room(signed_content)
        else:
            rendered = render_letter(signed_content)
        # The signing method checks the proof (re-authentication) before anything is written.
        pdf = signing.sign(rendered, actor, proof, position=position, at=moment, room=room)
        stored = store_file(pdf, "application/pdf")
        before = letter_snapshot(letter)
        letter.content = signed_content.model_dump(mode="json")
        letter.status = LetterStatus.SIGNED
        letter.pdf = stored
        letter.save()
        pades = isinstance(signing, PadesSignature)
        signature = Signature.objects.create(
            letter=letter, signer=actor, role=Role.SIGNER, position_title=position,
            acting_line=signer_block.acting_for if acting is not None else "", method=signing.method,
            signed_at=moment, pdf_sha256=stored.sha256, pdf=stored,
            certificate=signing.certificate if isinstance(signing, PadesSignature) else None,
            level=signing.level if isinstance(signing, PadesSignature) else "",
            rendered_sha256=hashlib.sha256(rendered).hexdigest() if pades else "",
        )
        _audit(letter, "letter.signed", actor, before, signature=signature.pk, pdf_sha256=stored.sha256,
               method=signing.method, acting=acting or "")
        if signing.numbers_on_signing:
            finish_numbering_at_signing(letter, signed_content, actor=actor, entry_id=entry_id, pdf=stored)
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
    if letter.status != LetterStatus.SENT:
        raise _refuse_state(letter, "ปิดเรื่อง", "close")
    if actor.pk != letter.created_by_id and not has_role(actor, letter.organisation, Role.CENTRAL_CLERK):
        raise _refuse_person("letter.not_author", "เฉพาะผู้จัดทำหรือสารบรรณกลางปิดเรื่องได้",
                             "Only the author or the central registry can close it")
    before = letter_snapshot(letter)
    letter.status = LetterStatus.CLOSED
    letter.save()
    _audit(letter, "letter.closed", actor, before)
    return letter

