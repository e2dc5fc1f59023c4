"""``saraban renew_timestamps [--within-days N] [--limit N] [--tsa URL] [--dry-run]``: LTA renewal in bulk.

Adds a new document timestamp to every archived signed PDF whose newest timestamp's certificate ends
within N days (default 90). Exit 0 when nothing failed, 1 when any renewal failed (each failure is also
kept in the archive's ``last_error``), 2 for bad arguments or when something is due and no TSA is
configured. Meant for cron or a systemd timer, once a day.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from saraban.core.errors import SarabanError, ValidationFailed
from saraban.core.files import refuse
from saraban.signatures.archive import DEFAULT_WITHIN_DAYS, renew_due, renewal_plan


class Command(BaseCommand):
    """Renew the archival (document) timestamps of archived signed PDFs that are due."""

    help = ("Add a new document timestamp to archived signed PDFs whose newest timestamp expires soon: "
            "saraban renew_timestamps [--within-days N] [--limit N] [--tsa URL] [--dry-run]")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--within-days", type=int, default=DEFAULT_WITHIN_DAYS,
                            help=f"renew when the newest timestamp ends within N days (default {DEFAULT_WITHIN_DAYS})")
        parser.add_argument("--limit", type=int, default=None, help="renew at most N archives in this run")
        parser.add_argument("--tsa", default=None, help="TSA URL (default: SARABAN_TSA_URL)")
        parser.add_argument("--dry-run", action="store_true", help="list what is due; change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        within: int = options["within_days"]
        limit: int | None = options["limit"]
        if within < 0:
            raise refuse("--within-days ต้องไม่ติดลบ", "--within-days must not be negative")
        if limit is not None and limit < 1:
            raise refuse("--limit ต้องมากกว่า 0", "--limit must be at least 1")
        if options["dry_run"]:
            self._dry_run(within, limit)
            return
        try:
            summary = renew_due(within_days=within, limit=limit, tsa_url=options["tsa"])
        except ValidationFailed as exc:
            raise refuse(exc.message_th, exc.message_en, [str(p) for p in exc.problems]) from None
        except SarabanError as exc:
            raise refuse(exc.message_th, exc.message_en) from None
        for outcome in summary.outcomes:
            if outcome.renewed:
                self.stdout.write(f"  ✓ {outcome.original[:12]} → {outcome.current[:12]} "
                                  f"(ถึง / until {outcome.timestamp_expires_at})")
            else:
                self.stdout.write(f"  ✗ {outcome.original[:12]}: {outcome.error}")
        self.stdout.write(summary.explain_th())
        self.stdout.write(summary.explain_en())
        if not summary.ok:
            raise CommandError(
                f"ต่ออายุไม่สำเร็จ {summary.failed} ฉบับ / {summary.failed} renewal(s) failed", returncode=1
            )

    def _dry_run(self, within: int, limit: int | None) -> None:
        plan = renewal_plan(within_days=within, limit=limit)
        for archive in plan.batch:
            ends = timezone.localtime(archive.timestamp_expires_at) if archive.timestamp_expires_at else None
            self.stdout.write(f"  • {archive.original_id[:12]} (หมดอายุ / expires {ends:%Y-%m-%d})")
        self.stdout.write(f"(ทดลอง) จะต่ออายุ {len(plan.batch)} ฉบับ, ยังไม่ถึงกำหนด {plan.not_due} ฉบับ, "
                          f"เลื่อนไปรอบถัดไป {plan.deferred} ฉบับ")
        self.stdout.write(f"(dry run) would renew {len(plan.batch)}, not due {plan.not_due}, "
                          f"deferred to the next run {plan.deferred}")
