"""Background indexing: one letter at a time, as it changes."""

from __future__ import annotations

from django.tasks import task


@task()
def index_letter(kind: str, pk: int) -> None:
    """Index (again) the outgoing (``out``) or incoming (``in``) letter ``pk``; drop it if it is gone."""
    from .indexing import index_object

    index_object(kind, pk)
