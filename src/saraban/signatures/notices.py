"""Expiry warnings (แจ้งเตือนใบรับรองใกล้หมดอายุ): in-app notices and e-mail at 90, 60, 30 and 7 days.

``send_expiry_warnings`` runs once a day (``tasks_notices.send_expiry_warnings_task`` or
``saraban certificates warn``). For each active certificate it finds the tightest threshold already
reached (a certificate 50 days from expiry is at the 60-day threshold) and writes one notice per
recipient for it, never twice (a unique constraint guards this). The recipients are the holder and
every organisation administrator (ผู้ดูแลหน่วยงาน); a seal's warnings go to the administrators only.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from saraban.core.errors import PermissionRefused
from saraban.core.thai import BANGKOK, format_thai_date, local_date
from saraban.directory.models import Person, Role, RoleAssignment

from .models import ExpiryNotice, KeyLocation, RevocationStatus, SigningCertificate
from .selectors import role_in_force

log = logging.getLogger(__name__)

THRESHOLDS = (90, 60, 30, 7)
SUBJECT = "[Saraban] ใบรับรองอิเล็กทรอนิกส์จะหมดอายุใน {days} วัน / Signing certificate expires in {days} days"


def threshold_for(days_left: int) -> int | None:
    """The tightest threshold reached ``days_left`` days before expiry (None beyond 90 days or once expired)."""
    if days_left < 0:
        return None
    reached = [t for t in THRESHOLDS if days_left <= t]
    return min(reached) if reached else None


def expiry_day(certificate: SigningCertificate) -> dt.date:
    """The last calendar day (Bangkok) the certificate is valid on."""
    return local_date(certificate.not_after)


def recipients(certificate: SigningCertificate, on: dt.date) -> list[Person]:
    """The holder (not for a seal) and each administrator of the organisation on the day ``on``."""
    people: dict[int, Person] = {}
    if certificate.key_location != KeyLocation.SEAL and certificate.holder is not None:
        people[certificate.holder.pk] = certificate.holder
    admins = (
        RoleAssignment.objects
        .filter(role_in_force(on), organisation_id=certificate.organisation_id, role=Role.ORG_ADMIN)
        .select_related("person").order_by("pk")
    )
    for assignment in admins:
        people.setdefault(assignment.person_id, assignment.person)
    return [p for p in people.values() if p.is_active]


def _body(notice: ExpiryNotice, days_left: int) -> str:
    page = getattr(settings, "SARABAN_PUBLIC_URL", "").rstrip("/") + "/certificates/"
    cert = notice.certificate
    expires = expiry_day(cert)
    org = cert.organisation
    whose_th = cert.holder.display_name if cert.holder else f"ตราประทับของ{org.name_th}"
    whose_en = cert.holder.display_name if cert.holder else f"the seal of {org.name_en or org.name_th}"
    return (
        f"เรียน {notice.recipient.display_name}\n\n"
        f"ใบรับรองอิเล็กทรอนิกส์สำหรับลงลายมือชื่อของ{whose_th} ({org.name_th}) "
        f"จะหมดอายุในวันที่ {format_thai_date(expires)} (อีก {days_left} วัน)\n"
        f"ผู้ออกใบรับรอง: {cert.issuer}\nเลขที่ใบรับรอง: {cert.serial}\n"
        f"โปรดต่ออายุใบรับรองกับผู้ให้บริการออกใบรับรอง แล้วลงทะเบียนใบรับรองใหม่ที่หน้า ใบรับรองของฉัน ({page}) "
        "เพื่อให้ลงนามหนังสือได้ต่อเนื่อง\n\n"
        "---\n\n"
        f"Dear {notice.recipient.name_en or notice.recipient.display_name},\n\n"
        f"The signing certificate of {whose_en} ({org.name_en or org.name_th}) expires on "
        f"{expires:%d %B %Y} ({days_left} days from now).\n"
        f"Issuer: {cert.issuer}\nSerial: {cert.serial}\n"
        "Please renew it with the certification authority and register the new certificate under "
        f"My certificates ({page}) so that signing continues without a gap.\n"
    )


def _email(notice: ExpiryNotice, days_left: int) -> bool:
    """Send the notice's e-mail; True when sent (failures are logged and retried on the next run)."""
    address = notice.recipient.email
    if not address:
        return False
    try:
        send_mail(SUBJECT.format(days=days_left), _body(notice, days_left),
                  getattr(settings, "DEFAULT_FROM_EMAIL", None), [address])
    except Exception as exc:  # an SMTP server down must not stop the warnings of other certificates
        log.warning("expiry notice %s: e-mail not sent (%s)", notice.pk, type(exc).__name__)
        return False
    notice.emailed_at = timezone.now()
    notice.save(update_fields=["emailed_at"])
    return True


def send_expiry_warnings(*, today: dt.date | None = None) -> int:
    """Write (and e-mail) the expiry notices due ``today`` (default: today in Bangkok); returns how many."""
    day = today or dt.datetime.now(BANGKOK).date()
    horizon = dt.datetime.combine(day + dt.timedelta(days=max(THRESHOLDS) + 1), dt.time(), tzinfo=BANGKOK)
    start = dt.datetime.combine(day, dt.time(), tzinfo=BANGKOK)
    due = (
        SigningCertificate.objects.filter(active=True, not_after__gte=start, not_after__lt=horizon)
        .exclude(revocation_status=RevocationStatus.REVOKED)  # a revoked one is replaced, not renewed
        .select_related("organisation", "holder").order_by("not_after", "pk")
    )
    created = 0
    for cert in due:
        days_left = (expiry_day(cert) - day).days
        threshold = threshold_for(days_left)
        if threshold is None:
            continue
        for person in recipients(cert, day):
            try:
                with transaction.atomic():
                    notice, new = ExpiryNotice.objects.get_or_create(
                        certificate=cert, recipient=person, threshold_days=threshold
                    )
            except IntegrityError:  # another worker wrote it at the same moment
                continue
            if new:
                created += 1
            if notice.emailed_at is None and notice.read_at is None:
                notice.certificate = cert
                notice.recipient = person
                _email(notice, days_left)
    return created


def unread_notices(person: Person) -> QuerySet[ExpiryNotice]:
    """``person``'s unread warnings about certificates still registered, newest first."""
    return (
        ExpiryNotice.objects.filter(recipient=person, read_at__isnull=True, certificate__active=True)
        .select_related("certificate", "certificate__organisation", "certificate__holder")
        .order_by("-created_at", "-pk")
    )


def mark_read(notice: ExpiryNotice, *, actor: Person) -> ExpiryNotice:
    """Mark a warning as read; only its recipient may."""
    if notice.recipient_id != actor.pk:
        raise PermissionRefused(
            code="notice.not_recipient",
            message_th="ทำเครื่องหมายว่าอ่านแล้วได้เฉพาะผู้รับการแจ้งเตือน",
            message_en="Only the notice's recipient may mark it as read",
        )
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice
