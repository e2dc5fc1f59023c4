"""The การจัดเก็บ panel of a letter's page: its file, retention and holds, and the keepers' forms.

Shown on the letter page and the incoming letter page once the letter is a record (numbered, or
registered). Its forms post to ``records.letter_record_action``.
"""

from __future__ import annotations

from typing import Any

from saraban.directory.models import Person
from saraban.records.models import HoldReason, Record
from saraban.records.permissions import can_keep_records
from saraban.records.retention import RetentionClass
from saraban.records.selectors import active_holds, file_plan, open_cases
from saraban.records.services import unsaved_record


def records_panel(kind: str, object_id: int, person: Person) -> dict[str, Any]:
    """The panel's context (``{"record_panel": None}`` when the letter is not a record yet)."""
    record = Record.objects.filter(kind=kind, object_id=object_id).select_related("case__file").first()
    if record is None:
        record = unsaved_record(kind, object_id)  # what it will be: a page view writes nothing
    if record is None:  # a draft, a letter not registered: not a record yet
        return {"record_panel": None}
    keeper = can_keep_records(person, record.organisation_id) is None
    return {"record_panel": {
        "record": record, "kind": kind, "object_id": object_id, "keeper": keeper,
        "case": record.case, "file": record.case.file if record.case else None,
        "holds": list(active_holds().filter(record=record).select_related("placed_by")) if record.pk else [],
        "files": list(file_plan(record.organisation_id).filter(active=True)) if keeper else [],
        "open_cases": list(open_cases(record.organisation_id)[:50]) if keeper else [],
        "retentions": RetentionClass.choices, "hold_reasons": HoldReason.choices,
    }}
