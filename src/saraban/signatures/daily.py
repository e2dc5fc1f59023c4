"""The daily work of the certificate registry and the archive, enqueued once a day.

- revocation checks of every active registered certificate (so "who can sign" is current),
- expiry warnings at 90/60/30/7 days (in-app and e-mail),
- LTA renewal of archived signed PDFs (only when a TSA is configured),
- anchoring the audit chains' heads outside the database (``saraban.audit.anchors``).

``saraban serve`` enqueues them at start-up and then once a day for its worker; an installation that
runs the worker separately runs ``saraban daily_jobs`` from cron or a systemd timer instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.tasks import task

from saraban.core.thai import local_date

log = logging.getLogger(__name__)


@dataclass
class DailyResult:
    """What a day's run did."""

    revocation_checked: int = 0
    revoked: int = 0
    notices: int = 0
    renewal: dict[str, Any] = field(default_factory=dict)
    audit_anchors: dict[str, Any] = field(default_factory=dict)


def run_daily_jobs(*, today: dt.date | None = None) -> DailyResult:
    """Check revocation, send expiry warnings, renew archive timestamps, anchor the audit chains; each on its own."""
    from .archive import configured_tsa_url, renew_due
    from .models import RevocationStatus, SigningCertificate
    from .notices import send_expiry_warnings
    from .registry import check_revocation

    result = DailyResult()
    for certificate in SigningCertificate.objects.filter(active=True).exclude(revocation_status="revoked"):
        checked = check_revocation(certificate)
        result.revocation_checked += 1
        result.revoked += checked.revocation_status == RevocationStatus.REVOKED
    result.notices = send_expiry_warnings(today=today)
    if configured_tsa_url():
        try:
            result.renewal = renew_due().as_dict()
        except Exception as exc:  # no trust roots configured, …: the other jobs still ran
            log.warning("LTA renewal did not run: %s", exc)
            result.renewal = {"error": str(exc)}
    result.audit_anchors = _anchor_audit_chains()
    return result


def _anchor_audit_chains() -> dict[str, Any]:
    """Anchor the audit chains' heads (last, so that today's renewals are covered)."""
    from saraban.audit.anchors import anchor_chains

    try:
        return anchor_chains().as_dict()
    except Exception as exc:  # the anchor file cannot be written, …: logged, the other jobs ran
        log.error("audit anchoring did not run: %s", exc)
        return {"error": str(exc)}


@task()
def daily_jobs_task() -> dict[str, Any]:
    """The daily jobs as a background task (the result is kept with the task)."""
    result = run_daily_jobs()
    return {"revocation_checked": result.revocation_checked, "revoked": result.revoked,
            "notices": result.notices, "renewal": result.renewal, "audit_anchors": result.audit_anchors}


def enqueue_if_due(now: dt.datetime | None = None) -> bool:
    """Enqueue today's run unless it was already enqueued today (remembered in ``SARABAN_HOME``)."""
    today = local_date(now or dt.datetime.now(dt.UTC)).isoformat()
    marker = Path(settings.SARABAN_HOME) / "daily-jobs.last"
    if marker.exists() and marker.read_text().strip() == today:
        return False
    daily_jobs_task.enqueue()
    marker.write_text(today)
    return True
