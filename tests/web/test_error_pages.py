"""Every error page is bilingual and styled, with the menu and a way back (issue 17, item 7); JSON under /api/."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from saraban.directory.models import Person
from saraban.web.views import errors
from tests.web.test_workflow_pages import client_for

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_a_bilingual_page_with_the_menu(clerk: Person) -> None:
    page = client_for(clerk).get("/no/such/page/")
    html = page.content.decode()
    assert page.status_code == 404 and "ไม่พบหน้านี้" in html and 'class="mainnav"' in html
    assert 'href="/work/"' in html and "Not Found" not in html
    english = client_for(clerk, "en").get("/inbox/999999/").content.decode()  # another's letter or none
    assert "Page not found" in english and "There is no such page" in english


def test_signed_out_and_api_404s(db: None) -> None:
    assert "ไม่พบหน้านี้" in Client().get("/no/such/page/").content.decode()
    api = Client().get("/api/no/such/route")
    assert api.status_code == 404 and api.json()["message_th"] and api.json()["message_en"]  # the API's own JSON


def test_403_and_500_pages(clerk: Person) -> None:
    request = RequestFactory().get("/letters/1/")
    request.user = clerk
    request.session = {}  # type: ignore[assignment]
    forbidden = errors.permission_denied(request, PermissionDenied())
    assert forbidden.status_code == 403 and "ท่านไม่มีสิทธิ์ดำเนินการนี้" in forbidden.content.decode()
    failed = errors.server_error(RequestFactory().get("/work/"))
    body = failed.content.decode()
    assert failed.status_code == 500 and "ระบบขัดข้อง" in body and "Something went wrong" in body and "UTC" in body
    assert errors.server_error(RequestFactory().get("/api/letters")).status_code == 500


def test_the_menu_offers_only_what_the_person_may_use(agency: object, clerk: Person, signer: Person) -> None:
    from saraban.directory.services import create_person

    assert 'href="/inbox/register/"' in client_for(clerk).get("/work/").content.decode()
    assert 'href="/inbox/register/"' not in client_for(signer).get("/work/").content.decode()
    nobody = create_person(username="partner", name_th="นายภาคี ร่วมงาน", password="x-Pass-1234")
    page = client_for(nobody).get("/search/").content.decode()
    assert 'href="/inbox/"' not in page and 'href="/outbox/"' not in page and 'href="/registers/"' not in page
