"""Options that cannot apply are refused, not ignored: on resume, an option that would change
the batch's results (it keeps its own settings) is refused and one only about output
(``--xlsx``) is applied; the same design twice, an unknown design and returns of two eras each
get their own message.

Each refusal exits with code 2, names the option, prints no traceback and writes nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import BEDFORDSHIRE, QUICK, ROOT, quick_run, refused

runner = CliRunner()
RTT = ROOT / "data" / "rtt"


@pytest.fixture(scope="module")
def bid_folder(tmp_path_factory: pytest.TempPathFactory, small: Path) -> Path:
    """A finished bid of the small scenario at 57 a head, one replication."""
    return quick_run(tmp_path_factory, "bid", str(small), "--bid", "57/head")


@pytest.fixture
def batch(bid_folder: Path, tmp_path: Path) -> Path:
    """A copy of the bid's folder to resume."""
    return Path(shutil.copytree(bid_folder, tmp_path / "bid"))


# --------------------------------------------------------------------------- resume


@pytest.mark.parametrize(
    ("given", "option"),
    [
        (["--bid", "60/head"], "--bid"),
        (["--bid", "20m"], "--bid"),
        (["--takes-over", "fragmented"], "--takes-over"),
        (["--reserve", "2m"], "--reserve"),
        (["--seed", "9"], "--seed"),
        (["--years", "2"], "--years"),
        (["--set", "stages.physio.slots_per_week=100"], "--set"),
        (["--month", "2015-02"], "--month"),
    ],
)
@pytest.mark.slow
def test_resume_refuses_an_option_that_would_change_the_results(batch: Path, tmp_path: Path, given: list[str],
                                                                 option: str) -> None:  # fmt: skip
    refused(tmp_path, ["bid", "--resume", str(batch), *given, "--quiet"], option, "cannot change a batch that is resumed")


@pytest.mark.slow
def test_resume_refuses_a_precision(tmp_path: Path, batch: Path) -> None:
    # a bid takes no --precision; run's is refused on resume before the folder's kind is read
    refused(tmp_path, ["run", "--resume", str(batch), "--precision", "0.1"], "--precision", "resumed")


def test_resume_refuses_a_grid(tmp_path: Path, batch: Path) -> None:
    # the folder is a bid's: the grid is refused before its kind is, naming the option
    refused(tmp_path, ["sweep", "--resume", str(batch), "--grid", "run.seed=1,2"], "--grid", "resumed")


@pytest.mark.slow
def test_resume_takes_the_same_terms_again_and_applies_output_options(batch: Path) -> None:
    """The command line repeated is harmless; --xlsx and --report are only about output, so they apply."""
    assert not (batch / "results.xlsx").exists() and not (batch / "report.html").exists()
    args = ["bid", "--resume", str(batch), "--bid", "57/head", "--years", "1", "--set", "run.warmup_days=30", "--xlsx"]
    result = runner.invoke(app, [*args, "--report", "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert (batch / "results.xlsx").exists() and (batch / "report.html").exists()


# --------------------------------------------------------------------------- designs and measures


def test_compare_refuses_the_same_design_twice(tmp_path: Path) -> None:
    args = ["compare", str(BEDFORDSHIRE), "--baseline", "prime", "--design", "prime", *QUICK, "--out", str(tmp_path / "o")]
    refused(tmp_path, args, "--baseline", "--design", "'prime'")


def test_sweep_refuses_a_metric_no_run_writes(tmp_path: Path) -> None:
    args = ["sweep", str(BEDFORDSHIRE), "--grid", "run.seed=1,2", "--metric", "nosuch", *QUICK, "--out", str(tmp_path / "o")]
    refused(tmp_path, args, "--metric nosuch")


def test_published_refuses_an_unknown_design(tmp_path: Path, batch: Path) -> None:
    rtt = RTT / "rtt-commissioner-ccg-2015-01-incomplete.csv"
    args = ["published", str(batch), "--rtt", str(rtt), "--commissioner", "06F", "--design", "nosuch"]
    refused(tmp_path, args, "--design nosuch", "known: prime")


# --------------------------------------------------------------------------- returns of two eras


@pytest.mark.parametrize("command", ["calibrate", "published"])
def test_returns_of_two_eras_are_refused(tmp_path: Path, batch: Path, command: str) -> None:
    pct, ccg = RTT / "rtt-commissioner-pct-2009-12-incomplete.csv", RTT / "rtt-commissioner-ccg-2015-01-incomplete.csv"
    where = [str(BEDFORDSHIRE)] if command == "calibrate" else [str(batch)]
    args = [command, *where, "--rtt", str(pct), "--rtt", str(ccg), "--commissioner", "06F"]
    if command == "calibrate":
        args += ["--out", str(tmp_path / "cal")]
    refused(tmp_path, args, "April 2013", str(ccg), str(pct))
