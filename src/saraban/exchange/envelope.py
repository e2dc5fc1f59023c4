"""The exchange envelope: one signed message between Saraban deployments (``docs/exchange.md``).

A message is an ASiC-E container (``asic.py``): ``envelope.json`` (who, what, the metadata), the
other parts (the letter's PDF exactly as signed, its enclosures), a manifest with each part's
SHA-256, and a detached CAdES signature over the manifest by the sending deployment or organisation
seal (``cades.py``).

- ``pack(envelope, key)``: the container's bytes.
- ``open_envelope(data, trusted=…, max_bytes=…, max_parts=…)``: the envelope, once every check passed,
  or ``EnvelopeRefused`` naming the first that failed; never another exception, whatever the bytes.

``created_at`` is what the sender's clock said; it is informational only. A receiver never refuses
a message for clock skew: it orders by message id and its own clock.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import x509

from saraban.signatures.pades.keys import KeySource

from .asic import Limits, Part, check_parts, read_container, write_container
from .cades import sign_detached, verify_detached
from .kinds import KINDS, metadata_problem
from .refusals import refused

FORMAT = "saraban-exchange/1"
ENVELOPE_PART = "envelope.json"
_MAX_ADDRESS = 200
_MAX_PEEK = 1024 * 1024

# The sealing key of a message: a deployment's key (``identity.Identity.sealing_key``) or an
# organisation seal on a token (``signatures.pades.keys.OrganisationSeal``).
SealingKey = KeySource

# Who may sign: a predicate on the signer's certificate, the SHA-256 fingerprints (hex) of the pinned
# certificates, or a mapping from each pinned fingerprint to the deployment id it must claim as sender.
Trust = Callable[[x509.Certificate], bool] | Mapping[str, str] | Collection[str]

__all__ = [
    "ENVELOPE_PART", "FORMAT", "Address", "Envelope", "OpenedEnvelope", "Part", "SealingKey", "Trust",
    "certificate_fingerprint", "open_envelope", "pack", "peek_message_id",
]


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 of the certificate's DER, in lowercase hex (64 characters, no colons)."""
    return hashlib.sha256(certificate.dump()).hexdigest()


@dataclass(frozen=True)
class Address:
    """An organisation on the network: its deployment's id and its ``identifier`` there.

    ``organisation`` is empty for a message of the deployment itself (a directory, a rejection).
    """

    deployment: str
    organisation: str = ""

    def as_json(self) -> dict[str, str]:
        """The address as envelope.json writes it."""
        return {"deployment": self.deployment, "organisation": self.organisation}


@dataclass(frozen=True)
class Envelope:
    """One message: its id, kind, sender and recipient, metadata and parts (envelope.json excluded)."""

    message_id: uuid.UUID
    kind: str  # "letter" | "receipt" | "rejection" | "directory" (kinds.KINDS)
    created_at: datetime  # aware; informational (never checked against the receiver's clock)
    sender: Address
    recipient: Address | None
    metadata: dict[str, Any] = field(default_factory=dict)
    parts: tuple[Part, ...] = ()

    def part(self, name: str) -> Part:
        """The part called ``name`` (``KeyError`` if there is none)."""
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(name)

    def envelope_json(self) -> bytes:
        """The bytes of envelope.json (UTF-8, keys sorted)."""
        document = {
            "format": FORMAT,
            "message_id": str(self.message_id),
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "sender": self.sender.as_json(),
            "recipient": self.recipient.as_json() if self.recipient else None,
            "metadata": self.metadata,
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True, allow_nan=False).encode("utf-8")


@dataclass(frozen=True)
class OpenedEnvelope:
    """A message that passed every check: the envelope, who signed it, and the SHA-256 of its bytes."""

    envelope: Envelope
    certificate: x509.Certificate
    fingerprint: str  # certificate_fingerprint(certificate)
    sha256: str  # of the whole container, as received


def pack(envelope: Envelope, key: SealingKey) -> bytes:
    """The signed ASiC-E container of ``envelope``, sealed with ``key``.

    ``ValueError`` for an envelope that is not well-formed (a naive ``created_at``, a part called
    envelope.json, metadata its kind does not allow): the receiver would refuse it.
    """
    if envelope.created_at.tzinfo is None:
        raise ValueError("created_at must be an aware datetime")
    if any(p.name == ENVELOPE_PART for p in envelope.parts):
        raise ValueError(f"{ENVELOPE_PART} is written by pack, not given as a part")
    check_parts(envelope.parts)
    problem = _address_problem(envelope.sender, envelope.recipient) or metadata_problem(
        envelope.kind, envelope.metadata, envelope.parts, sender_organisation=envelope.sender.organisation,
        recipient_organisation=envelope.recipient.organisation if envelope.recipient else None,
    )
    if problem:
        raise ValueError(problem)
    parts = (Part(ENVELOPE_PART, "application/json", envelope.envelope_json()), *envelope.parts)
    return write_container(
        parts, lambda manifest: sign_detached(manifest, key, signing_time=envelope.created_at),
        date_time=envelope.created_at,
    )


def open_envelope(
    data: bytes, *, trusted: Trust, max_bytes: int, max_parts: int, max_uncompressed: int | None = None,
) -> OpenedEnvelope:
    """Check a received message and return it; ``EnvelopeRefused`` (a code per check) if any check fails.

    The checks, in order: the size (``max_bytes``); a readable ZIP of at most ``max_parts`` entries,
    every name safe and none repeated, expanding to at most ``max_uncompressed`` (default twice
    ``max_bytes``) and not a bomb; ``mimetype`` first and right; the manifest; every data object
    listed once with its SHA-256 and nothing unlisted; the signature over the manifest; the signer
    pinned by ``trusted``; its certificate in its validity period; envelope.json and the kind's
    metadata; and, when ``trusted`` maps fingerprints to deployment ids, the sender's deployment.
    """
    limits = Limits(max_bytes=max_bytes, max_parts=max_parts,
                    max_uncompressed=2 * max_bytes if max_uncompressed is None else max_uncompressed)
    container = read_container(data, limits)
    verified = verify_detached(container.manifest, container.signature)
    fingerprint = certificate_fingerprint(verified.certificate)
    trusted_as = _trusted_as(trusted, verified.certificate, fingerprint)
    if trusted_as is None:
        raise refused("exchange.unknown_signer", f"SHA-256 {fingerprint}")
    if not verified.usable:
        raise refused("exchange.signer_not_valid", f"SHA-256 {fingerprint}")
    envelope = _read_envelope(container.parts)
    if trusted_as and trusted_as != envelope.sender.deployment:
        raise refused("exchange.sender_mismatch", f"sender {envelope.sender.deployment!r}")
    return OpenedEnvelope(envelope=envelope, certificate=verified.certificate, fingerprint=fingerprint,
                          sha256=hashlib.sha256(data).hexdigest())


def normal_fingerprint(fingerprint: str) -> str:
    """A SHA-256 fingerprint as compared: hex, lower case, without colons or spaces."""
    return fingerprint.replace(":", "").replace(" ", "").strip().lower()


def peek_message_id(data: bytes, *, max_bytes: int) -> uuid.UUID | None:
    """The message id envelope.json claims, unchecked (None if it cannot be read): for a rejection's
    ``in_reply_to`` when the message was refused before its envelope was trusted. Never raises."""
    if len(data) > max_bytes:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(ENVELOPE_PART)
            if info.file_size > _MAX_PEEK:
                return None
            with archive.open(info) as entry:
                document = json.loads(entry.read(_MAX_PEEK + 1))
        return uuid.UUID(document["message_id"])
    except Exception:  # anything unreadable: no id
        return None


def _trusted_as(trusted: Trust, certificate: x509.Certificate, fingerprint: str) -> str | None:
    """None: the signer is not trusted; "": trusted; else the deployment id it must claim as sender."""
    if callable(trusted):
        return "" if trusted(certificate) else None
    if isinstance(trusted, Mapping):
        pinned = {normal_fingerprint(f): deployment for f, deployment in trusted.items()}
        return pinned.get(fingerprint)
    return "" if fingerprint in {normal_fingerprint(f) for f in trusted} else None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key appears twice in an object")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _address(value: object, where: str) -> Address:
    if (not isinstance(value, dict) or not isinstance(value.get("deployment"), str)
            or not isinstance(value.get("organisation", ""), str)):
        raise ValueError(f"{where} must be an object with a deployment and an organisation")
    return Address(value["deployment"], value.get("organisation", ""))


def _address_problem(sender: Address, recipient: Address | None) -> str | None:
    for address in (sender, recipient):
        if address is None:
            continue
        if not address.deployment.strip() or len(address.deployment) > _MAX_ADDRESS:
            return "an address needs a deployment id (at most 200 characters)"
        if len(address.organisation) > _MAX_ADDRESS:
            return "an organisation identifier has at most 200 characters"
    return None


def _read_envelope(parts: tuple[Part, ...]) -> Envelope:
    """The envelope described by envelope.json and carrying the other parts (``bad_metadata`` if not)."""
    found = [p for p in parts if p.name == ENVELOPE_PART]
    if not found:
        raise refused("exchange.bad_metadata", f"{ENVELOPE_PART} is missing", f"ไม่พบ {ENVELOPE_PART}")
    others = tuple(p for p in parts if p.name != ENVELOPE_PART)
    try:
        document = json.loads(found[0].data.decode("utf-8"), object_pairs_hook=_no_duplicate_keys,
                              parse_constant=_no_constant)
        if not isinstance(document, dict):
            raise ValueError("envelope.json must be a JSON object")
        if document.get("format") != FORMAT:
            raise ValueError(f"format must be {FORMAT!r}")
        if not isinstance(document.get("message_id"), str) or not isinstance(document.get("created_at"), str):
            raise ValueError("message_id and created_at must be strings")
        message_id = uuid.UUID(document["message_id"])
        created_at = datetime.fromisoformat(document["created_at"])
        if created_at.tzinfo is None:
            raise ValueError("created_at must carry its UTC offset")
        kind = document.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}")
        sender = _address(document.get("sender"), "sender")
        recipient = None if document.get("recipient") is None else _address(document["recipient"], "recipient")
        metadata = document.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ValueError("metadata must be an object")
    except Exception as exc:  # JSON, UUID and date errors, RecursionError on deep nesting
        raise refused("exchange.bad_metadata", str(exc) if isinstance(exc, ValueError) else type(exc).__name__) \
            from None
    try:
        problem = _address_problem(sender, recipient) or metadata_problem(
            kind, metadata, others, sender_organisation=sender.organisation,
            recipient_organisation=recipient.organisation if recipient else None,
        )
    except Exception:  # a value of an unexpected type deep in the metadata
        problem = "the metadata is malformed"
    if problem:
        raise refused("exchange.bad_metadata", problem)
    return Envelope(message_id=message_id, kind=kind, created_at=created_at, sender=sender,
                    recipient=recipient, metadata=metadata, parts=others)
