"""A paper letter registered twice: the clerk is warned before a number is drawn, and goes on deliberately."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from saraban.directory.models import Organisation, Person
from saraban.inbox.models import IncomingLetter
from tests.api.test_api_inbox import blank_pdf
from tests.web.test_workflow_pages import client_for

pytestmark = pytest.mark.django_db
FIELDS = {"sender_name": "จังหวัดนนทบุรี", "letter_number": "นบ 0017/123", "letter_date": "15/1/2569",
          "subject": "ขอความอนุเคราะห์ข้อมูล", "urgency": "normal", "secrecy": "normal"}


def _post(client: Any, **changes: Any) -> Any:
    data = {**FIELDS, **changes, "scan": SimpleUploadedFile("scan.pdf", blank_pdf(), content_type="application/pdf")}
    return client.post("/inbox/register/", data)


def test_the_same_letter_twice_is_stopped_until_the_clerk_says_so(agency: Organisation, clerk: Person) -> None:
    browser = client_for(clerk)
    assert _post(browser).status_code == 302
    # The same letter typed again, its number with Thai digits and no space: warned, nothing registered.
    again = _post(browser, letter_number="นบ๐๐๑๗/๑๒๓")
    page = again.content.decode()
    assert again.status_code == 409 and "หนังสือนี้อาจลงรับไปแล้ว" in page and "เลขรับ 1" in page
    assert IncomingLetter.objects.count() == 1
    # As the clerk types (before attaching anything), the same warning.
    live = browser.get("/inbox/register/duplicates", {k: v for k, v in FIELDS.items()}).content.decode()
    assert "หนังสือนี้อาจลงรับไปแล้ว" in live and 'name="register_anyway"' in live
    assert "หนังสือนี้อาจลงรับไปแล้ว" not in browser.get(
        "/inbox/register/duplicates", {**FIELDS, "letter_number": "นบ 0017/124", "subject": "เรื่องอื่น"}).content.decode()
    # Deliberately: registered, with the next number.
    assert _post(browser, register_anyway="on").status_code == 302
    assert sorted(IncomingLetter.objects.values_list("receive_number", flat=True)) == [1, 2]
    # Another letter of the same sender and date, with another number and subject, is not held up.
    assert _post(browser, letter_number="นบ 0017/200", subject="ขอเชิญประชุม").status_code == 302


def test_the_warning_is_for_the_registry_only(agency: Organisation, signer: Person) -> None:
    assert client_for(signer).get("/inbox/register/duplicates", FIELDS).status_code == 404


def test_absurd_dates_are_refused_in_words(agency: Organisation, clerk: Person) -> None:
    browser = client_for(clerk)
    for typed, said in (("1/1/2600", "เลยวันนี้ไป"), ("1/1/2399", "ไม่ใช่วันที่"), ("1/1/1999", "ไม่ใช่วันที่")):
        answer = _post(browser, letter_date=typed)
        assert answer.status_code == 400 and said in answer.content.decode(), typed
    assert not IncomingLetter.objects.exists()
    assert _post(browser, letter_date="1/1/2545").status_code == 302  # a back file of พ.ศ. 2545 is fine
