"""``saraban audit verify``: check that the audit trail's hash chains are intact."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.audit.selectors import verify_all_chains


class Command(BaseCommand):
    help = "Audit trail tools. `audit verify` exits 0 when every chain is intact, 1 naming the first break."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        checked, breaks = verify_all_chains()
        if breaks:
            for chain_break in breaks:
                sys.stderr.write(f"BROKEN / สายโซ่ขาด: {chain_break}\n")
            raise CommandError(
                f"audit trail broken in {len(breaks)} chain(s) / บันทึกการตรวจสอบถูกแก้ไข {len(breaks)} สายโซ่",
                returncode=1,
            )
        self.stdout.write(f"OK: {checked} events, chains intact / บันทึกการตรวจสอบครบถ้วน ไม่ถูกแก้ไข")
