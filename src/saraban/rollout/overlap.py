"""Overlaps between outreach activities: the same target group, in the same places, close in time.

Pure functions. Two activities overlap when (1) their target kinds intersect (no kinds = every kind),
(2) their places intersect (no provinces and no regions = nationwide; a region covers its provinces),
and (3) the gap between their date ranges is at most ``window_days`` (0 when the ranges intersect).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Activity:
    """An outreach activity as the detector sees it; ``provinces`` are province codes."""

    id: int
    owner: str
    title: str
    starts_on: dt.date
    ends_on: dt.date
    kinds: frozenset[str] = frozenset()
    provinces: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    @property
    def nationwide(self) -> bool:
        """No provinces and no regions: the activity reaches the whole country."""
        return not self.provinces and not self.regions

    @property
    def days(self) -> int:
        """How many days the activity lasts."""
        return (self.ends_on - self.starts_on).days + 1


@dataclass(frozen=True)
class Overlap:
    """Two activities that reach the same group: where, whom, how far apart, and who could join whom."""

    host: Activity  # the broader activity, whose events the guest could join
    guest: Activity
    gap_days: int
    kinds: frozenset[str]  # empty: every kind
    provinces: frozenset[str]  # shared provinces (empty with ``nationwide``: everywhere)
    regions: frozenset[str]

    @property
    def proposal_th(self) -> str:
        """The suggestion, in Thai."""
        return f"{self.guest.owner} ออกบูธ/บรรยายร่วมในงานของ {self.host.owner} “{self.host.title}”"

    @property
    def proposal_en(self) -> str:
        """The suggestion, in English."""
        return f"{self.guest.owner}: hold a booth or a talk at {self.host.owner}'s “{self.host.title}”"


def gap_days(a: Activity, b: Activity) -> int:
    """Days between the end of the earlier activity and the start of the later one (0 if they intersect)."""
    if a.starts_on <= b.ends_on and b.starts_on <= a.ends_on:
        return 0
    first, second = (a, b) if a.ends_on < b.starts_on else (b, a)
    return (second.starts_on - first.ends_on).days


def shared_kinds(a: Activity, b: Activity) -> frozenset[str] | None:
    """The target kinds both reach (empty: every kind), or ``None`` when they reach different groups."""
    if not a.kinds:
        return b.kinds
    if not b.kinds:
        return a.kinds
    common = a.kinds & b.kinds
    return common or None


def shared_places(
    a: Activity, b: Activity, region_of: Mapping[str, str]
) -> tuple[frozenset[str], frozenset[str]] | None:
    """The provinces and regions both reach, or ``None`` when their places do not meet."""
    if a.nationwide and b.nationwide:
        return frozenset(), frozenset()
    if a.nationwide:
        return b.provinces, b.regions
    if b.nationwide:
        return a.provinces, a.regions

    def covers(x: Activity, province: str) -> bool:
        return province in x.provinces or region_of.get(province, "") in x.regions

    provinces = frozenset(p for p in a.provinces if covers(b, p)) | frozenset(p for p in b.provinces if covers(a, p))
    regions = a.regions & b.regions
    if not provinces and not regions:
        return None
    return provinces, regions


def find_overlaps(activities: Sequence[Activity], window_days: int, region_of: Mapping[str, str]) -> list[Overlap]:
    """Every pair of activities that reach the same group in the same places within ``window_days``.

    Pairs are reported once, earliest first. The host of the proposal is the longer activity (on a tie,
    the earlier one).
    """
    found = []
    ordered = sorted(activities, key=lambda x: (x.starts_on, x.id))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            gap = gap_days(a, b)
            if gap > window_days:
                continue
            kinds = shared_kinds(a, b)
            if kinds is None:
                continue
            places = shared_places(a, b, region_of)
            if places is None:
                continue
            host, guest = (a, b) if a.days >= b.days else (b, a)
            found.append(Overlap(host, guest, gap, kinds, places[0], places[1]))
    return found
