"""Reading the audit trail, and checking that its chains are intact."""

from __future__ import annotations

from dataclasses import dataclass

from .hashing import event_hash
from .models import AuditChain, AuditEvent
from .services import hashed_fields


@dataclass(frozen=True)
class ChainBreak:
    """The first place where a chain does not verify."""

    chain: str
    position: int
    event_id: int | None
    reason: str
    where: str = ""  # e.g. "anchor file line 3"; by default the event or the chain head

    def __str__(self) -> str:
        where = self.where or (f"event {self.event_id}" if self.event_id is not None else "chain head")
        return f"{self.chain} position {self.position} ({where}): {self.reason}"


def verify_chain(
    key: str, *, after: tuple[int, str] | None = None, until: tuple[int, str] | None = None
) -> ChainBreak | None:
    """Check one chain from its first event to its head; the first break, or ``None``.

    ``after`` = (position, hash) checks only the events after an already verified point, e.g. the
    chain's last anchor: the next event must follow that hash. ``until`` = (length, head hash) checks
    up to a head read earlier instead of the stored head (events appended since are not looked at).
    """
    start_position, prev_hash = after if after is not None else (0, "0" * 64)
    expected_position = start_position + 1
    events = AuditEvent.objects.filter(chain=key, position__gt=start_position)
    if until is not None:
        events = events.filter(position__lte=until[0])
    for event in events.order_by("position").iterator(chunk_size=2000):
        if event.position != expected_position:
            return ChainBreak(key, expected_position, event.pk, "event missing / ไม่พบเหตุการณ์ลำดับนี้")
        if event.prev_hash != prev_hash:
            return ChainBreak(key, event.position, event.pk, "previous hash differs / แฮชก่อนหน้าไม่ตรง")
        if event_hash(prev_hash, hashed_fields(event)) != event.hash:
            return ChainBreak(key, event.position, event.pk, "content changed / เนื้อหาถูกแก้ไข")
        prev_hash = event.hash
        expected_position += 1
    length = expected_position - 1
    if until is not None:
        if until != (length, prev_hash):
            return ChainBreak(key, length + 1, None, f"head says {until[0]} events, found {length} / จำนวนเหตุการณ์ไม่ตรง")
        return None
    head = AuditChain.objects.filter(key=key).first()
    if head is None:
        if length:
            return ChainBreak(key, length, None, "chain head missing / ไม่พบหัวของสายโซ่")
        return None
    if head.length != length or head.head_hash != prev_hash:
        return ChainBreak(
            key, length + 1, None, f"head says {head.length} events, found {length} / จำนวนเหตุการณ์ไม่ตรง"
        )
    return None


def verify_all_chains() -> tuple[int, list[ChainBreak]]:
    """Verify every chain: the number of events checked and the first break of each broken chain."""
    keys = set(AuditChain.objects.values_list("key", flat=True))
    keys |= set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    breaks = [b for key in sorted(keys) if (b := verify_chain(key)) is not None]
    return AuditEvent.objects.count(), breaks


def events_for(object_type: str, object_id: object) -> list[AuditEvent]:
    """The history of one object, oldest first."""
    return list(AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("id"))
