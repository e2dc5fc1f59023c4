"""ใบรับรองอิเล็กทรอนิกส์: my certificates, the organisation's signing readiness, expiry notices.

``/certificates/`` shows the signed-in person's own registrations, lets them upload a PKCS#12 file
for the acting organisation, withdraw a registration and check revocation now, and lists their
unread expiry warnings. ``/certificates/organisation/`` shows who can sign now and who cannot: in full
for the organisation's administrators; a signer or holder sees only their own row; others get 403.
Every write goes through ``saraban.signatures.registry`` / ``notices``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from saraban.access.policy import has_role
from saraban.core.errors import PermissionRefused, SarabanError
from saraban.core.labels import pair
from saraban.directory.models import Person, Role
from saraban.signatures import registry, selectors
from saraban.signatures.models import ExpiryNotice, SigningCertificate
from saraban.signatures.notices import mark_read, unread_notices
from saraban.signatures.pades.sign import LEVELS
from saraban.signatures.policy import certifies, set_signing_level, signing_level, tsa_url
from saraban.web.context_processors import acting_organisation
from saraban.web.forms.base import BilingualForm
from saraban.web.i18n import text

from . import errors

NOTICES_ON_HOME = 5
EXPIRING_WITHIN_DAYS = 90
USAGE_LABELS = {
    "digital_signature": ("ลายมือชื่อดิจิทัล", "digital signature"),
    "non_repudiation": ("ห้ามปฏิเสธความรับผิด", "non-repudiation"),
    "key_encipherment": ("เข้ารหัสกุญแจ", "key encipherment"),
    "data_encipherment": ("เข้ารหัสข้อมูล", "data encipherment"),
    "key_agreement": ("แลกเปลี่ยนกุญแจ", "key agreement"),
    "key_cert_sign": ("ออกใบรับรอง", "certificate signing"),
    "crl_sign": ("ลงนาม CRL", "CRL signing"),
}


def _person(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)
    return request.user


def _forbidden(request: HttpRequest, th: str, en: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {
        "reason": text(request, th, en), "back": "/certificates/",
        "back_label": text(request, "กลับไปที่ใบรับรองของฉัน", "Back to my certificates"),
    }, status=403)


@dataclass
class CertificateRow:
    """A registration as a page shows it: the row, days left and its key usages in words."""

    certificate: SigningCertificate
    days_left: int
    usages: str
    subject_name: str = ""  # the common names: the full names are in the cells' titles
    issuer_name: str = ""

    @property
    def expired(self) -> bool:
        """Past its ``not_after``."""
        return self.days_left < 0


def _rows(request: HttpRequest, certificates: Any, now: dt.datetime) -> list[CertificateRow]:
    rows = []
    for cert in certificates:
        names = [n for n in cert.key_usage.split(",") if n]
        usages = ", ".join(text(request, *USAGE_LABELS.get(n, (n, n))) for n in names)
        parsed = asn1_x509.Certificate.load(bytes(cert.certificate))
        rows.append(CertificateRow(
            cert, selectors.days_until(cert.not_after, now), usages,
            registry.common_name(parsed.subject), registry.common_name(parsed.issuer),
        ))
    return rows


class Pkcs12UploadForm(BilingualForm):
    """A PKCS#12 file and its password (used once to open the file, never kept)."""

    labels = {
        "file": ("ไฟล์ใบรับรอง (.p12 หรือ .pfx)", "Certificate file (.p12 or .pfx)"),
        "password": ("รหัสผ่านของไฟล์ใบรับรอง", "The file's password"),
        "label": ("ชื่อเรียก (ไม่บังคับ)", "Name (optional)"),
    }
    file = forms.FileField()
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False)
    label = forms.CharField(max_length=255, required=False)

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        no_file = self.t("ไม่ได้แนบไฟล์", "No file was submitted")
        self.fields["file"].error_messages.update({
            "empty": self.t("ไฟล์ว่างเปล่า", "The file is empty"), "invalid": no_file, "missing": no_file,
        })
        self.fields["file"].widget.attrs["accept"] = ".p12,.pfx,application/x-pkcs12"
        self.fields["password"].widget.attrs["autocomplete"] = "off"


def _my_page(request: HttpRequest, form: Pkcs12UploadForm, status: int = 200) -> HttpResponse:
    person = _person(request)
    now = timezone.now()
    context = {
        "rows": _rows(request, selectors.certificates_of(person), now),
        "form": form,
        "organisation": acting_organisation(request),
        "notices": list(unread_notices(person)),
        "is_admin": _administers(request),
    }
    return render(request, "web/certificates/mine.html", context, status=status)


def _administers(request: HttpRequest) -> bool:
    org = acting_organisation(request)
    return org is not None and has_role(_person(request), org, Role.ORG_ADMIN)


@sensitive_post_parameters("password")
@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    """ใบรับรองของฉัน: my registrations and notices; POST uploads a PKCS#12 file."""
    person = _person(request)
    if request.method != "POST":
        return _my_page(request, Pkcs12UploadForm(request=request))
    form = Pkcs12UploadForm(request.POST, request.FILES, request=request)
    organisation = acting_organisation(request)
    if organisation is None:
        form.add_error(None, text(request, "ท่านยังไม่ได้สังกัดหน่วยงานใด จึงลงทะเบียนใบรับรองไม่ได้",
                                  "You hold no role in any organisation, so you cannot register a certificate"))
    if form.is_valid() and organisation is not None:
        upload = form.cleaned_data["file"]
        if upload.size is not None and upload.size > registry.MAX_PKCS12_BYTES:
            form.add_error("file", text(request, "ไฟล์ใบรับรองใหญ่เกินไป (เกิน 1 MB)",
                                        "The certificate file is too large (over 1 MB)"))
        else:
            try:
                cert = registry.register_pkcs12(
                    organisation=organisation, holder=person, data=upload.read(),
                    password=form.cleaned_data["password"], actor=person, label=form.cleaned_data["label"],
                )
            except SarabanError as exc:
                _add_problems(request, form, exc)
            else:
                messages.success(request, text(request, f"ลงทะเบียนใบรับรองแล้ว: {cert.subject}",
                                               f"Certificate registered: {cert.subject}"))
                return HttpResponseRedirect("/certificates/")
    return _my_page(request, form, status=400)


def _add_problems(request: HttpRequest, form: forms.Form, exc: SarabanError) -> None:
    if not exc.problems:
        form.add_error(None, text(request, exc.message_th, exc.message_en))
    for problem in exc.problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, text(request, problem.message_th, problem.message_en))


def _managed(request: HttpRequest, pk: int) -> SigningCertificate:
    """The registration ``pk`` if the person may manage it; 404 otherwise (its existence is not told)."""
    cert = SigningCertificate.objects.select_related("organisation", "holder").filter(pk=pk).first()
    if cert is None or not registry.may_manage(_person(request), cert):
        raise Http404("no such certificate")
    return cert


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not target.startswith("/certificates/") or "//" in target:
        target = "/certificates/"
    return HttpResponseRedirect(target)


@require_POST
@login_required
def withdraw_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a registration (its holder or an administrator of its organisation)."""
    cert = _managed(request, pk)
    try:
        registry.withdraw(cert, actor=_person(request))
    except PermissionRefused as exc:
        return _forbidden(request, exc.message_th, exc.message_en)
    messages.success(request, text(request, "ถอนใบรับรองออกจากทะเบียนแล้ว", "The certificate was withdrawn"))
    return _back(request)


@require_POST
@login_required
def check_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the certificate's OCSP responder (or CRL) now and show the answer."""
    cert = registry.check_revocation(_managed(request, pk))
    th, en = pair(cert.get_revocation_status_display())
    messages.success(request, text(request, f"ผลการตรวจสอบการเพิกถอน: {th}", f"Revocation check: {en}"))
    return _back(request)


@require_POST
@login_required
def read_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my expiry warnings as read."""
    person = _person(request)
    notice = ExpiryNotice.objects.filter(pk=pk, recipient=person).first()
    if notice is None:
        raise Http404("no such notice")
    mark_read(notice, actor=person)
    target = request.POST.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = "/certificates/"
    return HttpResponseRedirect(target)


@require_GET
@login_required
def organisation_page(request: HttpRequest) -> HttpResponse:
    """Who can sign now and who cannot, the seals, and what expires within 90 days (acting organisation)."""
    person = _person(request)
    org = acting_organisation(request)
    if org is None:
        return _forbidden(request, "ท่านยังไม่ได้สังกัดหน่วยงานใด", "You hold no role in any organisation")
    admin = has_role(person, org, Role.ORG_ADMIN)
    readiness = selectors.who_can_sign(org)
    own = selectors.organisation_certificates(org).filter(holder=person)
    if not admin:
        readiness = [r for r in readiness if r.person.pk == person.pk]
        if not readiness and not own.exists():
            return _forbidden(
                request, "หน้านี้สำหรับผู้ดูแลหน่วยงาน ผู้ลงนาม และผู้ถือใบรับรองของหน่วยงาน",
                "This page is for the organisation's administrators, signers and certificate holders",
            )
    now = timezone.now()
    expiring = selectors.expiring_certificates(org, within_days=EXPIRING_WITHIN_DAYS, at=now)
    if not admin:
        expiring = expiring.filter(holder=person)
    context = {
        "org": org,
        "admin": admin,
        "readiness": readiness,
        "able": sum(1 for r in readiness if r.can_sign_now),
        "seals": _rows(request, selectors.seals_of(org), now),
        "expiring": _rows(request, expiring, now),
        "within": EXPIRING_WITHIN_DAYS,
        "level": signing_level(org.pk), "certify": certifies(org.pk), "levels": LEVELS, "tsa": bool(tsa_url()),
    }
    return render(request, "web/certificates/organisation.html", context)


@require_POST
@login_required
def signing_policy(request: HttpRequest) -> HttpResponse:
    """The organisation's PAdES level and certification, chosen by its administrators."""
    org = acting_organisation(request)
    if org is None:
        raise Http404
    try:
        set_signing_level(org, request.POST.get("level", ""), actor=_person(request),
                          certify=request.POST.get("certify") == "on")
    except SarabanError as exc:
        detail = "; ".join(errors.message_of(request, p) for p in exc.problems) or errors.message_of(request, exc)
        messages.error(request, detail)
    else:
        messages.success(request, text(request, "บันทึกระดับลายมือชื่อแล้ว", "The signature level is saved"))
    return HttpResponseRedirect("/certificates/organisation/")


def notices_for(request: HttpRequest) -> list[ExpiryNotice]:
    """The signed-in person's unread expiry warnings (at most five) for ``_notices.html``; [] otherwise."""
    user = getattr(request, "user", None)
    if not isinstance(user, Person) or not user.is_authenticated:
        return []
    return list(unread_notices(user)[:NOTICES_ON_HOME])

