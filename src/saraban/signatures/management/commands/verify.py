"""``saraban verify FILE.pdf [FILE.pdf ...] [--trust ROOTS.pem] [--json] [--offline]``.

Exit 0 when every file is TOTAL_PASSED, 1 otherwise, 2 when a file cannot be read.

``saraban verify`` runs without ``django.setup()`` (``saraban.cli.LIGHT_COMMANDS``): this module imports
only Django's command machinery, and pyHanko and the trust roots when a file is actually verified,
so that ``--help`` and a mistyped option answer at once.
"""

from __future__ import annotations

import argparse
import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import SarabanError
from saraban.core.files import read_input


class Command(BaseCommand):
    """Verify every signature of a PDF and report it (ETSI EN 319 102-1 indications, explained in Thai)."""

    help = "Verify signed PDFs: saraban verify FILE.pdf [FILE.pdf ...] [--trust ROOTS.pem] [--json] [--offline]"
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", type=Path, nargs="+", metavar="FILE",
                            help="the PDFs to verify (several in one process: no start-up per file)")
        parser.add_argument("--trust", type=Path, action="append", default=[], help="extra trust roots (PEM)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--offline", action="store_true",
                            help="never ask OCSP responders or CRL servers; use only what the PDF and "
                                 "SARABAN_HOME/trust/crls hold (a signature whose status is then unknown is "
                                 "INDETERMINATE/TRY_LATER)")
        parser.add_argument("--fetch", action="store_true", help=argparse.SUPPRESS)  # the default now

    def handle(self, *args: Any, **options: Any) -> None:
        from saraban.cli import settings_only
        from saraban.signatures.trust import trust_roots

        settings_only()
        try:
            roots = trust_roots(options["trust"])
        except SarabanError as exc:
            raise CommandError(str(exc), returncode=2) from None
        files: list[Path] = options["files"]
        if len(files) == 1:  # one file: its report alone, exit 2 when it cannot be read
            report = self._verify(read_input(files[0]), roots, options)
            self._show(report, options)
            if not report.passed:
                raise SystemExit(1)
            return
        worst, reports = 0, []
        for path in files:
            try:
                report = self._verify(read_input(path), roots, options)
            except CommandError as exc:
                self.stderr.write(f"{path}: {exc}")
                worst = 2
                continue
            worst = max(worst, 0 if report.passed else 1)
            if options["json"]:
                reports.append({"file": str(path), **report.to_json()})
            else:
                self.stdout.write(f"== {path} ==")
                self._show(report, options)
        if options["json"]:
            self.stdout.write(json.dumps(reports, ensure_ascii=False, indent=2))
        if worst:
            raise SystemExit(worst)

    def _verify(self, pdf: bytes, roots: list[Any], options: dict[str, Any]) -> Any:
        from saraban.signatures.pades.verify import verify_pdf
        from saraban.signatures.trust import local_crls

        # In this process, under a timer: a command line has no server threads and need not start a worker.
        return verify_pdf(pdf, roots, allow_fetching=not options["offline"], in_process=True, crls=local_crls())

    def _show(self, report: Any, options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report.explain_th())
            self.stdout.write(report.explain_en())
