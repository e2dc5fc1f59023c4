"""Routes of the certificate registry pages (ใบรับรองอิเล็กทรอนิกส์), under ``/certificates/``."""

from django.urls import path

from .views import certificates

urlpatterns = [
    path("", certificates.my_certificates, name="certificates"),
    path("organisation/", certificates.organisation_page, name="certificates-organisation"),
    path("organisation/policy/", certificates.signing_policy, name="certificates-policy"),
    path("<int:pk>/withdraw/", certificates.withdraw_certificate, name="certificate-withdraw"),
    path("<int:pk>/check/", certificates.check_certificate, name="certificate-check"),
    path("notices/<int:pk>/read/", certificates.read_notice, name="certificate-notice-read"),
]
