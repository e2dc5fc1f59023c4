"""``saraban ecms parse``: a summary or the JSON of any e-CMS message; exit 2 and one bilingual line otherwise."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from saraban.ecms.management.commands.ecms import summary
from saraban.ecms.messages import parse_message

FIXTURES = Path(__file__).parent / "fixtures"


def run(tmp_path: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SARABAN_HOME": str(tmp_path / "home"), "DJANGO_SETTINGS_MODULE": "saraban.settings",
           "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "saraban", "ecms", "parse", *args], input=stdin,
                          capture_output=True, env=env, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8"),
                                       done.stderr.decode("utf-8"))


def _refused_cleanly(result: subprocess.CompletedProcess[str], english: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and english in line
    assert " / " in line and any("\u0e00" <= c <= "\u0e7f" for c in line)  # Thai, then English
    assert result.stdout == ""


def test_a_letter_summary(tmp_path: Path) -> None:
    result = run(tmp_path, str(FIXTURES / "boi_letter.xml"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "CorrespondenceLetterOutboundRequest" in out
    assert "นร 1301/0456" in out and "2025-03-07" in out and "ขอเชิญประชุมคณะกรรมการส่งเสริมการลงทุน" in out
    assert "002 → confidential (ลับ)" in out and "003 → very_urgent (ด่วนมาก)" in out
    assert "01013" in out and "01001" in out
    main = parse_message((FIXTURES / "boi_letter.xml").read_bytes()).document
    assert main is not None and main.main_letter is not None
    assert f"SHA-256 {hashlib.sha256(main.main_letter.data).hexdigest()}" in out


def test_json_of_a_signed_letter(tmp_path: Path) -> None:
    result = run(tmp_path, str(FIXTURES / "inbound_signed_letter.xml"), "--json")
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert described["kind"] == "letter" and described["process_id"] == "P-2025-001024"
    document = described["document"]
    assert document["subject"].startswith("แนวทางการใช้ลายมือชื่ออิเล็กทรอนิกส์")
    assert document["main_letter"]["bytes"] == 125 and len(document["main_letter"]["sha256"]) == 64
    assert [a["bytes"] for a in document["attachments"]] == [123, 256]
    assert document["xml_signature"]["reference_uri"] == "#Letter"
    assert "แนวทาง" in result.stdout  # Thai kept as is, not \u escapes


def test_standard_input(tmp_path: Path) -> None:
    result = run(tmp_path, "-", "--json", stdin=(FIXTURES / "inbound_empty.xml").read_bytes())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["is_empty"] is True


def test_garbage_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\x01 this is not <xml")
    _refused_cleanly(run(tmp_path, str(garbage)), "not")


def test_xml_that_is_not_an_ecms_message(tmp_path: Path) -> None:
    page = tmp_path / "page.xml"
    page.write_text("<html><body>บริการไม่พร้อมใช้งาน</body></html>", encoding="utf-8")
    _refused_cleanly(run(tmp_path, str(page)), "not a SOAP 1.1 message")
    unknown = tmp_path / "unknown.xml"
    unknown.write_bytes(b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                        b"<CorrespondenceLetterTeleportRequest/></s:Body></s:Envelope>")
    _refused_cleanly(run(tmp_path, str(unknown)), "CorrespondenceLetterTeleportRequest")


def test_a_doctype_and_a_missing_file(tmp_path: Path) -> None:
    doctype = tmp_path / "doctype.xml"
    doctype.write_bytes(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    _refused_cleanly(run(tmp_path, str(doctype)), "DOCTYPE")
    _refused_cleanly(run(tmp_path, str(tmp_path / "missing.xml")), "cannot read")


# The summary of every fixture, in process (the subprocess runs above cover the command itself).


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml")))
def test_every_fixture_has_a_summary(name: str) -> None:
    lines = summary(parse_message((FIXTURES / name).read_bytes()))
    assert lines[0].startswith("การดำเนินการ / operation: ")
    assert all(" / " in line or line.startswith("  ") for line in lines)


def test_summaries_say_what_matters() -> None:
    def text(name: str) -> str:
        return "\n".join(summary(parse_message((FIXTURES / name).read_bytes())))

    assert "เลขรับ / registration number: รับที่ ๑๒๓๔/๒๕๖๘" in text("inbound_accept.xml")
    assert "หน่วยงานผู้รับ / receiving department: 01001" in text("inbound_accept.xml")
    assert "เหตุผล / reason: ส่งผิดหน่วยงาน" in text("inbound_reject.xml")
    assert "ไม่มีรายการรอรับ / nothing queued" in text("inbound_empty.xml")
    assert "สถานะหนังสือส่ง / sent letters: 3" in text("outbound_status.xml")
    assert "หน่วยงาน / organisations: 3" in text("organization_list.xml")
    assert "กระทรวง / ministries: 4" in text("ministry_list.xml")
    assert "E0102: ไม่พบรหัสหน่วยงานผู้รับ 09999 (faultcode soap:Server)" in text("fault.xml")
    assert "E0201" in text("error_detail.xml")
    signed = text("inbound_signed_letter.xml")
    assert "4 → most_urgent (ด่วนที่สุด)" in signed and "Reference #Letter" in signed


def test_a_long_list_shows_its_first_rows() -> None:
    rows = "".join(f"<MinistryOrganizationList><Th-Name>กระทรวงที่ {i}</Th-Name><MinistryID>{i:02d}</MinistryID>"
                   "</MinistryOrganizationList>" for i in range(1, 21))
    data = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            f"<GetMinistryOrganizationListResponse>{rows}</GetMinistryOrganizationListResponse></s:Body></s:Envelope>")
    lines = summary(parse_message(data.encode()))
    assert "กระทรวง / ministries: 20" in lines
    assert "  05  กระทรวงที่ 5" in lines and "  06  กระทรวงที่ 6" not in lines
    assert lines[-1] == "  … อีก 15 รายการ / 15 more"
