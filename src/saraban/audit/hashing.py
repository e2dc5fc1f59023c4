"""Canonical digests of snapshots and events."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, so equal data always gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON of ``value``; empty for ``None`` (nothing before a creation)."""
    if value is None:
        return ""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The chained hash of one event: SHA-256 over the previous hash and the event's fields."""
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()
