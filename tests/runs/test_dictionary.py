"""The data dictionary and the workbook: every column of every table a run writes is described,
and --xlsx puts every table in one workbook, the dictionary first."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.runs.dictionary import UNDESCRIBED, describe

runner = CliRunner()
QUICK = ["--reps", "2", "--years", "1", "--set", "run.warmup_days=30", "--jobs", "2", "--quiet"]
RUNS = {  # the scenario scaled down (conftest.small): the tables' columns do not depend on its size
    "compare": ["compare", "{small}", "--xlsx"],
    "bid": ["bid", "{small}", "--bid", "55/head"],
    "sweep": ["sweep", "{small}", "--grid", "surgery.beds=6,8"],
}


@pytest.fixture(scope="module", params=list(RUNS))
def folder(request, tmp_path_factory, small: Path) -> Path:
    out = tmp_path_factory.mktemp(request.param) / "out"
    args = [a.format(small=small) for a in RUNS[request.param]]
    result = runner.invoke(app, [*args, *QUICK, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_every_column_of_every_table_is_described(folder: Path) -> None:
    dictionary = pd.read_csv(folder / "data_dictionary.csv")
    described = set(zip(dictionary["table"], dictionary["column"], strict=True))
    tables = [p for p in folder.glob("*.csv") if p.stem != "backlog"]
    assert len(tables) >= 8
    for path in tables:
        for column in pd.read_csv(path, nrows=0).columns:
            assert (path.stem, column) in described, f"{path.name}: {column} missing from the dictionary"
    assert not (dictionary["description"] == UNDESCRIBED).any(), dictionary[dictionary["description"] == UNDESCRIBED]
    assert dictionary["description"].str.len().min() > 10


@pytest.mark.slow
def test_the_workbook_holds_every_table_dictionary_first(folder: Path) -> None:
    if not (folder / "results.xlsx").exists():
        assert "compare" not in str(folder), "--xlsx was given"
        return
    with zipfile.ZipFile(folder / "results.xlsx") as book:
        sheets = re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode())
    tables = sorted(p.stem for p in folder.glob("*.csv") if p.stem != "backlog")
    assert sheets[0] == "data_dictionary" and sorted(sheets) == tables


def test_a_column_nobody_declared_is_reported_not_invented() -> None:
    assert describe("replications", "physio_first")[0] == "count"  # from the results schema
    assert describe("rtt_returns", "17-18")[0] == "count"
    assert describe("flows", "something_new") == ("", UNDESCRIBED)
