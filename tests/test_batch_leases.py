"""A signing batch belongs to one process at a time, whichever app server or worker started it.

The batch's lease is a database row: another process sees a batch that is being signed as running
(not as interrupted, which would offer "ลงนามต่อ" and sign it twice); once the signing process dies
its lease runs out and the signer may resume it, from any process, and of two processes resuming at
once exactly one signs. Each letter is signed exactly once.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection

from saraban.audit.selectors import verify_all_chains
from saraban.core.errors import StateRefused
from saraban.correspondence.batch import resume_batch
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.signatures.batch import batch_progress
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import BatchStatus, ItemStatus, Signature, SigningBatch, SigningBatchItem

from .helpers import PASSWORD
from .race_clients import Client
from .test_letters import example


def _until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_batch_signed_by_another_process_is_running_here_and_is_resumed_once_after_it_dies(
    agency: Organisation, clerk: Person, signer: Person,
) -> None:
    letters = []
    for n in range(1, 5):
        letter = create_letter(agency, example("external", subject=f"เรื่องที่ {n}"), author=clerk)
        letters.append(submit_for_review(letter, actor=clerk, reviewers=[], signer=signer))
    database = connection.settings_dict["NAME"]
    # An app server signs the batch in its thread, a second or so per letter, with a 2-second lease.
    first = Client(database, "batch", signer.pk, agency.pk, ",".join(str(x.pk) for x in letters), 1.0, 2.0)
    resumers: list[Client] = []
    try:
        first.ready()
        first.go()
        batch = SigningBatch.objects.get(pk=first.line()["batch"])
        signed = SigningBatchItem.objects.filter(batch=batch, status=ItemStatus.SIGNED)
        _until(lambda: signed.exists(), 60, "the first letter to be signed")
        # Seen from this process (another app server): running, not interrupted, and not to be resumed.
        assert batch_progress(batch).status == BatchStatus.RUNNING
        with pytest.raises(StateRefused) as refused:
            resume_batch(batch, actor=signer, proof=SignerProof(PASSWORD), background=False)
        assert refused.value.code == "batch.not_interrupted"
        first.kill()  # the app server dies with the key in its memory
        assert signed.count() < len(letters)
        _until(lambda: batch_progress(batch).status == BatchStatus.INTERRUPTED, 30, "the lease to run out")
        # The signer presses "ลงนามต่อ" on two app servers at once: one of them signs the rest.
        resumers = [Client(database, "resume", batch.pk, signer.pk) for _ in range(2)]
        for client in resumers:
            client.ready()
        for client in resumers:
            client.go()
        outcomes = sorted((client.line(timeout=120) for client in resumers), key=lambda o: "refused" in o)
    finally:
        for client in [first, *resumers]:
            client.kill()
    assert outcomes == [{"resumed": batch.pk}, {"refused": "batch.not_interrupted"}]
    progress = batch_progress(batch)
    assert (progress.status, progress.signed, progress.failed) == (BatchStatus.DONE, len(letters), 0)
    for letter in letters:
        assert Letter.objects.get(pk=letter.pk).status == LetterStatus.SIGNED
        assert Signature.objects.filter(letter=letter).count() == 1  # signed exactly once
    assert verify_all_chains()[1] == []
