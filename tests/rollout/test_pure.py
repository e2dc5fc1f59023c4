"""Scoring, grouping and overlap detection: pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from saraban.rollout.grouping import AgencyFacts, LevelRule, group_agencies, level_for, providers_for
from saraban.rollout.overlap import Activity, find_overlaps
from saraban.rollout.scoring import OptionSpec, QuestionSpec, score

QUESTIONS = (
    QuestionSpec("system", "ระบบ", "choice",
                 (OptionSpec("none", weight=0, need="system"), OptionSpec("dga", weight=10))),
    QuestionSpec("certs", "ใบรับรอง", "number", weight=15, scale_max=3, need="certificates"),
    QuestionSpec("scanner", "สแกนเนอร์", "yes_no", (OptionSpec("yes", weight=5), OptionSpec("no", weight=0))),
    QuestionSpec("support", "ต้องการ", "multi_choice",
                 (OptionSpec("training", weight=0, need="training"), OptionSpec("budget", weight=0, need="budget"))),
    QuestionSpec("remarks", "หมายเหตุ", "text"),
)


def test_breakdown_sums_to_the_score() -> None:
    s = score(QUESTIONS, {"system": "dga", "certs": 2, "scanner": "yes", "support": ["training"], "remarks": "x"})
    assert s.points == sum(c.points for c in s.contributions) == pytest.approx(10 + 10 + 5)
    assert s.max_points == 30
    assert s.percent == pytest.approx(25 / 30 * 100)
    assert s.needs == ("training",)


def test_numbers_are_capped_and_low_answers_signal_the_need() -> None:
    assert score(QUESTIONS, {"certs": 9}).contributions[1].points == 15
    low = score(QUESTIONS, {"system": "none", "certs": 0, "scanner": False})
    assert set(low.needs) == {"system", "certificates"}
    assert low.points == 0


def test_editing_weights_changes_the_score() -> None:
    answers = {"system": "dga", "certs": 1, "scanner": "yes"}
    before = score(QUESTIONS, answers)
    heavier = (QuestionSpec("system", "ระบบ", "choice", (OptionSpec("none"), OptionSpec("dga", weight=40))),
               *QUESTIONS[1:])
    after = score(heavier, answers)
    assert after.points == before.points + 30
    assert after.percent > before.percent


def test_unanswered_questions_earn_nothing_but_count_in_the_maximum() -> None:
    s = score(QUESTIONS, {})
    assert s.points == 0 and s.max_points == 30 and s.needs == ()


RULES = [LevelRule("high", 70), LevelRule("medium", 40), LevelRule("low", 0)]


def test_levels_follow_the_rules() -> None:
    assert level_for(85, RULES) == "high"
    assert level_for(70, RULES) == "high"
    assert level_for(69.9, RULES) == "medium"
    assert level_for(10, RULES) == "low"


def test_editing_rules_moves_agencies_between_groups() -> None:
    facts = [AgencyFacts(1, "lao", 65, ("training",)), AgencyFacts(2, "lao", 80, ()), AgencyFacts(3, "opm", 65, ())]
    groups = group_agencies(facts, RULES)
    assert groups[("lao", "medium")].organisation_ids == [1]
    assert groups[("lao", "medium")].need_counts["training"] == 1
    assert groups[("opm", "medium")].size == 1
    lowered = [LevelRule("high", 60), LevelRule("medium", 40), LevelRule("low", 0)]
    moved = group_agencies(facts, lowered)
    assert moved[("lao", "high")].organisation_ids == [1, 2]
    assert ("lao", "medium") not in moved


def test_providers_for_a_need() -> None:
    providers = {"dga": ["system", "training"], "etda": ["certificates"], "nt": ["infrastructure"]}
    assert providers_for("training", providers) == ["dga"]
    assert providers_for("budget", providers) == []


D = dt.date
REGION = {"12": "Central", "13": "Central", "24": "East", "50": "North"}


def act(i: int, start: D, end: D, kinds: set[str] | None = None, provinces: set[str] | None = None,
        regions: set[str] | None = None, owner: str = "A") -> Activity:
    return Activity(i, owner, f"t{i}", start, end, frozenset(kinds or ()), frozenset(provinces or ()),
                    frozenset(regions or ()))


def test_overlapping_dates_and_places_are_flagged_with_a_proposal() -> None:
    opdc = act(1, D(2022, 12, 5), D(2022, 12, 16), regions={"Central"}, owner="สำนักงาน ก.พ.ร.")
    pmdu = act(2, D(2022, 12, 14), D(2022, 12, 14), {"sao"}, {"12"}, owner="สำนักงาน ป.ย.ป.")
    [found] = find_overlaps([opdc, pmdu], 14, REGION)
    assert found.gap_days == 0
    assert found.host.id == 1 and found.guest.id == 2
    assert found.provinces == {"12"}
    assert "ออกบูธ/บรรยายร่วมในงานของ สำนักงาน ก.พ.ร." in found.proposal_th


def test_adjacent_within_the_window_counts_and_outside_does_not() -> None:
    a = act(1, D(2023, 1, 1), D(2023, 1, 5), {"sao"}, {"12"})
    b = act(2, D(2023, 1, 12), D(2023, 1, 12), {"sao"}, {"12"})
    assert [o.gap_days for o in find_overlaps([a, b], 7, REGION)] == [7]
    assert find_overlaps([a, b], 6, REGION) == []


def test_disjoint_places_and_different_groups_do_not_overlap() -> None:
    a = act(1, D(2023, 1, 1), D(2023, 1, 5), {"sao"}, {"12"})
    elsewhere = act(2, D(2023, 1, 2), D(2023, 1, 3), {"sao"}, {"50"})
    other_group = act(3, D(2023, 1, 2), D(2023, 1, 3), {"department"}, {"12"})
    other_region = act(4, D(2023, 1, 2), D(2023, 1, 3), set(), regions={"East"})
    assert find_overlaps([a, elsewhere, other_group, other_region], 30, REGION) == []


def test_nationwide_and_every_kind_reach_everyone() -> None:
    a = act(1, D(2023, 1, 1), D(2023, 1, 5), {"sao"}, {"24"})
    b = act(2, D(2023, 1, 3), D(2023, 1, 3))
    [found] = find_overlaps([a, b], 0, REGION)
    assert found.kinds == {"sao"} and found.provinces == {"24"}
