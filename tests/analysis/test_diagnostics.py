"""Diagnostics and run-level rules: theatre and bed load, backlogs at services a design
lacks, the long-waiter rule's place behind urgent referrals, health lost by those still
waiting, and JSON that other programs can read."""

from __future__ import annotations

import csv
import json
from collections import deque
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis import diagnostics
from sim.analysis.flows import stage_load
from sim.model.capacity import effective_weekly
from sim.model.pathway import Pathway
from sim.model.patient import Patient
from sim.runs.experiment import run_replications
from tests.conftest import AT_CAPACITY_SET, BEDFORDSHIRE, NO_REMOVALS, bundled, scenario_from, single_stage

runner = CliRunner()
SHORT = ("run.years=1", "run.warmup_days=120", "demand.growth=0", AT_CAPACITY_SET)


@pytest.mark.slow
def test_an_overloaded_theatre_is_flagged() -> None:
    s = bundled(*SHORT, "surgery.slots_per_week=60")
    t = run_replications(s, ["fragmented"], 2, uncertainty=False)
    checks = diagnostics.stage_checks(t, s)
    theatre = checks[checks.stage == "theatre"].iloc[0]
    assert theatre.load > 1.5  # about 4,300 listed a year against 60 slots a week
    msgs = diagnostics.warnings(checks, 2)
    assert any("theatre is over capacity" in m and "held only by those who leave it unseen" in m for m in msgs)
    assert any("needs surgery.slots_per_week of about" in m and "(now 60)" in m for m in msgs), "advice in the key's units"
    checks["removals"] = False  # a list nobody leaves unseen grows for ever
    assert any("theatre is over capacity" in m and "grow without limit" in m for m in diagnostics.warnings(checks, 2))
    fine = bundled(*SHORT)
    ok = diagnostics.stage_checks(run_replications(fine, ["fragmented"], 2, uncertainty=False), fine)
    assert 0.5 < ok[ok.stage == "theatre"].load.iloc[0] < 1
    assert 0 < ok[ok.stage == "beds"].load.iloc[0] < 1


@pytest.mark.slow
def test_the_simulated_load_is_the_load_validate_shows() -> None:
    """One definition: every appointment asked for over every slot offered. In steady state
    (a long warm-up: a rheumatology course runs most of a year) the simulated load agrees with
    validate's, from the traffic equations."""
    s = bundled("run.years=1", "run.warmup_days=730", "demand.growth=0", AT_CAPACITY_SET, *NO_REMOVALS)  # nobody leaves unseen
    checks = diagnostics.stage_checks(run_replications(s, ["fragmented"], 2, uncertainty=False), s)
    for stage, demand in stage_load(s, "fragmented").items():
        simulated = checks[checks.stage == stage].load.iloc[0]
        assert simulated == pytest.approx(demand / effective_weekly(s, stage, "fragmented"), rel=0.06), stage


def test_backlog_at_a_service_the_design_lacks_waits_where_its_referrals_go(tmp_path: Path) -> None:
    """400 patients waiting for triage: the fragmented design has no triage, so they wait at
    the services their GP would choose, with the same time waited; none is dropped."""
    path = tmp_path / "triage.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["stage", "condition", "weeks_waited", "priority"])
        w.writeheader()
        w.writerows({"stage": "triage", "condition": "back_neck", "weeks_waited": 10, "priority": "routine"} for _ in range(400))
    s = bundled("run.years=1", "run.warmup_days=0", f"backlog.file={str(path)!r}")
    for design in ("fragmented", "prime"):
        m = Pathway(s, design, 0)
        assert m.counts.created == 400
        waiting = m.census()
        assert len(waiting) == 400 and all(p.referred == -70 for p in waiting)
    frag = Pathway(s, "fragmented", 0)
    places = {p.at for p in frag.census()}
    chosen = {dest for row in s.gp.referral.values() for dest, p in row.items() if p > 0}
    assert "triage" not in places and places <= chosen and len(places) > 1


def test_long_waiters_go_before_routine_patients_but_after_urgent_ones() -> None:
    s = bundled("run.years=1", "stages.orthopaedics.booking='long_waiters_first'", "stages.orthopaedics.long_wait_weeks=40")
    m = Pathway(s, "fragmented", 0)
    clinic = m.stages["orthopaedics"]
    day = 400

    def patient(pid: int, urgent: bool, clock: int) -> Patient:
        p = Patient(pid, 0, "specialist", urgent, clock, pid, 0.5, 0.5, 0.5)
        p.clock = clock
        return p

    urgent = patient(1, True, day - 7)
    fresh, old, older = patient(2, False, day - 70), patient(3, False, day - 300), patient(4, False, day - 350)
    clinic.urgent = deque([(day - 7, urgent)])
    clinic.routine = deque([(day - 70, fresh), (day - 60, old), (day - 50, older)])
    clinic._long_waiters_to_front(day)
    assert [p.pid for _, p in clinic.urgent] == [1]
    assert [p.pid for _, p in clinic.routine] == [4, 3, 2]


def test_health_lost_by_those_still_waiting_counts() -> None:
    """No slots at all: nobody is ever treated, yet everyone referred loses health while waiting."""
    raw = single_stage(3.0, 0)
    raw["run"].update(warmup_days=0, years=1)
    raw["demand"]["conditions"]["all"]["utility_loss"] = 0.1
    row = Pathway(scenario_from(raw), "fragmented", 0).run()[0]
    # about 1,096 referrals a year waiting half a year on average at 0.1 below full health
    assert row["qaly_lost_waiting"] == pytest.approx(row["referrals"] * 0.1 * 0.5, rel=0.1)


@pytest.mark.slow
def test_json_output_is_strict_json_even_with_a_report(tmp_path: Path) -> None:
    out = tmp_path / "j"
    args = ["run", str(BEDFORDSHIRE), "--design", "prime", "--reps", "1", "--years", "1", "--set", "run.warmup_days=30"]
    result = runner.invoke(app, [*args, "--quiet", "--json", "--report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    stdout = result.stdout
    data = json.loads(stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))
    assert data["summary"]["prime"]["referrals"]["ci_low"] is None  # one replication: no interval
    assert (out / "report.html").exists()


def test_where_the_rule_of_thumb_and_the_capacity_simulated_differ_the_report_says_why() -> None:
    import pandas as pd

    checks = pd.DataFrame([
        {"design": "prime", "stage": "orthopaedics", "key": "k.o", "key_value": 1000.0, "key_needed": 700.0, "load": 0.70},
        {"design": "prime", "stage": "theatre", "key": "k.t", "key_value": 100.0, "key_needed": 125.0, "load": 1.25},
        {"design": "prime", "stage": "physio", "key": "k.p", "key_value": 100.0, "key_needed": 95.0, "load": 0.95},
        {"design": "prime", "stage": diagnostics.BEDS, "key": "k.b", "key_value": 10.0, "key_needed": 20.0, "load": 2.0},
    ])  # fmt: skip
    said = diagnostics.rule_gaps(checks)
    assert len(said) == 2  # physio within 10%, beds not a service
    assert "orthopaedics" in said[0] and "-30%" in said[0] and "load of 0.70" in said[0] and "msksim target" in said[0]
    assert "theatre" in said[1] and "+25%" in said[1] and "no steady state" in said[1]
