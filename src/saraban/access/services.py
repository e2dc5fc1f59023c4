"""Writes of access: secrecy grants and the deployment policy. Every change is audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.directory.models import Organisation, Person
from saraban.regulation.kinds import Secrecy

from .models import DeploymentPolicy, SecrecyGrant


@transaction.atomic
def grant_secrecy(
    person: Person, organisation: Organisation, level: str, *, actor: Person | None,
    valid_until: dt.date | None = None,
) -> SecrecyGrant:
    """Let ``person`` see ``organisation``'s letters classified up to ``level`` (replaces an earlier grant)."""
    if level not in [s.value for s in Secrecy if s.is_classified]:
        raise ValidationFailed([FieldProblem(
            "level", "unknown", "ชั้นความลับต้องเป็น confidential (ลับ), secret (ลับมาก) หรือ top_secret (ลับที่สุด)",
            "The level must be confidential, secret or top_secret",
        )])
    grant, _ = SecrecyGrant.objects.update_or_create(
        person=person, organisation=organisation,
        defaults={"level": level, "granted_by": actor, "valid_until": valid_until},
    )
    record_event(
        "access.secrecy_granted", object_type="secrecy_grant", object_id=grant.pk, organisation_id=organisation.pk,
        actor=actor, after={"person_id": person.pk, "level": level, "valid_until": valid_until},
    )
    return grant


@transaction.atomic
def revoke_secrecy(person: Person, organisation: Organisation, *, actor: Person | None) -> bool:
    """Withdraw the person's secrecy grant in the organisation; whether there was one."""
    deleted, _ = SecrecyGrant.objects.filter(person=person, organisation=organisation).delete()
    if deleted:
        record_event(
            "access.secrecy_revoked", object_type="secrecy_grant", object_id=f"{person.pk}@{organisation.pk}",
            organisation_id=organisation.pk, actor=actor, before={"person_id": person.pk},
        )
    return bool(deleted)


@transaction.atomic
def set_top_secret_electronic(allowed: bool, *, actor: Person | None) -> DeploymentPolicy:
    """The system administrator's switch: may ลับที่สุด letters be sent electronically (default: no)."""
    policy = DeploymentPolicy.objects.select_for_update().first() or DeploymentPolicy()
    before = {"allow_top_secret_electronic": policy.allow_top_secret_electronic}
    policy.allow_top_secret_electronic = allowed
    policy.save()
    record_event(
        "access.policy_changed", object_type="deployment_policy", object_id=policy.pk, organisation_id=None,
        actor=actor, before=before, after={"allow_top_secret_electronic": allowed},
    )
    return policy
