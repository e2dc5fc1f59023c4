"""Who may do what with an outgoing letter, now: the rules, each written once.

Each ``can_<action>(person, letter)`` answers ``None`` (allowed) or the ``Refusal`` that says why not
(``saraban.access.refusals``). The services call the rule and raise its refusal (``enforce``); the
letter page offers exactly the actions whose rule allows them (``offered_actions``), and the API
answers with the same refusal, so the three cannot disagree. The checks go in one order: may the
person see the letter at all (404), then the letter's state (409) or the person's part (403) as the
action needs.

The people of the rules:
- a drafter holds a drafting role in the organisation or above it (``DRAFTERS``);
- a registry clerk (สารบรรณกลาง, สารบรรณหน่วยงาน) of the organisation numbers, sends and manages letters;
- the author, or a registry clerk, changes, submits, cancels and corrects a letter;
- the designated signer signs, or an acting official (รักษาราชการแทน) for that signer (or for the
  post, naming nobody) on the day of signing;
- a system administrator holds every role where they are one (``access.policy.has_role``), but signs
  nothing they are not designated for.
"""

from __future__ import annotations

from collections.abc import Callable

from saraban.access import refusals as r
from saraban.access.policy import has_role, roles_remembered, today, top_secret_may_go_electronically
from saraban.core.errors import Refusal
from saraban.core.labels import pair
from saraban.directory.models import ActingAppointment, Organisation, Person, Role
from saraban.directory.selectors import acting_appointments
from saraban.regulation.kinds import LetterType, Secrecy

from .models import NUMBERED_STATUSES as NUMBERED
from .models import Letter, LetterStatus, ReviewStatus, ReviewStep
from .selectors import letter_for

DRAFTERS = (Role.OFFICER, Role.UNIT_CLERK, Role.CENTRAL_CLERK, Role.SIGNER, Role.REVIEWER)
REGISTRY = (Role.CENTRAL_CLERK, Role.UNIT_CLERK)
ENDED = (LetterStatus.CANCELLED, LetterStatus.SUPERSEDED, LetterStatus.SENT, LetterStatus.CLOSED)

Rule = Callable[[Person, Letter], Refusal | None]


def _state(letter: Letter) -> tuple[str, str]:
    return pair(LetterStatus(letter.status).label)


def _wrong_state(letter: Letter, th: str, en: str) -> Refusal:
    return r.LETTER_WRONG_STATE.format(action=(th, en), state=_state(letter))


def _author_or_registry(person: Person, letter: Letter) -> bool:
    return person.pk == letter.created_by_id or has_role(person, letter.organisation_id, *REGISTRY)


def current_step(letter: Letter) -> ReviewStep | None:
    """The review step waiting for a decision, if any."""
    return letter.review_steps.filter(status=ReviewStatus.PENDING).order_by("round", "position").first()


def numberable(letter: Letter) -> bool:
    """Whether the letter's state allows numbering: signed, or approved for a stamped letter (no signer)."""
    if letter.status == LetterStatus.SIGNED:
        return True
    return letter.status == LetterStatus.APPROVED and letter.type == LetterType.STAMPED


def acting_appointment_for(person: Person, letter: Letter) -> ActingAppointment | None:
    """The acting appointment by which ``person`` signs ``letter`` today in its signer's place, if any.

    รักษาราชการแทน: an appointment in the letter's organisation covering today, for the designated
    signer or for the post (naming nobody).
    """
    for appointment in acting_appointments(person, letter.organisation, today()):
        if appointment.on_behalf_of_id in (None, letter.signer_id):
            return appointment
    return None


def may_sign(person: Person, letter: Letter) -> bool:
    """Whether ``person`` signs ``letter``: its designated signer, or an acting official for them."""
    return person.pk == letter.signer_id or acting_appointment_for(person, letter) is not None


def can_see(person: Person, letter: Letter) -> Refusal | None:
    """Whether ``person`` may see the letter at all (its organisation, and a grant or a part if classified)."""
    return None if letter_for(person, letter.pk) is not None else r.NOT_FOUND


def can_draft(person: Person, organisation: Organisation | int) -> Refusal | None:
    """Whether ``person`` may write letters of ``organisation`` (a drafting role there or above it)."""
    return None if has_role(person, organisation, *DRAFTERS) else r.LETTER_NOT_DRAFTER


def can_edit(person: Person, letter: Letter) -> Refusal | None:
    """Change a draft's content: its author or a registry clerk, while it is a draft."""
    return can_see(person, letter) or _edit(person, letter)


def _edit(person: Person, letter: Letter) -> Refusal | None:
    if not _author_or_registry(person, letter):
        return r.LETTER_NOT_AUTHOR
    if letter.status in NUMBERED:
        return r.LETTER_FIXED_AFTER_NUMBERING
    if letter.status != LetterStatus.DRAFT:
        return r.LETTER_NOT_EDITABLE.format(state=_state(letter))
    return None


def can_set_recipients(person: Person, letter: Letter) -> Refusal | None:
    """Choose a draft's recipients: as ``can_edit``."""
    return can_see(person, letter) or _set_recipients(person, letter)


def _set_recipients(person: Person, letter: Letter) -> Refusal | None:
    if not _author_or_registry(person, letter):
        return r.LETTER_NOT_AUTHOR
    if letter.status != LetterStatus.DRAFT:
        return _wrong_state(letter, "เปลี่ยนผู้รับ", "change the recipients")
    return None


def can_submit(person: Person, letter: Letter) -> Refusal | None:
    """Send a draft to review: whoever may change it."""
    return can_see(person, letter) or _submit(person, letter)


def _submit(person: Person, letter: Letter) -> Refusal | None:
    if letter.status != LetterStatus.DRAFT:
        return _wrong_state(letter, "ส่งตรวจ", "submit for review")
    return None if _author_or_registry(person, letter) else r.LETTER_NOT_AUTHOR


def can_approve(person: Person, letter: Letter) -> Refusal | None:
    """Pass the letter on in review: the reviewer whose turn it is."""
    return can_see(person, letter) or _approve(person, letter)


def _approve(person: Person, letter: Letter) -> Refusal | None:
    if letter.status != LetterStatus.IN_REVIEW:
        return _wrong_state(letter, "ผ่านการตรวจ", "approve")
    step = current_step(letter)
    return None if step is not None and step.reviewer_id == person.pk else r.REVIEW_NOT_YOUR_TURN


def can_return(person: Person, letter: Letter) -> Refusal | None:
    """Send the letter back to its author: the reviewer whose turn it is, or (once approved) who signs it."""
    return can_see(person, letter) or _return(person, letter)


def _return(person: Person, letter: Letter) -> Refusal | None:
    if letter.status == LetterStatus.IN_REVIEW:
        step = current_step(letter)
        return None if step is not None and step.reviewer_id == person.pk else r.REVIEW_NOT_YOUR_TURN
    if letter.status != LetterStatus.APPROVED or letter.type == LetterType.STAMPED:
        return _wrong_state(letter, "ส่งกลับแก้ไข", "return")
    return None if may_sign(person, letter) else r.LETTER_NOT_SIGNER


def can_sign(person: Person, letter: Letter) -> Refusal | None:
    """Sign an approved letter: its designated signer or an acting official for them; never a stamped letter."""
    return can_see(person, letter) or _sign(person, letter)


def _sign(person: Person, letter: Letter) -> Refusal | None:
    if letter.status != LetterStatus.APPROVED:
        return _wrong_state(letter, "ลงนาม", "sign")
    if letter.type == LetterType.STAMPED:
        return r.LETTER_STAMPED_NOT_SIGNED
    return None if may_sign(person, letter) else r.LETTER_NOT_SIGNER


def can_number(person: Person, letter: Letter) -> Refusal | None:
    """Give the letter its number: a registry clerk, once it is signed (approved, for a stamped letter).

    ``LETTER_ALREADY_NUMBERED`` for a numbered letter: the numbering service answers a repeated
    request with the letter as it is (many at once get the one number), and the page offers nothing.
    """
    return can_see(person, letter) or _number(person, letter)


def _number(person: Person, letter: Letter) -> Refusal | None:
    if not has_role(person, letter.organisation_id, *REGISTRY):
        return r.LETTER_NOT_REGISTRY
    if letter.status in NUMBERED:
        return r.LETTER_ALREADY_NUMBERED
    return None if numberable(letter) else r.LETTER_NOT_NUMBERABLE.format(state=_state(letter))


def can_send(person: Person, letter: Letter) -> Refusal | None:
    """Send a numbered letter to its recipients: a registry clerk; ลับที่สุด only if the deployment allows."""
    return can_see(person, letter) or _send(person, letter)


def _send(person: Person, letter: Letter) -> Refusal | None:
    if letter.status != LetterStatus.NUMBERED:
        return _wrong_state(letter, "ส่ง", "send")
    if not has_role(person, letter.organisation_id, *REGISTRY):
        return r.LETTER_NOT_REGISTRY
    if letter.secrecy == Secrecy.TOP_SECRET and not top_secret_may_go_electronically():
        return r.LETTER_TOP_SECRET_PAPER_ONLY
    return None if letter.recipients.exists() else r.LETTER_NO_RECIPIENTS


def can_cancel(person: Person, letter: Letter) -> Refusal | None:
    """Cancel a letter not yet sent: its author or a registry clerk (a drawn number stays, ยกเลิก)."""
    return can_see(person, letter) or _cancel(person, letter)


def _cancel(person: Person, letter: Letter) -> Refusal | None:
    if not _author_or_registry(person, letter):
        return r.LETTER_NOT_AUTHOR
    return r.LETTER_NOT_CANCELLABLE.format(state=_state(letter)) if letter.status in ENDED else None


def can_close(person: Person, letter: Letter) -> Refusal | None:
    """Close a sent letter's file: its author or the central registry."""
    return can_see(person, letter) or _close(person, letter)


def _close(person: Person, letter: Letter) -> Refusal | None:
    if letter.status != LetterStatus.SENT:
        return _wrong_state(letter, "ปิดเรื่อง", "close")
    if person.pk == letter.created_by_id or has_role(person, letter.organisation_id, Role.CENTRAL_CLERK):
        return None
    return r.LETTER_NOT_AUTHOR_OR_CENTRAL_REGISTRY


def can_correct(person: Person, letter: Letter) -> Refusal | None:
    """Start a correction of a numbered letter (C2): its author or a registry clerk, who may still draft."""
    return can_see(person, letter) or _correct(person, letter)


def _correct(person: Person, letter: Letter) -> Refusal | None:
    if not _author_or_registry(person, letter):
        return r.LETTER_NOT_AUTHOR
    if letter.status not in NUMBERED or letter.status == LetterStatus.SUPERSEDED:
        return r.LETTER_NOT_CORRECTABLE
    if Letter.objects.filter(supersedes=letter).exists():
        return r.LETTER_CORRECTION_EXISTS
    return can_draft(person, letter.organisation_id)


# The letter page's actions and their rules ("edit" opens the editor; the others are forms).
LETTER_RULES: dict[str, Rule] = {
    "edit": can_edit,
    "submit": can_submit,
    "approve": can_approve,
    "return": can_return,
    "sign": can_sign,
    "number": can_number,
    "send": can_send,
    "cancel": can_cancel,
    "close": can_close,
    "correct": can_correct,
}
# The same rules once the letter is known to be visible (the page asks ``can_see`` once for all).
_WHEN_SEEN: dict[str, Rule] = {
    "edit": _edit, "submit": _submit, "approve": _approve, "return": _return, "sign": _sign, "number": _number,
    "send": _send, "cancel": _cancel, "close": _close, "correct": _correct,
}


def offered_actions(person: Person, letter: Letter, *, seen: bool = False) -> set[str]:
    """The actions ``person`` may take on ``letter`` now: those whose rule allows them.

    ``seen``: the caller found the letter through ``letter_for`` for this person (the letter page),
    so visibility is not asked again.
    """
    if not seen and can_see(person, letter) is not None:
        return set()
    with roles_remembered():
        return {action for action, rule in _WHEN_SEEN.items() if rule(person, letter) is None}
