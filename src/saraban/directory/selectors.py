"""Reads of the directory."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from saraban.core.thai import local_date

from .models import ActingAppointment, Organisation, Person, Role, RoleAssignment


def current_roles(person: Person, on: dt.date) -> QuerySet[RoleAssignment]:
    """The roles ``person`` holds on the day ``on``."""
    return RoleAssignment.objects.filter(person=person).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_until__isnull=True) | Q(valid_until__gte=on),
    ).select_related("organisation")


def has_role(person: Person, organisation: Organisation, roles: set[Role], on: dt.date) -> bool:
    """Whether ``person`` holds one of ``roles`` in ``organisation`` on ``on``."""
    return current_roles(person, on).filter(organisation=organisation, role__in=roles).exists()


def acting_appointments(person: Person, organisation: Organisation, on: dt.date) -> QuerySet[ActingAppointment]:
    """The acting appointments of ``person`` in ``organisation`` that cover the day ``on``."""
    return ActingAppointment.objects.filter(
        person=person, organisation=organisation, starts_on__lte=on, ends_on__gte=on
    )


def unit_ids_under(organisation_ids: set[int]) -> set[int]:
    """The given organisations and every unit below them in the tree."""
    result = set(organisation_ids)
    frontier = set(organisation_ids)
    while frontier:
        children = set(Organisation.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        frontier = children - result
        result |= frontier
    return result


def unit_ids_above(organisation_ids: set[int]) -> set[int]:
    """The given organisations and every organisation above them, up to the top of the tree."""
    result = set(organisation_ids)
    frontier = set(organisation_ids)
    while frontier:
        parents = set(Organisation.objects.filter(id__in=frontier, parent_id__isnull=False)
                      .values_list("parent_id", flat=True))
        frontier = parents - result
        result |= frontier
    return result


def visible_organisation_ids(person: Person, on: dt.date | None = None) -> set[int]:
    """The organisations whose letters ``person`` may see: where they hold a role, and units below."""
    day = on or local_date(dt.datetime.now(dt.UTC))
    held = set(current_roles(person, day).values_list("organisation_id", flat=True))
    return unit_ids_under(held)


def organisation_tree(root: Organisation | None = None) -> list[tuple[int, Organisation]]:
    """Organisations in tree order with their depth, from ``root`` or from every top-level one."""
    by_parent: dict[int | None, list[Organisation]] = {}
    for org in Organisation.objects.order_by("name_th"):
        by_parent.setdefault(org.parent_id, []).append(org)
    result: list[tuple[int, Organisation]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for child in by_parent.get(parent_id, []):
            result.append((depth, child))
            walk(child.pk, depth + 1)

    if root is None:
        walk(None, 0)
    else:
        result.append((0, root))
        walk(root.pk, 1)
    return result
