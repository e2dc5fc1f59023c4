"""Plain-data views of letters for audit digests."""

from __future__ import annotations

from typing import Any

from .models import Letter


def letter_snapshot(letter: Letter) -> dict[str, Any]:
    return {
        "organisation_id": letter.organisation_id,
        "owner_unit_id": letter.owner_unit_id,
        "content": letter.content,
        "status": letter.status,
        "number": letter.number,
        "date": letter.date,
        "supersedes_id": letter.supersedes_id,
    }
