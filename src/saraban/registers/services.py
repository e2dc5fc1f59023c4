"""Writes to the registers: numbering outgoing letters, registering incoming ones, cancelling."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.core.errors import StateRefused
from saraban.core.thai import buddhist_year, local_date

from .models import BookKind, EntryStatus, RegisterEntry
from .numbering import Allocation, EntryFields, allocate


def number_template(kind: BookKind, letter_code: str, at: dt.datetime) -> str:
    """How a letter's number is written in the book of ``kind``: "นร 0105/{n}", "นร 0105/ว {n}", "{n}/2569"."""
    if kind in (BookKind.ORDER, BookKind.ANNOUNCEMENT):
        return f"{{n}}/{buddhist_year(local_date(at).year)}"
    if kind is BookKind.CIRCULAR:
        return f"{letter_code}/ว {{n}}"
    if kind in (BookKind.SEND, BookKind.SEND_CLASSIFIED):
        return f"{letter_code}/{{n}}"
    raise ValueError(f"{kind} is not a book of outgoing numbers")


def register_outgoing(
    organisation_id: int,
    kind: BookKind,
    *,
    letter_code: str,
    fields: EntryFields,
    at: dt.datetime | None = None,
    actor_label: str = "",
) -> Allocation:
    """Take the next number of an outgoing book (send, circular, classified, order, announcement)."""
    moment = at or timezone.now()
    template = number_template(kind, letter_code, moment)
    fields = EntryFields(**{**fields.__dict__, "number_template": template})
    return allocate(organisation_id, kind, fields, at=moment, actor_label=actor_label)


def register_incoming(
    organisation_id: int,
    *,
    classified: bool,
    fields: EntryFields,
    at: dt.datetime | None = None,
    actor_label: str = "",
) -> Allocation:
    """Enter a received letter in the receive register (ทะเบียนหนังสือรับ) and give it its เลขรับ."""
    kind = BookKind.RECEIVE_CLASSIFIED if classified else BookKind.RECEIVE
    return allocate(organisation_id, kind, fields, at=at, actor_label=actor_label)


@transaction.atomic
def cancel_entry(entry: RegisterEntry, *, reason: str, actor: object = None) -> RegisterEntry:
    """Cancel a number: the entry stays in the register, marked ยกเลิก; the number is never reused."""
    entry = RegisterEntry.objects.select_for_update().select_related("book").get(pk=entry.pk)
    if entry.status == EntryStatus.CANCELLED:
        raise StateRefused(
            code="register.already_cancelled",
            message_th=f"เลขทะเบียน {entry.number} ถูกยกเลิกแล้ว",
            message_en=f"Register number {entry.number} is already cancelled",
        )
    if not reason.strip():
        raise StateRefused(
            code="register.reason_required", message_th="ต้องระบุเหตุผลที่ยกเลิก",
            message_en="A reason for the cancellation is required",
        )
    entry.status = EntryStatus.CANCELLED
    entry.cancelled_reason = reason.strip()
    entry.remarks = f"ยกเลิก: {reason.strip()}"
    entry.save(update_fields=["status", "cancelled_reason", "remarks"])
    record_event(
        "register.number_cancelled", object_type="register_entry", object_id=entry.pk,
        organisation_id=entry.book.organisation_id, actor=actor,
        before={"status": EntryStatus.ACTIVE}, after={"status": entry.status, "reason": entry.cancelled_reason},
        detail={"number": entry.number, "letter_number": entry.letter_number},
    )
    return entry


@transaction.atomic
def record_action(entry: RegisterEntry, *, action: str, actor: object = None) -> RegisterEntry:
    """Write the การปฏิบัติ column of an entry (e.g. where a received letter went, or its delivery status)."""
    before = {"action": entry.action}
    entry.action = action
    entry.save(update_fields=["action"])
    record_event(
        "register.action_recorded", object_type="register_entry", object_id=entry.pk,
        organisation_id=entry.book.organisation_id, actor=actor, before=before, after={"action": action},
    )
    return entry
