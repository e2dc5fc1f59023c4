"""The access rules, in one place: the web UI and the API both ask these functions.

A person sees the letters of the organisations (and the units below them) where they hold a role.
Classified letters (ลับ and above) need, on top of that, a secrecy grant of at least their level in
that organisation, unless the person takes part in handling the letter (its author, a reviewer,
its signer, or someone it is assigned to).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db.models import Q

from saraban.directory.models import ActingAppointment, Organisation, Person, Role
from saraban.directory.selectors import current_roles, unit_ids_above, unit_ids_under, visible_organisation_ids
from saraban.regulation.kinds import Secrecy

from .models import DeploymentPolicy, SecrecyGrant

CLASSIFIED_LEVELS = [s.value for s in Secrecy if s.is_classified]


def today() -> dt.date:
    """Today in Bangkok."""
    from saraban.core.thai import BANGKOK

    return dt.datetime.now(BANGKOK).date()


def organisations_of(person: Person) -> set[int]:
    """Organisations whose letters ``person`` may see (roles held, and units below)."""
    return visible_organisation_ids(person, today())


# Inside ``roles_remembered``: the roles already looked up, by (person, organisation).
_remembered: ContextVar[dict[tuple[int, int], set[str]] | None] = ContextVar("saraban_roles", default=None)


@contextmanager
def roles_remembered() -> Iterator[None]:
    """Within the block, ``roles_in`` looks each (person, organisation) up once: a page that asks many
    rules about one letter (``offered_actions``) asks the directory once. Nothing is kept after it."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def roles_in(person: Person, organisation: Organisation | int) -> set[str]:
    """The roles ``person`` holds today in ``organisation`` or in an organisation above it."""
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    remembered = _remembered.get()
    if remembered is not None and (person.pk, org_id) in remembered:
        return remembered[person.pk, org_id]
    assignments = list(current_roles(person, today()).values_list("organisation_id", "role"))
    held: set[str] = set()
    if assignments:
        above = unit_ids_above({org_id})  # one query a level, however many roles the person holds
        held = {role for where, role in assignments if where in above}
    if remembered is not None:
        remembered[person.pk, org_id] = held
    return held


def may_see_staff(person: Person, organisation: Organisation | int) -> bool:
    """Whether ``person`` may see who works in ``organisation`` (names, positions, roles, acting).

    The directory's names and letter codes are public to every signed-in person (to choose
    recipients); its people are shown to those whose letters include the organisation's
    (``organisations_of``: a role there or above it) and to system administrators. The API's
    people routes and the directory pages both ask this.
    """
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    if org_id in organisations_of(person):
        return True
    return current_roles(person, today()).filter(role=Role.SYS_ADMIN).exists()


def has_role(person: Person, organisation: Organisation | int, *roles: Role) -> bool:
    """Whether ``person`` holds one of ``roles`` for ``organisation`` (directly or above it)."""
    held = roles_in(person, organisation)
    return Role.SYS_ADMIN in held or any(r in held for r in roles)


def organisations_with_role(person: Person, *roles: Role) -> set[int]:
    """Where ``person`` holds one of ``roles`` today (any role if none given), and the units below.

    The work queues list what waits in these organisations (``has_role`` holds there). A system
    administrator's wildcard is not counted: their queue is their own roles' work.
    """
    held = current_roles(person, today())
    if roles:
        held = held.filter(role__in=roles)
    return unit_ids_under(set(held.values_list("organisation_id", flat=True)))


def acting_organisation_ids(person: Person) -> set[int]:
    """The organisations where ``person`` holds an acting appointment (รักษาราชการแทน) covering today."""
    day = today()
    return set(ActingAppointment.objects.filter(person=person, starts_on__lte=day, ends_on__gte=day)
               .values_list("organisation_id", flat=True))


def works_in(person: Person, unit: Organisation | int) -> bool:
    """Whether ``person`` holds any role in ``unit`` or a unit below it (not merely above it)."""
    unit_id = unit if isinstance(unit, int) else unit.pk
    return current_roles(person, today()).filter(organisation_id__in=unit_ids_under({unit_id})).exists()


def units_worked_in(person: Person) -> set[int]:
    """Every unit ``person`` works in (``works_in``): where they hold a role, and the units above it.

    A manager whose role sits above a unit does not work in it: letters assigned to that unit reach
    them only through their own organisation's rules (a secrecy grant for classified ones).
    """
    held = set(current_roles(person, today()).values_list("organisation_id", flat=True))
    return unit_ids_above(held)


def has_role_within(person: Person, organisation: Organisation | int, *roles: Role) -> bool:
    """Whether ``person`` holds one of ``roles`` in ``organisation`` or in one of its units."""
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    tree = unit_ids_under({org_id})
    return current_roles(person, today()).filter(organisation_id__in=tree, role__in=roles).exists() or has_role(
        person, org_id, *roles
    )


def cleared_levels(person: Person, organisation_id: int) -> list[str]:
    """The classified levels ``person`` may see in an organisation, by explicit grant."""
    grant = SecrecyGrant.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today()), person=person, organisation_id=organisation_id
    ).first()
    if grant is None:
        return []
    rank = Secrecy(grant.level).rank
    return [s.value for s in Secrecy if s.is_classified and s.rank <= rank]


def secrecy_filter(person: Person, organisation_field: str = "organisation_id") -> Q:
    """A filter for rows with a ``secrecy`` column: unclassified, or classified within a grant."""
    allowed = Q(secrecy=Secrecy.NORMAL)
    grants = SecrecyGrant.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today()), person=person)
    for grant in grants:
        levels = [s.value for s in Secrecy if s.is_classified and s.rank <= Secrecy(grant.level).rank]
        allowed |= Q(**{organisation_field: grant.organisation_id, "secrecy__in": levels})
    return allowed


def top_secret_may_go_electronically() -> bool:
    """Whether the system administrator allowed ลับที่สุด letters to be sent electronically."""
    policy = DeploymentPolicy.objects.first()
    return bool(policy and policy.allow_top_secret_electronic)


CLASSIFIED_BOOKS = frozenset({"send_classified", "receive_classified"})
REDACTED_TH = "(หนังสือชั้นความลับ: แสดงเฉพาะเลขที่และวันที่)"


def classified_book_organisations(person: Person) -> set[int]:
    """Where ``person`` opens the classified books (ทะเบียนหนังสือลับ): a central registry clerk of the
    organisation or one above it. Their lines still show subjects only by grant (``hide_classified_details``)."""
    return organisations_with_role(person, Role.CENTRAL_CLERK)


def may_read_register(person: Person, organisation_id: int, kind: str) -> bool:
    """Whether ``person`` reads the register of ``kind`` of the organisation: one whose letters they see,
    and a classified book only where they open those (``classified_book_organisations``)."""
    if organisation_id not in organisations_of(person):
        return False
    return kind not in CLASSIFIED_BOOKS or organisation_id in classified_book_organisations(person)


def cleared_for_every_level(person: Person, organisation_id: int) -> bool:
    """Whether ``person`` may read every classified letter of the organisation (a ลับที่สุด grant)."""
    return Secrecy.TOP_SECRET.value in cleared_levels(person, organisation_id)


def hide_classified_details(person: Person, entries: list[Any]) -> list[Any]:
    """Blank the subject and parties of the classified register lines ``person`` is not cleared for.

    The classified books (ทะเบียนหนังสือลับ) are kept by the classified-documents officer: without a
    secrecy grant of the letter's level, a line shows its numbers and dates only. The level is the
    letter's (outgoing), or the received letter's; a line whose letter is unknown needs the highest
    grant. The rows are changed in memory only (marked ``redacted``), never saved.
    """
    from saraban.correspondence.models import Letter
    from saraban.inbox.models import IncomingLetter

    classified = [e for e in entries if e.book.kind in CLASSIFIED_BOOKS]
    if not classified:
        return entries
    letter_levels = dict(Letter.objects.filter(pk__in={e.letter_id for e in classified if e.letter_id})
                         .values_list("pk", "secrecy"))
    incoming_levels = dict(IncomingLetter.objects.filter(receive_entry_id__in={e.pk for e in classified})
                           .values_list("receive_entry_id", "secrecy"))
    cleared: dict[int, list[str]] = {}
    for entry in classified:
        org_id = entry.book.organisation_id
        if org_id not in cleared:
            cleared[org_id] = cleared_levels(person, org_id)
        level = letter_levels.get(entry.letter_id) or incoming_levels.get(entry.pk) or Secrecy.TOP_SECRET.value
        if level not in cleared[org_id] and level != Secrecy.NORMAL.value:
            entry.subject, entry.sender, entry.recipient, entry.action, entry.remarks = REDACTED_TH, "", "", "", ""
            entry.cancelled_reason = ""
            entry.redacted = True
    return entries
