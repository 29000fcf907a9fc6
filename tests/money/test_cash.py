"""Monthly cash under a prime contract: a case worked by hand, and a bid's months adding up to its years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.model.recorder import OPERATIONS
from sim.money.bid import BidPaths
from sim.money.cash import cash_summary, monthly_cash
from sim.scenario.contracts import PrimeContract
from sim.scenario.schema import Scenario
from tests.conftest import BEDFORDSHIRE, bundled

TERMS = PrimeContract(
    year1_value_gbp=12_000_000, escalator=0.0, upfront_share=0.95, management_share=0.025, quality_share=0.025,
    retained_surplus_share=0.05, commissioner_surplus_split=0.5, overheads_gbp=1_200_000, mobilisation_gbp=600_000,
)  # fmt: skip


def _hand_case() -> tuple[BidPaths, pd.DataFrame, Scenario]:
    """One path, one year: the acute trust's care costs 9m, done twice as fast in the second half
    year as in the first; triage (the prime's own) 1.8m, evenly; every quality target met."""
    base = bundled()
    scenario = base.model_copy(update={"finance": base.finance.model_copy(update={"prime_contract": TERMS})})
    assert scenario.design_stages("prime")["orthopaedics"].provider == "acute_trust"
    assert scenario.design_stages("prime")["triage"].provider == "prime"
    rows = pd.DataFrame([{
        "design": "prime", "replication": 0, "year": 1,
        "cost_provider_acute_trust_gbp": 9_000_000.0, "cost_provider_prime_gbp": 1_800_000.0,
        "rtt_incomplete_within_18w_pct": 99.0, "hospital_diversion_pct": 60.0, "followups_per_first_op": 1.0,
    }])  # fmt: skip
    stages = list(scenario.design_stages("prime"))
    monthly = pd.DataFrame(0.0, index=range(12), columns=[f"{s}_{k}" for s in stages for k in ("first", "followup")])
    for op in OPERATIONS:
        monthly[op] = 0.0
    monthly["orthopaedics_first"] = [100.0] * 6 + [200.0] * 6
    monthly["triage_first"] = 50.0
    start = scenario.run.warmup_days
    monthly = monthly.assign(design="prime", replication=0, year=1, day=[start + 30 * (m + 1) for m in range(12)])
    return BidPaths(rows, scenario), monthly, scenario


def test_a_year_of_cash_worked_by_hand() -> None:
    paths, monthly, scenario = _hand_case()
    cash = monthly_cash(paths, monthly, scenario, 12_000_000, reserve=500_000)
    k = 1_000.0
    # up-front 95% of 12m and the 2.5% fee, in twelve instalments: 950k and 25k a month
    assert cash["income_upfront_gbp"].tolist() == pytest.approx([950 * k] * 12)
    assert cash["income_management_gbp"].tolist() == pytest.approx([25 * k] * 12)
    # care: the acute trust's 9m in 18ths (1 a month, then 2), triage's 1.8m evenly
    assert cash["cost_delivery_gbp"].tolist() == pytest.approx([650 * k] * 6 + [1_150 * k] * 6)
    assert cash["cost_overheads_gbp"].tolist() == pytest.approx([100 * k] * 12)
    assert cash["cost_mobilisation_gbp"].tolist() == pytest.approx([600 * k] + [0.0] * 11)
    # year end: the whole quality pot (2.5% of 12m), and the gain share: the surplus on the
    # up-front payment is 11.4m - 10.8m = 600k; the prime keeps 5% of 11.4m (570k); half the rest goes back
    assert cash["income_quality_gbp"].tolist() == pytest.approx([0.0] * 11 + [300 * k])
    assert cash["commissioner_gain_share_gbp"].tolist() == pytest.approx([0.0] * 11 + [15 * k])
    flows = [-375, 225, 225, 225, 225, 225, -275, -275, -275, -275, -275, 10]
    assert cash["cash_flow_gbp"].tolist() == pytest.approx([f * k for f in flows])
    assert cash["cumulative_cash_gbp"].tolist() == pytest.approx([c * k for c in np.cumsum(flows)])
    assert cash["cumulative_cash_gbp"].iloc[-1] == pytest.approx(paths.account(12_000_000)["prime_surplus_gbp"].iloc[0])
    # a 500k reserve lasts until month 11, when the running balance reaches -625k
    assert cash["month"].tolist() == list(range(1, 13))
    assert cash.loc[cash["reserve_left_gbp"] < 0, "month"].min() == 11
    summary = pd.DataFrame(cash_summary(cash, 500_000)).set_index("metric")["mean"]
    assert summary["cash_low_point_gbp"] == pytest.approx(-625 * k)
    assert summary["cash_buffer_90pct_gbp"] == pytest.approx(625 * k)
    assert summary["reserve_exhausted_probability_6m"] == 0.0
    assert summary["reserve_exhausted_probability_12m"] == 1.0
    assert summary["reserve_exhausted_probability_contract"] == 1.0


@pytest.mark.slow
def test_a_bid_writes_monthly_cash_that_adds_up_to_its_years(tmp_path) -> None:
    out = tmp_path / "bid"
    args = ["bid", str(BEDFORDSHIRE), "--reps", "2", "--years", "2", "--set", "run.warmup_days=90", "--jobs", "2"]
    result = CliRunner().invoke(app, [*args, "--reserve", "£1.5m", "--out", str(out), "--quiet", "--report"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Reserve of £1.50m" in said and "runs out" in said  # table cells wrap
    cash, bid = pd.read_csv(out / "bid_monthly.csv"), pd.read_csv(out / "bid.csv")
    assert sorted(cash["replication"].unique()) == [0, 1]
    assert cash.groupby("replication")["month"].apply(list).map(lambda m: m == list(range(1, 25))).all()
    years = cash.groupby(["replication", "year"]).sum(numeric_only=True).reset_index()
    years = years.merge(bid, on=["replication", "year"], suffixes=("_month", "_year"))
    # each month is written to the penny: twelve of them may be a few pennies from the year
    np.testing.assert_allclose(years["cash_flow_gbp"], years["prime_surplus_gbp"], atol=0.1)
    np.testing.assert_allclose(years["cost_delivery_gbp_month"], years["cost_delivery_gbp_year"], atol=0.1)
    np.testing.assert_allclose(years["income_upfront_gbp_month"], years["income_upfront_gbp_year"], atol=0.1)
    summary = pd.read_csv(out / "bid_summary.csv").set_index("metric")
    assert summary.loc["reserve_gbp", "mean"] == 1_500_000
    assert 0.0 <= summary.loc["reserve_exhausted_probability_contract", "mean"] <= 1.0
    assert "Cash month by month" in (out / "report.html").read_text()
    bad = CliRunner().invoke(app, [*args, "--reserve", "-2m", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--reserve" in bad.output and not (tmp_path / "x").exists()
