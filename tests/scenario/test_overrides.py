"""A value set on a key that a design overrides does not reach that design: the commands say so,
name the key that wins, and a sweep never ranks values that did not change the design."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.report.verdicts import sweep_verdicts
from sim.scenario.loading import load_given, load_scenario, overridden
from tests.conftest import BEDFORDSHIRE

PRIME_ORTHO = "designs.prime.stage_overrides.orthopaedics.slots_per_week"


def test_the_key_that_wins_is_named() -> None:
    s = load_scenario(BEDFORDSHIRE)
    # prime_as_claimed is based on prime and inherits its override: prime's key changes both
    assert overridden(s, "stages.orthopaedics.slots_per_week") == {"prime": PRIME_ORTHO, "prime_as_claimed": PRIME_ORTHO}
    assert overridden(s, "surgery.slots_per_week")["prime"] == "designs.prime.stage_overrides.theatre.slots_per_week"
    assert overridden(s, "stages.physio.slots_per_week") == {}
    assert overridden(s, PRIME_ORTHO) == {}
    assert overridden(s, "run.years") == {}
    assert overridden(s, "stages.orthopaedics.slots_per_week", ["fragmented"]) == {}


def test_a_design_that_sets_its_own_value_is_named_with_its_own_key() -> None:
    s = load_scenario(BEDFORDSHIRE, ["designs.prime_as_claimed.stage_overrides.orthopaedics.slots_per_week=900"])
    won = overridden(s, "stages.orthopaedics.slots_per_week")
    assert won["prime_as_claimed"] == "designs.prime_as_claimed.stage_overrides.orthopaedics.slots_per_week"


def test_set_on_an_overridden_key_is_said() -> None:
    said: list[str] = []
    load_given(BEDFORDSHIRE, ["stages.orthopaedics.slots_per_week=900", "stages.physio.slots_per_week=2800"], warn=said.append)
    ortho = [m for m in said if "stages.orthopaedics.slots_per_week" in m]
    assert len(ortho) == 1 and "'prime', 'prime_as_claimed'" in ortho[0] and PRIME_ORTHO in ortho[0]
    assert not [m for m in said if "stages.physio" in m and "does not change" in m]
    quiet: list[str] = []
    load_given(BEDFORDSHIRE, ["stages.orthopaedics.slots_per_week=900"], warn=quiet.append, drawn=False)
    assert any("does not change" in m for m in quiet)  # said even when inputs are not drawn


def _summary(means: dict[str, list[float]], key: str, values: list[float]) -> pd.DataFrame:
    rows = []
    for design, by_point in means.items():
        for point, (v, mean) in enumerate(zip(values, by_point, strict=True)):
            rows.append({"point": point, key: v, "design": design, "metric": "rtt_incomplete_within_18w_pct",
                         "mean": mean, "ci_low": mean - 0.5, "ci_high": mean + 0.5, "n": 10})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_sweep_verdict_never_ranks_values_that_did_not_reach_the_design() -> None:
    key = "stages.orthopaedics.slots_per_week"
    s = load_scenario(BEDFORDSHIRE)
    summary = _summary({"fragmented": [90.0, 93.0, 95.0], "prime": [94.0, 94.0, 94.0]}, key, [550, 600, 650])
    verdicts = sweep_verdicts(summary, [key], "rtt_incomplete_within_18w_pct", s)
    assert "smallest" in verdicts["fragmented"] and "600" in verdicts["fragmented"]
    assert "does not change this design" in verdicts["prime"] and PRIME_ORTHO in verdicts["prime"]
    assert "smallest" not in verdicts["prime"] and "550" not in verdicts["prime"]


@pytest.mark.parametrize("metric", ["rtt_110_incomplete_within_18w_pct", "rtt_incomplete_within_18w_pct"])
def test_a_per_function_share_gets_a_verdict(metric: str) -> None:
    key = "surgery.slots_per_week"
    summary = _summary({"fragmented": [90.0, 93.0]}, key, [2600, 2800]).assign(metric=metric)
    verdict = sweep_verdicts(summary, [key], metric, load_scenario(BEDFORDSHIRE))["fragmented"]
    assert "smallest" in verdict and "2800" in verdict


@pytest.mark.slow
def test_a_sweep_over_an_overridden_key_warns_and_reads_a_per_function_metric(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", str(small), "--grid", "stages.orthopaedics.slots_per_week=30,40", "--designs", "fragmented,prime",
            "--metric", "rtt_110_incomplete_within_18w_pct", "--reps", "2", "--years", "1", "--set", "run.warmup_days=30",
            "--no-uncertainty", "--quiet", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "--grid stages.orthopaedics.slots_per_week does not change design 'prime'" in said
    assert f"prime: stages.orthopaedics.slots_per_week does not change this design: {PRIME_ORTHO} wins" in said
    summary = pd.read_csv(out / "sweep_summary.csv")
    ortho = summary[summary["metric"] == "rtt_110_incomplete_within_18w_pct"]
    assert len(ortho) == 2 * 2  # points × designs
    assert ortho["mean"].between(0, 100).all()
    # the prime ran alike at both points: the key did not reach it
    prime = ortho[ortho["design"] == "prime"]["mean"]
    assert prime.nunique() == 1


def test_an_unknown_metric_is_refused_with_the_nearest_names(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", str(small), "--grid", "stages.physio.slots_per_week=400,480", "--metric", "rtt_110_incomplete_within18",
            "--reps", "2", "--years", "1", "--quiet", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "--metric rtt_110_incomplete_within18" in said and "nearest: rtt_110_incomplete_within_18w_pct" in said
    assert not out.exists()
