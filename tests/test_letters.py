"""Official letters: every type round-trips, validation names the field, numbering and corrections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saraban.audit.selectors import events_for, verify_all_chains
from saraban.core.errors import StateRefused, ValidationFailed
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import (
    cancel_letter,
    create_letter,
    issue_number,
    start_correction,
    update_letter,
)
from saraban.correspondence.workflow import submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.registers.models import EntryStatus, RegisterEntry
from saraban.regulation.content import LetterContent
from saraban.regulation.kinds import LetterType

from .helpers import numbered, signed

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "letters"


def example(name: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    data.pop("number", None)
    data.pop("date", None)
    data["issuer"] = {}  # taken from the directory
    return {**data, **changes}


def _numbered_example(name: str, agency: Organisation, clerk: Person, signer: Person) -> Letter:
    """The example letter ``name`` written by ``clerk``, signed by ``signer`` and numbered."""
    return numbered(create_letter(agency, example(name), author=clerk), author=clerk, signer=signer, clerk=clerk)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_every_example_letter_round_trips_through_the_database(
    name: str, agency: Organisation, clerk: Person
) -> None:
    letter = create_letter(agency, example(name), author=clerk)
    stored = Letter.objects.get(pk=letter.pk).letter_content
    source = LetterContent.model_validate(example(name))
    assert stored.type == source.type and stored.subtype == source.subtype
    assert stored.subject == source.subject and stored.body == source.body
    assert stored.issuer.name == agency.name_th and stored.issuer.letter_code == "นร 0105"
    assert letter.status == LetterStatus.DRAFT and letter.number == ""


@pytest.mark.django_db
def test_all_six_types_are_covered_by_the_examples() -> None:
    types = {json.loads(p.read_text(encoding="utf-8"))["type"] for p in EXAMPLES.glob("*.json")}
    assert types == {t.value for t in LetterType}


@pytest.mark.django_db
def test_a_missing_required_field_is_named_in_thai_and_english_at_submission(
    agency: Organisation, clerk: Person, signer: Person,
) -> None:
    """A draft is kept unfinished (issue 17, item 3); submitting it names what its type still lacks."""
    draft = create_letter(agency, example("external", subject="", signer={"name": "นายสมชาย ใจดี"}), author=clerk)
    assert Letter.objects.get(pk=draft.pk).status == LetterStatus.DRAFT
    with pytest.raises(ValidationFailed) as refused:
        submit_for_review(draft, actor=clerk, reviewers=[], signer=signer)
    problems = {p.field: p for p in refused.value.problems}
    assert set(problems) == {"subject", "signer.position"}
    assert problems["subject"].message_th == "ต้องระบุเรื่อง"
    assert problems["subject"].message_en == "The subject is required"
    assert Letter.objects.get(pk=draft.pk).status == LetterStatus.DRAFT


@pytest.mark.django_db
def test_malformed_fields_are_refused(agency: Organisation, clerk: Person) -> None:
    with pytest.raises(ValidationFailed) as refused:
        create_letter(agency, example("external", email="not-an-address", urgency="hurry"), author=clerk)
    assert {p.field for p in refused.value.problems} == {"urgency"}
    with pytest.raises(ValidationFailed) as refused:
        create_letter(agency, example("external", email="not-an-address"), author=clerk)
    assert [p.field for p in refused.value.problems] == ["email"]
    with pytest.raises(ValidationFailed) as refused:
        create_letter(agency, example("order", subtype=None), author=clerk)
    assert [p.code for p in refused.value.problems] == ["subtype.required"]


@pytest.mark.django_db(transaction=True)
def test_issuing_numbers_by_type(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    def make(name: str) -> Letter:
        return _numbered_example(name, agency, clerk, signer)

    external = make("external")
    circular = make("stamped")
    order = make("order")
    regulation = make("regulation")
    assert external.number == "นร 0105/1" and external.status == LetterStatus.NUMBERED and external.date
    assert circular.number == "นร 0105/ว 1"
    assert order.number.startswith("1/25")
    assert regulation.number == "" and regulation.status == LetterStatus.NUMBERED
    entry = RegisterEntry.objects.get(letter=external)
    assert (entry.subject, entry.letter_number) == (external.subject, "นร 0105/1")
    # Idempotent: asking again neither burns a number nor changes the letter.
    assert issue_number(external, actor=clerk).number == "นร 0105/1"
    assert RegisterEntry.objects.filter(letter=external).count() == 1
    assert verify_all_chains()[1] == []


@pytest.mark.django_db
def test_a_refused_letter_burns_no_number(agency: Organisation, clerk: Person, signer: Person) -> None:
    letter = signed(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer)
    Letter.objects.filter(pk=letter.pk).update(content={**letter.content, "closing": ""})
    with pytest.raises(ValidationFailed):
        issue_number(letter, actor=clerk)
    assert RegisterEntry.objects.count() == 0
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.SIGNED


@pytest.mark.django_db
def test_number_date_and_subject_are_fixed_once_numbered(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    def make(name: str) -> Letter:
        return _numbered_example(name, agency, clerk, signer)

    letter = make("external")
    with pytest.raises(StateRefused) as refused:
        update_letter(letter, {"subject": "เรื่องใหม่"}, actor=clerk)
    assert refused.value.code == "letter.fixed_after_numbering"
    assert [p.field for p in refused.value.problems] == ["subject"]
    assert Letter.objects.get(pk=letter.pk).subject == letter.subject


@pytest.mark.django_db
def test_drafts_can_be_edited_but_not_given_a_number_by_hand(agency: Organisation, clerk: Person) -> None:
    letter = create_letter(agency, example("external"), author=clerk)
    updated = update_letter(letter, {"subject": "ขอเชิญประชุมชี้แจง (แก้ไข)"}, actor=clerk)
    assert updated.subject == "ขอเชิญประชุมชี้แจง (แก้ไข)"
    with pytest.raises(ValidationFailed):
        update_letter(letter, {"number": "นร 0105/99"}, actor=clerk)
    assert [e.action for e in events_for("letter", letter.pk)] == ["letter.created", "letter.updated"]


@pytest.mark.django_db(transaction=True)
def test_a_correction_supersedes_the_original_when_numbered(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    def make(name: str) -> Letter:
        return _numbered_example(name, agency, clerk, signer)

    original = make("external")
    correction = start_correction(original, actor=clerk)
    assert correction.supersedes_id == original.pk and correction.status == LetterStatus.DRAFT
    with pytest.raises(StateRefused):
        start_correction(original, actor=clerk)
    correction = issue_number(signed(correction, author=clerk, signer=signer), actor=clerk)
    assert correction.number == "นร 0105/2"
    assert Letter.objects.get(pk=original.pk).status == LetterStatus.SUPERSEDED


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_numbered_letter_keeps_its_number_marked(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    def make(name: str) -> Letter:
        return _numbered_example(name, agency, clerk, signer)

    letter = make("external")
    with pytest.raises(ValidationFailed):
        cancel_letter(letter, reason="  ", actor=clerk)
    cancel_letter(letter, reason="ส่งผิดหน่วยงาน", actor=clerk)
    entry = RegisterEntry.objects.get(letter=letter)
    assert entry.status == EntryStatus.CANCELLED and entry.number == 1
    nxt = make("external")
    assert nxt.number == "นร 0105/2"
    with pytest.raises(StateRefused):
        cancel_letter(letter, reason="อีกครั้ง", actor=clerk)
