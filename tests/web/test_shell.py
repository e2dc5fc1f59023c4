"""The page shell: sign in and out, language switch, login required, bilingual tags and Thai dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from saraban.core.labels import Label
from saraban.core.thai import BANGKOK
from saraban.directory.models import Organisation, Person
from saraban.web.i18n import LANG_COOKIE, text

PASSWORD = "x-Pass-1234"
pytestmark = pytest.mark.django_db


def signed_in(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_home_welcomes_visitors_and_sends_users_to_work(clerk: Person) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert 'lang="th"' in response.content.decode()
    assert "ยินดีต้อนรับ" in response.content.decode()
    assert 'href="/accounts/login/"' in response.content.decode()
    response = signed_in(clerk).get("/")
    assert response.status_code == 302 and response["Location"] == "/work/"


def test_health_check() -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_sign_in_page_is_thai_by_default_and_signs_in(clerk: Person) -> None:
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "เข้าสู่ระบบ" in page.content.decode() and "ชื่อผู้ใช้" in page.content.decode()
    wrong = client.post("/accounts/login/", {"username": "clerk", "password": "nope"})
    assert wrong.status_code == 200
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in wrong.content.decode()
    right = client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD})
    assert right.status_code == 302 and right["Location"] == "/work/"
    assert client.get("/registers/").status_code == 200


def test_sign_in_page_in_english_after_switching(clerk: Person) -> None:
    client = Client()
    switched = client.post("/language/", {"lang": "en", "next": "/accounts/login/"})
    assert switched.status_code == 302 and switched["Location"] == "/accounts/login/"
    assert client.cookies[LANG_COOKIE].value == "en"
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in page and "Sign in" in page and "Username" in page
    wrong = client.post("/accounts/login/", {"username": "clerk", "password": "nope"}).content.decode()
    assert "The username or password is not correct" in wrong
    client.post("/language/", {"lang": "th"})
    assert "เข้าสู่ระบบ" in client.get("/accounts/login/").content.decode()


def test_language_switch_refuses_foreign_redirects_and_get() -> None:
    client = Client()
    response = client.post("/language/", {"lang": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get("/language/").status_code == 405


@pytest.mark.parametrize("path", ["/registers/", "/registers/export/", "/directory/", "/directory/import/"])
def test_pages_require_sign_in(path: str, agency: Organisation) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_sign_out_is_a_post(clerk: Person) -> None:
    client = signed_in(clerk)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/registers/").status_code == 302


def test_shell_shows_navigation_user_and_acting_organisation(clerk: Person) -> None:
    page = signed_in(clerk).get("/directory/").content.decode()
    for label in ("งานของฉัน", "ร่างหนังสือ", "หนังสือออก", "หนังสือเข้า", "ลงรับหนังสือ", "ทะเบียนหนังสือ", "ทำเนียบหน่วยงาน"):
        assert label in page
    assert 'href="#main"' in page and 'id="main"' in page  # skip link
    assert 'accesskey="b"' in page and 'aria-current="page"' in page
    assert "นางสาวสมใจ รักงาน" in page and "สำนักงานปลัดสำนักนายกรัฐมนตรี" in page
    assert "vendor/htmx.min.js" in page and "web/saraban.css" in page
    assert "fonts.googleapis" not in page


def test_acting_organisation_switch_accepts_only_own_organisations(
    clerk: Person, agency: Organisation, ministry: Organisation
) -> None:
    client = signed_in(clerk)
    client.post("/acting-organisation/", {"organisation": str(ministry.pk)})
    assert client.session.get("saraban_acting_org") is None
    client.post("/acting-organisation/", {"organisation": str(agency.pk)})
    assert client.session["saraban_acting_org"] == agency.pk


def test_t_tag_and_thai_date_filters() -> None:
    template = Template('{% t "ไทย" "English" %}|{{ d|thaidate }}|{{ m|thaidatetime }}|{{ label|pick:lang }}')
    moment = dt.datetime(2026, 11, 26, 7, 5, tzinfo=dt.UTC)  # 14:05 in Bangkok
    values = {"d": dt.date(2026, 11, 26), "m": moment, "label": Label("ทะเบียนหนังสือส่ง", "Send register")}
    assert template.render(Context({**values, "lang": "th"})) == "ไทย|26 พ.ย. 2569|26 พ.ย. 2569 14.05 น.|ทะเบียนหนังสือส่ง"
    assert template.render(Context({**values, "lang": "en"})).startswith("English|26 พ.ย. 2569|")
    assert Template("{{ d|thaidate }}").render(Context({"d": None})) == ""
    late = dt.datetime(2026, 11, 26, 23, 30, tzinfo=BANGKOK)
    assert Template("{{ d|thaidate }}").render(Context({"d": late.astimezone(dt.UTC)})) == "26 พ.ย. 2569"


def test_text_helper_follows_the_cookie() -> None:
    request = RequestFactory().get("/")
    assert text(request, "ไทย", "English") == "ไทย"
    request.COOKIES[LANG_COOKIE] = "en"
    assert text(request, "ไทย", "English") == "English"
    assert text(None, "ไทย", "English") == "ไทย"
