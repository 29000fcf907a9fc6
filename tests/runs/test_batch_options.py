"""Batch options that must say what happened: precision targets, metrics, schedulers,
values fixed by hand against uncertain inputs, resumed batches and result file modes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.runs.results import FILE_MODE
from tests.conftest import BEDFORDSHIRE

runner = CliRunner()
QUICK = ["--years", "1", "--set", "run.warmup_days=60", "--jobs", "1", "--quiet"]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args])
    return result.exit_code, result.output


@pytest.mark.slow
def test_precision_not_reached_is_said_and_recorded(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "p"
    code, output = run(
        "run", str(small), "--design", "prime", "--reps", "2", "--precision", "0.000001", "--out", str(out), *QUICK
    )
    assert code == 0, output
    said = " ".join(output.split())
    assert "NOT met after 2 replications" in said and "it reached ±" in said, "the half-width reached is given"
    assert "commissioner_cost_gbp" in said, "by default it watches the spend, which varies, not a share pinned at 100%"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["precision_met"] is False and manifest["batch"]["metric"] == "commissioner_cost_gbp"


def test_unknown_metric_fails_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "m"
    code, output = run("run", str(BEDFORDSHIRE), "--precision", "0.05", "--metric", "rtt_incomplet_18w_pct", "--out", str(out))
    assert code == 2
    assert "nearest: rtt_incomplete_within_18w_pct" in " ".join(output.split())
    assert not out.exists()


def test_unusable_scheduler_fails_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "s"
    code, output = run("run", str(BEDFORDSHIRE), "--scheduler", "notaurl::", "--out", str(out), "--quiet")
    assert code == 2 and "--scheduler" in output
    assert not out.exists()


@pytest.mark.slow
def test_a_swept_value_is_used_even_where_it_is_uncertain(tmp_path: Path, small: Path) -> None:
    """Referrals a year carry a distribution in the bundled scenario; a grid over them
    must still run each point at its own value (the other inputs stay uncertain)."""
    out = tmp_path / "sw"
    code, output = run(
        "sweep", str(small), "--grid", "demand.referrals_per_year=4000,8000", "--designs", "prime",
        "--reps", "1", "--out", str(out), *QUICK,
    )  # fmt: skip
    assert code == 0, output
    t = pd.read_csv(out / "sweep.csv")
    by_point = t.groupby("demand.referrals_per_year")["referrals"].mean()
    assert by_point[4000] == pytest.approx(4000 * 1.02, rel=0.06)
    assert by_point[8000] == pytest.approx(8000 * 1.02, rel=0.06)
    assert "param.demand.referrals_per_year" not in t.columns
    assert "param.demand.growth" in t.columns


@pytest.mark.slow
def test_result_files_follow_the_umask_and_resume_can_extend(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "r"
    code, output = run("run", str(small), "--design", "prime", "--reps", "1", "--out", str(out), *QUICK)
    assert code == 0, output
    for name in ("replications.csv", "manifest.json", "scenario.toml"):
        assert os.stat(out / name).st_mode & 0o777 == FILE_MODE
    first = pd.read_csv(out / "replications.csv")
    code, output = run("run", str(small), "--resume", str(out), "--reps", "2", "--seed", "9", "--quiet")
    assert code == 2 and "--seed cannot change a batch that is resumed" in " ".join(output.split())
    code, output = run("run", str(small), "--resume", str(out), "--reps", "2", "--quiet")
    assert code == 0, output
    both = pd.read_csv(out / "replications.csv")
    assert sorted(both["replication"].unique()) == [0, 1]
    pd.testing.assert_frame_equal(both[both.replication == 0].reset_index(drop=True), first, check_dtype=False)
    assert json.loads((out / "manifest.json").read_text())["replications"] == 2


def test_help_shows_bracketed_words_examples_and_plain_metavars() -> None:
    """Rich markup used to swallow "[uncertainty]"; list options read <list[str]>."""
    for command in ("run", "compare", "sweep", "bid", "calibrate", "national", "validate", "report", "published"):
        result = runner.invoke(app, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0
        assert "Example: msksim " + command in result.output
        assert "list[str]" not in result.output and "<bool>" not in result.output
    text = runner.invoke(app, ["run", "--help"], terminal_width=200).output
    assert "ignoring [uncertainty]" in text and "--set KEY=VALUE" in text
    assert "--precision watches" not in runner.invoke(app, ["sweep", "--help"], terminal_width=200).output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("msksim ")
