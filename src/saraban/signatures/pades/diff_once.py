"""The difference analysis of a signed revision, done once per file however often its signature is validated.

What changed after a signature (การเปลี่ยนแปลงหลังลงนาม) depends only on the file, the signed revision and
the signature's DocMDP/FieldMDP rules, not on the trust roots or the revocation policy. pyHanko
recomputes it on every validation, and ``verify._one`` validates a signature up to three times (strict,
without the DSS's OCSP responses, with soft revocation checking). For a file of many revisions this
analysis is most of the work: ``lt-short.pdf`` of the corpus (25 signatures, 50 revisions) spent two
thirds of its time in it. ``REVIEW_ONCE`` is pyHanko's default policy with a memory, kept per reader.
"""

from __future__ import annotations

import weakref
from typing import Any

from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffPolicy, DiffResult, SuspiciousModification
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm


class ReviewOnce(DiffPolicy):
    """``policy`` whose ``review_file`` answers are remembered for as long as their reader lives."""

    def __init__(self, policy: DiffPolicy = DEFAULT_DIFF_POLICY) -> None:
        self.policy = policy
        self._answers: weakref.WeakKeyDictionary[PdfFileReader, dict[tuple[Any, ...], Any]] = (
            weakref.WeakKeyDictionary())

    def apply(self, old: HistoricalResolver, new: HistoricalResolver, field_mdp_spec: FieldMDPSpec | None = None,
              doc_mdp: MDPPerm | None = None) -> DiffResult:
        """The wrapped policy's judgment of two revisions (not remembered)."""
        return self.policy.apply(old, new, field_mdp_spec, doc_mdp)

    def review_file(self, reader: PdfFileReader, base_revision: int | HistoricalResolver,
                    field_mdp_spec: FieldMDPSpec | None = None,
                    doc_mdp: MDPPerm | None = None) -> DiffResult | SuspiciousModification:
        """The wrapped policy's review of everything after ``base_revision``, computed once per reader."""
        revision = base_revision if isinstance(base_revision, int) else base_revision.revision
        key = (revision, repr(field_mdp_spec), doc_mdp)
        answers = self._answers.setdefault(reader, {})
        if key not in answers:
            answers[key] = self.policy.review_file(reader, base_revision, field_mdp_spec, doc_mdp)
        return answers[key]


REVIEW_ONCE = ReviewOnce()
