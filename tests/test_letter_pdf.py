"""A numbered letter's PDF is rendered in the background (django.tasks, database backend) and stored."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.directory.models import Organisation, Person
from saraban.documents.services import read_file
from saraban.documents.storage import sha256_hex

from .helpers import numbered
from .test_letters import example


@pytest.mark.django_db(transaction=True)
def test_the_worker_renders_and_stores_the_numbered_letter(
    agency: Organisation, clerk: Person, signer: Person
) -> None:
    draft = create_letter(agency, example("external"), author=clerk)
    letter = numbered(draft, author=clerk, signer=signer, clerk=clerk)
    assert Letter.objects.get(pk=letter.pk).pdf is None  # queued, not rendered in the request
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)
    letter = Letter.objects.get(pk=letter.pk)
    assert letter.pdf is not None
    data = read_file(letter.pdf.sha256)
    assert sha256_hex(data) == letter.pdf.sha256 and data.startswith(b"%PDF")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "letter.pdf"
        path.write_bytes(data)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "นร ๐๑๐๕/๑" in text  # the number, in the organisation's Thai digits
    assert "ลงนามอิเล็กทรอนิกส์" in text  # the typed-name signature mark stays on the numbered letter
