"""The long-term archive of signed PDFs (PAdES B-LTA) and its renewal (ต่ออายุการประทับรับรองเวลา).

Services: ``track_signed_pdf`` (put a signed PDF under archive care; idempotent) and ``renew_due`` (the
scheduled bulk job: a new document timestamp on every archive whose newest timestamp's certificate ends
soon). Selectors: ``current_version`` (what a download should serve), ``due_for_renewal``,
``renewal_plan`` and ``archives_of``.

The archive is keyed by the file's content (``StoredFile`` is content-addressed), so a letter signed by
one organisation and received by another is archived and renewed once; both download the renewal.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from asn1crypto import x509
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, SarabanError, ValidationFailed
from saraban.directory.models import Organisation
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file, store_file

from .models import ArchivedPdf
from .pades.renewal import RenewalFailed, add_archival_timestamp, newest_timestamp_expiry

logger = logging.getLogger(__name__)

PDF = "application/pdf"
DEFAULT_WITHIN_DAYS = 90
_MAX_ERROR = 2000


@dataclass
class RenewalOutcome:
    """What happened to one archive in a run."""

    archive_id: int
    original: str  # SHA-256 of the PDF as signed
    renewed: bool
    current: str = ""  # SHA-256 of the file served from now on
    timestamp_expires_at: str | None = None  # ISO 8601
    error: str = ""  # "ไทย / English"


@dataclass
class RenewalSummary:
    """The result of ``renew_due``: counts and one outcome per archive attempted."""

    renewed: int = 0
    failed: int = 0
    not_due: int = 0  # archives whose newest timestamp ends after the window (or that have none)
    deferred: int = 0  # due, but left for the next run by ``limit``
    outcomes: list[RenewalOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No renewal failed."""
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (a task's return value)."""
        return asdict(self)

    def explain_th(self) -> str:
        """One line in Thai."""
        return (f"ต่ออายุการประทับรับรองเวลาแล้ว {self.renewed} ฉบับ, ไม่สำเร็จ {self.failed} ฉบับ, "
                f"ยังไม่ถึงกำหนด {self.not_due} ฉบับ, เลื่อนไปรอบถัดไป {self.deferred} ฉบับ")

    def explain_en(self) -> str:
        """One line in English."""
        return (f"Renewed {self.renewed}, failed {self.failed}, not due {self.not_due}, "
                f"deferred to the next run {self.deferred}")


# --- selectors -------------------------------------------------------------------------------------


def current_version(stored: StoredFile) -> StoredFile:
    """The newest renewal of the archived PDF whose original is ``stored``, or ``stored`` itself.

    Downloads of a signed letter go through this, so that they serve the file with the newest
    document timestamp (the original stays in the store, byte for byte, for the record).
    """
    archive = ArchivedPdf.objects.filter(original=stored).select_related("current").first()
    return archive.current if archive is not None else stored


def due_for_renewal(
    *, within_days: int = DEFAULT_WITHIN_DAYS, now: dt.datetime | None = None
) -> QuerySet[ArchivedPdf]:
    """Archives whose newest timestamp's certificate ends within ``within_days`` of ``now``, soonest first."""
    horizon = (now or timezone.now()) + dt.timedelta(days=within_days)
    return ArchivedPdf.objects.filter(timestamp_expires_at__isnull=False, timestamp_expires_at__lte=horizon).order_by(
        "timestamp_expires_at", "pk"
    )


@dataclass
class RenewalPlan:
    """What a run would do: the archives it renews now, and how many are not due or left for later."""

    batch: list[ArchivedPdf]
    not_due: int
    deferred: int


def renewal_plan(
    *, within_days: int = DEFAULT_WITHIN_DAYS, limit: int | None = None, now: dt.datetime | None = None
) -> RenewalPlan:
    """The archives a run of ``renew_due`` with these arguments takes on (also its ``--dry-run``)."""
    due = due_for_renewal(within_days=within_days, now=now)
    total_due = due.count()
    batch = list(due[:limit] if limit is not None else due)
    return RenewalPlan(batch=batch, not_due=ArchivedPdf.objects.count() - total_due,
                       deferred=total_due - len(batch))


def archives_of(organisation_id: int) -> QuerySet[ArchivedPdf]:
    """The archives an organisation put under care (for its administrator's page), soonest expiry first."""
    return ArchivedPdf.objects.filter(organisation_id=organisation_id).order_by("timestamp_expires_at", "pk")


# --- services --------------------------------------------------------------------------------------


def track_signed_pdf(stored: StoredFile, *, organisation_id: int) -> ArchivedPdf:
    """Put a signed PDF under archive care and return its record (the existing one when already tracked).

    Called by the signing workflow after a B-T, B-LT or B-LTA signature and on receipt of a signed
    letter. A PDF with no timestamp (B-B, unsigned, unreadable) is recorded with no expiry and is never
    due; ``last_error`` says why it cannot be renewed when the file cannot be read.
    """
    existing = ArchivedPdf.objects.filter(Q(original=stored) | Q(current=stored)).order_by("pk").first()
    if existing is not None:
        return existing
    if not Organisation.objects.filter(pk=organisation_id).exists():
        raise ValidationFailed([FieldProblem(
            "organisation_id", "unknown", "ไม่พบหน่วยงานนี้", f"No organisation with id {organisation_id}",
        )])
    try:
        pdf = read_file(stored.sha256)
    except Exception:
        raise SarabanError(
            code="archive.file_missing", message_th="ไม่พบเนื้อไฟล์ในที่เก็บไฟล์",
            message_en=f"The content of file {stored.sha256[:12]} is missing from the file store",
        ) from None
    expires = newest_timestamp_expiry(pdf)
    note = ""
    if expires is None and b"%PDF-" not in pdf[:1024]:
        note = "ไฟล์นี้ไม่ใช่ PDF ต่ออายุไม่ได้ / The file is not a PDF and cannot be renewed"
    archive, _created = ArchivedPdf.objects.get_or_create(
        original=stored,
        defaults={"organisation_id": organisation_id, "current": stored, "timestamp_expires_at": expires,
                  "last_error": note},
    )
    return archive


def renew_due(
    *,
    within_days: int = DEFAULT_WITHIN_DAYS,
    limit: int | None = None,
    tsa_url: str | None = None,
    now: dt.datetime | None = None,
    trust_roots: Sequence[x509.Certificate] | None = None,
) -> RenewalSummary:
    """Add a new document timestamp to every archive due within ``within_days`` (at most ``limit``).

    The TSA is ``tsa_url`` or ``settings.SARABAN_PADES["tsa_url"]``; the trust roots are the configured
    ones unless given. Each renewal is stored as the archive's ``current`` file with the new expiry, in
    one transaction with its audit event. A failure (TSA down, broken file, timestamp no longer valid)
    is recorded in the archive's ``last_error`` and the run goes on; the archive keeps its file.
    """
    problems = []
    if within_days < 0:
        problems.append(FieldProblem("within_days", "negative", "จำนวนวันต้องไม่ติดลบ",
                                     "within_days must not be negative"))
    if limit is not None and limit < 1:
        problems.append(FieldProblem("limit", "too_small", "จำนวนสูงสุดต้องมากกว่า 0", "limit must be at least 1"))
    if problems:
        raise ValidationFailed(problems)
    plan = renewal_plan(within_days=within_days, limit=limit, now=now)
    summary = RenewalSummary(not_due=plan.not_due, deferred=plan.deferred)
    if not plan.batch:
        return summary  # nothing due: a deployment without a TSA may run the job all the same
    tsa = tsa_url or configured_tsa_url()
    if not tsa:
        raise SarabanError(
            code="renewal.no_tsa", message_th="ยังไม่ได้กำหนดหน่วยประทับรับรองเวลา (TSA) ที่ SARABAN_TSA_URL",
            message_en="No time-stamping authority: set SARABAN_TSA_URL or pass --tsa URL",
        )
    if trust_roots is None:
        from .trust import trust_roots as configured_roots

        trust_roots = configured_roots()
    if not trust_roots:
        raise SarabanError(
            code="renewal.no_trust_roots", message_th="ยังไม่ได้กำหนดใบรับรองหลักที่เชื่อถือ (SARABAN_TRUST_ROOTS)",
            message_en="No trust roots are configured (SARABAN_TRUST_ROOTS): no timestamp could be checked",
        )
    for archive in plan.batch:
        outcome = _renew_one(archive, tsa_url=tsa, trust_roots=trust_roots)
        summary.outcomes.append(outcome)
        if outcome.renewed:
            summary.renewed += 1
        else:
            summary.failed += 1
    return summary


def configured_tsa_url() -> str | None:
    """The deployment's TSA (``SARABAN_TSA_URL``), ``None`` when not configured."""
    from .policy import tsa_url

    return tsa_url() or None


def _renew_one(archive: ArchivedPdf, *, tsa_url: str, trust_roots: Sequence[x509.Certificate]) -> RenewalOutcome:
    outcome = RenewalOutcome(archive_id=archive.pk, original=archive.original_id, renewed=False)
    previous = archive.current_id
    try:
        try:
            pdf = read_file(previous)
        except Exception:
            raise SarabanError(
                code="archive.file_missing", message_th="ไม่พบเนื้อไฟล์ในที่เก็บไฟล์",
                message_en=f"The content of file {previous[:12]} is missing from the file store",
            ) from None
        renewed = add_archival_timestamp(pdf, tsa_url=tsa_url, trust_roots=trust_roots)
        expires = newest_timestamp_expiry(renewed)
        if expires is None:
            raise RenewalFailed(
                code="renewal.no_new_timestamp", message_th="ไม่พบการประทับรับรองเวลาใหม่ในไฟล์ที่ต่ออายุ",
                message_en="The renewed file has no readable new timestamp",
            )
        with transaction.atomic():
            locked = ArchivedPdf.objects.select_for_update().get(pk=archive.pk)
            if locked.current_id != previous:
                # Another run renewed it meanwhile: its file stands, nothing to do.
                outcome.renewed = True
                outcome.current = locked.current_id
                outcome.timestamp_expires_at = _iso(locked.timestamp_expires_at)
                return outcome
            stored = store_file(renewed, PDF)
            locked.current = stored
            locked.renewals += 1
            locked.renewed_at = timezone.now()
            locked.timestamp_expires_at = expires
            locked.last_error = ""
            locked.save(update_fields=["current", "renewals", "renewed_at", "timestamp_expires_at", "last_error"])
            record_event(
                "signature.archive_renewed", object_type="archived_pdf", object_id=locked.pk,
                organisation_id=locked.organisation_id,
                before={"current": previous}, after={"current": stored.sha256, "renewals": locked.renewals},
                detail={"original": locked.original_id, "timestamp_expires_at": _iso(expires)},
            )
        outcome.renewed = True
        outcome.current = stored.sha256
        outcome.timestamp_expires_at = _iso(expires)
    except SarabanError as exc:
        outcome.error = _clean(str(exc))
    except Exception as exc:  # the run must go on; the message is kept for the administrator
        outcome.error = _clean(f"ต่ออายุไม่สำเร็จ / Renewal failed: {type(exc).__name__}: {exc}")
        logger.error("LTA renewal of archive %s failed unexpectedly: %s", archive.pk, outcome.error)
    if outcome.error:
        ArchivedPdf.objects.filter(pk=archive.pk).update(last_error=outcome.error)
    return outcome


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


_URL_CREDENTIALS = re.compile(r"(?<=//)[^/@\s]+@")


def _clean(message: str) -> str:
    """No credentials of a TSA URL (``https://user:pass@tsa…``) in a stored error; bounded length."""
    return _URL_CREDENTIALS.sub("***@", message)[:_MAX_ERROR]
