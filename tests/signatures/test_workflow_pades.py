"""The workflow's signing step with a registered certificate (PAdES), and batch signing.

A letter signed with PKI gets its number and date as it is signed (a signed PDF cannot change), its
PDF validates with the test PKI's root, and a wrong password burns no number. A batch signs many
letters with one password entry and can be resumed after an interruption.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings

from saraban.core.errors import PermissionRefused
from saraban.correspondence.batch import resume_batch, start_batch
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import return_for_changes, sign_letter, submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.documents.services import read_file
from saraban.registers.models import RegisterEntry
from saraban.signatures import batch as batch_service
from saraban.signatures.batch import batch_progress
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import ArchivedPdf, BatchStatus, ItemStatus, SignatureMethod, SigningCertificate
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.registry import register_pkcs12
from saraban.signatures.trust import trust_roots

from ..helpers import PASSWORD
from ..test_letters import example
from .pki import PASSWORD as P12_PASSWORD
from .pki import TestPki


@pytest.fixture
def certificate(pki: TestPki, agency: Organisation, signer: Person) -> SigningCertificate:
    data = pki.path("signer.p12").read_bytes()
    return register_pkcs12(organisation=agency, holder=signer, data=data, password=P12_PASSWORD, actor=signer)


@pytest.fixture
def trusting(pki: TestPki) -> Any:
    with override_settings(SARABAN_TRUST_ROOTS=[str(pki.path("root.cert.pem"))]):
        yield


def approved(agency: Organisation, clerk: Person, signer: Person, subject: str = "") -> Letter:
    changes = {"subject": subject} if subject else {}
    letter = create_letter(agency, example("external", **changes), author=clerk)
    return submit_for_review(letter, actor=clerk, reviewers=[], signer=signer)


@pytest.mark.django_db
def test_a_pades_signature_numbers_the_letter_and_validates(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate, trusting: None,
) -> None:
    letter = approved(agency, clerk, signer)
    signature = sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.NUMBERED
    assert letter.number == "นร 0105/1"
    assert letter.pdf is not None and letter.pdf.sha256 == signature.pdf_sha256
    assert signature.method == SignatureMethod.PADES and signature.level == "B-B"
    assert signature.certificate == certificate and len(signature.rendered_sha256) == 64
    assert RegisterEntry.objects.get(letter=letter).letter_number == "นร 0105/1"
    report = verify_pdf(read_file(signature.pdf_sha256), trust_roots())
    assert report.indication == "TOTAL_PASSED", report
    assert [s.level for s in report.signatures] == ["B-B"]


@pytest.mark.django_db
def test_a_wrong_password_burns_no_number(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer)
    with pytest.raises(PermissionRefused) as refused:
        sign_letter(letter, actor=signer, proof=SignerProof("not-the-password"), certificate=certificate)
    assert refused.value.code == "key.pkcs12_unlock_failed"
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED and not letter.number
    assert not RegisterEntry.objects.exists()
    sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    assert Letter.objects.get(pk=letter.pk).number == "นร 0105/1"


@pytest.mark.django_db
def test_nobody_signs_with_another_persons_certificate(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    deputy = create_person(username="deputy", name_th="นายรอง ลงนาม", password=PASSWORD)
    assign_role(deputy, agency, "signer", position_title="ผู้ช่วยปลัด")
    letter = approved(agency, clerk, deputy)
    with pytest.raises(PermissionRefused) as refused:
        sign_letter(letter, actor=deputy, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    assert refused.value.code == "signature.certificate_unusable"


@pytest.mark.django_db
def test_b_lta_with_the_tsa_and_the_archive_tracks_it(
    pki: TestPki, agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
    trusting: None, django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    letter = approved(agency, clerk, signer)
    with override_settings(SARABAN_PADES={"tsa_url": pki.tsa_url, "level": ""}), \
            django_capture_on_commit_callbacks(execute=True):
        signature = sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    assert signature.level == "B-LTA"
    report = verify_pdf(read_file(signature.pdf_sha256), trust_roots())
    assert report.indication == "TOTAL_PASSED", report
    assert report.signatures[0].level == "B-LTA"
    assert ArchivedPdf.objects.filter(original__sha256=signature.pdf_sha256).exists()


@pytest.mark.django_db
def test_a_batch_signs_every_letter_with_one_password(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate, trusting: None,
) -> None:
    letters = [approved(agency, clerk, signer, f"เรื่องที่ {n}") for n in range(1, 5)]
    batch = start_batch(
        signer=signer, organisation=agency, letter_ids=[x.pk for x in letters],
        proof=SignerProof(P12_PASSWORD), certificate=certificate, background=False,
    )
    progress = batch_progress(batch)
    assert (progress.total, progress.signed, progress.failed, progress.status) == (4, 4, 0, BatchStatus.DONE)
    numbers = [Letter.objects.get(pk=x.pk).number for x in letters]
    assert numbers == [f"นร 0105/{n}" for n in range(1, 5)]
    for letter in letters:
        pdf = read_file(Letter.objects.get(pk=letter.pk).pdf_id)  # type: ignore[arg-type]
        assert verify_pdf(pdf, trust_roots()).indication == "TOTAL_PASSED"


@pytest.mark.django_db
def test_a_wrong_password_starts_no_batch(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer)
    with pytest.raises(PermissionRefused):
        start_batch(signer=signer, organisation=agency, letter_ids=[letter.pk], proof=SignerProof("wrong"),
                    certificate=certificate, background=False)
    assert not batch_service.SigningBatch.objects.exists()
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED


@pytest.mark.django_db
def test_only_letters_awaiting_my_signature_go_into_a_batch(
    agency: Organisation, clerk: Person, signer: Person,
) -> None:
    draft = create_letter(agency, example("external"), author=clerk)
    with pytest.raises(PermissionRefused) as refused:
        start_batch(signer=signer, organisation=agency, letter_ids=[draft.pk], proof=SignerProof(PASSWORD),
                    background=False)
    assert refused.value.code == "batch.not_signable"


@pytest.mark.django_db
def test_an_interrupted_batch_resumes_where_it_stopped(
    agency: Organisation, clerk: Person, signer: Person, monkeypatch: pytest.MonkeyPatch,
) -> None:
    letters = [approved(agency, clerk, signer, f"เรื่องที่ {n}") for n in range(1, 4)]
    # The second letter is sent back while the batch runs: it fails, the others are signed.
    from saraban.correspondence import workflow

    real_sign = workflow.sign_letter

    def sign_but_second_returned(letter: Letter, **kwargs: Any) -> Any:
        if letter.pk == letters[1].pk and not getattr(sign_but_second_returned, "done", False):
            sign_but_second_returned.done = True  # type: ignore[attr-defined]
            return_for_changes(letter, actor=signer, comment="แก้ไขวันที่")
        return real_sign(letter, **kwargs)

    monkeypatch.setattr(workflow, "sign_letter", sign_but_second_returned)
    batch = start_batch(signer=signer, organisation=agency, letter_ids=[x.pk for x in letters],
                        proof=SignerProof(PASSWORD), background=False)
    progress = batch_progress(batch)
    assert (progress.signed, progress.failed, progress.status) == (2, 1, BatchStatus.INTERRUPTED)
    failed = batch.items.get(status=ItemStatus.FAILED)
    assert failed.letter_id == letters[1].pk and "สถานะ" in failed.error
    # Back for signature: resume signs only what is left (typed name: the sign-in password again).
    submit_for_review(Letter.objects.get(pk=letters[1].pk), actor=clerk, reviewers=[], signer=signer)
    with pytest.raises(PermissionRefused):
        resume_batch(batch, actor=signer, proof=SignerProof("wrong"), background=False)
    resume_batch(batch, actor=signer, proof=SignerProof(PASSWORD), background=False)
    progress = batch_progress(batch)
    assert (progress.signed, progress.failed, progress.status) == (3, 0, BatchStatus.DONE)
    assert all(Letter.objects.get(pk=x.pk).status == LetterStatus.SIGNED for x in letters)


@pytest.mark.django_db
def test_the_qr_code_of_a_signed_letter_opens_its_verification(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate, trusting: None,
) -> None:
    from django.test import Client

    signature = sign_letter(approved(agency, clerk, signer), actor=signer, proof=SignerProof(P12_PASSWORD),
                            certificate=certificate)
    page = Client().get(f"/verify?d={signature.rendered_sha256}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "นร 0105/1" in html and "ถูกต้อง" in html


@pytest.mark.django_db
def test_a_stamped_letter_is_sealed_with_the_organisation_seal_when_numbered(
    pki: TestPki, agency: Organisation, clerk: Person, softhsm: dict[str, str], trusting: None,
) -> None:
    from saraban.correspondence.services import issue_number
    from saraban.directory.services import assign_role as give_role
    from saraban.signatures.registry import register_token

    admin = create_person(username="admin", name_th="นางผู้ดูแล ระบบ", password=PASSWORD)
    give_role(admin, agency, "org_admin", position_title="นักวิชาการคอมพิวเตอร์")
    with override_settings(SARABAN_SEAL_PINS={softhsm["token_label"]: softhsm["pin"]}):
        seal = register_token(
            organisation=agency, holder=None, lib=softhsm["lib"], token_label=softhsm["token_label"],
            key_label="seal", pin=softhsm["pin"], actor=admin, seal=True,
            chain_pem=pki.path("interm.cert.pem").read_text(),  # the token holds only the seal's own certificate
        )
        letter = create_letter(agency, example("stamped"), author=clerk)
        letter = submit_for_review(letter, actor=clerk, reviewers=[], signer=None)
        letter = issue_number(letter, actor=clerk)
    assert letter.status == LetterStatus.NUMBERED and letter.pdf is not None
    signature = letter.signatures.get()
    assert signature.certificate == seal and signature.role == "seal"
    report = verify_pdf(read_file(letter.pdf.sha256), trust_roots())
    assert report.indication == "TOTAL_PASSED", report


@pytest.mark.django_db
def test_a_seal_without_its_pin_refuses_the_numbering_and_says_why(
    agency: Organisation, clerk: Person, softhsm: dict[str, str],
) -> None:
    from saraban.correspondence.services import issue_number
    from saraban.signatures.registry import register_token

    admin = create_person(username="admin", name_th="นางผู้ดูแล ระบบ", password=PASSWORD)
    assign_role(admin, agency, "org_admin", position_title="นักวิชาการคอมพิวเตอร์")
    register_token(organisation=agency, holder=None, lib=softhsm["lib"], token_label=softhsm["token_label"],
                   key_label="seal", pin=softhsm["pin"], actor=admin, seal=True)
    letter = submit_for_review(create_letter(agency, example("stamped"), author=clerk), actor=clerk, reviewers=[],
                               signer=None)
    with pytest.raises(PermissionRefused) as refused:
        issue_number(letter, actor=clerk)
    assert refused.value.code == "key.seal_pin_missing"
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED


@pytest.mark.django_db
def test_a_signed_letter_travels_as_signed_and_the_receiver_keeps_its_report(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate, trusting: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from saraban.correspondence.workflow import set_recipients
    from saraban.directory.services import create_organisation
    from saraban.exchange.services import send_letter
    from saraban.inbox.models import IncomingLetter
    from saraban.inbox.receipts import record_receipt_validation

    city = create_organisation(identifier="city", kind="municipality", name_th="เทศบาลนครนนทบุรี",
                               letter_code="นบ 52001", category="lao")
    draft = create_letter(agency, example("external"), author=clerk)
    set_recipients(draft, [city], [], actor=clerk)
    letter = submit_for_review(draft, actor=clerk, reviewers=[], signer=signer)
    signature = sign_letter(letter, actor=signer, proof=SignerProof(P12_PASSWORD), certificate=certificate)
    with django_capture_on_commit_callbacks(execute=False):
        send_letter(Letter.objects.get(pk=letter.pk), actor=clerk)
    incoming = IncomingLetter.objects.get(organisation=city)
    assert incoming.original_id == signature.pdf_sha256  # not rendered again: the signature is intact
    assert Letter.objects.get(pk=letter.pk).pdf_id == signature.pdf_sha256
    record = record_receipt_validation(incoming.pk)
    assert record is not None and record.indication == "TOTAL_PASSED"


@pytest.mark.django_db
def test_no_secret_is_kept_or_shown(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from django.core import serializers

    from saraban.audit.models import AuditEvent
    from saraban.signatures.models import Signature, SigningBatch, SigningBatchItem

    assert P12_PASSWORD not in repr(SignerProof(P12_PASSWORD))
    letters = [approved(agency, clerk, signer, f"เรื่องที่ {n}") for n in range(2)]
    start_batch(signer=signer, organisation=agency, letter_ids=[x.pk for x in letters],
                proof=SignerProof(P12_PASSWORD), certificate=certificate, background=False)
    with pytest.raises(PermissionRefused):
        sign_letter(approved(agency, clerk, signer), actor=signer, proof=SignerProof("wrong-" + P12_PASSWORD),
                    certificate=certificate)
    kept = serializers.serialize("json", [
        *AuditEvent.objects.all(), *Signature.objects.all(), *SigningBatch.objects.all(),
        *SigningBatchItem.objects.all(), *SigningCertificate.objects.all(),
    ])
    assert P12_PASSWORD not in kept and P12_PASSWORD not in caplog.text
