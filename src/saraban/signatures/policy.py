"""Which PAdES level an organisation signs at, and the time-stamping authority it uses.

An organisation may choose its level (``SigningPolicy``); otherwise the deployment's
``SARABAN_PADES["level"]`` applies, and when that is empty too: B-LTA if a TSA is configured
(``SARABAN_PADES["tsa_url"]``), else B-B. Levels from B-T up need the TSA.
"""

from __future__ import annotations

from django.conf import settings

from saraban.access.policy import has_role
from saraban.core.errors import FieldProblem, PermissionRefused, ValidationFailed
from saraban.directory.models import Organisation, Person, Role

from .models import SigningPolicy
from .pades.sign import LEVELS


def tsa_url() -> str:
    """The configured time-stamping authority's URL ('' when none)."""
    config = getattr(settings, "SARABAN_PADES", None) or {}
    return str(config.get("tsa_url") or "")


def default_level() -> str:
    """The deployment's level for organisations that chose none."""
    config = getattr(settings, "SARABAN_PADES", None) or {}
    configured = str(config.get("level") or "")
    if configured in LEVELS:
        return configured
    return "B-LTA" if tsa_url() else "B-B"


def signing_level(organisation_id: int) -> str:
    """The PAdES level the organisation signs its letters at."""
    chosen = SigningPolicy.objects.filter(organisation_id=organisation_id).values_list("level", flat=True).first()
    return chosen or default_level()


def certifies(organisation_id: int) -> bool:
    """Whether the organisation certifies its letters (DocMDP) as they are signed."""
    return bool(SigningPolicy.objects.filter(organisation_id=organisation_id, certify=True).exists())


def set_signing_level(
    organisation: Organisation, level: str, *, actor: Person, certify: bool = False
) -> SigningPolicy:
    """Choose the organisation's PAdES level and whether it certifies its letters (its administrators only)."""
    if not has_role(actor, organisation, Role.ORG_ADMIN):
        raise PermissionRefused(
            code="signing_policy.not_admin", message_th="เฉพาะผู้ดูแลหน่วยงานกำหนดระดับลายมือชื่อได้",
            message_en="Only an administrator of the organisation can choose its signature level",
        )
    if level not in LEVELS:
        raise ValidationFailed([FieldProblem(
            "level", "unknown", f"ไม่รู้จักระดับ {level}", f"Unknown level {level!r}; use one of {', '.join(LEVELS)}"
        )])
    if level != "B-B" and not tsa_url():
        raise ValidationFailed([FieldProblem(
            "level", "needs_tsa", f"ระดับ {level} ต้องมีหน่วยประทับรับรองเวลา (TSA) แต่ระบบยังไม่ได้ตั้งค่า",
            f"Level {level} needs a time-stamping authority, and none is configured (SARABAN_TSA_URL)",
        )])
    policy, _ = SigningPolicy.objects.update_or_create(
        organisation=organisation, defaults={"level": level, "certify": certify}
    )
    return policy
