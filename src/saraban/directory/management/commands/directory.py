"""``saraban directory``: import and export the directory as CSV, and load the provinces.

    saraban directory load-provinces
    saraban directory import organisations organisations.csv
    saraban directory import people people.csv
    saraban directory export organisations -o organisations.csv
    saraban directory export people -o people.csv

An import checks the whole file first. If any row is wrong, every problem is printed (line, column,
Thai and English), nothing is written and the exit code is 2. Exports are UTF-8 with a BOM (Excel
shows the Thai) and are written through a temporary file and a rename. A cell that a spreadsheet
would run as a formula (=, +, -, @, tab, carriage return) is exported with a leading apostrophe,
which the import removes again, only there (``saraban.directory.csv_io``).
"""

from __future__ import annotations

import csv
import io
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.files import read_input, write_atomically
from saraban.directory.csv_io import (
    ImportReport,
    export_organisations,
    export_people,
    import_organisations,
    import_people,
)
from saraban.directory.services import load_provinces

BAD_INPUT = 2
WHAT = ("organisations", "people")


def _refuse(th: str, en: str, details: list[str] | None = None) -> CommandError:
    lines = [f"{th} / {en}", *(f"  - {d}" for d in details or [])]
    return CommandError("\n".join(lines), returncode=BAD_INPUT)


def _check_what(what: str) -> None:
    if what not in WHAT:
        raise _refuse(
            f"ไม่รู้จักข้อมูล “{what}” ใช้: {', '.join(WHAT)}", f"Unknown data “{what}”; use one of: {', '.join(WHAT)}",
        )


class Command(BaseCommand):
    """Import or export organisations and people as CSV; load the 77 provinces."""

    help = (
        "saraban directory import organisations|people FILE.csv; "
        "saraban directory export organisations|people -o FILE.csv; saraban directory load-provinces"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        imp = actions.add_parser("import", help="นำเข้าจาก CSV / import from CSV (all rows or none)")
        imp.add_argument("what", metavar="organisations|people")
        imp.add_argument("file", type=Path, help="the CSV file (UTF-8)")
        exp = actions.add_parser("export", help="ส่งออกเป็น CSV / export as CSV")
        exp.add_argument("what", metavar="organisations|people")
        exp.add_argument("-o", "--output", type=Path, required=True, help="the CSV file to write")
        actions.add_parser("load-provinces", help="สร้างหรือปรับปรุงข้อมูล 77 จังหวัด / create or refresh the 77 provinces")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "load-provinces":
            count = load_provinces()
            self.stdout.write(f"จังหวัด {count} จังหวัด / {count} provinces loaded")
        elif action == "import":
            self._import(options["what"], options["file"])
        else:
            self._export(options["what"], options["output"])

    def _import(self, what: str, path: Path) -> None:
        _check_what(what)
        data = read_input(path)
        report: ImportReport = import_organisations(data) if what == "organisations" else import_people(data)
        if not report.ok:
            raise _refuse(
                f"ไฟล์ {path} มีปัญหา {len(report.problems)} รายการ ไม่ได้นำเข้าข้อมูลใดเลย",
                f"{path} has {len(report.problems)} problem(s); nothing was imported",
                [str(p) for p in report.problems],
            )
        self.stdout.write(
            f"{path}: สร้างใหม่ {report.created} ปรับปรุง {report.updated} / "
            f"created {report.created}, updated {report.updated}"
        )

    def _export(self, what: str, output: Path) -> None:
        _check_what(what)
        if output.is_dir():
            raise _refuse(f"{output} เป็นโฟลเดอร์ ไม่ใช่ไฟล์", f"{output} is a directory, not a file")
        if not (output.parent if str(output.parent) else Path(".")).is_dir():
            raise _refuse(f"ไม่มีโฟลเดอร์ {output.parent}", f"No such directory: {output.parent}")
        data = export_organisations() if what == "organisations" else export_people()
        write_atomically(output, data)
        rows = sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))) - 1
        self.stdout.write(f"{output}: {rows} แถว / rows")
