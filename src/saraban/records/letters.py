"""What records need to know of a letter sent or received: its organisation, year, number and title."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from saraban.correspondence.models import NUMBERED_STATUSES, Letter
from saraban.inbox.models import IncomingLetter, IncomingStatus

from .models import RecordKind


@dataclass(frozen=True)
class LetterFacts:
    """A letter as its record sees it."""

    kind: RecordKind
    object_id: int
    organisation_id: int
    date: dt.date
    number: str
    subject: str
    pdf_sha256: str | None  # the file kept: the signed PDF sent, the registered (stamped) copy received
    secrecy: str = "normal"


def letter_facts(kind: str, object_id: int) -> LetterFacts | None:
    """The facts of the sent letter (``out``) or received letter (``in``); None if it is not a record.

    Letters not yet numbered, and letters received but not registered (or returned), are not records.
    """
    if kind == RecordKind.OUTGOING:
        letter = Letter.objects.filter(pk=object_id, status__in=NUMBERED_STATUSES).first()
        if letter is None or not letter.number:
            return None
        return LetterFacts(RecordKind.OUTGOING, letter.pk, letter.organisation_id,
                           letter.date or timezone.localdate(letter.created_at), letter.number, letter.subject,
                           letter.pdf_id, letter.secrecy)
    incoming = IncomingLetter.objects.filter(pk=object_id).exclude(
        status__in=[IncomingStatus.DELIVERED, IncomingStatus.RETURNED]).first()
    if incoming is None or incoming.receive_number is None:
        return None
    day = incoming.letter_date or timezone.localdate(incoming.registered_at or incoming.delivered_at)
    return LetterFacts(RecordKind.INCOMING, incoming.pk, incoming.organisation_id, day, incoming.letter_number,
                       incoming.subject, incoming.stamped_id or incoming.original_id, incoming.secrecy)


def unrecorded(organisation_id: int, recorded: set[tuple[str, int]]) -> list[LetterFacts]:
    """The organisation's letters sent or received that have no record yet (not in ``recorded``)."""
    found = []
    for pk, day, created, number, subject, pdf in Letter.objects.filter(
            organisation_id=organisation_id, status__in=NUMBERED_STATUSES).exclude(number="").values_list(
            "pk", "date", "created_at", "number", "subject", "pdf_id"):
        if (RecordKind.OUTGOING, pk) not in recorded:
            found.append(LetterFacts(RecordKind.OUTGOING, pk, organisation_id, day or timezone.localdate(created),
                                     number, subject, pdf))
    for pk, day, registered, number, subject, stamped, original in IncomingLetter.objects.filter(
            organisation_id=organisation_id, receive_number__isnull=False).exclude(
            status=IncomingStatus.RETURNED).values_list(
            "pk", "letter_date", "registered_at", "letter_number", "subject", "stamped_id", "original_id"):
        if (RecordKind.INCOMING, pk) not in recorded:
            found.append(LetterFacts(RecordKind.INCOMING, pk, organisation_id,
                                     day or timezone.localdate(registered), number, subject, stamped or original))
    return found


def letter_metadata(kind: str, object_id: int) -> dict[str, object]:
    """What an archival package says of the letter, besides its files (JSON-ready)."""
    if kind == RecordKind.OUTGOING:
        letter = Letter.objects.select_related("organisation").get(pk=object_id)
        recipients = [r.organisation.name_th for r in letter.recipients.select_related("organisation")]
        return {
            "kind": "sent", "number": letter.number, "date": letter.date.isoformat() if letter.date else None,
            "subject": letter.subject, "type": letter.type, "subtype": letter.subtype, "urgency": letter.urgency,
            "secrecy": letter.secrecy, "creator": letter.organisation.name_th, "recipients": recipients,
            "status": letter.status, "content": letter.content,
        }
    incoming = IncomingLetter.objects.select_related("organisation").get(pk=object_id)
    return {
        "kind": "received", "number": incoming.letter_number,
        "date": incoming.letter_date.isoformat() if incoming.letter_date else None, "subject": incoming.subject,
        "urgency": incoming.urgency, "secrecy": incoming.secrecy, "creator": incoming.sender_name,
        "recipients": [incoming.addressed_to or incoming.organisation.name_th], "source": incoming.source,
        "receive_number": incoming.receive_number,
        "registered_at": incoming.registered_at.isoformat() if incoming.registered_at else None,
        "enclosures": [{"title": e.get("title", ""), "filename": e.get("filename", "")} for e in incoming.enclosures],
        "validation_id": incoming.validation_id,
    }


AUDIT_OBJECT_TYPES = {RecordKind.OUTGOING: "letter", RecordKind.INCOMING: "incoming_letter"}
