"""The signed directory document a deployment publishes (GET {endpoint}/exchange/directory).

An envelope of kind ``directory`` whose part ``directory.json`` names the deployment (id, name,
endpoint, certificate) and the organisations it hosts, signed with the deployment's key. A peer
reads it on ``saraban exchange peer add URL``: trust on first use (the administrator confirms the
fingerprint, which is then pinned), and afterwards only the pinned signer is accepted.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from .asic import Part
from .envelope import Envelope, certificate_fingerprint, open_envelope, pack
from .identity import Identity
from .refusals import refused

DIRECTORY_FORMAT = "saraban-directory/1"
DIRECTORY_PART = "directory.json"
ORGANISATION_FIELDS = ("identifier", "name_th", "name_en", "letter_code", "kind", "province")
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # thousands of organisations fit in well under a megabyte


@dataclass(frozen=True)
class DirectoryOrganisation:
    """One organisation a deployment hosts, as its directory lists it."""

    identifier: str  # its address at that deployment (Address.organisation)
    name_th: str
    name_en: str = ""
    letter_code: str = ""  # รหัสพยัญชนะและเลขประจำส่วนราชการ, e.g. "นร 0105"
    kind: str = ""
    province: str = ""


@dataclass(frozen=True)
class Directory:
    """A directory document that passed its checks: the deployment, its certificate and organisations."""

    deployment_id: str
    name: str
    endpoint: str
    certificate: asn1_x509.Certificate
    fingerprint: str  # SHA-256 of the certificate: what the administrator confirms, then pins
    issued_at: dt.datetime
    organisations: tuple[DirectoryOrganisation, ...]
    message_id: uuid.UUID
    accepts_top_secret: bool = False  # its administrator allows ลับที่สุด letters electronically
    max_message_bytes: int | None = None  # the largest message it accepts, when published
    max_batch_messages: int = 1  # >1: it receives that many messages in one POST (``batch.py``)


def format_fingerprint(fingerprint: str) -> str:
    """A fingerprint as administrators compare it: ``AB:CD:…`` (32 pairs)."""
    text = fingerprint.replace(":", "").upper()
    return ":".join(text[i:i + 2] for i in range(0, len(text), 2))


def _organisation(values: dict[str, Any]) -> dict[str, str]:
    if not all(isinstance(values.get(name, ""), str) for name in ORGANISATION_FIELDS):
        raise ValueError("every organisation field is a string")
    row = {name: str(values.get(name, "") or "") for name in ORGANISATION_FIELDS}
    if not row["identifier"] or not row["name_th"]:
        raise ValueError("an organisation needs an identifier and a Thai name")
    return row


def directory_document(
    identity: Identity, endpoint: str, organisations: Sequence[dict[str, Any]], *,
    accepts_top_secret: bool = False, max_message_bytes: int | None = None, issued_at: dt.datetime | None = None,
    max_batch_messages: int | None = None,
) -> bytes:
    """The signed directory document of this deployment, listing ``organisations``.

    Each organisation is a dict with ``identifier`` and ``name_th`` (required), ``name_en``,
    ``letter_code``, ``kind`` and ``province`` (a name); other keys are left out. ``endpoint`` is the
    deployment's base URL (messages go to ``{endpoint}/exchange/messages``). ``accepts_top_secret``
    and ``max_message_bytes`` tell senders what this deployment receives; ``max_batch_messages``
    that it receives batches of up to that many messages (``{endpoint}/exchange/batches``).
    """
    if not endpoint.startswith(("https://", "http://")):
        raise ValueError("the endpoint must be an http(s) URL")
    moment = issued_at or dt.datetime.now(dt.UTC)
    rows = [_organisation(o) for o in organisations]
    if len({r["identifier"] for r in rows}) != len(rows):
        raise ValueError("an organisation identifier is listed twice")
    document = {
        "format": DIRECTORY_FORMAT,
        "deployment": identity.deployment_id,
        "name": identity.name,
        "endpoint": endpoint.rstrip("/"),
        "certificate": identity.certificate_pem,
        "issued_at": moment.isoformat(),
        "organisations": rows,
        "accepts_top_secret": accepts_top_secret,
    }
    if max_message_bytes is not None:
        document["max_message_bytes"] = max_message_bytes
    if max_batch_messages is not None:
        document["max_batch_messages"] = max_batch_messages
    data = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    envelope = Envelope(message_id=uuid.uuid4(), kind="directory", created_at=moment, sender=identity.address(),
                        recipient=None, metadata={"directory_part": DIRECTORY_PART},
                        parts=(Part(DIRECTORY_PART, "application/json", data),))
    return pack(envelope, identity.sealing_key)


def read_directory_document(
    data: bytes, *, expected_fingerprint: str | None, max_bytes: int = DEFAULT_MAX_BYTES,
) -> Directory:
    """Check a directory document and return what it says (``EnvelopeRefused`` if a check fails).

    With ``expected_fingerprint`` None (first contact), any self-signed signer is accepted and its
    fingerprint returned for the administrator to confirm; with one, any other signer is refused
    (``exchange.unknown_signer``). The certificate in directory.json must be the signer's, and the
    deployment it names the envelope's sender.
    """
    if expected_fingerprint is None:
        opened = open_envelope(data, trusted=_self_signed, max_bytes=max_bytes, max_parts=8)
    else:
        opened = open_envelope(data, trusted={expected_fingerprint}, max_bytes=max_bytes, max_parts=8)
    envelope = opened.envelope
    try:
        if envelope.kind != "directory":
            raise ValueError("the message is not of kind directory")
        part = envelope.part(DIRECTORY_PART)
        document = json.loads(part.data.decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != DIRECTORY_FORMAT:
            raise ValueError(f"directory.json must be an object of format {DIRECTORY_FORMAT!r}")
        if document.get("deployment") != envelope.sender.deployment:
            raise ValueError("the deployment is not the envelope's sender")
        certificate = _certificate_from_pem(document.get("certificate"))
        if certificate_fingerprint(certificate) != opened.fingerprint:
            raise ValueError("the certificate is not the signer's")
        endpoint, name, issued = document.get("endpoint"), document.get("name"), document.get("issued_at")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise ValueError("the endpoint must be an http(s) URL")
        if not isinstance(name, str) or not isinstance(issued, str):
            raise ValueError("name and issued_at must be strings")
        issued_at = dt.datetime.fromisoformat(issued)
        if issued_at.tzinfo is None:
            raise ValueError("issued_at must carry its UTC offset")
        listed = document.get("organisations")
        if not isinstance(listed, list) or not all(isinstance(o, dict) for o in listed):
            raise ValueError("organisations must be a list of objects")
        organisations = tuple(DirectoryOrganisation(**_organisation(o)) for o in listed)
        accepts_top_secret = document.get("accepts_top_secret", False)
        max_message_bytes = document.get("max_message_bytes")
        if not isinstance(accepts_top_secret, bool):
            raise ValueError("accepts_top_secret must be true or false")
        if max_message_bytes is not None and (type(max_message_bytes) is not int or max_message_bytes <= 0):
            raise ValueError("max_message_bytes must be a positive integer")
        max_batch_messages = document.get("max_batch_messages", 1)
        if type(max_batch_messages) is not int or max_batch_messages <= 0:
            raise ValueError("max_batch_messages must be a positive integer")
    except (KeyError, ValueError, TypeError, RecursionError) as exc:
        raise refused("exchange.bad_directory", str(exc)) from None
    return Directory(deployment_id=envelope.sender.deployment, name=name, endpoint=endpoint.rstrip("/"),
                     certificate=certificate, fingerprint=opened.fingerprint, issued_at=issued_at,
                     organisations=organisations, message_id=envelope.message_id,
                     accepts_top_secret=accepts_top_secret, max_message_bytes=max_message_bytes,
                     max_batch_messages=max_batch_messages)


def _certificate_from_pem(text: object) -> asn1_x509.Certificate:
    if not isinstance(text, str):
        raise ValueError("the certificate must be a PEM string")
    raw = text.encode("ascii", errors="replace")
    if not pem.detect(raw):
        raise ValueError("the certificate must be a PEM string")
    try:
        _, _, der = pem.unarmor(raw)
        certificate = asn1_x509.Certificate.load(der)
        _ = certificate.subject  # parse it now: a malformed one fails here
    except Exception:  # asn1crypto's errors for malformed input
        raise ValueError("the certificate is not a well-formed X.509 certificate") from None
    return certificate


def _self_signed(certificate: asn1_x509.Certificate) -> bool:
    """Whether ``certificate`` is signed by its own key (first contact accepts only that)."""
    try:
        parsed = x509.load_der_x509_certificate(certificate.dump())
        parsed.verify_directly_issued_by(parsed)
    except Exception:  # not parseable, or not signed by itself
        return False
    return True
