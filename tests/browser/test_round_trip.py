"""One external letter, all the way round through the browser, between two organisations.

สำนักงานปลัดสำนักนายกรัฐมนตรี (นร 0105) drafts, reviews, signs, numbers and sends a letter to
เทศบาลนครนนทบุรี (นบ 52001), whose registry registers it, whose mayor endorses and assigns it to
สำนักปลัดเทศบาล, which acts on it, and the registry closes it; the sender then sees it registered.
Only the organisations and people are set up through the services; everything else is clicks and keys.
Screenshots of each step: ``test-output/screenshots/10-…`` to ``31-…``; the preview, the sent letter,
the original and the stamped copy as received: ``test-output/pdf/``.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from saraban.access.policy import today
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from tests.helpers import PASSWORD

from .conftest import shot
from .helpers import be_date, fetch_pdf, menu, open_task, pdf_text, sign_in, sign_out

SUBJECT = "ขอเชิญประชุมคณะทำงานขับเคลื่อนระบบสารบรรณอิเล็กทรอนิกส์"
RECIPIENT = "นายกเทศมนตรีนครนนทบุรี"
BODY = (
    "ด้วยสำนักงานปลัดสำนักนายกรัฐมนตรีกำหนดจัดประชุมคณะทำงานขับเคลื่อนระบบสารบรรณอิเล็กทรอนิกส์ "
    "ในวันพุธที่ 14 มกราคม 2569 เวลา 09.30 น. ณ ห้องประชุม 501 ทำเนียบรัฐบาล\n\n"
    "สำนักงานปลัดสำนักนายกรัฐมนตรีพิจารณาแล้วเห็นว่าเทศบาลนครนนทบุรีเป็นหน่วยงานนำร่อง "
    "จึงขอเชิญท่านหรือผู้แทนเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว\n\n"
    "จึงเรียนมาเพื่อโปรดพิจารณา"
)
INSTRUCTION = "ทราบ มอบสำนักปลัดเทศบาลดำเนินการ"
NOTE = "แจ้งผู้แทนเข้าร่วมประชุมแล้ว ตามหนังสือที่ นบ 52001/123"


@pytest.fixture
def reviewer(agency: Organisation) -> Person:
    person = create_person(username="reviewer", name_th="นางรัตนา พูนผล", password=PASSWORD)
    assign_role(person, agency, "reviewer", position_title="ผู้อำนวยการกองกลาง")
    return person


@pytest.fixture
def municipality(db: None) -> Organisation:
    return create_organisation(
        identifier="nont-city", kind="municipality", name_th="เทศบาลนครนนทบุรี",
        name_en="Nonthaburi City Municipality", letter_code="นบ 52001", category="lao",
        address="ถนนรัตนาธิเบศร์ ตำบลบางกระสอ\nอำเภอเมืองนนทบุรี จังหวัดนนทบุรี 11000", phone="0 2589 0500",
    )


@pytest.fixture
def municipal_office(municipality: Organisation) -> Organisation:
    return create_organisation(identifier="nont-city-office", parent=municipality, kind="division",
                               name_th="สำนักปลัดเทศบาล", category="lao")


@pytest.fixture
def staff(municipality: Organisation, municipal_office: Organisation) -> dict[str, Person]:
    """The municipality's registry clerk, its mayor, and an officer of สำนักปลัดเทศบาล."""
    clerk = create_person(username="nont.clerk", name_th="นางสาวมาลี ใจดี", password=PASSWORD)
    assign_role(clerk, municipality, "central_clerk", position_title="เจ้าพนักงานธุรการปฏิบัติงาน")
    mayor = create_person(username="nont.mayor", name_th="นายสมนึก ธนเดชากุล", password=PASSWORD)
    assign_role(mayor, municipality, "signer", position_title="นายกเทศมนตรีนครนนทบุรี")
    officer = create_person(username="nont.officer", name_th="นายวิชัย สุขสวัสดิ์", password=PASSWORD)
    assign_role(officer, municipal_office, "officer", position_title="นักจัดการงานทั่วไปชำนาญการ")
    return {"clerk": clerk, "mayor": mayor, "officer": officer}


def _status(page: Page) -> str:
    """The letter's state as the details card shows it (สถานะ)."""
    return page.locator("dl.details dt:text-is('สถานะ') + dd").inner_text().strip()


@pytest.mark.django_db(transaction=True)
def test_one_letter_goes_round_two_organisations(
    live_server: object, page: Page, clerk: Person, signer: Person, reviewer: Person,
    municipality: Organisation, municipal_office: Organisation, staff: dict[str, Person],
) -> None:
    base: str = live_server.url  # type: ignore[attr-defined]
    expect.set_options(timeout=15_000)

    # --- the author drafts an external letter ------------------------------------------------------
    sign_in(page, base, "clerk")
    menu(page, "ร่างหนังสือ")
    page.wait_for_url(f"{base}/letters/drafts/")
    page.get_by_label("ร่างหนังสือใหม่").select_option(label="หนังสือภายนอก")
    page.get_by_role("button", name="เริ่มร่าง").click()
    page.wait_for_url(re.compile(r"/letters/new/\?type=external$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("หนังสือภายนอก")
    expect(page.get_by_label("คำขึ้นต้น")).to_have_value("เรียน")
    expect(page.get_by_label("คำลงท้าย")).to_have_value("ขอแสดงความนับถือ")
    shot(page, "10-editor")

    page.get_by_label("เรื่อง", exact=True).fill(SUBJECT)
    page.get_by_label("เรียน / ถึง").fill(RECIPIENT)
    page.get_by_label("สิ่งที่ส่งมาด้วย (บรรทัดละรายการ)").fill("กำหนดการประชุม\nแผนที่ทำเนียบรัฐบาล")
    page.get_by_label("ข้อความ (เว้นบรรทัดว่างระหว่างย่อหน้า)").fill(BODY)
    page.get_by_label("ผู้ลงนาม", exact=True).select_option(label="นายธีรวัฒน์ ศรีสวัสดิ์ — รองปลัดสำนักนายกรัฐมนตรี")
    page.get_by_label("ส่วนราชการเจ้าของเรื่อง").fill("กองกลาง")
    page.get_by_label("ไปรษณีย์อิเล็กทรอนิกส์").fill("saraban@opm.go.th")
    page.get_by_label("ชั้นความเร็ว").select_option(label="ด่วน")
    # The recipient: type part of its name, the matches appear, the arrow key and Enter pick the municipality.
    to_box = page.get_by_role("combobox", name="ส่งถึงหน่วยงาน", exact=True)
    to_box.fill("นนทบุรี")
    expect(page.get_by_role("option", name=re.compile("^เทศบาลนครนนทบุรี"))).to_be_visible()
    to_box.press("ArrowDown")
    to_box.press("Enter")
    expect(page.get_by_role("list", name=re.compile("^ส่งถึงหน่วยงาน"))).to_contain_text("เทศบาลนครนนทบุรี")
    preview = page.get_by_title("ตัวอย่างหนังสือ", exact=True)
    expect(preview).to_be_visible()
    expect(page.get_by_label("ยังขาด")).to_have_count(0)  # nothing is missing from the letter
    fetch_pdf(page, base, "เปิดในแท็บใหม่", "11-preview")
    page.wait_for_timeout(500)  # let the PDF viewer paint
    shot(page, "11-preview")

    page.get_by_role("button", name="บันทึกร่าง").click()
    page.wait_for_url(re.compile(r"/letters/\d+/$"))
    letter_url = page.url
    expect(page.get_by_role("status")).to_contain_text("บันทึกร่างแล้ว")
    assert _status(page) == "ร่าง"
    shot(page, "12-draft-saved")

    page.get_by_label("ผู้ตรวจลำดับที่ 1").select_option(label="นางรัตนา พูนผล — ผู้อำนวยการกองกลาง")
    page.get_by_label("ผู้ลงนาม", exact=True).select_option(label="นายธีรวัฒน์ ศรีสวัสดิ์ — รองปลัดสำนักนายกรัฐมนตรี")
    page.get_by_role("button", name="ส่งตรวจ", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("ส่งตรวจแล้ว")
    assert _status(page) == "รอตรวจสอบ"
    shot(page, "13-submitted")
    sign_out(page, base)

    # --- the reviewer approves -----------------------------------------------------------------------
    sign_in(page, base, "reviewer")
    shot(page, "14-reviewer-queue")
    open_task(page, "รอตรวจสอบ", SUBJECT)
    page.get_by_label("ความเห็น").first.fill("ถูกต้องตามระเบียบ")
    page.get_by_role("button", name="ผ่านการตรวจ").click()
    expect(page.get_by_role("status")).to_contain_text("ผ่านการตรวจแล้ว")
    assert _status(page) == "อนุมัติแล้ว"
    shot(page, "15-approved")
    sign_out(page, base)

    # --- the signer: a wrong password first, then the right one --------------------------------------
    sign_in(page, base, "signer")
    open_task(page, "รอลงนาม", SUBJECT)
    password = page.get_by_label("รหัสผ่านหรือ PIN")
    password.fill("wrong-Pass-0000")
    password.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("รหัสผ่านไม่ถูกต้อง ไม่สามารถลงนามได้")
    assert _status(page) == "อนุมัติแล้ว"  # not signed
    shot(page, "16-sign-wrong-password")
    password = page.get_by_label("รหัสผ่านหรือ PIN")
    password.fill(PASSWORD)
    password.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("ลงนามแล้ว")
    assert _status(page) == "ลงนามแล้ว"
    expect(page.get_by_text("SHA-256")).to_be_visible()
    shot(page, "17-signed")
    sign_out(page, base)

    # --- the sender's registry numbers and sends it --------------------------------------------------
    sign_in(page, base, "clerk")
    open_task(page, "รอออกเลข", SUBJECT)
    page.get_by_role("button", name="ออกเลขหนังสือ").click()
    expect(page.get_by_role("status")).to_contain_text("ออกเลขหนังสือแล้ว")
    # The page shows the number as stored (Arabic digits); the PDF prints it in Thai digits.
    number = page.locator("dl.details dt:text-is('ที่') + dd")
    expect(number).to_have_text("นร 0105/1")
    shot(page, "18-numbered")
    page.get_by_role("button", name="ส่งหนังสือถึงผู้รับ (1)").click()
    expect(page.get_by_role("status")).to_contain_text("ส่งหนังสือแล้ว")
    assert _status(page) == "ส่งแล้ว"
    recipient_row = page.get_by_role("row", name=re.compile("เทศบาลนครนนทบุรี"))
    expect(recipient_row).to_contain_text("ส่งถึงแล้ว")
    shot(page, "19-sent")
    sent = fetch_pdf(page, base, "เปิด PDF ในแท็บใหม่", "19-sent-letter")
    assert "๐๑๐๕/๑" in pdf_text(sent)  # the PDF prints the number in Thai digits (นร ๐๑๐๕/๑)
    sign_out(page, base)

    # --- the municipality's registry registers it ------------------------------------------------------
    sign_in(page, base, "nont.clerk")
    expect(page.get_by_role("region", name=re.compile(r"^รอลงรับ 1$"))).to_contain_text(SUBJECT)
    shot(page, "20-recipient-work-queue")
    menu(page, "หนังสือเข้า")
    page.wait_for_url(f"{base}/inbox/")
    row = page.get_by_role("row", name=re.compile(re.escape(SUBJECT)))
    expect(row).to_contain_text("นร 0105/1")
    expect(row).to_contain_text("รอลงรับ")
    shot(page, "21-recipient-inbox")
    row.get_by_role("link", name=SUBJECT).click()
    page.wait_for_url(re.compile(r"/inbox/\d+/$"))
    incoming_url = page.url
    register_button = page.get_by_role("button", name="ลงรับ", exact=True)
    expect(register_button).to_be_focused()  # the clerk just presses Enter
    shot(page, "22-incoming-opened")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("ลงรับแล้ว เลขรับ 1")
    expect(page.locator("p.receipt")).to_contain_text("เลขรับ 1")
    stamped = fetch_pdf(page, base, "ฉบับประทับตรารับ", "23-stamped-copy")
    original = fetch_pdf(page, base, "ต้นฉบับ", "23-original")
    assert stamped != original  # the stamp is on a copy; the original is unchanged
    shot(page, "23-registered")
    sign_out(page, base)

    # --- the mayor endorses it and assigns สำนักปลัดเทศบาล, due in a week ----------------------------------
    due = today() + dt.timedelta(days=7)
    sign_in(page, base, "nont.mayor")
    open_task(page, "รอเกษียนสั่งการ", SUBJECT)
    page.get_by_label("มอบหมายรายที่ 1").select_option(label="สำนักปลัดเทศบาล")
    page.get_by_role("button", name="ทราบ", exact=True).click()  # a quick phrase, then type the rest
    page.keyboard.type(" มอบสำนักปลัดเทศบาลดำเนินการ")
    instruction = page.get_by_label("ข้อสั่งการ")
    expect(instruction).to_have_value(INSTRUCTION)
    page.locator("input[name=due_1]").fill(be_date(due))
    shot(page, "24-endorsing")
    page.get_by_role("button", name="บันทึกการเกษียน").click()
    expect(page.get_by_role("status")).to_contain_text("บันทึกการเกษียนแล้ว")
    expect(page.get_by_role("blockquote")).to_contain_text(INSTRUCTION)
    assignment_row = page.get_by_role("row", name=re.compile("^สำนักปลัดเทศบาล"))
    expect(assignment_row).to_contain_text("รอดำเนินการ")
    expect(assignment_row).to_contain_text(str(due.year + 543))
    shot(page, "25-endorsed")
    sign_out(page, base)

    # --- the officer of สำนักปลัดเทศบาล acts on it -----------------------------------------------------------
    sign_in(page, base, "nont.officer")
    expect(page.get_by_role("region", name=re.compile(r"^งานที่ได้รับมอบหมาย 1$"))).to_contain_text(INSTRUCTION)
    shot(page, "26-officer-queue")
    open_task(page, "งานที่ได้รับมอบหมาย", SUBJECT)
    page.get_by_label("ผลการดำเนินการ").fill(NOTE)
    shot(page, "27-officer-acting")
    page.get_by_role("button", name="ดำเนินการแล้ว").click()
    expect(page.get_by_role("status")).to_contain_text("บันทึกผลการดำเนินการแล้ว")
    expect(assignment_row).to_contain_text("ดำเนินการแล้ว")
    expect(assignment_row).to_contain_text(NOTE)
    shot(page, "28-acted")
    sign_out(page, base)

    # --- the municipality's registry closes the file ------------------------------------------------------
    sign_in(page, base, "nont.clerk")
    menu(page, "หนังสือเข้า")
    row = page.get_by_role("row", name=re.compile(re.escape(SUBJECT)))
    expect(row).to_contain_text("ดำเนินการแล้ว")
    shot(page, "29-recipient-inbox-acted")
    row.get_by_role("link", name=SUBJECT).click()
    page.wait_for_url(incoming_url)
    page.get_by_role("button", name="ปิดเรื่อง").click()
    expect(page.get_by_role("status")).to_contain_text("ปิดเรื่องแล้ว")
    assert _status(page) == "ปิดเรื่อง"
    shot(page, "30-recipient-closed")
    sign_out(page, base)

    # --- back at the sender: the recipient registered it, with its receive number -------------------------
    sign_in(page, base, "clerk")
    menu(page, "หนังสือออก")
    page.wait_for_url(f"{base}/outbox/")
    expect(page.get_by_role("main")).to_contain_text("ลงรับแล้ว")
    page.get_by_role("link", name=SUBJECT).first.click()
    page.wait_for_url(letter_url)
    recipient_row = page.get_by_role("row", name=re.compile("เทศบาลนครนนทบุรี"))
    expect(recipient_row).to_contain_text("ลงรับแล้ว")
    expect(recipient_row).to_contain_text("เลขรับ 1")
    shot(page, "31-sender-sees-registered")
