"""Readiness scores from survey answers: pure functions, no database.

A question is worth points: a choice earns its option's weight (the best option is the maximum), a
multi-choice the sum of the chosen options' weights (the maximum is the sum of the positive ones), a
yes/no question its "yes" or "no" option's weight, a number ``weight × min(x, scale_max) / scale_max``.
Text earns nothing. The score is the sum of the contributions, so its breakdown always adds up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OptionSpec:
    """One option of a choice: its stored value, labels, weight and the need it signals (if any)."""

    value: str
    label_th: str = ""
    label_en: str = ""
    weight: float = 0.0
    need: str = ""


@dataclass(frozen=True)
class QuestionSpec:
    """What scoring needs to know of a question."""

    code: str
    text: str
    answer_type: str
    options: tuple[OptionSpec, ...] = ()
    weight: float = 0.0
    scale_max: float | None = None
    need: str = ""

    def option(self, value: str) -> OptionSpec | None:
        """The option whose value is ``value``."""
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class Contribution:
    """What one question adds to the score, and the needs its answer signals."""

    code: str
    text: str
    answer: Any
    points: float
    max_points: float
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Score:
    """A readiness score with its breakdown, one contribution per question."""

    contributions: tuple[Contribution, ...] = field(default_factory=tuple)

    @property
    def points(self) -> float:
        """The sum of the contributions' points."""
        return sum(c.points for c in self.contributions)

    @property
    def max_points(self) -> float:
        """The most the questions could earn."""
        return sum(c.max_points for c in self.contributions)

    @property
    def percent(self) -> float:
        """The score as a percentage of the maximum (0 when nothing can be earned)."""
        return 100.0 * self.points / self.max_points if self.max_points else 0.0

    @property
    def needs(self) -> tuple[str, ...]:
        """Every need signalled by the answers, each once, in question order."""
        seen: dict[str, None] = {}
        for c in self.contributions:
            for n in c.needs:
                seen.setdefault(n, None)
        return tuple(seen)


def question_from_model(question: Any) -> QuestionSpec:
    """A ``QuestionSpec`` from a ``rollout.Question`` row (or anything with the same attributes)."""
    options = tuple(
        OptionSpec(
            value=str(o.get("value", "")), label_th=str(o.get("label_th", "")), label_en=str(o.get("label_en", "")),
            weight=float(o.get("weight") or 0), need=str(o.get("need") or ""),
        )
        for o in (question.options or [])
    )
    return QuestionSpec(
        code=question.code, text=question.text_th, answer_type=question.answer_type, options=options,
        weight=float(question.weight or 0), scale_max=question.scale_max, need=question.need or "",
    )


def max_points(question: QuestionSpec) -> float:
    """The most ``question`` can earn."""
    kind = question.answer_type
    if kind in ("choice", "yes_no"):
        return max((o.weight for o in question.options), default=0.0)
    if kind == "multi_choice":
        return sum(o.weight for o in question.options if o.weight > 0)
    if kind == "number":
        return question.weight
    return 0.0


def contribution(question: QuestionSpec, answer: Any) -> Contribution:
    """The points ``answer`` earns on ``question`` and the needs it signals (nothing when unanswered)."""
    top = max_points(question)
    points = 0.0
    needs: list[str] = []
    kind = question.answer_type
    if answer is None or answer == "" or answer == []:
        return Contribution(question.code, question.text, None, 0.0, top, ())
    if kind in ("choice", "yes_no"):
        value = ("yes" if answer else "no") if isinstance(answer, bool) else str(answer)
        option = question.option(value)
        if option is not None:
            points = option.weight
            needs += [option.need] if option.need else []
    elif kind == "multi_choice":
        values = answer if isinstance(answer, list | tuple) else [answer]
        for value in values:
            option = question.option(str(value))
            if option is not None:
                points += option.weight
                needs += [option.need] if option.need else []
    elif kind == "number" and question.scale_max:
        number = max(0.0, float(answer))
        points = question.weight * min(number, question.scale_max) / question.scale_max
    if question.need and top > 0 and points < top / 2:
        needs.append(question.need)
    return Contribution(question.code, question.text, answer, points, top, tuple(dict.fromkeys(needs)))


def score(questions: Iterable[QuestionSpec], answers: Mapping[str, Any]) -> Score:
    """The readiness score of one agency's ``answers`` (question code → value) on ``questions``."""
    return Score(tuple(contribution(q, answers.get(q.code)) for q in questions))
