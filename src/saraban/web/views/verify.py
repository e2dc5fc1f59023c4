"""The public verification page (/verify): upload a signed PDF, or open it from the letter's QR code.

No sign-in is needed. An uploaded file is checked and forgotten (nothing is stored). A digest from
the QR code (``?d=<sha256>``) is looked up among the PDFs Saraban signed: the page then says who signed
which letter number when, and checks the stored PDF's own signatures, without showing its content.
Each client address may upload ``SARABAN_RATE_LIMITS["verify"]`` files (and look up a few times more
codes) a minute; beyond that the page answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import re

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from saraban.core.ratelimit import Refusal, limit
from saraban.documents.services import read_file
from saraban.signatures.models import Signature
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.trust import local_crls, trust_roots
from saraban.signatures.validation import present_report
from saraban.web.i18n import text

MAX_UPLOAD = 25 * 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _too_many(request: HttpRequest, refusal: Refusal, context: dict[str, object]) -> HttpResponse:
    minutes = -(-refusal.retry_after // 60)
    context["error"] = text(
        request, f"มีการตรวจสอบจากเครือข่ายนี้มากเกินกำหนด โปรดลองใหม่ในอีกประมาณ {minutes} นาที",
        f"Too many checks from this network address; try again in about {minutes} min",
    )
    response = render(request, "web/verify.html", context, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """ตรวจสอบลายมือชื่ออิเล็กทรอนิกส์: a report per signature, explained in Thai (or English)."""
    context: dict[str, object] = {"max_mb": MAX_UPLOAD // (1024 * 1024)}
    status = 200
    bucket = "verify" if request.method == "POST" else "verify-lookup" if request.GET.get("d") else ""
    if bucket and (refusal := limit(request, bucket)):
        return _too_many(request, refusal, context)
    if request.method == "POST":
        upload = request.FILES.get("pdf")
        if upload is None or not upload.size:
            context["error"] = text(request, "เลือกไฟล์ PDF ที่จะตรวจสอบ", "Choose the PDF to check")
            status = 400
        elif upload.size > MAX_UPLOAD:
            context["error"] = text(
                request, f"ไฟล์ใหญ่เกิน {context['max_mb']} MB", f"The file is larger than {context['max_mb']} MB"
            )
            status = 413
        else:
            context["report"] = verify_pdf(upload.read(), trust_roots(), crls=local_crls())
            context["filename"] = upload.name
    elif digest := request.GET.get("d", "").strip().lower():
        if not _DIGEST.match(digest):
            context["error"] = text(request, "รหัสตรวจสอบไม่ถูกต้อง", "This verification code is malformed")
            status = 400
        else:
            # The QR code carries the digest of the letter as rendered just before it was signed.
            signature = (
                Signature.objects.filter(Q(pdf_sha256=digest) | Q(rendered_sha256=digest))
                .select_related("letter__organisation", "signer").first()
            )
            if signature is None:
                context["error"] = text(
                    request, "ไม่พบเอกสารที่มีรหัสนี้ในระบบ เอกสารอาจถูกแก้ไขหรือไม่ได้ออกจากระบบนี้",
                    "No document with this code was signed here: it may have been changed, or come from elsewhere",
                )
                status = 404
            else:
                context["signature"] = signature
                context["report"] = verify_pdf(read_file(signature.pdf_sha256), trust_roots(), crls=local_crls())
    if "report" in context:
        context["shown"] = present_report(context["report"])  # type: ignore[arg-type]
    return render(request, "web/verify.html", context, status=status)
