"""msksim national: the areas and their populations (sim.national.areas), and a whole batch on
three small areas of the bundled returns, one with a malformed row and one with a return
missing, run through local processes, resumed, and run again on a local Dask cluster."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import distributed
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.national.areas import (
    ENGLAND_POPULATION,
    NATIONAL_COMMISSIONERS,
    AreaError,
    chosen,
    clock_stops,
    england_population,
    estimated,
    read_population_file,
)
from sim.rtt.returns import commissioners, read_returns
from tests.conftest import BEDFORDSHIRE, ROOT, default_signals, refused, stopped_by

CCG = sorted((ROOT / "data" / "rtt").glob("rtt-commissioner-ccg-*.csv"))
MONTHS = ["2014-12", "2015-01", "2015-02"]
FAST = ["--reps", "1", "--rounds", "0", "--compare-reps", "2", "--set", "run.years=1", "--set", "run.warmup_days=120",
        "--quiet"]  # fmt: skip
"""A batch as short as a test of what it writes can make it: the fit's first guess, one year compared."""


@pytest.fixture(scope="module")
def stops() -> pd.Series:
    return clock_stops(read_returns(CCG, treatment_functions=["999"]))


def test_every_area_gets_its_share_of_england(stops: pd.Series) -> None:
    england, _ = england_population(MONTHS)
    areas = [c for c in stops.index if c not in NATIONAL_COMMISSIONERS]
    total = sum(estimated(stops, c, MONTHS)[0] for c in areas)
    assert len(areas) == 211
    assert abs(total - england) < len(areas)  # each rounded to a person
    people, how = estimated(stops, "06F", MONTHS)
    assert 0.9 * 440_000 < people < 1.1 * 440_000  # Bedfordshire CCG: about 440,000
    assert how.startswith("estimated from the returns") and "211 commissioners" in how


def test_england_between_mid_year_estimates() -> None:
    value, how = england_population(MONTHS)  # mid-January 2015: 6.5 months after mid-2014
    expected = ENGLAND_POPULATION[2014] + 6.5 / 12 * (ENGLAND_POPULATION[2015] - ENGLAND_POPULATION[2014])
    assert value == pytest.approx(expected)
    assert "mid-2014 and mid-2015" in how
    with pytest.raises(AreaError, match="--population FILE"):
        england_population(["2024-01", "2024-03"])


def test_an_area_without_clock_stops_is_not_estimated(stops: pd.Series) -> None:
    with pytest.raises(AreaError, match="ZZZ: no all-specialty"):
        estimated(stops, "ZZZ", MONTHS)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("area,people\n06F,1\n", "columns 'code' and 'population'"),
        ("code,population\n06F,many\n", "line 2, 06F: population 'many'"),
        ("code,population\n06F,0\n", "from 1 to 100,000,000"),
        ("code,population\n06F,1\n06f,2\n", "line 3: 06F is given twice"),
    ],
)
def test_a_bad_population_file_is_named(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "people.csv"
    path.write_text(text)
    with pytest.raises(AreaError, match=words.replace("(", r"\(")):
        read_population_file(path)


def test_a_population_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('code,population\n06f,"440,000"\n00Y,225_000\n')
    assert read_population_file(path) == {"06F": 440_000, "00Y": 225_000}


def test_areas_asked_for() -> None:
    known = commissioners(CCG)
    assert len(chosen(known, "all")) == 211 and "X24" not in chosen(known, "all")
    assert chosen(known, "06f, 00Y,06F") == ["06F", "00Y"]
    with pytest.raises(AreaError, match="9ZZ is not a commissioner"):
        chosen(known, "06F,9ZZ")
    with pytest.raises(AreaError, match="X24 is NHS England"):
        chosen(known, "X24")


@pytest.mark.slow
def test_bad_options_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    rtt = [a for f in CCG for a in ("--rtt", str(f))]
    out = ["--out", str(tmp_path / "n")]
    refused(tmp_path, ["national", str(BEDFORDSHIRE), *rtt, "--areas", "9ZZ", *out], "9ZZ is not a commissioner")
    refused(tmp_path, ["national", str(BEDFORDSHIRE), *rtt, "--areas", "06F", "--design", "nope", *out],
            "'nope' is not a design")  # fmt: skip
    pct = sorted((ROOT / "data" / "rtt").glob("rtt-commissioner-pct-2010-01-*.csv"))
    refused(tmp_path, ["national", str(BEDFORDSHIRE), *rtt, "--rtt", str(pct[0]), "--areas", "06F", *out], str(pct[0]))
    refused(tmp_path, ["national", str(BEDFORDSHIRE), *rtt, "--areas", "06F", "--resume", *out], "holds no national batch")


# A whole batch: 03V as published, 10D with a malformed cell, 07L without one month's incomplete return.


def _edited_returns(folder: Path) -> list[Path]:
    folder.mkdir()
    for f in CCG:
        shutil.copy(f, folder / f.name)
    bad = folder / "rtt-commissioner-ccg-2015-01-admitted.csv"
    rows = list(csv.reader(bad.open(newline="")))
    for r in rows:
        if r[2] == "10D" and r[4] == "AP110":
            r[10] = "abc"
    with bad.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    gap = folder / "rtt-commissioner-ccg-2015-02-incomplete.csv"
    lines = gap.read_text().splitlines(keepends=True)
    gap.write_text("".join(line for line in lines if ',"07L",' not in line))
    return sorted(folder.glob("*.csv"))


def _national(rtt: list[Path], out: Path, *more: str) -> str:
    args = ["national", str(BEDFORDSHIRE), *(a for f in rtt for a in ("--rtt", str(f))), "--areas", "03V,10D,07L",
            "--holdout", "1", *FAST, "--out", str(out), *more]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, f"{result.output}{result.exception!r}"
    return result.output


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path, str]:
    root = tmp_path_factory.mktemp("national")
    rtt = _edited_returns(root / "rtt")
    out = root / "local"
    return rtt, out, _national(rtt, out, "--jobs", "2")


@pytest.mark.slow
def test_every_area_has_a_row_and_a_bad_one_does_not_stop_the_others(batch: tuple[list[Path], Path, str]) -> None:
    _, out, output = batch
    table = pd.read_csv(out / "national.csv", dtype={"code": str}).set_index("code")
    assert list(table.index) == ["03V", "07L", "10D"]
    errors = [json.loads(line)["error"] for line in (out / "areas.jsonl").read_text().splitlines()]
    assert table.loc["03V", "status"] == "done", "\n".join(e for e in errors if e)
    assert table.loc["10D", "status"] == "failed" and "'abc' is not a count" in table.loc["10D", "error"]
    assert "rtt-commissioner-ccg-2015-01-admitted.csv" in table.loc["10D", "error"]
    assert table.loc["07L", "status"] == "failed" and "no incomplete return for 2015-02" in table.loc["07L", "error"]
    assert "2 of 3 area(s) did not finish" in " ".join(output.split())
    done = table.loc["03V"]
    assert done["population_source"].startswith("estimated from the returns")
    assert "population estimated" in done["flags"]
    assert done["months_fitted"] == "2014-12 to 2015-01" and done["months_held_out"] == "2015-02"
    assert 0 <= done["backtest_within_tolerance"] <= 3 and 0 <= done["backtest_beats_naive"] <= 3
    for column in ("fit_loss", "backtest_list_error", "naive_list_error", "t_and_o_load", "published_110_within_18w_pct",
                   "prime_minus_fragmented_110_incomplete_within_18w_pct_low",
                   "prime_as_claimed_minus_fragmented_commissioner_cost_with_outside_gbp"):  # fmt: skip
        assert pd.notna(done[column]), column
    low, mean, high = (done[f"prime_minus_fragmented_journey_weeks_mean{s}"] for s in ("_low", "", "_high"))
    assert low <= mean <= high
    bt = pd.read_csv(out / "national_backtest.csv", dtype={"code": str, "treatment_function": str})
    assert set(bt["code"]) == {"03V"} and set(bt["month"]) == {"2015-02"}
    # the naive forecast is the last month fitted, carried forward: the published list of January
    published = read_returns(CCG, commissioner="03V", treatment_functions=["110"])
    january = published[(published["month"] == "2015-01") & (published["part"] == "incomplete")]["total"].iloc[0]
    naive = bt[(bt["measure"] == "list_size_pct") & (bt["treatment_function"] == "110")]["naive"].iloc[0]
    assert naive == january
    # the row's errors are the back-test table's, read against the fit's tolerances
    t_and_o = bt[bt["treatment_function"] == "110"].groupby("measure")[["model_error", "naive_error"]].agg(
        lambda e: e.abs().mean()
    )
    assert done["backtest_list_error"] == pytest.approx(t_and_o.loc["list_size_pct", "model_error"])
    assert done["naive_median_error"] == pytest.approx(t_and_o.loc["median_weeks", "naive_error"])
    tolerances = {"list_size_pct": 15.0, "within_18w_points": 5.0, "median_weeks": 2.0}
    assert done["backtest_within_tolerance"] == sum(t_and_o.loc[m, "model_error"] <= tol for m, tol in tolerances.items())


@pytest.mark.slow
def test_each_area_folder_holds_its_scenarios(batch: tuple[list[Path], Path, str]) -> None:
    _, out, _ = batch
    assert (out / "areas" / "03V" / "scaled.toml").exists() and (out / "areas" / "03V" / "calibrated.toml").exists()
    result = CliRunner().invoke(app, ["validate", str(out / "areas" / "03V" / "calibrated.toml")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "national_manifest.json").read_text())
    assert manifest["done"] == 1 and manifest["failed"] == 2 and manifest["cpu_seconds_by_area"]["03V"] > 0
    assert "Where the model can be trusted" in (out / "national.html").read_text()


@pytest.mark.slow
def test_resume_runs_only_what_did_not_finish(batch: tuple[list[Path], Path, str]) -> None:
    rtt, out, _ = batch
    before = (out / "national.csv").read_bytes()
    lines = (out / "areas.jsonl").read_text().splitlines()
    with (out / "areas.jsonl").open("a") as fh:
        fh.write('{"code": "03V", "row": \n')  # a line a crash damaged: skipped, said, and its area not lost
    said = " ".join(_national(rtt, out, "--jobs", "1", "--resume").split())
    assert f"line(s) {len(lines) + 1} held no finished area" in said
    again = [line for line in (out / "areas.jsonl").read_text().splitlines() if line != '{"code": "03V", "row": ']
    assert again[: len(lines)] == lines
    assert sorted(json.loads(line)["code"] for line in again[len(lines) :]) == ["07L", "10D"]  # the failed, tried again
    assert (out / "national.csv").read_bytes() == before
    refused(out.parent, ["national", str(BEDFORDSHIRE), *(a for f in rtt for a in ("--rtt", str(f))), "--areas", "03V",
                         *FAST, "--out", str(out), "--resume"], "areas differs from the batch's start")  # fmt: skip
    refused(out.parent, ["national", str(BEDFORDSHIRE), *(a for f in rtt for a in ("--rtt", str(f))), "--areas",
                         "03V,10D,07L", "--holdout", "1", *FAST, "--set", "demand.growth=0.02", "--out", str(out),
                         "--resume"], "set differs from the batch's start")  # fmt: skip


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_table(batch: tuple[list[Path], Path, str]) -> None:
    rtt, out, _ = batch
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        _national(rtt, out.parent / "dask", "--scheduler", cluster.scheduler_address)
    assert (out.parent / "dask" / "national.csv").read_bytes() == (out / "national.csv").read_bytes()


@pytest.mark.slow
def test_a_stopped_batch_keeps_its_finished_areas_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [sys.executable, "cli.py", "national", str(BEDFORDSHIRE), *(a for f in CCG for a in ("--rtt", str(f))),
            "--areas", "03V,10D", *FAST, "--jobs", "1", "--out", str(out)]  # fmt: skip
    parent = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=default_signals)  # fmt: skip
    journal = out / "areas.jsonl"
    # once the first area is journalled the second is running, in this process (--jobs 1)
    said = stopped_by(parent, signal.SIGTERM, lambda: journal.exists() and journal.read_bytes().count(b"\n") >= 1, 300)
    assert parent.returncode == 128 + signal.SIGTERM, said
    assert "stopped by SIGTERM: 1 finished area(s) are kept" in said and "--resume" in said and "Traceback" not in said
    assert [json.loads(line)["code"] for line in journal.read_text().splitlines()] == ["03V"]
    assert not (out / "national.csv").exists()
    resumed = subprocess.run([*args, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert [json.loads(line)["code"] for line in journal.read_text().splitlines()] == ["03V", "10D"]
    assert list(pd.read_csv(out / "national.csv")["status"]) == ["done", "done"]


@pytest.mark.slow
def test_the_pct_era_runs_too(tmp_path: Path) -> None:
    pct = sorted((ROOT / "data" / "rtt").glob("rtt-commissioner-pct-*.csv"))
    out = tmp_path / "pct"
    args = ["national", str(BEDFORDSHIRE), *(a for f in pct for a in ("--rtt", str(f))), "--areas", "5D9", "--holdout", "1",
            *FAST, "--jobs", "1", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    row = pd.read_csv(out / "national.csv").iloc[0]
    assert row["status"] == "done" and row["months_fitted"] == "2009-12 to 2010-01"
    assert "152 commissioners" in row["population_source"] and "mid-2009 and mid-2010" in row["population_source"]
