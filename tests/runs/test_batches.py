"""Batches: identical results on any executor, resume after a kill, failures recorded, precision rule."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from typer.testing import CliRunner

import sim.runs.executors as executors
import sim.runs.experiment as experiment
import sim.runs.tasks as tasks
from cli import app
from sim.base.metrics import interval
from sim.runs.experiment import JOURNAL, Journal, Outcome, ProcessExecutor, SerialExecutor, Task, run_batch
from sim.scenario.loading import load_scenario
from tests.conftest import BEDFORDSHIRE, ROOT, bundled

SHORT = ("run.years=1", "run.warmup_days=60")


@pytest.mark.slow
def test_same_table_in_one_process_two_processes_and_a_dask_cluster(small: Path) -> None:
    distributed = pytest.importorskip("distributed")
    s = load_scenario(small, list(SHORT))
    one = run_batch(s, ["fragmented", "prime"], 3, executor=SerialExecutor()).table
    local = ProcessExecutor(2)
    try:
        two = run_batch(s, ["fragmented", "prime"], 3, executor=local).table
    finally:
        local.close()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = experiment.DaskExecutor(cluster.scheduler_address)
        try:
            on_cluster = run_batch(s, ["fragmented", "prime"], 3, executor=dask).table
        finally:
            dask.close()
    pdt.assert_frame_equal(one, two)
    pdt.assert_frame_equal(one, on_cluster)


@pytest.mark.slow
def test_uncertain_inputs_are_drawn_per_replication_and_shared_by_designs(small: Path) -> None:
    s = load_scenario(small, list(SHORT))
    t = run_batch(s, ["fragmented", "prime"], 3).table
    col = "param.demand.referrals_per_year"
    assert col in t.columns and "param.designs.prime.routing.specialist.physio" in t.columns
    per_rep = t.groupby(["replication", "design"])[col].first().unstack()
    assert (per_rep["fragmented"] == per_rep["prime"]).all(), "both designs must get the same draw"
    assert per_rep["prime"].nunique() == 3, "each replication draws its own"
    fixed = run_batch(s, ["prime"], 2, uncertainty=False).table
    assert not [c for c in fixed.columns if c.startswith("param.")]


def test_a_journal_line_cut_short_is_dropped(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.append(Outcome(Task(0, 0, "prime"), [{"year": 1, "x": 1.5}], {"weekly": [[0, 1, 2, 3]]}))
    with open(tmp_path / JOURNAL, "ab") as fh:
        fh.write(b'{"task": {"point": 0, "replication": 1, "design": "pr')  # killed mid-write
    done = j.read()
    assert list(done) == [Task(0, 0, "prime")]
    assert (tmp_path / JOURNAL).read_bytes().endswith(b"\n"), "the torn line is truncated away"


def _fake_task(values: dict[int, float]):
    def run(scenario, task, uncertainty=True):
        if values.get(task.replication) is None:
            return Outcome(task, [], {}, "Traceback: a drawn parameter was invalid")
        row = {"point": task.point, "design": task.design, "replication": task.replication, "year": 1}
        row["rtt_incomplete_within_18w_pct"] = values[task.replication]
        return Outcome(task, [row], {})

    return run


def test_a_failing_replication_is_recorded_and_the_batch_goes_on(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(executors, "run_task", _fake_task({0: 90.0, 1: None, 2: 91.0, 3: 89.0}))
    result = run_batch(bundled(), ["prime"], 4, folder=tmp_path)
    assert [o.task.replication for o in result.errors] == [1]
    assert sorted(result.table["replication"]) == [0, 2, 3]
    lines = (tmp_path / JOURNAL).read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[1])["error"].startswith("Traceback")


def test_precision_rule_stops_where_it_should(monkeypatch) -> None:
    """Synthetic metric: wide at first, then tight; the rule stops at the first check that passes."""
    rng = np.random.default_rng(3)
    values = {r: float(80 + (20 if r < 10 else 0.5) * rng.standard_normal()) for r in range(60)}
    monkeypatch.setattr(executors, "run_task", _fake_task(values))
    result = run_batch(bundled(), ["prime"], 60, precision=0.05, first_check=10, step=5)
    expected = 60  # recompute the rule by hand at each fixed check point
    for n in range(10, 61, 5):
        mean, low, high, _ = interval(np.array([values[r] for r in range(n)]))
        if (high - low) / 2 <= 0.05 * abs(mean):
            expected = n
            break
    assert result.replications == expected
    assert 10 < expected < 60, "the synthetic metric should stop neither at once nor at the cap"
    capped = run_batch(bundled(), ["prime"], 12, precision=1e-9, first_check=10, step=5)
    assert capped.replications == 12


@pytest.mark.slow
def test_resume_after_a_kill_gives_the_same_table(tmp_path: Path, small: Path) -> None:
    """Kill a real batch part way (SIGKILL), resume it, and compare with an uninterrupted run."""
    args = [str(small), "--reps", "4", "--years", "1", "--set", "run.warmup_days=60", "--jobs", "1", "--quiet"]
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-c", "from cli import app; app()", "compare", *args, "--out", str(killed)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = killed / JOURNAL
    deadline = time.time() + 120
    while time.time() < deadline:
        if journal.exists() and len(journal.read_bytes().splitlines()) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = len(journal.read_bytes().splitlines())
    assert 3 <= finished_before < 8, "the kill should land part way through"
    assert not (killed / "manifest.json").exists()
    resumed = CliRunner().invoke(app, ["compare", "--resume", str(killed), *args])
    assert resumed.exit_code == 0, resumed.output
    assert len(journal.read_bytes().splitlines()) == 8, "finished work was neither redone nor duplicated"
    whole = tmp_path / "whole"
    assert CliRunner().invoke(app, ["compare", *args, "--out", str(whole)]).exit_code == 0
    pdt.assert_frame_equal(pd.read_csv(killed / "replications.csv"), pd.read_csv(whole / "replications.csv"))


def _as_from_a_terminal() -> None:
    """Ctrl-C as a shell's child gets it: a test runner's worker may pass on SIGINT ignored or
    blocked, which a child keeps across exec, and then the interrupt never arrives."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.slow
def test_ctrl_c_says_what_is_kept_and_how_to_resume_without_the_scenario(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "stopped"
    args = ["run", str(small), "--reps", "8", "--years", "1", "--set", "run.warmup_days=60", "--jobs", "1", "--quiet"]
    cmd = [sys.executable, "-c", "from cli import app; app()", *args, "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_as_from_a_terminal)
    deadline = time.time() + 120
    while time.time() < deadline and not ((out / JOURNAL).exists() and (out / JOURNAL).read_bytes().count(b"\n") >= 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    said = "".join(err.decode().split())  # Rich may wrap anywhere
    assert proc.returncode == 130, err.decode()
    assert "finishedreplication(s)arekeptin" in said and f"continuewith:msksimrun--resume{out}" in said, err.decode()
    resumed = CliRunner().invoke(app, ["run", "--resume", str(out), "--quiet"])  # no scenario needed
    assert resumed.exit_code == 0, resumed.output
    assert sorted(pd.read_csv(out / "replications.csv")["replication"].unique()) == list(range(8))


@pytest.mark.slow
def test_a_scenario_given_with_resume_is_named_as_ignored(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "b"
    args = ["--reps", "1", "--years", "1", "--set", "run.warmup_days=30", "--jobs", "1", "--quiet", "--no-uncertainty"]
    assert CliRunner().invoke(app, ["run", str(small), *args, "--out", str(out)]).exit_code == 0
    other = ROOT / "scenarios" / "oldham.toml"
    resumed = CliRunner().invoke(app, ["run", str(other), "--resume", str(out), "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    assert "oldham.toml" in resumed.output and "ignored" in resumed.output


def test_a_command_without_a_scenario_or_resume_is_an_error() -> None:
    result = CliRunner().invoke(app, ["run", "--quiet"])
    assert result.exit_code == 2 and "give a scenario file" in result.output


@pytest.mark.slow
def test_a_folder_holding_a_batch_is_not_overwritten(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "b"
    args = ["run", str(small), "--reps", "1", "--years", "1", "--set", "run.warmup_days=30", "--quiet", "--out", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.output


@pytest.mark.slow
def test_failed_replications_make_the_command_fail_but_keep_the_rest(tmp_path: Path, monkeypatch, small: Path) -> None:
    """A replication that raises is recorded with its error; the others land."""

    class Flaky(tasks.Pathway):
        def run(self):
            if self.replication in (2, 4):
                raise FloatingPointError(f"replication {self.replication} went wrong")
            return super().run()

    monkeypatch.setattr(tasks, "Pathway", Flaky)
    out = tmp_path / "f"
    args = ["run", str(small), "--reps", "6", "--years", "1", "--set", "run.warmup_days=30"]
    result = CliRunner().invoke(app, [*args, "--quiet", "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 1
    assert "2 of 6 replications failed" in " ".join(result.output.split())
    errors = pd.read_csv(out / "errors.csv")
    landed = pd.read_csv(out / "replications.csv")
    assert sorted(errors["replication"]) == [2, 4]
    assert sorted(landed["replication"].unique()) == [0, 1, 3, 5]
    assert "went wrong" in errors["error"].iloc[0]


@pytest.mark.slow
def test_sweep_writes_one_row_per_point_design_replication_year(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", str(small), "--grid", "stages.physio.slots_per_week=400,480", "--grid", "demand.growth=0.02,0.06"]
    args += ["--reps", "2", "--years", "2", "--set", "run.warmup_days=60", "--no-uncertainty", "--quiet", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 4 * 2 * 2 * 2  # points × designs × replications × years
    assert {"stages.physio.slots_per_week", "demand.growth"} <= set(table.columns)
    assert table.groupby(["stages.physio.slots_per_week", "demand.growth", "design", "replication", "year"]).size().max() == 1
    # common random numbers across grid points: the same referrals at each capacity
    same_growth = table[table["demand.growth"] == 0.02]
    assert same_growth.groupby(["design", "replication", "year"])["referrals"].nunique().max() == 1
    summary = pd.read_csv(out / "sweep_summary.csv")
    assert len(summary[summary["metric"] == "rtt_incomplete_within_18w_pct"]) == 4 * 2


FROZEN_WORKER = """
import gc, json, sys
from sim.scenario.loading import load_scenario
from sim.runs.tasks import Task, run_task, worker_started
s = load_scenario(sys.argv[1], ["run.years=1", "run.warmup_days=30"])
worker_started()
counts = []
for rep in range(3):
    assert run_task(s, Task(0, rep, "prime"), uncertainty=False).error is None
    counts.append(gc.get_freeze_count())
print(json.dumps(counts))
"""


@pytest.mark.slow
def test_a_worker_sets_aside_what_it_keeps_and_frees_each_model() -> None:
    """A worker freezes what it inherited, and after each task what survived the collection:
    never a model (tens of thousands of objects), which would then never be freed."""
    done = subprocess.run([sys.executable, "-c", FROZEN_WORKER, str(BEDFORDSHIRE)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    first, second, third = json.loads(done.stdout.strip().splitlines()[-1])
    assert third - second < 2_000 and second - first < 2_000, (first, second, third)
