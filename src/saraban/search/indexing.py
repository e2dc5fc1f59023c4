"""Building the index entries: what is searchable about each letter, as written and folded.

An outgoing letter: its number, subject, parties, what it says (from its content: salutation,
recipient, references, body, enclosure titles, copies, signer, owning unit) and its enclosures' text.
An incoming letter: its number, subject, sender and addressee, เลขรับ, the text of its PDF and
enclosures, its endorsements (เกษียน) and what was done. ``index_object`` keeps one entry per letter;
``reindex`` rebuilds them all, oldest first, so that entry ids follow the letters' age.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from saraban.correspondence.models import Letter
from saraban.inbox.models import IncomingLetter
from saraban.registers.models import RegisterEntry

from .extract import text_of
from .models import SearchEntry
from .normalize import fold

MAX_DISPLAY_CHARS = 2_000_000
SEPARATOR = "\n"


def _join(parts: Iterable[str]) -> str:
    return SEPARATOR.join(p.strip() for p in parts if p and p.strip())[:MAX_DISPLAY_CHARS]


def letter_fields(letter: Letter) -> dict[str, object]:
    """The index entry of an outgoing letter (or draft)."""
    content = letter.letter_content
    recipients = [r.organisation.name_th for r in letter.recipients.select_related("organisation")]
    enclosure_text = [text_of(e.sha256, name=e.filename) for e in content.enclosures if e.sha256]
    book = RegisterEntry.objects.filter(letter=letter).values_list("book_id", flat=True).first()
    display = _join([
        letter.number, letter.subject, content.issuer.name, letter.organisation.name_th, content.salutation,
        content.recipient, *recipients, *content.references, *content.body, *(e.title for e in content.enclosures),
        content.closing, content.signer.name, content.signer.position, content.owner_unit,
        *content.carbon_copies, *enclosure_text,
    ])
    return {
        "organisation_id": letter.organisation_id, "number": letter.number, "subject": letter.subject[:2000],
        "parties": ", ".join(recipients)[:1000], "date": letter.date or letter.created_at.date(),
        "letter_type": letter.type, "status": letter.status, "urgency": letter.urgency, "secrecy": letter.secrecy,
        "unit": content.owner_unit[:255], "book": book,
        "has_attachment": any(e.sha256 for e in content.enclosures), "display": display,
    }


def incoming_fields(incoming: IncomingLetter) -> dict[str, object]:
    """The index entry of an incoming letter (electronic or a registered paper scan)."""
    endorsements = list(incoming.endorsements.all())
    assignments = list(incoming.assignments.select_related("unit"))
    units = sorted({a.unit.name_th for a in assignments if a.unit})
    enclosure_text = [text_of(str(e["sha256"]), name=str(e.get("filename") or "")) for e in incoming.enclosures
                      if e.get("sha256") and e.get("filename") != "original.eml"]
    book, action = (RegisterEntry.objects.filter(pk=incoming.receive_entry_id).values_list("book_id", "action")
                    .first() or (None, "")) if incoming.receive_entry_id else (None, "")
    display = _join([
        incoming.letter_number, incoming.subject, incoming.sender_name, incoming.addressed_to,
        f"เลขรับ {incoming.receive_number}" if incoming.receive_number else "",
        *(e.instruction for e in endorsements), *(a.note for a in assignments), *units, action or "",
        incoming.returned_reason, *(str(e.get("title", "")) for e in incoming.enclosures),
        text_of(incoming.original_id, name="letter.pdf"), *enclosure_text,
    ])
    return {
        "organisation_id": incoming.organisation_id, "number": incoming.letter_number,
        "subject": incoming.subject[:2000], "parties": incoming.sender_name[:1000],
        "date": incoming.letter_date or timezone.localdate(incoming.delivered_at),
        "letter_type": f"incoming_{incoming.source}", "status": incoming.status, "urgency": incoming.urgency,
        "secrecy": incoming.secrecy, "unit": ", ".join(units)[:255],
        "book": book,
        "has_attachment": bool(incoming.enclosures), "display": display,
    }


def _load(kind: str, pk: int) -> Letter | IncomingLetter | None:
    if kind == "out":
        return Letter.objects.select_related("organisation").filter(pk=pk).first()
    return IncomingLetter.objects.filter(pk=pk).first()


def index_object(kind: str, pk: int) -> SearchEntry | None:
    """Index (again) one letter; its entry, or None when it no longer exists (its entry is dropped)."""
    started = timezone.now()  # before reading: a change committed after it is indexed by its own task
    found = _load(kind, pk)
    if found is None:
        SearchEntry.objects.filter(kind=kind, object_id=pk).delete()
        return None
    fields = letter_fields(found) if isinstance(found, Letter) else incoming_fields(found)
    fields["text"] = fold(str(fields["display"]))
    fields["title"] = fold(f"{fields['number']} {fields['subject']} {fields['parties']}")
    fields["indexed_at"] = started
    with transaction.atomic():
        entry, _ = SearchEntry.objects.update_or_create(kind=kind, object_id=pk, defaults=fields)
    return entry


def reindex(*, progress: Callable[[int, int], None] | None = None, batch: int = 500) -> int:
    """Rebuild every entry from the letters, oldest first; how many were written."""
    letters = list(Letter.objects.order_by("created_at", "pk").values_list("created_at", "pk"))
    incoming = list(IncomingLetter.objects.order_by("delivered_at", "pk").values_list("delivered_at", "pk"))
    order = sorted([(t, "out", pk) for t, pk in letters] + [(t, "in", pk) for t, pk in incoming])
    total, done = len(order), 0
    with transaction.atomic():
        SearchEntry.objects.all().delete()
    for start in range(0, total, batch):
        with transaction.atomic():
            for _, kind, pk in order[start:start + batch]:
                index_object(kind, pk)
                done += 1
        if progress:
            progress(done, total)
    return done


def progress_bar(done: int, total: int) -> None:
    """A progress bar on standard error (``search reindex``)."""
    width = 40
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
