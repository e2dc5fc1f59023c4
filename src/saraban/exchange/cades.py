"""The detached CAdES-BES signature over a container's manifest (CMS SignedData, RFC 5652), with pyHanko.

Signed attributes: content-type, message-digest (SHA-256 of the manifest's bytes), signing-time and
signing-certificate-v2 (ETSI EN 319 122-1). The signer's certificate is in the SignedData.

Verification checks the signature and the signer's certificate on its own (its validity period and
key usage): who may sign is decided by pinning (``envelope.open_envelope``), not by a CA, so no
path is validated and no network access happens.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import algos, cms, core, tsp, x509
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation.generic_cms import DEFAULT_ALGORITHM_USAGE_POLICY, validate_sig_integrity
from pyhanko.sign.validation.settings import KeyUsageConstraints

from saraban.signatures.pades.keys import CachedKeySigner, KeySource

from .refusals import refused

DIGEST_ALGORITHM = "sha256"
_ACCEPTED_DIGESTS = {"sha256", "sha384", "sha512"}
# A seal or a deployment key: either usage bit is enough (a deployment certificate has both).
_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)


class _Loop(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


_LOOP = _Loop()


def _run[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on this thread's event loop (a fresh thread's when one is already running here)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        if _LOOP.loop is None or _LOOP.loop.is_closed():
            _LOOP.loop = asyncio.new_event_loop()
        return _LOOP.loop.run_until_complete(coro)
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed back to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="exchange-cades")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def sign_detached(data: bytes, key: KeySource, *, signing_time: datetime) -> bytes:
    """The DER of a detached CAdES-BES signature of ``data`` by ``key``."""
    signer = key.signer()
    if isinstance(signer, CachedKeySigner):  # a key in memory (the deployment's): built here, at once
        return _sign_in_memory(data, signer, signing_time)
    settings = PdfCMSSignedAttributes(signing_time=signing_time)
    content: cms.ContentInfo = _run(signer.async_sign_general_data(
        data, DIGEST_ALGORITHM, detached=True, use_cades=True, signed_attr_settings=settings,
    ))
    der: bytes = content.dump()
    return der


def _der(tag: int, content: bytes) -> bytes:
    """One DER element: its tag, its length (definite, shortest form) and ``content``."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


_SEQUENCE, _SET, _CONTEXT_0 = 0x30, 0x31, 0xA0
_VERSION_1 = b"\x02\x01\x01"
_DIGEST_ALGORITHM = algos.DigestAlgorithm({"algorithm": DIGEST_ALGORITHM}).dump()
_CONTENT_TYPE_DATA = cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump()
_ENCAPSULATED_DATA = cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
_SIGNED_DATA_OID = cms.ContentType("signed_data").dump()


@dataclass(frozen=True)
class _SignerParts:
    """What every signature of one certificate repeats, encoded once (DER)."""

    sid: bytes  # SignerIdentifier: issuer and serial number
    signing_certificate: bytes  # the signing-certificate-v2 attribute
    certificates: bytes  # the certificates, as the content of SignedData's [0]
    signature_algorithm: bytes


_SIGNER_PARTS: dict[bytes, _SignerParts] = {}


def _parts_of(signer: CachedKeySigner) -> _SignerParts:
    certificate = signer.signing_cert
    assert certificate is not None  # a cached-key signer always has its certificate
    der = certificate.dump()
    if der not in _SIGNER_PARTS:
        sid = cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": certificate.issuer, "serial_number": certificate.serial_number})})
        attribute = cms.CMSAttribute({"type": "signing_certificate_v2", "values": [
            tsp.SigningCertificateV2.load(as_signing_certificate_v2(certificate).dump())]})
        chain = b"".join(c.dump() for c in [certificate, *signer.cert_registry])
        mechanism = signer.get_signature_mechanism_for_digest(DIGEST_ALGORITHM)
        _SIGNER_PARTS[der] = _SignerParts(sid.dump(), attribute.dump(), chain, mechanism.dump())
    return _SIGNER_PARTS[der]


def _sign_in_memory(data: bytes, signer: CachedKeySigner, signing_time: datetime) -> bytes:
    """The SignedData pyHanko's ``async_sign_general_data`` makes (the same signed attributes:
    content-type, signing-time, message-digest, signing-certificate-v2; issuer and serial; the
    certificate), written as DER directly: pyHanko's asynchronous machinery and asn1crypto's
    re-encoding of the certificate cost ten times the signature itself."""
    parts = _parts_of(signer)
    moment = signing_time.astimezone(UTC).replace(microsecond=0)
    time = cms.Time({"utc_time": moment} if 1950 <= moment.year < 2050 else {"general_time": moment})
    attributes = sorted([  # DER: a SET OF in the order of its elements' encodings
        _CONTENT_TYPE_DATA,
        cms.CMSAttribute({"type": "signing_time", "values": [time]}).dump(),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.new(DIGEST_ALGORITHM, data).digest()]}).dump(),
        parts.signing_certificate,
    ])
    signed_attrs = b"".join(attributes)
    signature = signer.sign_raw(_der(_SET, signed_attrs), DIGEST_ALGORITHM)
    signer_info = _der(_SEQUENCE, _VERSION_1 + parts.sid + _DIGEST_ALGORITHM + _der(_CONTEXT_0, signed_attrs)
                       + parts.signature_algorithm + _der(0x04, signature))
    signed_data = _der(_SEQUENCE, _VERSION_1 + _der(_SET, _DIGEST_ALGORITHM) + _ENCAPSULATED_DATA
                       + _der(_CONTEXT_0, parts.certificates) + _der(_SET, signer_info))
    return _der(_SEQUENCE, _SIGNED_DATA_OID + _der(_CONTEXT_0, signed_data))


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that is intact, by ``certificate``; ``usable`` is False when the certificate is out
    of its validity period or not meant for signing (the caller refuses after the pin check)."""

    certificate: x509.Certificate
    usable: bool


def verify_detached(data: bytes, signature: bytes | None) -> VerifiedSignature:
    """Check that ``signature`` (DER CMS) is a valid detached signature of ``data``.

    ``EnvelopeRefused`` with ``exchange.bad_signature`` for anything else: missing, not CMS, not
    detached, more than one signer, a weak digest or signature algorithm, or a signature that does
    not verify. The signature itself is checked by pyHanko's ``validate_sig_integrity`` (the signed
    attributes' content type, message digest, signing-certificate(-v2) and algorithm protection,
    then the signature with ``cryptography``), without a path validation: the signer's
    certificate is its own anchor (pinning decides who may sign), so what such a validation adds
    is the key usage check, done here with the same constraints.
    """
    if not signature:
        raise refused("exchange.bad_signature", "no signature file", "ไม่พบไฟล์ลายมือชื่อ")
    try:
        content = cms.ContentInfo.load(signature, strict=True)
        if content["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed_data = content["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise ValueError("exactly one signer is required")
        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content"].native is not None:
            raise ValueError("the signature must be detached")
        signer_info = signer_infos[0]
        digest_algorithm = signer_info["digest_algorithm"]["algorithm"].native
        if digest_algorithm not in _ACCEPTED_DIGESTS:
            raise ValueError("the digest algorithm must be SHA-256 or stronger")
        if isinstance(signer_info["signed_attrs"], core.Void):  # never .native: it re-encodes them
            raise ValueError("CAdES requires signed attributes")
        certificate = _signer_certificate(signed_data)
        _check_algorithms(signer_info, certificate)
        digest = hashlib.new(digest_algorithm, data).digest()
        intact, valid = validate_sig_integrity(
            signer_info, certificate, expected_content_type=encapsulated["content_type"].native, actual_digest=digest,
        )
    except Exception:  # asn1crypto and pyHanko raise many kinds of error on malformed input
        raise refused("exchange.bad_signature", "not a valid detached CMS signature of the manifest") from None
    if not (intact and valid):
        raise refused("exchange.bad_signature", "the signature does not verify over the manifest")
    return VerifiedSignature(certificate=certificate,
                             usable=_usable_for_signing(certificate) and _in_validity_period(certificate))


def _check_algorithms(signer_info: cms.SignerInfo, certificate: x509.Certificate) -> None:
    """pyHanko's default algorithm policy (no MD5/SHA-1, keys strong enough, digest and signature agree)."""
    signature_algorithm = signer_info["signature_algorithm"]
    if not DEFAULT_ALGORITHM_USAGE_POLICY.signature_algorithm_allowed(
            signature_algorithm, moment=None, public_key=certificate.public_key):
        raise ValueError("signature algorithm not allowed")
    digest_algorithm = signer_info["digest_algorithm"]
    if not DEFAULT_ALGORITHM_USAGE_POLICY.digest_algorithm_allowed(digest_algorithm, moment=None):
        raise ValueError("digest algorithm not allowed")
    if not DEFAULT_ALGORITHM_USAGE_POLICY.digest_combination_allowed(
            signature_algo=signature_algorithm, message_digest_algo=digest_algorithm, moment=None):
        raise ValueError("digest and signature algorithms do not agree")


def _usable_for_signing(certificate: x509.Certificate) -> bool:
    """Whether the certificate's key usage allows signing: digitalSignature or nonRepudiation, or no
    key usage extension at all (RFC 5280: then any usage is allowed, as for many organisation seals)."""
    try:
        if certificate.key_usage_value is None:
            return True
        _KEY_USAGE.validate(certificate)
    except Exception:  # pyHanko's InvalidCertificateError (and a malformed extension)
        return False
    return True


def _in_validity_period(certificate: x509.Certificate) -> bool:
    """Whether now is within the certificate's validity (a trust anchor's own dates are not checked by
    path validation, and a pinned certificate is its own anchor)."""
    validity = certificate["tbs_certificate"]["validity"]
    now = datetime.now(UTC)
    return bool(validity["not_before"].native <= now <= validity["not_after"].native)


def _signer_certificate(signed_data: cms.SignedData) -> x509.Certificate:
    """The certificate the signer info's identifier names (issuer and serial, or key identifier)."""
    sid = signed_data["signer_infos"][0]["sid"]
    for choice in signed_data["certificates"]:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if cert.serial_number == wanted["serial_number"].native and (
                    cert.issuer.dump() == wanted["issuer"].dump() or cert.issuer == wanted["issuer"]):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    raise ValueError("the signer's certificate is not in the signature")
