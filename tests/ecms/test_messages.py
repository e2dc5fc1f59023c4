"""The e-CMS message layer: every builder read back, foreign clients' and nodes' messages read, bad input refused.

No database: these are pure functions over bytes (the code lists read the settings only).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from saraban.ecms import codes
from saraban.ecms.messages import (
    MAX_MESSAGE_BYTES,
    NOTIFIER_KINDS,
    BinaryPart,
    EcmsMessageError,
    GovernmentDocument,
    MalformedXml,
    Message,
    Ministry,
    NotEcmsMessage,
    Notifier,
    Organization,
    OutboundStatus,
    Party,
    Reference,
    Withdrawal,
    delete_request,
    describe,
    inbound_request,
    ministry_list_request,
    new_message_id,
    organization_list_request,
    outbound_letter,
    outbound_notifier,
    outbound_status_request,
    parse_message,
    withdraw_request,
)

FIXTURES = Path(__file__).parent / "fixtures"
NODE = "http://ecms.opm.go.th/ecms-ws01/service2"
MAIN_PDF = base64.b64decode(
    "JVBERi0xLjQKMSAwIG9iajw8L1R5cGUvQ2F0YWxvZy9QYWdlcyAyIDAgUj4+ZW5kb2JqCjIgMCBvYmo8PC9UeXBlL1BhZ2VzL0tpZHNbXS9Db3"
    "VudCAwPj5lbmRvYmoKdHJhaWxlcjw8L1Jvb3QgMSAwIFI+PgolJUVPRgo="
)
ENCLOSURE = "สิ่งที่ส่งมาด้วย: รายชื่อผู้เข้าร่วมประชุม\n".encode()


def load(name: str) -> Message:
    return parse_message((FIXTURES / name).read_bytes())


def a_letter() -> GovernmentDocument:
    return GovernmentDocument(
        letter_id="นร 0105/ว 123", date="2025-03-07", subject="ขอเชิญประชุมหารือการใช้ระบบสารบรรณอิเล็กทรอนิกส์",
        secret_code="002", speed_code="004",
        sender=Party("สมใจ", "รักงาน", "ผู้อำนวยการกองกลาง", "01", "01001"),
        receiver=Party(job_title="เลขาธิการคณะกรรมการส่งเสริมการลงทุน", ministry_id="01", department_id="01013"),
        references=(Reference("นร 1301/0400", "2025-02-28", "ระเบียบวาระการประชุม"),
                    Reference("นร 1301/0401", "2025-03-01", "รายชื่อผู้เข้าประชุม")),
        attachment_text="ระเบียบวาระการประชุม ๑ ชุด", send_date="2025-03-07T10:15:30", description="ส่งทาง e-CMS",
        main_letter=BinaryPart("application/pdf", MAIN_PDF, "หนังสือเชิญประชุม.pdf"),
        attachments=(BinaryPart("text/plain", ENCLOSURE), BinaryPart("image/png", bytes(range(256)), "แผนที่.png")),
        signature_type="1", signer=Party("ธีรวัฒน์", "ศรีสวัสดิ์", "รองปลัดสำนักนายกรัฐมนตรี", "01", "01001"),
    )


# Round trips: what we build, we read back exactly.


def test_a_letter_round_trips() -> None:
    document = a_letter()
    data = outbound_letter(document, message_id="20250307.101530123", to=NODE)
    message = parse_message(data)
    assert message.operation == "CorrespondenceLetterOutboundRequest"
    assert message.kind == "letter"
    assert (message.message_id, message.to) == ("20250307.101530123", NODE)
    assert message.document == document


def test_a_letter_is_written_one_exact_way() -> None:
    data = outbound_letter(a_letter(), message_id="20250307.101530123", to=NODE)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope ')
    root = etree.fromstring(data)
    wsa = "http://www.w3.org/2005/08/addressing"
    assert root.find(f"{{http://schemas.xmlsoap.org/soap/envelope/}}Header/{{{wsa}}}To").text == NODE
    assert root.find(f"{{http://schemas.xmlsoap.org/soap/envelope/}}Header/{{{wsa}}}MessageID") is not None
    request = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body/CorrespondenceLetterOutboundRequest")
    assert request is not None  # unqualified, as the clients send it
    ram = "{urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1}"
    document = request.find("{urn:th:gov:egif:data:standard:GovernmentDocument:1.0}GovernmentDocument")
    letter = document.find(f"{ram}CorrespondenceLetter")
    assert letter.get("ID") == "Letter"
    assert [etree.QName(e).localname for e in letter][:7] == [
        "ID", "CorrespondenceDate", "Subject", "SecretCode", "SpeedCode", "SenderParty", "ReceiverParty"]
    main = letter.find(f"{ram}MainLetterBinaryObject")
    assert main.get("mimeCode") == "application/pdf" and main.get("fileName") == "หนังสือเชิญประชุม.pdf"
    assert "\n" not in main.text and base64.b64decode(main.text) == MAIN_PDF
    assert letter.findall(f"{ram}AttachmentBinaryObject")[0].get("fileName") is None
    assert document.find(f"{ram}GovernmentSignature/{ram}SignerParty/{ram}Title").text == "รองปลัดสำนักนายกรัฐมนตรี"
    assert b"xmldsig" not in data  # we never send an XML signature
    assert "นร 0105/ว 123".encode() in data  # Thai as UTF-8, not character references


def test_a_letter_without_its_main_letter_is_not_sent() -> None:
    document = a_letter()
    for broken in (GovernmentDocument(**{**document.__dict__, "main_letter": None}),
                   GovernmentDocument(**{**document.__dict__, "letter_id": ""})):
        with pytest.raises(ValueError):
            outbound_letter(broken, message_id="1", to=NODE)


@pytest.mark.parametrize("kind", NOTIFIER_KINDS)
def test_every_notifier_round_trips(kind: str) -> None:
    accept_id = "รับที่ ๑๒๓๔/๒๕๖๘" if kind in ("AcceptLetterNotifier", "InvalidAcceptIDNotifier") else ""
    reason = "ส่งผิดหน่วยงาน" if kind in ("RejectLetterNotifier", "InvalidLetterNotifier",
                                          "InvalidAcceptIDNotifier") else ""
    notifier = Notifier(kind, "นร 1301/0456", "2025-03-07", "ขอเชิญประชุม", accept_id=accept_id, description=reason)
    message = parse_message(outbound_notifier(notifier, message_id="20250308.090000000", to=NODE))
    assert message.operation == "CorrespondenceLetterOutboundRequest"
    assert message.kind == kind
    assert message.notifier == notifier


def test_a_notifier_carries_only_what_a_client_sends() -> None:
    notifier = Notifier("ReceiveLetterNotifier", "นร 1301/0456", "2025-03-07", "ขอเชิญประชุม",
                        accept_date="2025-03-08", accept_department="01001", description="ไม่ส่ง")
    data = outbound_notifier(notifier, message_id="1", to=NODE)
    assert b"AcceptDate" not in data and b"AcceptDepartment" not in data and b"Description" not in data
    assert parse_message(data).notifier == Notifier("ReceiveLetterNotifier", "นร 1301/0456", "2025-03-07",
                                                    "ขอเชิญประชุม")
    accepted = etree.fromstring(outbound_notifier(
        Notifier("AcceptLetterNotifier", "ก 1/1", "2025-03-07", "เรื่อง", accept_id="๑๒"), message_id="1", to=NODE))
    notifier_element = accepted.find("{http://schemas.xmlsoap.org/soap/envelope/}Body/"
                                     "CorrespondenceLetterOutboundRequest/AcceptLetterNotifier")
    assert [e.tag for e in notifier_element] == ["LetterID", "AcceptID", "CorrespondenceDate", "Subject"]


def test_a_notifier_that_a_node_would_refuse_is_not_sent() -> None:
    with pytest.raises(ValueError, match="AcceptID"):
        outbound_notifier(Notifier("AcceptLetterNotifier", "ก 1/1", "2025-03-07", "เรื่อง"), message_id="1", to=NODE)
    with pytest.raises(ValueError, match="unknown"):
        outbound_notifier(Notifier("ThanksNotifier", "ก 1/1", "2025-03-07", "เรื่อง"), message_id="1", to=NODE)
    with pytest.raises(ValueError):
        outbound_notifier(Notifier("ReceiveLetterNotifier", "", "2025-03-07", "เรื่อง"), message_id="1", to=NODE)


@pytest.mark.parametrize(("build", "operation"), [
    (inbound_request, "CorrespondenceLetterInboundRequest"),
    (outbound_status_request, "OutboundStatusRequest"),
    (organization_list_request, "GetOrganizationList"),
    (ministry_list_request, "GetMinistryOrganizationList"),
])
def test_the_empty_requests_round_trip(build: object, operation: str) -> None:
    assert callable(build)
    message = parse_message(build(message_id="20250308.090000001", to=NODE))
    assert (message.operation, message.kind, message.message_id, message.to) == (
        operation, operation, "20250308.090000001", NODE)
    assert not message.is_empty


def test_a_delete_request_round_trips() -> None:
    message = parse_message(delete_request("P-2025-000871", message_id="20250308.091600000", to=NODE))
    assert (message.operation, message.process_id) == ("CorrespondenceLetterDeleteRequest", "P-2025-000871")
    with pytest.raises(ValueError):
        delete_request("", message_id="1", to=NODE)


def test_a_withdrawal_round_trips() -> None:
    withdrawal = Withdrawal("นร 1301/0460", "2025-03-08", "01013", "01001")
    message = parse_message(withdraw_request(withdrawal, message_id="20250310.085900000", to=NODE))
    assert message.operation == "CorrespondenceDeleteGovernmentDocumentRequest"
    assert message.withdrawal == withdrawal
    with pytest.raises(ValueError):
        withdraw_request(Withdrawal("", "2025-03-08", "01013", "01001"), message_id="1", to=NODE)


def test_message_ids_are_the_bangkok_send_time() -> None:
    moment = dt.datetime(2025, 3, 7, 3, 15, 30, 123456, tzinfo=dt.UTC)
    assert new_message_id(moment) == "20250307.101530123"
    assert new_message_id(dt.datetime(2025, 12, 31, 20, 0, tzinfo=dt.UTC)) == "20260101.030000000"
    assert re.fullmatch(r"\d{8}\.\d{9}", new_message_id())
    with pytest.raises(ValueError):
        new_message_id(dt.datetime(2025, 3, 7, 10, 0))


# What foreign clients and nodes write.


def test_a_boi_dms_letter() -> None:
    message = load("boi_letter.xml")  # misspelt addressing namespace, wsa:to, empty MessageID, standalone="no"
    assert (message.operation, message.kind) == ("CorrespondenceLetterOutboundRequest", "letter")
    assert message.message_id == ""
    assert message.to == "http://ecms.boi.go.th/ecms-ws01/service2"
    document = message.document
    assert document is not None
    assert (document.letter_id, document.date) == ("นร 1301/0456", "2025-03-07")
    assert document.subject == "ขอเชิญประชุมคณะกรรมการส่งเสริมการลงทุน ครั้งที่ ๓/๒๕๖๘"  # stripped
    assert (document.secret_code, document.speed_code) == ("002", "003")
    assert document.sender == Party("นฤตม์", "เทอดสถีรศักดิ์", "เลขาธิการคณะกรรมการส่งเสริมการลงทุน", "01", "01013")
    assert document.receiver == Party("", "", "ปลัดสำนักนายกรัฐมนตรี", "01", "01001")
    assert [r.letter_id for r in document.references] == ["นร 0105/1234", "นร 1301/0400"]
    assert document.attachment_text == "ระเบียบวาระการประชุม จำนวน ๑ ชุด"
    assert document.send_date == "2025-03-07T10:15:30"
    assert document.main_letter == BinaryPart("application/pdf", MAIN_PDF)  # base64 over several lines
    assert document.attachments == (BinaryPart("text/plain", ENCLOSURE),)
    assert (document.signature_type, document.signer) == ("1", Party("นฤตม์", "เทอดสถีรศักดิ์", "เลขาธิการ", "01",
                                                                      "01013"))
    assert document.xml_signature is None


def test_an_accept_notifier_with_a_lowercase_process_id() -> None:
    message = load("inbound_accept.xml")  # no XML declaration; processID
    assert (message.operation, message.kind) == ("CorrespondenceLetterInboundResponse", "AcceptLetterNotifier")
    assert (message.process_id, message.process_time) == ("P-2025-000871", "2025-03-08 09:15:02")
    assert (message.message_id, message.relates_to) == ("20250308.091502117", "20250308.091500003")
    assert message.notifier == Notifier(
        "AcceptLetterNotifier", "นร 1301/0456", "2025-03-07", "ขอเชิญประชุมคณะกรรมการส่งเสริมการลงทุน ครั้งที่ ๓/๒๕๖๘",
        accept_id="รับที่ ๑๒๓๔/๒๕๖๘", accept_date="2025-03-08", accept_department="01001")
    assert not message.is_empty


def test_a_reject_notifier_with_its_reason() -> None:
    message = load("inbound_reject.xml")
    assert message.kind == "RejectLetterNotifier"
    assert message.notifier is not None
    assert message.notifier.description == "ส่งผิดหน่วยงาน โปรดส่งถึงสำนักงานสถิติแห่งชาติ"
    assert (message.notifier.letter_id, message.notifier.accept_department) == ("นร 1301/0460", "01001")


def test_an_empty_inbound_response() -> None:
    message = load("inbound_empty.xml")
    assert message.is_empty
    assert message.kind == "CorrespondenceLetterInboundResponse"
    assert (message.process_id, message.document, message.notifier) == ("", None, None)


def test_an_outbound_response_echoing_a_notifier() -> None:
    message = load("outbound_response_invalid.xml")
    assert (message.operation, message.kind, message.process_id) == (
        "CorrespondenceLetterOutboundResponse", "InvalidLetterNotifier", "P-2025-000915")
    assert message.notifier is not None and message.notifier.accept_date == "2025-03-10"


def test_an_outbound_status_response() -> None:
    message = load("outbound_status.xml")
    assert message.outbound == (
        OutboundStatus("P-2025-000871", "นร 1301/0456", "delivered"),
        OutboundStatus("P-2025-000880", "นร 1301/0458", "pending"),
        OutboundStatus("P-2025-000902", "นร 1301/0460", "rejected"),
    )


def test_an_organization_list_in_its_three_spellings() -> None:
    message = load("organization_list.xml")
    assert message.organizations == (
        Organization("01001", "สำนักงานปลัดสำนักนายกรัฐมนตรี",
                     "Office of the Permanent Secretary, Office of the Prime Minister",
                     "http://ecms.opm.go.th/ecms-ws01/service2", "01"),
        Organization("01013", "สำนักงานคณะกรรมการส่งเสริมการลงทุน", "Office of the Board of Investment",
                     "http://ecms.boi.go.th/ecms-ws01/service2"),  # xml:lang overrides the order
        Organization("11008", "สำนักงานรัฐบาลอิเล็กทรอนิกส์ (องค์การมหาชน)", "Electronic Government Agency",
                     "http://ecms.dga.or.th/ecms-ws01/service2"),
    )


def test_a_single_name_goes_by_its_script() -> None:
    data = _envelope("<GetOrganizationListResponse><OrganizationList><name>กรมบัญชีกลาง</name>"
                     "<OrganizationID>03004</OrganizationID></OrganizationList></GetOrganizationListResponse>")
    assert parse_message(data).organizations == (Organization("03004", "กรมบัญชีกลาง", "", ""),)


def test_a_ministry_list() -> None:
    message = load("ministry_list.xml")
    assert message.ministries[0] == Ministry("01", "สำนักนายกรัฐมนตรี")
    assert [m.ministry_id for m in message.ministries] == ["01", "02", "03", "11"]


def test_a_soap_fault_with_its_error_detail() -> None:
    message = load("fault.xml")
    assert (message.operation, message.kind) == ("Fault", "fault")
    assert message.fault is not None
    assert (message.fault.code, message.fault.description, message.fault.fault_code) == (
        "E0102", "ไม่พบรหัสหน่วยงานผู้รับ 09999", "soap:Server")


def test_a_soap_fault_without_detail() -> None:
    data = _envelope("<soap:Fault xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>"
                     "<faultcode>soap:Client</faultcode><faultstring>ข้อมูลไม่ครบ</faultstring></soap:Fault>")
    fault = parse_message(data).fault
    assert fault is not None and (fault.code, fault.description, fault.fault_code) == (
        "soap:Client", "ข้อมูลไม่ครบ", "soap:Client")


def test_an_error_detail_in_a_200_body() -> None:
    message = load("error_detail.xml")
    assert (message.operation, message.kind) == ("ErrorDetail", "fault")
    assert message.fault is not None
    assert (message.fault.code, message.fault.description) == ("E0201", "เลขที่หนังสือซ้ำ นร 1301/0456")


def test_an_error_detail_inside_a_response_is_a_fault() -> None:
    data = _envelope("<CorrespondenceLetterInboundResponse><ErrorDetail><ErrorCode>E9</ErrorCode>"
                     "<ErrorDescription>ระบบขัดข้อง</ErrorDescription></ErrorDetail></CorrespondenceLetterInboundResponse>")
    message = parse_message(data)
    assert (message.kind, message.is_empty) == ("fault", False)
    assert message.fault is not None and message.fault.code == "E9"


def test_a_signed_letter_from_a_node() -> None:
    # ram as the default namespace, a CDATA subject, MimeCode and fileName, standalone="yes"
    message = load("inbound_signed_letter.xml")
    assert (message.kind, message.process_id) == ("letter", "P-2025-001024")
    document = message.document
    assert document is not None
    assert document.subject == "แนวทางการใช้ลายมือชื่ออิเล็กทรอนิกส์ในหนังสือราชการ & การเก็บรักษา"
    assert document.speed_code == "4" and codes.urgency_of(document.speed_code) == "most_urgent"
    assert document.main_letter == BinaryPart("application/pdf", MAIN_PDF, "หนังสือ ว15.pdf")
    assert [a.filename for a in document.attachments] == ["สิ่งที่ส่งมาด้วย.txt", ""]
    assert document.attachments[1].data == bytes(range(256))
    assert document.receiver == Party("", "", "ปลัดสำนักนายกรัฐมนตรี", "01", "01001")
    assert document.signer.job_title == "ปลัดกระทรวง" and document.signature_type == "XMLDSig"
    signature = document.xml_signature
    assert signature is not None
    assert signature.reference_uri == "#Letter"
    assert signature.digest_value == "3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w8="
    assert signature.signature_value == "c2lnbmF0dXJlLXZhbHVlLWZvci10ZXN0cy1vbmx5LW5vdC1hLXJlYWwtc2lnbmF0dXJl"
    assert signature.subject_name.startswith("CN=ประเสริฐ จันทรรวงทอง,")
    assert signature.certificate_b64.startswith("MIIBbTCC") and " " not in signature.certificate_b64


def test_withdraw_and_delete_responses() -> None:
    withdrawn = load("withdraw_response.xml")
    assert withdrawn.withdrawal == Withdrawal("นร 1301/0460", "", "", "")
    assert withdrawn.process_time == "2025-03-10 09:00:12"
    deleted = load("delete_response.xml")
    assert (deleted.process_id, deleted.process_time) == ("P-2025-000871", "2025-03-08 09:20:00")


def test_names_are_read_in_any_case() -> None:
    data = _envelope("<correspondenceletterdeleterequest><PROCESSID> P-1 </PROCESSID>"
                     "</correspondenceletterdeleterequest>", header="<wsa:To xmlns:wsa='urn:x'>n</wsa:To>")
    message = parse_message(data)
    assert (message.operation, message.process_id, message.to) == ("CorrespondenceLetterDeleteRequest", "P-1", "n")


def test_utf8_is_read_whatever_the_declaration_says() -> None:
    inner = "<CorrespondenceLetterDeleteRequest><ProcessID>เลข ๑</ProcessID></CorrespondenceLetterDeleteRequest>"
    declared = _envelope(inner).replace(b'encoding="UTF-8"', b'encoding="TIS-620"')
    assert parse_message(declared).process_id == "เลข ๑"
    assert parse_message(b"\xef\xbb\xbf" + _envelope(inner)).process_id == "เลข ๑"  # a byte-order mark


def test_describe_is_json_with_parts_summarised() -> None:
    described = describe(load("inbound_signed_letter.xml"))
    text = json.dumps(described, ensure_ascii=False)
    assert "แนวทางการใช้ลายมือชื่ออิเล็กทรอนิกส์" in text
    assert described["kind"] == "letter" and described["is_empty"] is False
    document = described["document"]
    assert isinstance(document, dict)
    assert document["main_letter"] == {"mime": "application/pdf", "filename": "หนังสือ ว15.pdf", "bytes": len(MAIN_PDF),
                                       "sha256": hashlib.sha256(MAIN_PDF).hexdigest()}
    assert document["attachments"][1]["bytes"] == 256
    assert document["xml_signature"]["reference_uri"] == "#Letter"
    assert document["sender"]["department_id"] == "11001"
    assert set(described) >= {"operation", "message_id", "to", "relates_to", "process_id", "process_time",
                              "notifier", "withdrawal", "organizations", "ministries", "outbound", "fault"}
    assert json.loads(json.dumps(describe(load("organization_list.xml"))))["organizations"][2]["organization_id"] \
        == "11008"


# Refusals: always an EcmsMessageError, bilingual.


def _envelope(body: str, header: str = "") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
            'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<SOAP-ENV:Header>{header}</SOAP-ENV:Header><SOAP-ENV:Body>{body}</SOAP-ENV:Body>"
            "</SOAP-ENV:Envelope>").encode()


def _refused(data: bytes, error: type[EcmsMessageError], *, max_bytes: int = MAX_MESSAGE_BYTES) -> EcmsMessageError:
    with pytest.raises(error) as caught:
        parse_message(data, max_bytes=max_bytes)
    assert caught.value.message_th and caught.value.message_en
    assert str(caught.value) == caught.value.message_en
    return caught.value


@pytest.mark.parametrize("data", [b"", b"not xml", b"<a><b></a>", b"<a>&undefined;</a>",
                                  b"<SOAP-ENV:Envelope><SOAP-ENV:Body/></SOAP-ENV:Envelope>"])
def test_xml_that_is_not_well_formed(data: bytes) -> None:
    _refused(data, MalformedXml)


def test_an_entity_bomb_is_refused_unparsed() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
<CorrespondenceLetterDeleteRequest><ProcessID>&lol9;</ProcessID></CorrespondenceLetterDeleteRequest>
</SOAP-ENV:Body></SOAP-ENV:Envelope>"""
    assert "DOCTYPE" in _refused(bomb, MalformedXml).message_en
    assert "DOCTYPE" in _refused(bomb.replace(b"<!DOCTYPE", b"<!doctype"), MalformedXml).message_en


def test_an_external_entity_is_refused() -> None:
    xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           + _envelope("<CorrespondenceLetterDeleteRequest><ProcessID>&e;</ProcessID>"
                       "</CorrespondenceLetterDeleteRequest>").split(b"?>", 1)[1])
    _refused(xxe, MalformedXml)


def test_text_that_is_not_utf8() -> None:
    tis620 = _envelope("<CorrespondenceLetterDeleteRequest><ProcessID>{}</ProcessID>"
                       "</CorrespondenceLetterDeleteRequest>").replace(b"{}", "เลข".encode("tis-620"))
    assert "UTF-8" in _refused(tis620, MalformedXml).message_en


def test_a_message_over_the_limit() -> None:
    data = (FIXTURES / "boi_letter.xml").read_bytes()
    _refused(data, MalformedXml, max_bytes=len(data) - 1)
    assert parse_message(data, max_bytes=len(data)).kind == "letter"


@pytest.mark.parametrize("data", [
    b"<html><body>Service Unavailable</body></html>",
    b'<Envelope><Body><CorrespondenceLetterInboundResponse/></Body></Envelope>',  # no SOAP namespace
    b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',  # SOAP 1.2
    _envelope(""),
])
def test_xml_that_is_not_soap(data: bytes) -> None:
    _refused(data, NotEcmsMessage)


def test_an_unknown_operation_is_named() -> None:
    error = _refused(_envelope("<CorrespondenceLetterTeleportRequest/>"), NotEcmsMessage)
    assert "CorrespondenceLetterTeleportRequest" in error.message_en
    assert "CorrespondenceLetterTeleportRequest" in error.message_th


def test_bad_base64_names_its_element() -> None:
    data = outbound_letter(a_letter(), message_id="1", to=NODE)
    encoded = base64.b64encode(MAIN_PDF)
    error = _refused(data.replace(encoded, encoded[:20] + b"*!*" + encoded[20:]), NotEcmsMessage)
    assert "MainLetterBinaryObject" in error.message_en


@pytest.mark.parametrize("body", [
    "<CorrespondenceLetterOutboundRequest/>",
    "<CorrespondenceLetterOutboundRequest><ReceiveLetterNotifier><Subject>ก</Subject></ReceiveLetterNotifier>"
    "</CorrespondenceLetterOutboundRequest>",
    "<CorrespondenceLetterInboundResponse><GovernmentDocument/></CorrespondenceLetterInboundResponse>",
    "<CorrespondenceLetterDeleteRequest/>",
    "<CorrespondenceDeleteGovernmentDocumentRequest><CorrespondenceDate>2025-03-01</CorrespondenceDate>"
    "</CorrespondenceDeleteGovernmentDocumentRequest>",
])
def test_a_required_field_missing(body: str) -> None:
    _refused(_envelope(body), NotEcmsMessage)


def test_a_letter_without_its_number() -> None:
    data = outbound_letter(a_letter(), message_id="1", to=NODE).replace(
        "<ram:ID>นร 0105/ว 123</ram:ID>".encode(), b"<ram:ID> </ram:ID>")
    assert "ID" in _refused(data, NotEcmsMessage).message_en


def test_damaged_messages_raise_only_message_errors() -> None:
    originals = [p.read_bytes() for p in sorted(FIXTURES.glob("*.xml"))]
    chance = random.Random(20250307)
    for _ in range(400):
        data = bytearray(chance.choice(originals))
        for _ in range(chance.randint(1, 4)):
            at = chance.randrange(len(data))
            if chance.random() < 0.5:
                data[at] = chance.randrange(256)
            else:
                del data[at:at + chance.randint(1, 40)]
        with contextlib.suppress(EcmsMessageError):
            parse_message(bytes(data))


# The code lists.


def test_default_codes() -> None:
    assert [codes.secret_code(level) for level in ("normal", "confidential", "secret", "top_secret")] == [
        "001", "002", "003", "004"]
    assert [codes.speed_code(level) for level in ("normal", "urgent", "very_urgent", "most_urgent")] == [
        "001", "002", "003", "004"]
    assert codes.secrecy_of("003") == "secret" and codes.secrecy_of(" 2 ") == "confidential"
    assert codes.urgency_of("002") == "urgent"


def test_an_unknown_secret_code_is_refused_an_unknown_speed_is_normal() -> None:
    with pytest.raises(codes.UnknownCode) as caught:
        codes.secrecy_of("999")
    assert isinstance(caught.value, ValueError) and caught.value.message_th
    with pytest.raises(codes.UnknownCode):
        codes.secrecy_of("")
    assert codes.urgency_of("999") == "normal" and codes.urgency_of("") == "normal"
    with pytest.raises(codes.UnknownCode):
        codes.secret_code("classified")
    with pytest.raises(codes.UnknownCode):
        codes.speed_code("asap")


def test_codes_come_from_the_settings(settings: Any) -> None:
    settings.SARABAN_ECMS = {"secret_codes": {"confidential": "L1", "top_secret": "L3"},
                             "speed_codes": {"most_urgent": "9"}}
    assert codes.secret_code("confidential") == "L1" and codes.secret_code("secret") == "003"
    assert codes.secrecy_of("L3") == "top_secret"
    with pytest.raises(codes.UnknownCode):
        codes.secrecy_of("002")
    assert codes.speed_code("most_urgent") == "9" and codes.urgency_of("009") == "most_urgent"
    assert codes.urgency_of("004") == "normal"
