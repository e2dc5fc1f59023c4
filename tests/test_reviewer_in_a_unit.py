"""A reviewer who works in a unit of the department reviews the department's letter: they see it."""

from __future__ import annotations

from saraban.correspondence.selectors import awaiting_my_review, letter_for
from saraban.correspondence.workflow import approve_review, submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from tests.helpers import PASSWORD
from tests.web.test_workflow_pages import draft


def test_a_unit_reviewer_sees_and_approves_the_department_letter(
    agency: Organisation, clerk: Person, signer: Person, ministry: Organisation,
) -> None:
    unit = create_organisation(identifier="opm-ops-legal", parent=agency, kind="division", name_th="กองกฎหมาย")
    reviewer = create_person(username="legal", name_th="นายนิติ ตรวจดี", password=PASSWORD)
    assign_role(reviewer, unit, "reviewer", position_title="ผู้อำนวยการกองกฎหมาย")
    bystander = create_person(username="bystander", name_th="นางสาวอื่น ไม่เกี่ยว", password=PASSWORD)
    assign_role(bystander, unit, "reviewer")
    letter = draft(agency, clerk, to=[ministry])
    assert letter_for(reviewer, letter.pk) is None  # a draft: not theirs yet
    letter = submit_for_review(letter, actor=clerk, reviewers=[reviewer], signer=signer)
    assert letter_for(reviewer, letter.pk) is not None
    assert list(awaiting_my_review(reviewer)) == [letter]
    assert letter_for(bystander, letter.pk) is None  # the unit's other staff are not part of it
    assert approve_review(letter, actor=reviewer).status == "approved"
