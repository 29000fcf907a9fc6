"""The results schema: a run's rows have exactly the declared columns, each one described."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.money.finance import FINANCE_COLUMNS
from sim.runs.experiment import Task, run_task
from sim.scenario import columns
from sim.scenario.columns import HEADLINE, ColumnError, check_columns, column, columns_for, find, numeric_columns
from sim.scenario.loading import THEATRE, load_scenario, with_values

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.toml") if p.stem != "template")
SHORT = ["run.years=1", "run.warmup_days=30"]
CASES = [(p, d) for p in SCENARIOS for d in load_scenario(p).designs]


@pytest.fixture(scope="module")
def runs() -> dict:
    """One short run per bundled scenario and design, with drawn inputs."""
    out = {}
    for path, design in CASES:
        scenario = load_scenario(path, SHORT)
        outcome = run_task(scenario, Task(0, 0, design), uncertainty=True)
        assert outcome.error is None, outcome.error
        out[path.stem, design] = scenario, outcome.rows
    return out


@pytest.mark.parametrize(("path", "design"), CASES, ids=[f"{p.stem}-{d}" for p, d in CASES])
@pytest.mark.slow
def test_a_run_has_exactly_the_declared_columns_in_order(runs, path: Path, design: str) -> None:
    scenario, rows = runs[path.stem, design]
    declared = columns_for(scenario, design)
    for row in rows:
        assert list(row) == declared
    check_columns(list(rows[0]), scenario, design)
    for name in declared:
        col = column(name)
        assert col.name == name and not col.is_pattern
        assert col.label and col.description and col.unit in columns.UNITS
        assert col.better in ("lower", "higher", "none")
        assert col.source in ("identifiers", "recorder", "finance", "flows", "uncertainty")


@pytest.mark.slow
def test_drawn_inputs_and_money_columns_come_from_their_part_of_the_model(runs) -> None:
    scenario, rows = runs["bedfordshire", "prime"]
    sources = {n: column(n).source for n in rows[0]}
    assert any(n.startswith("param.") for n in sources), "bedfordshire draws inputs"
    assert all(s == "uncertainty" for n, s in sources.items() if n.startswith("param."))
    assert all(sources[n] == "finance" for n in FINANCE_COLUMNS)
    assert [c.name for c in columns.FINANCE] == list(FINANCE_COLUMNS)
    assert sources["design"] == "identifiers" and sources["physio_first"] == "recorder"
    assert not any(n.startswith("param.") for n in columns_for(scenario, "prime", uncertainty=False))


def test_an_undeclared_or_missing_column_is_caught(bedfordshire) -> None:
    declared = columns_for(bedfordshire, "fragmented")
    with pytest.raises(ColumnError, match="undeclared: made_up_metric"):
        check_columns([*declared, "made_up_metric"], bedfordshire, "fragmented")
    with pytest.raises(ColumnError, match="missing: waiting_list_end"):
        check_columns([n for n in declared if n != "waiting_list_end"], bedfordshire, "fragmented")
    swapped = [declared[1], declared[0], *declared[2:]]
    with pytest.raises(ColumnError, match="out of order"):
        check_columns(swapped, bedfordshire, "fragmented")
    assert find("made_up_metric") is None
    with pytest.raises(KeyError, match="made_up_metric"):
        column("made_up_metric")
    assert columns.undeclared(["physio_first", "nope"]) == ["nope"]


def test_patterns_resolve_to_their_stage_provider_or_key() -> None:
    queue = column("community_specialist_queue_wait_mean_days")
    assert queue.label == "Community specialist: mean wait on the list after booking"
    assert queue.heading == "Community specialist: mean wait on the list after booking (days)"
    assert column("physio_list_mean").unit == "patients"
    assert column(f"{THEATRE}_waiting_end").label == "Theatre: waiting at year end"
    assert column("pay_provider_acute_trust_gbp").source == "finance"
    drawn = column("param.stages.physio.tariff_first")
    assert drawn.source == "uncertainty" and "stages.physio.tariff_first" in drawn.description


def test_headline_and_numeric_columns_are_declared(bedfordshire) -> None:
    for name in HEADLINE:
        assert find(name) is not None and not find(name).is_pattern
    numeric = numeric_columns(bedfordshire, "prime")
    assert "design" not in numeric and numeric[:3] == ["point", "replication", "year"]
    assert column("rtt_incomplete_within_18w_pct").sign == 1 and column("waiting_list_end").sign == -1
    assert column("referrals").sign == 0


def result_columns(scenario, design: str) -> list[str]:
    """The numeric columns of a one-year run with no referrals."""
    empty = {"run.years": 1, "run.warmup_days": 0, "demand.referrals_per_year": 0, "demand.self_referral.per_year": 0}
    outcome = run_task(with_values(scenario, empty, scenario.name, how=None), Task(0, 0, design), uncertainty=False)
    assert outcome.error is None, outcome.error
    return [k for k, v in outcome.rows[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]


@pytest.mark.parametrize("design", ["fragmented", "prime"])
def test_numeric_columns_are_what_an_empty_run_gives(bedfordshire, design: str) -> None:
    """What ``--metric`` may name, known without simulating."""
    assert numeric_columns(bedfordshire, design) == result_columns(bedfordshire, design)
