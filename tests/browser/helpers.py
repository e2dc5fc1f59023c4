"""What the browser tests share: signing in and out, the main menu, work-queue tasks, fetching the PDFs."""

from __future__ import annotations

import datetime as dt
import io
import re

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.helpers import PASSWORD

from .conftest import SCREENSHOTS

PDFS = SCREENSHOTS.parent / "pdf"


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page as a clerk does (type, Enter) and land on the work queue."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ชื่อผู้ใช้").fill(username)
    page.get_by_label("รหัสผ่าน").fill(password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/work/")


def sign_out(page: Page, base: str) -> None:
    """Press ออกจากระบบ in the top bar and land on the sign-in page."""
    page.get_by_role("button", name="ออกจากระบบ").click()
    page.wait_for_url(f"{base}/accounts/login/")


def menu(page: Page, label: str) -> None:
    """Follow the main menu's item ``label`` (e.g. "หนังสือเข้า"; its access key is shown after it)."""
    nav = page.get_by_role("navigation", name="เมนูหลัก")
    nav.get_by_role("link", name=re.compile(rf"^{re.escape(label)}\s*[A-Z]?$")).click()


def open_task(page: Page, section: str, subject: str) -> None:
    """On the work queue, open the item ``subject`` of the section headed ``section`` (e.g. "รอลงนาม")."""
    name = re.compile(rf"^{re.escape(section)} \d+$")  # the heading is "รอลงนาม 1": the title, then the count
    box = page.get_by_role("region", name=name)
    expect(box).to_be_visible()
    box.get_by_role("link", name=subject).click()


def be_date(day: dt.date) -> str:
    """A date as a clerk types it in the forms: "d/m/พ.ศ."."""
    return f"{day.day}/{day.month}/{day.year + 543}"


def fetch_pdf(page: Page, base: str, link_name: str, save_as: str) -> bytes:
    """Fetch the PDF behind the link ``link_name`` with the page's session; keep it in test-output/pdf/."""
    href = page.get_by_role("link", name=link_name).first.get_attribute("href")
    assert href, f"no link “{link_name}”"
    response = page.request.get(base + href.split("#")[0])
    assert response.ok and response.headers["content-type"] == "application/pdf", response.status
    data = response.body()
    assert data.startswith(b"%PDF"), data[:20]
    PDFS.mkdir(parents=True, exist_ok=True)
    (PDFS / f"{save_as}.pdf").write_bytes(data)
    return data


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, for a look at what it prints."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)

