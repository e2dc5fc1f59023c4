"""The two lists of records as files, PDF or XLSX: แบบที่ 19 and แบบที่ 25 of the Regulation.

- ``storage_list_file(case, fmt)``: the บัญชีหนังสือส่งเก็บ (แบบที่ 19, ข้อ 54) of a completed case:
  ลำดับที่, รหัสแฟ้ม, ที่, ลงวันที่, เรื่อง, อายุการเก็บหนังสือ ("เก็บถึง พ.ศ. …" or "ห้ามทำลาย"), หมายเหตุ.
- ``destruction_list_file(organisation, year, fmt)``: the บัญชีหนังสือขอทำลาย (แบบที่ 25, ข้อ 66) of the
  year: ลำดับที่, รหัสแฟ้ม, ที่, ลงวันที่, เรื่อง, การพิจารณา (the committee's decision: ทำลาย, or ให้เก็บไว้
  ถึง พ.ศ. … with the reason), หมายเหตุ (ลับ, ระงับการทำลาย, ทำลายแล้ว), with the committee's signature
  slots and the head's approval. When no list was drawn up for that year yet, it is a draft (ร่าง) of
  what is due by the end of the year, holds left out, as ``destruction.draw_up`` would list it.

The PDF is the printed form of ``saraban.rendering.records_lists`` (landscape A4, PDF/A-3b, Thai digits
when the organisation prints them). The XLSX is data for other programs, as the register exports are:
Arabic digits, dates as text "26 พ.ย. 2569" in พ.ศ., a heading block, the seven columns in row 4
(frozen, repeated on printed pages), one row per letter, then (แบบ 25) the signatories.

Every subject and number is shown: the lists are the registry's and the committee's, and the command
line that writes them is run by the administrator.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Collection
from typing import Literal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from saraban.core.errors import FieldProblem, StateRefused, ValidationFailed
from saraban.core.spreadsheets import print_landscape_a4, set_cell
from saraban.core.thai import format_thai_date, local_date
from saraban.directory.models import Organisation, Person
from saraban.directory.selectors import current_roles
from saraban.regulation.kinds import Secrecy
from saraban.rendering.records_lists import (
    NO_FILE,
    ListRow,
    RecordsListSheet,
    Signatory,
    render_records_list,
)

from .letters import ListedLetter, listed_facts
from .models import (
    Case,
    CaseStage,
    CommitteeRole,
    DestructionItem,
    DestructionList,
    DestructionStatus,
    ItemDecision,
    Record,
    RecordStatus,
)
from .retention import Retention, RetentionClass, keep_until_year
from .selectors import active_holds, due_for_destruction
from .services import ensure_records

ListFormat = Literal["pdf", "xlsx"]
FORMATS: tuple[ListFormat, ...] = ("pdf", "xlsx")
STORAGE_TITLE = "บัญชีหนังสือส่งเก็บ"
DESTRUCTION_TITLE = "บัญชีหนังสือขอทำลาย"
HELD = "ระงับการทำลาย"
DESTROYED = "ทำลายแล้ว"
NEVER_DESTROY = "ห้ามทำลาย"

FONT_NAME = "TH Sarabun New"  # as the register exports
_FONT_SIZE = 14
_WIDTHS = (9, 12, 18, 14, 60, 36, 24)


def check_format(fmt: str) -> ListFormat:
    """``fmt`` if it is "pdf" or "xlsx", else ``ValidationFailed`` in Thai and English."""
    for known in FORMATS:
        if fmt == known:
            return known
    raise ValidationFailed([FieldProblem("format", "unknown", f"ไม่รู้จักรูปแบบ “{fmt}” ใช้: {', '.join(FORMATS)}",
                                         f"Unknown format “{fmt}”; use one of: {', '.join(FORMATS)}")])


def check_year(year: int) -> int:
    """A พ.ศ. year a list can be for (2400–3000), else ``ValidationFailed``."""
    if not 2400 <= year <= 3000:
        raise ValidationFailed([FieldProblem("year", "range", f"ปี พ.ศ. {year} ไม่ถูกต้อง (เช่น 2568)",
                                             f"{year} is not a Buddhist-era year (e.g. 2568)")])
    return year


# -- the letters behind the records -------------------------------------------------------------------


def _secrecy_label(level: str) -> str:
    try:
        return Secrecy(level).label_th
    except ValueError:
        return ""


def _remarks(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def keeping_text(keep_until: int | None, legal_basis: str = "") -> str:
    """อายุการเก็บหนังสือ as the stamp says it: "เก็บถึง พ.ศ. 2579" (and the law that sets it) or "ห้ามทำลาย"."""
    if keep_until is None:
        return NEVER_DESTROY
    return f"เก็บถึง พ.ศ. {keep_until}" + (f" ({legal_basis})" if legal_basis else "")


# What a reader not cleared for a classified letter sees in place of its subject (as the registers do).
HIDDEN_SUBJECT = "(หนังสือลับ ไม่แสดงเรื่อง)"


def _row(record: Record, letter: ListedLetter | None, keeping: str, *remarks: str,
         cleared: Collection[str] | None = None) -> ListRow:
    file_code = record.case.file.code if record.case is not None else ""
    if letter is None:  # a record whose letter is gone from the database: say so rather than drop it
        return ListRow(file_code, "", None, "", keeping, _remarks("ไม่พบหนังสือ", *remarks))
    hidden = cleared is not None and letter.secrecy != "normal" and letter.secrecy not in cleared
    return ListRow(file_code, letter.number, letter.date, HIDDEN_SUBJECT if hidden else letter.subject, keeping,
                   _remarks(_secrecy_label(letter.secrecy), *remarks))


# -- แบบที่ 19 -----------------------------------------------------------------------------------------


def storage_sheet(case: Case) -> RecordsListSheet:
    """The บัญชีหนังสือส่งเก็บ of ``case`` (completed, or kept for audit); ``StateRefused`` while in progress."""
    if case.stage == CaseStage.IN_PROGRESS:
        raise StateRefused("records.case_in_progress",
                           "เรื่องนี้ยังอยู่ระหว่างปฏิบัติ จัดทำบัญชีหนังสือส่งเก็บได้เมื่อปฏิบัติเสร็จแล้ว",
                           "The case is still in progress: its storage list is made once it is completed")
    organisation = Organisation.objects.get(pk=case.organisation_id)
    records = list(Record.objects.filter(case=case).select_related("case__file"))
    letters = listed_facts(records)
    held = set(active_holds().filter(record__case=case).values_list("record_id", flat=True))
    rows = []
    for record in records:
        letter = letters.get((record.kind, record.object_id))
        rows.append((letter.date if letter and letter.date else dt.date.max, record.pk, _row(
            record, letter, keeping_text(record.keep_until, record.legal_basis),
            HELD if record.pk in held else "", DESTROYED if record.status == RecordStatus.DESTROYED else "")))
    rows.sort(key=lambda r: (r[0], r[1]))
    return RecordsListSheet(
        form="19", title=STORAGE_TITLE, organisation=organisation.name_th,
        day=local_date(case.completed_at) if case.completed_at else None, rows=[r[2] for r in rows],
        thai_digits=organisation.thai_digits,
    )


# -- แบบที่ 25 -----------------------------------------------------------------------------------------


def _position(person: Person, organisation_id: int, *, prefer: str = "") -> str:
    """The person's position (ตำแหน่ง) in the organisation, from their roles; ``prefer`` a role first."""
    roles = current_roles(person, timezone.localdate()).filter(organisation_id=organisation_id).exclude(
        position_title="")
    preferred = roles.filter(role=prefer).first() if prefer else None
    chosen = preferred or roles.order_by("pk").first()
    return chosen.position_title if chosen else ""


def _decision_text(item: DestructionItem, listed: DestructionList) -> str:
    """การพิจารณา: blank until the committee decided; ทำลาย; or ให้เก็บไว้ถึง พ.ศ. … with the reason."""
    if listed.status == DestructionStatus.DRAFTED or (listed.status == DestructionStatus.COMMITTEE
                                                      and item.decided_by_id is None):
        return ""
    if item.decision == ItemDecision.DESTROY:
        return "ทำลาย"
    until: int | None = item.record.keep_until
    if item.new_retention_class:
        until = keep_until_year(item.record.document_year, Retention(
            RetentionClass(item.new_retention_class), item.new_retention_years, item.new_legal_basis))
    kept = "ให้เก็บไว้ ห้ามทำลาย" if until is None else f"ให้เก็บไว้ถึง พ.ศ. {until}"
    return f"{kept}\n({item.keep_reason})" if item.keep_reason else kept


def _committee_blank() -> list[Signatory]:
    """Not appointed yet: a chair and two members to write in by hand."""
    return [Signatory("ประธานกรรมการ"), Signatory("กรรมการ"), Signatory("กรรมการ")]


def _committee(listed: DestructionList) -> list[Signatory]:
    members = sorted(listed.committee.select_related("person"),
                     key=lambda m: (m.role != CommitteeRole.CHAIR, m.pk))
    if not members:
        return _committee_blank()
    return [Signatory("ประธานกรรมการ" if m.role == CommitteeRole.CHAIR else "กรรมการ", m.person.display_name,
                      m.position or _position(m.person, listed.organisation_id),
                      local_date(m.signed_at) if m.signed_at else None)
            for m in members]


def _approval(listed: DestructionList | None) -> Signatory:
    if listed is None or listed.approved_by is None:
        return Signatory("หัวหน้าส่วนราชการ")
    head = listed.approved_by
    return Signatory("หัวหน้าส่วนราชการ", head.display_name, _position(head, listed.organisation_id, prefer="signer"),
                     local_date(listed.approved_at) if listed.approved_at else None, listed.approval_reference,
                     signed_word="อนุมัติในระบบ")


def destruction_sheet(organisation: Organisation, year: int, *,
                      cleared: Collection[str] | None = None) -> RecordsListSheet:
    """The บัญชีหนังสือขอทำลาย of ``organisation`` for ``year`` (พ.ศ.): its list, or a draft of what is due.

    ``cleared``: the secrecy levels the reader may see (None: all, as on the command line); the subject
    of a classified letter beyond them is not shown.
    """
    check_year(year)
    title = f"{DESTRUCTION_TITLE} ประจำปี พ.ศ. {year}"
    listed = DestructionList.objects.filter(organisation=organisation, year=year).first()
    if listed is None:
        ensure_records(organisation.pk)  # as draw_up does: every letter sent or received has its record
        due = list(due_for_destruction(organisation.pk, year).select_related("case__file"))
        letters = listed_facts(due)
        return RecordsListSheet(
            form="25", title=title, organisation=organisation.name_th,
            rows=[_row(r, letters.get((r.kind, r.object_id)), "", cleared=cleared) for r in due],
            committee=_committee_blank(), approval=_approval(None), draft=True, thai_digits=organisation.thai_digits,
        )
    items = list(listed.items.select_related("record__case__file").order_by("pk"))
    letters = listed_facts(i.record for i in items)
    held = set(active_holds().filter(record_id__in=[i.record_id for i in items]).values_list("record_id", flat=True))
    rows = [
        _row(i.record, letters.get((i.record.kind, i.record.object_id)), _decision_text(i, listed),
             HELD if i.record_id in held or i.skipped_reason else "",
             DESTROYED if i.destroyed_at is not None else "", cleared=cleared)
        for i in items
    ]
    return RecordsListSheet(
        form="25", title=title, organisation=organisation.name_th, day=local_date(listed.drafted_at), rows=rows,
        committee=_committee(listed), approval=_approval(listed), thai_digits=organisation.thai_digits,
    )


# -- XLSX ------------------------------------------------------------------------------------------------


def _date_text(day: dt.date | None) -> str:
    return format_thai_date(day, use_thai_digits=False, abbreviated=True) if day else ""


def _write_xlsx(sheet: RecordsListSheet) -> bytes:
    """The list as a workbook: title, ส่วนราชการ, วันที่ (rows 1–3), the columns (row 4), a row a letter."""
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    title = sheet.title + (" (ร่าง)" if sheet.draft else "")
    ws.title = (STORAGE_TITLE if sheet.form == "19" else DESTRUCTION_TITLE)[:31]
    wb.properties.title = f"{title} {sheet.organisation}"
    wb.properties.language = "th-TH"
    for index, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    print_landscape_a4(ws, header_row=4)

    plain = Font(name=FONT_NAME, size=_FONT_SIZE)
    bold = Font(name=FONT_NAME, size=_FONT_SIZE, bold=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    centre = Alignment(horizontal="center", vertical="top", wrap_text=True)

    def put(row: int, col: int, value: str | int | None, font: Font = plain, align: Alignment = wrap) -> None:
        c = ws.cell(row=row, column=col)
        assert isinstance(c, Cell)  # nothing is merged
        set_cell(c, value)  # text, never a formula
        c.font, c.alignment = font, align

    put(1, 1, title, Font(name=FONT_NAME, size=_FONT_SIZE + 4, bold=True), Alignment())
    put(2, 1, f"ส่วนราชการ {sheet.organisation}", bold, Alignment())
    if sheet.day is not None:
        put(3, 1, f"วันที่ {format_thai_date(sheet.day, use_thai_digits=False)}", plain, Alignment())
    heading = PatternFill("solid", fgColor="FFE8E8E8")
    for col, name in enumerate(sheet.columns, start=1):
        put(4, col, name, bold, Alignment(horizontal="center", vertical="center", wrap_text=True))
        ws.cell(row=4, column=col).fill = heading
    last = 4
    for number, row in enumerate(sheet.rows, start=1):
        last += 1
        put(last, 1, number, plain, centre)  # a number cell: it sorts 1, 2, ... 10
        put(last, 2, row.file_code or NO_FILE, plain, centre)
        put(last, 3, row.letter_number)
        put(last, 4, _date_text(row.letter_date), plain, centre)
        put(last, 5, row.subject)
        put(last, 6, row.keeping)
        put(last, 7, row.remarks)
    ws.auto_filter.ref = f"A4:{get_column_letter(len(sheet.columns))}{last}"
    at = last + 2
    put(at, 1, f"รวม {len(sheet.rows)} รายการ", plain, Alignment())
    signatories = [*sheet.committee, *([sheet.approval] if sheet.approval is not None else [])]
    if signatories:
        at += 2
        put(at, 1, "ผู้ลงนาม", bold, Alignment())
        for s in signatories:
            at += 1
            put(at, 2, s.role, plain, Alignment())
            put(at, 5, s.name or "(ลงชื่อ) ................................", plain, Alignment())
            put(at, 6, f"ตำแหน่ง {s.position}" if s.position else "ตำแหน่ง ................", plain, Alignment())
            notes = [f"{s.signed_word} {_date_text(s.signed_on)}" if s.signed_on else "", s.note]
            put(at, 7, _remarks(*notes), plain, Alignment())
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _file(sheet: RecordsListSheet, fmt: ListFormat) -> bytes:
    return render_records_list(sheet) if fmt == "pdf" else _write_xlsx(sheet)


def destruction_list_file(organisation: Organisation, year: int, fmt: str, *,
                          cleared: Collection[str] | None = None) -> bytes:
    """The บัญชีหนังสือขอทำลาย (แบบที่ 25) of ``organisation`` for ``year`` (พ.ศ.) as ``fmt`` ("pdf" or "xlsx").

    The list drawn up for that year, with its decisions, committee and approval; or, when none was
    drawn up yet, a draft of what is due by the end of the year. ``ValidationFailed`` for a bad format
    or year; ``saraban.rendering.engine.RenderError`` if Typst fails on the PDF.
    """
    kind = check_format(fmt)
    return _file(destruction_sheet(organisation, check_year(year), cleared=cleared), kind)


def storage_list_file(case: Case, fmt: str) -> bytes:
    """The บัญชีหนังสือส่งเก็บ (แบบที่ 19) of a completed ``case`` as ``fmt`` ("pdf" or "xlsx").

    ``ValidationFailed`` for a bad format; ``StateRefused`` for a case still in progress.
    """
    kind = check_format(fmt)
    return _file(storage_sheet(case), kind)

