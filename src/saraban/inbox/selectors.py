"""Reads of incoming letters, always through the access rules."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from saraban.access.policy import cleared_levels, organisations_of, secrecy_filter, units_worked_in
from saraban.core.thai import arabic_digits
from saraban.directory.models import Person

from .models import Assignment, AssignmentStatus, IncomingLetter, IncomingStatus


def incoming_visible_to(person: Person) -> QuerySet[IncomingLetter]:
    """Incoming letters of the organisations where ``person`` holds a role.

    Classified letters need a secrecy grant. A letter assigned to the person, or to a unit they work
    in (``works_in``: a role in that unit or below it, not merely above it), is visible to them
    whatever its class: they have to act on it. Exactly those may act on it (``may_act_on``).
    """
    mine = organisations_of(person)
    worked_in = units_worked_in(person)
    assigned = Assignment.objects.filter(incoming=OuterRef("pk")).filter(
        Q(assignee=person) | Q(unit_id__in=worked_in)
    )
    return IncomingLetter.objects.filter(
        (Q(organisation_id__in=mine) & secrecy_filter(person)) | Q(Exists(assigned))
    )


def incoming_for(person: Person, incoming_id: int) -> IncomingLetter | None:
    """One incoming letter if ``person`` may see it (``None``: callers answer 404)."""
    return incoming_visible_to(person).select_related("organisation", "dispatch").filter(pk=incoming_id).first()


def inbox(person: Person, *, status: str = "", organisation_ids: set[int] | None = None) -> QuerySet[IncomingLetter]:
    """The inbox of the person's organisations: urgent first, then by due date, then newest.

    Written as plain ``organisation IN … AND secrecy IN …`` conditions (grouped by the levels the
    person is cleared for) so the queue index serves it; letters assigned to the person from
    elsewhere are in their work queue.
    """
    mine = organisations_of(person)
    wanted = mine if organisation_ids is None else mine & set(organisation_ids)
    by_levels: dict[tuple[str, ...], list[int]] = {}
    for org_id in sorted(wanted):
        by_levels.setdefault(("normal", *cleared_levels(person, org_id)), []).append(org_id)
    visible = Q(pk__in=[])
    for levels, org_ids in by_levels.items():
        visible |= Q(organisation_id__in=org_ids, secrecy__in=levels)
    letters = IncomingLetter.objects.filter(visible)
    if status:
        letters = letters.filter(status=status)
    return letters.order_by("-urgency_rank", "due_date", "-delivered_at")


def my_assignments(person: Person) -> QuerySet[Assignment]:
    """Open assignments the person may act on (``may_act_on``): their own, and those of the units they
    work in; most urgent and earliest due first."""
    return (
        Assignment.objects.filter(status=AssignmentStatus.OPEN)
        .filter(Q(assignee=person) | Q(unit_id__in=units_worked_in(person)))
        .select_related("incoming", "unit", "endorsement")
        .order_by("-incoming__urgency_rank", "due_date", "incoming__delivered_at")
    )


def awaiting_registration(person: Person, organisation_ids: set[int]) -> QuerySet[IncomingLetter]:
    """Delivered letters a clerk still has to register."""
    return inbox(person, status=IncomingStatus.DELIVERED, organisation_ids=organisation_ids)


def awaiting_endorsement(person: Person, organisation_ids: set[int]) -> QuerySet[IncomingLetter]:
    """Registered letters an executive has not endorsed yet."""
    return inbox(person, status=IncomingStatus.REGISTERED, organisation_ids=organisation_ids)


def incoming_ids_with_file(sha256: str) -> list[int]:
    """The incoming letters that carry the stored file ``sha256`` (as their letter or an enclosure)."""
    return list(IncomingLetter.objects.filter(
        Q(original_id=sha256) | Q(stamped_id=sha256) | Q(enclosures__icontains=sha256),
    ).values_list("pk", flat=True))


def files_of_incoming(incoming_id: int) -> set[str]:
    """The stored files of a received letter: as it came, its stamped copy, its enclosures (for destruction)."""
    incoming = IncomingLetter.objects.filter(pk=incoming_id).first()
    if incoming is None:
        return set()
    files = {str(e.get("sha256")) for e in incoming.enclosures if e.get("sha256")}
    return files | {incoming.original_id} | ({incoming.stamped_id} if incoming.stamped_id else set())


def incoming_files_named(incoming_id: int) -> dict[str, str]:
    """A received letter's own files: ``original`` (as it came) and ``stamped`` (the registered copy)."""
    found = IncomingLetter.objects.filter(pk=incoming_id).values_list("original_id", "stamped_id").first()
    if found is None:
        return {}
    return {"original": found[0], **({"stamped": found[1]} if found[1] else {})}


def arrival_of(incoming_id: int) -> tuple[str, str, int | None]:
    """How a received letter arrived: its channel, the channel's reference, the exchange message's id."""
    found = IncomingLetter.objects.filter(pk=incoming_id).values_list(
        "channel", "channel_ref", "received_message_id").first()
    return (found[0], found[1], found[2]) if found else ("", "", None)


def receive_entry_of(incoming_id: int) -> int | None:
    """The register line (เลขรับ) of a received letter, if it was registered."""
    return IncomingLetter.objects.filter(pk=incoming_id).values_list("receive_entry_id", flat=True).first()


def incoming_of_entries(entry_ids: set[int]) -> dict[int, int]:
    """The incoming letter each of these receive-register lines registered: {entry id: incoming id}, one query."""
    return dict(IncomingLetter.objects.filter(receive_entry_id__in=entry_ids).values_list("receive_entry_id", "pk"))


def inbox_matching(letters: QuerySet[IncomingLetter], words: str) -> QuerySet[IncomingLetter]:
    """Those of ``letters`` whose subject, sender, number (ที่) or เลขรับ holds ``words`` (Thai or Arabic
    digits alike), for the หนังสือเข้า list's own search."""
    words = words.strip()
    if not words:
        return letters
    arabic = arabic_digits(words)
    found = Q(subject__icontains=words) | Q(sender_name__icontains=words)
    for written in {words, arabic}:  # a number is kept as typed, in either digits
        found |= Q(letter_number__icontains=written)
    if arabic.isdigit() and len(arabic) <= 9:
        found |= Q(receive_number=int(arabic))
    return letters.filter(found)


def _same(text: str) -> str:
    """A number or subject as two clerks may type it: no spaces, Arabic digits, lower case."""
    return "".join(arabic_digits(text).lower().split())


def likely_duplicates(organisation_id: int, *, sender: str, letter_number: str, letter_date: dt.date | None,
                      subject: str, limit: int = 5) -> list[IncomingLetter]:
    """Letters already received by the organisation that look like this one (ลงรับซ้ำ?), newest first.

    The same letter number from the same date, or the same sender, date and subject; a letter returned
    to its sender does not count. Spaces and Thai or Arabic digits do not matter.
    """
    number, title, source = _same(letter_number), _same(subject), _same(sender)
    if not (number and letter_date) and not (title and source):
        return []
    rows = IncomingLetter.objects.filter(organisation_id=organisation_id).exclude(status=IncomingStatus.RETURNED)
    rows = rows.filter(letter_date=letter_date) if letter_date else rows.filter(letter_date__isnull=True)
    found = []
    for incoming in rows.order_by("-pk")[:500]:
        if (number and _same(incoming.letter_number) == number) or (
                title and _same(incoming.subject) == title and _same(incoming.sender_name) == source):
            found.append(incoming)
            if len(found) == limit:
                break
    return found
