"""A results folder stands alone: it keeps the inputs its run read, and a damaged one is named, not a traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.model import ENGINE
from sim.runs.journal import JOURNAL
from sim.runs.options import BatchOptions
from sim.runs.results import BACKLOG_COPY, ResultsError, csv_text, read_run
from sim.runs.settle import Request, prepare
from sim.scenario.columns import current_name, first_waits
from tests.conftest import BEDFORDSHIRE

runner = CliRunner()
QUICK = ["--years", "1", "--jobs", "1", "--quiet"]


def _flat(output: str) -> str:
    """The output without the line breaks the console puts into long paths."""
    return "".join(output.split())


@pytest.fixture(scope="module")
def from_backlog(tmp_path_factory) -> tuple[Path, bytes]:
    """A run from a backlog CSV that has since been deleted, its folder moved elsewhere."""
    work = tmp_path_factory.mktemp("standalone")
    original = work / "waiting-list.csv"
    with open(original, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["stage", "condition", "weeks_waited", "priority"])
        w.writeheader()
        rows = ({"stage": "orthopaedics", "condition": "knee", "weeks_waited": 2.5 * i, "priority": "routine"} for i in range(40))
        w.writerows(rows)
    content = original.read_bytes()
    out = work / "run"
    result = runner.invoke(app, ["run", str(BEDFORDSHIRE), "--backlog", str(original), "--reps", "2", *QUICK, "--out", str(out)])
    assert result.exit_code == 0, result.output
    original.unlink()
    moved = work / "elsewhere" / "run"
    shutil.move(out, moved)
    return moved, content


@pytest.mark.slow
def test_the_backlog_is_copied_and_named_relative_to_the_folder(from_backlog) -> None:
    folder, content = from_backlog
    assert (folder / BACKLOG_COPY).read_bytes() == content
    assert tomllib.loads((folder / "scenario.toml").read_text())["backlog"]["file"] == BACKLOG_COPY
    assert json.loads((folder / "manifest.json").read_text())["scenario"]["backlog"]["file"] == BACKLOG_COPY
    run = read_run(folder)
    assert len(run.scenario.backlog.patients) == 40, "the backlog is read from the copy"
    assert sorted(run.main["replication"].unique()) == [0, 1]


@pytest.mark.slow
def test_the_manifest_names_the_engine_of_parent_and_workers(from_backlog) -> None:
    folder, _ = from_backlog
    assert json.loads((folder / "manifest.json").read_text())["model"] == {"parent": ENGINE, "workers": [ENGINE]}


@pytest.mark.slow
def test_report_and_resume_work_without_the_original(from_backlog, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(from_backlog[0], folder)
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").stat().st_size > 0
    first = pd.read_csv(folder / "replications.csv")
    result = runner.invoke(app, ["run", str(BEDFORDSHIRE), "--resume", str(folder), "--reps", "3", "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    both = pd.read_csv(folder / "replications.csv")
    assert sorted(both["replication"].unique()) == [0, 1, 2]
    pd.testing.assert_frame_equal(both[both.replication < 2].reset_index(drop=True), first, check_dtype=False)


def _delete(path: Path) -> None:
    path.unlink()


def _pipe(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _garble(text: str):
    return lambda path: path.write_text(text)


@pytest.mark.parametrize(
    ("name", "damage", "problem"),
    [
        ("scenario.toml", _delete, "missing"),
        ("scenario.toml", _garble("name = [unclosed"), "not valid TOML"),
        ("scenario.toml", _garble('name = "x"\n'), "not a valid scenario"),
        ("manifest.json", _delete, "not a finished results folder"),
        ("manifest.json", _garble('{"files": ['), "not valid JSON"),
        ("replications.csv", _delete, "missing"),
        ("replications.csv", _garble("garbage\n1\n"), "no column design"),
        (BACKLOG_COPY, _delete, "missing"),
        ("scenario.toml", _pipe, "not a regular file"),
        ("scenario.toml", lambda path: path.write_bytes(b"\xff\xfe name"), "not UTF-8"),
        ("batch.json", _garble('{"kind": "run", "designs": 3}'), "designs: 3 is not list"),
        ("batch.json", _garble('{"kind": "run", "grid": {"x": 1}}'), "grid: expected lists"),
        ("replications.csv", _garble("design,replication,year\nprime,x,1\n"), "column replication: expected whole numbers"),
        ("monthly.csv", _garble("a,b\n1,2\n"), "no column design"),
        ("rtt_returns.csv", _garble("design,replication\nprime,0\n"), "no column month"),
    ],
)
def test_a_damaged_folder_is_named_not_a_traceback(from_backlog, tmp_path: Path, name: str, damage, problem: str) -> None:
    folder = tmp_path / "run"
    shutil.copytree(from_backlog[0], folder)
    damage(folder / name)
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    said = _flat(result.output)
    assert said.startswith("error:") and name in said and _flat(problem) in said
    assert not (folder / "report.html").exists()
    with pytest.raises(ResultsError, match=problem):
        read_run(folder)


def test_tables_are_written_as_plain_numbers_money_to_the_penny() -> None:
    """``%.6g`` wrote 2.62792e+07: pounds lost, and E-notation in Excel."""
    table = pd.DataFrame(
        {
            "metric": ["prime_surplus_gbp", "conversion_rate"],
            "mean": [26_279_201.374_9, 1.234_567_890_123e-7],
            "ci_low": [float("nan"), 2.5e20],
            "cost_delivery_gbp": [1 / 3, 2.0],
            "n": [3, 4],
        }
    )
    text = csv_text(table)
    assert "e+" not in text.lower() and "e-" not in text.lower()
    back = pd.read_csv(io.StringIO(text))
    assert back.loc[0, "mean"] == 26_279_201.37 and back.loc[0, "cost_delivery_gbp"] == 0.33
    assert back.loc[1, "mean"] == 1.234_567_890_123e-7, "other figures keep every digit"
    assert back.loc[1, "ci_low"] == 2.5e20 and np.isnan(back.loc[0, "ci_low"])


def _rename_header(path: Path, names: dict[str, str]) -> None:
    head, rest = path.read_text().split("\n", 1)
    path.write_text(",".join(names.get(c, c) for c in head.split(",")) + "\n" + rest)


QUEUE_WAITS = {f"{place}_queue_wait_mean_days": f"{place}_wait_mean_days" for place in ("orthopaedics", "theatre")}
"""Per-place columns renamed: the bundled scenario's orthopaedics and the theatre stand for every place."""


def _without_table_record(folder: Path) -> None:
    """Drop the manifest's record of the tables as written: folders written then had none."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("tables", None)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _as_written_before_the_rename(folder: Path) -> None:
    """Put back the old column names in a folder's tables and journal."""
    _without_table_record(folder)
    _rename_header(folder / "replications.csv", {"rtt_incomplete_within_18w_pct": "rtt_incomplete_18w_pct", **QUEUE_WAITS})
    for path in (folder / "summary.csv", folder / JOURNAL):
        text = path.read_text()
        for new, old in QUEUE_WAITS.items():
            text = text.replace(new, old)
        path.write_text(text)
    monthly = {"rtt_incomplete_within_18w_pct": "rtt_within_18w_pct", "rtt_wait_p92_weeks": "rtt_p92_weeks",
               "rtt_wait_median_weeks": "rtt_median_weeks"}  # fmt: skip
    _rename_header(folder / "rtt_monthly.csv", monthly)
    summary = folder / "summary.csv"
    summary.write_text(summary.read_text().replace("rtt_incomplete_within_18w_pct", "rtt_incomplete_18w_pct"))
    journal = folder / JOURNAL
    text = journal.read_text().replace("rtt_incomplete_within_18w_pct", "rtt_incomplete_18w_pct")
    journal.write_text(text.replace('"rtt_incomplete_18w_pct", "rtt_wait_p92_weeks"', '"rtt_within_18w_pct", "rtt_p92_weeks"'))
    assert '"rtt_within_18w_pct"' in journal.read_text()


def test_one_name_for_the_share_within_18_weeks_in_every_table(from_backlog) -> None:
    folder, _ = from_backlog
    assert "rtt_incomplete_within_18w_pct" in pd.read_csv(folder / "replications.csv").columns
    assert "rtt_incomplete_within_18w_pct" in pd.read_csv(folder / "rtt_monthly.csv").columns
    every = " ".join(p.read_text() for p in folder.iterdir() if p.suffix in (".csv", ".json"))
    for old in ("rtt_incomplete_18w_pct", "rtt_within_18w_pct", "rtt_p92_weeks", "rtt_median_weeks", *QUEUE_WAITS.values()):
        assert old not in every, old


@pytest.mark.slow
def test_a_folder_written_before_the_rename_reports_and_resumes(from_backlog, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(from_backlog[0], folder)
    _as_written_before_the_rename(folder)
    assert "rtt_incomplete_18w_pct" in (folder / "replications.csv").read_text()
    assert "rtt_within_18w_pct" in (folder / "rtt_monthly.csv").read_text()
    assert all(old in (folder / "replications.csv").read_text() for old in QUEUE_WAITS.values())
    run = read_run(folder)
    assert "rtt_incomplete_within_18w_pct" in run.main.columns
    assert set(QUEUE_WAITS) <= set(run.main.columns) and set(QUEUE_WAITS) <= set(run.tables["summary"]["metric"])
    assert "rtt_incomplete_within_18w_pct" in run.tables["rtt_monthly"].columns
    assert "rtt_incomplete_within_18w_pct" in set(run.tables["summary"]["metric"])
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["run", "--resume", str(folder), "--reps", "3", "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(folder / "replications.csv")
    assert "rtt_incomplete_18w_pct" not in table.columns
    assert table[list(QUEUE_WAITS)].notna().all().all() and not set(QUEUE_WAITS.values()) & set(table.columns)
    assert table["rtt_incomplete_within_18w_pct"].notna().all() and sorted(table["replication"].unique()) == [0, 1, 2]
    assert "rtt_within_18w_pct" not in pd.read_csv(folder / "rtt_monthly.csv").columns


def test_an_old_metric_name_is_read_as_the_new_with_a_word(tmp_path: Path) -> None:
    said: list[str] = []
    options = BatchOptions(reps=2, years=1, out=tmp_path / "r")
    batch = prepare(Request("run", ["prime"], 0.5, "rtt_incomplete_18w_pct"), BEDFORDSHIRE, options, said.append)
    assert batch.metric == "rtt_incomplete_within_18w_pct" == batch.settings()["metric"]
    assert "--metric rtt_incomplete_18w_pct: renamed rtt_incomplete_within_18w_pct" in " ".join(said)


def test_an_old_name_of_a_service_s_column_is_read_as_the_new_with_a_word(tmp_path: Path) -> None:
    said: list[str] = []
    options = BatchOptions(reps=2, years=1, out=tmp_path / "r")
    batch = prepare(Request("run", ["prime"], 0.5, "orthopaedics_wait_mean_days"), BEDFORDSHIRE, options, said.append)
    assert batch.metric == "orthopaedics_queue_wait_mean_days"
    assert "--metric orthopaedics_wait_mean_days: renamed orthopaedics_queue_wait_mean_days" in " ".join(said)
    assert current_name("theatre_wait_mean_days") == "theatre_queue_wait_mean_days"
    assert current_name("physio_queue_wait_mean_days") == "physio_queue_wait_mean_days", "renamed once, not again"


def _as_written_before_the_first_waits(folder: Path) -> None:
    """Take the waits for a first appointment (and for admission) out of a folder's tables and journal."""
    _without_table_record(folder)
    table = pd.read_csv(folder / "replications.csv")
    (folder / "replications.csv").write_text(csv_text(table.drop(columns=first_waits(table.columns))))
    summary = pd.read_csv(folder / "summary.csv", dtype=str, keep_default_na=False)
    (folder / "summary.csv").write_text(csv_text(summary[~summary["metric"].isin(first_waits(summary["metric"]))]))
    journal = folder / JOURNAL
    records = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    for rec in records:
        rec["rows"] = [{k: v for k, v in row.items() if k not in first_waits(row)} for row in rec["rows"]]
    journal.write_text("".join(json.dumps(rec) + "\n" for rec in records))


@pytest.mark.slow
def test_a_folder_written_before_the_first_waits_reports_and_resumes(from_backlog, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(from_backlog[0], folder)
    _as_written_before_the_first_waits(folder)
    assert "first_wait" not in (folder / "replications.csv").read_text() + (folder / JOURNAL).read_text()
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Waits at each service" not in (folder / "report.html").read_text()
    result = runner.invoke(app, ["run", "--resume", str(folder), "--reps", "3", "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(folder / "replications.csv")
    new = table[table["replication"] == 2]
    assert new["orthopaedics_first_wait_mean_days"].notna().all(), "the replication run now has them"
    assert table.loc[table["replication"] < 2, "orthopaedics_first_wait_mean_days"].isna().all(), "never made up"
