"""A stand-alone simulator of one DGA e-CMS node (THeGIF GovernmentDocument exchange), for tests.

Thai agencies exchange letters through e-CMS: store-and-forward SOAP 1.1 nodes. Each agency's
e-Saraban talks only to its own node: it POSTs letters and notifiers to it and polls it for what
arrived, deleting each consumed queue item by its ProcessID. This module is written as another
vendor's node would be: the standard library only, nothing imported from ``saraban``.

Run it as ``python tests/ecms/node.py --port P --name scp1 --config CONFIG.json --state DIR``. It binds
127.0.0.1, prints ``ready http://127.0.0.1:P`` once listening and exits cleanly on SIGTERM or SIGINT.

* CONFIG.json (shared by every node) lists ``ministries`` (``id``, ``th_name``) and ``organizations``
  (``id``, ``th_name``, ``en_name``, ``ministry``, ``node``). ``node`` is the base URL of the node
  hosting that department; its e-CMS endpoint is ``{node}/{DEPT}/ecms-ws01/service2`` (the path says
  which department is calling). This node hosts the departments whose ``node`` is its own base URL.
* The state (queues, outbound records, letters received, the forwarding outbox) is one JSON file in
  DIR, replaced atomically after every change; letters' XML are kept in files beside it. A node
  killed with SIGKILL and started again carries on where it was, pending forwards included.
* SOAP operations, by the local name of the Body's element (names matched case-insensitively):
  ``CorrespondenceLetterOutboundRequest`` (a ``GovernmentDocument`` or one notifier),
  ``CorrespondenceLetterInboundRequest``, ``CorrespondenceLetterDeleteRequest``,
  ``CorrespondenceDeleteGovernmentDocumentRequest`` (withdraw), ``OutboundStatusRequest``,
  ``GetOrganizationList`` and ``GetMinistryOrganizationList``.
* Node to node: ``POST /_forward`` (JSON ``to``, ``kind`` letter/notifier/withdraw, ``xml``, ``from``,
  ``origin_process_id``), one FIFO outbox per destination, retried every 0.5 s, idempotent.
* Test hooks: ``POST /_control`` (``{"fault": "soap_fault"|"delay"|"duplicate"|"none", ...}``, with an
  optional ``"operation"`` that the fault is kept for, e.g. only ``CorrespondenceLetterOutboundRequest``) and
  ``GET /_state``.

Error codes in faults: E100 malformed request (not XML, not SOAP, no MessageID, unknown operation or
department, a required field missing), E101 unknown receiver, E102 sender is not the caller, E103
unknown letter for a notifier, E104 unknown ProcessID, E105 unknown letter to withdraw, E106 the same
letter already sent to that receiver with other content (withdraw it first), E999 injected "node busy",
E500 an internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import signal
import sys
import threading
import traceback
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
WSA_NAMESPACES = {WSA, "http://w3.org/2005/08/addressing", ""}
RSM = "urn:th:gov:egif:data:standard:GovernmentDocument:1.0"
RAM = "urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1"
MAX_BODY = 64 * 1024 * 1024
RETRY_SECONDS = 0.5

ET.register_namespace("rsm", RSM)
ET.register_namespace("ram", RAM)

NOTIFIERS = {name.lower(): name for name in (
    "ReceiveLetterNotifier", "AcceptLetterNotifier", "RejectLetterNotifier", "InvalidLetterNotifier",
    "InvalidAcceptIDNotifier",
)}
# What each receiver's notifier makes of the sender's outbound record.
NOTIFIER_STATUS = {"ReceiveLetterNotifier": "RECEIVED", "AcceptLetterNotifier": "ACCEPTED",
                   "RejectLetterNotifier": "REJECTED", "InvalidLetterNotifier": "INVALID"}
NOTIFIER_FIELDS = {"letterid": "LetterID", "correspondencedate": "CorrespondenceDate", "subject": "Subject",
                   "acceptid": "AcceptID", "description": "Description", "reason": "Reason"}


class SoapFault(Exception):
    """A SOAP fault to answer: ``Client`` (the caller's mistake) or ``Server``."""

    def __init__(self, error_code: str, text: str, *, server: bool = False, status: int = 500) -> None:
        super().__init__(text)
        self.error_code = error_code
        self.text = text
        self.server = server
        self.status = status


def client_fault(text: str, code: str = "E100") -> SoapFault:
    """A Client fault with ``code``."""
    return SoapFault(code, text)


# --- XML helpers -------------------------------------------------------------------------------------


def local(tag: Any) -> str:
    """The lower-cased local name of an ElementTree tag ('' for comments and processing instructions)."""
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def namespace(tag: str) -> str:
    """The namespace URI of an ElementTree tag ('' if none)."""
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def child(el: ET.Element | None, *names: str) -> ET.Element | None:
    """Follow direct children by local name (case-insensitive): ``child(e, "Sender", "Code")``."""
    for name in names:
        if el is None:
            return None
        el = next((c for c in el if local(c.tag) == name.lower()), None)
    return el


def descendant(el: ET.Element | None, name: str) -> ET.Element | None:
    """The first element below ``el`` (not ``el`` itself) with that local name."""
    if el is None:
        return None
    return next((d for d in el.iter() if d is not el and local(d.tag) == name.lower()), None)


def first_found(found: ET.Element | None, default: ET.Element) -> ET.Element:
    """``found`` unless it is missing (an element's truth value is its having children)."""
    return default if found is None else found


def text_of(el: ET.Element | None) -> str:
    """The stripped text content of ``el`` ('' if missing)."""
    return "".join(el.itertext()).strip() if el is not None else ""


def field(el: ET.Element | None, *path: str) -> str:
    """The text at a path of direct children, else of the first descendant named like its last step."""
    found = child(el, *path)
    if found is None and el is not None:
        found = child(descendant(el, path[0]), *path[1:]) if len(path) > 1 else descendant(el, path[0])
    return text_of(found)


def norm_date(value: str) -> str:
    """A date compared by its ``yyyy-MM-dd`` part when it has one."""
    value = value.strip()
    return value[:10] if re.match(r"\d{4}-\d{2}-\d{2}", value) else value


def strip_namespaces(el: ET.Element) -> ET.Element:
    """A copy of ``el`` with every element name unqualified."""
    copied = ET.Element(el.tag.rpartition("}")[2] if isinstance(el.tag, str) else "x", dict(el.attrib))
    copied.text, copied.tail = el.text, el.tail
    for c in el:
        if isinstance(c.tag, str):
            copied.append(strip_namespaces(c))
    return copied


def raw_element(data: bytes, wanted: str) -> str | None:
    """The exact text of the first element in the SOAP Body named ``wanted`` (local name, any case), with
    the namespace declarations it inherits from its ancestors added to its start tag: what a DOM
    serialiser of the subtree gives, and inclusive canonicalisation sees the same namespaces.

    ``None`` when that is not possible (an empty element, an encoding other than UTF-8): the caller
    serialises the parsed element instead.
    """
    parser = expat.ParserCreate()
    scopes: list[dict[str, str]] = []
    names: list[str] = []
    found: dict[str, Any] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        decls = {k: v for k, v in attrs.items() if k == "xmlns" or k.startswith("xmlns:")}
        in_body = any(n.rpartition(":")[2].lower() == "body" for n in names[:2])
        if "start" not in found and in_body and name.rpartition(":")[2].lower() == wanted.lower():
            inherited: dict[str, str] = {}
            for scope in scopes:
                inherited.update(scope)
            found.update(start=parser.CurrentByteIndex, depth=len(scopes), name=name,
                         inherited={k: v for k, v in inherited.items() if k not in decls})
        scopes.append(decls)
        names.append(name)

    def end(name: str) -> None:
        scopes.pop()
        names.pop()
        if "start" in found and "end" not in found and len(scopes) == found["depth"]:
            found["end"] = parser.CurrentByteIndex

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return None
    if "end" not in found:
        return None
    begin, end_at, name = found["start"], found["end"], found["name"].encode()
    if data[end_at:end_at + 2] != b"</" or data[begin + 1:begin + 1 + len(name)] != name:
        return None
    close = data.index(b">", end_at) + 1
    head = begin + 1 + len(name)
    extra = "".join(f" {k}={quoteattr(v)}" for k, v in found["inherited"].items()).encode()
    try:
        return (data[begin:head] + extra + data[head:close]).decode("utf-8")
    except UnicodeDecodeError:
        return None


def now_text() -> str:
    """The local time as ``yyyy-MM-ddTHH:mm:ss``."""
    return dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def el(tag: str, value: str) -> str:
    """``<tag>value</tag>`` with the value escaped."""
    return f"<{tag}>{escape(value)}</{tag}>"


def envelope(body: str, relates_to: str | None) -> bytes:
    """A SOAP 1.1 response envelope around ``body`` (unqualified), related to the request's MessageID."""
    header = f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
    if relates_to is not None:
        header += f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" '
            f'xmlns:wsa="{WSA}"><SOAP-ENV:Header>{header}</SOAP-ENV:Header><SOAP-ENV:Body>{body}'
            f"</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


def fault_body(fault: SoapFault) -> str:
    """The SOAP 1.1 Fault element of ``fault``."""
    code = "SOAP-ENV:Server" if fault.server else "SOAP-ENV:Client"
    return (f"<SOAP-ENV:Fault><faultcode>{code}</faultcode>{el('faultstring', fault.text)}<detail><ErrorDetail>"
            f"{el('ErrorCode', fault.error_code)}{el('ErrorDescription', fault.text)}</ErrorDetail></detail>"
            f"</SOAP-ENV:Fault>")


class Request:
    """A parsed SOAP request: its MessageID, wsa:To, operation element and raw bytes."""

    def __init__(self, data: bytes) -> None:
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            raise client_fault(f"request is not well-formed XML: {e}") from None
        if local(root.tag) != "envelope":
            raise client_fault("request is not a SOAP envelope")
        header, body = child(root, "Header"), child(root, "Body")
        if body is None:
            raise client_fault("SOAP envelope has no Body")
        operations = [c for c in body if isinstance(c.tag, str)]
        if not operations:
            raise client_fault("SOAP Body has no operation element")
        self.raw = data
        self.operation = operations[0]
        self.name = local(self.operation.tag)
        addressing = [h for h in (header.iter() if header is not None else [])
                      if isinstance(h.tag, str) and namespace(h.tag) in WSA_NAMESPACES]
        self.message_id = next((text_of(h) for h in addressing if local(h.tag) == "messageid"), "")
        self.to = next((text_of(h) for h in addressing if local(h.tag) == "to"), "")


# --- the node ----------------------------------------------------------------------------------------


class Node:
    """One e-CMS node: its departments' queues, outbound records and forwarding outbox, under one lock."""

    def __init__(self, name: str, port: int, config: dict[str, Any], state_dir: Path) -> None:
        self.name = name
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.state_dir = state_dir
        self.blobs = state_dir / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.ministries: list[dict[str, Any]] = list(config.get("ministries", []))
        self.orgs: dict[str, dict[str, Any]] = {}
        for org in config.get("organizations", []):
            self.orgs[str(org["id"])] = {**org, "node": str(org.get("node", "")).rstrip("/")}
        self.by_lower = {k.lower(): k for k in self.orgs}
        self.hosted = {k for k, org in self.orgs.items() if self._is_me(org["node"])}
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self.requests: dict[str, int] = {}
        self.faults: dict[str, float] = {"soap_fault": 0, "delay": 0, "delay_seconds": 0.0, "duplicate": 0}
        self.fault_operation = ""  # "": faults hit any SOAP request; else only this operation's
        self.forwarders: dict[str, threading.Thread] = {}
        self.state: dict[str, Any] = self._load()

    # state ------------------------------------------------------------------------------------------

    def _is_me(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.hostname or "").lower() in ("127.0.0.1", "localhost") and parts.port == self.port

    def _load(self) -> dict[str, Any]:
        state: dict[str, Any] = {"counter": 0, "queues": {}, "deleted": {}, "withdrawn": {}, "outbound": [],
                                 "received": [], "outbox": [], "seen": {}}
        path = self.state_dir / "state.json"
        if path.exists():
            state.update(json.loads(path.read_text(encoding="utf-8")))
        return state

    def save(self) -> None:
        """Write the state atomically (the caller holds the lock)."""
        path = self.state_dir / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def write_blob(self, text: str) -> str:
        """Store a letter's XML in its own file; its name."""
        name = f"{uuid.uuid4().hex}.xml"
        tmp = self.blobs / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.blobs / name)
        return name

    def read_blob(self, name: str) -> str:
        """A stored letter's XML."""
        return (self.blobs / name).read_text(encoding="utf-8")

    def drop_blob(self, name: str | None) -> None:
        """Forget a stored letter's XML."""
        if name:
            with contextlib.suppress(OSError):
                (self.blobs / name).unlink()

    def next_process_id(self) -> str:
        """A new ProcessID, unique across nodes (the caller holds the lock)."""
        self.state["counter"] += 1
        return f"{self.name}-{self.state['counter']:06d}"

    def department(self, value: str) -> str | None:
        """The configured id of a department, matched case-insensitively."""
        return self.by_lower.get(value.strip().lower())

    def queue(self, dept: str) -> list[dict[str, Any]]:
        """The department's queue (the caller holds the lock)."""
        queue: list[dict[str, Any]] = self.state["queues"].setdefault(dept, [])
        return queue

    # forwarding -------------------------------------------------------------------------------------

    def enqueue_forward(self, dept: str, payload: dict[str, Any], *, xml: str | None = None,
                        blob: str | None = None, on_success: dict[str, Any] | None = None) -> None:
        """Add a forward to ``dept``'s node to the outbox (the caller holds the lock and saves)."""
        dest = self.orgs[dept]["node"]
        item = {"id": uuid.uuid4().hex, "dest": dest, "payload": {"to": dept, **payload}, "xml": xml,
                "blob": blob, "on_success": on_success}
        self.state["outbox"].append(item)
        self._ensure_forwarder(dest)
        self.wake.notify_all()

    def start_forwarders(self) -> None:
        """Start a forwarder for every destination with pending items (after a restart)."""
        with self.lock:
            for item in self.state["outbox"]:
                self._ensure_forwarder(item["dest"])

    def _ensure_forwarder(self, dest: str) -> None:
        thread = self.forwarders.get(dest)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=self._forward_loop, args=(dest,), daemon=True, name=f"fwd {dest}")
            self.forwarders[dest] = thread
            thread.start()

    def _forward_loop(self, dest: str) -> None:
        while not self.stopping.is_set():
            with self.wake:
                item = next((i for i in self.state["outbox"] if i["dest"] == dest), None)
                if item is None:
                    self.wake.wait(1.0)
                    continue
            try:
                xml = item["xml"] if item.get("blob") is None else self.read_blob(item["blob"])
            except OSError:  # withdrawn meanwhile: the item is gone
                with self.lock:
                    self.state["outbox"] = [i for i in self.state["outbox"] if i["id"] != item["id"]]
                    self.save()
                continue
            outcome = post_json(dest + "/_forward", {**item["payload"], "xml": xml})
            if outcome == "retry":
                self.stopping.wait(RETRY_SECONDS)
                continue
            if outcome != "ok":
                print(f"{self.name}: forward to {dest} refused, dropped: {outcome}", file=sys.stderr, flush=True)
            with self.lock:
                still = any(i["id"] == item["id"] for i in self.state["outbox"])
                self.state["outbox"] = [i for i in self.state["outbox"] if i["id"] != item["id"]]
                done = item.get("on_success")
                if still and outcome == "ok" and done and done.get("delivered"):
                    record = self.outbound(done["delivered"])
                    if record is not None and record["status"] == "SENT":
                        record["status"] = "DELIVERED"
                self.save()
            self.drop_blob(item.get("blob"))

    def outbound(self, process_id: str) -> dict[str, Any] | None:
        """The outbound record with that ProcessID (the caller holds the lock)."""
        return next((r for r in self.state["outbound"] if r["process_id"] == process_id), None)

    def accept_forward(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Take a forward from another node (or this one): queue a letter or notifier, or withdraw a letter."""
        to = self.department(str(payload.get("to", "")))
        kind = payload.get("kind")
        origin = str(payload.get("origin_process_id", ""))
        if to is None or to not in self.hosted:
            return 404, {"ok": False, "error": f"department {payload.get('to')!r} is not hosted here"}
        if kind not in ("letter", "notifier", "withdraw") or not origin:
            return 400, {"ok": False, "error": "bad forward"}
        key = f"{kind}:{origin}"
        xml = str(payload.get("xml") or "")
        blob: str | None = None
        letter: ET.Element | None = None
        if kind == "letter":
            xml = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", xml)
            try:
                doc = ET.fromstring(xml)
            except ET.ParseError:
                return 400, {"ok": False, "error": "letter is not well-formed XML"}
            with self.lock:
                if key in self.state["seen"]:
                    return 200, {"ok": True, "duplicate": True}
            letter = first_found(descendant(doc, "CorrespondenceLetter"), doc)
            blob = self.write_blob(xml)
        with self.lock:
            if key in self.state["seen"]:
                self.drop_blob(blob)
                return 200, {"ok": True, "duplicate": True}
            process_id = None
            if kind == "letter":
                process_id = self.next_process_id()
                item = {"process_id": process_id, "kind": "letter", "letter_id": field(letter, "ID"),
                        "date": field(letter, "CorrespondenceDate"), "subject": field(letter, "Subject"),
                        "from": payload.get("from"), "origin_process_id": origin, "queued_at": now_text(),
                        "blob": blob}
                self.queue(to).append(item)
                self.state["received"].append({
                    "dept": to, "process_id": process_id, "letter_id": item["letter_id"], "date": item["date"],
                    "subject": item["subject"], "sender": payload.get("from"), "origin_process_id": origin,
                    "withdrawn": False, "received_at": item["queued_at"]})
            elif kind == "notifier":
                process_id = self.next_process_id()
                self.queue(to).append({
                    "process_id": process_id, "kind": "notifier", "notifier": payload.get("notifier"),
                    "letter_id": payload.get("letter_id"), "date": payload.get("date"),
                    "subject": payload.get("subject"), "accept_id": payload.get("accept_id"),
                    "from": payload.get("from"), "origin_process_id": origin, "queued_at": now_text(), "xml": xml})
                record = self.outbound(str(payload.get("letter_process_id", "")))
                status = payload.get("status")
                if record is not None and status and record["status"] != "WITHDRAWN" and not (
                        status == "RECEIVED" and record["status"] not in ("SENT", "DELIVERED")):
                    record["status"] = status
                    if status == "ACCEPTED":
                        record["accept_id"] = payload.get("accept_id")
            else:  # withdraw
                queue = self.queue(to)
                gone = [i for i in queue if i["kind"] == "letter" and i.get("origin_process_id") == origin]
                self.state["queues"][to] = [i for i in queue if i not in gone]
                withdrawn = self.state["withdrawn"].setdefault(to, [])
                for i in gone:
                    withdrawn.append(i["process_id"])
                    self.drop_blob(i.get("blob"))
                for r in self.state["received"]:
                    if r["dept"] == to and r["origin_process_id"] == origin:
                        r["withdrawn"] = True
            self.state["seen"][key] = process_id or True
            self.save()
        return 200, {"ok": True, "process_id": process_id}

    # SOAP operations --------------------------------------------------------------------------------

    def dispatch(self, dept: str, request: Request) -> str:
        """The response element for ``request`` from ``dept`` (or a SoapFault)."""
        operations = {
            "correspondenceletteroutboundrequest": self.op_outbound,
            "correspondenceletterinboundrequest": self.op_inbound,
            "correspondenceletterdeleterequest": self.op_delete,
            "correspondencedeletegovernmentdocumentrequest": self.op_withdraw,
            "outboundstatusrequest": self.op_status,
            "getorganizationlist": self.op_organizations,
            "getorganizationlistrequest": self.op_organizations,
            "getministryorganizationlist": self.op_ministries,
            "getministryorganizationlistrequest": self.op_ministries,
        }
        operation = operations.get(request.name)
        if operation is None:
            raise client_fault(f"unknown operation {request.operation.tag.rpartition('}')[2]}")
        return operation(dept, request)

    def op_outbound(self, dept: str, request: Request) -> str:
        """A letter or a notifier sent by ``dept``."""
        doc = descendant(request.operation, "GovernmentDocument")
        if doc is not None:
            return self.send_letter(dept, request, doc)
        notifier = next((c for c in request.operation if local(c.tag) in NOTIFIERS), None)
        if notifier is None:
            notifier = next((d for d in request.operation.iter() if local(d.tag) in NOTIFIERS), None)
        if notifier is None:
            raise client_fault("CorrespondenceLetterOutboundRequest holds neither a GovernmentDocument nor a notifier")
        return self.send_notifier(dept, NOTIFIERS[local(notifier.tag)], notifier)

    def send_letter(self, dept: str, request: Request, doc: ET.Element) -> str:
        """Record an outbound letter, answer its ProcessID, forward it to the receiver's node."""
        letter = first_found(descendant(doc, "CorrespondenceLetter"), doc)
        letter_id = text_of(child(letter, "ID"))
        if not letter_id:
            raise client_fault("CorrespondenceLetter has no ID")
        sender = self.department(field(letter, "SenderParty", "DepartmentOrganization", "ID"))
        receiver_code = field(letter, "ReceiverParty", "DepartmentOrganization", "ID")
        receiver = self.department(receiver_code)
        if receiver is None:
            raise client_fault(f"unknown receiver department {receiver_code!r}", "E101")
        if sender != dept:
            raise client_fault(f"sender department is not the calling department {dept}", "E102")
        xml = raw_element(request.raw, "GovernmentDocument") or ET.tostring(doc, encoding="unicode")
        digest = hashlib.sha256(xml.encode()).hexdigest()
        date, subject = text_of(child(letter, "CorrespondenceDate")), text_of(child(letter, "Subject"))
        with self.lock:
            active = [r for r in self.state["outbound"] if r["sender"] == dept and r["receiver"] == receiver
                      and r["letter_id"] == letter_id and norm_date(r["date"]) == norm_date(date)
                      and r["status"] != "WITHDRAWN"]
            if active and active[-1]["digest"] == digest:  # the same letter again: the same answer
                return self._process_response("CorrespondenceLetterOutboundResponse", active[-1]["process_id"],
                                              active[-1]["sent_at"])
            if active:
                raise client_fault(f"letter {letter_id} of {date} was already sent to {receiver}: withdraw it "
                                   f"before sending it again", "E106")
        blob = self.write_blob(xml)
        with self.lock:
            process_id = self.next_process_id()
            sent_at = now_text()
            self.state["outbound"].append({
                "process_id": process_id, "letter_id": letter_id, "date": date, "subject": subject,
                "sender": dept, "receiver": receiver, "status": "SENT", "accept_id": None, "sent_at": sent_at,
                "digest": digest})
            self.enqueue_forward(receiver, {"kind": "letter", "from": dept, "origin_process_id": process_id,
                                            "letter_id": letter_id, "date": date, "subject": subject},
                                 blob=blob, on_success={"delivered": process_id})
            self.save()
        return self._process_response("CorrespondenceLetterOutboundResponse", process_id, sent_at)

    def send_notifier(self, dept: str, name: str, notifier: ET.Element) -> str:
        """Forward a notifier about a letter to the letter's other party."""
        values = {local(c.tag): text_of(c) for c in notifier if isinstance(c.tag, str)}
        letter_id, date = values.get("letterid", ""), values.get("correspondencedate", "")
        accept_id = values.get("acceptid", "")
        if not letter_id:
            raise client_fault(f"{name} has no LetterID")
        if name in ("AcceptLetterNotifier", "InvalidAcceptIDNotifier") and not accept_id:
            raise client_fault(f"{name} has no AcceptID")

        def same(r: dict[str, Any]) -> bool:
            return r["letter_id"] == letter_id and (not date or norm_date(r["date"]) == norm_date(date))

        with self.lock:
            if name == "InvalidAcceptIDNotifier":  # from the letter's sender, to its receiver
                mine = [r for r in self.state["outbound"] if r["sender"] == dept and same(r)]
                if not mine:
                    raise client_fault(f"no letter {letter_id} of {date} sent by {dept}", "E103")
                record = next((r for r in reversed(mine) if r.get("accept_id") == accept_id), mine[-1])
                to, receiver, letter_pid = record["receiver"], record["receiver"], record["process_id"]
                status = None
            else:  # from the letter's receiver, to its sender
                mine = [r for r in self.state["received"] if r["dept"] == dept and same(r)]
                if not mine:
                    raise client_fault(f"no letter {letter_id} of {date} received by {dept}", "E103")
                record = next((r for r in reversed(mine) if not r["withdrawn"]), mine[-1])
                to, receiver, letter_pid = record["sender"], dept, record["origin_process_id"]
                status = NOTIFIER_STATUS[name]
            if self.department(str(to)) is None:
                raise SoapFault("E500", f"the letter's other party {to!r} is not in the directory", server=True)
            values.setdefault("correspondencedate", record["date"])
            if not values.get("subject"):
                values["subject"] = record.get("subject", "")
            xml = notifier_xml(name, notifier, values, receiver)
            process_id = self.next_process_id()
            if status:  # the receiver's own record of the letter
                record["status"] = status
            self.enqueue_forward(to, {"kind": "notifier", "notifier": name, "from": dept,
                                      "origin_process_id": process_id, "letter_process_id": letter_pid,
                                      "letter_id": letter_id, "date": values["correspondencedate"],
                                      "subject": values["subject"], "accept_id": accept_id or None,
                                      "status": status}, xml=xml)
            self.save()
        return (f"<CorrespondenceLetterOutboundResponse>{el('ProcessID', process_id)}{el('ProcessTime', now_text())}"
                f"{xml}</CorrespondenceLetterOutboundResponse>")

    def op_inbound(self, dept: str, request: Request) -> str:
        """The oldest item of the caller's queue (the same one until it is deleted)."""
        with self.lock:
            queue = self.queue(dept)
            item = dict(queue[0]) if queue else None
        if item is None:
            return "<CorrespondenceLetterInboundResponse/>"
        try:
            content = self.read_blob(item["blob"]) if item.get("blob") else item["xml"]
        except OSError:  # withdrawn between the two steps
            return self.op_inbound(dept, request)
        return (f"<CorrespondenceLetterInboundResponse>{el('ProcessID', item['process_id'])}"
                f"{el('ProcessTime', item['queued_at'])}{content}</CorrespondenceLetterInboundResponse>")

    def op_delete(self, dept: str, request: Request) -> str:
        """Remove an item from the caller's queue (idempotent)."""
        process_id = text_of(descendant(request.operation, "ProcessID"))
        if not process_id:
            raise client_fault("CorrespondenceLetterDeleteRequest has no ProcessID")
        with self.lock:
            queue = self.queue(dept)
            item = next((i for i in queue if i["process_id"] == process_id), None)
            if item is not None:
                if self.faults["duplicate"] > 0:
                    self.faults["duplicate"] -= 1
                else:
                    queue.remove(item)
                    self.state["deleted"].setdefault(dept, []).append(process_id)
                    self.save()
                    self.drop_blob(item.get("blob"))
            elif process_id not in self.state["deleted"].get(dept, []) + self.state["withdrawn"].get(dept, []):
                raise client_fault(f"ProcessID {process_id} was never queued for {dept}", "E104")
        return self._process_response("CorrespondenceLetterDeleteResponse", process_id, now_text())

    def op_withdraw(self, dept: str, request: Request) -> str:
        """Withdraw a letter the caller sent: WITHDRAWN here, removed from the receiver's queue there."""
        op = request.operation
        letter_id = field(op, "LetterID")
        date = field(op, "CorrespondenceDate")
        sender = field(op, "SenderDepartment", "Code")
        receiver = field(op, "AcceptDepartment", "Code")
        if not letter_id:
            raise client_fault("CorrespondenceDeleteGovernmentDocumentRequest has no LetterID")
        if sender and self.department(sender) != dept:
            raise client_fault(f"SenderDepartment {sender} is not the calling department {dept}", "E102")
        with self.lock:
            mine = [r for r in self.state["outbound"] if r["sender"] == dept and r["letter_id"] == letter_id
                    and (not date or norm_date(r["date"]) == norm_date(date))
                    and (not receiver or r["receiver"] == self.department(receiver))]
            if not mine:
                raise client_fault(f"no letter {letter_id} of {date} sent by {dept}", "E105")
            for record in mine:
                if record["status"] == "WITHDRAWN":
                    continue
                record["status"] = "WITHDRAWN"
                pending = [i for i in self.state["outbox"] if i["payload"].get("kind") == "letter"
                           and i["payload"].get("origin_process_id") == record["process_id"]]
                for i in pending:  # not delivered yet: it never will be
                    self.state["outbox"].remove(i)
                    self.drop_blob(i.get("blob"))
                self.enqueue_forward(record["receiver"], {"kind": "withdraw", "from": dept,
                                                          "origin_process_id": record["process_id"],
                                                          "letter_id": letter_id, "date": record["date"]})
            self.save()
        return (f"<CorrespondenceDeleteGovernmentDocumentResponse>{el('LetterID', letter_id)}"
                f"{el('ProcessTime', now_text())}</CorrespondenceDeleteGovernmentDocumentResponse>")

    def op_status(self, dept: str, request: Request) -> str:
        """The caller's outbound letters and their statuses (optionally one LetterID or ProcessID)."""
        letter_id = field(request.operation, "LetterID")
        process_id = field(request.operation, "ProcessID")
        with self.lock:
            records = [dict(r) for r in self.state["outbound"] if r["sender"] == dept
                       and (not letter_id or r["letter_id"] == letter_id)
                       and (not process_id or r["process_id"] == process_id)]
        rows = "".join(
            f"<Outbound>{el('ProcessID', r['process_id'])}{el('LetterID', r['letter_id'])}"
            f"{el('ProcessStatus', r['status'])}{el('CorrespondenceDate', r['date'])}"
            f"<AcceptDepartment>{el('Code', r['receiver'])}</AcceptDepartment>"
            + (el("AcceptID", r["accept_id"]) if r.get("accept_id") else "") + "</Outbound>"
            for r in records)
        return f"<OutboundStatusResponse>{rows}</OutboundStatusResponse>"

    def op_organizations(self, dept: str, request: Request) -> str:
        """The directory of departments, each with its ECMS-URL."""
        rows = "".join(
            f'<OrganizationList><name xml:lang="en">{escape(str(o.get("en_name", "")))}</name>'
            f'<name xml:lang="th">{escape(str(o.get("th_name", "")))}</name>'
            f"{el('ECMS-URL', ecms_url(o))}{el('OrganizationID', str(o['id']))}"
            f"{el('MinistryID', str(o.get('ministry', '')))}</OrganizationList>"
            for o in self.orgs.values())
        return f"<GetOrganizationListResponse>{rows}</GetOrganizationListResponse>"

    def op_ministries(self, dept: str, request: Request) -> str:
        """The list of ministries."""
        rows = "".join(
            f"<MinistryOrganizationList>{el('Th-Name', str(m.get('th_name', '')))}"
            f"{el('MinistryID', str(m['id']))}</MinistryOrganizationList>"
            for m in self.ministries)
        return f"<GetMinistryOrganizationListResponse>{rows}</GetMinistryOrganizationListResponse>"

    @staticmethod
    def _process_response(tag: str, process_id: str, when: str) -> str:
        return f"<{tag}>{el('ProcessID', process_id)}{el('ProcessTime', when)}</{tag}>"

    # hooks ------------------------------------------------------------------------------------------

    def control(self, order: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Set up injected faults."""
        kind = order.get("fault")
        times = int(order.get("times", 1))
        with self.lock:
            self.fault_operation = str(order.get("operation", "")).lower()
            if kind == "none":
                self.faults.update(soap_fault=0, delay=0, delay_seconds=0.0, duplicate=0)
            elif kind in ("soap_fault", "duplicate"):
                self.faults[kind] = times
            elif kind == "delay":
                self.faults.update(delay=times, delay_seconds=float(order.get("seconds", 1.0)))
            else:
                return 400, {"ok": False, "error": f"unknown fault {kind!r}"}
        return 200, {"ok": True}

    def injected(self, operation: str) -> tuple[float, bool]:
        """The delay and whether to fail, for this SOAP request (counting them down)."""
        with self.lock:
            delay = 0.0
            if self.fault_operation and operation.lower() != self.fault_operation:
                return delay, False
            if self.faults["delay"] > 0:
                self.faults["delay"] -= 1
                delay = self.faults["delay_seconds"]
            fail = self.faults["soap_fault"] > 0
            if fail:
                self.faults["soap_fault"] -= 1
        return delay, fail

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /_state`` shows."""
        with self.lock:
            hidden = ("blob", "xml")
            return {
                "name": self.name, "hosted": sorted(self.hosted),
                "queues": {d: [{k: v for k, v in i.items() if k not in hidden} for i in q]
                           for d, q in self.state["queues"].items()},
                "outbound": [dict(r) for r in self.state["outbound"]],
                "received": [dict(r) for r in self.state["received"]],
                "requests": dict(self.requests),
                "deleted": {d: list(p) for d, p in self.state["deleted"].items()},
                "withdrawn": {d: list(p) for d, p in self.state["withdrawn"].items()},
                "pending_forwards": len(self.state["outbox"]),
            }

    def count(self, operation: str) -> None:
        """Count a SOAP request by operation."""
        with self.lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1

    def close(self) -> None:
        """Stop the forwarders and write the state."""
        self.stopping.set()
        with self.wake:
            self.wake.notify_all()
            self.save()


def notifier_xml(name: str, source: ET.Element, values: dict[str, str], receiver: str) -> str:
    """The notifier as forwarded: its known fields in order, any others, then AcceptDate and
    AcceptDepartment/Code (the letter's receiver)."""
    out = ET.Element(name)
    for key, tag in NOTIFIER_FIELDS.items():
        if values.get(key):
            ET.SubElement(out, tag).text = values[key]
    for c in source:
        if isinstance(c.tag, str) and local(c.tag) not in NOTIFIER_FIELDS and local(c.tag) not in (
                "acceptdate", "acceptdepartment"):
            extra = strip_namespaces(c)
            extra.tail = None
            out.append(extra)
    ET.SubElement(out, "AcceptDate").text = now_text()
    ET.SubElement(ET.SubElement(out, "AcceptDepartment"), "Code").text = receiver
    return ET.tostring(out, encoding="unicode")


def ecms_url(org: dict[str, Any]) -> str:
    """A department's e-CMS endpoint."""
    return f"{org['node']}/{org['id']}/ecms-ws01/service2"


def post_json(url: str, payload: dict[str, Any]) -> str:
    """POST JSON to another node: ``ok``, ``retry`` (down, 5xx) or the refusal's text (4xx)."""
    parts = urlsplit(url)
    try:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
        try:
            connection.request("POST", parts.path, json.dumps(payload).encode(),
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
    except (OSError, http.client.HTTPException):
        return "retry"
    if response.status == 200:
        return "ok"
    if response.status >= 500:
        return "retry"
    return f"HTTP {response.status}: {body[:200].decode(errors='replace')}"


# --- HTTP --------------------------------------------------------------------------------------------


class Server(ThreadingHTTPServer):
    """The HTTP server, holding its node."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    node: Node


class Handler(BaseHTTPRequestHandler):
    """SOAP on ``/{DEPT}/ecms-ws01/service2``; JSON on ``/_control``, ``/_state`` and ``/_forward``."""

    protocol_version = "HTTP/1.1"
    server_version = "ecms-sim/1.0"
    timeout = 120
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are counted in ``/_state``."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _body(self) -> bytes:
        """The request body; a SoapFault with status 413 above the limit."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    length = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    raise client_fault("bad chunked encoding") from None
                if length == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    self.close_connection = True
                    raise SoapFault("E100", "request body too large", status=413)
                chunks.append(self.rfile.read(length))
                self.rfile.readline(16)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self.close_connection = True
            raise client_fault("bad Content-Length") from None
        if length < 0:
            self.close_connection = True
            raise client_fault("bad Content-Length")
        if length > MAX_BODY:
            self.close_connection = True
            raise SoapFault("E100", "request body too large", status=413)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        """``/_state``; anything else is not found."""
        if urlsplit(self.path).path == "/_state":
            self._json(200, self.server.node.snapshot())
        else:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        """The test hooks, node-to-node forwards, and SOAP."""
        path = urlsplit(self.path).path
        try:
            if path in ("/_control", "/_forward"):
                self._hook(path)
            else:
                self._soap(path)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _hook(self, path: str) -> None:
        try:
            order = json.loads(self._body() or b"{}")
            if not isinstance(order, dict):
                raise ValueError("not an object")
        except SoapFault as e:
            self._json(e.status if e.status != 500 else 400, {"ok": False, "error": e.text})
            return
        except ValueError as e:
            self._json(400, {"ok": False, "error": f"bad JSON: {e}"})
            return
        node = self.server.node
        try:
            status, answer = node.control(order) if path == "/_control" else node.accept_forward(order)
        except Exception:
            traceback.print_exc()
            status, answer = 500, {"ok": False, "error": "internal error"}
        self._json(status, answer)

    def _soap(self, path: str) -> None:
        node = self.server.node
        relates_to: str | None = None
        try:
            data = self._body()
            content_type = self.headers.get("Content-Type", "text/xml").split(";")[0].strip().lower()
            if content_type not in ("text/xml", "application/soap+xml", "application/xml", ""):
                raise client_fault(f"unsupported Content-Type {content_type}")
            request = Request(data)
            node.count(request.operation.tag.rpartition("}")[2])
            if not request.message_id:
                raise client_fault("the request has no wsa:MessageID")
            relates_to = request.message_id
            dept = self._department(path, request)
            delay, fail = node.injected(request.operation.tag.rpartition("}")[2])
            if delay:
                node.stopping.wait(delay)
            if fail:
                raise SoapFault("E999", "node busy", server=True)
            body = node.dispatch(dept, request)
            status = 200
        except SoapFault as e:
            body, status = fault_body(e), e.status
        except Exception:
            traceback.print_exc()
            body, status = fault_body(SoapFault("E500", "internal error", server=True)), 500
        self._send(status, envelope(body, relates_to), "text/xml; charset=utf-8")

    def _department(self, path: str, request: Request) -> str:
        """The calling department: from the path, else from wsa:To's path."""
        node = self.server.node
        for candidate in (path, urlsplit(request.to).path):
            parts = [p for p in candidate.split("/") if p]
            if len(parts) >= 3 and [p.lower() for p in parts[-2:]] == ["ecms-ws01", "service2"]:
                dept = node.department(parts[-3])
                if dept is None or dept not in node.hosted:
                    raise client_fault(f"department {parts[-3]} is not hosted by this node")
                return dept
        raise client_fault(f"no department in the endpoint {path}: use /{{DEPT}}/ecms-ws01/service2")


def main(argv: list[str] | None = None) -> int:
    """Run one node until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description="A simulated DGA e-CMS node (for tests).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True, help="prefix of this node's ProcessIDs, e.g. scp1")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True, help="folder of the persistent state")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    args.state.mkdir(parents=True, exist_ok=True)
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    node = Node(args.name, int(port), config, args.state)
    server.node = node
    with node.lock:
        node.save()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, daemon=True, name="http")
    serving.start()
    node.start_forwarders()
    sys.stdout.write(f"ready {node.base}\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    node.close()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
