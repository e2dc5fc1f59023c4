"""The classified registers: without a grant of the letter's level, a line shows its numbers and dates only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from saraban.access.services import grant_secrecy
from saraban.api.auth import issue_token
from saraban.correspondence.services import create_letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.registers.models import RegisterEntry

from .api import Api
from .helpers import PASSWORD, numbered
from .test_letters import example

SECRET_SUBJECT = "แผนการจับกุมผู้ต้องหาคดียาเสพติด"


@pytest.fixture
def classified_line(agency: Organisation, clerk: Person, signer: Person) -> RegisterEntry:
    grant_secrecy(clerk, agency, "secret", actor=None)  # the numbering clerk holds a grant
    letter = create_letter(agency, example("external", subject=SECRET_SUBJECT, secrecy="secret"), author=clerk)
    letter = numbered(letter, author=clerk, signer=signer, clerk=clerk)
    return RegisterEntry.objects.select_related("book").get(letter=letter)


def _clerk(agency: Organisation, username: str, level: str | None) -> Person:
    person = create_person(username=username, name_th=f"สารบรรณ {username}", password=PASSWORD)
    assign_role(person, agency, "central_clerk")
    if level:
        grant_secrecy(person, agency, level, actor=None)
    return person


def _api(person: Person) -> Api:
    return Api(issue_token(person, "tests")[1])


@pytest.mark.django_db
def test_the_api_hides_the_subject_without_a_grant_of_its_level(agency: Organisation,
                                                                  classified_line: RegisterEntry) -> None:
    assert classified_line.book.kind == "send_classified"
    for level in (None, "confidential"):  # no grant, or one below the letter's level
        api = _api(_clerk(agency, f"clerk-{level}", level))
        line = api.get(f"/registers/entries/{classified_line.pk}").json()
        assert line["redacted"] is True and SECRET_SUBJECT not in str(line)
        assert line["letter_number"] == classified_line.letter_number and line["number"] == 1
        found = api.get("/registers/entries", kind="send_classified").json()
        assert found["count"] == 1 and SECRET_SUBJECT not in str(found)
        assert api.get("/registers/entries", kind="send_classified", q="ยาเสพติด").json()["count"] == 0
        by_number = api.get("/registers/entries", kind="send_classified", q=classified_line.letter_number)
        assert by_number.json()["count"] == 1
    cleared = _api(_clerk(agency, "clerk-secret", "secret"))
    line = cleared.get(f"/registers/entries/{classified_line.pk}").json()
    assert line["redacted"] is False and line["subject"] == SECRET_SUBJECT


@pytest.mark.django_db
def test_the_register_page_hides_it_too(agency: Organisation, classified_line: RegisterEntry) -> None:
    def page(person: Person, **params: Any) -> str:
        client = Client()
        client.force_login(person)
        response = client.get("/registers/", {"kind": "send_classified", **params})
        assert response.status_code == 200
        return response.content.decode()

    plain = _clerk(agency, "plain", None)
    shown = page(plain)
    assert SECRET_SUBJECT not in shown and "แสดงเฉพาะเลขที่และวันที่" in shown
    assert classified_line.letter_number in shown
    assert "แสดงเฉพาะเลขที่และวันที่" not in page(plain, q="ยาเสพติด")  # no line matches a hidden subject
    assert SECRET_SUBJECT in page(_clerk(agency, "cleared", "top_secret"))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_exports_hide_it_too(agency: Organisation, classified_line: RegisterEntry, fmt: str) -> None:
    import io
    import subprocess

    from openpyxl import load_workbook

    def exported(person: Person) -> str:
        response = _api(person).get("/registers/export", kind="send_classified", format=fmt)
        assert response.status_code == 200
        if fmt == "csv":
            return response.content.decode("utf-8-sig")
        if fmt == "xlsx":
            sheet = load_workbook(io.BytesIO(response.content)).active
            return " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
        return subprocess.run(["pdftotext", "-", "-"], input=response.content, capture_output=True,
                              check=True).stdout.decode()

    plain = exported(_clerk(agency, "plain", None))
    assert "ยาเสพติด" not in plain.replace("\n", "")
    assert "ยาเสพติด" in exported(_clerk(agency, "cleared", "top_secret")).replace("\n", "")


@pytest.mark.django_db
def test_register_lines_lead_to_their_letter_unless_hidden(agency: Organisation, clerk: Person,
                                                           classified_line: RegisterEntry) -> None:
    """Issue 17, item 5: a send line links to the letter it numbered, a receive line to the incoming letter
    it registered; a line whose details are hidden from the reader links nowhere."""
    from saraban.inbox.services import PaperLetter, register_paper
    from saraban.regulation.content import LetterContent
    from saraban.rendering.letters import render_letter

    def page(person: Person, kind: str) -> str:
        client = Client()
        client.force_login(person)
        response = client.get("/registers/", {"kind": kind})
        assert response.status_code == 200
        return response.content.decode()

    cleared = _clerk(agency, "cleared", "top_secret")
    assert f'href="/letters/{classified_line.letter_id}/"' in page(cleared, "send_classified")
    assert "/letters/" not in page(_clerk(agency, "plain", None), "send_classified").split("<tbody", 1)[-1]
    pdf = render_letter(LetterContent.model_validate(example("external")))
    incoming = register_paper(agency, PaperLetter(
        sender_name="กรมบัญชีกลาง", letter_number="กค 0402/55", letter_date=None, subject="ขอเชิญประชุม",
        addressed_to="", urgency="normal", secrecy="normal"), scans=[(pdf, "application/pdf")], actor=clerk)
    shown = page(clerk, "receive")
    assert f'href="/inbox/{incoming.pk}/"' in shown and ">ขอเชิญประชุม</a>" in shown
