"""Reads of the directory."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Replace

from saraban.core.thai import arabic_digits, local_date, thai_digits

from .models import ActingAppointment, Organisation, OrganisationKind, Person, Role, RoleAssignment

RECIPIENT_MATCHES = 20  # at most this many organisations answer one search of the recipient picker


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


def recipient_organisations(sender: Organisation) -> QuerySet[Organisation]:
    """The organisations a letter of ``sender`` may be sent to (ส่งถึง) or copied to (สำเนาส่ง).

    Active ones, not the sender itself; the sender's own units (กอง, for internal memos); other
    organisations' units are reached through their organisation's central registry, so they are not
    offered. Organisations hosted by another deployment (``home_deployment``) are recipients too.
    """
    own_units = unit_ids_under({sender.pk}) - {sender.pk}
    return Organisation.objects.filter(is_active=True).exclude(pk=sender.pk).filter(
        ~Q(kind=OrganisationKind.DIVISION) | Q(pk__in=own_units)
    )


def search_recipients(sender: Organisation, query: str, limit: int = RECIPIENT_MATCHES) -> list[Organisation]:
    """The recipients of ``sender`` (``recipient_organisations``) matching ``query``, at most ``limit``.

    A match is on the Thai or English name (any case) or on the letter code with its spaces ignored
    ("นร0105" finds "นร 0105"). Thai digits in the query count as Arabic ones: codes are stored with
    Arabic digits (``services`` folds them), names may be written with either. An exact code comes
    first, then names that start with the query, then the rest by name. An empty query gives the
    first organisations by name.
    """
    words = " ".join(arabic_digits(query).split())
    rows = recipient_organisations(sender)
    if not words:
        return list(rows.order_by("name_th", "pk")[:limit])
    compact = words.replace(" ", "")
    match = Q(code_compact__icontains=compact)
    for variant in {words, thai_digits(words)}:
        match |= Q(name_th__icontains=variant) | Q(name_en__icontains=variant)
    rank = Case(
        When(code_compact__iexact=compact, then=Value(0)),
        When(Q(name_th__istartswith=words) | Q(name_en__istartswith=words), then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )
    rows = rows.annotate(code_compact=Replace("letter_code", Value(" "), Value(""))).filter(match)
    return list(rows.annotate(rank=rank).order_by("rank", "name_th", "pk")[:limit])
