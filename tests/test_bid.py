"""The capitated contract's arithmetic and the bid stress test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from sim.bid import BidPaths, bid_summary, bid_table, parse_money, sensitivity
from sim.experiment import run_replications
from sim.finance import share_surplus
from sim.scenario import PrimeContract, load_scenario
from tests.conftest import ROOT, bundled

UNITINGCARE = ROOT / "scenarios" / "unitingcare_style.toml"
SHORT = ("run.years=2", "run.warmup_days=180")


@pytest.fixture(scope="module")
def paths() -> BidPaths:
    s = bundled(*SHORT)
    return BidPaths(run_replications(s, ["prime"], 6, jobs=2), s)


@pytest.mark.parametrize(
    ("text", "value"),
    [("26.5m", 26.5e6), ("800k", 8e5), ("£1,250,000", 1.25e6), ("26500000", 26.5e6), ("1.2bn", 1.2e9), ("3M", 3e6)],
)
def test_parse_money(text: str, value: float) -> None:
    assert parse_money(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "m", "26.5x", "twenty", "1.2.3m"])
def test_parse_money_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_money(text)


CORRIDOR = PrimeContract(year1_value_gbp=100.0, deficit_corridor_share=0.05, commissioner_deficit_share=0.5)


@pytest.mark.parametrize(
    ("surplus", "prime", "commissioner"),
    [
        (-4.75, -4.75, 0.0),  # a deficit exactly at the corridor's edge: all the prime's
        (-10.75, -7.75, -3.0),  # 6 beyond the corridor: the commissioner bears half of it
        (-1.0, -1.0, 0.0),
    ],
)
def test_deficit_corridor(surplus: float, prime: float, commissioner: float) -> None:
    p, c = share_surplus(np.array([surplus]), np.array([95.0]), CORRIDOR)
    assert (p[0], c[0]) == pytest.approx((prime, commissioner))


terms = st.builds(
    PrimeContract,
    year1_value_gbp=st.just(1e6),
    retained_surplus_share=st.floats(0, 0.2),
    commissioner_surplus_split=st.floats(0, 1),
    deficit_corridor_share=st.floats(0, 1),
    commissioner_deficit_share=st.floats(0, 1),
)


@settings(max_examples=200, deadline=None)
@given(terms, st.floats(-1e7, 1e7), st.floats(0, 1e8))
def test_shares_add_up_to_the_surplus(contract: PrimeContract, surplus: float, upfront: float) -> None:
    p, c = share_surplus(np.array([surplus]), np.array([upfront]), contract)
    assert p[0] + c[0] == pytest.approx(surplus, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(terms, st.floats(-1e7, 1e7), st.floats(0, 1e6), st.floats(0, 1e8))
def test_prime_share_never_falls_as_surplus_rises(contract: PrimeContract, surplus: float, more: float, upfront: float) -> None:
    lo, _ = share_surplus(np.array([surplus]), np.array([upfront]), contract)
    hi, _ = share_surplus(np.array([surplus + more]), np.array([upfront]), contract)
    assert hi[0] >= lo[0] - 1e-6


@settings(max_examples=40, deadline=None)
@given(price=st.floats(10e6, 40e6), step=st.floats(1.0, 2e6))
def test_result_rises_with_price_and_falls_with_cost(paths: BidPaths, price: float, step: float) -> None:
    base = paths.cumulative(price)
    assert np.all(paths.cumulative(price + step) >= base - 1e-6)
    assert np.all(paths.cumulative(price, delivery_scale=1.05) <= base + 1e-6)
    # continuous: a £1 change in price moves the result by no more than about £1 a year
    years = paths.rows["year"].nunique()
    assert np.all(np.abs(paths.cumulative(price + 1.0) - base) <= 1.05 * years + 1e-6)


@pytest.mark.parametrize("risk", [0.0, 0.1, 0.5])
def test_safe_price_meets_the_risk_appetite(paths: BidPaths, risk: float) -> None:
    """At the price found, P(cumulative loss) <= target; £10 less and it is exceeded."""
    price = paths.safe_price(risk)
    assert np.mean(paths.cumulative(price) < 0) <= risk
    assert np.mean(paths.cumulative(price - 10.0) < 0) > risk


def test_bid_outputs(paths: BidPaths) -> None:
    price = 26.5e6
    table = bid_table(paths, price)
    assert len(table) == len(paths.rows)
    components = [
        "income_upfront_gbp", "income_management_gbp", "income_quality_gbp", "cost_delivery_gbp", "cost_vat_gbp",
        "surplus_before_sharing_gbp", "prime_surplus_gbp", "commissioner_gain_share_gbp", "cumulative_surplus_gbp",
    ]  # fmt: skip
    for col in components:
        assert col in table.columns
    last = table.groupby("replication").tail(1).set_index("replication")["cumulative_surplus_gbp"]
    assert np.allclose(last, table.groupby("replication")["prime_surplus_gbp"].sum())
    summary = bid_summary(paths, price, 0.1)
    metrics = set(summary["metric"])
    assert {"loss_probability_year1", "loss_probability_any_year", "loss_probability_cumulative", "margin_pct",
            "value_at_risk_5pct_gbp", "safe_price_year1_gbp", "commissioner_gain_share_total_gbp"} <= metrics  # fmt: skip
    swings = sensitivity(paths, price)
    assert list(swings["swing_gbp"]) == sorted(swings["swing_gbp"], reverse=True)
    assert swings.iloc[0]["input"].startswith("delivery cost")


def test_unitingcare_style_bid_loses_money_in_year_one() -> None:
    """Target 7: priced about 9% under expected cost with VAT unfunded, year 1 is a deficit."""
    s = load_scenario(UNITINGCARE, ["run.years=1", "run.warmup_days=180"])
    paths = BidPaths(run_replications(s, ["prime"], 4, jobs=2), s)
    year1 = bid_table(paths, s.finance.prime_contract.year1_value_gbp)
    assert (year1["prime_surplus_gbp"] < 0).all()
    # and the price really is about 9% below the expected cost before VAT
    cost = (year1["cost_delivery_gbp"] + year1["cost_overheads_gbp"]).mean()
    assert s.finance.prime_contract.year1_value_gbp / cost == pytest.approx(0.91, abs=0.03)


def test_pennine_style_payment() -> None:
    """Paid at 90% of tariff plus an incentive: the commissioner's cost follows the activity."""
    s = bundled(
        *SHORT, 'designs.prime.payment="tariff_share"', "finance.tariff_share={ tariff_share = 0.9, incentive_share = 0.015 }"
    )
    t = run_replications(s, ["prime"], 2, jobs=1)
    low, high = 0.9 * t["tariff_value_gbp"], 0.9 * 1.015 * t["tariff_value_gbp"]
    assert ((t["commissioner_cost_gbp"] >= low - 1) & (t["commissioner_cost_gbp"] <= high + 1)).all()
    assert (t["commissioner_gain_share_gbp"] == 0).all()


def test_bid_command(tmp_path) -> None:
    out = tmp_path / "bid"
    args = ["bid", str(ROOT / "scenarios" / "bedfordshire.toml"), "--bid", "24m", "--reps", "2", "--years", "1"]
    result = CliRunner().invoke(app, [*args, "--set", "run.warmup_days=90", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Lowest year-1 price" in result.output
    for name in ("bid.csv", "bid_summary.csv", "sensitivity.csv", "replications.csv", "manifest.json", "scenario.toml"):
        assert (out / name).exists(), name
    assert pd.read_csv(out / "bid_summary.csv").query("metric == 'bid_year1_gbp'")["mean"].iloc[0] == 24e6
    bad = CliRunner().invoke(
        app, ["bid", str(ROOT / "scenarios" / "bedfordshire.toml"), "--bid", "lots", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()
