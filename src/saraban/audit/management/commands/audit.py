"""``saraban audit verify`` / ``saraban audit anchor``: check the audit trail, anchor its chain heads.

``verify`` checks every hash chain from its first event to its head, then every head anchored in the
anchor file (``audit/anchors.py``) and the anchors' timestamp tokens; exit 0 when all hold, 1 naming
each break. ``anchor`` appends the heads that moved since their last anchor to the anchor file now
(the daily jobs do it once a day); exit 1 when a chain could not be anchored or the TSA failed.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.audit.anchors import anchor_chains, verify_anchors
from saraban.audit.selectors import verify_all_chains


class Command(BaseCommand):
    help = (
        "Audit trail tools. `audit verify` exits 0 when every chain and every anchored head is intact, 1 naming "
        "the first break of each; `audit anchor` writes the chain heads to the anchor file now."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify", "anchor"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "anchor":
            self._anchor()
        else:
            self._verify()

    def _verify(self) -> None:
        checked, breaks = verify_all_chains()
        anchors = verify_anchors()
        for note in anchors.notes:
            sys.stderr.write(f"NOTE / หมายเหตุ: {note}\n")
        breaks += anchors.breaks
        if breaks:
            for chain_break in breaks:
                sys.stderr.write(f"BROKEN / สายโซ่ขาด: {chain_break}\n")
            raise CommandError(
                f"audit trail broken in {len(breaks)} place(s) / บันทึกการตรวจสอบถูกแก้ไข {len(breaks)} แห่ง",
                returncode=1,
            )
        others = (f"; {anchors.other_databases} anchor(s) of other databases not checked"
                  f" / จุดยึดของฐานข้อมูลอื่น {anchors.other_databases} รายการไม่ได้ตรวจ") if anchors.other_databases else ""
        self.stdout.write(
            f"OK: {checked} events, chains intact; {anchors.checked} anchored head(s) hold, {anchors.timestamps}"
            f" timestamp(s) verified / บันทึกการตรวจสอบครบถ้วน ไม่ถูกแก้ไข จุดยึด {anchors.checked} รายการตรงกัน"
            f" ตราประทับเวลาถูกต้อง {anchors.timestamps} รายการ{others}"
        )

    def _anchor(self) -> None:
        run = anchor_chains()
        for head in run.heads:
            self.stdout.write(f"{head['chain']} #{head['position']} {head['hash']}")
        stamp = "with a timestamp / มีตราประทับเวลา" if run.timestamped else "no timestamp / ไม่มีตราประทับเวลา"
        self.stdout.write(
            f"ยึดหัวสายโซ่ {len(run.heads)} สาย (ไม่เปลี่ยน {run.unchanged}) ที่ {run.path} · "
            f"Anchored {len(run.heads)} chain head(s) ({run.unchanged} unchanged) in {run.path}; {stamp}"
        )
        for chain_break in run.breaks:
            sys.stderr.write(f"NOT ANCHORED / ไม่ได้ยึด: {chain_break}\n")
        if run.error:
            sys.stderr.write(f"TSA: {run.error}\n")
        if run.breaks or run.error:
            raise CommandError(
                "some chains were not anchored or not timestamped / บางสายโซ่ไม่ได้ยึดหรือไม่มีตราประทับเวลา",
                returncode=1,
            )
