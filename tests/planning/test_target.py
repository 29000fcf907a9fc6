"""``msksim target`` finds the least capacity that meets a target: against queueing theory on a
single slot queue, and its search, its inputs and its output checked on their own."""

from __future__ import annotations

import math
import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis.diagnostics import expected_loads
from sim.planning.answer import horizon, reconcile, rules_of_thumb, years_to
from sim.planning.target import (
    HIGHEST,
    Load,
    Target,
    TargetError,
    Trial,
    at_factor,
    capacity_values,
    check_target,
    least_safe_factor,
    search,
)
from sim.scenario.loading import load_scenario
from sim.scenario.values import toml_value
from tests.conftest import ALL_TO, BEDFORDSHIRE, scenario_from, single_stage
from tests.validation.test_queueing_theory import exact_mean_list

LAM = 8.0
"""Referrals a day to the single slot queue."""


def queue(slots_per_day: float, **run: int):
    raw = single_stage(LAM, 12)
    raw["stages"][ALL_TO]["slots_per_week"] = 7 * slots_per_day
    raw["run"] |= {"years": 3, "warmup_days": 120, "replications": 6, **run}
    return scenario_from(raw)


@pytest.mark.slow
def test_finds_the_capacity_theory_gives() -> None:
    """With 8 referrals a day the mean list is L(9) at 9 slots a day and L(10) at 10 (the exact
    Markov chain): asked for a list at most halfway between, the search must land between 9 and
    10 slots a day, starting from 12."""
    at_9, at_10 = exact_mean_list(LAM, 9), exact_mean_list(LAM, 10)
    assert at_9 > 2 * at_10  # far enough apart for 6 replications of 3 years to tell
    goal = Target(f"{ALL_TO}_list_mean", (at_9 + at_10) / 2, at_least=False, probability=0.5)
    answer, trials = search(queue(12), "fragmented", [ALL_TO], goal, tolerance=0.01, uncertainty=False)
    assert answer is not None and answer.met
    per_day = answer.slots[f"stages.{ALL_TO}.slots_per_week"] / 7
    assert 9.0 < per_day <= 10.0 * 1.01, f"found {per_day:.3f} slots a day"
    # the bracket it stopped at: a trial within 1% below it missed
    below = [t for t in trials if not t.met and t.factor < answer.factor]
    assert below and answer.factor / max(t.factor for t in below) - 1 <= 0.01 + 1e-12
    assert trials[0].factor == 1.0 and trials[0].met  # 12 a day meets it, so the search went down


@pytest.mark.slow
def test_a_target_no_capacity_meets_is_said() -> None:
    """A list of at most -1 is never met: the search stops at its highest factor and says so."""
    answer, trials = search(queue(12, replications=2, years=1), "fragmented", [ALL_TO],
                            Target(f"{ALL_TO}_list_mean", -1.0, at_least=False, probability=0.5), uncertainty=False)  # fmt: skip
    assert answer is None
    assert [t.factor for t in trials] == [1.0, 2.0, 4.0, 8.0, HIGHEST]


def test_the_values_searched_are_the_design_s_own() -> None:
    """The prime design's orthopaedics and theatre are its overrides; physio is the shared stage."""
    s = load_scenario(BEDFORDSHIRE, ["stages.physio.capacity_changes=[{ from_date = 2016-04-01, slots_per_week = 3000 }]"])
    values = capacity_values(s, "prime", ["orthopaedics", "theatre", "physio"])
    assert values == {
        "designs.prime.stage_overrides.orthopaedics.slots_per_week": 1105,
        "designs.prime.stage_overrides.theatre.slots_per_week": 152.9,
        "stages.physio.slots_per_week": 2_750,
        "stages.physio.capacity_changes": [{"from_date": date(2016, 4, 1), "slots_per_week": 3000}],
    }
    doubled = at_factor(s, values, 2.0)
    assert doubled.design_stages("prime")["orthopaedics"].slots_per_week == pytest.approx(2_210)
    assert doubled.design_surgery("prime").slots_per_week == pytest.approx(305.8)
    assert doubled.stages["physio"].capacity_changes[0].slots_per_week == pytest.approx(6_000)
    assert doubled.stages["orthopaedics"].slots_per_week == 967.6  # the fragmented design's is left alone


def test_staff_are_scaled_with_their_slots() -> None:
    s = load_scenario(BEDFORDSHIRE, ["stages.triage.staff=[{ wte = 5, sessions_per_wte = 10, slots_per_session = 23 }]"])
    values = capacity_values(s, "prime", ["triage"])
    assert set(values) == {"stages.triage.slots_per_week", "stages.triage.staff"}
    assert at_factor(s, values, 1.5).stages["triage"].slots_per_week == pytest.approx(1_725)
    assert at_factor(s, values, 1.5).stages["triage"].staff[0].wte == pytest.approx(7.5)


@pytest.mark.parametrize(
    ("stages", "goal", "problem"),
    [
        (["surgery"], Target("rtt_incomplete_within_18w_pct", 92, True), "not a service of design 'prime'"),
        (["orthopaedics"], Target("rtt_within_18", 92, True), "nearest: rtt_incomplete_within_18w_pct"),
        (["orthopaedics"], Target("rtt_11_incomplete_within_18w_pct", 92, True), "rtt_110_incomplete_within_18w_pct"),
        (["orthopaedics"], Target("design", 1, True), "not a measure a run of prime writes"),
        (["orthopaedics"], Target("rtt_incomplete_within_18w_pct", 101, True), "a percentage, between 0 and 100"),
        (["orthopaedics"], Target("rtt_incomplete_within_18w_pct", float("nan"), True), "a finite number"),
        (["orthopaedics"], Target("rtt_110_clock_starts_per_month", 9, True), "no better direction"),
        (["orthopaedics"], Target("rtt_incomplete_within_18w_pct", 92, True, max_load=1.2), "--max-load 1.2"),
        (["orthopaedics"], Target("rtt_incomplete_within_18w_pct", 92, True, year=9), "contract years 1 to 5"),
    ],
)
def test_a_target_that_cannot_be_searched_is_a_clear_error(stages: list[str], goal: Target, problem: str) -> None:
    s = load_scenario(BEDFORDSHIRE)
    with pytest.raises(TargetError, match=problem):
        capacity_values(s, "prime", stages)
        check_target(s, "prime", goal)


def test_a_target_per_treatment_function_is_accepted() -> None:
    """The NHS reports waits by treatment function: trauma and orthopaedics' share is a target."""
    s = load_scenario(BEDFORDSHIRE)
    check_target(s, "prime", Target("rtt_110_incomplete_within_18w_pct", 92, True))
    check_target(s, "fragmented", Target("rtt_110_admitted_median_weeks", 12, False))


@pytest.mark.slow
def test_the_search_never_recommends_a_load_at_or_above_the_maximum() -> None:
    """A target any capacity meets (a list of at most a million) would be met far below demand;
    the search stops at the least capacity whose load stays under the maximum in every year. With
    referrals growing 10% a year, the last year binds: 8 a day grown over year 3 (the mean factor
    of 1.1^t over it) over 0.95 slots a day, to the 0.1% the floor is found to."""
    raw = single_stage(LAM, 12)
    raw["run"] |= {"years": 3, "warmup_days": 60, "replications": 2}
    raw["demand"]["growth"] = 0.1
    s = scenario_from(raw)
    goal = Target(f"{ALL_TO}_list_mean", 1e6, at_least=False, probability=0.5, max_load=0.95)
    answer, trials = search(s, "fragmented", [ALL_TO], goal, uncertainty=False)
    assert answer is not None and answer.at_floor and answer.peak is not None
    assert answer.peak.year == 3 and answer.peak.load < 0.95
    grown = (1.1**3 - 1.1**2) / math.log(1.1)
    per_day = answer.slots[f"stages.{ALL_TO}.slots_per_week"] / 7
    assert LAM * grown / 0.95 < per_day < LAM * grown / 0.95 * 1.002
    assert all(t.peak.load < 0.95 for t in trials)  # nothing at or over the maximum was even tried
    loads = expected_loads(at_factor(s, capacity_values(s, "fragmented", [ALL_TO]), answer.factor), "fragmented")
    assert max(loads[ALL_TO]) == pytest.approx(answer.peak.load) and max(loads[ALL_TO]) < 0.95


def test_the_floor_follows_the_maximum_load() -> None:
    s = queue(12)
    values = capacity_values(s, "fragmented", [ALL_TO])
    for most in (0.5, 0.8, 0.95, 1.0):
        floor = least_safe_factor(s, "fragmented", [ALL_TO], values, most)
        assert floor is not None
        assert LAM / most < 12 * floor <= LAM / most * 1.002


def test_the_rule_of_thumb_is_the_steady_state_of_one_service() -> None:
    """8 referrals a day, every day open: 56 slots a week asked, and Kingman's margin at a mean
    wait of 18 / 4 weeks with coefficients of variation 1 is 4 / 18 of a slot a week more."""
    s = queue(12)
    rules = rules_of_thumb(s, "fragmented", capacity_values(s, "fragmented", [ALL_TO]))
    assert rules == {f"stages.{ALL_TO}.slots_per_week": pytest.approx(7 * LAM + 4 / 18, rel=1e-3)}


def test_the_rule_of_thumb_and_the_answer_are_reconciled() -> None:
    answer = Trial(factor=1.2, slots={}, met_share=1.0, met_low=0.7, met_high=1.0, metric_mean=93.0, cost_gbp=0.0,
                   cost_metric="capacity_cost_gbp", met=True, peak=Load(0.949, "orthopaedics", 2), at_floor=True)  # fmt: skip
    loads = pd.DataFrame([
        {"stage": "orthopaedics", "searched": True, "year_1": 0.94, "year_2": 0.949, "key": "o", "rule_of_thumb": 100.0,
         "found": 112.0},
        {"stage": "theatre", "searched": True, "year_1": 0.85, "year_2": 0.86, "key": "t", "rule_of_thumb": 100.0,
         "found": 125.0},
        {"stage": "rheumatology", "searched": True, "year_1": 0.9, "year_2": 0.91, "key": "r", "rule_of_thumb": 100.0,
         "found": 95.0},
        {"stage": "physio", "searched": False, "year_1": 0.5, "year_2": 0.5, "key": "", "rule_of_thumb": math.nan,
         "found": math.nan},
    ])  # fmt: skip
    said = reconcile(loads, answer, Target("rtt_incomplete_within_18w_pct", 92, True))
    assert len(said) == 3  # the searched services with a rule
    assert "(+12%)" in said[0] and "--max-load" in said[0]  # the maximum load binds it
    assert "(+25%)" in said[1] and "orthopaedics sets it" in said[1] and "0.860" in said[1]
    assert "(-5%)" in said[2] and said[2].endswith(".") and ":" not in said[2].split("(-5%)")[1]


def test_a_list_still_growing_in_the_target_s_year_is_not_settled() -> None:
    """A list that grows 30% over the year of the target (referrals 2%) meets it only because it
    has not grown yet; one that grows as referrals do has settled. And an unsearched service at
    the maximum load is warned of."""
    s = queue(12, years=2)
    s = s.model_copy(update={"demand": s.demand.model_copy(update={"growth": 0.02})})
    months = pd.date_range(s.run.start_date, periods=24, freq="ME").strftime("%Y-%m-%d")
    loads = pd.DataFrame([
        {"stage": ALL_TO, "searched": True, "year_1": 0.9, "year_2": 0.92},
        {"stage": "other", "searched": False, "year_1": 0.9, "year_2": 0.97},
    ])  # fmt: skip

    def said(growth_in_year_2: float) -> list[str]:
        size = [1000.0] * 12 + [1000.0 * (1 + growth_in_year_2 * i / 11) for i in range(12)]
        answer = Trial(factor=1.0, slots={}, met_share=1.0, met_low=0.7, met_high=1.0, metric_mean=93.0, cost_gbp=0.0,
                       cost_metric="capacity_cost_gbp", met=True, peak=Load(0.92, ALL_TO, 2),
                       monthly=pd.DataFrame({"month_end": months, "rtt_incomplete": size}))  # fmt: skip
        return horizon(s, "fragmented", loads, answer, Target("rtt_incomplete_within_18w_pct", 92, True, year=2))

    growing = said(0.3)
    assert any(line.startswith("Not settled") for line in growing)
    assert any("Warning: other, not searched, has a load of 0.970 in year 2" in line for line in growing)
    assert any("the target binds" in line for line in growing)
    assert any(line.startswith("Settled") for line in said(0.02))


def test_years_to_a_load() -> None:
    assert years_to(0.9, 1.0, 0.03) == pytest.approx(math.log(1 / 0.9) / math.log(1.03))
    assert years_to(1.1, 1.0, 0.03) == 0.0
    assert years_to(0.9, 1.0, 0.0) == math.inf


@pytest.mark.slow
def test_target_command_writes_the_answer_as_a_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "queue.toml"
    raw = single_stage(LAM, 12)
    raw["run"] |= {"years": 2, "warmup_days": 60, "replications": 2}
    scenario.write_text(_toml(raw), encoding="utf-8")
    out = tmp_path / "found"
    args = ["target", str(scenario), "--stage", ALL_TO, "--metric", f"{ALL_TO}_queue_wait_mean_days", "--at-most", "1.0",
            "--probability", "0.5", "--tolerance", "0.05", "--no-uncertainty", "--jobs", "1", "--quiet",
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Least capacity found" in said
    for name in ("target.csv", "target_monthly.csv", "target_loads.csv", "target.toml"):
        assert (out / name).exists(), name
    assert "Highest expected load of the searched services" in said and "Expected load at that capacity" in said
    assert "under 0.95 in every year of the run" in (out / "target.toml").read_text(encoding="utf-8")
    found = load_scenario(out / "target.toml")
    written = tomllib.loads((out / "target.toml").read_text(encoding="utf-8"))
    assert found.stages[ALL_TO].slots_per_week == written["stages"][ALL_TO]["slots_per_week"] < 7 * 12
    bad = CliRunner().invoke(app, [*args[:6], "--at-least", "1", "--at-most", "2", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "one way" in bad.output and not (tmp_path / "x").exists()


def _toml(data: dict, prefix: str = "") -> str:
    """A nested dict as TOML tables (enough for a test scenario)."""
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    nested = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix and plain else []
    lines += [f'"{k}" = {toml_value(v)}' for k, v in plain.items()]
    for k, v in nested.items():
        lines.append(_toml(v, f'{prefix}."{k}"' if prefix else f'"{k}"'))
    return "\n".join(lines) + "\n"
