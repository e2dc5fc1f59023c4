"""The visible stamp: in the letter's signature block, Thai text shaped, date in พ.ศ., verify URL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import x509

from saraban.signatures.pades.appearance import letter_appearance, locate_signature_block, verify_url
from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.report import thai_datetime
from saraban.signatures.pades.sign import sign_pdf
from saraban.signatures.pades.verify import verify_pdf

SIGNER = "นายธีรวัฒน์ ศรีสวัสดิ์"


def test_thai_date_is_buddhist_era() -> None:
    assert thai_datetime(dt.datetime(2026, 11, 26, 7, 5, tzinfo=dt.UTC)) == "26 พฤศจิกายน 2569 เวลา 14.05 น."


def test_block_is_found_above_the_name(letter_pdf: bytes) -> None:
    found = locate_signature_block(letter_pdf, SIGNER)
    assert found is not None
    page, (x1, y1, x2, y2) = found
    assert page == 0
    assert 200 < x1 < x2 < 595 and 150 < y1 < y2 < 450 and y2 - y1 >= 30


def test_signed_letter_with_stamp(letter_pdf: bytes, p12_key: Pkcs12Key, roots: list[x509.Certificate],
                                  tmp_path: Path) -> None:
    digest = hashlib.sha256(letter_pdf).hexdigest()
    appearance = letter_appearance(letter_pdf, signer_name=SIGNER, position="รองปลัดสำนักนายกรัฐมนตรี",
                                   signed_at=dt.datetime(2026, 11, 26, 7, 5, tzinfo=dt.UTC),
                                   url=verify_url(digest, "https://saraban.example"))
    signed = sign_pdf(letter_pdf, p12_key, visible=appearance)
    report = verify_pdf(signed, roots)
    assert report.passed, report.explain_en()
    out = tmp_path / "signed-letter.pdf"
    out.write_bytes(signed)
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils missing")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
    import pypdf

    widget = pypdf.PdfReader(io.BytesIO(signed)).pages[0]["/Annots"][0].get_object()
    assert [round(float(v)) for v in widget["/Rect"]] == [round(v) for v in appearance.box]
    assert "ธีรวัฒน์" in text


@pytest.mark.parametrize("name", ["external", "internal", "order"])
def test_the_renderer_reports_the_signature_room_where_the_text_says_it_is(name: str) -> None:
    """Typst's own layout (queried, no PDF read-back) and the PDF's text agree on the blank room."""
    import json
    from pathlib import Path

    from saraban.regulation.content import parse_letter_json
    from saraban.rendering.letters import render_letter_with_signature_room
    from saraban.signatures.pades.appearance import locate_signature_block

    example = Path(__file__).resolve().parents[2] / "examples" / "letters" / f"{name}.json"
    content = parse_letter_json(json.loads(example.read_text(encoding="utf-8")))
    pdf, room = render_letter_with_signature_room(content)
    found = locate_signature_block(pdf, content.signer.name)
    assert room is not None and found is not None
    assert room.page == found[0]
    (x1, y1, x2, y2), (fx1, fy1, fx2, fy2) = room.box, found[1]
    assert abs((x1 + x2) / 2 - (fx1 + fx2) / 2) < 15  # centred on the block
    assert abs(y1 - fy1) < 15 and abs(y2 - fy2) < 15  # the same room, give or take a line's leading
    assert y2 - y1 >= 46  # the stamp fits
