"""Receiving: delivery, registration with a stamped copy, paper letters, endorsement, acting on, closing."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import pytest

from saraban.access.policy import today
from saraban.core.errors import PermissionRefused, StateRefused, ValidationFailed
from saraban.core.thai import format_thai_date
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import set_recipients
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.documents.services import read_file
from saraban.exchange.models import Dispatch, DispatchStatus
from saraban.exchange.services import send_letter
from saraban.inbox import services as inbox
from saraban.inbox.models import AssignmentStatus, IncomingLetter, IncomingStatus
from saraban.registers.models import BookKind, RegisterEntry

from .helpers import PASSWORD, numbered
from .test_letters import example

# A 1×1 PNG: the smallest scanned "page".
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def pdftext(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def receiver(ministry: Organisation) -> dict[str, object]:
    org = create_organisation(
        identifier="nakhon-nonthaburi", kind="municipality", name_th="เทศบาลนครนนทบุรี", letter_code="นบ 52001",
    )
    unit = create_organisation(
        identifier="nakhon-nonthaburi-clerk", parent=org, kind="division", name_th="สำนักปลัดเทศบาล",
    )
    people = {}
    for username, role, where in (
        ("city.registry", "central_clerk", org), ("city.mayor", "signer", org), ("city.officer", "officer", unit),
    ):
        person = create_person(username=username, name_th=f"บุคลากร {username}", password=PASSWORD)
        assign_role(person, where, role, position_title="นายกเทศมนตรีนครนนทบุรี" if role == "signer" else "")
        people[username] = person
    return {"org": org, "unit": unit, **people}


@pytest.fixture
def delivered(agency: Organisation, clerk: Person, signer: Person, receiver: dict[str, object]) -> IncomingLetter:
    letter = create_letter(agency, example("external", urgency="most_urgent"), author=clerk)
    set_recipients(letter, [receiver["org"]], [], actor=clerk)  # type: ignore[list-item]
    letter = numbered(letter, author=clerk, signer=signer, clerk=clerk)
    send_letter(letter, actor=clerk)
    return IncomingLetter.objects.get(dispatch__letter=letter)


@pytest.mark.django_db
def test_a_sent_letter_arrives_in_the_recipients_inbox(delivered: IncomingLetter) -> None:
    assert delivered.status == IncomingStatus.DELIVERED and delivered.urgency_rank == 3
    assert delivered.letter_number == "นร 0105/1" and delivered.sender_name == "สำนักงานปลัดสำนักนายกรัฐมนตรี"
    assert pdftext(read_file(delivered.original_id)).replace(" ", "").find("นร๐๑๐๕/๑") >= 0


@pytest.mark.django_db
def test_registering_stamps_a_copy_and_reports_back(delivered: IncomingLetter, receiver: dict[str, object]) -> None:
    clerk = receiver["city.registry"]
    with pytest.raises(PermissionRefused):
        inbox.register(delivered, actor=receiver["city.officer"])  # type: ignore[arg-type]
    original_before = read_file(delivered.original_id)
    incoming = inbox.register(delivered, actor=clerk)  # type: ignore[arg-type]
    assert incoming.status == IncomingStatus.REGISTERED and incoming.receive_number == 1
    assert read_file(incoming.original_id) == original_before  # the original is never changed
    assert incoming.stamped_id and incoming.stamped_id != incoming.original_id
    stamped_text = pdftext(read_file(incoming.stamped_id))
    assert "เลขรับ" in stamped_text and "เทศบาลนครนนทบุรี" in stamped_text
    entry = RegisterEntry.objects.get(pk=incoming.receive_entry_id)
    assert entry.book.kind == BookKind.RECEIVE and entry.letter_number == "นร 0105/1"
    dispatch = Dispatch.objects.get(pk=incoming.dispatch_id)
    assert (dispatch.status, dispatch.receive_number) == (DispatchStatus.REGISTERED, "1")
    sent_entry = RegisterEntry.objects.get(letter=dispatch.letter, book__kind=BookKind.SEND)
    assert sent_entry.action == "เทศบาลนครนนทบุรี (ลงรับเลขที่ 1)"
    with pytest.raises(StateRefused):
        inbox.register(incoming, actor=clerk)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_opening_marks_received_for_the_sender(delivered: IncomingLetter, receiver: dict[str, object]) -> None:
    inbox.mark_opened(delivered, actor=receiver["city.officer"])  # type: ignore[arg-type]
    assert Dispatch.objects.get(pk=delivered.dispatch_id).status == DispatchStatus.DELIVERED
    inbox.mark_opened(delivered, actor=receiver["city.registry"])  # type: ignore[arg-type]
    assert Dispatch.objects.get(pk=delivered.dispatch_id).status == DispatchStatus.RECEIVED


@pytest.mark.django_db
def test_endorse_assign_act_and_close(delivered: IncomingLetter, receiver: dict[str, object]) -> None:
    clerk, mayor, officer = receiver["city.registry"], receiver["city.mayor"], receiver["city.officer"]
    incoming = inbox.register(delivered, actor=clerk)  # type: ignore[arg-type]
    due = dt.date.today() + dt.timedelta(days=7)
    with pytest.raises(PermissionRefused):
        inbox.endorse(incoming, actor=clerk, instruction="ทราบ")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as refused:
        inbox.endorse(incoming, actor=mayor, instruction="", assign=[inbox.AssignTo()])  # type: ignore[arg-type]
    assert {p.field for p in refused.value.problems} == {"instruction", "assign.0"}
    inbox.endorse(
        incoming, actor=mayor, instruction="ทราบ มอบสำนักปลัดดำเนินการ",  # type: ignore[arg-type]
        assign=[inbox.AssignTo(unit=receiver["unit"], due_date=due)],  # type: ignore[arg-type]
    )
    incoming = IncomingLetter.objects.get(pk=incoming.pk)
    assert incoming.status == IncomingStatus.ASSIGNED and incoming.due_date == due
    with pytest.raises(StateRefused):
        inbox.close(incoming, actor=clerk)  # type: ignore[arg-type]
    assignment = incoming.assignments.get()
    with pytest.raises(PermissionRefused):
        inbox.complete_assignment(assignment, actor=clerk, note="x")  # type: ignore[arg-type]
    unit_name = receiver["unit"].name_th  # type: ignore[attr-defined]
    line = RegisterEntry.objects.get(pk=incoming.receive_entry_id)
    assert line.action == f"มอบ {unit_name}"  # การปฏิบัติ of the receive register (issue 17, item 5)
    inbox.complete_assignment(assignment, actor=officer, note="แจ้งเวียนทุกกองแล้ว")  # type: ignore[arg-type]
    incoming = IncomingLetter.objects.get(pk=incoming.pk)
    assert incoming.status == IncomingStatus.ACTED and incoming.due_date is None
    assert incoming.assignments.get().status == AssignmentStatus.DONE
    assert RegisterEntry.objects.get(pk=line.pk).action == f"มอบ {unit_name} (ดำเนินการแล้ว)"
    assert inbox.close(incoming, actor=clerk).status == IncomingStatus.CLOSED  # type: ignore[arg-type]
    closed = RegisterEntry.objects.get(pk=line.pk).action
    assert closed == f"มอบ {unit_name} (ดำเนินการแล้ว) · ปิดเรื่อง {format_thai_date(today())}", closed


@pytest.mark.django_db
def test_returning_to_the_sender(delivered: IncomingLetter, receiver: dict[str, object]) -> None:
    clerk = receiver["city.registry"]
    with pytest.raises(ValidationFailed):
        inbox.return_to_sender(delivered, actor=clerk, reason=" ")  # type: ignore[arg-type]
    inbox.return_to_sender(delivered, actor=clerk, reason="ส่งผิดหน่วยงาน")  # type: ignore[arg-type]
    dispatch = Dispatch.objects.get(pk=delivered.dispatch_id)
    assert (dispatch.status, dispatch.returned_reason) == (DispatchStatus.RETURNED, "ส่งผิดหน่วยงาน")
    with pytest.raises(StateRefused):
        inbox.register(IncomingLetter.objects.get(pk=delivered.pk), actor=clerk)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_registering_a_paper_letter_from_scanned_pages(receiver: dict[str, object]) -> None:
    clerk, org = receiver["city.registry"], receiver["org"]
    paper = inbox.PaperLetter(
        sender_name="สำนักงานท้องถิ่นจังหวัดนนทบุรี", letter_number="นบ 0023.3/ว 1520",
        letter_date=dt.date(2026, 11, 20), subject="ขอความร่วมมือตอบแบบสำรวจ",
    )
    with pytest.raises(ValidationFailed) as refused:
        inbox.register_paper(org, paper, scans=[(b"not a pdf", "application/pdf")], actor=clerk)  # type: ignore[arg-type]
    assert refused.value.problems[0].field == "scan"
    with pytest.raises(ValidationFailed):
        inbox.register_paper(org, paper, scans=[(b"GIF89a", "image/gif")], actor=clerk)  # type: ignore[arg-type]
    for damaged in ([(b"%PDF-1.7\n% truncated", "application/pdf")], [(PNG[:20], "image/png")]):
        with pytest.raises(ValidationFailed) as refused:
            inbox.register_paper(org, paper, scans=damaged, actor=clerk)  # type: ignore[arg-type]
        assert refused.value.problems[0].code == "unreadable"
    assert IncomingLetter.objects.count() == 0
    incoming = inbox.register_paper(org, paper, scans=[(PNG, "image/png"), (PNG, "image/png")], actor=clerk)  # type: ignore[arg-type]
    assert incoming.source == "paper" and incoming.receive_number == 1
    assert read_file(incoming.original_id).startswith(b"%PDF") and incoming.stamped_id
    assert Letter.objects.count() == 0
