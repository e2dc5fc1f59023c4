"""ลงนามหลายฉบับ: a signer signs many letters with one authorisation (one password or PIN entry).

This module is the signing mechanics; which letters may be in a batch, and how one letter is signed
(numbered, its signature recorded, its status moved on), is correspondence's part:
``saraban.correspondence.batch.start_batch`` and ``resume_batch`` call ``open_batch`` / ``reopen_batch``
here with a ``sign_one`` step.

``open_batch`` checks the authorisation (re-authentication, or opening the key with the PKCS#12
password or token PIN) before anything is written, records the batch and its letters, then signs them
one after another, in a background thread of the web process, each letter in its own transaction. The
key stays in that thread's memory only (never in the database), and is closed when the batch ends.
Progress is read from the items (``batch_progress``), so the page can show a progress bar.

Several app servers and workers may share one database, so who signs a batch is a row, not a process's
memory: the batch holds a lease (``runner``, ``lease_until``) that the signing process renews as it
goes (``HEARTBEAT_SECONDS``). Any process reads a batch's state the same way: running while the lease
holds, interrupted once it ran out. Resuming claims the lease with one conditional UPDATE, so two
processes (two clicks on two app servers) never sign the same batch; a process that finds its lease
taken stops. A process that ended takes its key with it, so its batch waits for the signer to
authorise again ("ลงนามต่อ") once the lease runs out (``LEASE``).

A letter that cannot be signed (returned meanwhile, refused by the TSA, ...) is marked failed with its
reason and the batch goes on; after ``STOP_AFTER_FAILURES`` failures in a row it stops. A batch that
stopped, or whose process ended (the server restarted), is *interrupted*: ``resume_batch`` asks for the
authorisation again and signs what is left (``reopen_batch`` here).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from saraban.core.errors import PermissionRefused, SarabanError, StateRefused
from saraban.directory.models import Organisation, Person

from .methods import PadesSignature, SignerProof, SigningMethod, TypedNameSignature, reauthenticate
from .models import BatchStatus, ItemStatus, SignatureMethod, SigningBatch, SigningBatchItem, SigningCertificate

log = logging.getLogger(__name__)

MAX_LETTERS = 500
STOP_AFTER_FAILURES = 5
# A batch's lease lasts LEASE unless renewed; its process renews it before each letter and, while a
# background batch signs, every HEARTBEAT_SECONDS. After a crash the signer waits at most LEASE for ลงนามต่อ.
LEASE = dt.timedelta(seconds=30)
HEARTBEAT_SECONDS = 5.0

# Signs one letter of a batch (letter id, signer, proof, the batch's method); raises SarabanError if it cannot.
# Correspondence gives it (``saraban.correspondence.batch.sign_one``): signatures does not know letters.
SignOne = Callable[[int, Person, SignerProof, SigningMethod], None]


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


def open_batch(
    *,
    signer: Person,
    organisation: Organisation,
    letter_ids: Sequence[int],
    proof: SignerProof,
    sign_one: SignOne,
    certificate: SigningCertificate | None = None,
    background: bool = True,
) -> SigningBatch:
    """Authorise once, record the batch of ``letter_ids`` (already chosen) and sign each with ``sign_one``.

    Choosing the letters is correspondence's part (``saraban.correspondence.batch.start_batch``).
    """
    ids = list(dict.fromkeys(letter_ids))
    signing = _authorise(signer, organisation, certificate, proof)
    runner = _runner()
    try:
        with transaction.atomic():
            batch = SigningBatch.objects.create(
                signer=signer, organisation=organisation, certificate=certificate,
                method=SignatureMethod.PADES if certificate else SignatureMethod.TYPED_NAME,
                runner=runner, lease_until=timezone.now() + LEASE,
            )
            SigningBatchItem.objects.bulk_create(
                SigningBatchItem(batch=batch, letter_id=letter_id, position=n) for n, letter_id in enumerate(ids, 1)
            )
    except BaseException:
        _close(signing)
        raise
    _launch(batch, runner, signing, proof, sign_one, background=background)
    return batch


def reopen_batch(
    batch: SigningBatch, *, actor: Person, proof: SignerProof, sign_one: SignOne, background: bool = True
) -> SigningBatch:
    """Authorise again and sign, with ``sign_one``, the letters of an interrupted batch not signed yet."""
    if actor.pk != batch.signer_id:
        raise PermissionRefused(code="batch.not_yours", message_th="ชุดลงนามนี้ไม่ใช่ของท่าน",
                                message_en="This signing batch is not yours")
    if batch_progress(batch).status != BatchStatus.INTERRUPTED:
        raise StateRefused(code="batch.not_interrupted", message_th="ชุดลงนามนี้ไม่ได้หยุดกลางคัน จึงไม่ต้องลงนามต่อ",
                           message_en="This batch is not interrupted; there is nothing to resume")
    certificate = batch.certificate
    signing = _authorise(actor, batch.organisation, certificate, proof)
    runner, now = _runner(), timezone.now()
    # The claim: one conditional UPDATE, so of two processes resuming at once exactly one signs.
    lapsed = Q(status=BatchStatus.RUNNING) & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    claimed = SigningBatch.objects.filter(Q(status=BatchStatus.INTERRUPTED) | lapsed, pk=batch.pk).update(
        status=BatchStatus.RUNNING, finished_at=None, runner=runner, lease_until=now + LEASE
    )
    if not claimed:
        _close(signing)
        raise StateRefused(code="batch.not_interrupted", message_th="ชุดลงนามนี้กำลังลงนามต่ออยู่แล้ว",
                           message_en="This batch is already being signed again")
    batch.items.filter(status=ItemStatus.FAILED).update(status=ItemStatus.PENDING, error="")
    batch.refresh_from_db()
    _launch(batch, runner, signing, proof, sign_one, background=background)
    return batch


def batch_progress(batch: SigningBatch) -> BatchProgress:
    """Counts of the batch's letters by state, and the batch's state as it really is."""
    counts = {ItemStatus.SIGNED: 0, ItemStatus.FAILED: 0, ItemStatus.PENDING: 0}
    for status in batch.items.values_list("status", flat=True):
        counts[ItemStatus(status)] += 1
    row = SigningBatch.objects.filter(pk=batch.pk).values_list("status", "lease_until").first()
    status, lease_until = row if row is not None else (batch.status, batch.lease_until)
    if status == BatchStatus.RUNNING and (lease_until is None or lease_until < timezone.now()):
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


def _runner() -> str:
    """A name for one run of a batch: the host, the process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _renew(batch_id: int, runner: str) -> bool:
    """Extend the lease of ``runner`` on the batch; ``False`` when another process holds it now."""
    return bool(SigningBatch.objects.filter(pk=batch_id, runner=runner, status=BatchStatus.RUNNING).update(
        lease_until=timezone.now() + LEASE
    ))


class _Heartbeat:
    """Renews a background batch's lease from a thread of its own while a letter waits on a TSA."""

    def __init__(self, batch_id: int, runner: str) -> None:
        self.batch_id, self.runner = batch_id, runner
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"signing-batch-{batch_id}-lease", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS + 5)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    if not _renew(self.batch_id, self.runner):
                        self.lost.set()
                        return
                except Exception:  # a database hiccup: the next beat tries again before the lease ends
                    log.exception("signing batch %s: the lease could not be renewed", self.batch_id)
        finally:
            connection.close()


def _launch(
    batch: SigningBatch, runner: str, signing: SigningMethod, proof: SignerProof, sign_one: SignOne, *,
    background: bool,
) -> None:
    if not background:
        _run(batch.pk, runner, signing, proof, sign_one)
        return
    # Started once the batch's rows are committed, so the thread sees them.
    thread = threading.Thread(
        target=_run_in_thread, args=(batch.pk, runner, signing, proof, sign_one), name=f"signing-batch-{batch.pk}",
        daemon=True,
    )
    transaction.on_commit(thread.start)


def _run_in_thread(batch_id: int, runner: str, signing: SigningMethod, proof: SignerProof, sign_one: SignOne) -> None:
    close_old_connections()
    try:
        with _Heartbeat(batch_id, runner) as heartbeat:
            _run(batch_id, runner, signing, proof, sign_one, lost=heartbeat.lost)
    finally:
        connection.close()


def _run(
    batch_id: int, runner: str, signing: SigningMethod, proof: SignerProof, sign_one: SignOne, *,
    lost: threading.Event | None = None,
) -> None:
    failures_in_a_row = 0
    kept = True
    try:
        batch = SigningBatch.objects.select_related("signer").get(pk=batch_id)
        for item in batch.items.filter(status=ItemStatus.PENDING).order_by("position"):
            if (lost is not None and lost.is_set()) or not _renew(batch_id, runner):
                kept = False  # another process resumed the batch: it signs the rest
                log.warning("signing batch %s: lease taken over, %s stops", batch_id, runner)
                break
            try:
                sign_one(item.letter_id, batch.signer, proof, signing)
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
        if kept:
            left = SigningBatchItem.objects.filter(batch_id=batch_id).exclude(status=ItemStatus.SIGNED).exists()
            SigningBatch.objects.filter(pk=batch_id, runner=runner).update(
                status=BatchStatus.INTERRUPTED if left else BatchStatus.DONE, finished_at=timezone.now(),
                lease_until=None,
            )


def _fail(item: SigningBatchItem, reason: str) -> None:
    # Only a pending item: a letter signed meanwhile by the batch's previous runner stays signed.
    SigningBatchItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
        status=ItemStatus.FAILED, error=reason[:1000]
    )


def _close(signing: SigningMethod) -> None:
    if isinstance(signing, PadesSignature):
        signing.close()
