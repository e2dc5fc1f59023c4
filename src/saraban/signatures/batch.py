"""ลงนามหลายฉบับ: a signer signs many letters with one authorisation (one password or PIN entry).

``start_batch`` checks the authorisation (re-authentication, or opening the key with the PKCS#12
password or token PIN) before anything is written, records the batch and its letters, then signs them
one after another, in a background thread of the web process, each letter in its own transaction. The
key stays in that thread's memory only, and is closed when the batch ends. Progress is read from the
items (``batch_progress``), so the page can show a progress bar.

A letter that cannot be signed (returned meanwhile, refused by the TSA, ...) is marked failed with its
reason and the batch goes on; after ``STOP_AFTER_FAILURES`` failures in a row it stops. A batch that
stopped, or whose process ended (the server restarted), is *interrupted*: ``resume_batch`` asks for the
authorisation again and signs what is left.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from saraban.core.errors import FieldProblem, PermissionRefused, SarabanError, StateRefused, ValidationFailed
from saraban.directory.models import Organisation, Person

from .methods import PadesSignature, SignerProof, SigningMethod, TypedNameSignature, reauthenticate
from .models import BatchStatus, ItemStatus, SignatureMethod, SigningBatch, SigningBatchItem, SigningCertificate

log = logging.getLogger(__name__)

MAX_LETTERS = 500
STOP_AFTER_FAILURES = 5
_running: set[int] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class BatchProgress:
    """How far a batch has come (what the progress bar shows)."""

    total: int
    signed: int
    failed: int
    pending: int
    status: str  # running, done or interrupted (a running batch whose process ended counts as interrupted)

    @property
    def percent(self) -> int:
        """Share of the letters dealt with (signed or failed), 0-100."""
        return 100 if not self.total else round(100 * (self.signed + self.failed) / self.total)

    @property
    def finished(self) -> bool:
        """Nothing more will happen without the signer (done, or interrupted)."""
        return self.status != BatchStatus.RUNNING


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
    from saraban.correspondence.selectors import awaiting_my_signature

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
    signing = _authorise(signer, organisation, certificate, proof)
    try:
        with transaction.atomic():
            batch = SigningBatch.objects.create(
                signer=signer, organisation=organisation, certificate=certificate,
                method=SignatureMethod.PADES if certificate else SignatureMethod.TYPED_NAME,
            )
            SigningBatchItem.objects.bulk_create(
                SigningBatchItem(batch=batch, letter_id=letter_id, position=n) for n, letter_id in enumerate(ids, 1)
            )
    except BaseException:
        _close(signing)
        raise
    _launch(batch, signing, proof, background=background)
    return batch


def resume_batch(batch: SigningBatch, *, actor: Person, proof: SignerProof, background: bool = True) -> SigningBatch:
    """Authorise again and sign the letters of an interrupted batch that are not signed yet."""
    if actor.pk != batch.signer_id:
        raise PermissionRefused(code="batch.not_yours", message_th="ชุดลงนามนี้ไม่ใช่ของท่าน",
                                message_en="This signing batch is not yours")
    if batch_progress(batch).status != BatchStatus.INTERRUPTED:
        raise StateRefused(code="batch.not_interrupted", message_th="ชุดลงนามนี้ไม่ได้หยุดกลางคัน จึงไม่ต้องลงนามต่อ",
                           message_en="This batch is not interrupted; there is nothing to resume")
    certificate = batch.certificate
    signing = _authorise(actor, batch.organisation, certificate, proof)
    batch.items.filter(status=ItemStatus.FAILED).update(status=ItemStatus.PENDING, error="")
    SigningBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING, finished_at=None)
    batch.refresh_from_db()
    _launch(batch, signing, proof, background=background)
    return batch


def batch_progress(batch: SigningBatch) -> BatchProgress:
    """Counts of the batch's letters by state, and the batch's state as it really is."""
    counts = {ItemStatus.SIGNED: 0, ItemStatus.FAILED: 0, ItemStatus.PENDING: 0}
    for status in batch.items.values_list("status", flat=True):
        counts[ItemStatus(status)] += 1
    status = SigningBatch.objects.filter(pk=batch.pk).values_list("status", flat=True).first() or batch.status
    if status == BatchStatus.RUNNING:
        with _running_lock:
            alive = batch.pk in _running
        if not alive:
            status = BatchStatus.INTERRUPTED  # the process that signed it ended (e.g. a restart)
    return BatchProgress(
        total=sum(counts.values()), signed=counts[ItemStatus.SIGNED], failed=counts[ItemStatus.FAILED],
        pending=counts[ItemStatus.PENDING], status=status,
    )


def _authorise(
    signer: Person, organisation: Organisation, certificate: SigningCertificate | None, proof: SignerProof
) -> SigningMethod:
    """The signing method for the batch, with the signer's authorisation checked once."""
    if certificate is None:
        reauthenticate(signer, proof)
        return TypedNameSignature(reauthenticated=True)
    pades = PadesSignature.for_signer(certificate, signer, organisation.pk)
    pades.open(signer, proof)
    return pades


def _launch(batch: SigningBatch, signing: SigningMethod, proof: SignerProof, *, background: bool) -> None:
    with _running_lock:
        _running.add(batch.pk)
    if not background:
        _run(batch.pk, signing, proof)
        return
    # Started once the batch's rows are committed, so the thread sees them.
    thread = threading.Thread(
        target=_run_in_thread, args=(batch.pk, signing, proof), name=f"signing-batch-{batch.pk}", daemon=True
    )
    transaction.on_commit(thread.start)


def _run_in_thread(batch_id: int, signing: SigningMethod, proof: SignerProof) -> None:
    close_old_connections()
    try:
        _run(batch_id, signing, proof)
    finally:
        connection.close()


def _run(batch_id: int, signing: SigningMethod, proof: SignerProof) -> None:
    from saraban.correspondence.models import Letter
    from saraban.correspondence.workflow import sign_letter

    failures_in_a_row = 0
    try:
        batch = SigningBatch.objects.select_related("signer").get(pk=batch_id)
        for item in batch.items.filter(status=ItemStatus.PENDING).order_by("position"):
            try:
                letter = Letter.objects.get(pk=item.letter_id)
                sign_letter(letter, actor=batch.signer, proof=proof, method=signing)
            except SarabanError as exc:
                _fail(item, f"{exc.message_th} / {exc.message_en}")
                failures_in_a_row += 1
            except Exception as exc:  # one letter's unexpected failure must not lose the batch
                log.exception("signing batch %s: letter %s failed", batch_id, item.letter_id)
                _fail(item, f"ลงนามไม่สำเร็จ / Signing failed: {type(exc).__name__}")
                failures_in_a_row += 1
            else:
                SigningBatchItem.objects.filter(pk=item.pk).update(status=ItemStatus.SIGNED, signed_at=timezone.now())
                failures_in_a_row = 0
            if failures_in_a_row >= STOP_AFTER_FAILURES:
                break
    finally:
        _close(signing)
        left = SigningBatchItem.objects.filter(batch_id=batch_id).exclude(status=ItemStatus.SIGNED).exists()
        SigningBatch.objects.filter(pk=batch_id).update(
            status=BatchStatus.INTERRUPTED if left else BatchStatus.DONE, finished_at=timezone.now()
        )
        with _running_lock:
            _running.discard(batch_id)


def _fail(item: SigningBatchItem, reason: str) -> None:
    SigningBatchItem.objects.filter(pk=item.pk).update(status=ItemStatus.FAILED, error=reason[:1000])


def _close(signing: SigningMethod) -> None:
    if isinstance(signing, PadesSignature):
        signing.close()
