"""``saraban register export``: a register for a date range as PDF, CSV or XLSX.

    saraban register export --organisation opm --kind send --from 1/11/2569 --to 30/11/2569 \\
        --format xlsx -o send-2569-11.xlsx

Dates are typed as clerks type them: day/month/Buddhist-era year (Thai or Arabic digits). Bad input
gets a message in Thai and English and exit code 2; nothing is written then. The file is written
through a temporary file and a rename, so a failed export never leaves a half-written file.
"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.core.files import write_atomically
from saraban.core.thai import parse_thai_date
from saraban.directory.models import Organisation
from saraban.registers.exports import FORMATS, export_register
from saraban.registers.models import BookKind
from saraban.registers.selectors import register_entries
from saraban.rendering.engine import RenderError

BAD_INPUT = 2


def _refuse(problems: list[FieldProblem]) -> CommandError:
    """A ``CommandError`` (exit code 2) listing every problem in Thai and English."""
    lines = ["ข้อมูลที่ระบุไม่ถูกต้อง ไม่ได้เขียนไฟล์ / Bad input, nothing was written"]
    lines += [f"  - {p}" for p in problems]
    return CommandError("\n".join(lines), returncode=BAD_INPUT)


def _date(value: str | None, option: str, problems: list[FieldProblem]) -> dt.date | None:
    if not value:
        problems.append(FieldProblem(
            option, "required", f"ต้องระบุ {option} (วัน/เดือน/ปี พ.ศ. เช่น 1/11/2569)",
            f"{option} is required (day/month/Buddhist year, e.g. 1/11/2569)",
        ))
        return None
    try:
        return parse_thai_date(value)
    except ValueError:
        problems.append(FieldProblem(
            option, "bad_date", f"วันที่ “{value}” ไม่ถูกต้อง ต้องอยู่ในรูป วัน/เดือน/ปี พ.ศ. เช่น 1/11/2569",
            f"Date “{value}” is not a valid day/month/Buddhist year, e.g. 1/11/2569",
        ))
        return None


class Command(BaseCommand):
    """Export an organisation's register (ทะเบียนหนังสือส่ง/รับ...) for a date range."""

    help = (
        "Export a register: saraban register export --organisation ID --kind send --from 1/11/2569 "
        "--to 30/11/2569 --format pdf|csv|xlsx -o OUT"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        export = actions.add_parser(
            "export", help="ส่งออกทะเบียนตามช่วงวันที่ / export a register for a date range",
        )
        export.add_argument("--organisation", "--org", dest="organisation", help="the organisation's identifier")
        export.add_argument("--kind", help=f"the register: {', '.join(BookKind.values)}")
        export.add_argument("--from", dest="start", metavar="D/M/YYYY", help="first day, พ.ศ., e.g. 1/11/2569")
        export.add_argument("--to", dest="end", metavar="D/M/YYYY", help="last day (included), พ.ศ.")
        export.add_argument(
            "--format", dest="fmt", help=f"{'|'.join(FORMATS)}; by default from the output's extension"
        )
        export.add_argument("-o", "--output", type=Path, help="the file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[FieldProblem] = []
        organisation = None
        identifier = options["organisation"]
        if not identifier:
            problems.append(FieldProblem(
                "--organisation", "required", "ต้องระบุ --organisation (รหัสอ้างอิงหน่วยงาน)",
                "--organisation (the organisation's identifier) is required",
            ))
        else:
            organisation = Organisation.objects.filter(identifier=identifier).first()
            if organisation is None:
                problems.append(FieldProblem(
                    "--organisation", "unknown", f"ไม่พบหน่วยงาน “{identifier}”", f"Unknown organisation “{identifier}”",
                ))
        kind = options["kind"]
        if not kind:
            problems.append(FieldProblem(
                "--kind", "required", f"ต้องระบุ --kind ({', '.join(BookKind.values)})",
                f"--kind is required ({', '.join(BookKind.values)})",
            ))
        elif kind not in BookKind.values:
            problems.append(FieldProblem(
                "--kind", "unknown", f"ไม่รู้จักทะเบียน “{kind}” ใช้: {', '.join(BookKind.values)}",
                f"Unknown register kind “{kind}”; use one of: {', '.join(BookKind.values)}",
            ))
        start = _date(options["start"], "--from", problems)
        end = _date(options["end"], "--to", problems)
        if start and end and start > end:
            problems.append(FieldProblem(
                "--from", "after_end", f"วันเริ่มต้น {options['start']} อยู่หลังวันสิ้นสุด {options['end']}",
                f"The start date {options['start']} is after the end date {options['end']}",
            ))
        output: Path | None = options["output"]
        fmt = options["fmt"] or (output.suffix.lstrip(".").lower() if output else "")
        if fmt not in FORMATS:
            problems.append(FieldProblem(
                "--format", "unknown", f"ไม่รู้จักรูปแบบ “{fmt}” ใช้: {', '.join(FORMATS)}",
                f"Unknown format “{fmt}”; use one of: {', '.join(FORMATS)}",
            ))
        if output is None:
            problems.append(FieldProblem("-o", "required", "ต้องระบุไฟล์ผลลัพธ์ -o", "The output file -o is required"))
        elif output.is_dir():
            problems.append(FieldProblem(
                "-o", "is_directory", f"{output} เป็นโฟลเดอร์ ไม่ใช่ไฟล์", f"{output} is a directory, not a file",
            ))
        elif not (output.parent if str(output.parent) else Path(".")).is_dir():
            problems.append(FieldProblem(
                "-o", "no_directory", f"ไม่มีโฟลเดอร์ {output.parent}", f"No such directory: {output.parent}",
            ))
        if problems:
            raise _refuse(problems)
        assert organisation is not None and start is not None and end is not None and output is not None
        try:
            data = export_register(organisation, kind, start, end, fmt)
        except ValidationFailed as exc:
            raise _refuse(exc.problems) from None
        except RenderError as exc:
            raise CommandError(f"สร้าง PDF ไม่สำเร็จ / Rendering failed: {exc}", returncode=1) from None
        write_atomically(output, data)
        if options["verbosity"] >= 1:
            count = register_entries(organisation.pk, BookKind(kind), start=start, end=end).count()
            self.stdout.write(f"{output}: {count:,} รายการ / entries, {len(data):,} ไบต์ / bytes")
