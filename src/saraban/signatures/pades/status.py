"""Is this certificate fit to sign with now? Validity dates, then its status from OCSP, then its CRL.

A key whose certificate was revoked (a stolen key, say) or has expired must not sign, and neither
may one whose status cannot be learnt: the signature would be worthless, or worse, believed. The
check asks the certificate's OCSP responder first and its CRL distribution point next, each with a
short time limit, before the key is used; ``SignerRefused`` says why in Thai and English.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from enum import StrEnum

from asn1crypto import x509

from saraban.core.errors import SarabanError

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 5.0


class CertificateStatus(StrEnum):
    """What the certificate's issuer says of it."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"  # no answer: no responder declared, unreachable, or an answer that does not fit


class SignerRefused(SarabanError):
    """The signing certificate may not be used: expired, not yet valid, revoked, or status unknown."""


def split_anchors(certs: Iterable[x509.Certificate]) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """Self-signed certificates are trust anchors; the others (intermediates) help build the path."""
    anchors: list[x509.Certificate] = []
    others: list[x509.Certificate] = []
    for cert in certs:
        (anchors if cert.self_signed != "no" else others).append(cert)
    return anchors, others


async def _ask(cert: x509.Certificate, anchors: list[x509.Certificate], others: list[x509.Certificate],
               rule: str, allow_fetching: bool, timeout: float, crls: Sequence[bytes] = ()) -> CertificateStatus:
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    policy = CertRevTrustPolicy(RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule(rule),
        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
    ))
    async with AIOHttpFetcherBackend(per_request_timeout=max(1, int(timeout))) as fetchers:
        context = ValidationContext(
            trust_roots=anchors, other_certs=others, allow_fetching=allow_fetching, revinfo_policy=policy,
            fetchers=fetchers, crls=list(crls),
        )
        validator = CertificateValidator(cert, intermediate_certs=others, validation_context=context)
        try:
            await asyncio.wait_for(validator.async_validate_usage(set()), timeout * 2)
        except RevokedError:
            return CertificateStatus.REVOKED
        except Exception as exc:  # no path, no answer, network trouble: the status stays unknown
            log.info("status check (%s) of %x gave no answer: %s", rule, cert.serial_number, type(exc).__name__)
            return CertificateStatus.UNKNOWN
    return CertificateStatus.GOOD


def certificate_status(
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    *,
    trust_roots: Sequence[x509.Certificate] = (),
    allow_fetching: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    crls: Sequence[bytes] = (),
) -> tuple[CertificateStatus, str]:
    """The certificate's status and where it came from ("ocsp", "crl" or "none"): OCSP first, then CRL.

    ``chain`` holds the issuing CA certificates; when it lacks a self-signed root the topmost one
    stands in as the anchor: this asks about revocation, it does not decide trust. ``crls`` are CRLs
    already at hand (``trust.local_crls``), used before anything is fetched.
    """
    anchors, others = split_anchors([*trust_roots, *chain])
    if not anchors and others:
        anchors = [others[-1]]
    elif not anchors:
        return CertificateStatus.UNKNOWN, "none"
    for rule, source in (("ocspcheck", "ocsp"), ("clrcheck", "crl")):
        try:
            answer = asyncio.run(_ask(cert, anchors, others, rule, allow_fetching, timeout, crls))
        except RuntimeError:  # called inside a running event loop: ask from a fresh thread's loop
            answer = _in_thread(cert, anchors, others, rule, allow_fetching, timeout, crls)
        if answer is not CertificateStatus.UNKNOWN:
            return answer, source
    return CertificateStatus.UNKNOWN, "none"


def _in_thread(cert: x509.Certificate, anchors: list[x509.Certificate], others: list[x509.Certificate],
               rule: str, allow_fetching: bool, timeout: float, crls: Sequence[bytes]) -> CertificateStatus:
    import threading

    outcome = [CertificateStatus.UNKNOWN]

    def run() -> None:
        outcome[0] = asyncio.run(_ask(cert, anchors, others, rule, allow_fetching, timeout, crls))

    thread = threading.Thread(target=run, name="certificate-status", daemon=True)
    thread.start()
    thread.join(timeout * 3)
    return outcome[0]


def _validity(cert: x509.Certificate) -> tuple[dt.datetime, dt.datetime]:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native, validity["not_after"].native


def require_fit_to_sign(
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    *,
    trust_roots: Sequence[x509.Certificate] = (),
    at: dt.datetime | None = None,
    allow_fetching: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    crls: Sequence[bytes] = (),
) -> str:
    """Refuse (``SignerRefused``) a certificate that is expired, not yet valid, revoked or of unknown
    status; return where the good status came from ("ocsp" or "crl")."""
    now = at or dt.datetime.now(dt.UTC)
    not_before, not_after = _validity(cert)
    name = cert.subject.human_friendly
    if now > not_after:
        raise SignerRefused(
            code="signing.certificate_expired",
            message_th=f"ใบรับรองของผู้ลงนามหมดอายุแล้วเมื่อ {not_after:%d/%m/%Y} ลงนามด้วยใบรับรองนี้ไม่ได้",
            message_en=f"The signing certificate ({name}) expired on {not_after:%Y-%m-%d}; it cannot sign",
        )
    if now < not_before:
        raise SignerRefused(
            code="signing.certificate_not_yet_valid",
            message_th=f"ใบรับรองของผู้ลงนามยังไม่มีผลจนถึง {not_before:%d/%m/%Y}",
            message_en=f"The signing certificate ({name}) is not valid before {not_before:%Y-%m-%d}",
        )
    status, source = certificate_status(cert, chain, trust_roots=trust_roots, allow_fetching=allow_fetching,
                                        timeout=timeout, crls=crls)
    if status is CertificateStatus.REVOKED:
        raise SignerRefused(
            code="signing.certificate_revoked",
            message_th="ใบรับรองของผู้ลงนามถูกเพิกถอนแล้ว (ตรวจสอบจากผู้ออกใบรับรอง) ลงนามด้วยใบรับรองนี้ไม่ได้",
            message_en=f"The signing certificate ({name}) has been revoked by its issuer ({source.upper()}); "
                       "it cannot sign",
        )
    if status is CertificateStatus.UNKNOWN:
        raise SignerRefused(
            code="signing.certificate_status_unknown",
            message_th="ตรวจสอบสถานะใบรับรองของผู้ลงนามกับผู้ออกใบรับรองไม่ได้ (OCSP/CRL ไม่ตอบสนอง) "
                       "จึงยังลงนามไม่ได้ ลองใหม่ภายหลัง",
            message_en=f"The status of the signing certificate ({name}) could not be learnt from its issuer "
                       "(no OCSP or CRL answer); try again later",
        )
    return source
