"""Validation reports kept as they were computed: on receipt of a signed letter (ผลการตรวจสอบ ณ วันที่รับ).

``validate_and_record`` runs ``verify_pdf`` on a stored PDF with the configured trust roots and keeps the
JSON report (the ``saraban verify --json`` format) in a ``ValidationRecord``. The record is never
recomputed: when the signer's certificate later expires or is revoked, or the trust roots change, the
record still says what the letter's signatures were worth when it arrived.

A PDF without any signature (a typed-name letter, ลงนามด้วยการพิมพ์ชื่อ) is recorded as ``NO_SIGNATURE``;
a broken or unreadable file is recorded with its failure. Nothing here raises on bad input.

``present_report`` turns a stored (or fresh) report into what the pages show, in Thai and English.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from asn1crypto import x509
from django.conf import settings
from django.utils import timezone

from saraban.core.errors import SarabanError
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file

from .models import ValidationRecord
from .pades.report import (
    _MODIFICATIONS_EN,
    _MODIFICATIONS_TH,
    CONTENT_BROKEN,
    SUB_INDICATION_TEXT,
    Indication,
    Modifications,
    Report,
    not_covered_text,
    thai_datetime,
)
from .pades.verify import NOT_A_PDF, verify_pdf
from .trust import local_crls, trust_roots

logger = logging.getLogger(__name__)

# Not an ETSI indication: the file carries no digital signature at all, so there is nothing to validate.
NO_SIGNATURE = "NO_SIGNATURE"
NO_SIGNATURE_TH = (
    "หนังสือฉบับนี้ไม่มีลายมือชื่อดิจิทัล (เช่น ลงนามด้วยการพิมพ์ชื่อในระบบที่ยืนยันตัวตน) "
    "จึงไม่มีลายมือชื่อที่ต้องตรวจสอบกับใบรับรอง"
)
NO_SIGNATURE_EN = (
    "This letter carries no digital signature (e.g. a typed-name signature in a verified system), "
    "so there is no signature to check against a certificate"
)
INDICATIONS = (*[str(i) for i in Indication], NO_SIGNATURE)

_REVOCATION_TH = {"good": "ไม่ถูกเพิกถอน", "revoked": "ถูกเพิกถอน", "not_checked": "ไม่ได้ตรวจสถานะการเพิกถอน"}
_REVOCATION_EN = {"good": "not revoked", "revoked": "revoked", "not_checked": "revocation not checked"}
_SOURCE_TH = {"embedded": "ข้อมูลที่ฝังในเอกสาร", "fetched": "สอบถามจากผู้ออกใบรับรอง (OCSP/CRL)"}
_SOURCE_EN = {"embedded": "data embedded in the document", "fetched": "fetched from the CA (OCSP/CRL)"}
_KIND_TH = {"signature": "ลายมือชื่อ", "certification": "ลายมือชื่อรับรองเอกสาร",
            "document_timestamp": "ตราประทับเวลาของเอกสาร"}
_KIND_EN = {"signature": "signature", "certification": "certification signature",
            "document_timestamp": "document timestamp"}


def is_unsigned(report: Report) -> bool:
    """Whether ``report`` says the file was read and holds no signature at all."""
    return not report.signatures and report.sub_indication == "SIGNED_DATA_NOT_FOUND"


def report_json(report: Report) -> dict[str, Any]:
    """The JSON kept in a record: ``Report.to_json()``, with ``NO_SIGNATURE`` for an unsigned file."""
    data = report.to_json()
    data["seconds"] = report.seconds
    if is_unsigned(report):
        data.update(
            indication=NO_SIGNATURE, sub_indication=None,
            explanation_th=NO_SIGNATURE_TH, explanation_en=NO_SIGNATURE_EN,
        )
    return data


def _configured_fetching() -> bool:
    # On by default: without the signer's revocation status a signature cannot be TOTAL_PASSED (B-LT
    # and B-LTA letters carry theirs; B-B and B-T need an answer from the CA). Off for a server that
    # must never reach out (SARABAN_VALIDATION_FETCH = False): their status is then TRY_LATER.
    return bool(getattr(settings, "SARABAN_VALIDATION_FETCH", True))


def validate_and_record(
    pdf: StoredFile,
    *,
    organisation_id: int,
    at: dt.datetime | None = None,
    roots: Sequence[x509.Certificate] | None = None,
    allow_fetching: bool | None = None,
) -> ValidationRecord:
    """Validate the stored ``pdf`` for ``organisation_id`` and keep the report; never raises on bad files.

    ``at`` is the moment recorded as ``validated_at`` (now by default); ``roots`` the trust roots (the
    configured ones by default); ``allow_fetching`` whether OCSP/CRL are asked (setting
    ``SARABAN_VALIDATION_FETCH``, off by default).
    """
    moment = at or timezone.now()
    fetching = _configured_fetching() if allow_fetching is None else allow_fetching
    data = _validate(pdf, roots, fetching)
    return ValidationRecord.objects.create(
        organisation_id=organisation_id, pdf=pdf, indication=data["indication"],
        sub_indication=data.get("sub_indication") or "", signature_count=len(data.get("signatures") or []),
        report=data, validated_at=moment,
    )


def _validate(pdf: StoredFile, roots: Sequence[x509.Certificate] | None, fetching: bool) -> dict[str, Any]:
    try:
        content = read_file(pdf.sha256)
    except Exception as exc:  # a missing or damaged blob is recorded, not raised
        logger.warning("validation: stored file %s cannot be read: %s", pdf.sha256, type(exc).__name__)
        return _problem(Indication.TOTAL_FAILED, "FORMAT_FAILURE", "the stored file cannot be read", pdf.sha256)
    if roots is None:
        try:
            roots = trust_roots()
        except SarabanError as exc:
            # A configuration problem, not the letter's: recorded as "cannot be confirmed" with the reason.
            logger.error("validation: trust roots unavailable: %s", exc.message_en)
            return _problem(Indication.INDETERMINATE, "GENERIC", f"trust roots unavailable: {exc.message_en}",
                            pdf.sha256)
    return report_json(verify_pdf(content, roots, allow_fetching=fetching, crls=local_crls()))


def _problem(indication: Indication, sub: str, problem: str, sha256: str) -> dict[str, Any]:
    return report_json(Report(indication=indication, sub_indication=sub, problem=problem, sha256=sha256))


# --- selectors -------------------------------------------------------------------------------------

def record_for(record_id: int | None, *, organisation_id: int) -> ValidationRecord | None:
    """The record ``record_id`` if it belongs to ``organisation_id`` (``None`` otherwise or when unset)."""
    if record_id is None:
        return None
    return ValidationRecord.objects.filter(pk=record_id, organisation_id=organisation_id).first()


def records_of_pdf(sha256: str, *, organisation_id: int) -> list[ValidationRecord]:
    """Every record kept by ``organisation_id`` for the PDF ``sha256``, newest first."""
    return list(ValidationRecord.objects.filter(pdf_id=sha256, organisation_id=organisation_id))


def record_json(record: ValidationRecord) -> dict[str, Any]:
    """A record as the API gives it: its columns and the stored report, unchanged."""
    return {
        "id": record.pk,
        "indication": record.indication,
        "sub_indication": record.sub_indication or None,
        "signature_count": record.signature_count,
        "validated_at": record.validated_at.isoformat(),
        "pdf_sha256": record.pdf_id,
        "report": record.report,
    }


# --- presentation ----------------------------------------------------------------------------------

_TONES = {"TOTAL_PASSED": "ok", "INDETERMINATE": "warn", NO_SIGNATURE: "neutral"}


def present_report(report: Report | dict[str, Any]) -> dict[str, Any]:
    """What the pages show of a report (stored JSON or fresh ``Report``), every text in Thai and English.

    ``verdict_th``/``verdict_en`` is the overall line; each entry of ``signatures`` has the signer, the
    level, when it was signed, revocation status and source, modifications and the explanation.
    """
    data = report_json(report) if isinstance(report, Report) else report
    indication = str(data.get("indication") or Indication.INDETERMINATE)
    signatures = [_present_signature(s) for s in data.get("signatures") or []]
    verdict_th = str(data.get("explanation_th") or "").split("\n", 1)[0]
    verdict_en = str(data.get("explanation_en") or "").split("\n", 1)[0]
    not_a_pdf = data.get("problem") == NOT_A_PDF  # e.g. a .txt: nothing was signed, so nothing "failed"
    if not_a_pdf:
        verdict_th = "ไฟล์นี้ไม่ใช่ PDF จึงไม่มีลายมือชื่อดิจิทัลให้ตรวจสอบ โปรดเลือกไฟล์ PDF ของหนังสือ"
        verdict_en = "This file is not a PDF, so it holds no digital signature to check: choose the letter's PDF"
    return {
        "indication": indication,
        "sub_indication": data.get("sub_indication") or "",
        "tone": "neutral" if not_a_pdf else _TONES.get(indication, "bad"),
        "not_a_pdf": not_a_pdf,
        "verdict_th": verdict_th, "verdict_en": verdict_en,
        "problem": data.get("problem") or "",
        "signatures": signatures,
        "sha256": data.get("sha256") or "",
    }


def _present_signature(s: dict[str, Any]) -> dict[str, Any]:
    indication = str(s.get("indication") or "")
    sub = s.get("sub_indication") or ""
    kind = str(s.get("kind") or "signature")
    when_th = when_en = ""
    if moment := s.get("timestamp") or s.get("signing_time"):
        when_th, when_en = _thai_time(str(moment)), str(moment)
        if not s.get("timestamp"):
            when_th += " (ตามที่ผู้ลงนามระบุ)"
            when_en += " (as claimed by the signer)"
        else:
            when_th += " (ตราประทับเวลา)"
            when_en += " (timestamp)"
    status = str(s.get("revocation_status") or "not_checked")
    source = str(s.get("revocation_source") or "none")
    revocation_th = _REVOCATION_TH.get(status, status)
    revocation_en = _REVOCATION_EN.get(status, status)
    if source in _SOURCE_TH:
        revocation_th += f" ({_SOURCE_TH[source]})"
        revocation_en += f" ({_SOURCE_EN[source]})"
    modifications_th = modifications_en = "—"
    if sub in CONTENT_BROKEN:
        modifications_th, modifications_en = "เนื้อหาที่ลงนามถูกแก้ไข", "the signed content was changed"
    elif raw := s.get("modifications"):
        try:
            mod = Modifications(raw)
            modifications_th, modifications_en = _MODIFICATIONS_TH[mod], _MODIFICATIONS_EN[mod]
        except ValueError:
            modifications_th = modifications_en = str(raw)
    reason_th, reason_en = SUB_INDICATION_TEXT.get(sub, (sub, sub)) if sub else ("", "")
    not_covered = s.get("not_covered") or []
    return {
        "field_name": s.get("field_name") or "",
        "kind_th": _KIND_TH.get(kind, kind), "kind_en": _KIND_EN.get(kind, kind),
        "indication": indication, "sub_indication": sub,
        "tone": _TONES.get(indication, "bad"),
        "signer": s.get("signer") or "",
        "trust_anchor": s.get("trust_anchor") or "",
        "level": s.get("level") or "",
        "when_th": when_th, "when_en": when_en,
        "revocation_th": revocation_th, "revocation_en": revocation_en,
        "modifications_th": modifications_th, "modifications_en": modifications_en,
        "reason_th": reason_th, "reason_en": reason_en,
        "not_covered_th": not_covered_text(not_covered, thai=True) if not_covered else "",
        "not_covered_en": not_covered_text(not_covered, thai=False) if not_covered else "",
        "explanation_th": s.get("explanation_th") or "", "explanation_en": s.get("explanation_en") or "",
    }


def _thai_time(text: str) -> str:
    try:
        return thai_datetime(dt.datetime.fromisoformat(text))
    except ValueError:
        return text
