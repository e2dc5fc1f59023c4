"""The detached CAdES-BES signature over a container's manifest (CMS SignedData, RFC 5652), with pyHanko.

Signed attributes: content-type, message-digest (SHA-256 of the manifest's bytes), signing-time and
signing-certificate-v2 (ETSI EN 319 122-1). The signer's certificate is in the SignedData.

Verification checks the signature and the signer's certificate on its own (its validity period and
key usage) with the certificate as its own trust anchor: who may sign is decided by pinning
(``envelope.open_envelope``), not by a CA. No network access happens.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, x509
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from saraban.signatures.pades.keys import KeySource

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
    settings = PdfCMSSignedAttributes(signing_time=signing_time)
    content: cms.ContentInfo = _run(signer.async_sign_general_data(
        data, DIGEST_ALGORITHM, detached=True, use_cades=True, signed_attr_settings=settings,
    ))
    der: bytes = content.dump()
    return der


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that is intact, by ``certificate``; ``usable`` is False when the certificate is out
    of its validity period or not meant for signing (the caller refuses after the pin check)."""

    certificate: x509.Certificate
    usable: bool


def verify_detached(data: bytes, signature: bytes | None) -> VerifiedSignature:
    """Check that ``signature`` (DER CMS) is a valid detached signature of ``data``.

    ``EnvelopeRefused`` with ``exchange.bad_signature`` for anything else: missing, not CMS, not
    detached, more than one signer, a weak digest, or a signature that does not verify.
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
        if signed_data["encap_content_info"]["content"].native is not None:
            raise ValueError("the signature must be detached")
        if signer_infos[0]["digest_algorithm"]["algorithm"].native not in _ACCEPTED_DIGESTS:
            raise ValueError("the digest algorithm must be SHA-256 or stronger")
        certificate = _signer_certificate(signed_data)
        context = ValidationContext(trust_roots=[certificate], allow_fetching=False, revocation_mode="soft-fail")
        status = _run(async_validate_detached_cms(
            data, signed_data, signer_validation_context=context, key_usage_settings=_KEY_USAGE,
        ))
    except Exception:  # asn1crypto and pyHanko raise many kinds of error on malformed input
        raise refused("exchange.bad_signature", "not a valid detached CMS signature of the manifest") from None
    if not (status.intact and status.valid):
        raise refused("exchange.bad_signature", "the signature does not verify over the manifest")
    return VerifiedSignature(certificate=certificate,
                             usable=status.trust_problem_indic is None and _in_validity_period(certificate))


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
            if cert.issuer == wanted["issuer"] and cert.serial_number == wanted["serial_number"].native:
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    raise ValueError("the signer's certificate is not in the signature")
