"""Writing audit events: ``record_event`` appends one to its organisation's chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from .hashing import digest, event_hash
from .models import AuditChain, AuditEvent


def chain_key(organisation_id: int | None) -> str:
    """The chain an organisation's events go to."""
    return f"org:{organisation_id}" if organisation_id is not None else "system"


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields of an event that its hash covers."""
    return {
        "chain": event.chain,
        "position": event.position,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "organisation_id": event.organisation_id,
        "before_digest": event.before_digest,
        "after_digest": event.after_digest,
        "detail": event.detail,
    }


def lock_chain(key: str) -> AuditChain:
    """The chain head, locked for this transaction (created on first use)."""
    chain = AuditChain.objects.select_for_update().filter(key=key).first()
    if chain is not None:
        return chain
    AuditChain.objects.bulk_create([AuditChain(key=key)], ignore_conflicts=True)
    return AuditChain.objects.select_for_update().get(key=key)


@dataclass(frozen=True)
class EventSpec:
    """One event to append: what happened to which object, by whom, with its before/after states."""

    action: str
    object_type: str
    object_id: object
    actor_id: int | None = None
    actor_label: str = "system"
    before: Any = None
    after: Any = None
    detail: dict[str, Any] = field(default_factory=dict)


def append_events(organisation_id: int | None, specs: list[EventSpec]) -> list[AuditEvent]:
    """Append events to the organisation's chain, in order, inside the caller's transaction."""
    with transaction.atomic():
        key = chain_key(organisation_id)
        chain = lock_chain(key)
        now = timezone.now()
        prev_hash, position = chain.head_hash, chain.length
        events = []
        for spec in specs:
            position += 1
            event = AuditEvent(
                chain=key, position=position, occurred_at=now, actor_id=spec.actor_id,
                actor_label=spec.actor_label, action=spec.action, object_type=spec.object_type,
                object_id=str(spec.object_id), organisation_id=organisation_id,
                before_digest=digest(spec.before), after_digest=digest(spec.after), detail=spec.detail,
                prev_hash=prev_hash,
            )
            event.hash = event_hash(prev_hash, hashed_fields(event))
            prev_hash = event.hash
            events.append(event)
        AuditEvent.objects.bulk_create(events)
        AuditChain.objects.filter(key=key).update(length=position, head_hash=prev_hash)
    return events


def record_event(
    action: str,
    *,
    object_type: str,
    object_id: object,
    organisation_id: int | None,
    actor: Any = None,
    before: Any = None,
    after: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event: who (``actor``) did ``action`` to an object, with digests of its states.

    Runs inside the caller's transaction, so the event is written if and only if the change is.
    """
    label = (getattr(actor, "display_name", None) or str(actor)) if actor is not None else "system"
    spec = EventSpec(
        action=action, object_type=object_type, object_id=object_id, actor_id=getattr(actor, "pk", None),
        actor_label=label, before=before, after=after, detail=detail or {},
    )
    return append_events(organisation_id, [spec])[0]
