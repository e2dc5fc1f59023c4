"""Writes of the inbox: receive, register (with the receipt stamp), endorse and assign, act, close, return."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from saraban.access import refusals
from saraban.access.policy import has_role, has_role_within, today
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, Refusal, RuleViolated, ValidationFailed, enforce
from saraban.core.labels import pair
from saraban.core.thai import format_thai_date
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import acting_appointments, current_roles
from saraban.documents.models import StoredFile
from saraban.documents.services import FileTooLarge, max_file_bytes, read_file, store_file
from saraban.exchange.delivery import Delivery
from saraban.exchange.models import DispatchStatus
from saraban.exchange.services import report_to_sender
from saraban.ocr.services import request_reading
from saraban.registers.models import BookKind, EntryStatus, RegisterEntry
from saraban.registers.numbering import Allocation, EntryFields
from saraban.registers.services import cancel_entry, confirm_reservation, record_action
from saraban.registers.services import register_incoming as allocate_receive_number
from saraban.regulation.kinds import Secrecy, Urgency
from saraban.rendering.engine import RenderError
from saraban.rendering.stamps import (
    NotAPdf,
    PdfError,
    PdfTooLarge,
    images_to_pdf,
    readable_pdf,
    render_receipt_stamp,
    stamp_first_page,
)

from .models import Assignment, AssignmentStatus, Endorsement, IncomingLetter, IncomingSource, IncomingStatus
from .permissions import (
    CLERKS,
    can_close,
    can_complete,
    can_endorse,
    can_register,
    can_register_paper,
    can_return,
)
from .permissions import may_act_on as may_act_on  # the pages and tests ask it here too
from .selectors import incoming_visible_to
from .snapshots import incoming_snapshot

log = logging.getLogger(__name__)


def _audit(incoming: IncomingLetter, action: str, actor: Person | None, before: object, **detail: object) -> None:
    record_event(
        action, object_type="incoming_letter", object_id=incoming.pk, organisation_id=incoming.organisation_id,
        actor=actor, before=before, after=incoming_snapshot(incoming), detail=dict(detail),
    )


def _state(incoming: IncomingLetter, *allowed: IncomingStatus, th: str, en: str) -> None:
    """``incoming.wrong_state`` when the state changed under a step already allowed (seen again under a lock)."""
    if incoming.status not in allowed:
        state = pair(IncomingStatus(incoming.status).label)
        raise refusals.INCOMING_WRONG_STATE.format(action=(th, en), state=state).error()


def receive_electronic(delivery: Delivery) -> int:
    """Put a delivered letter in the recipient organisation's inbox (status: awaiting registration).

    ``delivery`` comes from a transport: this deployment's own (``dispatch_id``) or a peer's message
    (``received_message_id``); the inbox stores what it holds and never reads the sender's rows.
    Once the delivery commits, ``validate_received_letter`` is queued: the worker keeps the report of
    the letter's signatures as they were on receipt (``record_receipt_validation``).
    """
    original = store_file(delivery.pdf, "application/pdf")
    incoming = IncomingLetter.objects.create(
        organisation_id=delivery.recipient_id, source=IncomingSource.ELECTRONIC, dispatch_id=delivery.dispatch_id,
        received_message_id=delivery.received_message_id, sender_name=delivery.sender_name,
        sender_organisation_id=delivery.sender_organisation_id, letter_number=delivery.number,
        letter_date=delivery.date, subject=delivery.subject, addressed_to=delivery.addressed_to,
        urgency=delivery.urgency, secrecy=delivery.secrecy, original=original,
        enclosures=list(delivery.enclosures), delivered_at=delivery.delivered_at,
        channel=delivery.channel, channel_ref=delivery.channel_ref,
    )
    _audit(incoming, "incoming.delivered", None, None, dispatch=delivery.dispatch_id,
           message=delivery.received_message_id)
    incoming_id = incoming.pk
    # After the delivery commits: the worker validates the signatures (seconds, at worst a TSA/OCSP
    # timeout) outside it. robust: a failed enqueue must not undo a completed delivery.
    transaction.on_commit(lambda: _validate_later(incoming_id), robust=True)
    return incoming_id


def _tell_sender(incoming: IncomingLetter, status: DispatchStatus, actor: Person, **details: object) -> None:
    """Report the letter's new state to its sender, whichever channel brought it (nothing for paper)."""
    if incoming.dispatch_id or incoming.received_message_id or incoming.channel:
        report_to_sender(dispatch_id=incoming.dispatch_id, received_message_id=incoming.received_message_id,
                         channel=incoming.channel, channel_ref=incoming.channel_ref,
                         status=status, actor=actor, **details)  # type: ignore[arg-type]


def _validate_later(incoming_id: int) -> None:
    from .tasks import validate_received_letter

    validate_received_letter.enqueue(incoming_id)


def mark_opened(incoming: IncomingLetter, *, actor: Person) -> None:
    """The first time a clerk of the recipient opens a delivered letter, the sender sees "received"."""
    if incoming.opened_at is not None or not has_role(actor, incoming.organisation_id, *CLERKS):
        return
    with transaction.atomic():
        updated = IncomingLetter.objects.filter(pk=incoming.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )
        if updated and incoming.status == IncomingStatus.DELIVERED:
            _tell_sender(incoming, DispatchStatus.RECEIVED, actor)


def register(incoming: IncomingLetter, *, actor: Person) -> IncomingLetter:
    """ลงรับ: give the letter its receive number and stamp a registered copy; the original stays as is."""
    incoming = IncomingLetter.objects.select_related("organisation").get(pk=incoming.pk)
    enforce(can_register(actor, incoming))
    original = read_file(incoming.original_id)
    try:
        readable_pdf(original)  # checked before a number is drawn: a refused letter burns none
    except PdfError as exc:
        raise _damaged_letter(exc) from None
    # One transaction: if stamping or saving fails, the receive number is not drawn either.
    # (The receive book stays locked for the ~0.1 s of the stamp; registrations queue behind it.)
    with transaction.atomic():
        # The letter's row first, then the book and the audit chain: the order every writer of an
        # incoming letter takes (the validation on receipt locks the row, then audits), so that a
        # registration and the worker's validation of the same letter cannot deadlock.
        locked = IncomingLetter.objects.select_for_update().get(pk=incoming.pk)
        _state(locked, IncomingStatus.DELIVERED, th="ลงรับ", en="register it")
        allocation = allocate_receive_number(
            incoming.organisation_id, classified=Secrecy(incoming.secrecy).is_classified,
            actor_label=actor.display_name,
            fields=EntryFields(
                letter_number=incoming.letter_number, letter_date=incoming.letter_date,
                sender=incoming.sender_name, recipient=incoming.addressed_to or incoming.organisation.name_th,
                subject=incoming.subject, registered_by_id=actor.pk,
            ),
        )
        return _record_registration(incoming, allocation.entry_id, allocation.number, original, actor)


def _damaged_letter(exc: PdfError) -> ValidationFailed:
    return ValidationFailed([FieldProblem(
        "original", "unreadable", "ไฟล์หนังสือเสียหาย ลงรับไม่ได้ ให้ส่งคืนผู้ส่ง",
        f"The letter's file is damaged and cannot be registered; return it: {exc}",
    )])


# The stamped copy may be this much larger than the largest file accepted: the stamp adds ~30 KB.
STAMP_ROOM_BYTES = 1024 * 1024


def _stamped_copy(organisation: Organisation, number: int, moment: dt.datetime, original: bytes) -> bytes:
    """``original`` with the receipt stamp on its first page; ``PdfError`` if it cannot be stamped."""
    stamp = render_receipt_stamp(organisation.name_th, number, moment, thai_digits=organisation.thai_digits)
    return stamp_first_page(original, stamp)


def _store_stamped(pdf: bytes) -> StoredFile:
    return store_file(pdf, "application/pdf", max_bytes=max_file_bytes() + STAMP_ROOM_BYTES)


def _record_registration(
    incoming: IncomingLetter, entry_id: int, number: int, original: bytes, actor: Person
) -> IncomingLetter:
    moment = timezone.now()
    try:
        stamped_pdf = _stamped_copy(incoming.organisation, number, moment, original)
    except PdfError as exc:  # the caller's transaction is undone: no number is drawn
        raise _damaged_letter(exc) from None
    stamped = _store_stamped(stamped_pdf)
    with transaction.atomic():
        incoming = IncomingLetter.objects.select_for_update().get(pk=incoming.pk)
        # Another clerk may have registered it while we stamped.
        _state(incoming, IncomingStatus.DELIVERED, th="ลงรับ", en="register it")
        _mark_registered(incoming, entry_id, number, moment, stamped, actor)
    return incoming


def _mark_registered(
    incoming: IncomingLetter, entry_id: int, number: int, moment: dt.datetime, stamped: StoredFile, actor: Person
) -> None:
    before = incoming_snapshot(incoming)
    incoming.status = IncomingStatus.REGISTERED
    incoming.receive_entry_id = entry_id
    incoming.receive_number = number
    incoming.registered_at = moment
    incoming.registered_by = actor
    incoming.stamped = stamped
    incoming.save()
    _audit(incoming, "incoming.registered", actor, before, receive_number=number)
    _tell_sender(incoming, DispatchStatus.REGISTERED, actor, receive_number=str(number),
                 registered_on=timezone.localdate(moment))


def register_many(incomings: Sequence[IncomingLetter], *, actor: Person) -> list[IncomingLetter]:
    """ลงรับหลายฉบับ: register a clerk's selection at once; the letters registered, in the order given.

    Every letter is checked first (who may, its state, a readable PDF): one that cannot be
    registered refuses the whole selection, and no number is drawn. Then the numbers are reserved
    (จองเลข) for all of them in one short transaction; the receipt stamps are drawn with no lock
    held; and one transaction confirms the numbers, marks the letters registered and queues the
    receipts to their senders. A letter registered by another clerk meanwhile, or whose stamp
    fails, keeps no number: its reservation is cancelled (ยกเลิก in the book: no gap, no
    duplicate) and it is left out of the result.
    """
    given = {i.pk: i for i in incomings}
    ids = list(given)
    if not ids:
        return []
    letters = {i.pk: i for i in IncomingLetter.objects.select_related("organisation").filter(pk__in=ids)}
    visible = set(incoming_visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    clerk_of: dict[int, Refusal | None] = {}
    originals: dict[int, bytes] = {}
    for pk in ids:
        incoming = letters.get(pk)
        if incoming is None or pk not in visible or incoming.status != IncomingStatus.DELIVERED:
            enforce(can_register(actor, incoming or given[pk]))  # the refusal a single ลงรับ would get
        incoming = letters[pk]
        if incoming.organisation_id not in clerk_of:
            clerk_of[incoming.organisation_id] = can_register_paper(actor, incoming.organisation_id)
        enforce(clerk_of[incoming.organisation_id])
        originals[pk] = read_file(incoming.original_id)
        try:
            readable_pdf(originals[pk])  # checked before a number is drawn: a refused letter burns none
        except PdfError as exc:
            raise _damaged_letter(exc) from None
    moment = timezone.now()
    # The letters' rows first, then the book and the audit chain (the order of ``register``).
    with transaction.atomic():
        locked = _locked(ids)
        for pk in ids:
            _state(locked[pk], IncomingStatus.DELIVERED, th="ลงรับ", en="register it")
        reserved = {pk: _reserve_number(letters[pk], actor, moment) for pk in ids}
    confirmed: set[int] = set()
    try:
        stamped: dict[int, StoredFile] = {}
        for pk in ids:  # no lock held: the book is free for other clerks meanwhile
            try:
                stamped[pk] = _store_stamped(
                    _stamped_copy(letters[pk].organisation, reserved[pk].number, moment, originals[pk]))
            except PdfError:
                continue
        done = []
        with transaction.atomic():
            locked = _locked(ids)
            for pk in ids:
                incoming, allocation = locked[pk], reserved[pk]
                if pk not in stamped or incoming.status != IncomingStatus.DELIVERED:
                    continue
                if not confirm_reservation(allocation.entry_id, actor=actor):
                    continue
                confirmed.add(pk)
                incoming.organisation = letters[pk].organisation
                _mark_registered(incoming, allocation.entry_id, allocation.number, moment, stamped[pk], actor)
                done.append(incoming)
    finally:
        for pk in ids:
            if pk not in confirmed:
                try:
                    _cancel_reservation(reserved[pk].entry_id)
                except Exception:  # the database went away: the number stays จองเลข, never given again
                    log.exception("inbox: the reserved receive number %s could not be cancelled", reserved[pk].number)
    return done


def _locked(ids: list[int]) -> dict[int, IncomingLetter]:
    return {i.pk: i for i in IncomingLetter.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _reserve_number(incoming: IncomingLetter, actor: Person, moment: dt.datetime) -> Allocation:
    return allocate_receive_number(
        incoming.organisation_id, classified=Secrecy(incoming.secrecy).is_classified, at=moment,
        actor_label=actor.display_name,
        fields=EntryFields(
            letter_number=incoming.letter_number, letter_date=incoming.letter_date, sender=incoming.sender_name,
            recipient=incoming.addressed_to or incoming.organisation.name_th, subject=incoming.subject,
            registered_by_id=actor.pk, status=EntryStatus.RESERVED,
        ),
    )


def _cancel_reservation(entry_id: int) -> None:
    """A number reserved for a letter that was not registered after all: ยกเลิก, never reused."""
    entry = RegisterEntry.objects.filter(pk=entry_id, status=EntryStatus.RESERVED).first()
    if entry is not None:
        cancel_entry(entry, reason="ลงรับไม่สำเร็จ (ลงรับโดยผู้อื่นแล้ว หรือประทับตรารับไม่ได้)")


# ``register_many`` confirms its reservations within seconds: one older than this was left by a process
# that stopped between reserving and confirming.
STALE_RESERVATION = dt.timedelta(minutes=15)


def cancel_stale_reservations(*, older_than: dt.timedelta = STALE_RESERVATION) -> int:
    """Cancel (ยกเลิก, never reuse) receive numbers reserved by a registration that never finished; how many."""
    cutoff = timezone.now() - older_than
    stale = list(RegisterEntry.objects.filter(
        status=EntryStatus.RESERVED, registered_at__lt=cutoff,
        book__kind__in=[BookKind.RECEIVE, BookKind.RECEIVE_CLASSIFIED],
    ).values_list("pk", flat=True))
    for entry_id in stale:
        with transaction.atomic():
            entry = RegisterEntry.objects.filter(pk=entry_id, status=EntryStatus.RESERVED).first()
            if entry is not None:
                cancel_entry(entry, reason="ลงรับไม่เสร็จ (งานหยุดกลางคันระหว่างลงรับหลายฉบับ)")
    return len(stale)


@dataclass(frozen=True)
class PaperLetter:
    """What a clerk types from a paper letter being registered."""

    sender_name: str
    letter_number: str
    letter_date: dt.date | None
    subject: str
    addressed_to: str = ""
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NORMAL


def register_paper(
    organisation: Organisation, letter: PaperLetter, *, scans: Sequence[tuple[bytes, str]], actor: Person
) -> IncomingLetter:
    """Register a paper letter from its scan: one PDF, or page images (PNG/JPEG) in order.

    The scan is checked before anything is written: its size (at most ``max_file_bytes()``, all
    pages together: ``FileTooLarge``), that it is a PDF pypdf reads with a page (not a ZIP behind a
    PDF header), and that its first page decodes within limits (not a decompression bomb). Then, in
    one transaction, the number is drawn, the copy is stamped, and only then are the scan, its
    stamped copy, the letter and its audit events saved: all or nothing, so a refused scan leaves
    no file, no row and no number behind.
    """
    enforce(can_register_paper(actor, organisation))
    problems = []
    for name, value, th, en in (
        ("sender_name", letter.sender_name, "ต้องระบุหน่วยงานผู้ส่ง (จาก)", "The sender is required"),
        ("subject", letter.subject, "ต้องระบุเรื่อง", "The subject is required"),
    ):
        if not value.strip():
            problems.append(FieldProblem(name, "required", th, en))
    if not scans:
        problems.append(FieldProblem("scan", "required", "ต้องแนบไฟล์สแกนหนังสือ", "Attach the scan of the letter"))
    if problems:
        raise ValidationFailed(problems)
    # From here on, what the files are and hold: well-formed input that cannot be processed (422).
    kinds = {content_type for _data, content_type in scans}
    if not (kinds == {"application/pdf"} and len(scans) == 1) and not kinds <= {"image/png", "image/jpeg"}:
        raise RuleViolated([FieldProblem(
            "scan", "format", "ไฟล์สแกนต้องเป็น PDF หนึ่งไฟล์ หรือรูปภาพ PNG/JPEG",
            "The scan must be one PDF or PNG/JPEG images",
        )])
    if kinds == {"application/pdf"} and not scans[0][0].startswith(b"%PDF-"):
        raise RuleViolated([FieldProblem("scan", "format", "ไฟล์นี้ไม่ใช่ PDF", "This file is not a PDF")])
    limit = max_file_bytes()
    if sum(len(data) for data, _ in scans) > limit:  # before the images are read
        raise FileTooLarge(limit=limit, field="scan", together=len(scans) > 1)
    try:
        pdf = scans[0][0] if kinds == {"application/pdf"} else images_to_pdf([data for data, _ in scans])
        readable_pdf(pdf)
    except NotAPdf:
        raise RuleViolated([FieldProblem(
            "scan", "format", "ไฟล์นี้ไม่ใช่ PDF แต่เป็นไฟล์อื่น (ZIP) ที่ตั้งหัวไฟล์ให้ดูเหมือน PDF",
            "This file is not a PDF: it is another kind of file (a ZIP archive) with a PDF header",
        )]) from None
    except PdfTooLarge:
        raise RuleViolated([FieldProblem(
            "scan", "too_complex", "ไฟล์ PDF นี้มีเนื้อหาที่เมื่อขยายออกแล้วใหญ่เกินที่ระบบรับได้ (อาจเป็นไฟล์อันตราย)",
            "This PDF's content is too large once decompressed (it may be a decompression bomb)",
        )]) from None
    except (ValueError, RenderError, PdfError) as exc:
        raise _unreadable_scan(exc) from None
    if len(pdf) > limit:  # the PDF made of the page images
        raise FileTooLarge(limit=limit, field="scan", together=len(scans) > 1)
    sender, subject, addressed_to = letter.sender_name.strip(), letter.subject.strip(), letter.addressed_to.strip()
    # One transaction: if stamping or saving fails, nothing is kept and the number is not drawn.
    # The scan is stored only once its stamped copy exists, so a refused scan leaves no file behind.
    with transaction.atomic():
        allocation = allocate_receive_number(
            organisation.pk, classified=Secrecy(letter.secrecy).is_classified, actor_label=actor.display_name,
            fields=EntryFields(
                letter_number=letter.letter_number.strip(), letter_date=letter.letter_date, sender=sender,
                recipient=addressed_to or organisation.name_th, subject=subject, registered_by_id=actor.pk,
            ),
        )
        moment = timezone.now()
        try:
            stamped_pdf = _stamped_copy(organisation, allocation.number, moment, pdf)
        except PdfError as exc:
            raise _unreadable_scan(exc) from None
        original = store_file(pdf, "application/pdf")
        stamped = _store_stamped(stamped_pdf)
        incoming = IncomingLetter.objects.create(
            organisation=organisation, source=IncomingSource.PAPER, sender_name=sender,
            letter_number=letter.letter_number.strip(), letter_date=letter.letter_date, subject=subject,
            addressed_to=addressed_to, urgency=letter.urgency, secrecy=letter.secrecy, original=original,
            delivered_at=moment,
        )
        _audit(incoming, "incoming.paper_received", actor, None)
        _mark_registered(incoming, allocation.entry_id, allocation.number, moment, stamped, actor)
        request_reading(original.sha256)  # อ่านข้อความจากภาพสแกน: Thai OCR in the background, for search
    return incoming


def _unreadable_scan(exc: Exception) -> RuleViolated:
    return RuleViolated([FieldProblem(
        "scan", "unreadable", "อ่านไฟล์สแกนไม่ได้ (ไฟล์เสียหายหรือไม่ใช่ PDF/PNG/JPEG)",
        f"The scan cannot be read (damaged, or not PDF/PNG/JPEG): {exc}",
    )])


@dataclass(frozen=True)
class AssignTo:
    """One assignment of an endorsement: a unit or a person, with an optional due date."""

    unit: Organisation | None = None
    person: Person | None = None
    due_date: dt.date | None = None


def _acting_line(actor: Person, organisation: Organisation) -> tuple[str, str]:
    """(position, acting line) of an executive endorsing; the acting line if they act for someone."""
    on = today()
    position = next(
        (r.position_title for r in current_roles(actor, on).filter(role=Role.SIGNER) if r.position_title), ""
    )
    appointment = acting_appointments(actor, organisation, on).first()
    return position, appointment.signature_line if appointment else ""


def endorse(
    incoming: IncomingLetter, *, actor: Person, instruction: str, assign: Sequence[AssignTo] = ()
) -> Endorsement:
    """เกษียนหนังสือ: the executive writes an instruction and assigns units or people (optional due dates)."""
    with transaction.atomic():
        incoming = IncomingLetter.objects.select_for_update().select_related("organisation").get(pk=incoming.pk)
        enforce(can_endorse(actor, incoming))
        problems: list[FieldProblem] = []
        past: list[FieldProblem] = []  # well-formed, refused by the rule: 422
        if not instruction.strip():
            problems.append(FieldProblem("instruction", "required", "ต้องเขียนข้อสั่งการ", "Write the instruction"))
        for i, a in enumerate(assign):
            if (a.unit is None) == (a.person is None):
                problems.append(FieldProblem(
                    f"assign.{i}", "one_target", "มอบให้หน่วยงานหรือบุคคลอย่างใดอย่างหนึ่ง", "Assign to a unit or a person",
                ))
            elif a.unit is not None and not _within(a.unit, incoming.organisation):
                problems.append(FieldProblem(
                    f"assign.{i}", "outside", "มอบได้เฉพาะหน่วยงานภายในของผู้รับ", "Assign only to units of the receiver",
                ))
            elif a.person is not None and not has_role_within(a.person, incoming.organisation, *Role):
                problems.append(FieldProblem(
                    f"assign.{i}", "outside", "มอบได้เฉพาะบุคลากรของหน่วยงาน", "Assign only to people of the receiver",
                ))
            if a.due_date is not None and a.due_date < today():
                past.append(FieldProblem(
                    f"assign.{i}.due_date", "past", "วันครบกำหนดต้องไม่ใช่วันที่ผ่านมาแล้ว", "The due date is in the past",
                ))
        if problems:
            raise ValidationFailed(problems + past)
        if past:
            raise RuleViolated(past)
        before = {"status": incoming.status}
        position, acting_line = _acting_line(actor, incoming.organisation)
        endorsement = Endorsement.objects.create(
            incoming=incoming, author=actor, position_title=position, acting_line=acting_line,
            instruction=instruction.strip(), created_at=timezone.now(),
        )
        Assignment.objects.bulk_create([
            Assignment(incoming=incoming, endorsement=endorsement, unit=a.unit, assignee=a.person, due_date=a.due_date)
            for a in assign
        ])
        if assign:
            incoming.status = IncomingStatus.ASSIGNED
        _refresh_due_date(incoming)
        incoming.save()
        _audit(incoming, "incoming.endorsed", actor, before, endorsement=endorsement.pk,
               assignments=[(a.unit.pk if a.unit else None, a.person.pk if a.person else None) for a in assign])
        _note_in_register(incoming, actor)
    return endorsement


def _note_in_register(incoming: IncomingLetter, actor: Person) -> None:
    """Write the การปฏิบัติ column of the letter's receive-register line from where it stands: to whom it
    was assigned (and who has acted), and when the matter was closed."""
    if incoming.receive_entry_id is None:
        return
    parts = []
    assignments = list(Assignment.objects.filter(incoming=incoming).select_related("unit", "assignee").order_by("pk"))
    if assignments:
        parts.append("มอบ " + ", ".join(
            (a.unit.name_th if a.unit else a.assignee.display_name if a.assignee else "")
            + (" (ดำเนินการแล้ว)" if a.status == AssignmentStatus.DONE else "") for a in assignments))
    elif incoming.endorsements.exists():
        parts.append("เสนอผู้บริหารแล้ว")
    if incoming.status == IncomingStatus.CLOSED:
        parts.append(f"ปิดเรื่อง {format_thai_date(today())}")
    entry = RegisterEntry.objects.select_related("book").get(pk=incoming.receive_entry_id)
    action = " · ".join(parts)[:1000]
    if action != entry.action:
        record_action(entry, action=action, actor=actor)


def _within(unit: Organisation, organisation: Organisation) -> bool:
    node: Organisation | None = unit
    while node is not None:
        if node.pk == organisation.pk:
            return True
        node = node.parent
    return False


def _refresh_due_date(incoming: IncomingLetter) -> None:
    dates = [
        d for d in Assignment.objects.filter(incoming=incoming, status=AssignmentStatus.OPEN).values_list(
            "due_date", flat=True
        ) if d is not None
    ]
    incoming.due_date = min(dates) if dates else None


def complete_assignment(assignment: Assignment, *, actor: Person, note: str) -> Assignment:
    """The assigned unit or person reports what was done (ดำเนินการแล้ว)."""
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
        incoming = IncomingLetter.objects.select_for_update().get(pk=assignment.incoming_id)
        enforce(can_complete(actor, assignment))
        if not note.strip():
            raise ValidationFailed([FieldProblem("note", "required", "ต้องบันทึกผลการดำเนินการ", "Say what was done")])
        before = {"status": incoming.status}
        assignment.status, assignment.done_at, assignment.done_by = AssignmentStatus.DONE, timezone.now(), actor
        assignment.note = note.strip()
        assignment.save()
        if not Assignment.objects.filter(incoming=incoming, status=AssignmentStatus.OPEN).exists():
            incoming.status = IncomingStatus.ACTED
        _refresh_due_date(incoming)
        incoming.save()
        _audit(incoming, "incoming.acted", actor, before, assignment=assignment.pk, note=assignment.note)
        _note_in_register(incoming, actor)
    return assignment


def close(incoming: IncomingLetter, *, actor: Person) -> IncomingLetter:
    """ปิดเรื่อง: nothing more is to be done with the letter."""
    with transaction.atomic():
        incoming = IncomingLetter.objects.select_for_update().get(pk=incoming.pk)
        enforce(can_close(actor, incoming))
        before = {"status": incoming.status}
        incoming.status = IncomingStatus.CLOSED
        incoming.save()
        _audit(incoming, "incoming.closed", actor, before)
        _note_in_register(incoming, actor)
    return incoming


def return_to_sender(incoming: IncomingLetter, *, actor: Person, reason: str) -> IncomingLetter:
    """ส่งคืน: refuse a delivered letter (wrong recipient, missing enclosure...) with a reason."""
    with transaction.atomic():
        incoming = IncomingLetter.objects.select_for_update().get(pk=incoming.pk)
        enforce(can_return(actor, incoming))
        if not reason.strip():
            raise ValidationFailed([FieldProblem("reason", "required", "ต้องระบุเหตุผลที่ส่งคืน", "Give the reason")])
        before = {"status": incoming.status}
        incoming.status = IncomingStatus.RETURNED
        incoming.returned_reason = reason.strip()
        incoming.save()
        _audit(incoming, "incoming.returned", actor, before, reason=reason.strip())
        _tell_sender(incoming, DispatchStatus.RETURNED, actor, reason=reason.strip())
    return incoming
