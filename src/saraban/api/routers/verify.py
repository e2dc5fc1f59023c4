"""Signature verification: check any signed PDF (public), and the report kept when a letter was received.

``POST /api/verify`` gives the same JSON as ``saraban verify --json`` (one report per signature, in the
ETSI EN 319 102-1 vocabulary, explained in Thai and English) plus ``explained``: the texts the pages
show. The upload is checked and forgotten; each client address may send
``SARABAN_RATE_LIMITS["verify"]`` uploads a minute (429 with ``Retry-After`` beyond, refused before the
upload is read). ``GET /api/inbox/{id}/validation`` gives the report stored
on receipt, as it was then: the letter is found through the inbox's access rules (404 otherwise).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import File, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from saraban.core.ratelimit import limit
from saraban.inbox.models import IncomingSource
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.trust import local_crls, trust_roots
from saraban.signatures.validation import present_report, record_for

from ..auth import person_of
from ..errors import error_body
from ..schemas import ERRORS, Error, Id
from . import visible_incoming

router = Router(tags=["verify"])
# The public page allows 25 MB; a signed letter with its enclosures is rarely above a few MB.
MAX_VERIFY_BYTES = 20 * 1024 * 1024


class NotCovered(Schema):
    """A stretch of the file after a signature's signed bytes: a later revision, or trailing data."""

    start: int
    end: int
    bytes: int
    what: Literal["revision", "trailing_data"]
    revision: int | None = None
    changes: list[str] = []


class SignatureReport(Schema):
    """One signature or document timestamp (``saraban verify --json``)."""

    field_name: str
    kind: str
    indication: str
    sub_indication: str | None = None
    signer: str | None = None
    signer_certificate: dict[str, str] = {}
    chain: list[str] = []
    trust_anchor: str | None = None
    revocation_status: str
    revocation_source: str
    signing_time: str | None = None
    timestamp: str | None = None
    timestamp_trusted: bool | None = None
    covers: str
    revision: int | None = None
    revisions_total: int | None = None
    modifications: str | None = None
    not_covered: list[NotCovered] = []
    replaced_fields: list[str] = []
    level: str | None = None
    details: list[str] = []
    explanation_th: str
    explanation_en: str


class ExplainedSignature(Schema):
    """What the pages show of one signature, in Thai and English."""

    field_name: str
    kind_th: str
    kind_en: str
    indication: str
    sub_indication: str
    signer: str
    trust_anchor: str
    level: str
    when_th: str
    when_en: str
    revocation_th: str
    revocation_en: str
    modifications_th: str
    modifications_en: str
    reason_th: str
    reason_en: str
    not_covered_th: str = ""
    not_covered_en: str = ""
    explanation_th: str
    explanation_en: str


class Explained(Schema):
    """The overall verdict in words, and each signature's texts."""

    indication: str
    sub_indication: str
    verdict_th: str
    verdict_en: str
    problem: str
    signatures: list[ExplainedSignature]


class ReportOut(Schema):
    """A validation report: ``saraban verify --json`` and, for uploads, ``explained``."""

    indication: str
    sub_indication: str | None = None
    sha256: str | None = None
    problem: str | None = None
    explanation_th: str
    explanation_en: str
    signatures: list[SignatureReport]
    seconds: float | None = None
    explained: Explained | None = None


class ValidationOut(Schema):
    """The validation report kept with an incoming letter when it was received."""

    incoming_id: int
    status: Literal["validated", "pending", "not_applicable"]
    indication: str | None = None  # TOTAL_PASSED / INDETERMINATE / TOTAL_FAILED / NO_SIGNATURE
    sub_indication: str | None = None
    signature_count: int = 0
    validated_at: str | None = None
    report: ReportOut | None = None


def _too_large() -> Status[dict[str, object]]:
    mb = MAX_VERIFY_BYTES // (1024 * 1024)
    return Status(413, error_body(
        "verify.too_large", f"ไฟล์ใหญ่เกิน {mb} MB ตรวจสอบไม่ได้", f"The file is larger than {mb} MB",
    ))


def _rate_limited(run: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a client over ``SARABAN_RATE_LIMITS["verify"]`` with 429 before its upload is read."""

    @functools.wraps(run)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        refusal = limit(request, "verify")
        if refusal is None:
            return run(request, *args, **kwargs)
        minutes = -(-refusal.retry_after // 60)
        body = error_body(
            "rate_limited", f"มีการตรวจสอบจากเครือข่ายนี้มากเกินกำหนด โปรดลองใหม่ในอีกประมาณ {minutes} นาที",
            f"Too many checks from this network address; try again in about {minutes} min",
        )
        api = getattr(router, "api", None)  # the NinjaAPI this router is mounted on: its JSON renderer
        response: HttpResponse = (
            api.create_response(request, body, status=429) if api is not None else JsonResponse(body, status=429)
        )
        response["Retry-After"] = str(refusal.retry_after)
        return response

    return limited


@router.post(
    "/verify", auth=None, response={200: ReportOut, 413: Error, 429: Error, **ERRORS},
    summary="Verify the signatures of a PDF (public)",
)
@decorate_view(_rate_limited)
def verify_upload(request: HttpRequest, pdf: File[UploadedFile]) -> Any:
    """ตรวจสอบลายมือชื่อ: multipart upload ``pdf`` (at most 20 MB); no sign-in; nothing is kept.

    A damaged, truncated, encrypted or non-PDF file gets a report that says so (200), an empty upload
    a 400 error and a larger one 413; more than ``SARABAN_RATE_LIMITS["verify"]`` uploads a minute from
    one address get 429 with ``Retry-After`` (seconds).
    """
    size = pdf.size or 0
    if size > MAX_VERIFY_BYTES:
        return _too_large()
    data = pdf.read(MAX_VERIFY_BYTES + 1)
    if len(data) > MAX_VERIFY_BYTES:
        return _too_large()
    if not data:  # a well-formed upload with nothing in it to check (422)
        return Status(422, error_body(
            "verify.empty", "ไฟล์ว่างเปล่า เลือกไฟล์ PDF ที่จะตรวจสอบ", "The file is empty: choose the PDF to check",
        ))
    report = verify_pdf(data, trust_roots(), crls=local_crls())
    body = report.to_json()
    body["seconds"] = report.seconds
    body["explained"] = present_report(body)
    return body


@router.get(
    "/inbox/{int:incoming_id}/validation", response={200: ValidationOut, **ERRORS},
    summary="The validation report stored on receipt",
)
def incoming_validation(request: HttpRequest, incoming_id: Id) -> dict[str, Any]:
    """The signatures' validation report computed when the letter was received, kept as it was then.

    ``status`` is ``pending`` until the background check has run and ``not_applicable`` for letters
    registered from paper.
    """
    incoming = visible_incoming(person_of(request), incoming_id)
    out: dict[str, Any] = {"incoming_id": incoming.pk}
    record = record_for(incoming.validation_id, organisation_id=incoming.organisation_id)
    if record is None:
        out["status"] = "pending" if incoming.source == IncomingSource.ELECTRONIC else "not_applicable"
        return out
    out.update(
        status="validated", indication=record.indication, sub_indication=record.sub_indication or None,
        signature_count=record.signature_count, validated_at=record.validated_at.isoformat(),
        report={**record.report, "explained": present_report(record.report)},
    )
    return out
