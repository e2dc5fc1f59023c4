"""Writes to the registers: numbering outgoing letters, registering incoming ones, cancelling.

A letter signed with PKI is numbered before it is signed (the signed PDF cannot change), but the
signature may wait on a TSA or OCSP server: so its number is *reserved* (จองเลข) in a short
transaction of its own (``register_outgoing(..., reserve=True)``), the letter is signed with no lock
held, and the reservation is then confirmed with the signed PDF (``confirm_reservation``) or, if the
signing failed, cancelled (``cancel_entry``): it stays in the register marked ยกเลิก, so there is no
gap, and the number is never given to anything else, so there is no duplicate.
"""

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
    reserve: bool = False,
) -> Allocation:
    """Take the next number of an outgoing book (send, circular, classified, order, announcement).

    ``reserve``: the entry is RESERVED (จองเลข) until ``confirm_reservation`` or ``cancel_entry``.
    """
    moment = at or timezone.now()
    template = number_template(kind, letter_code, moment)
    status = EntryStatus.RESERVED if reserve else EntryStatus.ACTIVE
    fields = EntryFields(**{**fields.__dict__, "number_template": template, "status": status})
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
    before = entry.status
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
        before={"status": before}, after={"status": entry.status, "reason": entry.cancelled_reason},
        detail={"number": entry.number, "letter_number": entry.letter_number},
    )
    return entry


def reservation_of(letter_id: int) -> RegisterEntry | None:
    """The number reserved for the letter by a PKI signature not finished yet, if any."""
    return RegisterEntry.objects.filter(letter_id=letter_id, status=EntryStatus.RESERVED).first()


@transaction.atomic
def confirm_reservation(entry_id: int, *, actor: object = None) -> bool:
    """Make a reserved number the letter's for good (its signed PDF is being recorded).

    ``False`` when the reservation is no longer there: cancelled meanwhile (the letter was returned or
    cancelled, or another attempt found it stale), so the caller must not record the signature.
    """
    # The entry's row only (``of``): the book stays free for other numbers while the signature is recorded.
    entry = RegisterEntry.objects.select_for_update(of=("self",)).filter(pk=entry_id).first()
    if entry is None or entry.status != EntryStatus.RESERVED:
        return False
    entry.status = EntryStatus.ACTIVE
    entry.save(update_fields=["status"])
    record_event(
        "register.number_confirmed", object_type="register_entry", object_id=entry.pk,
        organisation_id=entry.book.organisation_id, actor=actor,
        before={"status": EntryStatus.RESERVED}, after={"status": entry.status},
        detail={"number": entry.number, "letter_number": entry.letter_number},
    )
    return True


@transaction.atomic
def cancel_reservations(letter_id: int, *, reason: str, actor: object = None, entry_id: int | None = None) -> int:
    """Cancel the numbers reserved for the letter (they stay in the register marked ยกเลิก); how many.

    ``entry_id``: only that reservation (a failed attempt cancels its own number, not a later one's).
    """
    reserved = RegisterEntry.objects.select_for_update().filter(letter_id=letter_id, status=EntryStatus.RESERVED)
    if entry_id is not None:
        reserved = reserved.filter(pk=entry_id)
    entries = list(reserved)
    for entry in entries:
        cancel_entry(entry, reason=reason, actor=actor)
    return len(entries)


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


DESTROYED_REMARK = "ทำลายแล้ว"


def mark_destroyed(*, letter_id: int | None = None, entry_id: int | None = None, reference: str,
                   actor: object = None) -> int:
    """Note in the หมายเหตุ of a destroyed letter's register lines "ทำลายแล้ว" and the approval's reference.

    The lines stay in the register for ever (only the letter's content and files go); how many were marked.
    """
    entries = RegisterEntry.objects.select_related("book")
    if letter_id is not None:
        found = list(entries.filter(letter_id=letter_id))
    elif entry_id is not None:
        found = list(entries.filter(pk=entry_id))
    else:
        found = []
    for entry in found:
        if DESTROYED_REMARK in entry.remarks:
            continue
        before = {"remarks": entry.remarks}
        entry.remarks = "; ".join(p for p in (entry.remarks, f"{DESTROYED_REMARK} ({reference})") if p)[:1000]
        entry.save(update_fields=["remarks"])
        record_event(
            "register.destroyed_noted", object_type="register_entry", object_id=entry.pk,
            organisation_id=entry.book.organisation_id, actor=actor, before=before, after={"remarks": entry.remarks},
        )
    return len(found)
