"""The directory, read-only: a public minimal list of every organisation (to choose recipients), the
caller's own organisations in full, and the people of the caller's organisations (to choose reviewers
and signers)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router

from saraban.access.policy import organisations_of, today
from saraban.directory.models import Organisation, Person, RoleAssignment
from saraban.directory.selectors import unit_ids_under

from ..auth import person_of
from ..schemas import (
    ERRORS,
    Id,
    MeOut,
    OrganisationOut,
    OrganisationPage,
    Paging,
    PersonPage,
    Text,
    organisation_brief,
    organisation_full,
    page,
    person_roles,
)
from . import my_organisation

router = Router(tags=["directory"])


@router.get("/me", response={200: MeOut, **ERRORS}, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    """The caller and the roles they hold today."""
    person = person_of(request)
    return {"id": person.pk, "username": person.get_username(), "name_th": person.name_th,
            "name_en": person.name_en, "roles": person_roles(person)}


@router.get("/directory/organisations", response={200: OrganisationPage, **ERRORS}, summary="All organisations")
def list_organisations(request: HttpRequest, paging: Query[Paging], q: Text = "") -> dict[str, Any]:
    """The public minimal directory of active organisations (name, code, kind), to choose recipients."""
    orgs = Organisation.objects.filter(is_active=True).order_by("name_th", "pk")
    if q.strip():
        text = q.strip()
        orgs = orgs.filter(
            Q(name_th__icontains=text) | Q(name_en__icontains=text) | Q(letter_code__icontains=text)
            | Q(identifier__icontains=text)
        )
    count, items = page(orgs, paging)
    return {"count": count, "limit": paging.limit, "offset": paging.offset,
            "items": [organisation_brief(o) for o in items]}


@router.get("/directory/my-organisations", response={200: list[OrganisationOut], **ERRORS},
            summary="My organisations")
def list_my_organisations(request: HttpRequest) -> list[dict[str, Any]]:
    """The organisations (and units below) where the caller holds a role, in full."""
    ids = organisations_of(person_of(request))
    return [organisation_full(o) for o in Organisation.objects.filter(pk__in=ids).order_by("name_th", "pk")]


@router.get("/directory/organisations/{int:organisation_id}", response={200: OrganisationOut, **ERRORS},
            summary="Get one of my organisations")
def get_organisation(request: HttpRequest, organisation_id: Id) -> dict[str, Any]:
    """An organisation in full, if the caller holds a role there (404 otherwise)."""
    return organisation_full(my_organisation(person_of(request), organisation_id))


@router.get("/directory/people", response={200: PersonPage, **ERRORS}, summary="People of my organisations")
def list_people(
    request: HttpRequest, paging: Query[Paging], organisation: Id | None = None, role: Text = "", q: Text = ""
) -> dict[str, Any]:
    """People holding a role today in the caller's organisations (or in ``organisation``), with those roles."""
    person = person_of(request)
    scope = organisations_of(person)
    if organisation is not None:
        scope = unit_ids_under({my_organisation(person, organisation).pk})
    day = today()
    assignments = RoleAssignment.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=day), Q(valid_until__isnull=True) | Q(valid_until__gte=day),
        organisation_id__in=scope,
    )
    if role:
        assignments = assignments.filter(role=role)
    people = Person.objects.filter(is_active=True, pk__in=assignments.values("person_id")).order_by("name_th", "pk")
    if q.strip():
        people = people.filter(Q(name_th__icontains=q.strip()) | Q(name_en__icontains=q.strip()))
    count, items = page(people, paging)
    return {"count": count, "limit": paging.limit, "offset": paging.offset, "items": [
        {"id": p.pk, "name_th": p.name_th, "name_en": p.name_en, "roles": person_roles(p, scope)} for p in items
    ]}
