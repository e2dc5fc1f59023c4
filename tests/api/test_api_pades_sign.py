"""Signing through the API with a registered certificate (PAdES): numbered as signed; bad choices refused."""

from __future__ import annotations

import pytest
from django.test import override_settings

from saraban.correspondence.models import Letter, LetterStatus
from saraban.directory.models import Organisation
from saraban.directory.services import assign_role
from saraban.documents.services import read_file
from saraban.signatures.pades.verify import verify_pdf
from saraban.signatures.registry import register_pkcs12
from saraban.signatures.trust import trust_roots
from tests.signatures.conftest import pki  # noqa: F401  (the session's test PKI)
from tests.signatures.pki import PASSWORD as P12_PASSWORD
from tests.signatures.pki import TestPki

from . import example, person_with_token

pytestmark = pytest.mark.django_db


def test_a_signer_signs_with_a_certificate_through_the_api(pki: TestPki, agency: Organisation) -> None:  # noqa: F811
    clerk, clerk_api = person_with_token("api-clerk", "นางสาวธุรการ เอพีไอ")
    assign_role(clerk, agency, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    signer, signer_api = person_with_token("api-signer", "นายลงนาม เอพีไอ")
    assign_role(signer, agency, "signer", position_title="ผู้อำนวยการ")
    certificate = register_pkcs12(organisation=agency, holder=signer, data=pki.path("signer.p12").read_bytes(),
                                  password=P12_PASSWORD, actor=signer)
    letter_id = clerk_api.post("/letters", {"organisation_id": agency.pk, "content": example()}).json()["id"]
    submitted = clerk_api.post(f"/letters/{letter_id}/submit", {"reviewer_ids": [], "signer_id": signer.pk})
    assert submitted.status_code == 200

    wrong = signer_api.post(f"/letters/{letter_id}/sign", {"password": "nope", "certificate_id": certificate.pk})
    assert wrong.status_code == 403 and wrong.json()["code"] == "key.pkcs12_unlock_failed"
    other = signer_api.post(f"/letters/{letter_id}/sign", {"password": P12_PASSWORD, "certificate_id": 999999})
    assert other.status_code == 404 and other.json()["problems"][0]["field"] == "certificate_id"
    assert "nope" not in wrong.content.decode() and P12_PASSWORD not in other.content.decode()

    signed = signer_api.post(f"/letters/{letter_id}/sign", {"password": P12_PASSWORD, "certificate_id": certificate.pk})
    assert signed.status_code == 200, signed.content
    body = signed.json()
    assert body["letter"]["status"] == LetterStatus.NUMBERED and body["letter"]["number"] == "นร 0105/1"
    assert body["letter"]["signatures"][0]["method"] == "pades" and body["letter"]["signatures"][0]["level"] == "B-B"
    with override_settings(SARABAN_TRUST_ROOTS=[str(pki.path("root.cert.pem"))]):
        report = verify_pdf(read_file(body["pdf_sha256"]), trust_roots())
    assert report.indication == "TOTAL_PASSED"
    assert Letter.objects.get(pk=letter_id).pdf_id == body["pdf_sha256"]
