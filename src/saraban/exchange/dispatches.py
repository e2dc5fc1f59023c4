"""The status of each dispatch (ส่งถึงแล้ว … ลงรับแล้ว), as its recipient reports it, mirrored in the send register.

Whatever the channel (this deployment, a peer's signed receipts, later e-CMS and e-mail), a status
only moves forward: receipts that arrive late or twice change nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.core.labels import pair
from saraban.correspondence.models import Letter
from saraban.directory.models import Person
from saraban.registers.models import EntryStatus, RegisterEntry
from saraban.registers.services import record_action

from .models import Dispatch, DispatchStatus

# How far along a dispatch is: a status never goes back (receipts from a peer may arrive out of order).
_PROGRESS = {
    DispatchStatus.SENDING: 0, DispatchStatus.FAILED: 0, DispatchStatus.DELIVERED: 1,
    DispatchStatus.RECEIVED: 2, DispatchStatus.REGISTERED: 3, DispatchStatus.RETURNED: 3,
}


def report_status(
    dispatch: Dispatch, status: DispatchStatus, *, receive_number: str = "", reason: str = "",
    actor: Person | None,
) -> Dispatch:
    """The recipient's side reports what became of a dispatch (received, registered, returned)."""
    with transaction.atomic():
        # The dispatch's row is locked, not its letter's (read with it, for the audit and the register).
        dispatch = Dispatch.objects.select_for_update(of=("self",)).select_related("letter").get(pk=dispatch.pk)
        if _PROGRESS[status] < _PROGRESS[DispatchStatus(dispatch.status)]:
            return dispatch  # an older receipt arriving late
        if dispatch.status == status and status != DispatchStatus.FAILED:
            return dispatch  # already known (a receipt delivered twice)
        before = {"status": dispatch.status, "receive_number": dispatch.receive_number}
        dispatch.status = status
        dispatch.status_at = timezone.now()
        if receive_number:
            dispatch.receive_number = receive_number
        if reason:
            dispatch.returned_reason = reason
        dispatch.save(update_fields=["status", "status_at", "receive_number", "returned_reason"])
        letter = dispatch.letter
        record_event(
            "dispatch.status", object_type="dispatch", object_id=dispatch.pk, organisation_id=letter.organisation_id,
            actor=actor, before=before, after={"status": status, "receive_number": dispatch.receive_number},
        )
        mirror_in_register(letter)
    return dispatch


def mark_in_transit(dispatch: Dispatch, transport: str) -> None:
    """The dispatch is on its way by ``transport`` (a peer's outbox, e-CMS): กำลังส่ง, until a receipt says more."""
    dispatch.status, dispatch.transport, dispatch.status_at = DispatchStatus.SENDING, transport, timezone.now()
    Dispatch.objects.filter(pk=dispatch.pk).update(
        status=dispatch.status, transport=transport, status_at=dispatch.status_at, message_id=dispatch.message_id,
    )


def restart_dispatch(dispatch_id: int, *, actor: Person | None, why: str) -> bool:
    """Put a dispatch that failed or was returned back on its way (sent again): กำลังส่ง, audited.

    The one move against the forward-only rule of ``report_status``: the letter travels again, so
    whatever its recipient said of the earlier copy no longer stands. False when it had not failed
    or been returned.
    """
    with transaction.atomic():
        dispatch = Dispatch.objects.select_for_update().get(pk=dispatch_id)
        if dispatch.status not in (DispatchStatus.FAILED, DispatchStatus.RETURNED):
            return False
        before = {"status": dispatch.status, "reason": dispatch.returned_reason}
        dispatch.status, dispatch.status_at, dispatch.returned_reason = DispatchStatus.SENDING, timezone.now(), ""
        dispatch.receive_number = ""
        dispatch.save()
        letter = Letter.objects.get(pk=dispatch.letter_id)
        record_event(
            "dispatch.restarted", object_type="dispatch", object_id=dispatch.pk, organisation_id=letter.organisation_id,
            actor=actor, before=before, after={"status": dispatch.status}, detail={"why": why},
        )
        mirror_in_register(letter)
    return True


def report_undelivered(dispatch_id: int, reason: str) -> None:
    """A letter a mail server had accepted came back (an e-mail bounce): ส่งไม่สำเร็จ, with why.

    The other move against the forward-only rule: "delivered" by e-mail only meant a mail server took
    the message. A dispatch the recipient has since acted on (registered, returned) stays as it is.
    """
    with transaction.atomic():
        dispatch = Dispatch.objects.select_for_update().get(pk=dispatch_id)
        if dispatch.status not in (DispatchStatus.SENDING, DispatchStatus.DELIVERED):
            return
        before = {"status": dispatch.status}
        dispatch.status, dispatch.status_at = DispatchStatus.FAILED, timezone.now()
        dispatch.returned_reason = reason[:1000]
        dispatch.save()
        letter = Letter.objects.get(pk=dispatch.letter_id)
        record_event(
            "dispatch.status", object_type="dispatch", object_id=dispatch.pk, organisation_id=letter.organisation_id,
            actor=None, before=before, after={"status": dispatch.status}, detail={"reason": reason[:1000]},
        )
        mirror_in_register(letter)


def dispatch_reached(dispatch_id: int) -> None:
    """The peer stored the letter (its signed receipt ``delivered``): ส่งถึงแล้ว."""
    report_status(Dispatch(pk=dispatch_id), DispatchStatus.DELIVERED, actor=None)


def dispatch_failed(dispatch_id: int, reason: str) -> None:
    """The letter did not reach the peer (refused, given up or cancelled): ส่งไม่สำเร็จ, with why."""
    # Never over a later status: report_status moves a dispatch forward only (FAILED ranks first).
    report_status(Dispatch(pk=dispatch_id), DispatchStatus.FAILED, reason=reason[:1000], actor=None)


def status_summary(letter: Letter) -> str:
    """The per-recipient status in words, for the send register's การปฏิบัติ column."""
    parts = []
    for d in letter.dispatches.select_related("recipient").order_by("id"):
        label = pair(DispatchStatus(d.status).label)[0]
        if d.status == DispatchStatus.REGISTERED and d.receive_number:
            label = f"ลงรับเลขที่ {d.receive_number}"
        elif d.status == DispatchStatus.RETURNED:
            label = f"ส่งคืน: {d.returned_reason}"
        elif d.status == DispatchStatus.FAILED:
            label = f"ส่งไม่สำเร็จ: {d.returned_reason}"
        parts.append(f"{d.recipient.name_th} ({label})")
    return "; ".join(parts)


def mirror_in_register(letter: Letter) -> None:
    """Write the per-recipient status into the send register entry's การปฏิบัติ column."""
    entry = RegisterEntry.objects.filter(letter=letter, status=EntryStatus.ACTIVE).select_related("book").first()
    if entry is not None:
        record_action(entry, action=status_summary(letter)[:1000])
