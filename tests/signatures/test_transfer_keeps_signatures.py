"""A PAdES B-LTA letter handed to the National Archives in a BagIt bag still verifies from the bag."""

from __future__ import annotations

import json
from pathlib import Path

import bagit
import pytest
from asn1crypto import x509

from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.directory.models import Organisation, Person
from saraban.documents.services import store_file
from saraban.records import services as records
from saraban.records.models import Record
from saraban.records.transfer import export_transfer
from saraban.signatures.models import ArchivedPdf
from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.report import Indication
from saraban.signatures.pades.sign import sign_pdf
from saraban.signatures.pades.verify import verify_pdf
from tests.helpers import numbered
from tests.test_letters import example

from .pki import TestPki

pytestmark = pytest.mark.django_db


def test_the_bagged_pdf_is_the_signed_one_and_verifies(
    agency: Organisation, clerk: Person, signer: Person, pki: TestPki, roots: list[x509.Certificate],
    p12_key: Pkcs12Key, small_pdf: bytes, tmp_path: Path,
) -> None:
    signed = sign_pdf(small_pdf, p12_key, level="B-LTA", tsa_url=pki.tsa_url, trust_roots=roots)  # type: ignore[arg-type]
    letter = numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer,
                      clerk=clerk)
    stored = store_file(signed, "application/pdf")
    Letter.objects.filter(pk=letter.pk).update(pdf=stored)
    ArchivedPdf.objects.create(organisation=agency, original=stored, current=stored, renewals=0)
    records.ensure_records(agency.pk)
    Record.objects.filter(kind="out", object_id=letter.pk).update(document_year=2548, keep_until=None,
                                                                  retention_class="permanent")
    export_transfer(agency, 2568, tmp_path / "bag")
    bagit.Bag(str(tmp_path / "bag")).validate()
    bagged = (tmp_path / "bag" / "data" / "records" / f"out-{letter.pk}" / "letter.pdf").read_bytes()
    assert bagged == signed
    report = verify_pdf(bagged, roots)
    assert report.indication is Indication.TOTAL_PASSED, report.explain_en()
    meta = json.loads((tmp_path / "bag" / "data" / "records" / f"out-{letter.pk}" / "metadata.json").read_text())
    assert meta["long_term_renewals"]["renewals"] == 0 and meta["long_term_renewals"]["current_sha256"] == stored.sha256
