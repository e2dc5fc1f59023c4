"""Writing signatures: the one place a ``Signature`` row is made (ลงนาม, ประทับตรา).

Correspondence decides when a letter is signed or sealed and calls ``record_signature`` inside its own
transaction; signatures owns the row: the digests, and the certificate and level of a PAdES signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from saraban.directory.models import Person
from saraban.documents.models import StoredFile

from .methods import PadesSignature, SigningMethod
from .models import Signature


def record_signature(
    *,
    letter_id: int,
    signer: Person,
    role: str,
    position_title: str,
    signing: SigningMethod,
    signed_at: dt.datetime,
    signed_pdf: StoredFile,
    rendered: bytes,
    acting_line: str = "",
) -> Signature:
    """Record that ``signer`` signed (or sealed) letter ``letter_id``: ``signed_pdf`` is the file as signed.

    ``rendered`` is the letter as drawn before a PAdES signature was applied (its digest is what the
    letter's QR code carries); a typed-name signature keeps no certificate, level or rendered digest.
    """
    pades = signing if isinstance(signing, PadesSignature) else None
    return Signature.objects.create(
        letter_id=letter_id, signer=signer, role=role, position_title=position_title, acting_line=acting_line,
        method=signing.method, signed_at=signed_at, pdf_sha256=signed_pdf.sha256, pdf=signed_pdf,
        certificate=pades.certificate if pades is not None else None,
        level=pades.level if pades is not None else "",
        rendered_sha256=hashlib.sha256(rendered).hexdigest() if pades is not None else "",
    )
