"""Every transition of the outgoing workflow, allowed and refused."""

from __future__ import annotations

import datetime as dt

import pytest

from saraban.audit.selectors import events_for
from saraban.core.errors import PermissionRefused, StateRefused, ValidationFailed
from saraban.correspondence.models import Letter, LetterStatus, ReviewStatus
from saraban.correspondence.services import create_letter, issue_number
from saraban.correspondence.workflow import (
    approve_review,
    close_letter,
    return_for_changes,
    set_recipients,
    sign_letter,
    submit_for_review,
)
from saraban.directory.models import Organisation, Person
from saraban.directory.services import appoint_acting, assign_role, create_person
from saraban.documents.services import read_file
from saraban.documents.storage import sha256_hex
from saraban.exchange.services import send_letter
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import Signature

from .helpers import PASSWORD, numbered, signed
from .test_letters import example


@pytest.fixture
def reviewers(agency: Organisation) -> list[Person]:
    people = []
    for i, position in enumerate(("ผู้อำนวยการกองพัฒนาระบบบริหาร", "ผู้ตรวจราชการ")):
        person = create_person(username=f"reviewer{i}", name_th=f"นางผู้ตรวจ ที่{i + 1}", password=PASSWORD)
        assign_role(person, agency, "reviewer", position_title=position)
        people.append(person)
    return people


@pytest.fixture
def draft(agency: Organisation, clerk: Person) -> Letter:
    return create_letter(agency, example("external"), author=clerk)


@pytest.mark.django_db
def test_reviewers_pass_the_letter_on_in_order(
    draft: Letter, clerk: Person, signer: Person, reviewers: list[Person]
) -> None:
    letter = submit_for_review(draft, actor=clerk, reviewers=reviewers, signer=signer)
    assert letter.status == LetterStatus.IN_REVIEW
    with pytest.raises(PermissionRefused) as refused:
        approve_review(letter, actor=reviewers[1])  # not yet their turn
    assert refused.value.code == "review.not_your_turn"
    letter = approve_review(letter, actor=reviewers[0], comment="ถูกต้อง")
    assert letter.status == LetterStatus.IN_REVIEW
    letter = approve_review(letter, actor=reviewers[1])
    assert letter.status == LetterStatus.APPROVED
    assert [s.status for s in letter.review_steps.all()] == [ReviewStatus.APPROVED, ReviewStatus.APPROVED]


@pytest.mark.django_db
def test_without_reviewers_a_submitted_letter_is_approved(draft: Letter, clerk: Person, signer: Person) -> None:
    assert submit_for_review(draft, actor=clerk, reviewers=[], signer=signer).status == LetterStatus.APPROVED


@pytest.mark.django_db
def test_a_reviewer_returns_the_letter_with_a_comment(
    draft: Letter, clerk: Person, signer: Person, reviewers: list[Person]
) -> None:
    letter = submit_for_review(draft, actor=clerk, reviewers=reviewers, signer=signer)
    with pytest.raises(ValidationFailed):
        return_for_changes(letter, actor=reviewers[0], comment="  ")
    letter = return_for_changes(letter, actor=reviewers[0], comment="แก้ไขวันที่ในย่อหน้าที่สอง")
    assert letter.status == LetterStatus.DRAFT and letter.returned_comment == "แก้ไขวันที่ในย่อหน้าที่สอง"
    assert [s.status for s in letter.review_steps.all()] == [ReviewStatus.RETURNED, ReviewStatus.WITHDRAWN]
    # The corrected draft goes round again, from the first reviewer.
    letter = submit_for_review(letter, actor=clerk, reviewers=reviewers, signer=signer)
    assert letter.returned_comment == "" and approve_review(letter, actor=reviewers[0]).status == "in_review"


@pytest.mark.django_db
def test_submission_checks_signer_and_reviewers(draft: Letter, clerk: Person, reviewers: list[Person]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        submit_for_review(draft, actor=clerk, reviewers=[], signer=None)
    assert refused.value.problems[0].field == "signer"
    with pytest.raises(ValidationFailed) as refused:
        submit_for_review(draft, actor=clerk, reviewers=[], signer=reviewers[0])
    assert refused.value.problems[0].code == "not_a_signer"
    with pytest.raises(ValidationFailed) as refused:
        submit_for_review(draft, actor=clerk, reviewers=[clerk], signer=None)
    assert Letter.objects.get(pk=draft.pk).status == LetterStatus.DRAFT


@pytest.mark.django_db
def test_signing_needs_the_signers_password_and_records_the_pdf_digest(
    draft: Letter, clerk: Person, signer: Person
) -> None:
    letter = submit_for_review(draft, actor=clerk, reviewers=[], signer=signer)
    with pytest.raises(PermissionRefused) as refused:
        sign_letter(letter, actor=signer, proof=SignerProof("wrong password"))
    assert refused.value.code == "signature.reauthentication_failed"
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED and not Signature.objects.exists()
    with pytest.raises(PermissionRefused):
        sign_letter(letter, actor=clerk, proof=SignerProof(PASSWORD))  # not the signer
    signature = sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))
    letter = Letter.objects.get(pk=letter.pk)
    assert letter.status == LetterStatus.SIGNED and signature.method == "typed_name"
    assert sha256_hex(read_file(signature.pdf_sha256)) == signature.pdf_sha256 == letter.pdf_id
    assert letter.letter_content.signer.mark.startswith("ลงนามอิเล็กทรอนิกส์")
    with pytest.raises(StateRefused):
        sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))  # already signed
    assert "letter.signed" in [e.action for e in events_for("letter", letter.pk)]


@pytest.mark.django_db
def test_an_acting_official_signs_with_the_acting_line(
    draft: Letter, clerk: Person, signer: Person, agency: Organisation
) -> None:
    deputy = create_person(username="deputy", name_th="นางสาวรักษา การแทน", password=PASSWORD)
    assign_role(deputy, agency, "signer", position_title="ผู้ตรวจราชการสำนักนายกรัฐมนตรี")
    letter = submit_for_review(draft, actor=clerk, reviewers=[], signer=signer)
    with pytest.raises(PermissionRefused):
        sign_letter(letter, actor=deputy, proof=SignerProof(PASSWORD))
    today = dt.date.today()
    appoint_acting(
        deputy, agency, position_title="ปลัดสำนักนายกรัฐมนตรี", starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=1), on_behalf_of=signer,
    )
    signature = sign_letter(letter, actor=deputy, proof=SignerProof(PASSWORD))
    assert signature.acting_line == "รักษาราชการแทนปลัดสำนักนายกรัฐมนตรี"
    content = Letter.objects.get(pk=letter.pk).letter_content
    assert content.signer.name == "นางสาวรักษา การแทน"
    assert content.signer.acting_for == "รักษาราชการแทนปลัดสำนักนายกรัฐมนตรี"


@pytest.mark.django_db
def test_only_a_signed_letter_is_numbered_and_only_by_the_registry(
    draft: Letter, clerk: Person, signer: Person
) -> None:
    with pytest.raises(StateRefused):
        issue_number(draft, actor=clerk)
    letter = signed(draft, author=clerk, signer=signer)
    with pytest.raises(PermissionRefused):
        issue_number(letter, actor=signer)  # signers do not hold the register
    assert issue_number(letter, actor=clerk).status == LetterStatus.NUMBERED


@pytest.mark.django_db
def test_a_stamped_letter_is_numbered_once_approved(agency: Organisation, clerk: Person, signer: Person) -> None:
    letter = create_letter(agency, example("stamped"), author=clerk)
    letter = submit_for_review(letter, actor=clerk, reviewers=[], signer=None)
    with pytest.raises(StateRefused):
        sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))
    assert issue_number(letter, actor=clerk).number == "นร 0105/ว 1"


@pytest.fixture
def other_org(ministry: Organisation) -> Organisation:
    from saraban.directory.services import create_organisation

    return create_organisation(
        identifier="nonthaburi", kind="provincial_office", name_th="จังหวัดนนทบุรี", letter_code="นบ 0017",
    )


@pytest.mark.django_db
def test_sending_needs_a_number_recipients_and_the_registry(
    draft: Letter, clerk: Person, signer: Person, other_org: Organisation
) -> None:
    with pytest.raises(StateRefused):
        send_letter(draft, actor=clerk)
    letter = numbered(draft, author=clerk, signer=signer, clerk=clerk)
    with pytest.raises(StateRefused) as refused:
        send_letter(letter, actor=clerk)
    assert refused.value.code == "letter.no_recipients"
    Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.DRAFT)
    set_recipients(letter, [other_org], [], actor=clerk)
    Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.NUMBERED)
    with pytest.raises(PermissionRefused):
        send_letter(letter, actor=signer)
    dispatches = send_letter(letter, actor=clerk)
    assert [d.recipient_id for d in dispatches] == [other_org.pk]
    letter = Letter.objects.get(pk=letter.pk)
    assert letter.status == LetterStatus.SENT and letter.pdf is not None
    with pytest.raises(StateRefused):
        send_letter(letter, actor=clerk)
    closed = close_letter(letter, actor=clerk)
    assert closed.status == LetterStatus.CLOSED
    with pytest.raises(StateRefused):
        close_letter(closed, actor=clerk)


@pytest.mark.django_db
def test_top_secret_letters_stay_off_the_wire_unless_allowed(
    agency: Organisation, clerk: Person, signer: Person, other_org: Organisation
) -> None:
    from saraban.access.models import DeploymentPolicy

    letter = create_letter(agency, example("external", secrecy="top_secret"), author=clerk)
    set_recipients(letter, [other_org], [], actor=clerk)
    letter = numbered(letter, author=clerk, signer=signer, clerk=clerk)
    with pytest.raises(StateRefused) as refused:
        send_letter(letter, actor=clerk)
    assert refused.value.code == "letter.top_secret_paper_only"
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.NUMBERED
    DeploymentPolicy.objects.create(allow_top_secret_electronic=True)
    assert len(send_letter(letter, actor=clerk)) == 1


@pytest.mark.django_db
def test_classified_letters_need_a_grant_or_a_part_in_them(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    from saraban.access.services import grant_secrecy, revoke_secrecy
    from saraban.correspondence.selectors import letters_visible_to

    colleague = create_person(username="colleague", name_th="นายเพื่อน ร่วมงาน", password=PASSWORD)
    assign_role(colleague, agency, "officer")
    secret = create_letter(agency, example("external", secrecy="secret"), author=clerk)
    plain = create_letter(agency, example("external"), author=clerk)
    assert set(letters_visible_to(colleague)) == {plain}
    assert set(letters_visible_to(clerk)) == {plain, secret}  # the author takes part in it
    grant_secrecy(colleague, agency, "confidential", actor=None)
    assert set(letters_visible_to(colleague)) == {plain}  # ลับ is below ลับมาก
    grant_secrecy(colleague, agency, "secret", actor=None)
    assert set(letters_visible_to(colleague)) == {plain, secret}
    revoke_secrecy(colleague, agency, actor=None)
    assert set(letters_visible_to(colleague)) == {plain}
