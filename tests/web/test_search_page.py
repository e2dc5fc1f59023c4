"""The search page (/search/) and the search box of every page: results, passage, paging, filters, tenancy."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from saraban.access.services import grant_secrecy
from saraban.core.labels import pair
from saraban.correspondence.models import Letter, LetterStatus
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.documents.services import store_file
from saraban.inbox.models import IncomingLetter, IncomingStatus
from saraban.inbox.services import PaperLetter, register_paper
from saraban.search.indexing import index_object
from tests.api.test_api_inbox import blank_pdf
from tests.helpers import PASSWORD
from tests.web import test_workflow_pages as workflow
from tests.web.test_workflow_pages import client_for, draft

pytestmark = pytest.mark.django_db
other_org = workflow.other_org
other_clerk = workflow.other_clerk


def letter(agency: Organisation, author: Person, **changes: Any) -> Letter:
    """A draft of ``agency``, indexed."""
    made = draft(agency, author, **changes)
    index_object("out", made.pk)
    return made


def dated(made: Letter, day: dt.date) -> Letter:
    """``made`` with the letter date ``day``, indexed again."""
    Letter.objects.filter(pk=made.pk).update(date=day)
    index_object("out", made.pk)
    return made


def paper(agency: Organisation, clerk: Person, subject: str, **changes: Any) -> IncomingLetter:
    """A registered paper letter of ``agency``, indexed."""
    incoming = register_paper(agency, PaperLetter(
        sender_name="สำนักงานจังหวัดนนทบุรี", letter_number="นบ 0017/123", letter_date=dt.date(2026, 1, 15),
        subject=subject, **changes,
    ), scans=[(blank_pdf(), "application/pdf")], actor=clerk)
    index_object("in", incoming.pk)
    return incoming


def page(client: Client, expect: int = 200, /, **params: Any) -> str:
    """The search page for ``params``, which must answer ``expect``."""
    response = client.get("/search/", params)
    assert response.status_code == expect, response.content.decode()[:2000]
    return response.content.decode()


def hrefs(html: str) -> list[str]:
    """The letters the results link to, in order."""
    return re.findall(r'<td class="subject">.*?<a href="(/(?:letters|inbox)/\d+/)"', html, flags=re.S)


def test_sign_in_is_required(agency: Organisation) -> None:
    response = Client().get("/search/", {"q": "ประชุม"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_empty_search_shows_the_form_with_a_hint(clerk: Person) -> None:
    html = page(client_for(clerk))
    assert 'action="/search/"' in html and 'name="q"' in html and "data-search" in html
    assert "พิมพ์เลขที่หนังสือ" in html and "ผลการค้นหา" not in html
    assert "พิมพ์เลขที่หนังสือ" in page(client_for(clerk), q="   ")
    # The search page's own box is the one "/" focuses: the menu's box is left out here.
    assert "data-search-global" not in html
    english = page(client_for(clerk, "en"))
    assert "Search letters" in english and "Type a letter number" in english


def test_results_show_number_subject_kind_date_parties_urgency_status_and_the_passage(
    agency: Organisation, clerk: Person,
) -> None:
    out = letter(agency, clerk, subject="ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณ", urgency="most_urgent",
                 body=["ด้วยสำนักงานขอเชิญประชุมเรื่องระบบสารบรรณอิเล็กทรอนิกส์ ณ ห้องประชุม ๑"])
    Letter.objects.filter(pk=out.pk).update(number="นร 0105/77")
    dated(out, dt.date(2026, 3, 5))
    incoming = paper(agency, clerk, "รายงานผลระบบสารบรรณของจังหวัด")
    html = page(client_for(clerk), q="สารบรรณ")
    assert hrefs(html) == [f"/inbox/{incoming.pk}/", f"/letters/{out.pk}/"]  # newest first
    assert "นร 0105/77" in html and "ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณ" in html
    assert "หนังสือออก" in html and "หนังสือเข้า" in html
    assert "5 มี.ค. 2569" in html and "15 ม.ค. 2569" in html  # dates in พ.ศ.
    assert "สำนักงานจังหวัดนนทบุรี" in html  # the sender of the incoming letter
    assert '<span class="urg">ด่วนที่สุด</span>' in html
    assert f'<span class="state s-draft">{pair(LetterStatus.DRAFT.label)[0]}</span>' in html
    assert f'<span class="state s-registered">{pair(IncomingStatus.REGISTERED.label)[0]}</span>' in html
    assert "<mark>สารบรรณ</mark>" in html
    assert "มีผลลัพธ์เพิ่มเติม" not in html and "ถัดไป" not in html and "ก่อนหน้า" not in html
    english = page(client_for(clerk, "en"), q="สารบรรณ")
    assert "Outgoing" in english and "Incoming" in english and ">Draft<" in english and ">Registered<" in english
    assert "Most urgent" in english


def test_the_passage_marks_the_hit_and_escapes_the_letters_text(agency: Organisation, clerk: Person) -> None:
    letter(agency, clerk, subject="<script>alert(1)</script> ตรวจสอบ",
           body=["ข้อความก่อน <b>ตัวหนา</b> คำสำคัญยิ่ง <img src=x onerror=alert(2)> ข้อความหลัง"])
    html = page(client_for(clerk), q="คำสำคัญยิ่ง")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<b>ตัวหนา" not in html
    passage = re.search(r'<p class="passage">(.*?)</p>', html, flags=re.S)
    assert passage is not None
    assert "<mark>คำสำคัญยิ่ง</mark>" in passage.group(1)
    assert "&lt;b&gt;ตัวหนา&lt;/b&gt;" in passage.group(1) and "&lt;img src=x onerror=alert(2)&gt;" in passage.group(1)
    # The hit itself may hold markup too: it is escaped inside the <mark>.
    html = page(client_for(clerk), q="<script>")
    assert "<mark>&lt;script&gt;</mark>" in html


def test_twenty_a_page_with_next_and_previous_and_no_count(agency: Organisation, clerk: Person) -> None:
    made = [letter(agency, clerk, subject=f"คำสั่งแต่งตั้งคณะกรรมการชุดที่ {i}") for i in range(23)]
    client = client_for(clerk)
    first = page(client, q="คำสั่งแต่งตั้ง")
    assert hrefs(first) == [f"/letters/{x.pk}/" for x in made[::-1][:20]]
    assert "มีผลลัพธ์เพิ่มเติม" in first and "ถัดไป" in first and "ก่อนหน้า" not in first
    assert re.search(r'rel="next" href="\?q=[^"]*page=2"', first)
    results = first.split('id="results-title"')[1]
    assert "พบ" not in results and "ฉบับ" not in results and "/ 2" not in results  # no count, no "page 1 of 2"
    second = page(client, q="คำสั่งแต่งตั้ง", page="2")
    assert hrefs(second) == [f"/letters/{x.pk}/" for x in made[::-1][20:]]
    assert "ก่อนหน้า" in second and "ถัดไป" not in second and "มีผลลัพธ์เพิ่มเติม" not in second
    assert re.search(r'rel="prev" href="\?q=[^"]*page=1"', second)
    assert "ไม่มีผลลัพธ์ในหน้านี้" in page(client, q="คำสั่งแต่งตั้ง", page="9")
    assert hrefs(page(client, q="คำสั่งแต่งตั้ง", page="ไม่ใช่ตัวเลข")) == hrefs(first)


def test_sort_newest_or_subject_matches_first(agency: Organisation, clerk: Person) -> None:
    in_subject = letter(agency, clerk, subject="ขอความอนุเคราะห์ข้อมูลสถิติ")
    in_body = letter(agency, clerk, subject="เรื่องอื่น", body=["ประกอบการขอความอนุเคราะห์ข้อมูล"])
    client = client_for(clerk)
    newest = page(client, q="ขอความอนุเคราะห์")
    assert hrefs(newest) == [f"/letters/{in_body.pk}/", f"/letters/{in_subject.pk}/"]
    assert re.search(r'<a href="\?q=[^"]*"\s+aria-current="page">ใหม่ก่อน</a>', newest)
    relevance = page(client, q="ขอความอนุเคราะห์", sort="relevance")
    assert hrefs(relevance) == [f"/letters/{in_subject.pk}/", f"/letters/{in_body.pk}/"]
    assert 'aria-current="page">ตรงกับเรื่องก่อน</a>' in relevance
    assert '<input type="hidden" name="sort" value="relevance">' in relevance  # kept by the next search


def test_filters(agency: Organisation, clerk: Person) -> None:
    urgent = dated(letter(agency, clerk, subject="ขอข้อมูลงบประมาณ", urgency="urgent", owner_unit="กองคลัง"),
                   dt.date(2026, 1, 10))
    enclosure = store_file(blank_pdf(), "application/pdf")
    memo = dated(letter(agency, clerk, type="internal", subject="ขอข้อมูลงบประมาณภายใน", owner_unit="กองกลาง",
                        enclosures=[{"title": "ตาราง", "sha256": enclosure.sha256, "filename": "ตาราง.pdf"}]),
                 dt.date(2026, 2, 20))
    incoming = paper(agency, clerk, "ขอข้อมูลงบประมาณจากจังหวัด")
    client = client_for(clerk)

    def found(**filters: Any) -> set[str]:
        return set(hrefs(page(client, q="ขอข้อมูลงบประมาณ", **filters)))

    everything = {f"/letters/{urgent.pk}/", f"/letters/{memo.pk}/", f"/inbox/{incoming.pk}/"}
    assert found() == everything
    assert found(kind="in") == {f"/inbox/{incoming.pk}/"}
    assert found(kind="out") == everything - {f"/inbox/{incoming.pk}/"}
    assert found(type="internal") == {f"/letters/{memo.pk}/"}
    assert found(type="incoming_paper") == {f"/inbox/{incoming.pk}/"}
    assert found(status="registered") == {f"/inbox/{incoming.pk}/"}
    assert found(urgency="urgent") == {f"/letters/{urgent.pk}/"}
    assert found(unit="กองกลาง") == {f"/letters/{memo.pk}/"}
    assert found(has_attachment="on") == {f"/letters/{memo.pk}/"}  # an enclosure (a paper letter's scan is no
    # enclosure: it is the letter itself)
    assert found(date_from="1/2/2569", date_to="๒๘/๒/๒๕๖๙") == {f"/letters/{memo.pk}/"}  # พ.ศ., Thai digits too
    assert found(date_to="31/1/2569") == {f"/letters/{urgent.pk}/", f"/inbox/{incoming.pk}/"}
    html = page(client, q="ขอข้อมูลงบประมาณ", kind="out", urgency="very_urgent")
    assert "ไม่พบหนังสือที่ตรงกับคำค้น" in html and "ลองใช้คำให้น้อยลง" in html
    assert re.search(r"<details class=\"more\" open>", html)  # the filters chosen stay in view


@pytest.mark.parametrize("bad", ["1/13/2569", "31/2/2569", "2026-01-01", "1/1/2026", "เมื่อวาน"])
def test_a_bad_buddhist_era_date_is_a_message_in_the_form(agency: Organisation, clerk: Person, bad: str) -> None:
    letter(agency, clerk, subject="ขอข้อมูลงบประมาณ")
    html = page(client_for(clerk), 400, q="ขอข้อมูลงบประมาณ", date_from=bad)
    assert "ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ." in html and 'class="field-error"' in html
    assert f'value="{bad}"' in html and "<details class=\"more\" open>" in html
    assert hrefs(html) == []


def test_a_range_ending_before_it_starts(clerk: Person) -> None:
    html = page(client_for(clerk), 400, q="ประชุม", date_from="1/3/2569", date_to="1/2/2569")
    assert "วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น" in html


def test_a_too_long_or_too_wordy_search_shows_the_engines_message(clerk: Person) -> None:
    html = page(client_for(clerk), 400, q="ก" * 501)
    assert "คำค้นยาวเกิน 500 ตัวอักษร" in html and 'class="field-error"' in html
    assert "The search is longer than 500" in page(client_for(clerk, "en"), 400, q="ก" * 501)
    assert "ค้นได้ครั้งละไม่เกิน 10 คำ" in page(client_for(clerk), 400, q=" ".join(["คำ"] * 11))
    assert "ตัวเลือกนี้ไม่มีในรายการ" in page(client_for(clerk), 400, q="ประชุม", kind="elsewhere")


def test_another_organisations_letters_never_appear(
    agency: Organisation, clerk: Person, other_org: Organisation, other_clerk: Person,
) -> None:
    mine = letter(agency, clerk, subject="งบประมาณของสำนักงานปลัด")
    theirs = letter(other_org, other_clerk, subject="งบประมาณของจังหวัดนนทบุรีลับเฉพาะ")
    their_paper = paper(other_org, other_clerk, "งบประมาณที่จังหวัดรับไว้")
    html = page(client_for(clerk), q="งบประมาณ")
    assert hrefs(html) == [f"/letters/{mine.pk}/"]
    assert "ลับเฉพาะ" not in html and "จังหวัดรับไว้" not in html
    assert set(hrefs(page(client_for(other_clerk), q="งบประมาณ"))) == {
        f"/letters/{theirs.pk}/", f"/inbox/{their_paper.pk}/"}


def test_a_classified_letter_only_with_a_grant(agency: Organisation, clerk: Person) -> None:
    secret = letter(agency, clerk, subject="งบประมาณลับของสำนักงาน", secrecy="confidential")
    plain = letter(agency, clerk, subject="งบประมาณทั่วไปของสำนักงาน")
    colleague = create_person(username="colleague", name_th="นางสาวร่วมงาน ดี", password=PASSWORD)
    assign_role(colleague, agency, "central_clerk")
    html = page(client_for(colleague), q="งบประมาณ")
    assert hrefs(html) == [f"/letters/{plain.pk}/"] and "งบประมาณลับ" not in html
    grant_secrecy(colleague, agency, "confidential", actor=None)
    html = page(client_for(colleague), q="งบประมาณ")
    assert hrefs(html) == [f"/letters/{plain.pk}/", f"/letters/{secret.pk}/"]
    assert '<span class="secret">ลับ</span>' in html


@pytest.mark.parametrize("path", ["/work/", "/inbox/", "/outbox/", "/letters/drafts/", "/registers/", "/directory/"])
def test_the_search_box_is_on_every_page(clerk: Person, path: str) -> None:
    response = client_for(clerk).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    box = re.search(r'<form class="navsearch" method="get" action="/search/" role="search"[^>]*>(.*?)</form>', nav,
                    flags=re.S)
    assert box is not None, path
    assert re.search(r'<input id="nav-q" type="search" name="q"[^>]*data-search-global>', box.group(1))
    assert 'for="nav-q"' in box.group(1)  # labelled for screen readers
    # Pages with a search box of their own keep it for "/": the menu's box is only the fallback.
    own = re.findall(r"data-search(?=[\s>=])", html)
    assert len(own) == (1 if path in ("/registers/", "/directory/") else 0), path


def test_no_search_box_for_visitors(agency: Organisation) -> None:
    html = Client().get("/accounts/login/").content.decode()
    assert "navsearch" not in html and "data-search-global" not in html


def test_the_shortcut_prefers_the_pages_own_box() -> None:
    from pathlib import Path

    import saraban.web

    script = (Path(saraban.web.__file__).parent / "static" / "web" / "saraban.js").read_text(encoding="utf-8")
    assert 'document.querySelector("[data-search]") || document.querySelector("[data-search-global]")' in script
