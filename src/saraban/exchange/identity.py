"""This deployment's identity on the exchange network: an id, an EC P-256 key and a self-signed certificate.

Made on first use and kept in the database (``DeploymentIdentity``), shared by every app server. The
certificate's CN is ``settings.SARABAN_DEPLOYMENT_NAME`` (default: the host of ``SARABAN_PUBLIC_URL``),
with ``SARABAN_PUBLIC_URL`` as a URI subject alternative name. Peers pin it by its SHA-256 fingerprint
(trust on first use, ``directory_document.read_directory_document``).

The private key is stored as encrypted PKCS#8 (``BestAvailableEncryption``) under
``settings.SARABAN_EXCHANGE_KEY_PASSPHRASE``, or, when that is unset, under a key derived from
Django's ``SECRET_KEY`` (HKDF-SHA256 with a label of its own). It is never stored, shown or logged in
clear. A key stored under the derived key is re-encrypted under the passphrase once one is set.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils import timezone

from saraban.core.errors import SarabanError
from saraban.signatures.pades.keys import KeyMaterial

from .envelope import Address, SealingKey, certificate_fingerprint
from .models import DeploymentIdentity

_HKDF_LABEL = b"saraban exchange: deployment key encryption v1"
CERTIFICATE_YEARS = 10
# The certificate is valid from a day before it was made: a peer whose clock is behind ours accepts it.
_BACKDATE = dt.timedelta(days=1)


class IdentityLocked(SarabanError):
    """The stored key cannot be decrypted: the passphrase or SECRET_KEY is not the one it was stored under."""

    http_status = 503

    def __init__(self) -> None:
        super().__init__(
            code="exchange.identity_locked",
            message_th="ถอดรหัสกุญแจของระบบสำหรับรับส่งหนังสือไม่ได้ "
                       "(SARABAN_EXCHANGE_KEY_PASSPHRASE หรือ SECRET_KEY ไม่ตรงกับที่ใช้ตอนสร้าง)",
            message_en="The deployment's exchange key cannot be decrypted: SARABAN_EXCHANGE_KEY_PASSPHRASE "
                       "or SECRET_KEY is not the one it was stored under",
        )


@dataclass(frozen=True)
class Identity:
    """The deployment's id, name, certificate (asn1crypto) and key, ready to seal messages."""

    deployment_id: str
    name: str
    certificate: asn1_x509.Certificate
    fingerprint: str  # SHA-256 of the certificate's DER, lowercase hex
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def certificate_pem(self) -> str:
        """The certificate in PEM, as the directory document publishes it."""
        return x509.load_der_x509_certificate(self.certificate.dump()).public_bytes(
            serialization.Encoding.PEM).decode("ascii")

    @cached_property
    def sealing_key(self) -> SealingKey:
        """The key that seals this deployment's messages (one signer object, its key parsed once)."""
        key_der = self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return KeyMaterial(key_der=key_der, cert_der=self.certificate.dump(), chain_der=()).open()

    def address(self, organisation: str = "") -> Address:
        """The address of ``organisation`` (its identifier) at this deployment; "" for the deployment."""
        return Address(self.deployment_id, organisation)


def deployment_name() -> str:
    """``SARABAN_DEPLOYMENT_NAME``, or the host of ``SARABAN_PUBLIC_URL``."""
    configured = str(getattr(settings, "SARABAN_DEPLOYMENT_NAME", "") or "").strip()
    return (configured or urlsplit(settings.SARABAN_PUBLIC_URL).hostname or "saraban")[:200]


def _passphrase(protection: str) -> bytes:
    """The passphrase the key is encrypted under: the configured one, or one derived from SECRET_KEY."""
    if protection == "passphrase":
        return str(getattr(settings, "SARABAN_EXCHANGE_KEY_PASSPHRASE", "") or "").encode("utf-8")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_LABEL).derive(
        str(settings.SECRET_KEY).encode("utf-8"))
    return base64.b64encode(derived)


def _current_protection() -> str:
    return "passphrase" if getattr(settings, "SARABAN_EXCHANGE_KEY_PASSPHRASE", "") else "secret_key"


def _encrypt(key: ec.EllipticCurvePrivateKey, protection: str) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(_passphrase(protection)))


def _at_most_64_bytes(name: str) -> str:
    """``name`` cut to the 64 UTF-8 bytes a common name may hold (a Thai character takes 3)."""
    return name.encode("utf-8")[:64].decode("utf-8", errors="ignore").strip()


def _certificate(key: ec.EllipticCurvePrivateKey, name: str, now: dt.datetime) -> x509.Certificate:
    """A self-signed certificate for ``key``: CN ``name``, SAN the public URL, signing key usages only."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, _at_most_64_bytes(name) or "saraban"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Saraban exchange"),
    ])
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectAlternativeName(
            [x509.UniformResourceIdentifier(settings.SARABAN_PUBLIC_URL)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def make_identity(name: str, *, deployment_id: str | None = None, now: dt.datetime | None = None) -> Identity:
    """A new identity (fresh key, self-signed certificate made ``now``), not stored anywhere.

    ``deployment_identity`` makes the deployment's own with it; tests and tools make others.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    der = _certificate(key, name, now or timezone.now()).public_bytes(serialization.Encoding.DER)
    certificate = asn1_x509.Certificate.load(der)
    return Identity(deployment_id=deployment_id or str(uuid.uuid4()), name=name, certificate=certificate,
                    fingerprint=certificate_fingerprint(certificate), private_key=key)


def _new_row_values() -> dict[str, object]:
    """The fields of a new identity: a fresh key (encrypted) and its certificate."""
    identity = make_identity(deployment_name())
    protection = _current_protection()
    return {
        "deployment_id": identity.deployment_id, "name": identity.name, "certificate_der": identity.certificate.dump(),
        "fingerprint": identity.fingerprint, "encrypted_key": _encrypt(identity.private_key, protection),
        "key_protection": protection, "created_at": timezone.now(),
    }


_loaded: dict[tuple[str, str], Identity] = {}  # (fingerprint, sha256 of the encrypted key) -> decrypted


def forget_loaded_identities() -> None:
    """Drop the decrypted keys this process holds (the next call decrypts the stored key again)."""
    _loaded.clear()


def deployment_identity() -> Identity:
    """This deployment's identity, made on first use (``IdentityLocked`` if its key cannot be opened).

    Safe when several processes ask first at once: each may make a key, one row is inserted (the
    unique slot) and every process uses that one.
    """
    row = DeploymentIdentity.objects.filter(slot=1).first()
    if row is None:
        row, _ = DeploymentIdentity.objects.get_or_create(slot=1, defaults=_new_row_values())
    encrypted = bytes(row.encrypted_key)
    cache_key = (row.fingerprint, hashlib.sha256(encrypted).hexdigest())
    if cache_key in _loaded:
        return _loaded[cache_key]
    try:
        key = serialization.load_der_private_key(encrypted, password=_passphrase(row.key_protection))
    except (ValueError, TypeError):
        raise IdentityLocked() from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityLocked()
    if row.key_protection != _current_protection():  # a passphrase was set since: re-encrypt under it
        protection = _current_protection()
        DeploymentIdentity.objects.filter(pk=row.pk, encrypted_key=row.encrypted_key).update(
            encrypted_key=_encrypt(key, protection), key_protection=protection)
    certificate = asn1_x509.Certificate.load(bytes(row.certificate_der))
    identity = Identity(deployment_id=row.deployment_id, name=row.name, certificate=certificate,
                        fingerprint=certificate_fingerprint(certificate), private_key=key)
    _loaded[cache_key] = identity
    return identity
