"""The 20-year transfer: a BagIt bag that validates, holding each record's files exactly as stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import bagit
import pytest

from saraban.correspondence.services import create_letter
from saraban.correspondence.tasks import render_letter_pdf
from saraban.directory.models import Organisation, Person
from saraban.documents.services import read_file, store_file
from saraban.inbox.services import PaperLetter, register_paper
from saraban.records import services as records
from saraban.records.models import Record, RecordStatus
from saraban.records.transfer import due_for_transfer, export_transfer, handover_deadline
from tests.api.test_api_inbox import blank_pdf
from tests.helpers import numbered
from tests.test_letters import example

pytestmark = pytest.mark.django_db


def _old(*records_: Record, year: int = 2548) -> None:
    Record.objects.filter(pk__in=[r.pk for r in records_]).update(document_year=year, keep_until=None,
                                                                  retention_class="permanent")


def test_a_transfer_bag_validates_and_keeps_the_bytes(
    agency: Organisation, clerk: Person, signer: Person, tmp_path: Path,
) -> None:
    enclosure = store_file(b"%PDF-1.4 enclosure of 2548", "application/pdf")
    letter = numbered(create_letter(agency, example("external", enclosures=[
        {"title": "แผนงาน", "sha256": enclosure.sha256, "filename": "plan.pdf"}]), author=clerk),
        author=clerk, signer=signer, clerk=clerk)
    render_letter_pdf.call(letter.pk)
    letter.refresh_from_db()
    paper = register_paper(agency, PaperLetter(sender_name="จังหวัดนนทบุรี", letter_number="นบ 0017/9",
                                               letter_date=dt.date(2005, 3, 1), subject="รายงานผลการดำเนินงาน"),
                           scans=[(blank_pdf(), "application/pdf")], actor=clerk)
    young = numbered(create_letter(agency, example("internal"), author=clerk), author=clerk, signer=signer,
                     clerk=clerk)
    records.ensure_records(agency.pk)
    sent, received = Record.objects.get(kind="out", object_id=letter.pk), Record.objects.get(kind="in",
                                                                                          object_id=paper.pk)
    _old(sent, received)
    destroyed = Record.objects.get(kind="out", object_id=young.pk)
    Record.objects.filter(pk=destroyed.pk).update(document_year=2540, status=RecordStatus.DESTROYED)
    assert {r.pk for r in due_for_transfer(agency.pk, 2568)} == {sent.pk, received.pk}
    assert handover_deadline(2568) == dt.date(2026, 1, 31)
    target = tmp_path / "transfer-2568"
    summary = export_transfer(agency, 2568, target)
    assert summary.records == 2 and summary.files >= 4
    bag = bagit.Bag(str(target))
    bag.validate()  # every payload file against manifest-sha256 and manifest-sha512
    assert bag.info["Source-Organization"] == agency.name_th and bag.info["Saraban-Records"] == "2"
    folder = target / "data" / "records" / f"out-{letter.pk}"
    pdf = (folder / "letter.pdf").read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == letter.pdf_id  # the signed bytes, untouched
    assert pdf == read_file(letter.pdf_id or "")
    assert (folder / "enclosure-1.pdf").read_bytes() == b"%PDF-1.4 enclosure of 2548"
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["number"] == letter.number and meta["record"]["retention"] == "permanent"
    assert meta["files"]["letter.pdf"]["sha256"] == letter.pdf_id
    assert "<dc:title>" in (folder / "dublin-core.xml").read_text(encoding="utf-8")
    actions = [json.loads(line)["action"] for line in (folder / "audit.jsonl").read_text().splitlines()]
    assert "letter.created" in actions and "letter.numbered" in actions
    paper_folder = target / "data" / "records" / f"in-{paper.pk}"
    assert (paper_folder / "letter.pdf").read_bytes() == read_file(paper.original_id)
    assert (paper_folder / "letter-stamped.pdf").exists()
    assert (target / "data" / "handover-list.xlsx").exists()
    assert not (target / "data" / "records" / f"out-{young.pk}").exists()  # destroyed: not handed over


def test_a_failed_export_leaves_nothing(agency: Organisation, clerk: Person, signer: Person, tmp_path: Path,
                                        monkeypatch: Any) -> None:
    letter = numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer,
                      clerk=clerk)
    render_letter_pdf.call(letter.pk)
    records.ensure_records(agency.pk)
    _old(Record.objects.get(kind="out", object_id=letter.pk))
    from saraban.records import transfer

    def broken(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(transfer, "_handover_list", broken)
    exports = tmp_path / "exports"
    with pytest.raises(OSError):
        export_transfer(agency, 2568, exports / "2568")
    assert list(exports.iterdir()) == []  # neither the bag nor its work folder


def test_the_transfer_command(agency: Organisation, clerk: Person, signer: Person, tmp_path: Path) -> None:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    letter = numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer,
                      clerk=clerk)
    render_letter_pdf.call(letter.pk)
    records.ensure_records(agency.pk)
    _old(Record.objects.get(kind="out", object_id=letter.pk))
    out = io.StringIO()
    call_command("records", "transfer", "--organisation", agency.identifier, "--year", "2568", "-o",
                 str(tmp_path / "bag"), stdout=out)
    assert "1 ฉบับ" in out.getvalue()
    bagit.Bag(str(tmp_path / "bag")).validate()
    for args in (["--year", "2568", "-o", str(tmp_path / "bag")],  # exists already
                 ["--year", "25x8", "-o", str(tmp_path / "other")]):
        with pytest.raises(CommandError) as refused:
            call_command("records", "transfer", "--organisation", agency.identifier, *args)
        assert refused.value.returncode == 2
    assert not (tmp_path / "other").exists()
