"""Letters change in other apps; the index follows in the background (after the change commits).

Saving a ``Letter`` or an ``IncomingLetter`` (and their endorsements and register entries, which save
their letter's row too or are read with it) queues ``tasks.index_letter`` once the transaction
commits. A scan read by OCR (``saraban.ocr.signals.scan_read``) becomes its file's text, and every
letter that carries the file is indexed again. The signal handlers never fail the save: a lost update
is repaired by ``search reindex``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from saraban.ocr.signals import scan_read

log = logging.getLogger(__name__)


def _queue(kind: str, pk: int) -> None:
    from django.utils import timezone

    from .tasks import index_letter

    try:
        index_letter.enqueue(kind, pk, timezone.now().isoformat())
    except Exception:  # the letter is saved; the index catches up on the next change or reindex
        log.exception("search: could not queue the indexing of %s %s", kind, pk)


def _letter_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: _queue("out", instance.pk), robust=True)


def _incoming_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: _queue("in", instance.pk), robust=True)


def _scan_read(sender: Any, sha256: str, text: str, **kwargs: Any) -> None:
    from saraban.correspondence.selectors import letter_ids_with_file
    from saraban.inbox.selectors import incoming_ids_with_file

    from .extract import take_ocr_text

    try:
        take_ocr_text(sha256, text)
        carriers = [("in", pk) for pk in incoming_ids_with_file(sha256)]
        carriers += [("out", pk) for pk in letter_ids_with_file(sha256)]
    except Exception:  # the reading is kept; search reindex --extract takes it in later
        log.exception("search: could not take in the OCR text of %s", sha256[:12])
        return
    for kind, pk in carriers:
        _queue(kind, pk)


def connect() -> None:
    """Listen to the letters' saves (once, at start-up)."""
    post_save.connect(_letter_saved, sender="correspondence.Letter", dispatch_uid="search-letter")
    post_save.connect(_incoming_saved, sender="inbox.IncomingLetter", dispatch_uid="search-incoming")
    scan_read.connect(_scan_read, dispatch_uid="search-scan-read")
