"""Forgetting destroyed letters: their index entry and the text read out of their files."""

from __future__ import annotations

from collections.abc import Iterable

from .models import ExtractedText, SearchEntry


def forget_letter(kind: str, object_id: int, files: Iterable[str] = ()) -> None:
    """Drop the letter's index entry and the kept text of ``files`` (nothing of them stays searchable)."""
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()
    ExtractedText.objects.filter(sha256__in=list(files)).delete()
