"""The command line end to end: real (short) runs, their files and their contract columns."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
SHORT = ["--reps", "2", "--years", "1", "--set", "run.warmup_days=60", "--jobs", "2", "--quiet"]

CONTRACT_COLUMNS = [
    "design", "replication", "year", "referrals", "gp_consultations", "triage_contacts", "physio_contacts",
    "first_op_attendances", "followup_op_attendances", "surgeries_daycase", "surgeries_inpatient", "conversion_rate",
    "hospital_diversion_pct", "rtt_incomplete_within_18w_pct", "rtt_wait_p92_weeks", "journey_weeks_mean", "journey_weeks_p92",
    "waiting_list_end", "commissioner_cost_gbp", "prime_surplus_gbp",
]  # fmt: skip


@pytest.fixture(scope="module")
def compared(tmp_path_factory, small: Path):
    out = tmp_path_factory.mktemp("run") / "cmp"
    result = runner.invoke(app, ["compare", str(small), *SHORT, "--out", str(out), "--set", "surgery.beds=30"])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.mark.slow
def test_compare_prints_side_by_side(compared) -> None:
    _, output = compared
    for text in ("fragmented", "prime", "prime - fragmented", "Commissioner", "RTT within"):
        assert text in output


@pytest.mark.slow
def test_compare_writes_files_with_contract_columns(compared) -> None:
    out, _ = compared
    files = {p.name for p in out.iterdir()}
    assert {"manifest.json", "replications.csv", "scenario.toml", "summary.csv", "warmup.csv", "warmup.png"} <= files
    assert not [f for f in files if f.startswith(".") or f.endswith(".tmp")], "a temporary file was left behind"
    reps = pd.read_csv(out / "replications.csv")
    assert [c for c in CONTRACT_COLUMNS if c not in reps.columns] == []
    assert len(reps) == 2 * 2 * 1  # designs × replications × years
    summary = pd.read_csv(out / "summary.csv")
    assert {"fragmented", "prime", "prime - fragmented"} <= set(summary["scope"])
    assert {"mean", "ci_low", "ci_high", "n"} <= set(summary.columns)


def test_resolved_scenario_and_manifest(compared) -> None:
    out, _ = compared
    resolved = tomllib.loads((out / "scenario.toml").read_text())
    assert resolved["surgery"]["beds"] == 30  # the --set is in the saved scenario
    assert resolved["run"]["replications"] == 2
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("msksim_version", "seed", "command", "started", "finished", "scenario"):
        assert key in manifest


@pytest.mark.slow
def test_run_one_design_json(tmp_path, small: Path) -> None:
    out = tmp_path / "one"
    result = runner.invoke(app, ["run", str(small), "--design", "prime", *SHORT, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["summary"]) == {"prime"}
    assert data["summary"]["prime"]["referrals"]["mean"] > 0
    assert set(pd.read_csv(out / "replications.csv")["design"]) == {"prime"}


@pytest.mark.slow
def test_same_seed_same_files(tmp_path, compared, small: Path) -> None:
    """Re-running the same command reproduces replications.csv exactly."""
    out, _ = compared
    again = tmp_path / "again"
    result = runner.invoke(app, ["compare", str(small), *SHORT, "--out", str(again), "--set", "surgery.beds=30"])
    assert result.exit_code == 0
    assert (again / "replications.csv").read_text() == (out / "replications.csv").read_text()
