"""ประทับตราอิเล็กทรอนิกส์: a stamped letter (หนังสือประทับตรา) is sealed with the organisation's seal.

A หนังสือประทับตรา carries no signature of an official; the registry stamps it with the organisation's
seal when it is numbered. When the organisation holds a seal key (PKCS#11, its PIN held server-side),
the numbered letter is rendered and signed with it (PAdES) at once; otherwise it is rendered later
as before.
"""

from __future__ import annotations

from django.utils import timezone

from saraban.directory.models import Person
from saraban.documents.models import StoredFile
from saraban.documents.services import store_file
from saraban.rendering.letters import render_letter
from saraban.signatures.methods import PadesSignature, SignerProof
from saraban.signatures.models import RevocationStatus
from saraban.signatures.selectors import seals_of
from saraban.signatures.services import record_signature

from .models import Letter


def seal_stamped_letter(letter: Letter, *, actor: Person) -> StoredFile | None:
    """Render the numbered stamped ``letter`` and seal it; ``None`` when its organisation has no usable seal.

    Called inside the numbering transaction: a seal that cannot be used (PIN not configured, token
    missing) refuses the numbering with the reason, and nothing is written.
    """
    now = timezone.now()
    usable = seals_of(letter.organisation_id).filter(active=True, not_before__lte=now, not_after__gt=now)
    seal = usable.exclude(revocation_status=RevocationStatus.REVOKED).first()
    if seal is None:
        return None
    sealing = PadesSignature.for_certificate(seal)
    sealing.reauthenticate_with_password = False  # the registry seals with the server-held key
    sealing.stamp_name = letter.organisation.name_th
    rendered = render_letter(letter.letter_content)
    position = f"ตราประทับอิเล็กทรอนิกส์ของ{letter.organisation.name_th}"
    pdf = sealing.sign(rendered, actor, SignerProof(""), position=position, at=now)
    stored = store_file(pdf, "application/pdf")
    record_signature(
        letter_id=letter.pk, signer=actor, role="seal", position_title=position, signing=sealing,
        signed_at=now, signed_pdf=stored, rendered=rendered,
    )
    return stored
