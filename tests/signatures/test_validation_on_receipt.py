"""On receipt of a letter its signatures' validation report is computed in the background and kept as it was.

A PAdES-signed letter from the test PKI is delivered to another organisation: the worker stores
TOTAL_PASSED with the letter, and changing the trust roots afterwards leaves the stored record as it
was. A typed-name letter is NO_SIGNATURE, a tampered one TOTAL_FAILED, a broken file is recorded (not
raised), and paper registrations get no report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from asn1crypto import x509
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from saraban.audit.models import AuditEvent
from saraban.correspondence.models import Letter
from saraban.correspondence.pdf import render_and_store
from saraban.directory.models import Organisation, Person
from saraban.documents.services import read_file, store_file
from saraban.exchange.models import Dispatch
from saraban.exchange.services import send_letter
from saraban.exchange.transports import InternalTransport, OutgoingLetter
from saraban.inbox.models import IncomingLetter, IncomingSource
from saraban.inbox.receipts import record_receipt_validation
from saraban.inbox.services import PaperLetter, register_paper
from saraban.inbox.tasks import validate_received_letter
from saraban.signatures.models import ValidationRecord
from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.sign import sign_pdf
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.validation import NO_SIGNATURE, present_report, record_for, validate_and_record
from tests.helpers import numbered
from tests.web import test_workflow_pages as workflow
from tests.web.test_workflow_pages import draft

from .conftest import minimal_pdf
from .pki import TestPki

other_org = workflow.other_org
other_clerk = workflow.other_clerk


@pytest.fixture
def trusted(settings: Any, pki: TestPki) -> None:
    """Saraban trusts the test PKI's root (and nothing else)."""
    settings.SARABAN_TRUST_ROOTS = [str(pki.path("root.cert.pem"))]


def numbered_letter(agency: Organisation, clerk: Person, signer: Person, to: Organisation, **changes: Any) -> Letter:
    """A numbered letter of ``agency`` addressed to ``to`` (not sent yet)."""
    return numbered(draft(agency, clerk, to=[to], **changes), author=clerk, signer=signer, clerk=clerk)


def deliver_pdf(
    letter: Letter, to: Organisation, pdf: bytes, django_capture_on_commit_callbacks: Any
) -> IncomingLetter:
    """Deliver ``pdf`` as ``letter`` to ``to`` the way the internal transport does; the task is enqueued on commit."""
    now = timezone.now()
    dispatch = Dispatch.objects.create(letter=letter, recipient=to, sent_at=now, status_at=now)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        InternalTransport().deliver(dispatch, OutgoingLetter(letter=letter, pdf=pdf))
    # The validation is queued once the delivery is committed (beside it, search indexes the new letter).
    assert len([c for c in callbacks if "receive_electronic" in c.__qualname__]) == 1
    return IncomingLetter.objects.get(dispatch=dispatch)


def pades_letter(letter: Letter, key: Pkcs12Key, pki: TestPki, roots: list[x509.Certificate]) -> bytes:
    """The letter's rendered PDF signed PAdES B-LT (revocation data embedded) with ``key``."""
    pdf = read_file(render_and_store(letter).sha256)
    return sign_pdf(pdf, key, level="B-LT", tsa_url=pki.tsa_url, trust_roots=roots)


def run_worker() -> None:
    """Run every queued task once, as ``saraban serve``'s worker does (transactional tests only)."""
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)


def run_queued_validations() -> int:
    """Run the queued validation tasks in this process (the worker closes the test's connection)."""
    queued = DBTaskResult.objects.filter(task_path__endswith="validate_received_letter", status="READY")
    for row in queued:
        validate_received_letter.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    return len(queued)


@pytest.mark.django_db
def test_a_signed_letter_is_validated_on_receipt_and_the_record_stays(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, pki: TestPki,
    roots: list[x509.Certificate], p12_key: Pkcs12Key, trusted: None, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    letter = numbered_letter(agency, clerk, signer, other_org)
    signed_pdf = pades_letter(letter, p12_key, pki, roots)
    incoming = deliver_pdf(letter, other_org, signed_pdf, django_capture_on_commit_callbacks)
    assert incoming.validation_id is None  # pending until the worker has run
    assert run_queued_validations() == 1
    incoming.refresh_from_db()
    record = record_for(incoming.validation_id, organisation_id=other_org.pk)
    assert record is not None, "the worker did not store a validation report"
    assert record.indication == "TOTAL_PASSED" and record.sub_indication == ""
    assert record.organisation_id == other_org.pk and record.pdf_id == incoming.original_id
    assert record.signature_count == 1
    sig = record.report["signatures"][0]
    assert sig["signer"] == "นายทดสอบ ลงนาม" and sig["level"] == "B-LT"
    assert sig["revocation_status"] == "good" and sig["revocation_source"] == "embedded"
    assert "ถูกต้อง เชื่อถือได้" in sig["explanation_th"]
    assert AuditEvent.objects.filter(action="incoming.validated", object_id=str(incoming.pk)).exists()
    # Nobody else's record: the receiving organisation's only.
    assert record_for(record.pk, organisation_id=agency.pk) is None

    # Later the trust roots change (say the test root is withdrawn): a fresh check now says otherwise,
    # but the report kept from the time of receipt does not change, and is not recomputed.
    settings.SARABAN_TRUST_ROOTS = [str(pki.path("root2.cert.pem"))]
    assert verify_pdf(signed_pdf, [pki.cert("root2", "th-untrusted")]).indication == "INDETERMINATE"
    validate_received_letter.call(incoming.pk)
    again = record_receipt_validation(incoming.pk)
    assert again is not None and again.pk == record.pk
    assert ValidationRecord.objects.count() == 1
    kept = ValidationRecord.objects.get(pk=record.pk)
    assert kept.indication == "TOTAL_PASSED" and kept.report == record.report
    assert kept.validated_at == record.validated_at


@pytest.mark.django_db
def test_a_typed_name_letter_is_recorded_as_no_signature(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, trusted: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    letter = numbered_letter(agency, clerk, signer, other_org)
    with django_capture_on_commit_callbacks(execute=True):
        send_letter(letter, actor=clerk)  # the real sending path, typed-name signature
    incoming = IncomingLetter.objects.get(dispatch__letter=letter)
    assert run_queued_validations() == 1
    incoming.refresh_from_db()
    record = record_for(incoming.validation_id, organisation_id=other_org.pk)
    assert record is not None and record.indication == NO_SIGNATURE and record.signature_count == 0
    assert "ไม่มีลายมือชื่อดิจิทัล" in record.report["explanation_th"]
    assert "no digital signature" in record.report["explanation_en"]
    shown = present_report(record.report)
    assert shown["tone"] == "neutral" and "ไม่มีลายมือชื่อดิจิทัล" in shown["verdict_th"]


@pytest.mark.django_db
def test_a_tampered_letter_is_recorded_as_failed(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, pki: TestPki,
    roots: list[x509.Certificate], p12_key: Pkcs12Key, trusted: None, django_capture_on_commit_callbacks: Any,
) -> None:
    original = minimal_pdf(b"0 0 m 100 100 l S")
    signed_pdf = sign_pdf(original, p12_key)
    at = signed_pdf.index(b"100 100 l")
    tampered = signed_pdf[:at] + b"101" + signed_pdf[at + 3:]
    letter = numbered_letter(agency, clerk, signer, other_org)
    incoming = deliver_pdf(letter, other_org, tampered, django_capture_on_commit_callbacks)
    assert validate_received_letter.call(incoming.pk) == "TOTAL_FAILED"
    incoming.refresh_from_db()
    record = record_for(incoming.validation_id, organisation_id=other_org.pk)
    assert record is not None and record.indication == "TOTAL_FAILED"
    assert record.report["signatures"][0]["sub_indication"] == "HASH_FAILURE"
    shown = present_report(record.report)
    assert shown["tone"] == "bad" and "ไม่ผ่าน" in shown["verdict_th"]
    assert "ถูกแก้ไขหลังลงนาม" in shown["signatures"][0]["reason_th"]


@pytest.mark.django_db
def test_a_broken_file_is_recorded_not_raised(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, trusted: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    letter = numbered_letter(agency, clerk, signer, other_org)
    for n, data in enumerate([b"%PDF-1.7\n1 0 obj << /Type /Catalog", b"not a pdf at all", b"%PDF-1.7\n"]):
        stored = store_file(data, "application/pdf")
        record = validate_and_record(stored, organisation_id=other_org.pk)
        assert record.indication == "TOTAL_FAILED" and record.sub_indication == "FORMAT_FAILURE", n
        assert record.report["explanation_th"].startswith("ตรวจสอบไม่ได้")
    incoming = deliver_pdf(letter, other_org, b"%PDF-1.4 truncated", django_capture_on_commit_callbacks)
    assert validate_received_letter.call(incoming.pk) == "TOTAL_FAILED"


@pytest.mark.django_db
def test_the_time_of_validation_is_recorded(other_org: Organisation, trusted: None) -> None:
    moment = dt.datetime(2026, 11, 26, 7, 5, tzinfo=dt.UTC)
    record = validate_and_record(store_file(minimal_pdf(), "application/pdf"), organisation_id=other_org.pk,
                                 at=moment)
    assert record.validated_at == moment and record.indication == NO_SIGNATURE


@pytest.mark.django_db
def test_paper_registrations_get_no_report(
    other_org: Organisation, other_clerk: Person, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        paper = register_paper(other_org, PaperLetter(
            sender_name="อำเภอเมือง", letter_number="นบ 0017/1", letter_date=None, subject="หนังสือกระดาษ",
        ), scans=[(minimal_pdf(), "application/pdf")], actor=other_clerk)
    assert paper.source == IncomingSource.PAPER
    assert not DBTaskResult.objects.filter(task_path__endswith="validate_received_letter").exists()
    assert record_receipt_validation(paper.pk) is None
    assert validate_received_letter.call(paper.pk) == ""
    assert IncomingLetter.objects.get(pk=paper.pk).validation_id is None
    assert not ValidationRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_validates_after_the_send_transaction_commits(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation, trusted: None
) -> None:
    letter = numbered_letter(agency, clerk, signer, other_org)
    send_letter(letter, actor=clerk)
    incoming = IncomingLetter.objects.get(dispatch__letter=letter)
    assert incoming.validation_id is None
    run_worker()
    incoming.refresh_from_db()
    assert incoming.validation_id is not None
    assert ValidationRecord.objects.get(pk=incoming.validation_id).indication == NO_SIGNATURE


def test_a_lost_validation_is_queued_again(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from saraban.inbox.tasks import enqueue_missing_validations

    letter = numbered_letter(agency, clerk, signer, other_org)
    incoming = deliver_pdf(letter, other_org, minimal_pdf(), django_capture_on_commit_callbacks)
    assert enqueue_missing_validations() == 0  # just delivered: its task may still be on its way
    IncomingLetter.objects.filter(pk=incoming.pk).update(delivered_at=timezone.now() - dt.timedelta(minutes=11))
    assert enqueue_missing_validations() == 1
