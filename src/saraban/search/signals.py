"""Letters change in other apps; the index follows in the background (after the change commits).

Saving a ``Letter`` or an ``IncomingLetter`` (and their endorsements and register entries, which save
their letter's row too or are read with it) queues ``tasks.index_letter`` once the transaction
commits. The signal handlers never fail the save: a lost update is repaired by ``search reindex``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

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


def connect() -> None:
    """Listen to the letters' saves (once, at start-up)."""
    post_save.connect(_letter_saved, sender="correspondence.Letter", dispatch_uid="search-letter")
    post_save.connect(_incoming_saved, sender="inbox.IncomingLetter", dispatch_uid="search-incoming")
