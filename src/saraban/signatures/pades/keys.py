"""Key sources: where the signing key lives, behind one interface.

- ``Pkcs12Key``: a signer's PKCS#12 file (``.p12``/``.pfx``); its password is given at signing time
  and never stored. The parsed key is kept in memory for the life of the object (``CachedKeySigner``),
  so a batch of letters is signed with one password entry and without re-parsing the key each time.
- ``Pkcs11Key``: a key on a PKCS#11 token or HSM (tested with SoftHSM2), unlocked with its PIN.
- ``OrganisationSeal``: the organisation's seal key held server-side on a PKCS#11 token, for
  หนังสือประทับตรา and agencies without a certificate per official.

Every source gives a pyHanko ``Signer`` (``signer()``) and its certificate; ``close()`` releases it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import keys, tsp, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign import attributes, signers
from pyhanko.sign.general import as_signing_certificate_v2, get_pyca_cryptography_hash
from pyhanko_certvalidator.registry import SimpleCertificateStore

from saraban.core.errors import SarabanError


class KeyKind(StrEnum):
    """Where a key is kept (the certificate registry shows this as the key location)."""

    FILE = "file"
    TOKEN = "token"
    SEAL = "seal"


class KeyUnavailable(SarabanError):
    """The key cannot be opened: wrong password or PIN, missing token, unreadable file."""


class KeySource(Protocol):
    """A signing key and its certificate, ready to sign."""

    kind: KeyKind

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        ...

    def signer(self) -> signers.Signer:
        """The pyHanko signer (the same object on every call, so the key stays loaded)."""
        ...

    def close(self) -> None:
        """Forget the key (and log out of the token)."""
        ...


class _FrozenSigningCertificateV2(attributes.SigningCertificateV2Provider):
    """The signing-certificate-v2 attribute value, built once per certificate and kept as parsed DER.

    asn1crypto re-serialises a freshly built value over and over (each nesting level repeats the work
    of the levels below it): about 20 ms for this 156-byte value, once per signature, plus as much
    again when pyHanko copies the signed attributes into the ``SignerInfo``. The parsed copy has the
    same DER bytes and serialises instantly.
    """

    def __init__(self, signing_cert: x509.Certificate, value: tsp.SigningCertificateV2) -> None:
        super().__init__(signing_cert)
        self._value = value

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        """The cached value (the same certificate hash and issuer/serial as pyHanko would build)."""
        return self._value


class FrozenSigningCertificate(signers.Signer):
    """Mixin for a pyHanko ``Signer``: the signing-certificate-v2 attribute is built once per certificate.

    Put it before the signer class (``class S(FrozenSigningCertificate, signers.SimpleSigner)``); a
    PKCS#11 signer gains the same 20-40 ms per signature this way.
    """

    _frozen_scv2: tuple[bytes, tsp.SigningCertificateV2] | None = None

    def _signed_attr_providers(self, *args: Any, **kwargs: Any) -> list[attributes.CMSAttributeProvider]:
        """pyHanko's signed attribute providers, with the signing-certificate-v2 value cached."""
        providers = list(super()._signed_attr_providers(*args, **kwargs))
        return [self._frozen_provider(p) if type(p) is attributes.SigningCertificateV2Provider else p
                for p in providers]

    def _frozen_provider(self, provider: attributes.SigningCertificateV2Provider) -> _FrozenSigningCertificateV2:
        cert = provider.signing_cert
        der = cert.dump()
        if self._frozen_scv2 is None or self._frozen_scv2[0] != der:
            value = tsp.SigningCertificateV2.load(as_signing_certificate_v2(cert).dump())
            self._frozen_scv2 = (der, value)
        return _FrozenSigningCertificateV2(cert, self._frozen_scv2[1])


class CachedKeySigner(FrozenSigningCertificate, signers.SimpleSigner):
    """A ``SimpleSigner`` that parses its private key once instead of on every signature.

    Stock pyHanko re-parses the DER key for each signature (about 40 ms for RSA-2048); this keeps the
    ``cryptography`` key object. RSA PKCS#1 v1.5 and ECDSA use the cached key; other mechanisms fall
    back to pyHanko's own code. The signing-certificate-v2 signed attribute, the same in every
    signature of this key, is also built once (``FrozenSigningCertificate``).
    """

    _cached_key: Any = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Sign ``data`` with the cached key (see the class docstring)."""
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algo = mechanism.signature_algo
        except ValueError:
            algo = mechanism["algorithm"].native
        if self._cached_key is None:
            self._cached_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        key = self._cached_key
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if algo == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), hash_algo)
        if algo == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(hash_algo))
        result: bytes = super().sign_raw(data, digest_algorithm)
        return result

    @classmethod
    def from_simple(cls, simple: signers.SimpleSigner) -> CachedKeySigner:
        """The same signer, with key caching."""
        simple.__class__ = cls
        assert isinstance(simple, CachedKeySigner)
        return simple


class Pkcs12Key:
    """A PKCS#12 file unlocked with its password (kept in memory only while this object lives)."""

    kind = KeyKind.FILE

    def __init__(self, data: bytes, password: str, *, extra_certs: Iterable[x509.Certificate] = ()) -> None:
        """Open the PKCS#12 ``data``; ``KeyUnavailable`` when the password is wrong or the file is bad."""
        try:
            simple = signers.SimpleSigner.load_pkcs12_data(data, list(extra_certs), passphrase=password.encode())
        except Exception:  # pyHanko raises various errors for bad files and wrong passwords
            simple = None
        if simple is None:
            raise KeyUnavailable(
                code="key.pkcs12_unlock_failed",
                message_th="เปิดไฟล์ใบรับรอง (PKCS#12) ไม่ได้ รหัสผ่านไม่ถูกต้องหรือไฟล์เสียหาย",
                message_en="Cannot open the PKCS#12 file: wrong password or damaged file",
            )
        self._signer: CachedKeySigner | None = CachedKeySigner.from_simple(simple)

    @classmethod
    def from_file(cls, path: str | Path, password: str, *, extra_certs: Iterable[x509.Certificate] = ()) -> Pkcs12Key:
        """Open the PKCS#12 file at ``path``."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeyUnavailable(
                code="key.pkcs12_unreadable",
                message_th=f"อ่านไฟล์ใบรับรอง {path} ไม่ได้",
                message_en=f"Cannot read the PKCS#12 file {path}: {exc.strerror}",
            ) from None
        return cls(data, password, extra_certs=extra_certs)

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        return self.signer().signing_cert

    def signer(self) -> signers.Signer:
        """The cached-key signer."""
        if self._signer is None:
            raise KeyUnavailable(code="key.closed", message_th="กุญแจถูกปิดแล้ว", message_en="The key was closed")
        return self._signer

    def close(self) -> None:
        """Drop the key from memory."""
        self._signer = None


@dataclass(frozen=True)
class KeyMaterial:
    """A cached-key signer as plain bytes, to hand to a signing worker over its pipe (never a file).

    ``repr`` never shows the key; the worker rebuilds the signer with ``open()`` and forgets it when
    the signing session ends.
    """

    key_der: bytes = field(repr=False)
    cert_der: bytes
    chain_der: tuple[bytes, ...]

    @classmethod
    def of(cls, signer: CachedKeySigner) -> KeyMaterial:
        """The key, certificate and CA chain of ``signer``."""
        registry: Any = signer.cert_registry
        key: Any = signer.signing_key
        cert: Any = signer.signing_cert
        return cls(key.dump(), cert.dump(), tuple(c.dump() for c in registry))

    def open(self) -> KeySource:
        """A key source signing with this material (as the ``Pkcs12Key`` it came from)."""
        return _MaterialKey(self)


class _MaterialKey(Pkcs12Key):
    """A key source rebuilt from ``KeyMaterial`` in a signing worker (a ``Pkcs12Key`` already opened)."""

    def __init__(self, material: KeyMaterial) -> None:
        simple = signers.SimpleSigner(
            signing_cert=x509.Certificate.load(material.cert_der),
            signing_key=keys.PrivateKeyInfo.load(material.key_der),
            cert_registry=SimpleCertificateStore.from_certs([x509.Certificate.load(d) for d in material.chain_der]),
        )
        self._signer = CachedKeySigner.from_simple(simple)


class Pkcs11Key:
    """A key on a PKCS#11 token (smart card, HSM, SoftHSM2), opened with the token's PIN."""

    kind = KeyKind.TOKEN

    def __init__(
        self,
        lib: str | Path,
        *,
        token_label: str,
        pin: str,
        key_label: str,
        cert_label: str | None = None,
        extra_certs: Iterable[x509.Certificate] = (),
    ) -> None:
        """Log in to the token ``token_label`` and find ``key_label`` (and its certificate)."""
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

        try:
            self._session: Any = open_pkcs11_session(
                str(lib), token_criteria=TokenCriteria(label=token_label), user_pin=pin
            )
        except Exception as exc:
            raise KeyUnavailable(
                code="key.token_unlock_failed",
                message_th=f"เปิดโทเคน {token_label} ไม่ได้ PIN ไม่ถูกต้องหรือไม่พบโทเคน",
                message_en=f"Cannot open the token {token_label!r}: wrong PIN or token missing ({exc})",
            ) from None
        try:
            signer_class = type("FrozenPkcs11Signer", (FrozenSigningCertificate, PKCS11Signer), {})
            self._signer: signers.Signer | None = signer_class(
                self._session,
                key_label=key_label,
                cert_label=cert_label or key_label,
                ca_chain=list(extra_certs),
            )
            _ = self._signer.signing_cert  # load the certificate now: a missing one is refused here
        except Exception as exc:
            self._session.close()
            raise KeyUnavailable(
                code="key.token_key_missing",
                message_th=f"ไม่พบกุญแจหรือใบรับรอง {key_label} ในโทเคน",
                message_en=f"Key or certificate {key_label!r} not found on the token ({exc})",
            ) from None

    @property
    def certificate(self) -> x509.Certificate:
        """The certificate read from the token."""
        return self.signer().signing_cert

    def signer(self) -> signers.Signer:
        """The PKCS#11 signer (the session stays open until ``close``)."""
        if self._signer is None:
            raise KeyUnavailable(code="key.closed", message_th="กุญแจถูกปิดแล้ว", message_en="The key was closed")
        return self._signer

    def close(self) -> None:
        """Log out and close the session."""
        if self._signer is not None:
            self._signer = None
            self._session.close()


class OrganisationSeal(Pkcs11Key):
    """The organisation's seal key (ตราประทับอิเล็กทรอนิกส์), held server-side on a PKCS#11 token."""

    kind = KeyKind.SEAL
