"""Plain-data views of directory objects, for audit digests and exports."""

from __future__ import annotations

from typing import Any

from .models import ActingAppointment, Organisation, Person, RoleAssignment


def organisation_snapshot(org: Organisation) -> dict[str, Any]:
    return {
        "identifier": org.identifier,
        "parent_id": org.parent_id,
        "kind": org.kind,
        "name_th": org.name_th,
        "name_en": org.name_en,
        "letter_code": org.letter_code,
        "address": org.address,
        "province_id": org.province_id,
        "email": org.email,
        "phone": org.phone,
        "category": org.category,
        "thai_digits": org.thai_digits,
        "is_active": org.is_active,
    }


def person_snapshot(person: Person) -> dict[str, Any]:
    # The password hash is deliberately left out: audit digests never cover secrets.
    return {
        "username": person.username,
        "name_th": person.name_th,
        "name_en": person.name_en,
        "email": person.email,
        "is_active": person.is_active,
    }


def role_snapshot(assignment: RoleAssignment) -> dict[str, Any]:
    return {
        "person_id": assignment.person_id,
        "organisation_id": assignment.organisation_id,
        "role": assignment.role,
        "position_title": assignment.position_title,
        "valid_from": assignment.valid_from,
        "valid_until": assignment.valid_until,
    }


def acting_snapshot(appointment: ActingAppointment) -> dict[str, Any]:
    return {
        "person_id": appointment.person_id,
        "organisation_id": appointment.organisation_id,
        "position_title": appointment.position_title,
        "on_behalf_of_id": appointment.on_behalf_of_id,
        "kind": appointment.kind,
        "starts_on": appointment.starts_on,
        "ends_on": appointment.ends_on,
    }
