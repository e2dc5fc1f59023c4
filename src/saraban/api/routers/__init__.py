"""The API's routers, one per area, and the look-ups they share.

Every object is found through a selector that applies the access rules; an object the caller may
not see is answered exactly like one that does not exist (404, ``NotFound``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse

from saraban.access.policy import organisations_of, organisations_with_role, today
from saraban.core.errors import FieldProblem, ReferenceNotFound, ValidationFailed
from saraban.correspondence.models import Letter
from saraban.correspondence.selectors import letter_for
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import current_roles
from saraban.inbox.models import IncomingLetter
from saraban.inbox.selectors import incoming_for

from ..errors import NotFound


def visible_letter(person: Person, letter_id: int) -> Letter:
    """The letter if ``person`` may see it; ``NotFound`` otherwise."""
    letter = letter_for(person, letter_id)
    if letter is None:
        raise NotFound()
    return letter


def visible_incoming(person: Person, incoming_id: int) -> IncomingLetter:
    """The incoming letter if ``person`` may see it; ``NotFound`` otherwise."""
    incoming = incoming_for(person, incoming_id)
    if incoming is None:
        raise NotFound()
    return incoming


def my_organisation(person: Person, organisation_id: int) -> Organisation:
    """An organisation whose letters ``person`` may see (a role there or above it); ``NotFound`` otherwise."""
    if organisation_id not in organisations_of(person):
        raise NotFound()
    return Organisation.objects.get(pk=organisation_id)


def role_organisation_ids(person: Person, *roles: Role) -> set[int]:
    """Organisations where ``person`` holds one of ``roles`` today (all roles if none given), and units below."""
    return organisations_with_role(person, *roles)  # the pages' work queue counts in the same ones


def default_organisation(person: Person, organisation_id: int | None, field: str = "organisation_id") -> Organisation:
    """The organisation asked for (``NotFound`` if not the caller's), or the caller's only one."""
    if organisation_id is not None:
        return my_organisation(person, organisation_id)
    direct = sorted(set(current_roles(person, today()).values_list("organisation_id", flat=True)))
    if len(direct) == 1:
        return Organisation.objects.get(pk=direct[0])
    raise ValidationFailed([FieldProblem(
        field, "required", "ท่านมีบทบาทในหลายหน่วยงาน (หรือไม่มีเลย) ต้องระบุหน่วยงาน",
        "You hold roles in several organisations (or none): say which organisation",
    )])


def organisations_by_id(ids: Iterable[int], field: str) -> list[Organisation]:
    """The organisations of ``ids`` in order (the public directory); ``ReferenceNotFound`` (404) names
    each unknown id."""
    wanted = list(ids)
    found = Organisation.objects.in_bulk(wanted)
    missing = [i for i, pk in enumerate(wanted) if pk not in found]
    if missing:
        raise ReferenceNotFound([
            FieldProblem(f"{field}.{i}", "unknown", "ไม่พบหน่วยงานนี้ในทำเนียบ", "No such organisation")
            for i in missing
        ])
    return [found[pk] for pk in wanted]


def colleague(person: Person, person_id: int, field: str) -> Person:
    """A person holding a role in one of the caller's organisations; ``ReferenceNotFound`` (404) otherwise.

    People of other organisations are "unknown" here, so their names never leak.
    """
    mine = organisations_of(person)
    found = Person.objects.filter(pk=person_id, is_active=True).first()
    if found is not None and (found.pk == person.pk or not mine.isdisjoint(role_organisation_ids(found))):
        return found
    raise ReferenceNotFound([FieldProblem(field, "unknown", "ไม่พบบุคลากรนี้ในหน่วยงานของท่าน",
                                         "No such person in your organisations")])


def file_response(data: bytes, content_type: str, filename: str, *, inline: bool = True) -> HttpResponse:
    """A download of ``data`` named ``filename``."""
    response = HttpResponse(data, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
