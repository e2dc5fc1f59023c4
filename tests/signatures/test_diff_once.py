"""``ReviewOnce``: the difference analysis after a signed revision runs once per file, not per validation."""

from __future__ import annotations

import io
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel, SuspiciousModification

from saraban.signatures.pades.diff_once import ReviewOnce

from .conftest import minimal_pdf


class CountingPolicy:
    """A stand-in policy that says how often it was asked."""

    def __init__(self, answer: DiffResult | SuspiciousModification) -> None:
        self.answer, self.calls = answer, 0

    def review_file(self, reader: Any, base_revision: Any, field_mdp_spec: Any = None, doc_mdp: Any = None) -> Any:
        self.calls += 1
        return self.answer


def _reader() -> PdfFileReader:
    return PdfFileReader(io.BytesIO(minimal_pdf()), strict=False)


def test_the_same_revision_of_the_same_file_is_reviewed_once() -> None:
    inner = CountingPolicy(DiffResult(ModificationLevel.FORM_FILLING, {"Sig1"}))
    policy = ReviewOnce(inner)  # type: ignore[arg-type]
    reader = _reader()
    first = policy.review_file(reader, 0)
    assert policy.review_file(reader, 0) is first and inner.calls == 1
    policy.review_file(reader, 1)  # another signed revision
    policy.review_file(_reader(), 0)  # another file
    assert inner.calls == 3


def test_a_suspicious_modification_is_remembered_too() -> None:
    inner = CountingPolicy(SuspiciousModification("object freed"))
    policy = ReviewOnce(inner)  # type: ignore[arg-type]
    reader = _reader()
    assert isinstance(policy.review_file(reader, 0), SuspiciousModification)
    assert isinstance(policy.review_file(reader, 0), SuspiciousModification) and inner.calls == 1


def test_answers_go_with_their_reader() -> None:
    policy = ReviewOnce(CountingPolicy(DiffResult(ModificationLevel.NONE, set())))  # type: ignore[arg-type]
    reader = _reader()
    policy.review_file(reader, 0)
    assert len(policy._answers) == 1
    del reader
    import gc

    gc.collect()
    assert len(policy._answers) == 0
