"""Starting from today's waiting list."""

from __future__ import annotations

import csv
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.model.pathway import Pathway
from sim.model.recorder import BAND_EDGES, BAND_NAMES
from sim.rtt.bands import band_counts
from sim.scenario.schema import ScenarioError
from tests.conftest import BEDFORDSHIRE, bundled

FROM_BACKLOG = ("run.years=1", "run.warmup_days=0")


def write(path: Path, rows: list[dict], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def known(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(5)
    weeks = np.round(rng.uniform(0, 80, 250), 1)
    rows = [{"stage": "orthopaedics", "condition": "knee", "weeks_waited": w, "priority": "routine"} for w in weeks]
    rows += [{"stage": "theatre", "condition": "hip", "weeks_waited": 30.0, "priority": "routine"}]
    return write(tmp_path / "backlog.csv", rows), np.append(weeks, 30.0)


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_backlog_reproduces_its_rtt_distribution_at_day_zero(known, design: str) -> None:
    path, weeks = known
    s = bundled(*FROM_BACKLOG, f"backlog.file={str(path)!r}")
    m = Pathway(s, design, 0)
    m.run()
    first = dict(zip(m.recorder.monthly_columns, m.recorder.monthly[0], strict=True))
    assert first["day"] == 0
    assert first["rtt_incomplete"] == len(weeks)
    ages = np.round(weeks * 7) / 7  # waits are held in whole days
    nhs = band_counts(ages)  # band k: more than k, at most k + 1 weeks
    edges = [int(min(e, len(nhs))) for e in BAND_EDGES]
    assert [first[b] for b in BAND_NAMES] == [int(nhs[a:b].sum()) for a, b in pairwise(edges)]
    assert first["rtt_over_52w"] == int((ages > 52).sum())
    assert first["orthopaedics_waiting"] == 250 and first["theatre_waiting"] == 1
    assert m.recorder.monthly[1][0] > 0, "then the months of the contract"


def test_backlog_patients_are_seen_first_and_the_list_falls(known) -> None:
    path, _ = known
    # room at the clinic and the theatre (the 2009/10 fit works them at a load over 1), and every
    # decision at the first attendance (its fitted 40% put off to a follow-up keep clocks running)
    s = bundled(*FROM_BACKLOG, f"backlog.file={str(path)!r}", "stages.orthopaedics.slots_per_week=1200",
                "surgery.slots_per_week=200", "stages.orthopaedics.decision_at_followup_share=0")  # fmt: skip
    m = Pathway(s, "fragmented", 0)
    m.run()
    over52 = [row[m.recorder.monthly_columns.index("rtt_over_52w")] for row in m.recorder.monthly]
    assert over52[0] > 50 and over52[2] == 0


@pytest.mark.parametrize(
    ("rows", "header", "key", "problem"),
    [
        ([{"stage": "orthopedics", "condition": "knee", "weeks_waited": "3"}], None, "row 1, column stage", "not a stage"),
        (
            [
                {"stage": "physio", "condition": "knee", "weeks_waited": "3"},
                {"stage": "physio", "condition": "elbow", "weeks_waited": "3"},
            ],
            None,
            "row 2, column condition",
            "not a condition",
        ),
        ([{"stage": "physio", "condition": "knee", "weeks_waited": "three"}], None, "row 1, column weeks_waited", "not a number"),
        ([{"stage": "physio", "condition": "knee", "weeks_waited": "-2"}], None, "row 1, column weeks_waited", "0 or more"),
        (
            [{"stage": "physio", "condition": "knee", "clock_start": "2015-01-01"}],
            None,
            "row 1, column clock_start",
            "after the run starts",
        ),
        (
            [{"stage": "physio", "condition": "knee", "clock_start": "01/02/2014"}],
            None,
            "row 1, column clock_start",
            "not a date",
        ),
        (
            [{"stage": "physio", "condition": "knee", "weeks_waited": "3", "priority": "soon"}],
            None,
            "row 1, column priority",
            "routine or urgent",
        ),
        ([{"stage": "physio", "weeks_waited": "3"}], None, "column condition", "required column is missing"),
        ([{"stage": "physio", "condition": "knee"}], None, "column weeks_waited", "weeks_waited or clock_start"),
        ([{"stage": "physio", "condition": "knee", "weeks_waited": "3", "ward": "x"}], None, "column ward", "unknown column"),
    ],
)
def test_bad_backlog_rows_name_row_and_column(tmp_path: Path, rows, header, key: str, problem: str) -> None:
    path = write(tmp_path / "bad.csv", rows, header)
    with pytest.raises(ScenarioError) as e:
        bundled(*FROM_BACKLOG, f"backlog.file={str(path)!r}")
    assert str(path) in str(e.value) and key in str(e.value) and problem in str(e.value)


def test_a_backlog_needs_no_warm_up(known) -> None:
    path, _ = known
    with pytest.raises(ScenarioError, match=r"run\.warmup_days"):
        bundled("run.years=1", "run.warmup_days=100", f"backlog.file={str(path)!r}")


def test_aggregate_backlog_is_generated() -> None:
    s = bundled(*FROM_BACKLOG, 'backlog.stages.orthopaedics={ "0-18" = 120, "52-104" = 30 }')
    m = Pathway(s, "fragmented", 0)
    waits = np.array([-d for d, _ in m.stages["orthopaedics"].routine]) / 7
    assert len(waits) == 150
    assert ((waits >= 52) & (waits <= 104)).sum() == 30
    needs = pd.Series([p.need for _, p in m.stages["orthopaedics"].routine]).value_counts()
    assert needs.get("surgical", 0) > needs.get("physio", 0) / 3, "orthopaedics sees more surgical need than the population"
    with pytest.raises(ScenarioError, match="weeks-waited band"):
        bundled(*FROM_BACKLOG, 'backlog.stages.orthopaedics={ "lots" = 3 }')


@pytest.mark.slow
def test_cli_backlog_option(known, tmp_path: Path) -> None:
    path, _ = known
    out = tmp_path / "o"
    args = ["compare", str(BEDFORDSHIRE), "--backlog", str(path), "--reps", "2", "--years", "1", "--quiet", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rtt = pd.read_csv(out / "rtt_monthly.csv")
    assert (rtt.groupby(["design", "replication"])["month_end"].first() == "2014-03-31").all()
    bad = CliRunner().invoke(app, [*args[:-2], "--out", str(tmp_path / "x"), "--backlog", str(tmp_path / "none.csv")])
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()
