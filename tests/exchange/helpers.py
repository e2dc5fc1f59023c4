"""Messages for the exchange tests: well-formed ones, and containers built by hand to break one rule each."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

from saraban.exchange.asic import MANIFEST_NAME, MIMETYPE, SIGNATURE_NAME, Part, build_manifest
from saraban.exchange.cades import sign_detached
from saraban.exchange.envelope import Address, Envelope, SealingKey

# A small PDF is enough: the envelope carries bytes, it does not read them.
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
LIMITS: dict[str, Any] = {"max_bytes": 5 * 1024 * 1024, "max_parts": 50}


def letter_metadata(**changes: Any) -> dict[str, Any]:
    """The metadata of an external letter with one enclosure (and one sent by post)."""
    metadata: dict[str, Any] = {
        "number": "นร 0105/123", "date": "2026-11-26", "date_th": "๒๖ พฤศจิกายน ๒๕๖๙",
        "subject": "ขอเชิญประชุมคณะทำงานระบบสารบรรณอิเล็กทรอนิกส์", "sender_name": "สำนักงานปลัดสำนักนายกรัฐมนตรี",
        "addressed_to": "ผู้ว่าราชการจังหวัดเชียงใหม่", "urgency": "urgent", "secrecy": "normal",
        "main_part": "letter.pdf",
        "references": [{"text": "หนังสือจังหวัดเชียงใหม่ ที่ ชม 0017/45 ลงวันที่ 1 พฤศจิกายน 2569",
                        "number": "ชม 0017/45", "date": "2026-11-01"}],
        "enclosures": [{"title": "กำหนดการประชุม", "part": "enclosures/01-agenda.pdf"},
                       {"title": "แผนที่ (ส่งทางไปรษณีย์)", "part": None}],
        "copies": [{"name": "กรมส่งเสริมการปกครองท้องถิ่น", "deployment": None, "organisation": None}],
    }
    metadata.update(changes)
    return metadata


def letter(sender: Address, recipient: Address, **changes: Any) -> Envelope:
    """A letter from ``sender`` to ``recipient`` with its PDF and one enclosure."""
    return Envelope(
        message_id=uuid.uuid4(), kind="letter", created_at=dt.datetime(2026, 11, 26, 3, 15, tzinfo=dt.UTC),
        sender=sender, recipient=recipient, metadata=letter_metadata(**changes),
        parts=(Part("letter.pdf", "application/pdf", PDF),
               Part("enclosures/01-agenda.pdf", "application/pdf", PDF + b"agenda")),
    )


def raw_zip(entries: Sequence[tuple[str, bytes]], *, stored: Sequence[str] = ("mimetype",)) -> bytes:
    """A ZIP of ``entries`` in this order, names as given (even unsafe or repeated ones)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info = zipfile.ZipInfo(name, (2026, 11, 26, 10, 0, 0))
            archive.writestr(info, data, compress_type=method)
    return buffer.getvalue()


def container(
    key: SealingKey, parts: Sequence[Part], *, manifest: bytes | None = None,
    extra: Sequence[tuple[str, bytes]] = (), signature: bytes | Callable[[bytes], bytes] | None = None,
    first: Sequence[tuple[str, bytes]] = (("mimetype", MIMETYPE.encode()),),
) -> bytes:
    """A container signed by ``key`` (the manifest built from ``parts`` unless given), with ``extra``
    entries after the parts; ``signature`` replaces the signature (bytes) or signs another way."""
    manifest = build_manifest(parts) if manifest is None else manifest
    if signature is None:
        sig = sign_detached(manifest, key, signing_time=dt.datetime.now(dt.UTC))
    elif callable(signature):
        sig = signature(manifest)
    else:
        sig = signature
    entries = [*first, *((p.name, p.data) for p in parts), *extra, (MANIFEST_NAME, manifest), (SIGNATURE_NAME, sig)]
    return raw_zip(entries)


def entries_of(data: bytes) -> dict[str, bytes]:
    """The entries of a ZIP by name (for rebuilding a container with one thing changed)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def parts_of(data: bytes) -> list[Part]:
    """The data objects of a container as packed (envelope.json first), with their media types."""
    entries = entries_of(data)
    types = {"envelope.json": "application/json"}
    return [Part(name, types.get(name, "application/pdf"), content) for name, content in entries.items()
            if name != "mimetype" and not name.startswith("META-INF/")]


def ca_issued_seal(name: str = "ตราประทับ สปน.") -> tuple[SealingKey, bytes]:
    """An organisation seal whose certificate a (test) CA issued, not self-signed: its key and CA's DER."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from saraban.signatures.pades.keys import KeyMaterial

    now = dt.datetime.now(dt.UTC)
    ca_key, seal_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    seal = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(seal_key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .sign(ca_key, hashes.SHA256()))
    der = serialization.Encoding.DER
    key_der = seal_key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return KeyMaterial(key_der, seal.public_bytes(der), (ca.public_bytes(der),)).open(), ca.public_bytes(der)
