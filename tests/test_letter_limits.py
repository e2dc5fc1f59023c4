"""Drafts that could never be printed are refused when typed; one huge draft cannot hold up everyone else."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.test import Client

from saraban.core.errors import SarabanError, ValidationFailed
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter, update_letter
from saraban.correspondence.workflow import sign_letter, submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.regulation.content import parse_letter_json
from saraban.rendering import engine
from saraban.rendering.letters import render_letter
from saraban.signatures.methods import SignerProof

from .api import Api
from .helpers import PASSWORD
from .processes import alive
from .test_letters import example
from .web.test_workflow_pages import editor_data


def _problems(caught: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {p.field: p.code for p in caught.value.problems}


@pytest.mark.django_db
@pytest.mark.parametrize(("subject", "code", "named"), [
    ("ขอเชิญประชุม 😀", "unprintable_character", "U+1F600"),
    ("ขอเชิญประชุม 汉字", "unprintable_character", "U+6C49"),
    ("ขอเชิญประชุม\x07\x1b[31m", "control_character", "U+001B"),
    ("ขอเชิญ\u202eประชุม", "control_character", "U+202E"),
])
def test_unprintable_text_is_refused_naming_the_characters(
    agency: Organisation, clerk: Person, subject: str, code: str, named: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_letter(agency, example("external", subject=subject), author=clerk)
    problem = next(p for p in caught.value.problems if p.field == "subject")
    assert problem.code == code and named in problem.message_en and named in problem.message_th
    letter = create_letter(agency, example("external"), author=clerk)
    with pytest.raises(ValidationFailed):
        update_letter(letter, {"body": ["ย่อหน้า 🙂"]}, actor=clerk)
    assert not Letter.objects.filter(subject=subject).exists()


@pytest.mark.django_db
def test_thai_line_breaking_marks_are_kept(agency: Organisation, clerk: Person) -> None:
    letter = create_letter(agency, example("external", subject="สารบรรณ\u200bอิเล็กทรอนิกส์"), author=clerk)
    assert render_letter(letter.letter_content).startswith(b"%PDF-")


@pytest.mark.django_db
def test_the_api_answers_422_naming_the_field(agency: Organisation, clerk: Person) -> None:
    """A subject the letter font cannot print: well-formed, refused by the printability rule (422)."""
    from saraban.api.auth import issue_token

    _row, token = issue_token(clerk, "tests")
    response = Api(token).post("/letters", {"organisation_id": agency.pk,
                                            "content": example("external", subject="ประชุม 😀")})
    assert response.status_code == 422
    body = response.json()
    assert body["message_th"] and any(p["field"].endswith("subject") for p in body["problems"])


@pytest.mark.django_db
def test_a_body_too_long_for_a_letter_is_refused(agency: Organisation, clerk: Person) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_letter(agency, example("external", body=["ย่อหน้า"] * 1_001), author=clerk)
    assert _problems(caught)["body"] == "too_many_paragraphs"
    with pytest.raises(ValidationFailed) as caught:
        create_letter(agency, example("external", body=["ก" * 45_000] * 5), author=clerk)
    assert _problems(caught)["body"] == "too_long"


def test_a_letter_longer_than_the_page_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SARABAN_LETTER_MAX_PAGES", "2")
    content = parse_letter_json(example("external", body=["ย่อหน้าที่ยาวพอสมควร " * 40] * 30,
                                        issuer={"name": "สำนักงานทดสอบ", "letter_code": "นร 0105"}))
    with pytest.raises(ValidationFailed) as caught:
        render_letter(content)
    assert _problems(caught)["body"] == "too_many_pages"
    assert "เกินกว่าที่กำหนด 2 หน้า" in caught.value.problems[0].message_th


def _content(**changes: Any) -> Any:
    return parse_letter_json(example("external", issuer={"name": "สำนักงานทดสอบ", "letter_code": "นร 0105"},
                                     **changes))


def test_rendering_happens_in_the_render_workers_and_in_parallel() -> None:
    done: list[bytes] = []
    threads = [threading.Thread(target=lambda: done.append(render_letter(_content()))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(done) == 4 and all(pdf.startswith(b"%PDF-") for pdf in done)
    assert engine.render_pool().pids() and 0 < len(engine.render_pool().pids()) <= engine.render_pool().size


def test_a_large_document_gives_its_memory_back(monkeypatch: pytest.MonkeyPatch) -> None:
    render_letter(_content())
    before = set(engine.render_pool().pids())
    monkeypatch.setattr(engine, "_RETIRE_AFTER_BYTES", 0)  # every document counts as large
    render_letter(_content())
    retired = before - set(engine.render_pool().pids())
    assert retired and not any(alive(pid) for pid in retired)


def test_a_render_over_its_time_limit_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    render_letter(_content())  # the worker is up: its start-up does not count
    monkeypatch.setenv("SARABAN_RENDER_TIMEOUT", "0.001")
    with pytest.raises(engine.RenderTimeout):
        render_letter(_content(body=["ย่อหน้า " * 200] * 50))
    monkeypatch.delenv("SARABAN_RENDER_TIMEOUT")
    assert render_letter(_content()).startswith(b"%PDF-")  # a fresh worker took over


@pytest.mark.django_db
def test_preview_and_pdf_of_an_unprintable_draft_answer_with_the_reason(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    client = Client()
    client.force_login(clerk)
    response = client.post("/letters/preview/", editor_data(signer, subject="ประชุม 😀"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "U+1F600" in response.content.decode()
    letter = create_letter(agency, example("external"), author=clerk)
    content = dict(letter.content)
    content["subject"] = "ประชุม 😀"  # a draft saved before the check existed
    Letter.objects.filter(pk=letter.pk).update(content=content)
    page = client.get(f"/letters/{letter.pk}/pdf")
    assert page.status_code == 409 and "U+1F600" in page.content.decode()


@pytest.mark.django_db
def test_an_old_unprintable_draft_is_refused_at_signing_not_a_crash(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    letter = create_letter(agency, example("external"), author=clerk)
    letter = submit_for_review(letter, actor=clerk, reviewers=[], signer=signer)
    content = dict(letter.content)
    content["subject"] = "ประชุม\x07"
    Letter.objects.filter(pk=letter.pk).update(content=content)
    with pytest.raises(SarabanError) as caught:
        sign_letter(Letter.objects.get(pk=letter.pk), actor=signer, proof=SignerProof(PASSWORD))
    assert "U+0007" in str(caught.value) or any("U+0007" in p.message_en for p in caught.value.problems)
