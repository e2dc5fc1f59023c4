"""ลงนามหลายฉบับ, the letters' side: which letters a batch may hold, and how one of them is signed.

The signing mechanics (authorising once, the batch's rows, the background run, progress, resuming) live
in ``saraban.signatures.batch``; it knows batch items by ``letter_id`` only and signs each one through
the ``sign_one`` step given here (the workflow's ``sign_letter``: number, signature, status).
"""

from __future__ import annotations

from collections.abc import Sequence

from saraban.core.errors import FieldProblem, PermissionRefused, ValidationFailed
from saraban.directory.models import Organisation, Person
from saraban.signatures import batch as mechanics
from saraban.signatures.methods import SignerProof, SigningMethod
from saraban.signatures.models import SigningBatch, SigningCertificate

from . import workflow
from .models import Letter
from .selectors import awaiting_my_signature

MAX_LETTERS = mechanics.MAX_LETTERS


def start_batch(
    *,
    signer: Person,
    organisation: Organisation,
    letter_ids: Sequence[int],
    proof: SignerProof,
    certificate: SigningCertificate | None = None,
    background: bool = True,
) -> SigningBatch:
    """Authorise once and sign the letters ``letter_ids`` (with ``certificate``, else by typed name)."""
    ids = list(dict.fromkeys(letter_ids))
    if not ids:
        raise ValidationFailed([FieldProblem("letters", "required", "เลือกหนังสือที่จะลงนามอย่างน้อยหนึ่งฉบับ",
                                             "Choose at least one letter to sign")])
    if len(ids) > MAX_LETTERS:
        raise ValidationFailed([FieldProblem(
            "letters", "too_many", f"ลงนามได้ครั้งละไม่เกิน {MAX_LETTERS} ฉบับ",
            f"At most {MAX_LETTERS} letters can be signed in one batch",
        )])
    mine = set(
        awaiting_my_signature(signer).filter(organisation=organisation, pk__in=ids).values_list("pk", flat=True)
    )
    foreign = [i for i in ids if i not in mine]
    if foreign:
        raise PermissionRefused(
            code="batch.not_signable",
            message_th=f"หนังสือ {len(foreign)} ฉบับไม่ได้รอการลงนามของท่าน (อาจถูกส่งกลับหรือลงนามไปแล้ว)",
            message_en=f"{len(foreign)} of the letters do not await your signature (returned or signed meanwhile)",
        )
    return mechanics.open_batch(
        signer=signer, organisation=organisation, letter_ids=ids, proof=proof, certificate=certificate,
        sign_one=sign_one, background=background,
    )


def resume_batch(batch: SigningBatch, *, actor: Person, proof: SignerProof, background: bool = True) -> SigningBatch:
    """Authorise again and sign the letters of an interrupted batch that are not signed yet."""
    return mechanics.reopen_batch(batch, actor=actor, proof=proof, sign_one=sign_one, background=background)


def sign_one(letter_id: int, signer: Person, proof: SignerProof, method: SigningMethod) -> None:
    """Sign one letter of a batch, as the workflow signs any letter (raises SarabanError if it cannot)."""
    letter = Letter.objects.get(pk=letter_id)
    workflow.sign_letter(letter, actor=signer, proof=proof, method=method)
