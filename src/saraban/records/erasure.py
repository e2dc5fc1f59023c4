"""Destroying one record: what it says and its files go; its record, register line and audit stay.

In one transaction the letter's content is erased (body, enclosure links), its search entry and the
text read from its files are dropped, its OCR readings forgotten, the record marked ทำลายแล้ว, and each
of its files (the PDF as sent or received, every signed version and renewal, enclosures, the stamped
and stored copies, OCR copies, and the envelopes, e-mails and e-CMS messages that carried it) queued in
``PendingErasure``. The bytes
are deleted after that commits (``erase_pending``), except a file that a record still kept carries.
A crash between the two leaves the queue, which the next run empties.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import transaction
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.correspondence.erasure import erase_letter_content
from saraban.correspondence.selectors import files_of_letter, letter_ids_with_file
from saraban.directory.models import Person
from saraban.documents.storage import blob_store
from saraban.ecms.selectors import message_received as ecms_received
from saraban.ecms.selectors import messages_of_letter as ecms_sent
from saraban.exchange.selectors import container_received, containers_of_letter
from saraban.inbox.erasure import erase_incoming_content
from saraban.inbox.selectors import arrival_of, files_of_incoming, incoming_ids_with_file, receive_entry_of
from saraban.mail.selectors import message_received as mail_received
from saraban.mail.selectors import messages_of_letter as mail_sent
from saraban.ocr.services import forget_readings
from saraban.registers.services import mark_destroyed
from saraban.search.forget import forget_letter
from saraban.signatures.selectors import letters_signed_in, signed_files_of_letter

from .models import PendingErasure, Record, RecordKind, RecordStatus

log = logging.getLogger(__name__)


def files_of_record(record: Record) -> set[str]:
    """Every stored file that holds the record's content, or a copy of it."""
    if record.kind == RecordKind.OUTGOING:
        files = files_of_letter(record.object_id) | signed_files_of_letter(record.object_id)
        files |= containers_of_letter(record.object_id)  # what carried it: envelopes, e-mails, e-CMS requests
        files |= mail_sent(record.object_id) | ecms_sent(record.object_id)
    else:
        files = files_of_incoming(record.object_id)
        channel, reference, message_id = arrival_of(record.object_id)
        files |= container_received(message_id)
        if channel == "mail":
            files |= mail_received(reference)
        elif channel == "ecms":
            files |= ecms_received(reference)
    return files | ({record.stored_copy_id} if record.stored_copy_id else set())


def destroy_record(record: Record, *, reference: str, actor: Person) -> set[str]:
    """Destroy ``record`` (its list was approved and its objection period is over); the files queued."""
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        if record.status == RecordStatus.DESTROYED:
            return set()
        files = files_of_record(record)
        files |= forget_readings(files)
        if record.kind == RecordKind.OUTGOING:
            erase_letter_content(record.object_id)
        else:
            erase_incoming_content(record.object_id)
        forget_letter(record.kind, record.object_id, files)
        if record.kind == RecordKind.OUTGOING:
            mark_destroyed(letter_id=record.object_id, reference=reference, actor=actor)
        else:
            mark_destroyed(entry_id=receive_entry_of(record.object_id), reference=reference, actor=actor)
        record.status = RecordStatus.DESTROYED
        record.save(update_fields=["status"])
        now = timezone.now()
        PendingErasure.objects.bulk_create([PendingErasure(sha256=s, queued_at=now) for s in files],
                                           ignore_conflicts=True)
        record_event("records.destroyed", object_type="records.Record", object_id=record.pk,
                     organisation_id=record.organisation_id, actor=actor,
                     detail={"letter": f"{record.kind}:{record.object_id}", "reference": reference,
                             "files": len(files)})
    return files


def _destroyed(kind: str, ids: set[int] | list[int]) -> set[int]:
    return set(Record.objects.filter(kind=kind, object_id__in=list(ids), status=RecordStatus.DESTROYED)
               .values_list("object_id", flat=True))


def still_kept(sha256: str) -> bool:
    """Whether a letter not destroyed still carries the file (it stays in the blob store)."""
    outgoing = set(letter_ids_with_file(sha256)) | letters_signed_in(sha256)
    incoming = set(incoming_ids_with_file(sha256))
    return bool(outgoing - _destroyed("out", outgoing)) or bool(incoming - _destroyed("in", incoming))


def erase_pending(limit: int = 10_000) -> int:
    """Delete the queued files' bytes that no kept record needs; how many were deleted."""
    deleted = 0
    store = blob_store()
    for sha256 in list(PendingErasure.objects.order_by("queued_at").values_list("sha256", flat=True)[:limit]):
        if not still_kept(sha256):
            with contextlib.suppress(FileNotFoundError):  # gone already: an earlier run deleted it, then stopped
                store.delete(sha256)
            deleted += 1
        PendingErasure.objects.filter(sha256=sha256).delete()
    return deleted
