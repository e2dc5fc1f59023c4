"""``saraban records``: the records an organisation keeps.

- ``due --organisation ID --year Y``: what became due for destruction by the end of year Y (พ.ศ., or
  ค.ศ. which is read as พ.ศ. - 543), as the survey of ข้อ 66 draws it up, and what is held apart;
- ``import-plan --organisation ID FILE.csv --user U``: add or update the file plan from CSV (columns
  code, title, parent, retention, years, legal_basis); every bad row is reported and nothing is written;
- ``destruction-list --organisation ID --year Y -o FILE.pdf|FILE.xlsx``: the บัญชีหนังสือขอทำลาย (แบบที่ 25)
  of year Y (its list, or a draft of what is due by the end of the year), the format from the extension;
- ``storage-list --case ID -o FILE.pdf|FILE.xlsx``: the บัญชีหนังสือส่งเก็บ (แบบที่ 19) of a completed case;
- ``transfer --organisation ID --year Y -o DIR``: the records that reached 20 years by the end of year Y,
  as a BagIt bag for the National Archives (``docs/archives.md``); DIR must not exist yet.

Bad arguments exit 2 with a message in Thai and English, and no file is written.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation, Person
from saraban.records.exports import destruction_list_file, storage_list_file
from saraban.records.models import Case
from saraban.records.retention import as_buddhist_year
from saraban.records.selectors import due_for_destruction, held_records
from saraban.records.services import ensure_records, import_file_plan
from saraban.records.transfer import export_transfer, handover_deadline
from saraban.rendering.engine import RenderError


def _organisation(identifier: str) -> Organisation:
    found = Organisation.objects.filter(identifier=identifier).first()
    if found is None and identifier.isdigit():
        found = Organisation.objects.filter(pk=int(identifier)).first()
    if found is None:
        raise CommandError(f"ไม่พบหน่วยงาน / no such organisation: {identifier!r}", returncode=2)
    return found


def _year(text: str) -> int:
    if not text.isdigit() or not 1900 <= int(text) <= 3000:
        raise CommandError(f"ปีต้องเป็นตัวเลข 4 หลัก เช่น 2569 / the year must be 4 digits, e.g. 2569: {text!r}",
                           returncode=2)
    return as_buddhist_year(int(text))


def _output(path: str) -> tuple[Path, str]:
    """The file to write and its format, from its extension (.pdf or .xlsx)."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "xlsx"):
        raise CommandError(f"ไฟล์ต้องลงท้ายด้วย .pdf หรือ .xlsx / the file must end in .pdf or .xlsx: {path!r}",
                           returncode=2)
    if not target.parent.is_dir():
        raise CommandError(f"ไม่พบโฟลเดอร์ / no such folder: {str(target.parent)!r}", returncode=2)
    return target, fmt


def _case(identifier: str) -> Case:
    found = Case.objects.filter(pk=int(identifier)).first() if identifier.isdigit() else None
    if found is None:
        raise CommandError(f"ไม่พบเรื่อง / no such case: {identifier!r}", returncode=2)
    return found


def _write(target: Path, data: bytes) -> None:
    """Write ``data`` whole, or nothing: a temporary file beside the target, renamed over it."""
    partial = target.with_name(f".{target.name}.part")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"เขียนไฟล์ไม่ได้ / cannot write the file: {exc}", returncode=2) from None


class Command(BaseCommand):
    help = "Records: what is due for destruction in a year; import a file plan; the lists of แบบ 19 and 25."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser("due", help="records due for destruction by the end of a year")
        due.add_argument("--organisation", required=True)
        due.add_argument("--year", required=True)
        plan = sub.add_parser("import-plan", help="the file plan from CSV")
        plan.add_argument("--organisation", required=True)
        plan.add_argument("--user", required=True, help="who imports it (a registry clerk or administrator)")
        plan.add_argument("file")
        listed = sub.add_parser("destruction-list", help="บัญชีหนังสือขอทำลาย (แบบที่ 25) of a year, PDF or XLSX")
        listed.add_argument("--organisation", required=True)
        listed.add_argument("--year", required=True)
        listed.add_argument("-o", "--output", required=True, help="FILE.pdf or FILE.xlsx")
        stored = sub.add_parser("storage-list", help="บัญชีหนังสือส่งเก็บ (แบบที่ 19) of a completed case")
        stored.add_argument("--case", required=True)
        stored.add_argument("-o", "--output", required=True, help="FILE.pdf or FILE.xlsx")
        transfer = sub.add_parser("transfer", help="the 20-year transfer to the National Archives, as a BagIt bag")
        transfer.add_argument("--organisation", required=True)
        transfer.add_argument("--year", required=True)
        transfer.add_argument("-o", "--output", required=True, help="a folder that does not exist yet")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "storage-list":
                target, fmt = _output(options["output"])
                data = storage_list_file(_case(options["case"]), fmt)
                _write(target, data)
                self.stdout.write(f"เขียนบัญชีหนังสือส่งเก็บแล้ว / wrote the storage list: {target}")
                return
            if options["action"] == "destruction-list":
                target, fmt = _output(options["output"])
                organisation = _organisation(options["organisation"])
                data = destruction_list_file(organisation, _year(options["year"]), fmt)
                _write(target, data)
                self.stdout.write(f"เขียนบัญชีหนังสือขอทำลายแล้ว / wrote the destruction list: {target}")
                return
            if options["action"] == "transfer":
                self._transfer(options["organisation"], options["year"], Path(options["output"]))
                return
            organisation = _organisation(options["organisation"])
            if options["action"] == "due":
                self._due(organisation, _year(options["year"]))
            else:
                person = Person.objects.filter(username=options["user"]).first()
                if person is None:
                    raise CommandError(f"ไม่พบผู้ใช้ / no such user: {options['user']!r}", returncode=2)
                try:
                    text = Path(options["file"]).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise CommandError(f"อ่านไฟล์ไม่ได้ (ต้องเป็น CSV แบบ UTF-8) / cannot read the file (UTF-8 CSV): "
                                       f"{exc}", returncode=2) from None
                rows = import_file_plan(organisation, text, actor=person)
                self.stdout.write(f"นำเข้าแฟ้ม {rows} รายการ / imported {rows} files")
        except SarabanError as exc:
            lines = [f"{exc.message_th} / {exc.message_en}", *(f"  {p.message_th} / {p.message_en}"
                                                              for p in exc.problems)]
            raise CommandError("\n".join(lines), returncode=2) from None
        except RenderError as exc:  # a fault of the template, not of the arguments
            raise CommandError(f"จัดทำไฟล์ PDF ไม่ได้ / the PDF could not be made: {exc}", returncode=1) from None

    def _due(self, organisation: Organisation, year: int) -> None:
        ensure_records(organisation.pk)
        due = list(due_for_destruction(organisation.pk, year))
        for record in due:
            self.stdout.write(f"{record.kind}:{record.object_id}\tพ.ศ. {record.document_year}\t"
                              f"เก็บถึง {record.keep_until}\t{record.get_retention_class_display()}")
        held = held_records(organisation.pk, year).count()
        self.stdout.write(f"ครบกำหนดทำลายภายในสิ้นปี พ.ศ. {year}: {len(due):,} ฉบับ, ระงับไว้ {held:,} ฉบับ / "
                          f"due by the end of {year - 543}: {len(due):,}, on hold {held:,}")

    def _transfer(self, identifier: str, year_text: str, target: Path) -> None:
        if target.exists():
            raise CommandError(f"มี {target} อยู่แล้ว ระบุโฟลเดอร์ใหม่ / {target} exists already: name a new folder",
                               returncode=2)
        organisation, year = _organisation(identifier), _year(year_text)
        try:
            summary = export_transfer(organisation, year, target)
        except OSError as exc:
            raise CommandError(f"เขียนโฟลเดอร์ไม่ได้ / cannot write the folder: {exc}", returncode=2) from None
        self.stdout.write(f"ส่งมอบ {summary.records:,} ฉบับ {summary.files:,} ไฟล์ ({summary.bytes:,} ไบต์) ภายใน "
                          f"{handover_deadline(year):%d/%m}/{handover_deadline(year).year + 543} / transfer of "
                          f"{summary.records:,} records, {summary.files:,} files: {target}")
