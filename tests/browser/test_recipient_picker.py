"""The editor's recipient picker in the browser: search as one types, pick with the keyboard or a click, save.

The directory lists many organisations, one of them hosted by another Saraban deployment; the
editor lists none of them until they are searched. The clerk types part of a name (ส่งถึง) and a
letter code without its space (สำเนาส่ง), picks, removes one again, saves the draft and finds the
recipients kept when editing it. Screenshots at 1366×768 and at 768×1024 (a tablet upright):
``test-output/screenshots/40-…`` to ``44-…``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from saraban.correspondence.models import Letter, RecipientKind
from saraban.directory.models import Organisation, Person
from saraban.directory.services import create_organisation

from .conftest import SCREENSHOTS, shot
from .helpers import sign_in

SUBJECT = "ขอความร่วมมือตอบแบบสำรวจการใช้ระบบสารบรรณอิเล็กทรอนิกส์"


def shots(page: Page, name: str) -> None:
    """The whole page (``name``) and what the screen shows now (``name-view``: an open list of matches)."""
    shot(page, name)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-view.png"))


@pytest.fixture
def directory(db: None) -> dict[str, Organisation]:
    """Organisations to find among many: a municipality, a province and its unit, a university elsewhere."""
    orgs = {
        "municipality": create_organisation(
            identifier="nont-city", kind="municipality", name_th="เทศบาลนครนนทบุรี",
            name_en="Nonthaburi City Municipality", letter_code="นบ 52001", category="lao"),
        "province": create_organisation(
            identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี", name_en="Nonthaburi Province",
            letter_code="นบ 0017", category="other"),
        "remote": create_organisation(
            identifier="cmu", kind="state_body", name_th="มหาวิทยาลัยเชียงใหม่", name_en="Chiang Mai University",
            letter_code="อว 8393", category="mhesi", home_deployment="mhesi.saraban.go.th"),
    }
    create_organisation(identifier="nont-finance", parent=orgs["province"], kind="division",
                        name_th="กองคลัง จังหวัดนนทบุรี", category="other")  # another's unit: never offered
    Organisation.objects.bulk_create([
        Organisation(identifier=f"sao-{i}", kind="sao", name_th=f"องค์การบริหารส่วนตำบลทดสอบ {i:03}",
                     letter_code=f"นบ 7{i:04}", category="lao") for i in range(200)
    ])
    return orgs


@pytest.mark.django_db(transaction=True)
def test_search_pick_remove_save_and_find_the_recipients_kept(
    live_server: object, page: Page, agency: Organisation, clerk: Person, signer: Person,
    directory: dict[str, Organisation],
) -> None:
    base: str = live_server.url  # type: ignore[attr-defined]
    expect.set_options(timeout=15_000)
    sign_in(page, base, "clerk")
    page.goto(f"{base}/letters/new/?type=external")
    expect(page.locator("select[name=to] option")).to_have_count(0)  # no organisation listed up front
    page.get_by_label("เรื่อง", exact=True).fill(SUBJECT)
    page.get_by_label("เรียน / ถึง").fill("นายกเทศมนตรีนครนนทบุรี")
    page.get_by_label("ข้อความ (เว้นบรรทัดว่างระหว่างย่อหน้า)").fill("ด้วยสำนักงานปลัดสำนักนายกรัฐมนตรีขอความร่วมมือตอบแบบสำรวจ")
    page.get_by_label("ผู้ลงนาม", exact=True).select_option(label="นายธีรวัฒน์ ศรีสวัสดิ์ — รองปลัดสำนักนายกรัฐมนตรี")
    page.get_by_label("ส่วนราชการเจ้าของเรื่อง").fill("กองกลาง")

    # ส่งถึง: part of a name; the matches (not another organisation's unit); arrow keys and Enter pick.
    to_box = page.get_by_role("combobox", name="ส่งถึงหน่วยงาน", exact=True)
    to_box.press_sequentially("นนทบุ", delay=40)
    options = page.get_by_role("listbox", name="ส่งถึงหน่วยงาน").get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("จังหวัดนนทบุรี")
    expect(options.nth(0)).to_contain_text("นบ 0017")
    expect(options.nth(1)).to_contain_text("เทศบาลนครนนทบุรี")
    expect(to_box).to_have_attribute("aria-expanded", "true")
    shots(page, "40-picker-matches")
    to_box.press("ArrowDown")
    to_box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    to_box.press("Enter")  # adds; does not submit the form
    to_chosen = page.get_by_role("list", name=re.compile("^ส่งถึงหน่วยงาน"))
    expect(to_chosen.get_by_role("listitem")).to_have_count(1)
    expect(to_chosen).to_contain_text("เทศบาลนครนนทบุรี")
    expect(to_box).to_have_value("")
    expect(to_box).to_be_focused()
    assert page.url.endswith("/letters/new/?type=external")

    # สำเนาส่ง: a letter code typed without its space finds the university of the other deployment.
    cc_box = page.get_by_role("combobox", name="สำเนาส่ง", exact=True)
    cc_box.press_sequentially("อว8393", delay=40)
    university = page.get_by_role("listbox", name="สำเนาส่ง").get_by_role("option", name=re.compile("มหาวิทยาลัยเชียงใหม่"))
    expect(university).to_be_visible()
    expect(university.locator(".tag.remote")).to_have_text("ระบบอื่น")
    shots(page, "41-picker-remote")
    university.click()
    cc_chosen = page.get_by_role("list", name=re.compile("^สำเนาส่ง"))
    expect(cc_chosen).to_contain_text("มหาวิทยาลัยเชียงใหม่")
    expect(cc_chosen).to_contain_text("ระบบอื่น")

    # One more copy, then removed again with its button.
    cc_box.press_sequentially("จังหวัดนนท", delay=40)
    expect(page.get_by_role("listbox", name="สำเนาส่ง").get_by_role("option")).to_have_count(1)
    cc_box.press("Enter")  # Enter takes the first match
    expect(cc_chosen.get_by_role("listitem")).to_have_count(2)
    page.get_by_role("button", name="นำออก จังหวัดนนทบุรี").click()
    expect(cc_chosen.get_by_role("listitem")).to_have_count(1)
    expect(page.locator(".picker-status").last).to_have_text("นำ จังหวัดนนทบุรี ออกแล้ว")
    page.locator(".picker").first.scroll_into_view_if_needed()
    shot(page, "42-picker-chosen")

    # A tablet held upright: one column; the list of matches still fits under its box.
    page.set_viewport_size({"width": 768, "height": 1024})
    to_box.press_sequentially("เทศบาล", delay=40)
    expect(page.get_by_role("listbox", name="ส่งถึงหน่วยงาน")).to_be_hidden()  # the one match is chosen already
    to_box.fill("")
    to_box.press_sequentially("องค์การบริหาร", delay=40)
    expect(page.get_by_role("listbox", name="ส่งถึงหน่วยงาน").get_by_role("option")).to_have_count(20)
    to_box.scroll_into_view_if_needed()
    shots(page, "43-picker-768")
    to_box.press("Escape")
    expect(page.get_by_role("listbox", name="ส่งถึงหน่วยงาน")).to_be_hidden()
    page.set_viewport_size({"width": 1366, "height": 768})

    # Saved: the draft keeps them, in order, and the editor shows them chosen again.
    page.get_by_role("button", name="บันทึกร่าง").click()
    page.wait_for_url(re.compile(r"/letters/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("บันทึกร่างแล้ว")
    letter = Letter.objects.get(subject=SUBJECT)
    assert [(r.organisation_id, r.kind) for r in letter.recipients.order_by("position")] == [
        (directory["municipality"].pk, RecipientKind.TO), (directory["remote"].pk, RecipientKind.CC)]
    page.goto(f"{base}/letters/{letter.pk}/edit/")
    expect(page.get_by_role("list", name=re.compile("^ส่งถึงหน่วยงาน"))).to_contain_text("เทศบาลนครนนทบุรี")
    cc_chosen = page.get_by_role("list", name=re.compile("^สำเนาส่ง"))
    expect(cc_chosen).to_contain_text("มหาวิทยาลัยเชียงใหม่")
    expect(cc_chosen).to_contain_text("ระบบอื่น")
    page.get_by_role("combobox", name="ส่งถึงหน่วยงาน", exact=True).scroll_into_view_if_needed()
    shot(page, "44-picker-kept")
