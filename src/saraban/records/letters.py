"""What records need to know of a letter sent or received: its organisation, year, number and title."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from saraban.core.thai import local_date
from saraban.correspondence.models import NUMBERED_STATUSES, Letter
from saraban.inbox.models import IncomingLetter, IncomingStatus

from .models import Record, RecordKind


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


def unrecorded(organisation_id: int) -> list[LetterFacts]:
    """The organisation's letters sent or received that have no record yet (an anti-join, not a list of all)."""
    recorded = Record.objects.filter(object_id=OuterRef("pk"))
    found = []
    for pk, day, created, number, subject, pdf in Letter.objects.filter(
            organisation_id=organisation_id, status__in=NUMBERED_STATUSES).exclude(number="").exclude(
            Exists(recorded.filter(kind=RecordKind.OUTGOING))).values_list(
            "pk", "date", "created_at", "number", "subject", "pdf_id"):
        found.append(LetterFacts(RecordKind.OUTGOING, pk, organisation_id, day or timezone.localdate(created),
                                 number, subject, pdf))
    for pk, day, registered, number, subject, stamped, original in IncomingLetter.objects.filter(
            organisation_id=organisation_id, receive_number__isnull=False).exclude(
            status=IncomingStatus.RETURNED).exclude(Exists(recorded.filter(kind=RecordKind.INCOMING))).values_list(
            "pk", "letter_date", "registered_at", "letter_number", "subject", "stamped_id", "original_id"):
        found.append(LetterFacts(RecordKind.INCOMING, pk, organisation_id,
                                 day or timezone.localdate(registered), number, subject, stamped or original))
    return found


@dataclass(frozen=True)
class ListedLetter:
    """What a list (แบบ 19, แบบ 25, the destruction page) shows of a record's letter."""

    number: str
    date: dt.date | None
    subject: str
    secrecy: str


_CHUNK = 1000


def listed_facts(records: Iterable[Record]) -> dict[tuple[str, int], ListedLetter]:
    """The number, date, subject and secrecy of each record's letter, a few queries for the lot.

    The same facts as ``letter_facts`` gives one letter at a time, read without its status filter so
    that a destroyed letter (its number, date and subject stay) is still listed.
    """
    ids: dict[str, list[int]] = {RecordKind.OUTGOING: [], RecordKind.INCOMING: []}
    for record in records:
        ids[record.kind].append(record.object_id)
    found: dict[tuple[str, int], ListedLetter] = {}
    out, inc = ids[RecordKind.OUTGOING], ids[RecordKind.INCOMING]
    for start in range(0, len(out), _CHUNK):
        for pk, number, day, created, subject, secrecy in Letter.objects.filter(
                pk__in=out[start:start + _CHUNK]).values_list("pk", "number", "date", "created_at", "subject",
                                                              "secrecy"):
            found[(RecordKind.OUTGOING, pk)] = ListedLetter(number, day or local_date(created), subject, secrecy)
    for start in range(0, len(inc), _CHUNK):
        for pk, number, day, registered, delivered, subject, secrecy in IncomingLetter.objects.filter(
                pk__in=inc[start:start + _CHUNK]).values_list(
                "pk", "letter_number", "letter_date", "registered_at", "delivered_at", "subject", "secrecy"):
            found[(RecordKind.INCOMING, pk)] = ListedLetter(number, day or local_date(registered or delivered),
                                                            subject, secrecy)
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
