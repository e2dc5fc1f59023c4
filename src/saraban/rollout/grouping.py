"""Grouping agencies by kind and readiness level, and matching their needs with providers: pure functions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LevelRule:
    """An agency whose score reaches ``min_percent`` is at ``level`` (the highest level it reaches wins)."""

    level: str
    min_percent: float


@dataclass(frozen=True)
class AgencyFacts:
    """What grouping needs to know of an agency."""

    organisation_id: int
    category: str
    percent: float
    needs: tuple[str, ...] = ()


@dataclass
class Group:
    """The agencies of one kind at one readiness level, and how many of them signal each need."""

    category: str
    level: str
    organisation_ids: list[int] = field(default_factory=list)
    need_counts: Counter[str] = field(default_factory=Counter)

    @property
    def size(self) -> int:
        """How many agencies the group holds."""
        return len(self.organisation_ids)


def level_for(percent: float, rules: Sequence[LevelRule]) -> str:
    """The readiness level of a score: the rule with the highest threshold it reaches, else the lowest rule."""
    ordered = sorted(rules, key=lambda r: r.min_percent, reverse=True)
    if not ordered:
        return ""
    for rule in ordered:
        if percent >= rule.min_percent:
            return rule.level
    return ordered[-1].level


def group_agencies(agencies: Iterable[AgencyFacts], rules: Sequence[LevelRule]) -> dict[tuple[str, str], Group]:
    """The agencies grouped by (category, level), with the count of each need in each group."""
    groups: dict[tuple[str, str], Group] = {}
    for facts in agencies:
        level = level_for(facts.percent, rules)
        group = groups.setdefault((facts.category, level), Group(facts.category, level))
        group.organisation_ids.append(facts.organisation_id)
        group.need_counts.update(set(facts.needs))
    return groups


def providers_for(need: str, providers: Mapping[str, Iterable[str]]) -> list[str]:
    """The providers (by code) that cover ``need``, in the order given."""
    return [code for code, needs in providers.items() if need in set(needs)]
