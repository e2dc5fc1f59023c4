"""SOAP 1.1 primitives for the DGA e-CMS: a hardened parser, lookups by local name, the envelope we send.

Nodes and clients spell names freely (``ProcessID`` or ``processID``, ``wsa:To`` or ``wsa:to``, the
addressing namespace with or without ``www.``), so an element is found by its local name, compared
case-insensitively and without ``-`` or ``_`` (``ECMS-URL``, ``En-Name``); namespaces only tell the SOAP
envelope apart. What we send is spelt one way (``envelope``).

Every input is read as UTF-8 whatever its XML declaration says; a document with a DOCTYPE is refused
before it is parsed (no DTD, no entities, no entity bomb).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS = "http://www.w3.org/2005/08/addressing"  # what we send; we also accept http://w3.org/2005/08/addressing
RSM_NS = "urn:th:gov:egif:data:standard:GovernmentDocument:1.0"
RAM_NS = "urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_CHUNK = 1024 * 1024
_SPACE = re.compile(r"\s+")

Element = Any  # lxml.etree._Element (lxml ships no type information)


class EcmsMessageError(Exception):
    """A message Saraban cannot read: ``message_th`` and ``message_en`` say why; ``str()`` is the English."""

    code: ClassVar[str] = "ecms.unreadable"

    def __init__(self, message_th: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_th = message_th
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message_en


class MalformedXml(EcmsMessageError):
    """Not XML we parse: not well-formed, not UTF-8, too large, or carrying a DOCTYPE."""

    code = "ecms.malformed_xml"


class NotEcmsMessage(EcmsMessageError):
    """Well-formed XML, but not an e-CMS message: no SOAP envelope, an unknown operation, a field missing."""

    code = "ecms.not_ecms_message"


def read_xml(data: bytes, *, max_bytes: int) -> Element:
    """The root element of ``data``, parsed with a hardened parser; ``MalformedXml`` if it cannot be."""
    if len(data) > max_bytes:
        raise MalformedXml(f"ข้อความมีขนาด {len(data):,} ไบต์ เกินกำหนด {max_bytes:,} ไบต์",
                           f"the message is {len(data):,} bytes, more than the limit of {max_bytes:,}")
    if not _is_utf8(data):
        raise MalformedXml("ข้อความไม่ได้เข้ารหัสแบบ UTF-8", "the message is not UTF-8 text")
    if _DOCTYPE.search(data):
        raise MalformedXml("ข้อความมี DOCTYPE ซึ่งไม่อนุญาต", "the message has a DOCTYPE, which is not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                             remove_blank_text=False, encoding="utf-8")
    try:
        root = etree.fromstring(data, parser)
    except etree.LxmlError as exc:
        detail = " ".join(str(getattr(exc, "msg", None) or exc).split())
        raise MalformedXml("XML ไม่ถูกต้องตามรูปแบบ", f"the XML is not well-formed: {detail}") from None
    if root is None or root.getroottree().docinfo.doctype:
        raise MalformedXml("ข้อความไม่ใช่เอกสาร XML ที่ใช้ได้", "the message is not a usable XML document")
    return root


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` decodes as UTF-8, checked a chunk at a time (a 96 MB message is never decoded whole)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), _CHUNK):
            decoder.decode(view[start:start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def key(name: str) -> str:
    """A tag or attribute name as lookups compare it: local name, lower case, without ``-`` and ``_``."""
    return name.rpartition("}")[2].lower().replace("-", "").replace("_", "")


def local_name(element: Element) -> str:
    """The element's local name as written (namespace dropped, case kept)."""
    return str(element.tag).rpartition("}")[2]


def namespace(element: Element) -> str:
    """The element's namespace URI, "" if it has none."""
    tag = str(element.tag)
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def elements(parent: Element) -> Iterator[Element]:
    """The child elements of ``parent`` (comments and processing instructions skipped)."""
    return (c for c in parent if isinstance(c.tag, str))


def children(parent: Element, name: str) -> list[Element]:
    """The child elements called ``name`` (compared as ``key`` does)."""
    wanted = key(name)
    return [c for c in elements(parent) if key(c.tag) == wanted]


def child(parent: Element | None, *path: str) -> Element | None:
    """The first element down ``path`` from ``parent``, one name a level; None if there is none."""
    for name in path:
        if parent is None:
            return None
        found = children(parent, name)
        parent = found[0] if found else None
    return parent


def descendants(parent: Element, name: str) -> list[Element]:
    """Every element called ``name`` below ``parent``, in document order."""
    wanted = key(name)
    return [e for e in parent.iterdescendants() if isinstance(e.tag, str) and key(e.tag) == wanted]


def string_value(element: Element | None) -> str:
    """The element's text (CDATA included, comments not), stripped; "" for no element."""
    return "" if element is None else "".join(element.itertext()).strip()


def text(parent: Element | None, *path: str) -> str:
    """The stripped text of the element down ``path`` from ``parent``, "" if there is none."""
    return string_value(child(parent, *path))


def attribute(element: Element, name: str) -> str:
    """An attribute's stripped value, its name compared as ``key`` does ("" when absent)."""
    wanted = key(name)
    for attr, value in element.attrib.items():
        if key(attr) == wanted:
            return str(value).strip()
    return ""


def language(element: Element) -> str:
    """The element's ``xml:lang`` (lower case, "" when absent)."""
    return str(element.get(f"{{{XML_NS}}}lang", "")).strip().lower()


def decode_base64(element: Element) -> bytes:
    """The bytes an element carries in base64, whitespace and missing padding forgiven.

    ``NotEcmsMessage`` naming the element when its text is not base64.
    """
    value = _SPACE.sub("", string_value(element))
    if len(value) % 4:
        value += "=" * (-len(value) % 4)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        name = local_name(element)
        raise NotEcmsMessage(f"ข้อมูลใน {name} ไม่ใช่ base64 ที่ถูกต้อง", f"{name} is not valid base64") from None


def compact(value: str) -> str:
    """``value`` with every whitespace character removed (base64 written over several lines)."""
    return _SPACE.sub("", value)


# Writing: what we send, spelt one way.


def envelope(operation: Element, *, message_id: str, to: str) -> bytes:
    """The whole SOAP envelope around ``operation`` (the body's element), as UTF-8 with an XML declaration."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"SOAP-ENV": SOAP_NS, "wsa": WSA_NS})
    header = etree.SubElement(root, f"{{{SOAP_NS}}}Header")
    add(header, f"{{{WSA_NS}}}MessageID", message_id)
    add(header, f"{{{WSA_NS}}}To", to)
    etree.SubElement(root, f"{{{SOAP_NS}}}Body").append(operation)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def new_element(tag: str, nsmap: dict[str, str] | None = None) -> Element:
    """A new element (the body's operation, unqualified unless ``tag`` says otherwise)."""
    return etree.Element(tag, nsmap=nsmap)


def add(parent: Element, tag: str, value: str | None = None, **attrib: str) -> Element:
    """A child element of ``parent`` with ``value`` as its text (None: no text) and ``attrib``."""
    element = etree.SubElement(parent, tag, attrib)
    if value is not None:
        element.text = value
    return element
