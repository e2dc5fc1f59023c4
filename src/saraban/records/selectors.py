"""Reading records: what is due for destruction in a year, what is held, an organisation's file plan."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from .models import Case, CaseStage, FilePlanEntry, LegalHold, Record, RecordStatus


def active_holds() -> QuerySet[LegalHold]:
    """Holds not released."""
    return LegalHold.objects.filter(released_at__isnull=True)


def due_for_destruction(organisation_id: int, year_be: int) -> QuerySet[Record]:
    """Records whose retention ended by the end of ``year_be`` (พ.ศ.), kept, and not on hold (ข้อ 66)."""
    held = active_holds().filter(record=OuterRef("pk"))
    return (Record.objects.filter(organisation_id=organisation_id, status=RecordStatus.KEPT,
                                  keep_until__isnull=False, keep_until__lte=year_be)
            .exclude(Exists(held)).order_by("keep_until", "document_year", "pk"))


def held_records(organisation_id: int, year_be: int) -> QuerySet[Record]:
    """Records that would be due by ``year_be`` but are on hold (listed apart, never destroyed)."""
    held = active_holds().filter(record=OuterRef("pk"))
    return Record.objects.filter(organisation_id=organisation_id, status=RecordStatus.KEPT,
                                 keep_until__isnull=False, keep_until__lte=year_be).filter(Exists(held))


def file_plan(organisation_id: int) -> QuerySet[FilePlanEntry]:
    """The organisation's files, by code."""
    return FilePlanEntry.objects.filter(organisation_id=organisation_id).order_by("code")


def open_cases(organisation_id: int) -> QuerySet[Case]:
    """The organisation's cases still in progress, newest first (a reply joins its letter's case)."""
    return (Case.objects.filter(organisation_id=organisation_id, stage=CaseStage.IN_PROGRESS)
            .select_related("file").order_by("-opened_at"))
