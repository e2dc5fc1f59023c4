"""The certificate registry (ทะเบียนใบรับรองอิเล็กทรอนิกส์): writes.

A person registers their own signing certificate (a PKCS#12 file or a key on a token); an
organisation administrator (ผู้ดูแลหน่วยงาน) may register one for a person of the organisation and
registers the organisation's seal (ตราประทับอิเล็กทรอนิกส์). Registration proves possession: the file
is opened with its password, the token with its PIN; neither secret is stored nor logged. The
certificate's facts are copied into the row so that pages and warnings need no parsing.

``open_key`` gives the key source of a registered certificate for signing; ``check_revocation``
asks the certificate's OCSP responder (then its CRL) and records the answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from asn1crypto import pem, x509
from asn1crypto import pkcs12 as asn1_pkcs12
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from saraban.access.policy import has_role, works_in
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, PermissionRefused, SarabanError, StateRefused, ValidationFailed
from saraban.directory.models import Organisation, Person, Role
from saraban.documents.services import read_file, store_file

from .models import KeyLocation, RevocationStatus, SigningCertificate
from .pades.keys import KeySource, KeyUnavailable, OrganisationSeal, Pkcs11Key, Pkcs12Key
from .pades.status import CertificateStatus, certificate_status
from .trust import local_crls

log = logging.getLogger(__name__)

PKCS12_CONTENT_TYPE = "application/x-pkcs12"
MAX_PKCS12_BYTES = 1024 * 1024
SIGNING_USAGES = {"digital_signature", "non_repudiation"}
SEAL_PIN_SETTING = "SARABAN_SEAL_PINS"
SEAL_PIN_ENV_PREFIX = "SARABAN_SEAL_PIN_"


# -- the certificate's facts ------------------------------------------------------------------------


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, in lower-case hexadecimal."""
    return hashlib.sha256(cert.dump()).hexdigest()


def serial_hex(cert: x509.Certificate) -> str:
    """The serial number in upper-case hexadecimal, an even number of digits (as CAs print it)."""
    digits = format(cert.serial_number, "X")
    return digits if len(digits) % 2 == 0 else "0" + digits


def key_usages(cert: x509.Certificate) -> set[str]:
    """The key usages of ``cert`` ("digital_signature", "non_repudiation"…); empty when unrestricted."""
    value = cert.key_usage_value
    return set(value.native) if value is not None else set()


def common_name(name: x509.Name) -> str:
    """The common name (CN) of a distinguished name, or its whole human-friendly form."""
    cn = name.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[-1] if cn else None
    return str(cn) if cn else name.human_friendly


def _facts(cert: x509.Certificate) -> dict[str, object]:
    return {
        "certificate": cert.dump(),
        "fingerprint_sha256": fingerprint(cert),
        "subject": cert.subject.human_friendly[:1000],
        "issuer": cert.issuer.human_friendly[:1000],
        "serial": serial_hex(cert)[:100],
        "not_before": cert.not_valid_before,
        "not_after": cert.not_valid_after,
        "key_usage": ",".join(sorted(key_usages(cert))),
    }


def _refuse(field: str, code: str, th: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, code, th, en)])


def _check_fit_for_signing(cert: x509.Certificate, field: str) -> None:
    """Refuse a certificate that has expired or may not make signatures."""
    if cert.not_valid_after <= timezone.now():
        raise _refuse(
            field, "certificate.expired",
            f"ใบรับรองนี้หมดอายุแล้วเมื่อ {cert.not_valid_after:%Y-%m-%d} ลงทะเบียนไม่ได้",
            f"This certificate expired on {cert.not_valid_after:%Y-%m-%d} and cannot be registered",
        )
    usages = key_usages(cert)
    if usages and not usages & SIGNING_USAGES:
        raise _refuse(
            field, "certificate.not_for_signing",
            "ใบรับรองนี้ไม่ได้ออกให้ใช้ลงลายมือชื่อ (ไม่มี digitalSignature หรือ nonRepudiation)",
            "This certificate is not for signing (no digitalSignature or nonRepudiation key usage)",
        )


# -- permissions --------------------------------------------------------------------------------------


def _is_admin(actor: Person, organisation: Organisation | int) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


def _check_may_register(*, organisation: Organisation, holder: Person | None, actor: Person) -> None:
    if holder is None:
        if not _is_admin(actor, organisation):
            raise PermissionRefused(
                code="certificate.seal_admin_only",
                message_th="ลงทะเบียนตราประทับของหน่วยงานได้เฉพาะผู้ดูแลหน่วยงาน",
                message_en="Only an organisation administrator may register the organisation's seal",
            )
        return
    if not works_in(holder, organisation):
        raise PermissionRefused(
            code="certificate.holder_not_in_organisation",
            message_th=f"{holder.display_name} ไม่ได้ปฏิบัติงานใน{organisation.name_th}",
            message_en=f"{holder.display_name} does not work in {organisation.name_en or organisation.name_th}",
        )
    if actor.pk != holder.pk and not _is_admin(actor, organisation):
        raise PermissionRefused(
            code="certificate.not_holder",
            message_th="ลงทะเบียนใบรับรองได้เฉพาะผู้ถือใบรับรองหรือผู้ดูแลหน่วยงาน",
            message_en="Only the certificate's holder or an organisation administrator may register it",
        )


def may_manage(actor: Person, certificate: SigningCertificate) -> bool:
    """Whether ``actor`` may withdraw or check ``certificate``: its holder or an administrator there."""
    if certificate.holder_id is not None and certificate.holder_id == actor.pk:
        return True
    return _is_admin(actor, certificate.organisation_id)


# -- registration -------------------------------------------------------------------------------------


def _save(
    *,
    organisation: Organisation,
    holder: Person | None,
    cert: x509.Certificate,
    location: KeyLocation,
    actor: Person,
    label: str,
    extra: dict[str, object],
) -> SigningCertificate:
    """Write the registration (or reactivate the existing one for the same certificate) with its event."""
    facts = _facts(cert)
    with transaction.atomic():
        existing = (
            SigningCertificate.objects.select_for_update()
            .filter(organisation=organisation, holder=holder, fingerprint_sha256=facts["fingerprint_sha256"])
            .first()
        )
        values = {**facts, **extra, "key_location": location, "registered_by": actor, "active": True}
        if label:
            values["label"] = label[:255]
        if existing is None:
            record = SigningCertificate.objects.create(organisation=organisation, holder=holder, **values)
            action = "signatures.certificate_registered"
        else:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save()
            record = existing
            action = "signatures.certificate_reactivated"
        record_event(
            action, object_type="signing_certificate", object_id=record.pk, organisation_id=organisation.pk,
            actor=actor, after=snapshot(record),
            detail={"holder": holder.pk if holder else None, "key_location": location,
                    "fingerprint_sha256": record.fingerprint_sha256},
        )
    return record


def snapshot(certificate: SigningCertificate) -> dict[str, object]:
    """The audited state of a registration (no secret is part of it)."""
    return {
        "organisation": certificate.organisation_id, "holder": certificate.holder_id,
        "key_location": certificate.key_location, "fingerprint_sha256": certificate.fingerprint_sha256,
        "serial": certificate.serial, "not_after": certificate.not_after.isoformat(),
        "active": certificate.active, "token_label": certificate.token_label, "key_label": certificate.key_label,
    }


def chain_of(certificate: SigningCertificate) -> list[x509.Certificate]:
    """The issuing CA certificates kept with a registration (sent along in each signature)."""
    if not certificate.chain_pem:
        return []
    return [x509.Certificate.load(der) for _t, _h, der in pem.unarmor(certificate.chain_pem.encode(), multiple=True)]


def _chain_pem(certs: Iterable[x509.Certificate], leaf: x509.Certificate) -> str:
    """PEM of ``certs`` without the signer's own certificate (and without duplicates)."""
    seen = {fingerprint(leaf)}
    out: list[str] = []
    for cert in certs:
        if fingerprint(cert) not in seen:
            seen.add(fingerprint(cert))
            out.append(pem.armor("CERTIFICATE", cert.dump()).decode())
    return "".join(out)


def _parse_chain(chain_pem: str, field: str) -> list[x509.Certificate]:
    try:
        certs = [x509.Certificate.load(der) for _t, _h, der in pem.unarmor(chain_pem.encode(), multiple=True)]
        for cert in certs:
            _ = cert.native  # parse now: garbage is refused here
    except (ValueError, TypeError):
        raise _refuse(field, "certificate.chain_malformed", "ใบรับรองของผู้ออกใบรับรอง (PEM) อ่านไม่ได้",
                      "The issuing CA certificates (PEM) cannot be read") from None
    return certs


def _looks_like_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        return pfx["version"].native is not None and pfx["auth_safe"]["content_type"].native == "data"
    except Exception:  # asn1crypto raises ValueError, TypeError… for garbage
        return False


def register_pkcs12(
    *,
    organisation: Organisation,
    holder: Person,
    data: bytes,
    password: str,
    actor: Person,
    label: str = "",
) -> SigningCertificate:
    """Register ``holder``'s PKCS#12 file in ``organisation``; the file is kept as uploaded.

    The file is opened with ``password`` to prove possession and to read the certificate; the password
    is not stored. Registering the same certificate again reactivates the existing registration.
    """
    _check_may_register(organisation=organisation, holder=holder, actor=actor)
    if not data:
        raise _refuse("file", "certificate.file_empty", "ไม่ได้แนบไฟล์ใบรับรอง", "No certificate file was given")
    if len(data) > MAX_PKCS12_BYTES:
        raise _refuse("file", "certificate.file_too_large", "ไฟล์ใบรับรองใหญ่เกินไป (เกิน 1 MB)",
                      "The certificate file is too large (over 1 MB)")
    if not _looks_like_pkcs12(data):
        raise _refuse("file", "certificate.not_pkcs12",
                      "ไฟล์นี้ไม่ใช่ไฟล์ใบรับรองแบบ PKCS#12 (.p12 หรือ .pfx)",
                      "This file is not a PKCS#12 certificate file (.p12 or .pfx)")
    try:
        key = Pkcs12Key(data, password)
    except KeyUnavailable:
        raise _refuse("password", "certificate.wrong_password",
                      "รหัสผ่านของไฟล์ใบรับรองไม่ถูกต้อง หรือไฟล์เสียหาย",
                      "Wrong password for the certificate file, or the file is damaged") from None
    try:
        cert = key.certificate
        registry: Any = key.signer().cert_registry
        chain = _chain_pem(registry, cert)
    finally:
        key.close()
    _check_fit_for_signing(cert, "file")
    with transaction.atomic():  # the file's row is written only with its registration
        stored = store_file(data, PKCS12_CONTENT_TYPE)
        return _save(
            organisation=organisation, holder=holder, cert=cert, location=KeyLocation.FILE, actor=actor,
            label=label, extra={"pkcs12": stored, "pkcs11_lib": "", "token_label": "", "key_label": "",
                                "chain_pem": chain},
        )


def register_token(
    *,
    organisation: Organisation,
    holder: Person | None,
    lib: str,
    token_label: str,
    key_label: str,
    pin: str,
    actor: Person,
    seal: bool = False,
    label: str = "",
    chain_pem: str = "",
) -> SigningCertificate:
    """Register a key on a PKCS#11 token (a person's) or, with ``seal``, the organisation's seal.

    The token is opened with ``pin`` to read the certificate stored with the key; the PIN is not
    stored. A seal has no holder and only an organisation administrator may register it.
    ``chain_pem`` holds the issuing CA certificates (tokens often carry only the signer's own), which
    every signature then carries so that validators can build the path to the root.
    """
    if seal:
        holder = None
    elif holder is None:
        raise _refuse("holder", "certificate.holder_missing", "ต้องระบุผู้ถือใบรับรอง",
                      "The certificate's holder is required")
    _check_may_register(organisation=organisation, holder=holder, actor=actor)
    problems = [
        FieldProblem(name, "required", "ต้องกรอกช่องนี้", "This field is required")
        for name, value in (("lib", lib), ("token_label", token_label), ("key_label", key_label)) if not value
    ]
    if problems:
        raise ValidationFailed(problems)
    source = OrganisationSeal if seal else Pkcs11Key
    try:
        key = source(lib, token_label=token_label, pin=pin, key_label=key_label)
    except KeyUnavailable as exc:
        problem = FieldProblem("pin", exc.code, exc.message_th, _without_detail(exc.message_en))
        raise ValidationFailed([problem]) from None
    try:
        cert = key.certificate
    finally:
        key.close()
    _check_fit_for_signing(cert, "key_label")
    chain = _chain_pem(_parse_chain(chain_pem, "chain_pem"), cert) if chain_pem.strip() else ""
    return _save(
        organisation=organisation, holder=holder, cert=cert,
        location=KeyLocation.SEAL if seal else KeyLocation.TOKEN, actor=actor, label=label,
        extra={"pkcs12": None, "pkcs11_lib": str(lib)[:500], "token_label": token_label[:255],
               "key_label": key_label[:255], "chain_pem": chain},
    )


def _without_detail(message: str) -> str:
    """A key error's English message without the library's own text in brackets (it may name paths)."""
    return re.sub(r"\s*\(.*\)\s*$", "", message)


def withdraw(certificate: SigningCertificate, *, actor: Person) -> SigningCertificate:
    """Withdraw a registration (เพิกถอนการลงทะเบียน): it is kept for the record but no longer used."""
    if not may_manage(actor, certificate):
        raise PermissionRefused(
            code="certificate.withdraw_refused",
            message_th="ถอนใบรับรองได้เฉพาะผู้ถือใบรับรองหรือผู้ดูแลหน่วยงาน",
            message_en="Only the certificate's holder or an organisation administrator may withdraw it",
        )
    if not certificate.active:
        return certificate
    with transaction.atomic():
        before = snapshot(certificate)
        certificate.active = False
        certificate.save(update_fields=["active"])
        record_event(
            "signatures.certificate_withdrawn", object_type="signing_certificate", object_id=certificate.pk,
            organisation_id=certificate.organisation_id, actor=actor, before=before, after=snapshot(certificate),
        )
    return certificate


# -- keys -------------------------------------------------------------------------------------------


def seal_pin(token_label: str) -> str | None:
    """The seal token's PIN held server-side: ``settings.SARABAN_SEAL_PINS`` or ``SARABAN_SEAL_PIN_<LABEL>``."""
    pins = getattr(settings, SEAL_PIN_SETTING, None) or {}
    if token_label in pins:
        return str(pins[token_label])
    env_name = SEAL_PIN_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", token_label.upper())
    return os.environ.get(env_name)


def open_key(certificate: SigningCertificate, secret: str) -> KeySource:
    """The key source of ``certificate``, ready to sign; ``KeyUnavailable`` on a wrong password or PIN.

    ``secret`` is the PKCS#12 password (file) or the PIN (token); for the organisation's seal the PIN
    is held server-side and ``secret`` is ignored (the caller has re-authenticated the person).
    """
    if not certificate.active:
        raise StateRefused(
            code="certificate.withdrawn",
            message_th="ใบรับรองนี้ถูกถอนจากทะเบียนแล้ว", message_en="This certificate was withdrawn from the registry",
        )
    key: KeySource
    if certificate.key_location == KeyLocation.FILE:
        if certificate.pkcs12 is None:
            raise KeyUnavailable(code="key.pkcs12_missing", message_th="ไม่พบไฟล์ใบรับรองในระบบ",
                                 message_en="The certificate file is missing")
        key = Pkcs12Key(read_file(certificate.pkcs12.sha256), secret, extra_certs=chain_of(certificate))
    elif certificate.key_location == KeyLocation.TOKEN:
        key = Pkcs11Key(certificate.pkcs11_lib, token_label=certificate.token_label, pin=secret,
                        key_label=certificate.key_label, extra_certs=chain_of(certificate))
    else:
        pin = seal_pin(certificate.token_label)
        if pin is None:
            raise KeyUnavailable(
                code="key.seal_pin_missing",
                message_th="ยังไม่ได้ตั้งค่า PIN ของตราประทับของหน่วยงานที่เครื่องแม่ข่าย",
                message_en=f"No server-side PIN is configured for the seal token {certificate.token_label!r}",
            )
        key = OrganisationSeal(certificate.pkcs11_lib, token_label=certificate.token_label, pin=pin,
                               key_label=certificate.key_label, extra_certs=chain_of(certificate))
    if fingerprint(key.certificate) != certificate.fingerprint_sha256:
        key.close()
        raise KeyUnavailable(
            code="key.certificate_changed",
            message_th="ใบรับรองในกุญแจไม่ตรงกับที่ลงทะเบียนไว้",
            message_en="The key's certificate is not the registered one",
        )
    return key


# -- revocation -------------------------------------------------------------------------------------


def check_revocation(
    certificate: SigningCertificate,
    *,
    trust_roots: Sequence[x509.Certificate] | None = None,
    allow_fetching: bool = True,
) -> SigningCertificate:
    """Ask the certificate's OCSP responder (then its CRL) whether it is revoked, and record the answer.

    ``trust_roots`` defaults to the configured trust roots; intermediates in it help build the path.
    Network trouble never raises: the status becomes "unknown" with source "none".
    """
    from .trust import trust_roots as configured_roots

    if trust_roots is None:
        try:
            trust_roots = configured_roots()
        except SarabanError as exc:
            log.warning("trust roots unreadable: %s", exc.code)
            trust_roots = []
    cert = x509.Certificate.load(bytes(certificate.certificate))
    try:
        answer, source = certificate_status(cert, chain_of(certificate), trust_roots=trust_roots,
                                            allow_fetching=allow_fetching, crls=local_crls())
    except Exception as exc:  # an event loop already running, a library bug: never the caller's problem
        log.warning("revocation check failed: %s", type(exc).__name__)
        answer, source = CertificateStatus.UNKNOWN, "none"
    status = RevocationStatus(answer.value)
    certificate.revocation_status = status
    certificate.revocation_source = source
    certificate.revocation_checked_at = timezone.now()
    certificate.save(update_fields=["revocation_status", "revocation_source", "revocation_checked_at"])
    return certificate


def days_left(certificate: SigningCertificate, *, at: dt.datetime | None = None) -> int:
    """Whole days from ``at`` (default now) until the certificate expires (negative once expired)."""
    moment = at or timezone.now()
    return (certificate.not_after - moment).days
