"""The DGA e-CMS messages ("THeGIF GovernmentDocument"): what they say, read from SOAP and written to it.

No official schema exists: this follows what two open-source clients send and what nodes answer.
Reading is liberal (``soap``: names by local name in any case, either addressing namespace, optional
elements missing); writing is exact (one spelling, the elements the clients send, in their order).

- ``parse_message(data)``: any request or response as a ``Message``; ``MalformedXml`` or
  ``NotEcmsMessage`` (both ``EcmsMessageError``, bilingual) for anything else, never another exception.
- ``describe(message)``: every field as JSON-able data (binary parts as their size and SHA-256).
- the builders (``outbound_letter``, ``outbound_notifier``, ``inbound_request``, ``delete_request``,
  ``withdraw_request``, ``outbound_status_request``, ``organization_list_request``,
  ``ministry_list_request``): the whole envelope as UTF-8 bytes, for a ``text/xml`` POST.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from saraban.core.thai import BANGKOK

from .soap import (
    RAM_NS,
    RSM_NS,
    SOAP_NS,
    EcmsMessageError,
    Element,
    MalformedXml,
    NotEcmsMessage,
    add,
    attribute,
    child,
    children,
    compact,
    decode_base64,
    descendants,
    elements,
    envelope,
    key,
    language,
    local_name,
    namespace,
    new_element,
    read_xml,
    string_value,
    text,
)

__all__ = [
    "MAX_MESSAGE_BYTES", "NOTIFIER_KINDS", "OPERATIONS", "BinaryPart", "EcmsMessageError", "Fault",
    "GovernmentDocument", "MalformedXml", "Message", "Ministry", "NotEcmsMessage", "Notifier", "Organization",
    "OutboundStatus", "Party", "Reference", "Withdrawal", "XmlSignature", "delete_request", "describe",
    "inbound_request", "ministry_list_request", "new_message_id", "organization_list_request", "outbound_letter",
    "outbound_notifier", "outbound_status_request", "parse_message", "withdraw_request",
]

MAX_MESSAGE_BYTES = 96 * 1024 * 1024

OUTBOUND_REQUEST = "CorrespondenceLetterOutboundRequest"
INBOUND_RESPONSE = "CorrespondenceLetterInboundResponse"

# Every operation we read, by the body element's name, with what it is in Thai and in English.
OPERATIONS: dict[str, tuple[str, str]] = {
    OUTBOUND_REQUEST: ("ส่งหนังสือหรือข้อความแจ้ง", "send a letter or a notifier"),
    "CorrespondenceLetterOutboundResponse": ("ผลการส่งหนังสือหรือข้อความแจ้ง", "a letter or notifier taken for delivery"),
    "CorrespondenceLetterInboundRequest": ("ขอรับหนังสือที่รออยู่", "ask for what is queued"),
    INBOUND_RESPONSE: ("หนังสือหรือข้อความแจ้งที่รอรับ", "what is queued: a letter, a notifier or nothing"),
    "CorrespondenceLetterDeleteRequest": ("ลบรายการที่รับแล้วออกจากคิว", "remove a received item from the queue"),
    "CorrespondenceLetterDeleteResponse": ("ลบออกจากคิวแล้ว", "removed from the queue"),
    "CorrespondenceDeleteGovernmentDocumentRequest": ("ขอถอนหนังสือเพื่อส่งใหม่", "withdraw a letter to resend it"),
    "CorrespondenceDeleteGovernmentDocumentResponse": ("ถอนหนังสือแล้ว", "letter withdrawn"),
    "OutboundStatusRequest": ("ขอสถานะหนังสือส่ง", "ask the status of sent letters"),
    "OutboundStatusResponse": ("สถานะหนังสือส่ง", "the status of sent letters"),
    "GetOrganizationList": ("ขอรายชื่อหน่วยงาน", "ask the list of organisations"),
    "GetOrganizationListResponse": ("รายชื่อหน่วยงาน", "the list of organisations"),
    "GetMinistryOrganizationList": ("ขอรายชื่อกระทรวง", "ask the list of ministries"),
    "GetMinistryOrganizationListResponse": ("รายชื่อกระทรวง", "the list of ministries"),
    "Fault": ("ข้อผิดพลาด (SOAP Fault)", "a SOAP fault"),
    "ErrorDetail": ("ข้อผิดพลาด (ErrorDetail)", "an error (ErrorDetail)"),
}

NOTIFIER_KINDS = (
    "ReceiveLetterNotifier", "AcceptLetterNotifier", "RejectLetterNotifier", "InvalidLetterNotifier",
    "InvalidAcceptIDNotifier",
)
_WITH_ACCEPT_ID = frozenset({"AcceptLetterNotifier", "InvalidAcceptIDNotifier"})
_WITH_REASON = frozenset({"RejectLetterNotifier", "InvalidLetterNotifier", "InvalidAcceptIDNotifier"})

_OPERATION_NAMES = {key(name): name for name in OPERATIONS}
_NOTIFIER_NAMES = {key(name): name for name in NOTIFIER_KINDS}


@dataclass(frozen=True)
class Party:
    """A sender, receiver or signer: a person, their title and their ministry's and department's ids."""

    given_name: str = ""
    family_name: str = ""
    job_title: str = ""  # JobTitle; Title for a signer
    ministry_id: str = ""  # MinistryOrganization/ID; MinistryCode for a signer
    department_id: str = ""  # DepartmentOrganization/ID; DepartmentCode for a signer


@dataclass(frozen=True)
class Reference:
    """A letter this one refers to (อ้างถึง)."""

    letter_id: str
    date: str
    subject: str


@dataclass(frozen=True)
class BinaryPart:
    """The main letter or an enclosure: its MIME type, its bytes and, when given, its file name."""

    mime: str
    data: bytes
    filename: str = ""


@dataclass(frozen=True)
class XmlSignature:
    """The fields of an XML-DSig signature a node may put in GovernmentSignature (read, never checked here)."""

    reference_uri: str
    digest_value: str  # base64, whitespace removed
    signature_value: str  # base64, whitespace removed
    subject_name: str
    certificate_b64: str  # the X509Certificate, base64 DER, whitespace removed


@dataclass(frozen=True)
class GovernmentDocument:
    """A letter: its number (ที่), date, subject, codes, parties, references and parts."""

    letter_id: str
    date: str  # yyyy-MM-dd as sent
    subject: str
    secret_code: str  # codes.secrecy_of
    speed_code: str  # codes.urgency_of
    sender: Party
    receiver: Party
    references: tuple[Reference, ...] = ()
    attachment_text: str = ""  # the enclosures as the letter lists them (สิ่งที่ส่งมาด้วย)
    send_date: str = ""  # yyyy-MM-ddTHH:mm:ss as sent
    description: str = ""
    main_letter: BinaryPart | None = None
    attachments: tuple[BinaryPart, ...] = ()
    signature_type: str = ""
    signer: Party = Party()
    xml_signature: XmlSignature | None = None


@dataclass(frozen=True)
class Notifier:
    """A notice about a letter: received, accepted (with the receiver's เลขรับ), rejected or wrong."""

    kind: str  # one of NOTIFIER_KINDS
    letter_id: str
    date: str
    subject: str
    accept_id: str = ""  # AcceptLetterNotifier, InvalidAcceptIDNotifier
    accept_date: str = ""  # added by the node
    accept_department: str = ""  # AcceptDepartment/Code, added by the node
    description: str = ""  # the reason of a rejection or of an invalid notice


@dataclass(frozen=True)
class Withdrawal:
    """A sent letter to delete from the receiver's queue, to send it again."""

    letter_id: str
    date: str
    sender_department: str
    accept_department: str


@dataclass(frozen=True)
class Organization:
    """An organisation on the e-CMS network, and the node that serves it."""

    organization_id: str
    th_name: str
    en_name: str
    ecms_url: str
    ministry_id: str = ""


@dataclass(frozen=True)
class Ministry:
    """A ministry of the e-CMS code list."""

    ministry_id: str
    th_name: str


@dataclass(frozen=True)
class OutboundStatus:
    """Where a sent letter is, as the node says."""

    process_id: str
    letter_id: str
    status: str


@dataclass(frozen=True)
class Fault:
    """An error a node answered: ``code`` is the ErrorCode (the faultcode when there is no ErrorDetail)."""

    code: str
    description: str
    fault_code: str = ""  # the SOAP faultcode ("" for an ErrorDetail outside a Fault)


@dataclass(frozen=True)
class Message:
    """One e-CMS request or response: its operation, header and what its body says."""

    operation: str  # the body element's name as OPERATIONS spells it, e.g. INBOUND_RESPONSE or "Fault"
    message_id: str = ""
    to: str = ""
    relates_to: str = ""
    process_id: str = ""
    process_time: str = ""
    document: GovernmentDocument | None = None
    notifier: Notifier | None = None
    withdrawal: Withdrawal | None = None  # a withdrawal's response carries only the letter id
    organizations: tuple[Organization, ...] = ()
    ministries: tuple[Ministry, ...] = ()
    outbound: tuple[OutboundStatus, ...] = ()
    fault: Fault | None = None

    @property
    def is_empty(self) -> bool:
        """An inbound response with nothing queued."""
        return (self.operation == INBOUND_RESPONSE and self.document is None and self.notifier is None
                and self.fault is None)

    @property
    def kind(self) -> str:
        """What the message is: "fault", "letter", the notifier's kind, or else the operation."""
        if self.fault is not None:
            return "fault"
        if self.document is not None:
            return "letter"
        if self.notifier is not None:
            return self.notifier.kind
        return self.operation


def new_message_id(now: dt.datetime | None = None) -> str:
    """A WS-Addressing MessageID as e-CMS writes it: the send time, yyyyMMdd.HHmmssSSS, Asia/Bangkok.

    ``ValueError`` for a naive ``now``.
    """
    moment = dt.datetime.now(dt.UTC) if now is None else now
    if moment.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    local = moment.astimezone(BANGKOK)
    return f"{local:%Y%m%d.%H%M%S}{local.microsecond // 1000:03d}"


# Reading.


def parse_message(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """What an e-CMS request or response says; ``MalformedXml`` or ``NotEcmsMessage`` if it cannot be read.

    ``MalformedXml``: larger than ``max_bytes``, not UTF-8, a DOCTYPE, not well-formed.
    ``NotEcmsMessage``: no SOAP 1.1 envelope or body, an unknown operation, a required field missing
    (a letter's number or date, a notifier's letter id...), base64 that is not.
    """
    root = read_xml(data, max_bytes=max_bytes)
    if key(root.tag) != "envelope" or namespace(root) != SOAP_NS:
        raise NotEcmsMessage("ไม่ใช่ข้อความ SOAP 1.1 (ไม่พบ Envelope)", "not a SOAP 1.1 message (no Envelope)")
    header = child(root, "Header")
    body = child(root, "Body")
    operation = None if body is None else next(elements(body), None)
    if operation is None:
        raise NotEcmsMessage("ข้อความ SOAP ไม่มีเนื้อหาใน Body", "the SOAP message has nothing in its Body")
    name = _OPERATION_NAMES.get(key(operation.tag))
    if name is None:
        written = local_name(operation)
        raise NotEcmsMessage(f"ไม่รู้จักการดำเนินการ {written} ของ e-CMS", f"unknown e-CMS operation {written!r}")
    found: dict[str, Any] = {"process_id": text(operation, "ProcessID"), "process_time": text(operation, "ProcessTime")}
    detail = child(operation, "ErrorDetail")
    if detail is not None and name not in ("Fault", "ErrorDetail"):
        found["fault"] = _error_detail(detail, fault_code="")  # some nodes answer an error in a 200 response
    else:
        found.update(_READERS[name](operation))
    return Message(operation=name, message_id=text(header, "MessageID"), to=text(header, "To"),
                   relates_to=text(header, "RelatesTo"), **found)


def _required(parent: Element, name: str) -> str:
    value = text(parent, name)
    if not value:
        where = local_name(parent)
        raise NotEcmsMessage(f"{where} ไม่มี {name}", f"{where} has no {name}")
    return value


def _letter_or_notifier(operation: Element, *, required: bool) -> dict[str, Any]:
    document = child(operation, "GovernmentDocument")
    if document is not None:
        return {"document": _document(document)}
    for element in elements(operation):
        if key(element.tag) in _NOTIFIER_NAMES:
            return {"notifier": _notifier(element)}
    if required:
        where = local_name(operation)
        raise NotEcmsMessage(f"{where} ไม่มีหนังสือหรือข้อความแจ้ง",
                             f"{where} carries neither a GovernmentDocument nor a notifier")
    return {}


def _document(element: Element) -> GovernmentDocument:
    letter = child(element, "CorrespondenceLetter")
    if letter is None:
        raise NotEcmsMessage("GovernmentDocument ไม่มี CorrespondenceLetter",
                             "GovernmentDocument has no CorrespondenceLetter")
    signature = child(element, "GovernmentSignature")
    main = child(letter, "MainLetterBinaryObject")
    return GovernmentDocument(
        letter_id=_required(letter, "ID"), date=_required(letter, "CorrespondenceDate"),
        subject=text(letter, "Subject"), secret_code=text(letter, "SecretCode"), speed_code=text(letter, "SpeedCode"),
        sender=_party(child(letter, "SenderParty")), receiver=_party(child(letter, "ReceiverParty")),
        references=tuple(Reference(text(r, "ID"), text(r, "CorrespondenceDate"), text(r, "Subject"))
                         for r in children(letter, "ReferenceCorrespondence")),
        attachment_text=text(letter, "Attachment"), send_date=text(letter, "SendDate"),
        description=text(letter, "Description"),
        main_letter=None if main is None else _binary(main),
        attachments=tuple(_binary(a) for a in children(letter, "AttachmentBinaryObject")),
        signature_type=text(signature, "TypeCode"), signer=_party(child(signature, "SignerParty")),
        xml_signature=_xml_signature(signature if child(signature, "Signature") is not None else element),
    )


def _party(element: Element | None) -> Party:
    return Party(
        given_name=text(element, "GivenName"), family_name=text(element, "FamilyName"),
        job_title=text(element, "JobTitle") or text(element, "Title"),
        ministry_id=text(element, "MinistryOrganization", "ID") or text(element, "MinistryCode"),
        department_id=text(element, "DepartmentOrganization", "ID") or text(element, "DepartmentCode"),
    )


def _binary(element: Element) -> BinaryPart:
    return BinaryPart(mime=attribute(element, "mimeCode"), data=decode_base64(element),
                      filename=attribute(element, "fileName"))


def _xml_signature(parent: Element) -> XmlSignature | None:
    signature = child(parent, "Signature")
    if signature is None:
        return None
    reference = child(signature, "SignedInfo", "Reference")
    certificate = child(signature, "KeyInfo", "X509Data")
    return XmlSignature(
        reference_uri="" if reference is None else attribute(reference, "URI"),
        digest_value=compact(text(reference, "DigestValue")),
        signature_value=compact(text(signature, "SignatureValue")),
        subject_name=text(certificate, "X509SubjectName"),
        certificate_b64=compact(text(certificate, "X509Certificate")),
    )


def _notifier(element: Element) -> Notifier:
    department = child(element, "AcceptDepartment")
    return Notifier(
        kind=_NOTIFIER_NAMES[key(element.tag)], letter_id=_required(element, "LetterID"),
        date=text(element, "CorrespondenceDate"), subject=text(element, "Subject"),
        accept_id=text(element, "AcceptID"), accept_date=text(element, "AcceptDate"),
        accept_department=text(department, "Code") or string_value(department),
        description=text(element, "Description"),
    )


def _code(parent: Element, name: str) -> str:
    element = child(parent, name)
    return text(element, "Code") or string_value(element)


def _withdrawal_request(operation: Element) -> dict[str, Any]:
    return {"withdrawal": Withdrawal(
        letter_id=_required(operation, "LetterID"), date=text(operation, "CorrespondenceDate"),
        sender_department=_code(operation, "SenderDepartment"), accept_department=_code(operation, "AcceptDepartment"),
    )}


def _withdrawal_response(operation: Element) -> dict[str, Any]:
    letter_id = text(operation, "LetterID")
    return {"withdrawal": Withdrawal(letter_id, "", "", "")} if letter_id else {}


def _delete_request(operation: Element) -> dict[str, Any]:
    _required(operation, "ProcessID")
    return {}


def _names(row: Element) -> tuple[str, str]:
    """The English and Thai names of a row: En-Name/Th-Name, or two ``name`` (English first) or xml:lang."""
    english, thai = text(row, "En-Name"), text(row, "Th-Name")
    untagged = []
    for element in children(row, "name"):
        lang, value = language(element), string_value(element)
        if lang.startswith("th"):
            thai = thai or value
        elif lang.startswith("en"):
            english = english or value
        else:
            untagged.append(value)
    if len(untagged) == 1:  # one name: its script says which
        if any("\u0e00" <= c <= "\u0e7f" for c in untagged[0]):
            thai = thai or untagged[0]
        else:
            english = english or untagged[0]
    elif untagged:
        english, thai = english or untagged[0], thai or untagged[1]
    return english, thai


def _organizations(operation: Element) -> dict[str, Any]:
    rows = []
    for row in descendants(operation, "OrganizationList"):
        english, thai = _names(row)
        rows.append(Organization(organization_id=text(row, "OrganizationID"), th_name=thai, en_name=english,
                                 ecms_url=text(row, "ECMS-URL"), ministry_id=text(row, "MinistryID")))
    return {"organizations": tuple(rows)}


def _ministries(operation: Element) -> dict[str, Any]:
    return {"ministries": tuple(Ministry(ministry_id=text(row, "MinistryID"), th_name=_names(row)[1])
                                for row in descendants(operation, "MinistryOrganizationList"))}


def _outbound(operation: Element) -> dict[str, Any]:
    return {"outbound": tuple(OutboundStatus(text(r, "ProcessID"), text(r, "LetterID"), text(r, "ProcessStatus"))
                              for r in descendants(operation, "Outbound"))}


def _error_detail(detail: Element, *, fault_code: str, fault_string: str = "") -> Fault:
    return Fault(code=text(detail, "ErrorCode") or fault_code,
                 description=text(detail, "ErrorDescription") or fault_string, fault_code=fault_code)


def _fault(operation: Element) -> dict[str, Any]:
    fault_code, fault_string = text(operation, "faultcode"), text(operation, "faultstring")
    details = descendants(operation, "ErrorDetail")
    if details:
        return {"fault": _error_detail(details[0], fault_code=fault_code, fault_string=fault_string)}
    return {"fault": Fault(code=fault_code, description=fault_string, fault_code=fault_code)}


def _nothing(operation: Element) -> dict[str, Any]:
    return {}


_READERS: dict[str, Callable[[Element], dict[str, Any]]] = {
    OUTBOUND_REQUEST: lambda op: _letter_or_notifier(op, required=True),
    "CorrespondenceLetterOutboundResponse": lambda op: _letter_or_notifier(op, required=False),
    "CorrespondenceLetterInboundRequest": _nothing,
    INBOUND_RESPONSE: lambda op: _letter_or_notifier(op, required=False),
    "CorrespondenceLetterDeleteRequest": _delete_request,
    "CorrespondenceLetterDeleteResponse": _nothing,
    "CorrespondenceDeleteGovernmentDocumentRequest": _withdrawal_request,
    "CorrespondenceDeleteGovernmentDocumentResponse": _withdrawal_response,
    "OutboundStatusRequest": _nothing,
    "OutboundStatusResponse": _outbound,
    "GetOrganizationList": _nothing,
    "GetOrganizationListResponse": _organizations,
    "GetMinistryOrganizationList": _nothing,
    "GetMinistryOrganizationListResponse": _ministries,
    "Fault": _fault,
    "ErrorDetail": lambda op: {"fault": _error_detail(op, fault_code="")},
}


def describe(message: Message) -> dict[str, object]:
    """Every field of ``message`` as JSON-able data, plus its ``kind`` and ``is_empty``.

    A binary part is described, not carried: ``{"mime", "filename", "bytes", "sha256"}``.
    """
    fields_ = _plain(message)
    assert isinstance(fields_, dict)
    return {"kind": message.kind, "is_empty": message.is_empty, **fields_}


def _plain(value: object) -> object:
    if isinstance(value, BinaryPart):
        return {"mime": value.mime, "filename": value.filename, "bytes": len(value.data),
                "sha256": hashlib.sha256(value.data).hexdigest()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# Writing. Every builder returns the whole envelope; ValueError for what a node would refuse.


def _ram(name: str) -> str:
    return f"{{{RAM_NS}}}{name}"


def outbound_letter(document: GovernmentDocument, *, message_id: str, to: str) -> bytes:
    """Send a letter: CorrespondenceLetterOutboundRequest around its GovernmentDocument.

    Every element is written, empty ones included, as the clients do; ``xml_signature`` is not (we
    never send one). ``ValueError`` for a letter without its number, date or main letter.
    """
    if not document.letter_id or not document.date or document.main_letter is None:
        raise ValueError("a letter needs its number, its date and its main letter")
    root = new_element(f"{{{RSM_NS}}}GovernmentDocument", nsmap={"rsm": RSM_NS, "ram": RAM_NS})
    letter = add(root, _ram("CorrespondenceLetter"), ID="Letter")
    for name, value in (("ID", document.letter_id), ("CorrespondenceDate", document.date),
                        ("Subject", document.subject), ("SecretCode", document.secret_code),
                        ("SpeedCode", document.speed_code)):
        add(letter, _ram(name), value)
    for name, party in (("SenderParty", document.sender), ("ReceiverParty", document.receiver)):
        element = add(letter, _ram(name))
        add(element, _ram("GivenName"), party.given_name)
        add(element, _ram("FamilyName"), party.family_name)
        add(element, _ram("JobTitle"), party.job_title)
        add(add(element, _ram("MinistryOrganization")), _ram("ID"), party.ministry_id)
        add(add(element, _ram("DepartmentOrganization")), _ram("ID"), party.department_id)
    for reference in document.references:
        element = add(letter, _ram("ReferenceCorrespondence"))
        add(element, _ram("ID"), reference.letter_id)
        add(element, _ram("CorrespondenceDate"), reference.date)
        add(element, _ram("Subject"), reference.subject)
    add(letter, _ram("Attachment"), document.attachment_text)
    add(letter, _ram("SendDate"), document.send_date)
    add(letter, _ram("Description"), document.description)
    for name, part in (("MainLetterBinaryObject", document.main_letter),
                       *(("AttachmentBinaryObject", a) for a in document.attachments)):
        attrib = {"mimeCode": part.mime, **({"fileName": part.filename} if part.filename else {})}
        add(letter, _ram(name), base64.b64encode(part.data).decode("ascii"), **attrib)
    signature = add(root, _ram("GovernmentSignature"))
    add(signature, _ram("TypeCode"), document.signature_type)
    signer = add(signature, _ram("SignerParty"))
    for name, value in (("GivenName", document.signer.given_name), ("FamilyName", document.signer.family_name),
                        ("Title", document.signer.job_title), ("MinistryCode", document.signer.ministry_id),
                        ("DepartmentCode", document.signer.department_id)):
        add(signer, _ram(name), value)
    request = new_element(OUTBOUND_REQUEST)
    request.append(root)
    return envelope(request, message_id=message_id, to=to)


def outbound_notifier(notifier: Notifier, *, message_id: str, to: str) -> bytes:
    """Send a notifier: LetterID, AcceptID (Accept, InvalidAcceptID), CorrespondenceDate, Subject and,
    for a rejection or an invalid notice, the reason as Description when there is one.

    ``accept_date`` and ``accept_department`` are the node's to add and are not sent. ``ValueError``
    for an unknown kind, no letter id, or no AcceptID where one is needed.
    """
    if notifier.kind not in NOTIFIER_KINDS:
        raise ValueError(f"unknown notifier kind {notifier.kind!r}")
    if not notifier.letter_id:
        raise ValueError(f"{notifier.kind} needs the letter id")
    if notifier.kind in _WITH_ACCEPT_ID and not notifier.accept_id:
        raise ValueError(f"{notifier.kind} needs the AcceptID")
    request = new_element(OUTBOUND_REQUEST)
    element = add(request, notifier.kind)
    add(element, "LetterID", notifier.letter_id)
    if notifier.kind in _WITH_ACCEPT_ID:
        add(element, "AcceptID", notifier.accept_id)
    add(element, "CorrespondenceDate", notifier.date)
    add(element, "Subject", notifier.subject)
    if notifier.kind in _WITH_REASON and notifier.description:
        add(element, "Description", notifier.description)
    return envelope(request, message_id=message_id, to=to)


def inbound_request(*, message_id: str, to: str) -> bytes:
    """Ask the node for the next queued letter or notifier."""
    return envelope(new_element("CorrespondenceLetterInboundRequest"), message_id=message_id, to=to)


def delete_request(process_id: str, *, message_id: str, to: str) -> bytes:
    """Remove a received item (its ProcessID) from the node's queue. ``ValueError`` for an empty id."""
    if not process_id:
        raise ValueError("a delete request needs the ProcessID")
    request = new_element("CorrespondenceLetterDeleteRequest")
    add(request, "ProcessID", process_id)
    return envelope(request, message_id=message_id, to=to)


def withdraw_request(withdrawal: Withdrawal, *, message_id: str, to: str) -> bytes:
    """Withdraw a sent letter (rejected or reported wrong) so it can be sent again. ``ValueError`` without
    its letter id."""
    if not withdrawal.letter_id:
        raise ValueError("a withdrawal needs the letter id")
    request = new_element("CorrespondenceDeleteGovernmentDocumentRequest")
    add(request, "LetterID", withdrawal.letter_id)
    add(request, "CorrespondenceDate", withdrawal.date)
    add(add(request, "SenderDepartment"), "Code", withdrawal.sender_department)
    add(add(request, "AcceptDepartment"), "Code", withdrawal.accept_department)
    return envelope(request, message_id=message_id, to=to)


def outbound_status_request(*, message_id: str, to: str) -> bytes:
    """Ask where the letters we sent are."""
    return envelope(new_element("OutboundStatusRequest"), message_id=message_id, to=to)


def organization_list_request(*, message_id: str, to: str) -> bytes:
    """Ask the list of organisations on the network."""
    return envelope(new_element("GetOrganizationList"), message_id=message_id, to=to)


def ministry_list_request(*, message_id: str, to: str) -> bytes:
    """Ask the list of ministries."""
    return envelope(new_element("GetMinistryOrganizationList"), message_id=message_id, to=to)

