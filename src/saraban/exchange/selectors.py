"""Reads of the exchange: peers, where a remote organisation lives, the outbox as the registry sees it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Dispatch, DispatchStatus, MessageStatus, OutgoingMessage, Peer, RemoteOrganisation


def peer_of(organisation_id: int) -> Peer | None:
    """The peer that hosts a remote organisation (None: hosted here, or not known)."""
    remote = RemoteOrganisation.objects.select_related("peer").filter(organisation_id=organisation_id).first()
    return remote.peer if remote else None


def peers() -> QuerySet[Peer]:
    """Every peer, by name."""
    return Peer.objects.order_by("name")


def peer_names(deployment_ids: Iterable[str]) -> dict[str, str]:
    """The names of the peers with these deployment ids."""
    return dict(Peer.objects.filter(deployment_id__in=set(deployment_ids)).values_list("deployment_id", "name"))


def outbox_of(organisation_ids: Iterable[int], *, statuses: Iterable[str] | None = None) -> QuerySet[OutgoingMessage]:
    """The outbox messages of these organisations, newest first (waiting, retrying, given up...)."""
    rows = OutgoingMessage.objects.filter(organisation_id__in=set(organisation_ids)).select_related("peer", "dispatch")
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.order_by("-created_at", "-pk")


def open_problems(organisation_ids: Iterable[int]) -> QuerySet[OutgoingMessage]:
    """Messages the registry must look at: given up or refused (the work queue shows them)."""
    return outbox_of(organisation_ids, statuses=[MessageStatus.GIVEN_UP, MessageStatus.REFUSED])


def failed_dispatches(organisation_ids: Iterable[int]) -> QuerySet[Dispatch]:
    """Dispatches of these organisations' letters that did not reach their recipient."""
    return Dispatch.objects.filter(
        letter__organisation_id__in=set(organisation_ids), status=DispatchStatus.FAILED,
    ).select_related("letter", "recipient").order_by("-status_at")


def message_for_dispatch(dispatch_id: int) -> OutgoingMessage | None:
    """The newest outbox message of a dispatch (its attempts and last error, for the letter page)."""
    return OutgoingMessage.objects.filter(dispatch_id=dispatch_id).order_by("-pk").first()
