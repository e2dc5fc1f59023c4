"""Keeping records: the file plan (with its CSV import), cases, filing letters, retention, legal holds.

Each write checks ``can_keep_records`` and leaves an audit event. A record's retention comes from its
file, or from an override that must give its reason; a destroyed record cannot be changed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, StateRefused, ValidationFailed, enforce
from saraban.core.spreadsheets import neutralise_row, restore
from saraban.directory.models import Organisation, Person
from saraban.documents.services import max_file_bytes, read_file, store_file
from saraban.rendering.stamps import PdfError, render_retention_stamp, stamp_first_page

from .letters import LetterFacts, letter_facts, unrecorded
from .models import Case, CaseStage, FilePlanEntry, HoldReason, LegalHold, Record, RecordStatus
from .permissions import can_keep_records
from .retention import Retention, RetentionClass, buddhist_year, keep_until_year

FILE_PLAN_COLUMNS = ("code", "title", "parent", "retention", "years", "legal_basis")
# How a retention may be written in the CSV (and the forms): the class's value, its years, or its Thai name.
RETENTION_WORDS = {
    "1y": RetentionClass.ONE_YEAR, "1": RetentionClass.ONE_YEAR, "5y": RetentionClass.FIVE_YEARS,
    "5": RetentionClass.FIVE_YEARS, "10y": RetentionClass.TEN_YEARS, "10": RetentionClass.TEN_YEARS,
    "permanent": RetentionClass.PERMANENT, "ห้ามทำลาย": RetentionClass.PERMANENT, "law": RetentionClass.BY_LAW,
    "กฎหมาย": RetentionClass.BY_LAW,
}
MAX_FILE_PLAN_ROWS = 20_000


def default_retention() -> Retention:
    """The retention of a letter not filed in any case (``SARABAN_RECORDS['default_retention']``, 10 years)."""
    return Retention(RetentionClass(settings.SARABAN_RECORDS["default_retention"]))


def check_retention(retention: Retention, *, field: str = "retention") -> list[FieldProblem]:
    """What is wrong with a retention: a period by law needs its years (1–200) and its legal basis."""
    if retention.retention_class != RetentionClass.BY_LAW:
        return []
    problems = []
    if retention.years is None or not 1 <= retention.years <= 200:
        problems.append(FieldProblem(f"{field}.years", "years", "ระยะเวลาเก็บตามกฎหมายต้องเป็น 1 ถึง 200 ปี",
                                     "A period set by law must be 1 to 200 years"))
    if not retention.legal_basis.strip():
        problems.append(FieldProblem(f"{field}.legal_basis", "required", "ต้องระบุกฎหมายหรือระเบียบที่กำหนดระยะเวลาเก็บ",
                                     "Name the law or rule that sets the period"))
    return problems


def _retention_of(entry: FilePlanEntry) -> Retention:
    return Retention(RetentionClass(entry.retention_class), entry.retention_years, entry.legal_basis)


@dataclass(frozen=True)
class _PlanRow:
    line: int
    code: str
    title: str
    parent: str
    retention: Retention


def _plan_rows(text: str) -> tuple[list[_PlanRow], list[FieldProblem]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("code", "title") if c not in (reader.fieldnames or [])]
    if missing:
        return [], [FieldProblem("header", "columns", f"ไฟล์ต้องมีคอลัมน์ {', '.join(FILE_PLAN_COLUMNS)}",
                                 f"The file needs the columns {', '.join(FILE_PLAN_COLUMNS)}")]
    rows, problems, seen = [], [], set()
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_FILE_PLAN_ROWS:
            problems.append(FieldProblem("file", "too_many", f"แฟ้มเกิน {MAX_FILE_PLAN_ROWS:,} แถว",
                                         f"More than {MAX_FILE_PLAN_ROWS:,} rows"))
            break
        raw = {k: restore(v or "") if isinstance(v, str) else v for k, v in raw.items()}
        code, title = (raw.get("code") or "").strip(), (raw.get("title") or "").strip()
        where = f"row {line}"
        if not code or not title:
            problems.append(FieldProblem(where, "required", f"แถว {line}: ต้องมีรหัสแฟ้มและชื่อแฟ้ม",
                                         f"Row {line}: the code and the title are required"))
            continue
        if code in seen:
            problems.append(FieldProblem(where, "duplicate", f"แถว {line}: รหัสแฟ้ม {code} ซ้ำ",
                                         f"Row {line}: the code {code} appears twice"))
        seen.add(code)
        word = (raw.get("retention") or "10y").strip().lower()
        retention_class = RETENTION_WORDS.get(word)
        if retention_class is None:
            problems.append(FieldProblem(where, "retention", f"แถว {line}: อายุการเก็บ {word!r} ไม่รู้จัก "
                                         "(ใช้ 1y, 5y, 10y, permanent หรือ law)",
                                         f"Row {line}: unknown retention {word!r} (use 1y, 5y, 10y, permanent or law)"))
            continue
        years_text = (raw.get("years") or "").strip()
        years = int(years_text) if years_text.isdigit() else None
        by_law = retention_class == RetentionClass.BY_LAW
        retention = Retention(retention_class, years if by_law else None,
                              (raw.get("legal_basis") or "").strip() if by_law else "")
        problems += [FieldProblem(where, p.code, f"แถว {line}: {p.message_th}", f"Row {line}: {p.message_en}")
                     for p in check_retention(retention)]
        rows.append(_PlanRow(line, code, title[:300], (raw.get("parent") or "").strip(), retention))
    return rows, problems


def import_file_plan(organisation: Organisation, text: str, *, actor: Person) -> int:
    """Add or update the files of ``organisation``'s plan from CSV (``FILE_PLAN_COLUMNS``); how many rows.

    Every bad row is reported at once and nothing is written (``ValidationFailed``). A parent is
    named by its code, in the file or already in the plan.
    """
    enforce(can_keep_records(actor, organisation))
    rows, problems = _plan_rows(text)
    known = set(FilePlanEntry.objects.filter(organisation=organisation).values_list("code", flat=True))
    codes = known | {r.code for r in rows}
    for row in rows:
        if row.parent and row.parent not in codes:
            problems.append(FieldProblem(f"row {row.line}", "parent", f"แถว {row.line}: ไม่พบแฟ้มแม่ {row.parent}",
                                         f"Row {row.line}: no parent file {row.parent}"))
        if row.parent == row.code:
            problems.append(FieldProblem(f"row {row.line}", "parent", f"แถว {row.line}: แฟ้มเป็นแม่ของตัวเองไม่ได้",
                                         f"Row {row.line}: a file cannot be its own parent"))
    if problems or not rows:
        raise ValidationFailed(problems or [FieldProblem("file", "empty", "ไม่มีแฟ้มในไฟล์", "The file has no rows")])
    with transaction.atomic():
        by_code: dict[str, FilePlanEntry] = {}
        for row in rows:  # first every file, then the tree (a parent may come after its children)
            entry, _ = FilePlanEntry.objects.update_or_create(organisation=organisation, code=row.code, defaults={
                "title": row.title, "retention_class": row.retention.retention_class,
                "retention_years": row.retention.years, "legal_basis": row.retention.legal_basis, "active": True,
            })
            by_code[row.code] = entry
        for row in rows:
            parent = by_code.get(row.parent) or FilePlanEntry.objects.filter(
                organisation=organisation, code=row.parent).first() if row.parent else None
            FilePlanEntry.objects.filter(pk=by_code[row.code].pk).update(parent=parent)
        _no_cycles(organisation)
        record_event("records.file_plan_imported", object_type="records.FilePlan", object_id=organisation.pk,
                     organisation_id=organisation.pk, actor=actor, detail={"rows": len(rows)})
    return len(rows)


def _no_cycles(organisation: Organisation) -> None:
    parents = dict(FilePlanEntry.objects.filter(organisation=organisation).values_list("pk", "parent_id"))
    for start in parents:
        seen: set[int] = set()
        node: int | None = start
        while node is not None:
            if node in seen:
                raise ValidationFailed([FieldProblem("parent", "cycle", "แฟ้มวนเป็นแม่ของกันและกัน",
                                                     "The files' parents form a loop")])
            seen.add(node)
            node = parents.get(node)


def open_case(file: FilePlanEntry, title: str, *, actor: Person) -> Case:
    """Open a case (เรื่อง) in ``file``."""
    enforce(can_keep_records(actor, file.organisation_id))
    if not title.strip():
        raise ValidationFailed([FieldProblem("title", "required", "ต้องระบุชื่อเรื่อง", "The case needs a title")])
    case = Case.objects.create(organisation_id=file.organisation_id, file=file, title=title.strip()[:500],
                               opened_at=timezone.now(), opened_by=actor)
    record_event("records.case_opened", object_type="records.Case", object_id=case.pk,
                 organisation_id=case.organisation_id, actor=actor, detail={"file": file.code})
    return case


def _not_found() -> ValidationFailed:
    return ValidationFailed([FieldProblem("letter", "not_a_record", "หนังสือนี้ยังไม่เป็นหนังสือเก็บ (ยังไม่ออกเลขหรือยังไม่ลงรับ)",
                                          "This letter is not a record yet (not numbered, or not registered)")])


def _default_record(facts: LetterFacts) -> Record:
    """The record a letter gets before anyone files it: the default retention from its year (not saved)."""
    retention, year = default_retention(), buddhist_year(facts.date)
    return Record(organisation_id=facts.organisation_id, kind=facts.kind, object_id=facts.object_id,
                  retention_class=retention.retention_class, document_year=year,
                  keep_until=keep_until_year(year, retention), filed_at=timezone.now())


def unsaved_record(kind: str, object_id: int) -> Record | None:
    """The record the letter would get now (the default retention), not saved; None if it is not a record."""
    facts = letter_facts(kind, object_id)
    return None if facts is None else _default_record(facts)


def record_for(kind: str, object_id: int) -> Record:
    """The letter's record, made with the default retention if it has none yet (``ValidationFailed`` if
    the letter is not a record: a draft, a letter not registered)."""
    found = Record.objects.filter(kind=kind, object_id=object_id).first()
    if found is not None:
        return found
    record = unsaved_record(kind, object_id)
    if record is None:
        raise _not_found()
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:  # made meanwhile by another request
        return Record.objects.get(kind=kind, object_id=object_id)
    return record


def _changeable(record: Record) -> None:
    if record.status == RecordStatus.DESTROYED:
        raise StateRefused("records.destroyed", "หนังสือนี้ถูกทำลายแล้ว แก้ไขไม่ได้", "This record was destroyed")


def file_letter(kind: str, object_id: int, case: Case, *, actor: Person) -> Record:
    """File a letter in ``case``: it takes the retention of the case's file (ทะเบียนหนังสือเก็บ)."""
    enforce(can_keep_records(actor, case.organisation_id))
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record_for(kind, object_id).pk)
        _changeable(record)
        if record.organisation_id != case.organisation_id:
            raise _not_found()  # another organisation's letter: as if it did not exist
        retention = _retention_of(case.file)
        record.case, record.override_reason = case, ""
        record.retention_class, record.retention_years = retention.retention_class, retention.years
        record.legal_basis = retention.legal_basis
        record.keep_until = keep_until_year(record.document_year, retention)
        record.filed_by, record.filed_at = actor, timezone.now()
        record.save()
        record_event("records.filed", object_type="records.Record", object_id=record.pk,
                     organisation_id=record.organisation_id, actor=actor,
                     detail={"case": case.pk, "file": case.file.code, "keep_until": record.keep_until})
    return record


def override_retention(record: Record, retention: Retention, *, reason: str, actor: Person) -> Record:
    """Give one record another retention than its file's, with the reason (kept in the audit trail)."""
    enforce(can_keep_records(actor, record.organisation_id))
    problems = check_retention(retention)
    if not reason.strip():
        problems.append(FieldProblem("reason", "required", "ต้องระบุเหตุผลที่กำหนดอายุการเก็บต่างจากแฟ้ม",
                                     "Give the reason for a retention other than the file's"))
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        record = apply_retention(record, retention, reason=reason, actor=actor)
        if record.stored_copy_id:  # the stamp must say the new year
            stamp_stored_copy(record, actor=actor)
    return record


def apply_retention(record: Record, retention: Retention, *, reason: str, actor: Person) -> Record:
    """Set the record's retention (the caller checked who may); audited with the years before and after."""
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        _changeable(record)
        before = record.keep_until
        record.retention_class, record.retention_years = retention.retention_class, retention.years
        record.legal_basis, record.override_reason = retention.legal_basis, reason.strip()[:500]
        record.keep_until = keep_until_year(record.document_year, retention)
        record.save()
        record_event("records.retention_changed", object_type="records.Record", object_id=record.pk,
                     organisation_id=record.organisation_id, actor=actor,
                     detail={"from": before, "to": record.keep_until, "reason": record.override_reason})
    return record


def place_hold(record: Record, reason: HoldReason, detail: str, *, actor: Person) -> LegalHold:
    """Stop the record's destruction (a court case, an investigation, an audit) until released."""
    enforce(can_keep_records(actor, record.organisation_id))
    if not detail.strip():
        raise ValidationFailed([FieldProblem("detail", "required", "ต้องระบุรายละเอียด เช่น เลขคดีหรือคำสั่ง",
                                             "Give the detail, e.g. the case number or the order")])
    _changeable(record)
    hold = LegalHold.objects.create(record=record, reason=reason, detail=detail.strip()[:500], placed_by=actor,
                                    placed_at=timezone.now())
    record_event("records.hold_placed", object_type="records.Record", object_id=record.pk,
                 organisation_id=record.organisation_id, actor=actor, detail={"reason": reason, "hold": hold.pk})
    return hold


def release_hold(hold: LegalHold, *, note: str, actor: Person) -> LegalHold:
    """End a hold, saying why (the case is over, the audit closed)."""
    enforce(can_keep_records(actor, hold.record.organisation_id))
    if not note.strip():
        raise ValidationFailed([FieldProblem("note", "required", "ต้องระบุเหตุที่ยกเลิกการระงับ",
                                             "Say why the hold ends")])
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at is not None:
            raise StateRefused("records.hold_released", "ยกเลิกการระงับนี้ไปแล้ว", "This hold was released already")
        hold.released_at, hold.released_by, hold.release_note = timezone.now(), actor, note.strip()[:500]
        hold.save()
        record_event("records.hold_released", object_type="records.Record", object_id=hold.record_id,
                     organisation_id=hold.record.organisation_id, actor=actor, detail={"hold": hold.pk})
    return hold


def stamp_stored_copy(record: Record, *, actor: Person) -> Record:
    """Make the record's stored copy: its PDF with the ตรากำหนดเก็บหนังสือ at the bottom right of the first
    page (ข้อ 55), "เก็บถึง พ.ศ. …" or "ห้ามทำลาย" and the keeper's name. The original is never stamped;
    a letter without a PDF keeps none. ``ValidationFailed`` when the PDF cannot be stamped."""
    enforce(can_keep_records(actor, record.organisation_id))
    _changeable(record)
    facts = letter_facts(record.kind, record.object_id)
    if facts is None or not facts.pdf_sha256:
        return record
    organisation = Organisation.objects.get(pk=record.organisation_id)
    stamp = render_retention_stamp(record.keep_until, f"ลงชื่อ {actor.display_name}",
                                   thai_digits=organisation.thai_digits)
    try:
        copy = stamp_first_page(read_file(facts.pdf_sha256), stamp, corner="bottom-right")
    except PdfError as exc:
        raise ValidationFailed([FieldProblem(
            "pdf", "unreadable", "ประทับตรากำหนดเก็บบนไฟล์หนังสือนี้ไม่ได้",
            f"The retention stamp cannot be laid on this letter's PDF: {exc}")]) from None
    stored = store_file(copy, "application/pdf", max_bytes=max_file_bytes() + 1024 * 1024)
    Record.objects.filter(pk=record.pk).update(stored_copy=stored)
    record.stored_copy = stored
    record_event("records.stamped", object_type="records.Record", object_id=record.pk,
                 organisation_id=record.organisation_id, actor=actor, detail={"keep_until": record.keep_until})
    return record


def complete_case(case: Case, *, actor: Person) -> Case:
    """The case is done (เก็บเมื่อปฏิบัติเสร็จแล้ว, ข้อ 52): it moves to the completed stage, and each of its
    records gets its stored copy with the retention stamp."""
    enforce(can_keep_records(actor, case.organisation_id))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.stage != CaseStage.IN_PROGRESS:
            raise StateRefused("records.case_not_open", "เรื่องนี้ปิดไปแล้ว", "This case is closed already")
        case.stage, case.completed_at = CaseStage.COMPLETED, timezone.now()
        case.save()
        for record in case.records.all():
            stamp_stored_copy(record, actor=actor)
        record_event("records.case_completed", object_type="records.Case", object_id=case.pk,
                     organisation_id=case.organisation_id, actor=actor)
    return case


def ensure_records(organisation_id: int) -> int:
    """Give every letter of the organisation sent or received a record (default retention); how many new."""
    new = [_default_record(f) for f in unrecorded(organisation_id)]
    Record.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


def keep_for_audit(case: Case, *, actor: Person) -> Case:
    """A completed case is kept for audit (เก็บไว้เพื่อใช้ในการตรวจสอบ, ข้อ 52): the third kind of storage."""
    enforce(can_keep_records(actor, case.organisation_id))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.stage != CaseStage.COMPLETED:
            raise StateRefused("records.case_not_completed", "เก็บเพื่อตรวจสอบได้เฉพาะเรื่องที่ปฏิบัติเสร็จแล้ว",
                               "Only a completed case is kept for audit")
        case.stage = CaseStage.AUDIT
        case.save(update_fields=["stage"])
        record_event("records.case_kept_for_audit", object_type="records.Case", object_id=case.pk,
                     organisation_id=case.organisation_id, actor=actor)
    return case


def file_plan_csv(organisation_id: int) -> str:
    """The organisation's file plan as CSV in the columns ``import_file_plan`` reads: edit it, import it back."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FILE_PLAN_COLUMNS)
    entries = FilePlanEntry.objects.filter(organisation_id=organisation_id).select_related("parent")
    for entry in entries.order_by("code"):
        writer.writerow(neutralise_row([
            entry.code, entry.title, entry.parent.code if entry.parent else "", entry.retention_class,
            str(entry.retention_years or ""), entry.legal_basis,
        ]))
    return "\ufeff" + out.getvalue()  # with a BOM, so that a spreadsheet program reads it as UTF-8
