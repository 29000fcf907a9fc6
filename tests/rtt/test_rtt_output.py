"""RTT returns in the outputs: kept per replication, written to rtt_returns.csv, summed up in summary.csv,
shown in the terminal and the report; folders and journals from before the returns still work."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from scipy import stats
from typer.testing import CliRunner

import sim.runs.executors as executors
from cli import app
from sim.report.folder import load_folder
from sim.report.labels import metric_label
from sim.report.returns_section import NO_RETURNS, incomplete_bands, returns_section
from sim.report.terminal import returns_table, unit_of
from sim.report.view import load_view, make_view
from sim.rtt.bands import BAND_LABELS, N_BANDS, percentile, within_pct
from sim.rtt.summary import order_functions, parse_metric, per_replication, summarise_returns
from sim.rtt.table import KEYS, PARTS
from sim.runs.batch import Batch, finish, returns_lacking
from sim.runs.experiment import BatchResult, Journal, Outcome, SerialExecutor, Task, run_batch
from sim.runs.outputs import design_tables
from sim.runs.results import read_run
from sim.runs.traces import Traces
from tests.conftest import BEDFORDSHIRE, bundled

BANDS = list(BAND_LABELS)
CSV_COLUMNS = ["design", "replication", *KEYS, *BANDS, "total", "within_18w_pct", "median_weeks", "p95_weeks"]


def counts(at: dict[int, int] | None = None) -> list[int]:
    """A row's counts by band: ``at`` maps a band (whole weeks) to its count."""
    out = [0] * N_BANDS
    for band, n in (at or {}).items():
        out[band] = n
    return out


def frame(rows: list[tuple[str, int, str, int, str, str, dict[int, int]]]) -> pd.DataFrame:
    """Returns as a table from (design, replication, month, year, function, part, counts) tuples."""
    records = [[d, r, m, y, tf, p, *counts(at)] for d, r, m, y, tf, p, at in rows]
    return pd.DataFrame(records, columns=["design", "replication", *KEYS, *BANDS])


def synthetic_rows(task: Task) -> list[list]:
    """What a run returns: the opening list (year 0), then two months of year 1 and one of year 2,
    for two treatment functions, every part."""
    extra = 3 if task.design == "b" else 0
    parts = {
        "incomplete": {0: 10 + task.replication, 20: 5 + extra},
        "admitted": {2: 3},
        "nonadmitted": {1: 4, 30: 1 + extra},
        "clock_starts": {0: 12},
        "removals": {10: 1},
        "transfers_in": {},
        "transfers_out": {},
    }
    rows = [["2024-03", 0, tf, "incomplete", *counts({5: 7})] for tf in ("110", "X01")]
    for month, year in (("2024-04", 1), ("2024-05", 1), ("2025-04", 2)):
        rows += [[month, year, tf, part, *counts(at)] for tf in ("110", "X01") for part, at in parts.items()]
    return rows


def outcome(task: Task, returns: bool = True) -> Outcome:
    """A finished task as a worker sends it back, without simulating; ``returns=False`` as journalled
    before the model made returns."""
    traces = {"weekly": [[0, 1.0, 2.0, 3.0]], "monthly": [], "monthly_columns": ["day", "year"], "waits": [0, 1]}
    traces |= {"flows": [], "years": 2}
    if returns:
        traces["returns"] = synthetic_rows(task)
    rows = [
        {"point": task.point, "design": task.design, "replication": task.replication, "year": y, "referrals": 100.0 + y}
        for y in (1, 2)
    ]
    return Outcome(task, rows, traces)


def fake_run(scenario, task: Task, uncertainty: bool = True) -> Outcome:
    return outcome(task)


# ------------------------------------------------------------------------------------------ summary


def by_hand() -> pd.DataFrame:
    """Design a, replications 0 and 1; design b, replication 0 and 1 with known differences."""
    rows = [
        # year 0 (the opening list) never counts
        ("a", 0, "2024-03", 0, "110", "incomplete", {60: 1000}),
        # replication 0, year 1: month ends of 40 (10 under 18 weeks) and 25 (all under)
        ("a", 0, "2024-04", 1, "110", "incomplete", {0: 10, 20: 30}),
        ("a", 0, "2024-05", 1, "110", "incomplete", {1: 20, 5: 5}),
        ("a", 0, "2024-04", 1, "110", "admitted", {3: 4}),
        ("a", 0, "2024-05", 1, "110", "clock_starts", {0: 9}),
        ("a", 0, "2024-05", 1, "110", "removals", {7: 2}),
        ("a", 0, "2024-05", 1, "110", "transfers_in", {0: 5}),
        # replication 0, year 2: one month
        ("a", 0, "2025-04", 2, "110", "incomplete", {30: 15}),
        # replication 1: everything within a week
        ("a", 1, "2024-04", 1, "110", "incomplete", {0: 40}),
        ("a", 1, "2024-05", 1, "110", "incomplete", {0: 40}),
        ("a", 1, "2025-04", 2, "110", "incomplete", {0: 40}),
    ]
    b = [("b", rep, m, y, tf, p, {k: 2 * n for k, n in at.items()}) for _, rep, m, y, tf, p, at in rows]
    return frame(rows + b)


def value(summary: pd.DataFrame, scope: str, year: str, metric: str) -> pd.Series:
    hit = summary[(summary["scope"] == scope) & (summary["year"] == year) & (summary["metric"] == metric)]
    assert len(hit) == 1, f"{scope} {year} {metric}: {len(hit)} rows"
    return hit.iloc[0]


def test_returns_are_pooled_over_the_months_and_read_as_the_nhs_reads_them() -> None:
    wide = per_replication(by_hand()).set_index(["design", "replication", "year"])
    rep0 = wide.loc[("a", 0, "1")]
    # pooled: 10 in 0-1, 20 in 1-2, 5 in 5-6, 30 in 20-21: 35 of 65 within 18 weeks (the mean of the
    # months' percentages would be 62.5)
    assert rep0["rtt_110_incomplete_within_18w_pct"] == pytest.approx(100 * 35 / 65)
    # the NHS's median is the wait of the (65 + 1) / 2 = 33rd pathway: the 3rd of 5 in 5-6
    assert rep0["rtt_110_incomplete_median_weeks"] == pytest.approx(5 + 3 / 5)
    assert rep0["rtt_110_incomplete_p95_weeks"] == pytest.approx(20 + (0.95 * 65 - 35) / 30)
    assert rep0["rtt_110_incomplete_per_month"] == pytest.approx(65 / 2)
    assert rep0["rtt_110_admitted_per_month"] == pytest.approx(4 / 2)
    assert rep0["rtt_110_admitted_median_weeks"] == pytest.approx(3 + 2.5 / 4)
    assert rep0["rtt_110_clock_starts_per_month"] == pytest.approx(9 / 2)
    assert rep0["rtt_110_removals_per_month"] == pytest.approx(2 / 2)
    assert np.isnan(rep0["rtt_110_nonadmitted_within_18w_pct"]), "no pathway completed: no percentage"
    assert rep0["rtt_110_nonadmitted_per_month"] == 0
    whole = wide.loc[("a", 0, "all")]  # three month ends over the horizon; year 0 left out
    assert whole["rtt_110_incomplete_per_month"] == pytest.approx(80 / 3)
    assert whole["rtt_110_incomplete_within_18w_pct"] == pytest.approx(100 * 35 / 80)
    assert "rtt_110_removals_within_18w_pct" not in wide.columns and not any("transfers" in c for c in wide.columns)


def test_the_summary_has_the_shape_of_summary_csv_with_intervals_and_the_paired_difference() -> None:
    summary = summarise_returns(by_hand(), "a", "b")
    assert list(summary.columns) == ["scope", "year", "metric", "mean", "ci_low", "ci_high", "n"]
    assert list(dict.fromkeys(summary["scope"])) == ["a", "b", "b - a"]
    assert list(dict.fromkeys(summary["year"])) == ["1", "2", "all"]
    within = [100 * 35 / 65, 100.0]  # replications 0 and 1, year 1
    r = value(summary, "a", "1", "rtt_110_incomplete_within_18w_pct")
    half = stats.t.ppf(0.975, 1) * np.std(within, ddof=1) / np.sqrt(2)
    assert (r["mean"], r["ci_low"], r["ci_high"], r["n"]) == pytest.approx(
        (np.mean(within), np.mean(within) - half, np.mean(within) + half, 2)
    )
    # b has every count doubled: the same percentages, twice the pathways a month
    assert value(summary, "b - a", "1", "rtt_110_incomplete_within_18w_pct")["mean"] == pytest.approx(0)
    d = value(summary, "b - a", "all", "rtt_110_incomplete_per_month")
    assert d["mean"] == pytest.approx(np.mean([80 / 3, 40]))
    assert d["n"] == 2
    # a percentage no replication has (nothing non-admitted) is NaN with n = 0, as summarise gives it
    assert value(summary, "a", "1", "rtt_110_nonadmitted_within_18w_pct")["n"] == 0
    alone = summarise_returns(by_hand())
    assert set(alone["scope"]) == {"a", "b"}
    assert summarise_returns(pd.DataFrame()).empty


def test_a_function_read_back_as_a_number_and_a_grid_of_points() -> None:
    numeric = by_hand()
    numeric["treatment_function"] = 110
    assert "rtt_110_incomplete_per_month" in set(summarise_returns(numeric)["metric"])
    two = by_hand().assign(point=[0, 1] * (len(by_hand()) // 2))
    with pytest.raises(ValueError, match="grid points"):
        summarise_returns(two)


def test_metric_names_labels_and_units() -> None:
    assert parse_metric("rtt_X01_clock_starts_per_month") == ("X01", "clock_starts", "per_month")
    assert parse_metric("rtt_incomplete_within_18w_pct") is None and parse_metric("rtt_110_transfers_in_per_month") is None
    assert metric_label("rtt_110_incomplete_within_18w_pct") == "T&O (110), incomplete: within 18 weeks (%)"
    assert metric_label("rtt_410_nonadmitted_p95_weeks") == "Rheumatology (410), non-admitted: 95th percentile wait (weeks)"
    assert metric_label("rtt_120_admitted_per_month") == "TF 120, admitted: per month"
    assert metric_label("rtt_incomplete_within_18w_pct") == "Incomplete pathways within 18 weeks (%)", "result columns unchanged"
    assert [unit_of(f"rtt_110_incomplete_{s}") for s in ("per_month", "within_18w_pct", "median_weeks")] == [
        "count",
        "pct",
        "weeks",
    ]
    assert order_functions(["999", "X01", "410", "110"]) == ["110", "410", "X01", "999"]


# ------------------------------------------------------------------------------------------ traces


def test_traces_keep_every_count_compactly_and_give_them_back() -> None:
    traces = Traces()
    tasks = [Task(0, r, d) for r in range(2) for d in ("a", "b")]
    for t in tasks:
        traces.add(outcome(t))
    back = traces.returns_frame({*tasks[:3]})
    assert sorted(set(zip(back["design"], back["replication"], strict=True))) == [("a", 0), ("a", 1), ("b", 0)]
    assert list(back.columns) == ["point", "design", "replication", *KEYS, *BANDS]
    for t in tasks[:3]:
        mine = back[(back["design"] == t.design) & (back["replication"] == t.replication)]
        assert mine[[*KEYS, *BANDS]].to_numpy().tolist() == synthetic_rows(t)
    assert back["treatment_function"].map(type).eq(str).all()
    packed = traces.returns[tasks[0]]
    assert packed.counts.shape[1] == 31, "bands past the last one used are not kept"
    assert packed.nbytes < 0.1 * len(synthetic_rows(tasks[0])) * (len(KEYS) + N_BANDS) * 8


def test_an_outcome_from_before_the_returns_still_adds() -> None:
    traces = Traces()
    traces.add(outcome(Task(0, 0, "a"), returns=False))
    traces.add(outcome(Task(0, 1, "a")))
    assert list(traces.returns) == [Task(0, 1, "a")]
    none = Traces()
    none.add(outcome(Task(0, 0, "a"), returns=False))
    assert none.returns_frame({Task(0, 0, "a")}).empty
    assert BatchResult(pd.DataFrame(), pd.DataFrame(), [], 0).returns.empty
    with pytest.raises(ValueError, match="RTT returns row 0"):
        Traces().add(Outcome(Task(0, 0, "a"), [], {**outcome(Task(0, 0, "a")).traces, "returns": [["2024-04", 1, "110"]]}))


def test_a_batch_resumed_from_a_journal_without_returns(monkeypatch, tmp_path: Path) -> None:
    Journal(tmp_path).append(outcome(Task(0, 0, "a"), returns=False))
    monkeypatch.setattr(executors, "run_task", fake_run)
    result = run_batch(bundled(), ["a"], 2, executor=SerialExecutor(), folder=tmp_path)
    assert set(result.returns["replication"]) == {1}
    assert "RTT returns for 1 of 2 replications" in returns_lacking(result)
    batch = Batch("run", bundled(), ["a"], tmp_path, False, None, "rtt_incomplete_within_18w_pct")
    summary = design_tables(batch, result)["summary"]
    assert value(summary, "a", "all", "rtt_110_incomplete_per_month")["n"] == 1
    assert value(summary, "a", "all", "referrals")["n"] == 2


# ------------------------------------------------------------------------------------------ files


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """A run's folder, written as a command writes it, from outcomes made up without simulating."""
    folder = tmp_path_factory.mktemp("returns") / "run"
    scenario = bundled("run.years=2")
    mp = pytest.MonkeyPatch()
    mp.setattr(executors, "run_task", fake_run)
    try:
        result = run_batch(scenario, ["a", "b"], 3, executor=SerialExecutor())
    finally:
        mp.undo()
    result.series = pd.DataFrame()  # no warm-up to judge in made-up traces
    batch = Batch("compare", scenario, ["a", "b"], folder, False, None, "rtt_incomplete_within_18w_pct")
    tables = design_tables(batch, result)
    warnings: list[str] = []
    assert finish(batch, result, tables, datetime.now(UTC), warn=warnings.append)
    assert not [w for w in warnings if "RTT" in w]
    return folder


def test_rtt_returns_csv_has_its_columns_and_reads_back_with_text_codes(written: Path) -> None:
    header = (written / "rtt_returns.csv").read_text().splitlines()[0].split(",")
    assert header == CSV_COLUMNS
    assert "rtt_returns.csv" in json.loads((written / "manifest.json").read_text())["files"]
    table = read_run(written).tables["rtt_returns"]
    assert len(table) == 2 * 3 * len(synthetic_rows(Task(0, 0, "a")))
    assert set(table["treatment_function"]) == {"110", "X01"}
    assert table["treatment_function"].map(type).eq(str).all(), "a code read back as text, never 110 the number"
    assert all(pd.api.types.is_integer_dtype(table[c]) for c in ["replication", "year", *BANDS, "total"])
    assert all(pd.api.types.is_float_dtype(table[c]) for c in ["within_18w_pct", "median_weeks", "p95_weeks"])
    assert table.groupby(["design", "replication", "month", "treatment_function", "part"]).size().max() == 1
    row = table[(table["design"] == "b") & (table["part"] == "incomplete") & (table["year"] == 1)].iloc[0]
    bands = row[BANDS].to_numpy(dtype=float)
    assert row["total"] == 10 + row["replication"] + 8
    assert row["within_18w_pct"] == pytest.approx(within_pct(bands))
    assert (row["median_weeks"], row["p95_weeks"]) == pytest.approx((percentile(bands, 0.5), percentile(bands, 0.95)))
    no_wait = table[table["part"].isin(["clock_starts", "transfers_in", "transfers_out"])]
    assert no_wait[["within_18w_pct", "median_weeks", "p95_weeks"]].isna().all().all()
    assert set(table["part"]) == set(PARTS)
    assert load_folder(written).table("rtt_returns")["treatment_function"].map(type).eq(str).all()


def test_numbered_codes_alone_are_still_read_as_text(written: Path, tmp_path: Path) -> None:
    folder = tmp_path / "numbered"
    shutil.copytree(written, folder)
    lines = (folder / "rtt_returns.csv").read_text().splitlines(keepends=True)
    (folder / "rtt_returns.csv").write_text("".join(line for line in lines if ",X01," not in line))
    manifest = json.loads((folder / "manifest.json").read_text())
    data = (folder / "rtt_returns.csv").read_bytes()  # the table as if written so: the manifest records it
    manifest["tables"]["rtt_returns.csv"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for table in (read_run(folder).tables["rtt_returns"], load_folder(folder).table("rtt_returns")):
        assert list(table["treatment_function"].unique()) == ["110"]


def test_summary_csv_has_the_returns_rows_after_the_result_columns(written: Path) -> None:
    summary = pd.read_csv(written / "summary.csv", dtype={"year": str})
    metrics = list(dict.fromkeys(summary["metric"]))
    assert metrics.index("referrals") < metrics.index("rtt_110_incomplete_per_month")
    assert {"a", "b", "b - a"} <= set(summary[summary["metric"] == "rtt_X01_admitted_median_weeks"]["scope"])
    r = value(summary, "b - a", "all", "rtt_110_nonadmitted_per_month")
    assert (r["mean"], r["n"]) == (pytest.approx(3.0), 3)
    expected = summarise_returns(read_run(written).tables["rtt_returns"], "a", "b")
    mine = summary[summary["metric"].str.match(r"rtt_(110|X01)_")].reset_index(drop=True)
    pd.testing.assert_series_equal(mine["mean"], expected["mean"].astype(float), check_exact=False, rtol=1e-5)


# ------------------------------------------------------------------------------------------ shown


def test_the_terminal_table_shows_each_design_function_and_part_with_intervals() -> None:
    rows = [
        ("all", "rtt_110_incomplete_within_18w_pct", 81.23, 79.8, 82.6),
        ("all", "rtt_110_incomplete_per_month", 1234.4, 1200.0, 1268.8),
        ("1", "rtt_110_incomplete_median_weeks", 99.0, 98.0, 100.0),
        ("all", "referrals", 5.0, 4.0, 6.0),
    ]
    summary = pd.DataFrame([("a", *r, 5) for r in rows], columns=["scope", "year", "metric", "mean", "ci_low", "ci_high", "n"])
    console = Console(record=True, width=200)
    console.print(returns_table(summary, ["a"]))
    out = console.export_text()
    assert "RTT returns (NHS shape), mean per month over the horizon" in out
    assert "81.2 (79.8–82.6)" in out and "1,234 (1,200–1,269)" in out
    assert "T&O (110)" in out and "non-admitted" in out
    assert "99.0" not in out, "a contract year's figure is not the horizon's"
    assert returns_table(summary[summary["metric"] == "referrals"], ["a"]) is None


@pytest.mark.slow
def test_the_report_section_charts_the_bands_and_tabulates_the_parts(written: Path) -> None:
    view = load_view(written)
    section = returns_section(view)
    assert section is not None and section.ident == "rtt-returns"
    assert '<img src="data:image/png;base64,' in section.body and "18-week standard" in section.body
    assert "<td>T&amp;O (110)</td>" in section.body and "Other (X01)" in section.body and "non-admitted" in section.body
    panels = dict(incomplete_bands(view.csv("rtt_returns"), view.designs))
    to = panels["Trauma & orthopaedics (110)"]
    assert list(to.index) == ["a", "b"]
    assert to.loc["a", "0-1"] == pytest.approx(np.mean([10, 11, 12])), "mean per month end over replications"
    assert to.loc["b", "20-21"] == pytest.approx(8)
    assert to.loc["a", "5-6"] == 0, "the opening list (year 0) is not a month end of the contract"
    assert list(to.columns)[-1] == "20-21", "up to the last band anyone waits in"


def test_long_waits_are_one_bar_from_52_weeks() -> None:
    returns = frame(
        [
            ("a", 0, "2024-04", 1, "110", "incomplete", {0: 4, 60: 2, 104: 1}),
            ("a", 0, "2024-05", 1, "110", "incomplete", {0: 6, 51: 2}),
            ("a", 0, "2024-05", 1, "110", "admitted", {90: 50}),  # not incomplete: not drawn
        ]
    )
    (title, bars), *_ = incomplete_bands(returns, ["a"])
    assert title == "Trauma & orthopaedics (110)"
    assert list(bars.columns) == [*BANDS[:52], "52+"]
    assert bars.loc["a", "0-1"] == 5 and bars.loc["a", "51-52"] == 1 and bars.loc["a", "52+"] == 1.5


def test_a_folder_without_returns_gets_a_note_and_an_empty_one_no_section(written: Path) -> None:
    folder = load_folder(written)
    folder.tables.pop("rtt_returns")
    section = returns_section(make_view(folder))
    assert section is not None and NO_RETURNS in section.body.replace("&#x27;", "'") and "<img" not in section.body
    folder.tables["replications"] = folder.tables["replications"].iloc[0:0]
    assert returns_section(make_view(folder)) is None


@pytest.mark.slow
def test_compare_prints_the_returns_table_and_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = ["compare", str(BEDFORDSHIRE), "--reps", "2", "--years", "1", "--set", "run.warmup_days=60", "--quiet"]
    result = CliRunner().invoke(app, [*args, "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "RTT returns (NHS shape)" in result.output and "T&O" in result.output
    table = read_run(out).tables["rtt_returns"]
    assert list(table.columns) == CSV_COLUMNS and "110" in set(table["treatment_function"])
    summary = pd.read_csv(out / "summary.csv")
    assert "rtt_110_incomplete_within_18w_pct" in set(summary["metric"])
