"""Who keeps an organisation's records: its central registry (สารบรรณกลาง) and its administrators."""

from __future__ import annotations

from saraban.access.policy import has_role
from saraban.core.errors import PermissionRefused, Refusal
from saraban.directory.models import Organisation, Person, Role

RECORDS_NOT_KEEPER = Refusal(
    "records.not_keeper", "เฉพาะเจ้าหน้าที่สารบรรณกลางหรือผู้ดูแลหน่วยงานจัดการการเก็บรักษาหนังสือได้",
    "Only the central registry or an administrator of the organisation manages its records", PermissionRefused,
)


def may_see_records(person: Person, organisation: Organisation | int) -> bool:
    """The records pages are for the organisation's keepers and its heads (who appoint and approve)."""
    return can_keep_records(person, organisation) is None or has_role(person, organisation, Role.SIGNER)


def can_keep_records(person: Person, organisation: Organisation | int) -> Refusal | None:
    """Manage the file plan, cases, retention and holds of ``organisation``."""
    return None if has_role(person, organisation, Role.CENTRAL_CLERK, Role.ORG_ADMIN) else RECORDS_NOT_KEEPER
