"""Reads of the exchange: peers, where a remote organisation lives, the outbox as the registry sees it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Dispatch, DispatchStatus, OutgoingMessage, Peer, ReceivedMessage, RemoteOrganisation


def peer_of(organisation_id: int) -> Peer | None:
    """The peer that hosts a remote organisation (None: hosted here, or not known)."""
    remote = RemoteOrganisation.objects.select_related("peer").filter(organisation_id=organisation_id).first()
    return remote.peer if remote else None


def peers() -> QuerySet[Peer]:
    """Every peer, by name."""
    return Peer.objects.order_by("name")


def outbox_of(organisation_ids: Iterable[int], *, statuses: Iterable[str] | None = None) -> QuerySet[OutgoingMessage]:
    """The outbox messages of these organisations, newest first (waiting, retrying, given up...)."""
    rows = OutgoingMessage.objects.filter(organisation_id__in=set(organisation_ids)).select_related("peer", "dispatch")
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.order_by("-created_at", "-pk")


def failed_dispatches(organisation_ids: Iterable[int]) -> QuerySet[Dispatch]:
    """Dispatches of these organisations' letters that did not reach their recipient."""
    return Dispatch.objects.filter(
        letter__organisation_id__in=set(organisation_ids), status=DispatchStatus.FAILED,
    ).select_related("letter", "recipient").order_by("-status_at")


def containers_of_letter(letter_id: int) -> set[str]:
    """The envelopes (ASiC-E containers) that carried the letter to other deployments (for destruction)."""
    return {str(s) for s in OutgoingMessage.objects.filter(dispatch__letter_id=letter_id)
            .values_list("container_id", flat=True)}


def container_received(received_message_id: int | None) -> set[str]:
    """The envelope a letter arrived in from another deployment (for destruction)."""
    if received_message_id is None:
        return set()
    return {str(s) for s in ReceivedMessage.objects.filter(pk=received_message_id)
            .values_list("container_id", flat=True)}
