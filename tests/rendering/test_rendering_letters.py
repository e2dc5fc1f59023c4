"""Every example letter renders to an A4 PDF/A whose text layer carries every field."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from saraban.core.thai import format_thai_date, thai_digits
from saraban.correspondence.content import check_letter
from saraban.regulation.content import LetterContent
from saraban.regulation.kinds import DigitStyle, LetterSubtype, LetterType, Secrecy
from saraban.rendering.letters import letter_view, render_letter

from .conftest import EXAMPLES, load_example, need, pdf_info, pdf_text, raw_pdf_text, squash

pytestmark = pytest.mark.pdf


def printed(text: str, content: LetterContent) -> str:
    return thai_digits(text) if content.digits is DigitStyle.THAI else text


def expected_texts(content: LetterContent) -> list[str]:
    """The texts each letter must show, as printed."""
    p = lambda s: printed(s, content)  # noqa: E731
    texts = [p(par) for par in content.body]
    if content.subject and content.subtype not in (LetterSubtype.MINUTES,):
        texts.append(p(content.subject))
    for value in (content.signer.name, content.signer.position, content.signer.acting_for, content.recipient):
        if value:
            texts.append(p(value))
    if content.number:
        texts.append(p(content.number))
    if content.date:
        thai = content.digits is DigitStyle.THAI
        date = format_thai_date(content.date, use_thai_digits=thai)
        if content.subtype in (LetterSubtype.ORDER, LetterSubtype.ANNOUNCEMENT, LetterSubtype.REGULATION,
                               LetterSubtype.CERTIFICATE):
            day, month, year = date.split(" ")
            date = f"{day} {month} พ.ศ. {year}"
        texts.append(date)
    texts += [p(r) for r in content.references] + [p(e.title) for e in content.enclosures]
    texts += [p(c) for c in content.carbon_copies]
    if content.email:
        texts.append(content.email)
    if content.meeting:
        texts += [p(x) for x in (*content.meeting.present, content.meeting.recorder, content.meeting.place)]
    return [t for t in texts if t]


def test_examples_exist_for_every_type() -> None:
    kinds = {(c.type, c.subtype) for c in map(load_example, EXAMPLES)}
    for letter_type in LetterType:
        assert any(t is letter_type for t, _ in kinds), letter_type


def test_example_is_valid(example: Path) -> None:
    check_letter(load_example(example), issued=True)


def test_example_text_is_in_pdf(example: Path, tmp_path: Path) -> None:
    content = load_example(example)
    text = pdf_text(render_letter(content), tmp_path)
    missing = [t for t in expected_texts(content) if squash(t) not in text]
    assert not missing, missing


def test_example_is_a4_pdfa_and_passes_qpdf(example: Path, tmp_path: Path) -> None:
    pdf = render_letter(load_example(example))
    info = pdf_info(pdf, tmp_path)
    assert info["Page size"].startswith("595.276 x 841.89"), info["Page size"]
    assert b"<pdfaid:part>3</pdfaid:part>" in pdf and b"<pdfaid:conformance>B</pdfaid:conformance>" in pdf
    need("qpdf")
    (tmp_path / "q.pdf").write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(tmp_path / "q.pdf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_other_pdf_standard_and_plain_pdf() -> None:
    content = load_example(EXAMPLES[0])
    assert b"<pdfaid:part>2</pdfaid:part>" in render_letter(content, pdf_standard="a-2b")
    assert b"pdfaid:part" not in render_letter(content, pdf_standard="")


def _external() -> LetterContent:
    return load_example(next(p for p in EXAMPLES if p.stem == "external"))


def test_thai_digits_everywhere_but_email(tmp_path: Path) -> None:
    content = _external().model_copy(update={"digits": DigitStyle.THAI, "email": "saraban2@opm.go.th"})
    text = pdf_text(render_letter(content), tmp_path)
    assert squash("นร ๐๑๐๕/๑๒๓๔") in text and "๒๖พฤศจิกายน๒๕๖๙" in text and "๐๒๒๘๓๔๑๒๐" in text
    assert "saraban2@opm.go.th" in text
    assert "1234" not in text and "2569" not in text


def test_arabic_digits_as_typed(tmp_path: Path) -> None:
    content = _external().model_copy(update={"digits": DigitStyle.ARABIC})
    text = pdf_text(render_letter(content), tmp_path)
    assert "นร0105/1234" in text and "26พฤศจิกายน2569" in text and "022834120" in text
    assert not any(d in text for d in "๐๑๒๓๔๕๖๗๘๙")


def test_view_digits() -> None:
    view = letter_view(_external())
    assert view["number"]["text"] == "นร ๐๑๐๕/๑๒๓๔" and view["email"] == "saraban@opm.go.th"
    assert view["date"] == "๒๖ พฤศจิกายน ๒๕๖๙" and view["urgent_by"].startswith("ด่วนภายใน")


def test_draft_number_and_date_are_left_blank(tmp_path: Path) -> None:
    content = _external().model_copy(update={"number": "", "date": None})
    text = pdf_text(render_letter(content), tmp_path)
    assert "ที่นร๐๑๐๕/" in text and "พฤศจิกายน๒๕๖๙" not in text


def test_long_letter_flows_with_page_numbers_and_secrecy_on_every_page(tmp_path: Path) -> None:
    body = [f"ข้อ {i} " + "การดำเนินงานตามระเบียบงานสารบรรณให้เป็นไปโดยเรียบร้อย " * 12 for i in range(1, 25)]
    content = _external().model_copy(update={"body": body, "secrecy": Secrecy.SECRET})
    pdf = render_letter(content)
    pages = int(pdf_info(pdf, tmp_path)["Pages"])
    assert pages >= 3
    raw = [squash(page) for page in raw_pdf_text(pdf, tmp_path, layout=True).split("\f")]
    assert "-๒-" in raw[1] and "-๓-" in raw[2] and "-๑-" not in raw[0]
    for page in raw[:pages]:
        assert squash(page).count("ลับมาก") >= 2


def test_user_text_is_never_markup(tmp_path: Path) -> None:
    nasty = '#set page(width: 2cm) ]) $x$ @ref <lbl> *b* _i_ `c` \\ {"a": 1} #panic("x")'
    content = _external().model_copy(update={"subject": nasty})
    text = pdf_text(render_letter(content), tmp_path)
    assert squash(thai_digits(nasty)) in text


def test_render_is_thread_safe(tmp_path: Path) -> None:
    base = _external()
    results: dict[int, bytes] = {}

    def work(i: int) -> None:
        results[i] = render_letter(base.model_copy(update={"subject": f"เรื่องทดสอบลำดับที่ {i}"}))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, pdf in results.items():
        assert f"เรื่องทดสอบลำดับที่{thai_digits(str(i))}" in pdf_text(pdf, tmp_path, f"t{i}")
    assert len(results) == 6


def test_pdftotext_without_duplicate_clusters(tmp_path: Path) -> None:
    text = squash(raw_pdf_text(render_letter(_external()), tmp_path))
    assert "ติดตั้งและใช้งาน" in text and "ทั้งนี้" in text
