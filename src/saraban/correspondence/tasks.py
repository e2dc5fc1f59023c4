"""Background work on letters (django.tasks; the database backend runs it in `saraban db_worker`)."""

from __future__ import annotations

from django.tasks import task

from .models import Letter
from .pdf import render_and_store


@task()
def render_letter_pdf(letter_id: int) -> str:
    """Render and store a letter's PDF; returns the PDF's SHA-256 ('' if the letter is gone)."""
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        return ""
    return render_and_store(letter).sha256
