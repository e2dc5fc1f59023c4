"""Reads of the e-CMS connector: connections, the e-CMS directory, the outbox and what was polled."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from .models import EcmsConnection, EcmsInbound, EcmsOrganisation, EcmsOutbound

DIRECTORY_PAGE = 50


def connections() -> QuerySet[EcmsConnection]:
    """Every organisation's e-CMS account, by organisation name."""
    return EcmsConnection.objects.select_related("organisation").order_by("organisation__name_th")


def search_agencies(query: str = "", *, unmatched_only: bool = False, limit: int = DIRECTORY_PAGE
                    ) -> list[EcmsOrganisation]:
    """Agencies of the e-CMS directory whose name or id contains ``query`` (at most ``limit``)."""
    rows = EcmsOrganisation.objects.select_related("organisation")
    if query.strip():
        q = query.strip()
        rows = rows.filter(Q(th_name__icontains=q) | Q(en_name__icontains=q) | Q(organization_id__icontains=q))
    if unmatched_only:
        rows = rows.filter(organisation__isnull=True)
    return list(rows.order_by("th_name", "pk")[:limit])


def outbound_of(organisation_ids: Iterable[int], *, statuses: Iterable[str] | None = None
                ) -> QuerySet[EcmsOutbound]:
    """What these organisations post to e-CMS, newest first."""
    rows = EcmsOutbound.objects.filter(connection__organisation_id__in=set(organisation_ids)).select_related(
        "connection", "dispatch__letter", "dispatch__recipient")
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.order_by("-created_at", "-pk")


def inbound_problems(organisation_ids: Iterable[int]) -> QuerySet[EcmsInbound]:
    """Polled items that did not become an inbox entry or a status (defective, unmatched), newest first."""
    return EcmsInbound.objects.filter(
        connection__organisation_id__in=set(organisation_ids), outcome__in=["invalid", "unmatched", "no_recipient"],
    ).order_by("-received_at")


def letter_of(dispatch_id: int) -> EcmsOutbound | None:
    """The latest e-CMS letter row of a dispatch (None: it did not go through e-CMS)."""
    return EcmsOutbound.objects.filter(dispatch_id=dispatch_id, kind="letter").order_by("-pk").first()


def messages_of_letter(letter_id: int) -> set[str]:
    """The SOAP requests that carried the letter to e-CMS (for destruction)."""
    return {str(s) for s in EcmsOutbound.objects.filter(dispatch__letter_id=letter_id)
            .values_list("request_id", flat=True) if s}


def message_received(inbound_id: str) -> set[str]:
    """The e-CMS message a letter arrived in (``IncomingLetter.channel_ref`` of the e-CMS channel)."""
    if not inbound_id.isdigit():
        return set()
    return {str(s) for s in EcmsInbound.objects.filter(pk=int(inbound_id)).values_list("raw_id", flat=True) if s}
