"""Strict input: a boolean is not a number, a quoted number is text, money is read one
documented way, infinities and NaN are no number an option takes, and a message blames the
input that is wrong.

Each refusal exits with code 2, names the file, key or option, prints no traceback and writes
nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from sim.money.amounts import MONEY_GRAMMAR, parse_money, parse_price
from sim.scenario.loading import load_scenario
from sim.scenario.schema import ScenarioError
from tests.conftest import BEDFORDSHIRE

runner = CliRunner()
RUN = ["--reps", "1", "--years", "1", "--no-uncertainty", "--quiet", "--jobs", "1"]


def refused(tmp_path: Path, args: list[str], *words: str) -> str:
    """Run ``args`` from ``tmp_path``; check exit 2, the words, no traceback, nothing written."""
    before = sorted(tmp_path.rglob("*"))
    result = runner.invoke(app, args)
    text = " ".join(result.output.split())
    squeezed = "".join(result.output.split())  # Rich may break a long path mid-word
    assert result.exit_code == 2, f"exit {result.exit_code}\n{result.output}{result.exception!r}"
    assert "Traceback" not in result.output and "error:" in text.lower()
    for w in words:
        assert "".join(w.split()) in squeezed, f"{w!r} not in: {text}"
    assert sorted(tmp_path.rglob("*")) == before, "something was written"
    return text


def child(folder: Path, body: str) -> Path:
    """A scenario extending the bundled one with ``body``."""
    path = folder / "child.toml"
    path.write_text(f'extends = "{BEDFORDSHIRE}"\n{body}\n', encoding="utf-8")
    return path


# --------------------------------------------------------------------------- scenario values


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ("population = true", "population", "not true"),
        ('[stages.physio]\nslots_per_week = "125"', "stages.physio.slots_per_week", "without quotes"),
        ("[run]\nyears = true", "run.years", "not true"),
        ('[run]\nseed = "7"', "run.seed", "without quotes"),
        ('[stages.physio]\nhospital = "yes"', "stages.physio.hospital", "true or false"),
    ],
)
def test_a_boolean_or_a_quoted_number_in_a_file_is_not_a_number(tmp_path: Path, body: str, key: str, words: str) -> None:
    path = child(tmp_path, body)
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert e.value.key == key and words in e.value.problem
    refused(tmp_path, ["validate", str(path)], str(path), key, words)


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("stages.physio.slots_per_week=true", "stages.physio.slots_per_week"),
        ('stages.physio.slots_per_week="125"', "stages.physio.slots_per_week"),
        ("stages.physio.slots_per_week=abc", "stages.physio.slots_per_week"),
        ("population=false", "population"),
    ],
)
def test_a_set_value_is_as_strict_as_the_file(tmp_path: Path, item: str, key: str) -> None:
    args = ["run", str(BEDFORDSHIRE), *RUN, "--set", item, "--out", str(tmp_path / "out")]
    refused(tmp_path, args, "--set", key, "should be a valid")


def test_text_keys_take_text_and_a_whole_number_is_still_a_number() -> None:
    s = load_scenario(BEDFORDSHIRE, ["name=abc", "stages.physio.slots_per_week=1200", 'description="1"'])
    assert s.name == "abc" and s.stages["physio"].slots_per_week == 1200.0 and s.description == "1"


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("text", "amount", "per_head"),
    [
        ("26.5m", 26.5e6, False),
        ("26,500,000", 26.5e6, False),
        ("£26.5m", 26.5e6, False),
        ("49/head", 49.0, True),
        ("£38.50 per head", 38.5, True),
        ("2k", 2e3, False),
        ("1.2bn", 1.2e9, False),
        ("3M", 3e6, False),
        ("1.2BN", 1.2e9, False),
    ],
)
def test_the_money_grammar(text: str, amount: float, per_head: bool) -> None:
    assert parse_price(text) == (pytest.approx(amount), per_head)


@pytest.mark.parametrize("text", ["1.2mn", "2mn", "3kn/head", "1.2b", "2e6", "inf", "nan", "1_000", "£", "26.5 million"])
def test_money_outside_the_grammar_is_refused_with_the_grammar(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount of money") as e:
        parse_price(text)
    assert MONEY_GRAMMAR in str(e.value) and repr(text) in str(e.value)


@pytest.mark.parametrize("text", ["5000bn", "1,000,001m", "2000000/head"])
def test_absurd_money_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is more than"):
        parse_price(text)


def test_a_reserve_reads_the_same_grammar_without_per_head() -> None:
    assert parse_money("£1.5m", zero=True) == 1.5e6 and parse_money("0", zero=True) == 0.0
    with pytest.raises(ValueError, match="k, m or bn"):
        parse_money("2mn", zero=True)


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--bid", "1.2mn", "26.5m"),
        ("--bid", "3kn/head", "590/head"),
        ("--bid", "5000bn", "is more than"),
        ("--reserve", "2mn", "k, m or bn"),
    ],
)
def test_bad_money_on_the_command_line_is_refused(tmp_path: Path, option: str, value: str, words: str) -> None:
    args = ["bid", str(BEDFORDSHIRE), option, value, *RUN, "--out", str(tmp_path / "out")]
    refused(tmp_path, args, option, value, words)


# --------------------------------------------------------------------------- infinities and NaN


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--precision", "inf"],
        ["compare", "--precision", "nan"],
        ["target", "--stage", "physio", "--at-least", "nan"],
        ["target", "--stage", "physio", "--at-most", "-inf"],
        ["target", "--stage", "physio", "--at-least", "80", "--max-load", "inf"],
        ["target", "--stage", "physio", "--at-least", "80", "--probability", "nan"],
        ["target", "--stage", "physio", "--at-least", "80", "--tolerance", "nan"],
        ["bid", "--max-loss-probability", "nan"],
    ],
    ids=lambda a: " ".join(a[:1] + a[-2:]),
)
def test_no_option_takes_an_infinity_or_nan(tmp_path: Path, args: list[str]) -> None:
    command, *rest = args
    refused(tmp_path, [command, str(BEDFORDSHIRE), *rest, "--out", str(tmp_path / "out")], rest[-2])


def test_money_in_a_scenario_is_finite() -> None:
    with pytest.raises(ScenarioError, match="finite"):
        load_scenario(BEDFORDSHIRE, ["finance.prime_contract.year1_value_gbp=inf"])


# --------------------------------------------------------------------------- the right blame


@pytest.mark.parametrize("given", [["--commissioner", "06F", "--month", "2015-02"], ["--month", "2015-02"]])
def test_a_commissioner_and_month_without_a_backlog_ask_for_one(tmp_path: Path, given: list[str]) -> None:
    args = ["run", str(BEDFORDSHIRE), *RUN, *given, "--out", str(tmp_path / "out")]
    text = refused(tmp_path, args, "--backlog FILE", "--commissioner and --month")
    assert "warmup" not in text


def test_a_file_with_a_month_but_no_backlog_file_names_the_key(tmp_path: Path) -> None:
    path = child(tmp_path, '[run]\nwarmup_days = 0\n[backlog]\nmonth = "2015-02"')
    refused(tmp_path, ["validate", str(path)], "backlog.month", "backlog.file")
