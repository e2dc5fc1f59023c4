"""LTA renewal (ต่ออายุการประทับรับรองเวลา): keep an archived signed PDF validating for the long term.

Before the certificate of the newest timestamp in a PDF expires, the revocation data of that timestamp
is embedded in the document security store (DSS) and a new document timestamp is added on top, as an
incremental update: the earlier signatures and timestamps stay untouched and keep validating, because
the new timestamp proves that they existed (with their evidence) while they were still valid.

``add_archival_timestamp`` does one renewal with pyHanko as a library; ``newest_timestamp_expiry``
says when the next one is due. Neither touches the database.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asn1crypto import cms, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import timestamps
from pyhanko.sign.general import extract_certificate_info, find_unique_cms_attribute
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.validation import async_validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore, async_add_validation_info
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from saraban.core.errors import SarabanError

TSA_TIMEOUT = 10  # seconds for one request to the TSA

# pyHanko logs each failed path search with a traceback and warns about a first document timestamp;
# the caller gets a RenewalFailed that says what went wrong (as in verify.py).
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


class RenewalFailed(SarabanError):
    """The PDF could not be renewed (not a signed PDF, TSA unreachable, newest timestamp no longer valid…)."""


def _failed(code: str, th: str, en: str) -> RenewalFailed:
    return RenewalFailed(code=f"renewal.{code}", message_th=th, message_en=en)


def add_archival_timestamp(
    pdf: bytes,
    *,
    tsa_url: str | None,
    trust_roots: Sequence[x509.Certificate],
    allow_fetching: bool = True,
    timestamper: timestamps.TimeStamper | None = None,
) -> bytes:
    """Return ``pdf`` with the newest timestamp's revocation data in the DSS and a new document timestamp.

    The newest document timestamp must still validate against ``trust_roots`` (otherwise renewal is too
    late and ``RenewalFailed`` is raised). When the PDF has no document timestamp yet (B-T or B-LT), the
    validation data of every signature and its signature timestamp is embedded first, so that the result
    is a B-LTA file. ``timestamper`` replaces the HTTP client for ``tsa_url`` (e.g. an in-process TSA).
    Raises ``RenewalFailed`` with a Thai and English message; the input is never modified.
    """
    if timestamper is None:
        if not tsa_url:
            raise _failed("no_tsa", "ยังไม่ได้กำหนดหน่วยประทับรับรองเวลา (TSA)",
                          "No time-stamping authority (TSA) is configured")
        timestamper = timestamps.HTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT)
    reader = _read(pdf)
    vc = _validation_context(reader, trust_roots, allow_fetching)

    async def run() -> bytes:
        try:
            return await _renew(pdf, reader, vc, timestamper)
        finally:
            await vc.aclose()

    try:
        return asyncio.run(run())
    except SarabanError:
        raise
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if _looks_like_network(exc):
            raise _failed("tsa_unreachable", "ติดต่อหน่วยประทับรับรองเวลา (TSA) หรือบริการตรวจสอบการเพิกถอนไม่ได้",
                          f"The TSA or a revocation service could not be reached: {text}") from None
        raise _failed("failed", "เพิ่มการประทับรับรองเวลาไม่สำเร็จ",
                      f"The archival timestamp could not be added: {text}") from None


def newest_timestamp_expiry(pdf: bytes) -> datetime | None:
    """When the certificate of the TSA of the newest timestamp ends (``None``: no timestamp, unreadable).

    The newest document timestamp counts; without one, the signature timestamps do, and the earliest
    expiry among them is returned (each signature timestamp protects only its own signature).
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if reader.encrypted:
            return None
        doc_timestamps = list(reader.embedded_timestamp_signatures)
        if doc_timestamps:
            return _not_after(_tsa_cert(doc_timestamps[-1].signed_data))
        ends = [
            _not_after(_tsa_cert(token["content"]))
            for sig in reader.embedded_regular_signatures
            if (token := _signature_timestamp(sig)) is not None
        ]
    except Exception:
        return None
    return min(ends) if ends else None


def _read(pdf: bytes) -> PdfFileReader:
    if b"%PDF-" not in pdf[:1024]:
        raise _failed("unreadable", "ไฟล์นี้ไม่ใช่ PDF", "The file is not a PDF")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        encrypted = reader.encrypted
        signed = list(reader.embedded_signatures)
    except Exception as exc:
        raise _failed("unreadable", "อ่านไฟล์ PDF ไม่ได้",
                      f"The PDF cannot be read: {type(exc).__name__}: {exc}") from None
    if encrypted:
        raise _failed("encrypted", "ไม่สามารถต่ออายุไฟล์ PDF ที่เข้ารหัสไว้", "Encrypted PDFs cannot be renewed")
    if not signed:
        raise _failed("not_signed", "ไฟล์นี้ไม่มีลายมือชื่อดิจิทัลหรือการประทับรับรองเวลา",
                      "The PDF has no signature or timestamp to renew")
    return reader


def _validation_context(
    reader: PdfFileReader, roots: Sequence[x509.Certificate], allow_fetching: bool
) -> ValidationContext:
    kwargs: dict[str, Any] = {"trust_roots": list(roots), "allow_fetching": allow_fetching}
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:
        dss = None
    if dss is not None:
        kwargs["other_certs"] = list(dss.load_certs())
        if not allow_fetching:
            # Offline: only what the file already carries can be re-embedded.
            kwargs["crls"] = list(dss.crls)
            kwargs["ocsps"] = list(dss.ocsps)
    # Online, a certificate whose revocation service answers "revoked" or cannot be checked although it
    # names one must stop the renewal: a new timestamp over unproven evidence would be worthless.
    kwargs["revocation_mode"] = "hard-fail" if allow_fetching else "soft-fail"
    return ValidationContext(**kwargs)


async def _renew(
    pdf: bytes, reader: PdfFileReader, vc: ValidationContext, timestamper: timestamps.TimeStamper
) -> bytes:
    doc_timestamps = list(reader.embedded_timestamp_signatures)
    if doc_timestamps:
        await _require_valid(doc_timestamps[-1], vc)
    else:
        # B-T / B-LT: first make the signatures' own evidence long-term (what B-LT adds), one
        # incremental update per signature, then the first document timestamp on top.
        for index in range(len(reader.embedded_regular_signatures)):
            current = PdfFileReader(io.BytesIO(pdf), strict=False)
            sig = current.embedded_regular_signatures[index]
            out = await async_add_validation_info(sig, vc, in_place=False, output=io.BytesIO())
            pdf = out.getvalue()
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamper = PdfTimeStamper(timestamper)
    # pyHanko validates the newest document timestamp again, puts its revocation data in the DSS and
    # appends the new timestamp (followed by the DSS update for the new TSA's chain).
    result = await stamper.async_update_archival_timestamp_chain(reader, vc, in_place=False, output=io.BytesIO())
    assert isinstance(result, io.BytesIO)
    return result.getvalue()


async def _require_valid(doc_timestamp: EmbeddedPdfSignature, vc: ValidationContext) -> None:
    status = await async_validate_pdf_timestamp(doc_timestamp, validation_context=vc)
    if not (status.intact and status.valid):
        raise _failed("timestamp_broken", "การประทับรับรองเวลาล่าสุดในไฟล์ไม่ถูกต้อง (ไฟล์ถูกแก้ไข)",
                      "The newest document timestamp does not match the file (the file was altered)")
    if not status.trusted:
        raise _failed("timestamp_untrusted",
                      "การประทับรับรองเวลาล่าสุดตรวจสอบไม่ผ่านแล้ว (ใบรับรองหมดอายุ ถูกเพิกถอน หรือไม่น่าเชื่อถือ) ต่ออายุไม่ได้",
                      "The newest document timestamp no longer validates (expired, revoked or untrusted "
                      f"certificate: {_name_of(status.trust_problem_indic)}); it is too late to renew")


def _name_of(indication: Any) -> str:
    return str(getattr(indication, "name", indication))


def _signature_timestamp(sig: EmbeddedPdfSignature) -> cms.ContentInfo | None:
    try:
        token: cms.ContentInfo = find_unique_cms_attribute(
            sig.signer_info["unsigned_attrs"], "signature_time_stamp_token"
        )
    except Exception:  # no (or more than one) timestamp token
        return None
    return token


def _tsa_cert(signed_data: cms.SignedData) -> x509.Certificate:
    cert: x509.Certificate = extract_certificate_info(signed_data).signer_cert
    return cert


def _not_after(cert: x509.Certificate) -> datetime:
    moment: datetime = cert["tbs_certificate"]["validity"]["not_after"].native
    return moment


def _looks_like_network(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        module = type(current).__module__
        if module.startswith("aiohttp") or isinstance(current, OSError | TimeoutError) or "Timeout" in name:
            return True
        if "TimestampRequestError" in name or "unreachable" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False
