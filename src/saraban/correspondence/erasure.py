"""Erasing what a destroyed letter says (ระเบียบฯ ข้อ 69), keeping what its register line records.

The number, date, subject, parties and the letter's row stay, as the send register keeps them for
ever; the body and the enclosures' files go. Called by the records app once destruction is approved.
"""

from __future__ import annotations

from .models import Letter


def erase_letter_content(letter_id: int) -> None:
    """Clear the letter's body and unlink its enclosures' files (their titles stay)."""
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        return
    content = dict(letter.content or {})
    content["body"] = []
    content["enclosures"] = [{k: v for k, v in dict(e).items() if k not in ("sha256", "filename")}
                             for e in content.get("enclosures", [])]
    Letter.objects.filter(pk=letter_id).update(content=content)
