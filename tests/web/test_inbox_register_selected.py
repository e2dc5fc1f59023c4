"""ลงรับหลายฉบับ on the inbox page: a clerk chooses delivered letters and registers them at once."""

from __future__ import annotations

from typing import Any

import pytest

from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import set_recipients
from saraban.directory.models import Organisation, Person
from saraban.exchange.services import send_letter
from saraban.inbox.models import IncomingLetter, IncomingStatus
from saraban.registers.models import RegisterEntry
from tests.helpers import numbered
from tests.test_inbox import receiver
from tests.test_letters import example
from tests.web.test_workflow_pages import client_for

pytestmark = pytest.mark.django_db
fixtures = (receiver,)


def _said(answer: Any) -> list[str]:
    return [str(m) for m in answer.context["messages"]]


def _sent(agency: Organisation, clerk: Person, signer: Person, to: Organisation, subject: str) -> IncomingLetter:
    letter = create_letter(agency, example("external", subject=subject), author=clerk)
    set_recipients(letter, [to], [], actor=clerk)
    send_letter(numbered(letter, author=clerk, signer=signer, clerk=clerk), actor=clerk)
    return IncomingLetter.objects.get(dispatch__letter=letter)


def test_a_clerk_registers_the_letters_chosen(agency: Organisation, clerk: Person, signer: Person,
                                              receiver: dict[str, Any]) -> None:
    letters = [_sent(agency, clerk, signer, receiver["org"], f"ขอเชิญประชุม ครั้งที่ {i}") for i in range(3)]
    city = client_for(receiver["city.registry"])
    page = city.get("/inbox/").content.decode()
    assert "ลงรับฉบับที่เลือก" in page and page.count('name="incoming"') == 3
    answer = city.post("/inbox/register-selected/", {"incoming": [letters[0].pk, letters[2].pk]}, follow=True)
    assert _said(answer) == ["ลงรับแล้ว 2 ฉบับ เลขรับ 1, 2"]
    states = {i.pk: (i.status, i.receive_number) for i in IncomingLetter.objects.all()}
    assert states[letters[0].pk] == (IncomingStatus.REGISTERED, 1)
    assert states[letters[2].pk] == (IncomingStatus.REGISTERED, 2)
    assert states[letters[1].pk] == (IncomingStatus.DELIVERED, None)
    # Chosen again: already registered, so the whole selection is refused and no number is drawn.
    entries = RegisterEntry.objects.count()
    answer = city.post("/inbox/register-selected/", {"incoming": [letters[1].pk, letters[0].pk]}, follow=True)
    said = _said(answer)
    assert len(said) == 1 and said[0].startswith("ลงรับไม่ได้")  # the whole selection refused, in words
    assert IncomingLetter.objects.get(pk=letters[1].pk).status == IncomingStatus.DELIVERED
    assert RegisterEntry.objects.count() == entries
    assert _said(city.post("/inbox/register-selected/", {}, follow=True)) == ["ยังไม่ได้เลือกหนังสือ"]


def test_only_the_receivers_registry_may(agency: Organisation, clerk: Person, signer: Person,
                                         receiver: dict[str, Any]) -> None:
    incoming = _sent(agency, clerk, signer, receiver["org"], "ขอความอนุเคราะห์ข้อมูล")
    officer = client_for(receiver["city.officer"])
    assert 'name="incoming"' not in officer.get("/inbox/").content.decode()
    officer.post("/inbox/register-selected/", {"incoming": [incoming.pk]})
    assert IncomingLetter.objects.get(pk=incoming.pk).status == IncomingStatus.DELIVERED
    # The sender's clerk cannot see the receiver's letter at all.
    assert client_for(clerk).post("/inbox/register-selected/", {"incoming": [incoming.pk]}).status_code == 404
