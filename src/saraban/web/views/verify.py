"""The public verification page (/verify): upload a signed PDF, or open it from the letter's QR code.

No sign-in is needed. An uploaded file is checked and forgotten (nothing is stored). A digest from
the QR code (``?d=<sha256>``) is looked up among the PDFs Saraban signed: the page then says who signed
which letter number when, and checks the stored PDF's own signatures, without showing its content.
"""

from __future__ import annotations

import re

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from saraban.documents.services import read_file
from saraban.signatures.models import Signature
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.trust import trust_roots
from saraban.signatures.validation import present_report
from saraban.web.i18n import text

MAX_UPLOAD = 25 * 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """ตรวจสอบลายมือชื่ออิเล็กทรอนิกส์: a report per signature, explained in Thai (or English)."""
    context: dict[str, object] = {"max_mb": MAX_UPLOAD // (1024 * 1024)}
    status = 200
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
            context["report"] = verify_pdf(upload.read(), trust_roots())
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
                context["report"] = verify_pdf(read_file(signature.pdf_sha256), trust_roots())
    if "report" in context:
        context["shown"] = present_report(context["report"])  # type: ignore[arg-type]
    return render(request, "web/verify.html", context, status=status)
