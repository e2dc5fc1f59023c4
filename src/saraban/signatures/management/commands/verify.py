"""``saraban verify FILE.pdf [--trust ROOTS.pem] [--json]``: exit 0 when TOTAL_PASSED, 1 otherwise, 2 unreadable."""

from __future__ import annotations

import argparse
import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import SarabanError
from saraban.core.files import read_input
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.trust import local_crls, trust_roots


class Command(BaseCommand):
    """Verify every signature of a PDF and report it (ETSI EN 319 102-1 indications, explained in Thai)."""

    help = "Verify a signed PDF: saraban verify FILE.pdf [--trust ROOTS.pem] [--json] [--fetch]"
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="the PDF to verify")
        parser.add_argument("--trust", type=Path, action="append", default=[], help="extra trust roots (PEM)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--offline", action="store_true",
                            help="never ask OCSP responders or CRL servers; use only what the PDF and "
                                 "SARABAN_HOME/trust/crls hold (a signature whose status is then unknown is "
                                 "INDETERMINATE/TRY_LATER)")
        parser.add_argument("--fetch", action="store_true", help=argparse.SUPPRESS)  # the default now

    def handle(self, *args: Any, **options: Any) -> None:
        pdf = read_input(options["file"])
        try:
            roots = trust_roots(options["trust"])
        except SarabanError as exc:
            raise CommandError(str(exc), returncode=2) from None
        # In this process, under a timer: a command line has no server threads and need not start a worker.
        report = verify_pdf(pdf, roots, allow_fetching=not options["offline"], in_process=True,
                            crls=local_crls())
        if options["json"]:
            self.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report.explain_th())
            self.stdout.write(report.explain_en())
        if not report.passed:
            raise SystemExit(1)
