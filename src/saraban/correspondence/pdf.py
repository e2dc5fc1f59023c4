"""The PDF of a letter: rendered from its content and kept in the file store."""

from __future__ import annotations

from django.db import transaction

from saraban.documents.models import StoredFile
from saraban.documents.services import store_file
from saraban.rendering.letters import render_letter

from .models import Letter


def render_and_store(letter: Letter) -> StoredFile:
    """Render the letter as it stands now, store the PDF and point the letter at it."""
    stored = store_file(render_letter(letter.letter_content), "application/pdf")
    with transaction.atomic():
        # Only if the content did not change while rendering; a later task renders the newer one.
        Letter.objects.filter(pk=letter.pk, updated_at=letter.updated_at).update(pdf=stored)
    return stored
