"""Whether a letter may be saved, submitted or issued: the Regulation's rules and printability together.

The content itself (``LetterContent``) and the Regulation's rules per type live in ``saraban.regulation``
(no database, importable from every app); the printability checks (control characters, characters
the font lacks, size) in ``saraban.rendering.printable``.
"""

from __future__ import annotations

from saraban.core.errors import FieldProblem, RuleViolated
from saraban.regulation.checks import regulation_problems
from saraban.regulation.content import LetterContent
from saraban.rendering.printable import unrenderable_problems


def letter_problems(content: LetterContent, *, issued: bool = False) -> list[FieldProblem]:
    """Every problem with ``content``: what keeps it from printing, then the rules of its type.

    ``issued`` adds the fields an issued letter must carry (its number and date).
    """
    return [*unrenderable_problems(content), *regulation_problems(content, issued=issued)]


def check_letter(content: LetterContent, *, issued: bool = False, draft: bool = False) -> None:
    """Raise ``RuleViolated`` (a ``ValidationFailed``, 422) naming every problem of ``content``; return
    if it is valid.

    ``draft``: only what keeps a draft from being kept (a malformed value, text that cannot print, a
    type without its subtype); the fields its type requires are checked when it is submitted, so an
    unfinished draft is saved as it is.
    """
    problems = letter_problems(content, issued=issued)
    if draft:
        problems = [p for p in problems if p.code != "required"]
    if problems:
        raise RuleViolated(problems)
