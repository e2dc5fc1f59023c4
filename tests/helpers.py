"""Shortcuts through the workflow for tests that need a letter in a later state."""

from __future__ import annotations

from saraban.correspondence.models import Letter
from saraban.correspondence.services import issue_number
from saraban.correspondence.workflow import sign_letter, submit_for_review
from saraban.directory.models import Person
from saraban.regulation.kinds import LetterType
from saraban.signatures.methods import SignerProof

PASSWORD = "x-Pass-1234"


def signed(letter: Letter, *, author: Person, signer: Person) -> Letter:
    """Submit without reviewers and sign (stamped letters are only approved: they are not signed)."""
    stamped = letter.letter_content.type is LetterType.STAMPED
    letter = submit_for_review(letter, actor=author, reviewers=[], signer=None if stamped else signer)
    if not stamped:
        sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))
    return Letter.objects.get(pk=letter.pk)


def numbered(letter: Letter, *, author: Person, signer: Person, clerk: Person) -> Letter:
    """Signed, then numbered by the registry."""
    return issue_number(signed(letter, author=author, signer=signer), actor=clerk)
