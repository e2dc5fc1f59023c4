"""The office edits question weights (scores follow) and imports answers from a file; partners only read."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from saraban.directory.models import Organisation
from saraban.directory.services import create_person
from saraban.rollout import selectors, services
from saraban.rollout.imports import import_answers
from saraban.rollout.models import Question, Survey, SurveyResponse

from .test_console import GOOD, laos, survey  # noqa: F401 — fixtures

pytestmark = pytest.mark.django_db


def _member(role: str) -> Client:
    person = create_person(username=f"member-{role}", name_th=f"สมาชิก {role}", password=None)
    services.add_member(person, role)
    client = Client()
    client.force_login(person)
    return client


def test_the_office_changes_a_weight_and_the_score_follows(survey: Survey, laos: list[Organisation]) -> None:  # noqa: F811
    assert import_answers(survey, GOOD.encode()).ok
    before = selectors.agency_scores(survey)[laos[0].pk].percent
    question = Question.objects.get(survey=survey, code="system")
    weights = "\n".join(f"{o['value']} = {0 if o['value'] == 'dga' else o.get('weight', 0)}" for o in question.options)
    client = _member("office")
    page = client.get("/programme/survey-editor/")
    assert page.status_code == 200 and "น้ำหนัก" in page.content.decode()
    response = client.post("/programme/survey-editor/", {
        "action": "question", "question": question.pk, "text_th": question.text_th, "text_en": question.text_en,
        "weights": weights,
    })
    assert response.status_code == 302
    assert selectors.agency_scores(survey)[laos[0].pk].percent < before
    bad = client.post("/programme/survey-editor/", {
        "action": "question", "question": question.pk, "text_th": question.text_th, "weights": "dga = many",
    }, follow=True)
    assert "น้ำหนักต้องเป็นตัวเลข" in bad.content.decode()


def test_a_bad_file_shows_its_row_problems_and_imports_nothing(survey: Survey, laos: list[Organisation]) -> None:  # noqa: F811
    client = _member("office")
    broken = GOOD.replace("sao-b,none", "sao-x,nonsense").encode()
    upload = io.BytesIO(broken)
    upload.name = "answers.csv"
    response = client.post("/programme/survey-editor/", {"action": "import", "answers": upload})
    body = response.content.decode()
    assert (response.status_code == 400 and "sao-x" in body) or "organisation" in body
    assert SurveyResponse.objects.count() == 0
    good = io.BytesIO(GOOD.encode())
    good.name = "answers.csv"
    assert client.post("/programme/survey-editor/", {"action": "import", "answers": good}).status_code == 302
    assert SurveyResponse.objects.count() == 2


def test_partners_cannot_edit(survey: Survey) -> None:  # noqa: F811
    question = Question.objects.filter(survey=survey).first()
    assert question is not None
    client = _member("partner")
    assert client.get("/programme/survey-editor/").status_code == 200
    client.post("/programme/survey-editor/", {
        "action": "question", "question": question.pk, "text_th": "แก้โดยภาคี", "weights": "",
    })
    assert Question.objects.get(pk=question.pk).text_th != "แก้โดยภาคี"
