"""Dates and sizes are bounded: a start date, a warm-up, a horizon, a replication count or a seed
out of range is refused before anything runs, naming the key (and the option given) and the bound."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from sim.runs.results import SCENARIO_FILE
from sim.scenario.loading import ScenarioError, load_given, load_scenario
from sim.scenario.run import EARLIEST_START, LATEST_START, MAX_REPLICATIONS, MAX_WARMUP_DAYS, MAX_YEARS

runner = CliRunner()


def _with_run(small: Path, tmp_path: Path, line: str) -> Path:
    """The small scenario with one ``[run]`` key set in the file itself."""
    shutil.copy(small.parent / SCENARIO_FILE, tmp_path / SCENARIO_FILE)  # what it extends
    path = tmp_path / small.name
    path.write_text(small.read_text() + f"\n[run]\n{line}\n")
    return path


@pytest.mark.parametrize(
    ("line", "key", "bound"),
    [
        ("start_date = 9999-06-01", "run.start_date", str(LATEST_START)),
        ("start_date = 0001-01-01", "run.start_date", str(EARLIEST_START)),
        ("start_date = 1989-12-31", "run.start_date", str(EARLIEST_START)),
        ("warmup_days = 1000000000", "run.warmup_days", str(MAX_WARMUP_DAYS)),
        ("warmup_days = 1e9", "run.warmup_days", "integer"),  # a number of days is whole
        ("warmup_days = 7301", "run.warmup_days", str(MAX_WARMUP_DAYS)),
        ("years = 51", "run.years", str(MAX_YEARS)),
        ("replications = 1000000000000000000000000000000", "run.replications", str(MAX_REPLICATIONS)),
        ("replications = 100001", "run.replications", str(MAX_REPLICATIONS)),
        ("seed = 100000000000000000000000000000", "run.seed", "9223372036854775807"),
    ],
)
def test_a_value_out_of_range_in_a_file_names_its_key_and_the_bound(small: Path, tmp_path: Path, line: str, key: str,
                                                                     bound: str) -> None:  # fmt: skip
    path = _with_run(small, tmp_path, line)
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert e.value.key == key and bound in e.value.problem, str(e.value)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("line", ["start_date = 1990-01-01", "start_date = 2100-12-31", f"warmup_days = {MAX_WARMUP_DAYS}",
                                  f"replications = {MAX_REPLICATIONS}", f"years = {MAX_YEARS}"])  # fmt: skip
def test_the_bounds_themselves_are_allowed(small: Path, tmp_path: Path, line: str) -> None:
    load_scenario(_with_run(small, tmp_path, line))


@pytest.mark.parametrize(
    ("args", "option", "key"),
    [
        (["--reps", str(10**30)], "--reps", "run.replications"),
        (["--reps", str(MAX_REPLICATIONS + 1)], "--reps", "run.replications"),
        (["--years", str(MAX_YEARS + 1)], "--years", "run.years"),
        (["--seed", str(10**29)], "--seed", "run.seed"),
        (["--set", "run.start_date=9999-06-01"], "--set run.start_date", "run.start_date"),
        (["--set", "run.start_date=0001-01-01"], "--set run.start_date", "run.start_date"),
        (["--set", "run.warmup_days=1e9"], "--set run.warmup_days", "run.warmup_days"),
    ],
)
def test_an_option_out_of_range_exits_2_naming_it_and_writes_nothing(small: Path, tmp_path: Path, args: list[str],
                                                                     option: str, key: str) -> None:  # fmt: skip
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(small), *args, "--quiet", "--jobs", "1", "--out", str(out)])
    said = " ".join(result.output.split())  # as one line, however the terminal wrapped it
    assert result.exit_code == 2, said
    assert said.startswith("error:") and f"({option})" in said and key in said
    assert "Traceback" not in said
    assert not out.exists()


def test_the_option_is_named_rather_than_the_file_it_overrides(small: Path) -> None:
    with pytest.raises(ScenarioError) as e:
        load_given(small, None, reps=MAX_REPLICATIONS + 1)
    assert e.value.source == f"{small} (--reps)" and e.value.key == "run.replications"
    with pytest.raises(ScenarioError) as e:  # a --set of the same key is named as the --set it is
        load_given(small, [f"run.years={MAX_YEARS + 1}"])
    assert e.value.source == f"{small} (--set run.years)"
