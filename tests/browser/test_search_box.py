"""The letters' search box of the main menu: "/" on the inbox, a Thai query, Enter, the hit marked in its passage.

Pages with a search box of their own (the registers) keep "/" for it. At a phone's width (390 px) the
menu's box takes a row of its own and nothing is wider than the screen. Screenshots:
``test-output/screenshots/60-…`` to ``65-…``.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person
from saraban.search.indexing import index_object
from tests.web.test_workflow_pages import draft

from .conftest import shot
from .helpers import sign_in

PHONE: ViewportSize = {"width": 390, "height": 844}
WIDE: ViewportSize = {"width": 1366, "height": 768}


def _letter(agency: Organisation, clerk: Person, **changes: Any) -> Letter:
    made = draft(agency, clerk, **changes)
    index_object("out", made.pk)
    return made


def _fits(page: Page) -> None:
    """Nothing is wider than the window, and the menu's search box is wholly inside it."""
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator(".navsearch").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box


@pytest.mark.django_db(transaction=True)
def test_slash_then_a_thai_query_shows_the_hit_marked(
    live_server: object, page: Page, agency: Organisation, clerk: Person,
) -> None:
    base: str = live_server.url  # type: ignore[attr-defined]
    found = _letter(agency, clerk, subject="ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณอิเล็กทรอนิกส์", urgency="urgent",
                    body=["ด้วยสำนักงานจะจัดประชุมเพื่อติดตามการใช้งานระบบสารบรรณอิเล็กทรอนิกส์ของหน่วยงานในสังกัด"])
    _letter(agency, clerk, subject="ขออนุมัติเดินทางไปราชการ", body=["เรื่องอื่นโดยสิ้นเชิง"])
    sign_in(page, base, "clerk")
    page.goto(f"{base}/inbox/")
    nav_box = page.get_by_role("search", name="ค้นหาหนังสือ").get_by_role("searchbox", name="ค้นหาหนังสือ")
    expect(nav_box).to_be_visible()
    page.evaluate("document.activeElement && document.activeElement.blur()")  # nothing focused that takes text
    page.keyboard.press("/")
    expect(nav_box).to_be_focused()
    expect(nav_box).to_have_value("")  # the "/" jumped, it was not typed
    page.keyboard.type("ติดตามการใช้งาน")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    results = page.get_by_role("region", name="ผลการค้นหา")
    link = results.get_by_role("link", name="ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณอิเล็กทรอนิกส์")
    expect(link).to_have_attribute("href", f"/letters/{found.pk}/")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results.locator(".passage mark")).to_have_text("ติดตามการใช้งาน")
    expect(results.locator(".urg")).to_have_text("ด่วน")
    expect(page.get_by_role("searchbox", name="ค้นหา")).to_have_value("ติดตามการใช้งาน")  # the page's own box
    colour = results.locator(".passage mark").evaluate("m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour
    shot(page, "60-search-results-1366")

    # The same page on a phone: each hit a block, the passage readable, nothing wider than the screen.
    page.set_viewport_size(PHONE)
    expect(results.locator(".passage mark")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "61-search-results-390")

    # The inbox on a phone: the menu's box on a row of its own, inside the screen.
    page.goto(f"{base}/inbox/")
    _fits(page)
    first_item = page.locator(".mainnav li").first.bounding_box()
    search_row = page.locator(".navsearch").bounding_box()
    assert first_item and search_row and search_row["y"] >= first_item["y"] + first_item["height"] - 1
    shot(page, "62-inbox-search-box-390")
    page.keyboard.press("/")
    expect(nav_box).to_be_focused()

    # At 1366 px the box sits at the right end of the menu's row.
    page.set_viewport_size(WIDE)
    _fits(page)
    nav = page.locator(".mainnav").bounding_box()
    search_row = page.locator(".navsearch").bounding_box()
    assert nav and search_row and nav["x"] + nav["width"] - (search_row["x"] + search_row["width"]) < 40
    shot(page, "63-inbox-search-box-1366")

    # The registers have a search box of their own: "/" goes there, not to the menu's.
    page.goto(f"{base}/registers/")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()
    expect(nav_box).not_to_be_focused()

    # Nothing found: a friendly line.
    nav_box.fill("ไม่มีคำนี้ในหนังสือใดเลย")
    nav_box.press("Enter")
    page.wait_for_url("**/search/?q=*")
    expect(page.get_by_text("ไม่พบหนังสือที่ตรงกับคำค้น")).to_be_visible()
    shot(page, "64-search-nothing-found-1366")

    # The filters: a date typed in พ.ศ. that cannot be is a message beside it, the filters left open.
    page.get_by_text("ตัวกรอง", exact=True).click()
    page.get_by_label("ลงวันที่ตั้งแต่").fill("31/2/2569")
    page.get_by_role("button", name="กรอง", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ.")).to_be_visible()
    shot(page, "65-search-bad-date-1366")
