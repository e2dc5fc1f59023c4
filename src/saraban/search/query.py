"""A search as a person types it: words that must all be found, phrases in quotes, known variant spellings.

``สารบรรณ อิเล็กทรอนิกส์`` finds letters holding both words anywhere; ``"สารบรรณ อิเล็กทรอนิกส์"``
the two side by side. Each word is folded (``normalize.fold``) and, where it holds a spelling of the
editable variant list (อิเลคทรอนิกส์ / อิเล็กทรอนิกส์), may be found in any of its spellings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from saraban.core.errors import FieldProblem, ValidationFailed

from .normalize import fold

MAX_TERMS = 10
MAX_QUERY_CHARS = 500
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class Term:
    """One word or phrase of the query, as typed, and the folded forms any of which may match."""

    typed: str
    forms: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """The terms of a search, all of which must be found."""

    terms: tuple[Term, ...]

    @property
    def shortest(self) -> int:
        """The length of the shortest form of any term (a trigram index needs three characters)."""
        return min(len(form) for term in self.terms for form in term.forms)


def _expand(form: str, variant_sets: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    forms = {form}
    for spellings in variant_sets:
        folded = [fold(s) for s in spellings]
        for spelling in folded:
            if spelling and spelling in form:
                forms.update(form.replace(spelling, other) for other in folded if other)
    return tuple(sorted(forms, key=lambda f: (f != form, f)))


def parse(text: str, *, variant_sets: Iterable[tuple[str, ...]] = ()) -> Query:
    """The query ``text`` means; ``ValidationFailed`` for an empty or too long one."""
    text = text.strip()
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationFailed([FieldProblem("q", "too_long", f"คำค้นยาวเกิน {MAX_QUERY_CHARS} ตัวอักษร",
                                             f"The search is longer than {MAX_QUERY_CHARS} characters")])
    sets = list(variant_sets)
    terms = []
    for phrase, word in _TOKEN.findall(text):
        typed = phrase or word
        form = fold(typed.replace('"', ""))
        if form:
            terms.append(Term(typed=typed, forms=_expand(form, sets)))
    if not terms:
        raise ValidationFailed([FieldProblem("q", "required", "พิมพ์คำที่ต้องการค้นหา", "Type what to search for")])
    if len(terms) > MAX_TERMS:
        raise ValidationFailed([FieldProblem("q", "too_many", f"ค้นได้ครั้งละไม่เกิน {MAX_TERMS} คำ",
                                             f"At most {MAX_TERMS} words at a time")])
    return Query(terms=tuple(terms))
