"""Plain-data views of incoming letters for audit digests."""

from __future__ import annotations

from typing import Any

from .models import IncomingLetter


def incoming_snapshot(incoming: IncomingLetter) -> dict[str, Any]:
    return {
        "organisation_id": incoming.organisation_id,
        "source": incoming.source,
        "letter_number": incoming.letter_number,
        "subject": incoming.subject,
        "status": incoming.status,
        "receive_number": incoming.receive_number,
        "original": incoming.original_id,
        "stamped": incoming.stamped_id,
        "due_date": incoming.due_date,
    }
