"""Reads of the certificate registry: who may sign with what, who cannot and why, roll-out counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from saraban.core.thai import local_date
from saraban.directory.models import Organisation, Person, Role, RoleAssignment
from saraban.directory.selectors import current_roles
from saraban.documents.models import StoredFile

from .models import ArchivedPdf, KeyLocation, RevocationStatus, Signature, SigningCertificate

PERSONAL = (KeyLocation.FILE, KeyLocation.TOKEN)


def _org_id(organisation: Organisation | int) -> int:
    return organisation if isinstance(organisation, int) else organisation.pk


def role_in_force(day: dt.date) -> Q:
    """Role assignments in force on ``day``."""
    started = Q(valid_from__isnull=True) | Q(valid_from__lte=day)
    return started & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))


def _usable_at(at: dt.datetime) -> Q:
    """Registrations that may sign at ``at``: active, within validity, not known to be revoked."""
    return Q(active=True, not_before__lte=at, not_after__gt=at) & ~Q(revocation_status=RevocationStatus.REVOKED)


def holds_signer_role(person: Person, organisation: Organisation | int, *, at: dt.datetime | None = None) -> bool:
    """Whether ``person`` holds the SIGNER role in ``organisation`` itself on the day of ``at``."""
    day = local_date(at or timezone.now())
    return current_roles(person, day).filter(organisation_id=_org_id(organisation), role=Role.SIGNER).exists()


def usable_certificates(
    person: Person, organisation: Organisation | int, *, at: dt.datetime | None = None
) -> list[SigningCertificate]:
    """The certificates ``person`` may sign with for ``organisation`` at ``at`` (default now).

    First the person's own (file or token) certificates registered in that organisation, latest expiry
    first; then the organisation's seals when the person holds the SIGNER role there.
    """
    moment = at or timezone.now()
    org_id = _org_id(organisation)
    usable = SigningCertificate.objects.filter(_usable_at(moment), organisation_id=org_id)
    own = list(usable.filter(holder=person, key_location__in=PERSONAL).order_by("-not_after", "pk"))
    seals: list[SigningCertificate] = []
    if holds_signer_role(person, org_id, at=moment):
        seals = list(usable.filter(key_location=KeyLocation.SEAL).order_by("-not_after", "pk"))
    return own + seals


def certificates_of(person: Person) -> QuerySet[SigningCertificate]:
    """Every registration held by ``person`` (withdrawn ones too), active first, soonest expiry first."""
    return (
        SigningCertificate.objects.filter(holder=person).select_related("organisation", "holder")
        .order_by("-active", "not_after", "pk")
    )


def organisation_certificates(organisation: Organisation | int) -> QuerySet[SigningCertificate]:
    """Every registration of ``organisation`` (people's and seals, withdrawn too), soonest expiry first."""
    return (
        SigningCertificate.objects.filter(organisation_id=_org_id(organisation))
        .select_related("holder", "organisation")
        .order_by("-active", "not_after", "pk")
    )


def seals_of(organisation: Organisation | int) -> QuerySet[SigningCertificate]:
    """The organisation's seals (ตราประทับอิเล็กทรอนิกส์), active first."""
    return organisation_certificates(organisation).filter(key_location=KeyLocation.SEAL)


def expiring_certificates(
    organisation: Organisation | int, *, within_days: int = 90, at: dt.datetime | None = None
) -> QuerySet[SigningCertificate]:
    """Active, not yet expired registrations of ``organisation`` that expire within ``within_days``."""
    moment = at or timezone.now()
    return organisation_certificates(organisation).filter(
        active=True, not_after__gt=moment, not_after__lte=moment + dt.timedelta(days=within_days)
    )


def days_until(moment: dt.datetime, at: dt.datetime) -> int:
    """Whole days from ``at`` to ``moment`` (negative when ``moment`` has passed)."""
    return (moment - at).days


@dataclass
class SignerReadiness:
    """One signer of an organisation: can they sign now, with what, and if not, why."""

    person: Person
    position_title: str
    can_sign_now: bool
    certificate: SigningCertificate | None = None  # the one that lets them sign, else their latest one
    reason_th: str = ""
    reason_en: str = ""
    days_left: int | None = None


_REASONS = {
    "none": ("ไม่มีใบรับรองสำหรับลงลายมือชื่อ", "No signing certificate"),
    "withdrawn": ("ใบรับรองถูกถอนจากทะเบียนแล้ว", "Certificate withdrawn from the registry"),
    "revoked": ("ใบรับรองถูกเพิกถอน", "Certificate revoked"),
    "expired": ("ใบรับรองหมดอายุแล้ว", "Certificate expired"),
    "not_yet_valid": ("ใบรับรองยังไม่ถึงวันเริ่มใช้", "Certificate not yet valid"),
}


def _why_not(certificate: SigningCertificate | None, at: dt.datetime) -> str:
    if certificate is None:
        return "none"
    if not certificate.active:
        return "withdrawn"
    if certificate.revocation_status == RevocationStatus.REVOKED:
        return "revoked"
    if certificate.not_after <= at:
        return "expired"
    return "not_yet_valid"


def who_can_sign(organisation: Organisation | int, *, at: dt.datetime | None = None) -> list[SignerReadiness]:
    """Every person holding the SIGNER role in ``organisation`` now: who can sign and who cannot, and why."""
    moment = at or timezone.now()
    org_id = _org_id(organisation)
    day = local_date(moment)
    assignments = (
        RoleAssignment.objects.filter(role_in_force(day), organisation_id=org_id, role=Role.SIGNER)
        .select_related("person").order_by("person__name_th", "pk")
    )
    registered = list(organisation_certificates(org_id).filter(
        Q(key_location=KeyLocation.SEAL) | Q(holder_id__in=[a.person_id for a in assignments])
    ))
    seals = [c for c in registered if c.key_location == KeyLocation.SEAL]
    rows = []
    for assignment in assignments:
        person = assignment.person
        usable = usable_certificates(person, org_id, at=moment)
        if usable:
            chosen = usable[0]
            rows.append(SignerReadiness(person, assignment.position_title, True, chosen,
                                        days_left=days_until(chosen.not_after, moment)))
            continue
        # The most telling registration for the reason: the person's own, latest expiry, else a seal.
        own = [c for c in registered if c.holder_id == person.pk]
        candidates = sorted(own or seals, key=lambda c: (c.active, c.not_after), reverse=True)
        latest = candidates[0] if candidates else None
        th, en = _REASONS[_why_not(latest, moment)]
        rows.append(SignerReadiness(
            person, assignment.position_title, False, latest, th, en,
            days_until(latest.not_after, moment) if latest else None,
        ))
    return rows


@dataclass
class OrganisationReadiness:
    """One organisation's signing readiness for the roll-out programme."""

    organisation_id: int
    name_th: str
    personal: int  # usable personal certificates (file or token)
    seals: int  # usable organisation seals

    @property
    def can_sign(self) -> bool:
        """At least one usable signing certificate, personal or seal."""
        return self.personal + self.seals > 0


@dataclass
class ReadinessCounts:
    """Organisations (with people holding roles) with and without a usable signing certificate."""

    at: dt.datetime
    with_certificate: int = 0
    without_certificate: int = 0
    organisations: list[OrganisationReadiness] = field(default_factory=list)


def signing_readiness(*, at: dt.datetime | None = None) -> ReadinessCounts:
    """How many organisations can sign electronically at ``at`` and how many cannot (roll-out counts).

    Counted among organisations where someone holds a role that day; ``organisations`` lists each one
    for drilling down, those that cannot sign first.
    """
    moment = at or timezone.now()
    day = local_date(moment)
    org_ids = set(
        RoleAssignment.objects.filter(role_in_force(day)).values_list("organisation_id", flat=True)
    )
    personal: dict[int, int] = {}
    seals: dict[int, int] = {}
    usable = SigningCertificate.objects.filter(_usable_at(moment), organisation_id__in=org_ids)
    for org_id, location in usable.values_list("organisation_id", "key_location"):
        counter = seals if location == KeyLocation.SEAL else personal
        counter[org_id] = counter.get(org_id, 0) + 1
    names = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name_th"))
    rows = [
        OrganisationReadiness(org_id, names.get(org_id, ""), personal.get(org_id, 0), seals.get(org_id, 0))
        for org_id in org_ids
    ]
    rows.sort(key=lambda r: (r.can_sign, r.name_th, r.organisation_id))
    able = sum(1 for r in rows if r.can_sign)
    return ReadinessCounts(moment, able, len(rows) - able, rows)


def signed_pdf_of(letter_id: int) -> StoredFile | None:
    """The PDF a letter was signed with PKI (its newest LTA renewal), or ``None`` without such a signature.

    This is the file that must travel and be shown as it is: rendering the letter again would drop
    the signature.
    """
    from .archive import current_version
    from .models import Signature, SignatureMethod

    signature = (
        Signature.objects.filter(letter_id=letter_id, method=SignatureMethod.PADES)
        .select_related("pdf").order_by("-signed_at", "-pk").first()
    )
    return current_version(signature.pdf) if signature is not None else None


def signed_files_of_letter(letter_id: int) -> set[str]:
    """Every signed version of the letter's PDF, and their long-term archive renewals (for destruction)."""
    signed = set(Signature.objects.filter(letter_id=letter_id).values_list("pdf_id", flat=True))
    renewed = set(ArchivedPdf.objects.filter(original_id__in=signed).values_list("current_id", flat=True))
    return {str(s) for s in signed | renewed}


def letters_signed_in(sha256: str) -> set[int]:
    """The letters one of whose signed versions is the file ``sha256``."""
    return set(Signature.objects.filter(pdf_id=sha256).values_list("letter_id", flat=True))


def renewal_of(sha256: str) -> str | None:
    """The newest long-term renewal (B-LTA document timestamp) of the signed PDF ``sha256``, if archived."""
    return ArchivedPdf.objects.filter(original_id=sha256).values_list("current_id", flat=True).first()


def renewal_facts(sha256: str) -> dict[str, object] | None:
    """The long-term renewals of the signed PDF ``sha256``: how many, the last, when the newest timestamp ends."""
    found = ArchivedPdf.objects.filter(original_id=sha256).first()
    if found is None:
        return None
    return {"renewals": found.renewals, "renewed_at": found.renewed_at.isoformat() if found.renewed_at else None,
            "timestamp_expires_at": found.timestamp_expires_at.isoformat() if found.timestamp_expires_at else None,
            "current_sha256": found.current_id}
