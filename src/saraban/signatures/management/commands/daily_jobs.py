"""``saraban daily_jobs``: revocation checks, expiry warnings and LTA renewal, for cron or a timer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from saraban.signatures.daily import run_daily_jobs


class Command(BaseCommand):
    help = "Run the daily certificate and archive jobs now (revocation checks, expiry warnings, LTA renewal)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = run_daily_jobs()
        renewal = result.renewal
        self.stdout.write(
            f"ตรวจสถานะการเพิกถอน {result.revocation_checked} ใบ (ถูกเพิกถอน {result.revoked}) · "
            f"แจ้งเตือนหมดอายุ {result.notices} รายการ · ต่ออายุตราประทับเวลา {renewal.get('renewed', 0)} ฉบับ"
        )
        self.stdout.write(
            f"Revocation checked: {result.revocation_checked} (revoked {result.revoked}) · expiry notices: "
            f"{result.notices} · archive renewals: {renewal.get('renewed', 0)}, failed {renewal.get('failed', 0)}"
        )
        if renewal.get("failed") or "error" in renewal:
            raise SystemExit(1)
