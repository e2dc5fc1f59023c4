"""The e-CMS node simulator (``tests/ecms/node.py``) as a foreign client sees it.

Two nodes run as real subprocesses sharing one directory: D001 on node 1, D002 on node 2. The tests
speak to them with ``http.client`` and literal SOAP strings, as another vendor's e-Saraban would.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

NODE = Path(__file__).with_name("node.py")
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
RSM = "urn:th:gov:egif:data:standard:GovernmentDocument:1.0"
RAM = "urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1"
PDF_B64 = "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDw+PgolJUVPRgo="

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
 <SOAP-ENV:Header>
  <wsa:MessageID xmlns:wsa="{wsa}">{message_id}</wsa:MessageID>
  <wsa:To xmlns:wsa="{wsa}">{to}</wsa:To>
 </SOAP-ENV:Header>
 <SOAP-ENV:Body>{body}</SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""

LETTER = """<CorrespondenceLetterOutboundRequest>
<rsm:GovernmentDocument xmlns:rsm="urn:th:gov:egif:data:standard:GovernmentDocument:1.0"
   xmlns:ram="urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1">
 <ram:CorrespondenceLetter>
  <ram:ID>{letter_id}</ram:ID>
  <ram:CorrespondenceDate>2026-12-06</ram:CorrespondenceDate>
  <ram:Subject>{subject}</ram:Subject>
  <ram:SecretCode>1</ram:SecretCode>
  <ram:SpeedCode>1</ram:SpeedCode>
  <ram:SenderParty><ram:GivenName>สมชาย</ram:GivenName><ram:FamilyName>ใจดี</ram:FamilyName>
   <ram:JobTitle>ผู้อำนวยการ</ram:JobTitle><ram:MinistryOrganization><ram:ID>M01</ram:ID></ram:MinistryOrganization>
   <ram:DepartmentOrganization><ram:ID>{sender}</ram:ID></ram:DepartmentOrganization></ram:SenderParty>
  <ram:ReceiverParty><ram:GivenName>สมหญิง</ram:GivenName><ram:FamilyName>รักดี</ram:FamilyName>
   <ram:JobTitle>อธิบดี</ram:JobTitle><ram:MinistryOrganization><ram:ID>M01</ram:ID></ram:MinistryOrganization>
   <ram:DepartmentOrganization><ram:ID>{receiver}</ram:ID></ram:DepartmentOrganization></ram:ReceiverParty>
  <ram:Attachment>-</ram:Attachment>
  <ram:SendDate>2026-12-06T10:15:00</ram:SendDate>
  <ram:Description>ทดสอบ</ram:Description>
  <ram:MainLetterBinaryObject mimeCode="application/pdf">{pdf}</ram:MainLetterBinaryObject>
 </ram:CorrespondenceLetter>
 <ram:GovernmentSignature>sig</ram:GovernmentSignature>
</rsm:GovernmentDocument>
</CorrespondenceLetterOutboundRequest>"""

NOTIFIER = """<CorrespondenceLetterOutboundRequest><{kind}><LetterID>{letter_id}</LetterID>
<CorrespondenceDate>2026-12-06</CorrespondenceDate><Subject>{subject}</Subject>{extra}</{kind}>
</CorrespondenceLetterOutboundRequest>"""

INBOUND = "<CorrespondenceLetterInboundRequest/>"
DELETE = "<CorrespondenceLetterDeleteRequest><{tag}>{pid}</{tag}></CorrespondenceLetterDeleteRequest>"
WITHDRAW = """<CorrespondenceDeleteGovernmentDocumentRequest><LetterID>{letter_id}</LetterID>
<CorrespondenceDate>2026-12-06</CorrespondenceDate><SenderDepartment><Code>D001</Code></SenderDepartment>
<AcceptDepartment><Code>D002</Code></AcceptDepartment></CorrespondenceDeleteGovernmentDocumentRequest>"""


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One simulator subprocess, restartable on the same port and state."""

    def __init__(self, name: str, port: int, config: Path, state: Path, log: Path) -> None:
        self.name, self.port, self.config, self.state, self.log = name, port, config, state, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.counter = 0

    def start(self) -> None:
        """Start it and wait for its ``ready`` line."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(NODE), "--port", str(self.port), "--name", self.name,
                 "--config", str(self.config), "--state", str(self.state)],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            assert sel.select(15), f"{self.name} did not start: {self.log.read_text()}"
        line = self.proc.stdout.readline().decode()
        assert line == f"ready http://127.0.0.1:{self.port}\n", (line, self.log.read_text())

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self.reap()

    def reap(self) -> None:
        """Wait for the process and close its pipe."""
        if self.proc is not None:
            self.proc.wait(10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def http(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """One HTTP exchange."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def soap(self, dept: str, body: str, *, wsa: str = "http://www.w3.org/2005/08/addressing",
             message_id: str | None = None) -> tuple[int, ET.Element]:
        """POST a SOAP request as ``dept``: the HTTP status and the Body's first element."""
        self.counter += 1
        message_id = message_id or f"20261206.1015{self.counter:05d}"
        url = f"http://127.0.0.1:{self.port}/{dept}/ecms-ws01/service2"
        data = ENVELOPE.format(wsa=wsa, message_id=message_id, to=url, body=body).encode()
        status, answer = self.http("POST", f"/{dept}/ecms-ws01/service2", data,
                                   {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
        root = ET.fromstring(answer)
        assert root.tag == f"{{{SOAP_ENV}}}Envelope"
        relates = root.find("{*}Header/{*}RelatesTo")
        assert relates is not None and relates.text == message_id
        body_el = root.find(f"{{{SOAP_ENV}}}Body")
        assert body_el is not None
        return status, body_el[0]

    def ok(self, dept: str, body: str, **kw: Any) -> ET.Element:
        """A SOAP request that must succeed."""
        status, answer = self.soap(dept, body, **kw)
        assert status == 200, ET.tostring(answer, encoding="unicode")
        return answer

    def control(self, order: dict[str, Any]) -> None:
        """Inject a fault."""
        status, answer = self.http("POST", "/_control", json.dumps(order).encode(),
                                   {"Content-Type": "application/json"})
        assert (status, json.loads(answer)) == (200, {"ok": True})

    def snapshot(self) -> dict[str, Any]:
        """``GET /_state``."""
        status, answer = self.http("GET", "/_state")
        assert status == 200
        return dict(json.loads(answer))


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Node 1 (D001) and node 2 (D002), killed at the end whatever happens."""
    ports = free_port(), free_port()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "ministries": [{"id": "M01", "th_name": "สำนักนายกรัฐมนตรี"}],
        "organizations": [
            {"id": "D001", "th_name": "กรมหนึ่ง", "en_name": "Department One", "ministry": "M01",
             "node": f"http://127.0.0.1:{ports[0]}"},
            {"id": "D002", "th_name": "กรมสอง", "en_name": "Department Two", "ministry": "M01",
             "node": f"http://127.0.0.1:{ports[1]}"},
        ]}, ensure_ascii=False), encoding="utf-8")
    pair = tuple(Node(f"scp{i + 1}", port, config, tmp_path / f"state{i + 1}", tmp_path / f"node{i + 1}.log")
                 for i, port in enumerate(ports))
    try:
        for node in pair:
            node.start()
        yield pair  # type: ignore[misc]
    finally:
        for node in pair:
            node.kill()
    for node in pair:  # no traceback and no warning on the nodes' stderr
        log = node.log.read_text(encoding="utf-8", errors="replace") if node.log.exists() else ""
        assert "Traceback" not in log and "Warning" not in log, log


def wait_for(check: Callable[[], Any], timeout: float = 10) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def send_letter(node: Node, letter_id: str, *, subject: str = "ขอเชิญประชุม", sender: str = "D001",
                receiver: str = "D002") -> str:
    """Send a letter as ``sender``: its ProcessID."""
    answer = node.ok(sender, LETTER.format(letter_id=letter_id, subject=subject, sender=sender,
                                           receiver=receiver, pdf=PDF_B64))
    assert answer.tag == "CorrespondenceLetterOutboundResponse"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", answer.findtext("ProcessTime") or "")
    return answer.findtext("ProcessID") or ""


def poll(node: Node, dept: str) -> ET.Element:
    """One CorrespondenceLetterInboundRequest."""
    answer = node.ok(dept, INBOUND)
    assert answer.tag == "CorrespondenceLetterInboundResponse"
    return answer


def poll_item(node: Node, dept: str) -> ET.Element:
    """Poll until something is queued."""
    found: list[ET.Element] = []

    def check() -> bool:
        answer = poll(node, dept)
        if answer.findtext("ProcessID"):
            found.append(answer)
        return bool(found)

    wait_for(check)
    return found[0]


def delete(node: Node, dept: str, pid: str, tag: str = "ProcessID") -> ET.Element:
    """Delete a queue item; the answer."""
    answer = node.ok(dept, DELETE.format(tag=tag, pid=pid))
    assert answer.tag == "CorrespondenceLetterDeleteResponse" and answer.findtext("ProcessID") == pid
    return answer


def notify(node: Node, dept: str, kind: str, letter_id: str, extra: str = "") -> ET.Element:
    """Send a notifier; the echoed notifier."""
    answer = node.ok(dept, NOTIFIER.format(kind=kind, letter_id=letter_id, subject="ขอเชิญประชุม", extra=extra))
    assert answer.tag == "CorrespondenceLetterOutboundResponse" and answer.findtext("ProcessID")
    echo = answer.find(kind)
    assert echo is not None
    return echo


def statuses(node: Node, dept: str) -> dict[str, str]:
    """ProcessID → ProcessStatus from OutboundStatusRequest."""
    answer = node.ok(dept, "<OutboundStatusRequest/>")
    assert answer.tag == "OutboundStatusResponse"
    return {o.findtext("ProcessID") or "": o.findtext("ProcessStatus") or "" for o in answer.findall("Outbound")}


def fault(answer: ET.Element) -> tuple[str, str]:
    """(faultcode, ErrorCode) of a Fault element."""
    assert answer.tag == f"{{{SOAP_ENV}}}Fault", ET.tostring(answer, encoding="unicode")
    return answer.findtext("faultcode") or "", answer.findtext("detail/ErrorDetail/ErrorCode") or ""


def test_a_letter_reaches_the_receiver_and_is_deleted(nodes: tuple[Node, Node]) -> None:
    one, two = nodes
    sent = send_letter(one, "นร 0105/1")
    assert sent.startswith("scp1-")
    first = poll_item(two, "D002")
    queued = first.findtext("ProcessID") or ""
    assert queued.startswith("scp2-")
    doc = first.find(f"{{{RSM}}}GovernmentDocument")
    assert doc is not None  # with its namespaces
    assert doc.findtext(f"{{{RAM}}}CorrespondenceLetter/{{{RAM}}}ID") == "นร 0105/1"
    assert doc.findtext(f".//{{{RAM}}}MainLetterBinaryObject") == PDF_B64
    again = poll(two, "D002")
    assert again.findtext("ProcessID") == queued and ET.tostring(again) == ET.tostring(first)
    wait_for(lambda: statuses(one, "D001") == {sent: "DELIVERED"})
    delete(two, "D002", queued)
    assert len(poll(two, "D002")) == 0  # <CorrespondenceLetterInboundResponse/>
    delete(two, "D002", queued, tag="processID")  # idempotent, and either spelling
    status, answer = two.soap("D002", DELETE.format(tag="ProcessID", pid="scp2-999999"))
    assert status == 500 and fault(answer) == ("SOAP-ENV:Client", "E104")
    state = two.snapshot()
    assert state["queues"]["D002"] == [] and state["deleted"]["D002"] == [queued]
    assert state["requests"]["CorrespondenceLetterInboundRequest"] >= 3
    # The same letter again is the same letter (same ProcessID); other content under the same number is refused.
    assert send_letter(one, "นร 0105/1") == sent
    status, answer = one.soap("D001", LETTER.format(letter_id="นร 0105/1", subject="อื่น", sender="D001",
                                                    receiver="D002", pdf=PDF_B64))
    assert fault(answer) == ("SOAP-ENV:Client", "E106")


def test_notifiers_reach_the_sender_and_the_status_follows(nodes: tuple[Node, Node]) -> None:
    one, two = nodes
    sent = send_letter(one, "นร 0105/2")
    queued = poll_item(two, "D002").findtext("ProcessID") or ""
    delete(two, "D002", queued)
    echo = notify(two, "D002", "ReceiveLetterNotifier", "นร 0105/2")
    assert echo.findtext("AcceptDepartment/Code") == "D002" and echo.findtext("AcceptDate")
    echo = notify(two, "D002", "AcceptLetterNotifier", "นร 0105/2", "<AcceptID>15</AcceptID>")
    assert echo.findtext("AcceptID") == "15"
    for kind in ("ReceiveLetterNotifier", "AcceptLetterNotifier"):
        item = poll_item(one, "D001")
        notifier = item.find(kind)
        assert notifier is not None, ET.tostring(item, encoding="unicode")
        assert notifier.findtext("LetterID") == "นร 0105/2"
        assert notifier.findtext("AcceptDepartment/Code") == "D002"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", notifier.findtext("AcceptDate") or "")
        if kind == "AcceptLetterNotifier":
            assert notifier.findtext("AcceptID") == "15"
        delete(one, "D001", item.findtext("ProcessID") or "")
    assert statuses(one, "D001") == {sent: "ACCEPTED"}
    # The sender says the AcceptID is wrong: the receiver hears it.
    echo = notify(one, "D001", "InvalidAcceptIDNotifier", "นร 0105/2", "<AcceptID>15</AcceptID>")
    assert echo.findtext("AcceptDepartment/Code") == "D002"
    invalid = poll_item(two, "D002").find("InvalidAcceptIDNotifier")
    assert invalid is not None and invalid.findtext("AcceptID") == "15"
    status, answer = two.soap("D002", NOTIFIER.format(kind="AcceptLetterNotifier", letter_id="ไม่มี", subject="x",
                                                      extra="<AcceptID>1</AcceptID>"))
    assert status == 500 and fault(answer) == ("SOAP-ENV:Client", "E103")


def test_reject_withdraw_and_resend(nodes: tuple[Node, Node]) -> None:
    one, two = nodes
    first = send_letter(one, "นร 0105/3")
    poll_item(two, "D002")  # seen, not deleted yet
    echo = notify(two, "D002", "RejectLetterNotifier", "นร 0105/3", "<Reason>ผิดกรม</Reason>")
    assert echo.findtext("Reason") == "ผิดกรม"
    reject = poll_item(one, "D001")
    assert reject.findtext("RejectLetterNotifier/Reason") == "ผิดกรม"
    delete(one, "D001", reject.findtext("ProcessID") or "")
    assert statuses(one, "D001") == {first: "REJECTED"}
    answer = one.ok("D001", WITHDRAW.format(letter_id="นร 0105/3"))
    assert answer.tag == "CorrespondenceDeleteGovernmentDocumentResponse"
    assert answer.findtext("LetterID") == "นร 0105/3" and answer.findtext("ProcessTime")
    wait_for(lambda: len(poll(two, "D002")) == 0)  # it left D002's queue
    assert statuses(one, "D001") == {first: "WITHDRAWN"}
    old = two.snapshot()["withdrawn"]["D002"][0]
    delete(two, "D002", old)  # deleting a withdrawn item is no error
    second = send_letter(one, "นร 0105/3", subject="ขอเชิญประชุม (แก้ไข)")
    assert second != first
    item = poll_item(two, "D002")
    assert item.findtext(f".//{{{RAM}}}Subject") == "ขอเชิญประชุม (แก้ไข)"
    assert statuses(one, "D001") == {first: "WITHDRAWN", second: "DELIVERED"}
    status, answer = one.soap("D001", WITHDRAW.format(letter_id="ไม่มี"))
    assert status == 500 and fault(answer) == ("SOAP-ENV:Client", "E105")


def test_forwarding_waits_for_a_node_that_is_down(nodes: tuple[Node, Node]) -> None:
    one, two = nodes
    send_letter(one, "นร 0105/4")
    kept = poll_item(two, "D002").findtext("ProcessID")
    two.kill()
    pending = send_letter(one, "นร 0105/5")  # node 1 answers and keeps trying
    one.kill()  # node 1 crashes too, with the forward still pending
    one.start()
    time.sleep(0.6)
    assert statuses(one, "D001")[pending] == "SENT"
    assert one.snapshot()["pending_forwards"] == 1
    two.start()
    wait_for(lambda: statuses(one, "D001")[pending] == "DELIVERED")
    assert poll(two, "D002").findtext("ProcessID") == kept  # node 2's queue survived its crash
    delete(two, "D002", kept or "")
    late = poll(two, "D002")
    assert late.findtext(f".//{{{RAM}}}CorrespondenceLetter/{{{RAM}}}ID") == "นร 0105/5"
    assert len(two.snapshot()["queues"]["D002"]) == 1  # delivered once
    # A clean stop on SIGTERM.
    assert two.proc is not None
    two.proc.send_signal(signal.SIGTERM)
    assert two.proc.wait(10) == 0
    two.reap()


def test_injected_faults(nodes: tuple[Node, Node]) -> None:
    one, two = nodes
    one.control({"fault": "soap_fault", "times": 2})
    for _ in range(2):
        status, answer = one.soap("D001", INBOUND)
        assert status == 500 and fault(answer) == ("SOAP-ENV:Server", "E999")
    poll(one, "D001")
    send_letter(one, "นร 0105/6")
    item = poll_item(two, "D002").findtext("ProcessID") or ""
    two.control({"fault": "duplicate", "times": 1})
    delete(two, "D002", item)  # answers success ...
    assert poll(two, "D002").findtext("ProcessID") == item  # ... but the item is still there
    delete(two, "D002", item)
    assert len(poll(two, "D002")) == 0
    two.control({"fault": "delay", "seconds": 0.4, "times": 1})
    started = time.monotonic()
    poll(two, "D002")
    assert time.monotonic() - started >= 0.4
    two.control({"fault": "soap_fault", "times": 5})
    two.control({"fault": "none"})
    poll(two, "D002")


def test_bad_requests_are_client_faults(nodes: tuple[Node, Node]) -> None:
    one, _ = nodes
    endpoint = "/D001/ecms-ws01/service2"
    for body in (b"garbage <<<", b"<notsoap/>", "<a>ไม่ปิด".encode(), b""):
        status, raw = one.http("POST", endpoint, body, {"Content-Type": "text/xml"})
        assert status == 500
        root = ET.fromstring(raw)
        assert root.findtext(".//faultcode") == "SOAP-ENV:Client" and root.findtext(".//ErrorCode") == "E100"
    status, answer = one.soap("D001", "<NoSuchOperation/>")
    assert status == 500 and fault(answer) == ("SOAP-ENV:Client", "E100")
    status, answer = one.soap("D002", INBOUND)  # D002 lives on node 2
    assert status == 500 and fault(answer) == ("SOAP-ENV:Client", "E100")
    status, answer = one.soap("D001", LETTER.format(letter_id="1", subject="x", sender="D001", receiver="D999",
                                                    pdf=PDF_B64))
    assert fault(answer) == ("SOAP-ENV:Client", "E101")
    status, answer = one.soap("D001", LETTER.format(letter_id="1", subject="x", sender="D002", receiver="D001",
                                                    pdf=PDF_B64))
    assert fault(answer) == ("SOAP-ENV:Client", "E102")
    no_id = ENVELOPE.format(wsa="http://www.w3.org/2005/08/addressing", message_id="", to="x", body=INBOUND)
    status, raw = one.http("POST", endpoint, no_id.encode(), {"Content-Type": "text/xml"})
    assert status == 500 and b"MessageID" in raw
    # The old misspelt addressing namespace and SOAP 1.2's media type are accepted.
    poll(one, "D001")
    one.ok("D001", INBOUND, wsa="http://w3.org/2005/08/addressing")
    status, _ = one.http("POST", endpoint, ENVELOPE.format(wsa="http://w3.org/2005/08/addressing", message_id="m",
                                                           to="x", body=INBOUND).encode(),
                         {"Content-Type": "application/soap+xml; charset=utf-8"})
    assert status == 200
    # Too large: refused before the body is read.
    connection = http.client.HTTPConnection("127.0.0.1", one.port, timeout=10)
    try:
        connection.putrequest("POST", endpoint)
        connection.putheader("Content-Type", "text/xml")
        connection.putheader("Content-Length", str(65 * 1024 * 1024))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_directory(nodes: tuple[Node, Node]) -> None:
    one, two = nodes
    answer = two.ok("D002", "<GetOrganizationList/>")
    assert answer.tag == "GetOrganizationListResponse"
    rows = answer.findall("OrganizationList")
    assert [r.findtext("OrganizationID") for r in rows] == ["D001", "D002"]
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert {n.get(lang): n.text for n in rows[1].findall("name")} == {"en": "Department Two", "th": "กรมสอง"}
    assert rows[0].findtext("ECMS-URL") == f"http://127.0.0.1:{one.port}/D001/ecms-ws01/service2"
    assert rows[0].findtext("MinistryID") == "M01"
    answer = one.ok("D001", "<getMinistryOrganizationList/>")
    assert answer.tag == "GetMinistryOrganizationListResponse"
    assert [(m.findtext("Th-Name"), m.findtext("MinistryID")) for m in answer.findall("MinistryOrganizationList")] \
        == [("สำนักนายกรัฐมนตรี", "M01")]
    assert os.path.exists(one.state / "state.json")
