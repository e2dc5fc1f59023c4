"""Writes to the directory. Every change is audited."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from django.db import transaction

from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.core.thai import arabic_digits
from saraban.regulation.content import LETTER_CODE_RE

from .models import ActingAppointment, ActingKind, Organisation, Person, Province, Role, RoleAssignment
from .snapshots import acting_snapshot, organisation_snapshot, person_snapshot, role_snapshot

PROVINCES_CSV = Path(__file__).parent / "data" / "provinces.csv"


def load_provinces() -> int:
    """Create or refresh the 77 provinces; returns how many there are."""
    with PROVINCES_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        Province.objects.update_or_create(
            code=row["code"],
            defaults={"name_th": row["name_th"], "name_en": row["name_en"], "region": row["region"]},
        )
    return len(rows)


def organisation_problems(fields: dict[str, Any], *, existing: Organisation | None = None) -> list[FieldProblem]:
    """What is wrong with the fields of an organisation (Thai and English)."""
    problems = []
    if not str(fields.get("name_th", "")).strip():
        problems.append(FieldProblem("name_th", "required", "ต้องระบุชื่อหน่วยงานภาษาไทย", "The Thai name is required"))
    code = str(fields.get("letter_code", "")).strip()
    if code and not LETTER_CODE_RE.match(arabic_digits(code)):
        problems.append(FieldProblem(
            "letter_code", "malformed",
            f"รหัสหนังสือ “{code}” ไม่ถูกต้อง (เช่น นร 0105)", f"Letter code “{code}” is malformed (e.g. นร 0105)",
        ))
    parent = fields.get("parent")
    if existing is not None and parent is not None:
        node: Organisation | None = parent
        while node is not None:
            if node.pk == existing.pk:
                problems.append(FieldProblem(
                    "parent", "cycle", "หน่วยงานแม่ต้องไม่เป็นหน่วยงานนี้หรือหน่วยงานย่อยของหน่วยงานนี้",
                    "The parent cannot be the organisation itself or one of its units",
                ))
                break
            node = node.parent
    return problems


@transaction.atomic
def create_organisation(*, actor: Person | None = None, **fields: Any) -> Organisation:
    """Add an organisation to the directory."""
    problems = organisation_problems(fields)
    if problems:
        raise ValidationFailed(problems)
    org = Organisation(**fields)
    org.letter_code = arabic_digits(org.letter_code)
    org.full_clean(validate_unique=True)
    org.save()
    record_event(
        "directory.organisation_created", object_type="organisation", object_id=org.pk,
        organisation_id=org.pk, actor=actor, after=organisation_snapshot(org),
    )
    return org


@transaction.atomic
def update_organisation(org: Organisation, *, actor: Person | None = None, **fields: Any) -> Organisation:
    """Change fields of an organisation."""
    problems = organisation_problems({"name_th": org.name_th, **fields}, existing=org)
    if problems:
        raise ValidationFailed(problems)
    before = organisation_snapshot(org)
    for name, value in fields.items():
        setattr(org, name, value)
    org.letter_code = arabic_digits(org.letter_code)
    org.full_clean()
    org.save()
    record_event(
        "directory.organisation_updated", object_type="organisation", object_id=org.pk,
        organisation_id=org.pk, actor=actor, before=before, after=organisation_snapshot(org),
    )
    return org


@transaction.atomic
def create_person(
    *, username: str, name_th: str, password: str | None, actor: Person | None = None, **fields: Any
) -> Person:
    """Add a person; ``password`` is hashed (``None`` leaves the account without a usable password)."""
    person = Person(username=username, name_th=name_th, **fields)
    if password is None:
        person.set_unusable_password()
    else:
        person.set_password(password)
    person.full_clean()
    person.save()
    record_event(
        "directory.person_created", object_type="person", object_id=person.pk,
        organisation_id=None, actor=actor, after=person_snapshot(person),
    )
    return person


@transaction.atomic
def assign_role(
    person: Person,
    organisation: Organisation,
    role: Role | str,
    *,
    position_title: str = "",
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    actor: Person | None = None,
) -> RoleAssignment:
    """Give ``person`` a role in ``organisation`` (or update the position of a role held)."""
    assignment, created = RoleAssignment.objects.update_or_create(
        person=person, organisation=organisation, role=Role(role),
        defaults={"position_title": position_title, "valid_from": valid_from, "valid_until": valid_until},
    )
    record_event(
        "directory.role_assigned" if created else "directory.role_updated", object_type="role_assignment",
        object_id=assignment.pk, organisation_id=organisation.pk, actor=actor, after=role_snapshot(assignment),
    )
    return assignment


@transaction.atomic
def revoke_role(assignment: RoleAssignment, *, actor: Person | None = None) -> None:
    """Take a role away."""
    before = role_snapshot(assignment)
    pk, org_id = assignment.pk, assignment.organisation_id
    assignment.delete()
    record_event(
        "directory.role_revoked", object_type="role_assignment", object_id=pk,
        organisation_id=org_id, actor=actor, before=before,
    )


@transaction.atomic
def appoint_acting(
    person: Person,
    organisation: Organisation,
    *,
    position_title: str,
    starts_on: dt.date,
    ends_on: dt.date,
    kind: ActingKind | str = ActingKind.ACTING,
    on_behalf_of: Person | None = None,
    order_reference: str = "",
    actor: Person | None = None,
) -> ActingAppointment:
    """Record an acting appointment (รักษาราชการแทน) for a date range."""
    if ends_on < starts_on:
        raise ValidationFailed([FieldProblem(
            "ends_on", "before_start", "วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น", "The end date cannot be before the start date",
        )])
    appointment = ActingAppointment.objects.create(
        person=person, organisation=organisation, position_title=position_title, starts_on=starts_on,
        ends_on=ends_on, kind=ActingKind(kind), on_behalf_of=on_behalf_of, order_reference=order_reference,
    )
    record_event(
        "directory.acting_appointed", object_type="acting_appointment", object_id=appointment.pk,
        organisation_id=organisation.pk, actor=actor, after=acting_snapshot(appointment),
    )
    return appointment
