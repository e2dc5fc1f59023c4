"""Signing in through the browser, in Thai."""

from __future__ import annotations

import pytest

from saraban.directory.models import Person

from .conftest import shot


@pytest.mark.django_db(transaction=True)
def test_a_clerk_signs_in_and_lands_on_the_work_queue(live_server: object, page: object, clerk: Person) -> None:
    url = live_server.url  # type: ignore[attr-defined]
    page.goto(f"{url}/accounts/login/")  # type: ignore[attr-defined]
    assert "เข้าสู่ระบบ" in page.content()  # type: ignore[attr-defined]
    shot(page, "00-sign-in")
    page.fill("input[name=username]", "clerk")  # type: ignore[attr-defined]
    page.fill("input[name=password]", "x-Pass-1234")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/work/")  # type: ignore[attr-defined]
    assert "นางสาวสมใจ รักงาน" in page.content()  # type: ignore[attr-defined]
    shot(page, "01-work-queue")
