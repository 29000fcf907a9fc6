"""Damage is detected, not read: the manifest records each table as written (bytes, rows,
SHA-256), and ``report`` and ``published`` refuse a table that no longer matches, or one cut
mid-line or with text where a count belongs, naming the file (and the row and column where one
is to blame); ``target`` refuses a measure that is blank for the design before searching.

Each refusal exits with code 2, names the path or option, prints no traceback and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.runs.results import MANIFEST_FILE, TABLES_KEY, ResultsError, read_run
from tests.conftest import ROOT, quick_run, refused

runner = CliRunner()
RTT = ROOT / "data" / "rtt" / "rtt-commissioner-ccg-2015-01-incomplete.csv"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, small: Path) -> Path:
    return quick_run(tmp_path_factory, "run", str(small), "--design", "prime")


@pytest.fixture
def folder(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "run"))


def cut(path: Path, keep: float = 0.6) -> None:
    """Cut a file mid-line, as a full disk or an interrupted copy leaves it."""
    data = path.read_bytes()
    at = int(len(data) * keep)
    while data[at - 1 : at] == b"\n":
        at -= 1
    path.write_bytes(data[:at])


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Put ``value`` in one cell of a CSV table (row numbered from 1 after the header)."""
    lines = path.read_text().split("\n")
    at = lines[0].split(",").index(column)
    cells = lines[row].split(",")
    cells[at] = value
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines))


def forget_record(folder: Path) -> None:
    """The manifest as written before tables were recorded in it."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    del manifest[TABLES_KEY]
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


@pytest.mark.slow
def test_the_manifest_records_each_table_as_written(finished: Path) -> None:
    recorded = json.loads((finished / MANIFEST_FILE).read_text())[TABLES_KEY]
    assert {"replications.csv", "rtt_returns.csv", "summary.csv"} <= set(recorded)
    for name, entry in recorded.items():
        data = (finished / name).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == len(pd.read_csv(finished / name)) if data.strip() else entry["rows"] == 0


@pytest.mark.slow
def test_report_refuses_a_table_cut_mid_line(folder: Path, tmp_path: Path) -> None:
    cut(folder / "replications.csv", keep=0.97)
    refused(tmp_path, ["report", str(folder)], "replications.csv", "mid-line")
    assert not (folder / "report.html").exists()


def test_report_refuses_a_table_changed_since(folder: Path, tmp_path: Path) -> None:
    table = folder / "summary.csv"
    text = table.read_text()
    at = next(i for i, ch in enumerate(text) if ch.isdigit() and i > text.index("\n"))
    table.write_text(text[:at] + ("1" if text[at] != "1" else "2") + text[at + 1 :])  # same size, other bytes
    refused(tmp_path, ["report", str(folder)], "summary.csv", "does not match manifest.json", "checksum")


def test_a_table_of_another_size_says_both_sizes(folder: Path) -> None:
    path = folder / "flows.csv"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + b"prime,x,y,1\n")
    with pytest.raises(ResultsError, match=f"{size + 12:,} bytes where {size:,} were written"):
        read_run(folder)


def test_published_refuses_rtt_returns_cut_mid_line(folder: Path, tmp_path: Path) -> None:
    cut(folder / "rtt_returns.csv")
    forget_record(folder)  # the cut is found by itself, not only by the record
    refused(tmp_path, ["published", str(folder), "--rtt", str(RTT), "--commissioner", "06F"], "rtt_returns.csv", "row",
            "mid-line")  # fmt: skip


@pytest.mark.parametrize("recorded", [True, False])
def test_published_refuses_text_in_a_count_column(folder: Path, tmp_path: Path, recorded: bool) -> None:
    set_cell(folder / "rtt_returns.csv", 3, "1-2", "abc")
    if not recorded:
        forget_record(folder)
    args = ["published", str(folder), "--rtt", str(RTT), "--commissioner", "06F"]
    refused(tmp_path, args, "rtt_returns.csv", "row 3", "column 1-2", "'abc' is not a number")


@pytest.mark.slow
def test_resume_writes_the_tables_again_from_the_journal(folder: Path) -> None:
    """--resume reads the journal, not the tables: a damaged table is written again, whole."""
    good = (folder / "replications.csv").read_bytes()
    cut(folder / "replications.csv")
    result = runner.invoke(app, ["run", "--resume", str(folder), "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert (folder / "replications.csv").read_bytes() == good
    read_run(folder)


def test_target_refuses_a_measure_blank_for_the_design(tmp_path: Path, small: Path) -> None:
    args = ["target", str(small), "--stage", "physio", "--design", "fragmented", "--metric", "prime_surplus_gbp",
            "--at-least", "0", "--out", str(tmp_path / "t")]  # fmt: skip
    refused(tmp_path, args, "--metric prime_surplus_gbp", "blank for design 'fragmented'")
