"""Writing audit events: ``record_event`` appends one to its organisation's chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .hashing import canonical_json, digest, event_hash
from .models import AuditChain, AuditEvent


def chain_key(organisation_id: int | None) -> str:
    """The chain an organisation's events go to."""
    return f"org:{organisation_id}" if organisation_id is not None else "system"


HASHED_FIELDS = (
    "chain", "position", "occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "organisation_id", "before_digest", "after_digest", "detail",
)


def hashed_fields(event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
    """The fields of an event (a stored event or a row about to be written) that its hash covers."""
    values = event if isinstance(event, dict) else {name: getattr(event, name) for name in HASHED_FIELDS}
    fields = {name: values[name] for name in HASHED_FIELDS}
    fields["occurred_at"] = values["occurred_at"].isoformat()
    return fields


def lock_chain(key: str) -> AuditChain:
    """The chain head, locked for this transaction (created on first use)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT length, head_hash FROM audit_auditchain WHERE key = %s{lock}", [key])
        row = cursor.fetchone()
    if row is not None:
        return AuditChain(key=key, length=row[0], head_hash=row[1])
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


_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


def append_events(organisation_id: int | None, specs: list[EventSpec]) -> None:
    """Append events to the organisation's chain, in order, inside the caller's transaction."""
    with transaction.atomic(savepoint=False):
        key = chain_key(organisation_id)
        chain = lock_chain(key)
        now = timezone.now()
        prev_hash, position = chain.head_hash, chain.length
        rows = []
        for spec in specs:
            position += 1
            row = {
                "chain": key, "position": position, "occurred_at": now, "actor_id": spec.actor_id,
                "actor_label": spec.actor_label, "action": spec.action, "object_type": spec.object_type,
                "object_id": str(spec.object_id), "organisation_id": organisation_id,
                "before_digest": digest(spec.before), "after_digest": digest(spec.after), "detail": spec.detail,
                "prev_hash": prev_hash,
            }
            row["hash"] = prev_hash = event_hash(prev_hash, hashed_fields(row))
            rows.append(row)
        _insert(rows)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditchain SET length = %s, head_hash = %s WHERE key = %s", [position, prev_hash, key]
            )


def _insert(rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT (Django's bulk_create costs more than the hashing for a batch of numbers)."""
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    placeholders = f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {json_param}, %s, %s)"
    params: list[Any] = []
    for row in rows:
        params += [
            # Raw SQL skips the fields' conversions: SQLite compares datetimes as text in Django's format.
            connection.ops.adapt_datetimefield_value(row[name]) if name == "occurred_at"
            else canonical_json(row[name]) if name == "detail"
            else row[name]
            for name in _COLUMNS
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO audit_auditevent ({', '.join(_COLUMNS)}) VALUES " + ", ".join([placeholders] * len(rows)),
            params,
        )


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
) -> None:
    """Append an event: who (``actor``) did ``action`` to an object, with digests of its states.

    Runs inside the caller's transaction, so the event is written if and only if the change is.
    """
    label = (getattr(actor, "display_name", None) or str(actor)) if actor is not None else "system"
    spec = EventSpec(
        action=action, object_type=object_type, object_id=object_id, actor_id=getattr(actor, "pk", None),
        actor_label=label, before=before, after=after, detail=detail or {},
    )
    append_events(organisation_id, [spec])
