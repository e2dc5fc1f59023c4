"""``saraban render LETTER.json -o OUT.pdf``: check a letter's JSON against the Regulation, then draw it.

No database. It lives in correspondence because the check (``check_letter``: the Regulation's rules
and printability) is correspondence's; the drawing is ``saraban.rendering.letters.render_letter``.
"""

from __future__ import annotations

import json
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.core.files import read_input, write_atomically
from saraban.correspondence.content import check_letter
from saraban.regulation.content import LetterContent, parse_letter_json
from saraban.rendering.engine import RenderError
from saraban.rendering.letters import render_letter

BAD_INPUT = 2


def _refuse(th: str, en: str, problems: list[FieldProblem] | None = None) -> CommandError:
    lines = [f"{th} / {en}"]
    lines += [f"  - {p}" for p in problems or []]
    return CommandError("\n".join(lines), returncode=BAD_INPUT)


def load_letter(path: Path, *, issued: bool = False) -> LetterContent:
    """Read and validate a letter JSON file; raise ``CommandError`` (code 2) naming every problem."""
    raw = read_input(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(
            f"ไฟล์ {path} ไม่ได้เข้ารหัสแบบ UTF-8 (ไบต์ที่ {exc.start})",
            f"{path} is not UTF-8 (byte {exc.start})",
        ) from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refuse(
            f"ไฟล์ {path} ไม่ใช่ JSON ที่ถูกต้อง: บรรทัด {exc.lineno} คอลัมน์ {exc.colno}",
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    if not isinstance(data, dict):
        raise _refuse(
            "ข้อมูลหนังสือต้องเป็นออบเจกต์ JSON ({...})", "The letter must be a JSON object ({...})"
        )
    try:
        content = parse_letter_json(data)
        check_letter(content, issued=issued)
    except ValidationFailed as exc:
        raise _refuse(
            f"ข้อมูลหนังสือใน {path} ไม่ครบถ้วนหรือไม่ถูกต้อง",
            f"The letter in {path} has missing or malformed fields",
            exc.problems,
        ) from None
    return content


class Command(BaseCommand):
    """Render an official letter from its JSON (the ``LetterContent`` format) to a PDF/A file."""

    help = "Render LETTER.json as a PDF: saraban render LETTER.json -o OUT.pdf (docs/letter-json.md)"
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("letter", type=Path, help="the letter as JSON (UTF-8)")
        parser.add_argument("-o", "--output", type=Path, required=True, help="the PDF to write")
        parser.add_argument(
            "--pdf-standard", default="a-3b", help="PDF standard: a-3b (default), a-2b, a-4, or 'none'"
        )
        parser.add_argument(
            "--issued", action="store_true", help="also require the number and date of an issued letter"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        content = load_letter(options["letter"], issued=options["issued"])
        output: Path = options["output"]
        if not output.parent.is_dir():
            raise _refuse(f"ไม่มีโฟลเดอร์ {output.parent}", f"No such directory: {output.parent}")
        standard = "" if options["pdf_standard"] in ("none", "") else options["pdf_standard"]
        # One document and no server threads: lay it out in this process rather than start a worker.
        os.environ.setdefault("SARABAN_RENDER_IN_PROCESS", "1")
        try:
            pdf = render_letter(content, pdf_standard=standard)
        except ValidationFailed as exc:
            raise _refuse("; ".join(p.message_th for p in exc.problems),
                          "; ".join(p.message_en for p in exc.problems)) from None
        except RenderError as exc:
            raise CommandError(f"สร้าง PDF ไม่สำเร็จ / Rendering failed: {exc}", returncode=1) from None
        write_atomically(output, pdf)
        if options["verbosity"] >= 1:
            self.stdout.write(f"{output} ({len(pdf):,} bytes)")
