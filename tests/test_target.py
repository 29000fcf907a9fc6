"""``msksim target`` finds the least capacity that meets a target: against queueing theory on a
single slot queue, and its search, its inputs and its output checked on their own."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from sim.scenario import load_scenario
from sim.target import HIGHEST, Target, TargetError, at_factor, capacity_values, check_target, search
from sim.values import toml_value
from tests.conftest import ALL_TO, BEDFORDSHIRE, scenario_from, single_stage
from tests.validation.test_queueing_theory import exact_mean_list

LAM = 8.0
"""Referrals a day to the single slot queue."""


def queue(slots_per_day: float, **run: int):
    raw = single_stage(LAM, 12)
    raw["stages"][ALL_TO]["slots_per_week"] = 7 * slots_per_day
    raw["run"] |= {"years": 3, "warmup_days": 120, "replications": 6, **run}
    return scenario_from(raw)


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
        (["orthopaedics"], Target("rtt_within_18", 92, True), "not a result column"),
        (["orthopaedics"], Target("design", 1, True), "not a number"),
        (["orthopaedics"], Target("rtt_incomplete_within_18w_pct", 92, True, year=9), "contract years 1 to 5"),
    ],
)
def test_a_target_that_cannot_be_searched_is_a_clear_error(stages: list[str], goal: Target, problem: str) -> None:
    s = load_scenario(BEDFORDSHIRE)
    with pytest.raises(TargetError, match=problem):
        capacity_values(s, "prime", stages)
        check_target(s, "prime", goal)


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
    for name in ("target.csv", "target_monthly.csv", "target.toml"):
        assert (out / name).exists(), name
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
