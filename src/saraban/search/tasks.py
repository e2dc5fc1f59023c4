"""Background indexing: one letter at a time, as it changes."""

from __future__ import annotations

from django.tasks import task


@task()
def index_letter(kind: str, pk: int, queued_at: str = "") -> None:
    """Index (again) the outgoing (``out``) or incoming (``in``) letter ``pk``; drop it if it is gone.

    A letter saved several times in one transaction queues several of these: one indexed after
    ``queued_at`` already holds the change, and the others are skipped.
    """
    import datetime as dt

    from .indexing import index_object
    from .models import SearchEntry

    if queued_at:
        done = SearchEntry.objects.filter(kind=kind, object_id=pk).values_list("indexed_at", flat=True).first()
        if done is not None and done > dt.datetime.fromisoformat(queued_at):
            return
    index_object(kind, pk)
