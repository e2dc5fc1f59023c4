"""Who may do what with an incoming letter and its assignments, now: the rules, each written once.

As for outgoing letters (``correspondence.permissions``): each ``can_<action>(person, incoming)``
answers ``None`` or the ``Refusal`` that says why not; the inbox services enforce it, the incoming
letter page offers what it allows, and the API answers with the same refusal. First whether the
person may see the letter at all (404: another organisation's, or classified without a grant and
not assigned to them), then its state (409), then the person's part (403).

- A registry clerk of the receiving organisation registers (ลงรับ) or returns (ส่งคืน) a delivered letter.
- An executive endorses and assigns (เกษียนสั่งการ): a signer of the organisation (or above it), or an
  official with any acting appointment (รักษาราชการแทน) in it covering today: endorsing is the post's
  power, whoever acts in it (signing a letter is for its designated signer's place only).
- The assignee, or someone who works in the assigned unit (``works_in``), reports an assignment done.
- A registry clerk or a signer closes it (ปิดเรื่อง), once every assignment is done.
"""

from __future__ import annotations

from collections.abc import Callable

from saraban.access import refusals as r
from saraban.access.policy import (
    acting_organisation_ids,
    has_role,
    organisations_with_role,
    roles_remembered,
    works_in,
)
from saraban.core.errors import Refusal
from saraban.core.labels import pair
from saraban.directory.models import Organisation, Person, Role

from .models import Assignment, AssignmentStatus, IncomingLetter, IncomingStatus
from .selectors import incoming_for

CLERKS = (Role.CENTRAL_CLERK, Role.UNIT_CLERK)
OPEN = (IncomingStatus.REGISTERED, IncomingStatus.ASSIGNED, IncomingStatus.ACTED)

Rule = Callable[[Person, IncomingLetter], Refusal | None]


def _wrong_state(incoming: IncomingLetter, th: str, en: str) -> Refusal:
    return r.INCOMING_WRONG_STATE.format(action=(th, en), state=pair(IncomingStatus(incoming.status).label))


def is_executive(person: Person, organisation: Organisation | int) -> bool:
    """A signer of ``organisation`` (or above it), or an acting official in it today."""
    if has_role(person, organisation, Role.SIGNER):
        return True
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    return org_id in acting_organisation_ids(person)


def executive_organisation_ids(person: Person) -> set[int]:
    """Where ``person`` endorses (``is_executive``): the work queues' "to endorse" organisations."""
    return organisations_with_role(person, Role.SIGNER) | acting_organisation_ids(person)


def may_act_on(assignment: Assignment, person: Person) -> bool:
    """Whether ``person`` may report the assignment done: the assignee, or someone of the assigned unit."""
    if assignment.assignee_id == person.pk:
        return True
    return assignment.unit_id is not None and works_in(person, assignment.unit_id)


def can_see(person: Person, incoming: IncomingLetter) -> Refusal | None:
    """Whether ``person`` may see the incoming letter at all (``inbox.selectors.incoming_visible_to``)."""
    return None if incoming_for(person, incoming.pk) is not None else r.NOT_FOUND


def can_register_paper(person: Person, organisation: Organisation | int) -> Refusal | None:
    """Register a paper letter received by ``organisation``: one of its registry clerks."""
    return None if has_role(person, organisation, *CLERKS) else r.INCOMING_NOT_REGISTRY


def can_register(person: Person, incoming: IncomingLetter) -> Refusal | None:
    """ลงรับ a delivered letter: a registry clerk of the receiver."""
    return can_see(person, incoming) or _register(person, incoming)


def _register(person: Person, incoming: IncomingLetter) -> Refusal | None:
    if incoming.status != IncomingStatus.DELIVERED:
        return _wrong_state(incoming, "ลงรับ", "register it")
    return can_register_paper(person, incoming.organisation_id)


def can_return(person: Person, incoming: IncomingLetter) -> Refusal | None:
    """ส่งคืน a delivered letter to its sender: a registry clerk of the receiver."""
    return can_see(person, incoming) or _return(person, incoming)


def _return(person: Person, incoming: IncomingLetter) -> Refusal | None:
    if incoming.status != IncomingStatus.DELIVERED:
        return _wrong_state(incoming, "ส่งคืน", "return it")
    return can_register_paper(person, incoming.organisation_id)


def can_endorse(person: Person, incoming: IncomingLetter) -> Refusal | None:
    """เกษียนสั่งการ on a registered letter: an executive of the receiver (``is_executive``)."""
    return can_see(person, incoming) or _endorse(person, incoming)


def _endorse(person: Person, incoming: IncomingLetter) -> Refusal | None:
    if incoming.status not in OPEN:
        return _wrong_state(incoming, "เกษียนสั่งการ", "endorse it")
    return None if is_executive(person, incoming.organisation_id) else r.INCOMING_NOT_EXECUTIVE


def can_close(person: Person, incoming: IncomingLetter) -> Refusal | None:
    """ปิดเรื่อง: a registry clerk or a signer of the receiver, once no assignment is open."""
    return can_see(person, incoming) or _close(person, incoming)


def _close(person: Person, incoming: IncomingLetter) -> Refusal | None:
    if incoming.status not in OPEN:
        return _wrong_state(incoming, "ปิดเรื่อง", "close it")
    if not has_role(person, incoming.organisation_id, *CLERKS, Role.SIGNER):
        return r.INCOMING_NOT_REGISTRY_OR_EXECUTIVE
    if Assignment.objects.filter(incoming_id=incoming.pk, status=AssignmentStatus.OPEN).exists():
        return r.INCOMING_OPEN_ASSIGNMENTS
    return None


def can_complete(person: Person, assignment: Assignment) -> Refusal | None:
    """Report an open assignment done: its assignee, or someone who works in the assigned unit."""
    incoming = IncomingLetter.objects.only("pk").get(pk=assignment.incoming_id)
    if (refused := can_see(person, incoming)) is not None:
        return refused
    if assignment.status != AssignmentStatus.OPEN:
        return r.ASSIGNMENT_DONE
    return None if may_act_on(assignment, person) else r.ASSIGNMENT_NOT_YOURS


# The incoming letter page's actions and their rules (completing is per assignment: ``can_complete``).
INCOMING_RULES: dict[str, Rule] = {
    "register": can_register,
    "return": can_return,
    "endorse": can_endorse,
    "close": can_close,
}
# The same rules once the letter is known to be visible (the page asks ``can_see`` once for all).
_WHEN_SEEN: dict[str, Rule] = {"register": _register, "return": _return, "endorse": _endorse, "close": _close}


def offered_actions(person: Person, incoming: IncomingLetter, *, seen: bool = False) -> set[str]:
    """The actions on the letter itself that ``person`` may take now (``seen``: the caller found it
    through ``incoming_for`` for this person, so visibility is not asked again)."""
    if not seen and can_see(person, incoming) is not None:
        return set()
    with roles_remembered():
        return {action for action, rule in _WHEN_SEEN.items() if rule(person, incoming) is None}


def my_open_assignments(person: Person, incoming: IncomingLetter, *, seen: bool = False) -> list[Assignment]:
    """The letter's open assignments ``person`` may report done (``seen`` as for ``offered_actions``)."""
    if not seen and can_see(person, incoming) is not None:
        return []
    rows = Assignment.objects.filter(incoming_id=incoming.pk, status=AssignmentStatus.OPEN).order_by("pk")
    return [a for a in rows if may_act_on(a, person)]
