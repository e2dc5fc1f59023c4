"""The 20-year transfer (การส่งมอบหนังสือครบ 20 ปี, ระเบียบฯ ข้อ 58): a BagIt package for the National Archives.

Each year, the records that reached ``SARABAN_RECORDS['transfer_age_years']`` (20) years by its end and
were not destroyed are listed for handover by 31 January, and exported as one BagIt bag (RFC 8493).
Every record has a folder under ``data/records/`` with its files exactly as stored (signed bytes
untouched), its metadata as JSON and Dublin Core, the validation report kept on receipt, its long-term
renewals and its audit events. The layout is described in ``docs/archives.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import bagit
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from saraban.audit.selectors import events_for
from saraban.correspondence.selectors import files_of_letter, letter_pdf_of
from saraban.directory.models import Organisation
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file
from saraban.inbox.selectors import files_of_incoming, incoming_files_named
from saraban.signatures.selectors import renewal_facts, renewal_of
from saraban.signatures.validation import record_for as validation_record

from .letters import AUDIT_OBJECT_TYPES, letter_metadata
from .models import Record, RecordKind, RecordStatus
from .services import ensure_records

BAG_PROFILE = "Saraban records transfer 1.0"
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif",
               "text/plain": ".txt", "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx"}


def due_for_transfer(organisation_id: int, year_be: int) -> QuerySet[Record]:
    """Records not destroyed whose document is ``transfer_age_years`` old by the end of ``year_be`` (พ.ศ.)."""
    age = int(settings.SARABAN_RECORDS["transfer_age_years"])
    return Record.objects.filter(organisation_id=organisation_id, status=RecordStatus.KEPT,
                                 document_year__lte=year_be - age).order_by("document_year", "kind", "object_id")


def handover_deadline(year_be: int) -> dt.date:
    """The day the list of ``year_be`` must reach the National Archives (31 January of the next year)."""
    month, day = (int(p) for p in str(settings.SARABAN_RECORDS["transfer_deadline"]).split("-"))
    return dt.date(year_be - 543 + 1, month, day)


@dataclass(frozen=True)
class TransferSummary:
    """What a transfer bag holds."""

    path: Path
    records: int
    files: int
    bytes: int


def _extension(sha256: str) -> str:
    content_type = StoredFile.objects.filter(pk=sha256).values_list("content_type", flat=True).first() or ""
    return _EXTENSIONS.get(content_type, ".bin")


def _copy(sha256: str, target: Path) -> int:
    data = read_file(sha256)
    target.write_bytes(data)
    return len(data)


def _dublin_core(meta: dict[str, Any], identifier: str) -> str:
    fields = [("title", meta.get("subject")), ("identifier", identifier), ("identifier", meta.get("number")),
              ("date", meta.get("date")), ("creator", meta.get("creator")), ("type", "Text"),
              ("format", "application/pdf"), ("language", "th")]
    fields += [("contributor", r) for r in meta.get("recipients") or []]
    lines = [f"  <dc:{name}>{escape(str(value))}</dc:{name}>" for name, value in fields if value]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n' + "\n".join(lines) + "\n</metadata>\n")


def _files(record: Record) -> dict[str, str]:
    """The record's files by the name they get in its folder."""
    named: dict[str, str] = {}
    meta_files = files_of_letter(record.object_id) if record.kind == RecordKind.OUTGOING else set()
    if record.kind == RecordKind.OUTGOING:
        pdf = letter_pdf_of(record.object_id)
        if pdf:
            named["letter" + _extension(pdf)] = pdf
            renewed = renewal_of(pdf)
            if renewed and renewed != pdf:
                named["letter-renewed.pdf"] = renewed
        enclosures = sorted(meta_files - {pdf})
    else:
        pdf_files = incoming_files_named(record.object_id)
        named.update({f"letter{'-' + n if n != 'original' else ''}.pdf": s for n, s in pdf_files.items()})
        enclosures = sorted(files_of_incoming(record.object_id) - set(pdf_files.values()))
    for i, sha in enumerate(enclosures, start=1):
        named[f"enclosure-{i}{_extension(sha)}"] = sha
    if record.stored_copy_id:
        named["stored-copy.pdf"] = record.stored_copy_id
    return named


def _write_record(record: Record, folder: Path) -> tuple[int, int]:
    folder.mkdir(parents=True)
    files, size = 0, 0
    named = _files(record)
    for name, sha in named.items():
        size += _copy(sha, folder / name)
        files += 1
    meta = letter_metadata(record.kind, record.object_id)
    meta["record"] = {"retention": record.retention_class, "retention_years": record.retention_years,
                      "legal_basis": record.legal_basis, "document_year_be": record.document_year,
                      "keep_until_be": record.keep_until, "case": record.case_id}
    meta["files"] = {name: {"sha256": sha} for name, sha in named.items()}
    signed = named.get("letter.pdf")
    renewals = renewal_facts(signed) if signed and record.kind == RecordKind.OUTGOING else None
    if renewals is not None:
        meta["long_term_renewals"] = renewals  # PAdES B-LTA document timestamps added since signing
    validation_id = meta.pop("validation_id", None)
    if validation_id:
        found = validation_record(int(str(validation_id)), organisation_id=record.organisation_id)
        if found is not None:
            (folder / "validation-on-receipt.json").write_text(json.dumps({
                "validated_at": found.validated_at.isoformat(), "indication": found.indication,
                "sub_indication": found.sub_indication, "report": found.report,
            }, ensure_ascii=False, indent=1), encoding="utf-8")
    identifier = f"saraban:{record.kind}:{record.object_id}"
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str),
                                          encoding="utf-8")
    (folder / "dublin-core.xml").write_text(_dublin_core(meta, identifier), encoding="utf-8")
    events = events_for(AUDIT_OBJECT_TYPES[RecordKind(record.kind)], record.object_id) + events_for(
        "records.Record", record.pk)
    with (folder / "audit.jsonl").open("w", encoding="utf-8") as out:
        for e in sorted(events, key=lambda e: e.occurred_at):
            out.write(json.dumps({"at": e.occurred_at.isoformat(), "action": e.action, "actor": e.actor_label,
                                  "detail": e.detail, "chain": e.chain, "position": e.position, "hash": e.hash},
                                 ensure_ascii=False, default=str) + "\n")
    return files, size


def _handover_list(records: list[Record], folder: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "บัญชีส่งมอบ"
    sheet.append(["ลำดับที่", "ประเภท", "ที่", "ลงวันที่", "เรื่อง", "ปี พ.ศ.", "โฟลเดอร์"])
    rows = []
    for i, record in enumerate(records, start=1):
        meta = letter_metadata(record.kind, record.object_id)
        row = [i, "หนังสือส่ง" if record.kind == RecordKind.OUTGOING else "หนังสือรับ", meta.get("number") or "",
               meta.get("date") or "", meta.get("subject") or "", record.document_year,
               f"records/{record.kind}-{record.object_id}"]
        sheet.append(row)
        rows.append(row)
    book.save(folder / "handover-list.xlsx")
    (folder / "handover-list.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def export_transfer(organisation: Organisation, year_be: int, target: Path) -> TransferSummary:
    """Write the transfer bag of ``year_be`` to ``target`` (which must not exist); all or nothing.

    The bag is built beside ``target`` and renamed into place once it is complete and validates.
    """
    ensure_records(organisation.pk)  # letters never filed are records too
    records = list(due_for_transfer(organisation.pk, year_be))
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".saraban-transfer-", dir=target.parent))
    try:
        files = size = 0
        for record in records:
            written = _write_record(record, work / "records" / f"{record.kind}-{record.object_id}")
            files, size = files + written[0], size + written[1]
        _handover_list(records, work)
        bag = bagit.make_bag(str(work), {
            "Source-Organization": organisation.name_th,
            "Organization-Address": organisation.address.replace("\n", " "),
            "Contact-Email": organisation.email,
            "External-Identifier": f"saraban-transfer-{organisation.identifier}-{year_be}",
            "External-Description": f"หนังสือครบ {settings.SARABAN_RECORDS['transfer_age_years']} ปี ส่งมอบ"
                                    f"กองจดหมายเหตุแห่งชาติ ประจำปี พ.ศ. {year_be} (ระเบียบฯ ข้อ 58)",
            "Bagging-Date": timezone.localdate().isoformat(),
            "BagIt-Profile-Identifier": BAG_PROFILE,
            "Saraban-Records": str(len(records)),
            "Saraban-Handover-Deadline": handover_deadline(year_be).isoformat(),
        }, checksums=["sha256", "sha512"])
        bag.validate()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return TransferSummary(target, len(records), files, size)
