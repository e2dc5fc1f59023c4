"""``saraban load_demo``: create the demo deployment (once) and print its users."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from saraban.demo.loader import load_demo

DEFAULT_DEMO_PASSWORD = "saraban-demo-2569"


class Command(BaseCommand):
    help = "Load the Thai demo data (organisations, users of every role, letters) unless already loaded."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--letters-per-org", type=int, default=25)

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo password is printed for the demo's users; it is stored only as a hash.
        password = os.environ.get("SARABAN_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
        summary = load_demo(password, letters_per_org=options["letters_per_org"])
        state = "สร้างข้อมูลสาธิตแล้ว / demo data created" if summary.created else "ข้อมูลสาธิตมีอยู่แล้ว / demo data present"
        self.stdout.write(f"{state}: {summary.organisations} organisations, {summary.letters} letters")
        # The default demo password is public; one chosen through the environment is not echoed.
        shown = password if "SARABAN_DEMO_PASSWORD" not in os.environ else "(SARABAN_DEMO_PASSWORD)"
        self.stdout.write(f"ผู้ใช้สาธิต / demo users — รหัสผ่าน / password: {shown}")
        for username, name, role, organisation in summary.people:
            self.stdout.write(f"  {username:<16} {role:<16} {name} — {organisation}")
