"""A bid that takes over the old system's lists says what it took over and prices it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis.switchover import simulate_switch_over
from sim.money.finance import add_finance
from sim.report.html import build_report
from sim.scenario.loading import ScenarioError
from tests.conftest import AT_CAPACITY_SET, BEDFORDSHIRE, bundled, from_the_sources

WARMUP = 150
TAKES_OVER = 'designs.prime.inherits="fragmented"'
BEDFORDSHIRE_MOBILISATION = 1_000_000.0
"""The one-off cost of the prime's mobilisation in the bundled scenario (assumed, as its comment says)."""


# --------------------------------------------------------------------------- mobilisation cost


def test_mobilising_costs_money_in_year_one_of_a_takeover_only() -> None:
    """The bundled prime's mobilisation has a cost, charged to its contract when it takes over;
    a steady-state run has nothing to mobilise and is charged none."""
    steady = bundled("run.years=2")
    taking = bundled("run.years=2", TAKES_OVER)
    assert steady.designs["prime"].mobilisation.cost_gbp == BEDFORDSHIRE_MOBILISATION
    assert steady.design_finance("prime").prime_contract.mobilisation_gbp == 0.0
    assert taking.design_finance("prime").prime_contract.mobilisation_gbp == BEDFORDSHIRE_MOBILISATION
    assert taking.design_finance("fragmented") is taking.finance  # not a prime contract's, not taking over


def test_a_mobilisation_cost_must_be_an_amount_of_money() -> None:
    with pytest.raises(ScenarioError) as e:
        bundled("designs.prime.mobilisation.cost_gbp=-5")
    assert "designs.prime.mobilisation.cost_gbp" in str(e.value)


def operations_in_year_one() -> dict:
    """Year 1 of the prime taking over: its result row, its operations and how many of them were
    on the surgical list it took over (counted through a hook on the theatre, so from the sources)."""
    s = bundled("run.years=1", f"run.warmup_days={WARMUP}", TAKES_OVER, AT_CAPACITY_SET)
    model = simulate_switch_over(s, "prime", 1)
    inherited = {id(e[-1]) for e in model.theatre.waiting}  # on the surgical list at the contract start
    operated: list[int] = []
    stats, count = model.theatre.stats, model.theatre.stats.operated

    def counted(p, overflow: bool = False) -> None:
        operated.append(id(p))
        count(p, overflow)

    stats.operated = counted
    rows = model.run()
    return json.loads(json.dumps({
        "rows": rows, "inherited": len(inherited), "operated": len(operated),
        "theirs": sum(pid in inherited for pid in operated),
    }, default=float))  # fmt: skip


@pytest.mark.slow
def test_the_inherited_list_is_costed_when_it_is_treated() -> None:
    """Patients on the surgical list the prime takes over are operated in its first year, counted
    with everyone else's operations, and those operations are in the prime's delivery cost."""
    data = from_the_sources(operations_in_year_one)
    s = bundled("run.years=1", f"run.warmup_days={WARMUP}", TAKES_OVER, AT_CAPACITY_SET)
    rows, theirs = pd.DataFrame(data["rows"]), data["theirs"]
    assert data["inherited"] > 0
    assert theirs > 0  # the inherited list is treated in year 1...
    row = rows.iloc[0]
    assert row["surgeries_daycase"] + row["surgeries_inpatient"] == data["operated"]  # ...and counted with the rest
    costed = add_finance(rows, s)
    fewer = rows.copy()
    fewer["surgeries_daycase"] -= theirs  # as if none of them had been operated on
    without = add_finance(fewer, s)
    assert costed["prime_cost_gbp"].iloc[0] - without["prime_cost_gbp"].iloc[0] >= theirs * s.surgery.tariff_other_daycase * 0.5


# --------------------------------------------------------------------------- the bid


@pytest.fixture(scope="module")
def takeover_bid(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("takeover") / "bid"
    args = ["bid", str(BEDFORDSHIRE), "--bid", "24m", "--takes-over", "fragmented", "--reps", "2", "--years", "2",
            "--no-uncertainty", "--jobs", "1", "--set", f"run.warmup_days={WARMUP}", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.mark.slow
def test_a_takeover_bid_says_what_it_took_over(takeover_bid) -> None:
    out, printed = takeover_bid
    manifest = json.loads((out / "manifest.json").read_text())["takes_over"]["prime_from_fragmented"]
    assert manifest["from"] == "fragmented" and manifest["pathways_mean"] > 100
    assert manifest["mobilisation_gbp"] == BEDFORDSHIRE_MOBILISATION
    assert "'prime_from_fragmented' takes over the lists of 'fragmented'" in " ".join(printed.split())
    assert f"{manifest['pathways_mean']:,.0f} incomplete RTT pathways" in " ".join(printed.split())
    bs = pd.read_csv(out / "bid_summary.csv").set_index("metric")
    assert bs.loc["pathways_taken_over", "mean"] == pytest.approx(manifest["pathways_mean"])
    returns = pd.read_csv(out / "rtt_returns.csv", dtype={"treatment_function": str})
    start = returns[(returns["design"] == "prime_from_fragmented") & (returns["year"] == 0) & (returns["part"] == "incomplete")]
    assert start.groupby("replication")["total"].sum().mean() == pytest.approx(manifest["pathways_mean"])


@pytest.mark.slow
def test_a_takeover_report_says_so_and_not_that_it_starts_from_empty_lists(takeover_bid) -> None:
    out, _ = takeover_bid
    page = build_report(out).read_text()
    assert "takes over the lists of &#x27;fragmented&#x27; at the contract start" in page
    assert "The run starts from empty lists after a warm-up" not in page
    assert "What the takeover adds" in page


@pytest.mark.slow
def test_the_takeover_is_charged_its_mobilisation_in_year_one(takeover_bid) -> None:
    out, _ = takeover_bid
    bid = pd.read_csv(out / "bid.csv")
    assert (bid.loc[bid["year"] == 1, "cost_mobilisation_gbp"] == BEDFORDSHIRE_MOBILISATION).all()
    assert (bid.loc[bid["year"] == 2, "cost_mobilisation_gbp"] == 0.0).all()


def test_the_takeover_table_pairs_the_bid_with_and_without_it(takeover_bid) -> None:
    """takeover.csv's extra cost is the takeover's cost less the steady state's, replication by
    replication, in each year: read here from replications.csv, where each design was costed apart."""
    out, _ = takeover_bid
    table = pd.read_csv(out / "takeover.csv").set_index(["metric", "year"])["mean"]
    rows = pd.read_csv(out / "replications.csv").set_index(["design", "replication", "year"])
    paired = rows.loc["prime_from_fragmented", "prime_cost_gbp"] - rows.loc["prime", "prime_cost_gbp"]
    for year in (1, 2):
        assert table[("extra_cost_gbp", str(year))] == pytest.approx(paired.xs(year, level="year").mean())
    assert table[("extra_cost_gbp", "all")] == pytest.approx(paired.groupby(level="replication").sum().mean())
    assert table[("extra_mobilisation_gbp", "1")] == BEDFORDSHIRE_MOBILISATION
    assert table[("extra_mobilisation_gbp", "2")] == 0.0
    # less its mobilisation, the takeover's extra cost is its care's (no VAT on Bedfordshire's; overheads the same)
    extra = table[("extra_cost_gbp", "1")] - table[("extra_mobilisation_gbp", "1")]
    assert extra == pytest.approx(table[("extra_delivery_cost_gbp", "1")], abs=1.0)
    for year in ("1", "2"):
        assert 0.0 <= table[("loss_probability_with", year)] <= 1.0
    with_, without = table[("safe_price_year1_with_gbp", "all")], table[("safe_price_year1_without_gbp", "all")]
    assert table[("extra_safe_price_year1_gbp", "all")] == pytest.approx(with_ - without)
    summary = pd.read_csv(out / "summary.csv")
    assert "prime_from_fragmented - prime" in set(summary["scope"])
