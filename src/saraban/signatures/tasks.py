"""Background work on signatures (django.tasks; the database backend runs it in ``saraban db_worker``)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from .archive import DEFAULT_WITHIN_DAYS, renew_due


@task()
def renew_archival_timestamps(within_days: int = DEFAULT_WITHIN_DAYS, limit: int | None = None) -> dict[str, Any]:
    """LTA renewal of every archived signed PDF due within ``within_days``; enqueue once a day.

    Returns the run's summary (counts and one outcome per archive) as the task's result; failures are
    also kept in each archive's ``last_error``, and the next run tries them again.
    """
    return renew_due(within_days=within_days, limit=limit).as_dict()
