"""Simulated RTT returns beside published ones: the months matched, the statistics, the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.rtt.bands import BAND_LABELS
from sim.rtt.compare import beside, matching_months
from sim.rtt.returns import read_returns
from tests.conftest import BEDFORDSHIRE

DATA = Path(__file__).resolve().parents[2] / "data" / "rtt"
runner = CliRunner()


def test_months_are_matched_by_calendar_month_when_the_years_differ() -> None:
    simulated = ["2014-04", "2014-12", "2015-01", "2015-02", "2015-12", "2016-01"]
    assert matching_months(["2009-12", "2010-01"], simulated) == {"2009-12": "2014-12", "2010-01": "2015-01"}
    assert matching_months(["2015-12"], simulated) == {"2015-12": "2015-12"}, "the same month when the run has it"
    assert matching_months(["2009-07"], simulated) == {}


def frame(rows: list[tuple[int, str, str, list[int]]]) -> pd.DataFrame:
    out = []
    for rep, month, part, counts in rows:
        bands = np.zeros(len(BAND_LABELS), dtype=np.int64)
        bands[: len(counts)] = counts
        keys = {"replication": rep, "month": month, "treatment_function": "110", "part": part}
        out.append({**keys, **dict(zip(BAND_LABELS, bands, strict=True))})
    return pd.DataFrame(out)


def test_beside_gives_the_published_range_and_the_simulated_mean_over_replications() -> None:
    published = frame([(0, "2015-01", "admitted", [10, 10]), (0, "2015-02", "admitted", [0, 20, 20])]).drop(columns="replication")
    simulated = frame([(0, "2015-01", "admitted", [4]), (1, "2015-01", "admitted", [8])])
    row = beside(simulated, published, ["110"]).iloc[0]
    assert row["published_per_month"] == 30 and (row["published_per_month_low"], row["published_per_month_high"]) == (20, 40)
    assert row["published_within_18w_pct"] == 100.0
    # the NHS median sits at position (n + 1) / 2: 10.5 of [10, 10] is 1 + 0.5 / 10; 20.5 of [0, 20, 20] is 2 + 0.5 / 20
    assert row["published_median_weeks_low"] == pytest.approx(1.05)
    assert row["published_median_weeks_high"] == pytest.approx(2.025)
    assert row["simulated_per_month"] == 6 and row["simulated_per_month_low"] == 4 and row["simulated_per_month_high"] == 8


@pytest.mark.slow
def test_published_command_sets_a_run_beside_its_returns(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", str(BEDFORDSHIRE), "--design", "prime", "--reps", "1", "--years", "1", "--no-uncertainty"]
    done = runner.invoke(app, [*args, "--out", str(out), "--quiet", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    files = [arg for f in sorted(DATA.glob("rtt-commissioner-ccg-*")) for arg in ("--rtt", str(f))]
    shown = runner.invoke(app, ["published", str(out), *files, "--commissioner", "06F"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "incomplete, published" in shown.output and "2,249" in shown.output  # 06F T&O, mean of three months
    missing = runner.invoke(app, ["published", str(out), "--rtt", str(tmp_path / "none.csv"), "--commissioner", "06F"])
    assert missing.exit_code == 2 and "none.csv" in "".join(missing.output.split())  # Rich may wrap a long path


def test_published_rows_read_from_the_repository_data() -> None:
    table = read_returns(sorted(DATA.glob("rtt-commissioner-ccg-*")), "06F", ["110"])
    assert set(table["month"]) == {"2014-12", "2015-01", "2015-02"}
