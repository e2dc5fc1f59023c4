"""Erasing a destroyed received letter's enclosures (ระเบียบฯ ข้อ 69); its row and register line stay."""

from __future__ import annotations

from .models import IncomingLetter


def erase_incoming_content(incoming_id: int) -> None:
    """Unlink the enclosures' files (their titles stay); the letter's own file is erased by the caller."""
    incoming = IncomingLetter.objects.filter(pk=incoming_id).first()
    if incoming is None:
        return
    kept = [{k: v for k, v in dict(e).items() if k not in ("sha256", "filename")} for e in incoming.enclosures]
    IncomingLetter.objects.filter(pk=incoming_id).update(enclosures=kept)
