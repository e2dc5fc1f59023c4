"""Batch signing with a PKCS#12 certificate in the browser, then the signature checked on /verify.

The signer of สำนักงานปลัดสำนักนายกรัฐมนตรี holds the test PKI's ``signer.p12`` (registered through the
service, as the certificate page does). Four letters await the signature; the signer opens one from the
work queue, follows "ลงนามหลายฉบับพร้อมกัน", ticks "ทั้งหมด", types the file's password once and watches
the batch finish: every letter is signed and numbered. One signed letter's "ตรวจสอบลายมือชื่อ" opens
/verify with the signature valid; a copy with one byte changed, uploaded to /verify, is explained as
failed. Screenshots: ``test-output/screenshots/50-…`` to ``53-…``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.signatures.models import SigningBatch, SigningCertificate
from saraban.signatures.registry import register_pkcs12
from tests.signatures.conftest import pki  # noqa: F401  (the session's test PKI)
from tests.signatures.pki import PASSWORD as P12_PASSWORD
from tests.signatures.pki import TestPki
from tests.test_letters import example

from .conftest import shot
from .helpers import fetch_pdf, open_task, sign_in

SUBJECTS = [
    "ขอเชิญประชุมคณะทำงานขับเคลื่อนระบบสารบรรณอิเล็กทรอนิกส์",
    "ขอความอนุเคราะห์ข้อมูลการใช้ใบรับรองอิเล็กทรอนิกส์",
    "ขอส่งรายงานผลการดำเนินงานไตรมาสที่ 1",
    "ขอแจ้งกำหนดการอบรมการลงลายมือชื่อดิจิทัล",
]
_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


@pytest.fixture
def trusting(pki: TestPki, settings: Any) -> None:  # noqa: F811
    """The server trusts the test PKI's root (the demo deployment ships it the same way)."""
    settings.SARABAN_TRUST_ROOTS = [str(pki.path("root.cert.pem"))]


@pytest.fixture
def certificate(pki: TestPki, agency: Organisation, signer: Person) -> SigningCertificate:  # noqa: F811
    """The signer's PKCS#12 certificate, registered in the agency."""
    data = pki.path("signer.p12").read_bytes()
    return register_pkcs12(organisation=agency, holder=signer, data=data, password=P12_PASSWORD, actor=signer)


@pytest.fixture
def letters(agency: Organisation, clerk: Person, signer: Person) -> list[Letter]:
    """Four external letters approved and awaiting the signer."""
    made = []
    for subject in SUBJECTS:
        letter = create_letter(agency, example("external", subject=subject), author=clerk)
        made.append(submit_for_review(letter, actor=clerk, reviewers=[], signer=signer))
    return made


def tampered(signed: bytes) -> bytes:
    """``signed`` with one byte changed inside the signed range (the first range, past the header)."""
    found = _BYTE_RANGE.search(signed)
    assert found, "the signed PDF has no /ByteRange"
    start, length = int(found.group(1)), int(found.group(2))
    # A byte inside the last stream of the signed range: the file still parses, the content differs.
    streams = [m.end() for m in _STREAM.finditer(signed, start, start + length)]
    assert streams, "no stream in the signed range"
    at = streams[-1] + 10
    assert start <= at < start + length
    changed = bytearray(signed)
    changed[at] ^= 0x01
    return bytes(changed)


@pytest.fixture
def unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each letter of a batch takes a moment longer, so the page is seen polling before the batch ends."""
    from saraban.correspondence import workflow

    real_sign = workflow.sign_letter

    def slow_sign(letter: Letter, **kwargs: Any) -> Any:
        time.sleep(0.8)
        return real_sign(letter, **kwargs)

    monkeypatch.setattr(workflow, "sign_letter", slow_sign)  # the batch's thread looks it up at each run


@pytest.mark.django_db(transaction=True)
def test_a_signer_signs_four_letters_at_once_and_checks_one(
    live_server: object, page: Page, tmp_path: Path, signer: Person, certificate: SigningCertificate,
    letters: list[Letter], trusting: None, unhurried: None,
) -> None:
    base: str = live_server.url  # type: ignore[attr-defined]
    expect.set_options(timeout=15_000)

    # --- from the work queue to the batch page ------------------------------------------------------
    sign_in(page, base, "signer")
    open_task(page, "รอลงนาม", SUBJECTS[0])
    page.get_by_role("link", name="ลงนามหลายฉบับพร้อมกัน").click()
    page.wait_for_url(f"{base}/work/sign/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("รอการลงนามของท่าน 4 ฉบับ")
    boxes = page.locator('input[name="letters"]')
    expect(boxes).to_have_count(4)
    for subject in SUBJECTS:
        expect(page.get_by_role("main")).to_contain_text(subject)

    # --- choose all, the certificate, one password ----------------------------------------------------
    page.get_by_role("checkbox", name="เลือกทั้งหมด").check()
    for n in range(4):
        expect(boxes.nth(n)).to_be_checked()
    how = page.get_by_role("radio", name=re.compile(r"^ลายมือชื่อดิจิทัล: "))
    expect(how).to_be_checked()  # the registered certificate is offered first
    page.get_by_label("รหัสผ่านหรือ PIN").fill(P12_PASSWORD)
    shot(page, "50-batch-signing")
    page.get_by_role("button", name="ลงนามฉบับที่เลือก").click()
    page.wait_for_url(re.compile(r"/work/sign/\d+/$"))

    # --- the progress bar, updated every second by htmx, reaches 100 % ---------------------------------
    progress = page.locator("#batch label[for=batch-bar]")
    first = progress.inner_text()
    assert first.startswith("กำลังลงนาม…") and not first.endswith("100%"), first
    expect(progress).to_contain_text("ลงนามครบทุกฉบับแล้ว", timeout=60_000)
    expect(progress).to_contain_text("100%")
    bar = page.locator("#batch-bar")
    expect(bar).to_have_attribute("value", "4")
    expect(bar).to_have_attribute("max", "4")
    rows = page.locator("#batch tbody tr")
    expect(rows).to_have_count(4)
    numbers = {rows.nth(n).locator("td").nth(2).inner_text().strip() for n in range(4)}
    assert numbers == {f"นร 0105/{n}" for n in range(1, 5)}, numbers
    # The last poll can show a row as still waiting (the view reads the rows before the counts: see the
    # report); the page as loaded afresh must show every letter signed.
    page.reload()
    expect(progress).to_contain_text("ลงนามครบทุกฉบับแล้ว 100%")
    for n in range(4):
        expect(rows.nth(n).locator("td").nth(3)).to_have_text("ลงนามแล้ว")
        expect(rows.nth(n).locator("td").nth(2)).to_have_text(re.compile(r"^นร 0105/[1-4]$"))
    shot(page, "51-batch-done")
    batch = SigningBatch.objects.get(signer=signer)
    assert batch.status == "done"
    assert all(x.status == LetterStatus.NUMBERED for x in Letter.objects.filter(pk__in=[y.pk for y in letters]))

    # --- one signed letter: its page links to /verify, which says the signature is valid -----------------
    rows.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/letters/\d+/$"))
    expect(page.get_by_role("main")).to_contain_text("PAdES B-B")
    signed_pdf = fetch_pdf(page, base, "เปิด PDF ในแท็บใหม่", "52-batch-signed-letter")
    page.get_by_role("link", name="ตรวจสอบลายมือชื่อ").click()
    page.wait_for_url(re.compile(r"/verify\?d=[0-9a-f]{64}$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("เอกสารนี้ออกจากระบบสารบรรณ")
    expect(main).to_contain_text(signer.display_name)
    expect(main.locator(".verdict .badge")).to_have_text("ถูกต้อง")
    expect(main.locator(".verdict")).to_contain_text("TOTAL_PASSED")
    expect(main).to_contain_text("ถูกต้อง เชื่อถือได้")
    expect(main).to_contain_text("ไม่มีการเปลี่ยนแปลงหลังลงนาม")
    shot(page, "52-verify-from-letter")

    # --- a copy with one byte changed, uploaded to /verify, is explained as failed --------------------------
    copy = tmp_path / "หนังสือที่ถูกแก้ไข.pdf"
    copy.write_bytes(tampered(signed_pdf))
    page.goto(f"{base}/verify")
    page.locator('input[name="pdf"]').set_input_files(str(copy))
    page.get_by_role("button", name="ตรวจสอบ").click()
    main = page.get_by_role("main")
    expect(main.locator(".verdict .badge")).to_have_text("ไม่ถูกต้อง")
    expect(main.locator(".verdict")).to_contain_text("TOTAL_FAILED / HASH_FAILURE")
    expect(main).to_contain_text("ไม่ถูกต้อง")
    expect(main).to_contain_text("เอกสารถูกแก้ไขหลังลงนาม")
    expect(main).not_to_contain_text("ถูกต้อง เชื่อถือได้")
    shot(page, "53-verify-tampered")
