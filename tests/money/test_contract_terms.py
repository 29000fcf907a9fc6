"""Contracts as they are written: partial credit, shares by year, capitation per head, prices
that move after year 1, and net present values, each against figures worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.money.amounts import parse_price
from sim.money.bid import BidPaths, bid_summary
from sim.money.contracts import prime_account, quality_met, target_credit, tariff_share_account
from sim.money.finance import add_finance
from sim.money.payment import Element, payment_policy
from sim.money.prices import cost_index, discount_factor, price_index, tariff_index
from sim.scenario.columns import provider_columns
from sim.scenario.contracts import PrimeContract, QualityTarget, TariffShare
from sim.scenario.finance import Finance, Inflation, Provider
from sim.scenario.loading import ScenarioError, load_scenario
from tests.conftest import ROOT
from tests.money.test_finance import PASS_OR_FAIL, activity, bundled

# ----------------------------------------------------------------------------- partial credit


def test_partial_credit_on_a_straight_line() -> None:
    """Full credit at the target, none at the floor, in proportion between; either way round."""
    rtt = QualityTarget(measure="rtt_incomplete_within_18w_pct", floor=85.0, target=92.0)
    values = np.array([80.0, 85.0, 88.5, 90.25, 92.0, 99.0, np.nan])
    assert target_credit(values, rtt, +1) == pytest.approx([0.0, 0.0, 0.5, 0.75, 1.0, 1.0, 0.0])
    followups = QualityTarget(measure="followups_per_first_op", floor=2.5, target=2.0)
    assert target_credit(np.array([3.0, 2.5, 2.4, 2.25, 2.0, 1.0]), followups, -1) == pytest.approx(
        [0.0, 0.0, 0.2, 0.5, 1.0, 1.0]
    )
    pass_fail = QualityTarget(measure="hospital_diversion_pct", target=40.0)
    assert target_credit(np.array([39.99, 40.0, 60.0]), pass_fail, +1).tolist() == [0.0, 1.0, 1.0]


def test_weighted_credit_of_several_targets() -> None:
    """RTT half way (weight 2), diversion met (weight 1), follow-ups missed (weight 1):
    (2 x 0.5 + 1 + 0) / 4 = 0.5."""
    terms = PrimeContract(
        year1_value_gbp=1.0,
        quality_targets=[
            QualityTarget(measure="rtt_incomplete_within_18w_pct", floor=84.0, target=92.0, weight=2.0),
            QualityTarget(measure="hospital_diversion_pct", target=40.0),
            QualityTarget(measure="followups_per_first_op", target=2.0),
        ],
    )
    rows = pd.DataFrame(
        {"rtt_incomplete_within_18w_pct": [88.0], "hospital_diversion_pct": [45.0], "followups_per_first_op": [2.2]}
    )
    assert quality_met(rows, terms) == pytest.approx([0.5])
    assert quality_met(rows, terms.model_copy(update={"quality_targets": []})) == pytest.approx([0.0])


@given(st.floats(0.0, 100.0), st.floats(0.0, 100.0), st.floats(-50.0, 150.0))
def test_credit_is_between_zero_and_one_and_never_falls_as_the_measure_improves(floor: float, target: float, x: float) -> None:
    lo, hi = sorted((floor, target))
    t = QualityTarget(measure="rtt_incomplete_within_18w_pct", floor=lo, target=hi)
    credit = target_credit(np.array([x, x + 1.0]), t, +1)
    assert 0.0 <= credit[0] <= credit[1] <= 1.0


@pytest.mark.filterwarnings("error")
def test_a_far_off_value_over_a_narrow_gap_earns_all_or_nothing_without_a_warning() -> None:
    t = QualityTarget(measure="rtt_incomplete_within_18w_pct", floor=0.0, target=1e-300)
    assert list(target_credit(np.array([1e300, -1e300, 5e-301]), t, +1)) == [1.0, 0.0, 0.5]


# ----------------------------------------------------------------------------- shares by year


def test_outcome_share_rising_by_year() -> None:
    """UnitingCare-style: the outcome share rises to 15% as the up-front share falls.

    Price 10,000,000 with no escalator, every target met, delivery 8,000,000:
    year 1: up-front 9,500,000, quality 250,000; year 3: up-front 8,250,000, quality 1,500,000;
    year 5 (past the list's end): as year 3.
    """
    contract = PrimeContract(
        year1_value_gbp=10e6,
        escalator=0.0,
        upfront_share=[0.95, 0.90, 0.825],
        quality_share=[0.025, 0.075, 0.15],
        retained_surplus_share=1.0,  # the prime keeps any surplus: the shares alone are tested
    )
    met = {"rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0, "followups_per_first_op": 1.5}
    rows = pd.DataFrame([{"year": y, **met} for y in (1, 2, 3, 5)])
    acc = prime_account(rows, np.full(4, 8e6), contract, 10e6)
    assert acc["income_upfront_gbp"].tolist() == pytest.approx([9.5e6, 9.0e6, 8.25e6, 8.25e6])
    assert acc["income_quality_gbp"].tolist() == pytest.approx([0.25e6, 0.75e6, 1.5e6, 1.5e6])
    assert acc["income_management_gbp"].tolist() == pytest.approx([0.25e6] * 4)
    assert acc["prime_surplus_gbp"].tolist() == pytest.approx([2.0e6] * 4)  # every pound of the value earned


def test_incentive_share_by_year_for_a_tariff_share_hub() -> None:
    terms = TariffShare(tariff_share=0.9, incentive_share=[0.01, 0.02])
    met = {"rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0, "followups_per_first_op": 1.5}
    rows = pd.DataFrame([{"year": y, **met} for y in (1, 2, 3)])
    acc = tariff_share_account(rows, {"hub": np.full(3, 1e6)}, np.full(3, 0.8e6), terms)
    assert acc["quality_payment_gbp"].tolist() == pytest.approx([9_000, 18_000, 18_000])


def test_shares_above_one_in_any_year_are_refused() -> None:
    with pytest.raises(ValueError, match="exceed 1 in contract year 2"):
        PrimeContract(year1_value_gbp=1.0, upfront_share=[0.95, 0.95], quality_share=[0.025, 0.05])


# ----------------------------------------------------------------------------- capitation


def test_price_per_head() -> None:
    """£40 a head for 700,000 people is £28m; a weighted population of 650,000 is £26m."""
    assert PrimeContract(per_head_gbp=40.0).year1_value(700_000) == pytest.approx(28e6)
    weighted = PrimeContract(per_head_gbp=40.0, capitated_population=650_000)
    assert weighted.year1_value(700_000) == pytest.approx(26e6)


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        ({}, "one way"),
        ({"year1_value_gbp": 1e6, "per_head_gbp": 40.0}, "one way"),
        ({"year1_value_gbp": 1e6, "capitated_population": 1000}, "capitated_population is for a price per head"),
        ({"per_head_gbp": 40.0, "quality_rtt_target_pct": 90}, "no longer settings"),
    ],
)
def test_price_terms_that_cannot_be_read(terms: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        PrimeContract(**terms)


def test_the_bundled_scenario_priced_per_head_costs_the_same() -> None:
    """Bedfordshire's £26.5m as a rate per head of its population gives the same account."""
    by_sum = bundled(PASS_OR_FAIL)
    rate = 26.5e6 / by_sum.population
    per_head = by_sum.model_copy(
        update={
            "finance": by_sum.finance.model_copy(
                update={
                    "prime_contract": by_sum.finance.prime_contract.model_copy(
                        update={"year1_value_gbp": None, "per_head_gbp": rate}
                    )
                }
            )
        }
    )
    rows = pd.DataFrame([activity(by_sum, 1, {"rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0,
                                              "followups_per_first_op": 1.5})])  # fmt: skip
    a, b = add_finance(rows, by_sum), add_finance(rows, per_head)
    assert b["prime_surplus_gbp"].iloc[0] == pytest.approx(a["prime_surplus_gbp"].iloc[0])
    assert b["commissioner_cost_gbp"].iloc[0] == pytest.approx(a["commissioner_cost_gbp"].iloc[0])


@pytest.mark.parametrize(
    ("text", "amount", "per_head"),
    [("26.5m", 26.5e6, False), ("590/head", 590.0, True), ("£38.50 per head", 38.5, True), ("40 / Head", 40.0, True)],
)
def test_a_bid_may_be_a_rate_per_head(text: str, amount: float, per_head: bool) -> None:
    assert parse_price(text) == (pytest.approx(amount), per_head)


def test_a_bad_per_head_bid_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an amount of money"):
        parse_price("forty/head")


def test_bid_summary_gives_the_price_per_head_and_net_present_values() -> None:
    """One path, two years, a surplus of 1,000,000 each year: at 3.5% the NPV is
    1,000,000 + 1,000,000 / 1.035."""
    scenario = bundled("finance.discount_rate=0.035")
    contract = PrimeContract(year1_value_gbp=10e6, escalator=0.0, quality_share=0.0, management_share=0.0,
                             upfront_share=1.0, retained_surplus_share=1.0)  # fmt: skip
    scenario = scenario.model_copy(update={"finance": scenario.finance.model_copy(update={"prime_contract": contract})})
    table = pd.DataFrame({"design": "prime", "replication": [0, 0], "year": [1, 2], "cost_provider_x_gbp": [9e6, 9e6],
                          "rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0,
                          "followups_per_first_op": 1.5})  # fmt: skip
    summary = bid_summary(BidPaths(table, scenario), 10e6, 0.1).set_index("metric")["mean"]
    assert summary["bid_per_head_gbp"] == pytest.approx(10e6 / scenario.population)
    assert summary["cumulative_surplus_gbp"] == pytest.approx(2e6)
    assert summary["cumulative_surplus_npv_gbp"] == pytest.approx(1e6 + 1e6 / 1.035)
    assert summary["commissioner_cost_total_npv_gbp"] == pytest.approx(10e6 + 10e6 / 1.035)
    assert summary["safe_price_per_head_gbp"] == pytest.approx(summary["safe_price_year1_gbp"] / scenario.population)


# ----------------------------------------------------------------------------- prices over the years


def test_price_indices_by_hand() -> None:
    """Pay 1% and non-pay 3%, 70% pay: costs rise 1.6% a year; the tariff falls 1.5% then 0%
    (the last rate holds)."""
    finance = Finance(
        providers={"acute": Provider(), "own": Provider(prices_follow="costs")},
        inflation=Inflation(pay=0.01, non_pay=0.03, pay_share=0.7, tariff=[-0.015, 0.0]),
    )
    years = np.array([1, 2, 3, 4])
    assert cost_index(finance, years) == pytest.approx([1.0, 1.016, 1.016**2, 1.016**3])
    assert tariff_index(finance, years) == pytest.approx([1.0, 0.985, 0.985, 0.985])
    assert price_index(finance, "own", years) == pytest.approx(cost_index(finance, years))
    assert price_index(finance, "acute", years) == pytest.approx(tariff_index(finance, years))
    assert discount_factor(finance, years) == pytest.approx([1.0, 1 / 1.035, 1 / 1.035**2, 1 / 1.035**3])


def test_inflation_moves_every_price_in_the_costing() -> None:
    """Year 2 of the same activity, with tariffs down 2% and costs up 3%: the acute trust
    (tariff) costs 2% less, the prime's own services, GP visits and overheads 3% more; block
    sums follow their provider."""
    costs = ('finance.providers.prime.prices_follow="costs"', 'finance.providers.community_physio.prices_follow="costs"')
    base = bundled(PASS_OR_FAIL, *costs, "finance.inflation={ pay = 0.0, non_pay = 0.0, tariff = 0.0 }")
    moved = bundled(PASS_OR_FAIL, *costs, "finance.inflation={ pay = 0.03, non_pay = 0.03, tariff = -0.02 }")
    outcomes = {"rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0, "followups_per_first_op": 1.5}
    for design in ("prime", "fragmented"):
        rows = pd.DataFrame([{**activity(base, y, outcomes), "design": design, "gp_consultations": 1_000} for y in (1, 2)])
        if design == "fragmented":
            rows = rows.drop(columns=[c for c in rows if c.startswith(("triage_", "community_specialist_"))])
        a, b = add_finance(rows, base), add_finance(rows, moved)
        assert b.iloc[0]["tariff_value_gbp"] == pytest.approx(a.iloc[0]["tariff_value_gbp"])  # year 1 unchanged
        assert b.iloc[1]["gp_cost_gbp"] == pytest.approx(a.iloc[1]["gp_cost_gbp"] * 1.03)
        if design == "prime":
            assert b.iloc[1]["cost_provider_acute_trust_gbp"] == pytest.approx(a.iloc[1]["cost_provider_acute_trust_gbp"] * 0.98)
            assert b.iloc[1]["cost_provider_prime_gbp"] == pytest.approx(a.iloc[1]["cost_provider_prime_gbp"] * 1.03)
            overheads = base.finance.prime_contract.overheads_gbp
            extra = b.iloc[1]["prime_cost_gbp"] - a.iloc[1]["prime_cost_gbp"]
            delivery = b.iloc[1][[c for c in b if c.startswith("cost_provider_")]].sum()
            delivery -= a.iloc[1][[c for c in a if c.startswith("cost_provider_")]].sum()
            assert extra == pytest.approx(delivery + 0.03 * overheads)
        else:
            assert b.iloc[1]["pay_provider_acute_trust_gbp"] == pytest.approx(a.iloc[1]["pay_provider_acute_trust_gbp"] * 0.98)
            assert b.iloc[1]["pay_provider_community_physio_gbp"] == pytest.approx(4_600_000 * 1.03)


# ----------------------------------------------------------------------------- bad terms


@pytest.mark.parametrize(
    ("override", "key", "problem"),
    [
        ('finance.prime_contract.quality_targets=[{ measure = "hospital_diversion", target = 40 }]',
         "quality_targets[0].measure", "did you mean 'hospital_diversion_pct'"),
        ('finance.prime_contract.quality_targets=[{ measure = "hospital_diversion_pct", floor = 50, target = 40 }]',
         "quality_targets[0].floor", "better than target"),
        ('finance.prime_contract.quality_targets=[{ measure = "referrals", target = 40 }]',
         "quality_targets[0].measure", "has no better direction"),
        ('finance.prime_contract.quality_targets=[{ measure = "orthopaedics_wait_mean_days", target = 40 }]',
         "quality_targets[0].measure", "now called 'orthopaedics_queue_wait_mean_days' (orthopaedics: mean wait on the "
         "list after booking): write measure = \"orthopaedics_queue_wait_mean_days\", or "
         "'orthopaedics_first_wait_mean_days' for the wait from referral to a first appointment"),
        ("finance.prime_contract.quality_rtt_target_pct=90", "finance.prime_contract", "no longer settings"),
        ("finance.prime_contract.per_head_gbp=40", "finance.prime_contract", "one way"),
        ("finance.inflation.tariff=[-0.6]", "finance.inflation.tariff", ""),
        ("finance.discount_rate=-0.01", "finance.discount_rate", ""),
    ],
)  # fmt: skip
def test_bad_contract_terms_name_the_key(override: str, key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(override)
    assert key in str(e.value)
    assert problem in str(e.value)


# ----------------------------------------------------------------------------- scope and shares by service

YEAR1 = pd.DataFrame([{"year": 1, "rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0,
                       "followups_per_first_op": 1.5}])  # fmt: skip
PROVIDERS = Finance(
    providers={"hub": Provider(prime_cost_share=0.8), "trust": Provider(prime_cost_share=0.9),
               "community": Provider(payment="block", block_gbp=1_000.0)},
    inflation=Inflation(),
)  # fmt: skip
ELEMENTS = {
    "clinic": Element("hub", pd.Series([100.0])),
    "orthopaedics": Element("trust", pd.Series([200.0])),
    "theatre": Element("trust", pd.Series([400.0])),
    "physio": Element("community", pd.Series([50.0])),
}


def test_a_share_of_tariff_by_service() -> None:
    """Hub activity at 90%, theatre at 100%: 0.9 x (100 + 200 + 50) + 400 = 715, plus 1% for
    the targets met; the hub pays 80, 180 + 360 and 50 for the care."""
    terms = TariffShare(tariff_share=0.9, tariff_share_by_service={"theatre": 1.0}, incentive_share=0.01)
    paid = payment_policy("tariff_share", PROVIDERS.model_copy(update={"tariff_share": terms})).settle(
        YEAR1, ELEMENTS, PROVIDERS.providers
    )
    assert paid["prime_income_gbp"].tolist() == pytest.approx([715.0 * 1.01])
    assert paid["cost_provider_trust_gbp"].tolist() == pytest.approx([540.0])
    assert paid["prime_cost_gbp"].tolist() == pytest.approx([80.0 + 540.0 + 50.0])
    assert paid["commissioner_cost_gbp"].tolist() == pytest.approx([715.0 * 1.01])


def test_outside_the_scope_the_commissioner_pays_providers_directly() -> None:
    """Pennine-style: the hub is paid 90% for its clinic and orthopaedics (270); the
    commissioner pays the trust full tariff for surgery (400) and the community block (1,000)."""
    terms = TariffShare(tariff_share=0.9, incentive_share=0.0, scope=["clinic", "orthopaedics"])
    paid = payment_policy("tariff_share", PROVIDERS.model_copy(update={"tariff_share": terms})).settle(
        YEAR1, ELEMENTS, PROVIDERS.providers
    )
    assert paid["prime_income_gbp"].tolist() == pytest.approx([270.0])
    assert paid["prime_cost_gbp"].tolist() == pytest.approx([80.0 + 180.0])
    assert paid["cost_provider_trust_gbp"].tolist() == pytest.approx([180.0])  # its orthopaedics only
    assert paid["pay_provider_trust_gbp"].tolist() == pytest.approx([400.0])  # its surgery, direct
    assert paid["pay_provider_community_gbp"].tolist() == pytest.approx([1_000.0])
    assert "cost_provider_community_gbp" not in paid
    assert paid["commissioner_cost_gbp"].tolist() == pytest.approx([270.0 + 400.0 + 1_000.0])


def test_a_prime_contract_with_a_scope() -> None:
    """The prime is paid its price whatever the scope; the care outside it is the commissioner's bill."""
    terms = PrimeContract(year1_value_gbp=1_000.0, scope=["clinic", "orthopaedics", "theatre"], quality_share=0.0,
                          management_share=0.0, upfront_share=1.0, retained_surplus_share=1.0)  # fmt: skip
    paid = payment_policy("prime_contract", PROVIDERS.model_copy(update={"prime_contract": terms})).settle(
        YEAR1, ELEMENTS, PROVIDERS.providers
    )
    assert paid["prime_cost_gbp"].tolist() == pytest.approx([80.0 + 180.0 + 360.0])
    assert paid["prime_surplus_gbp"].tolist() == pytest.approx([1_000.0 - 620.0])
    assert paid["commissioner_cost_gbp"].tolist() == pytest.approx([1_000.0 + 1_000.0])


def test_the_columns_of_a_design_with_a_scope_are_declared() -> None:
    """Oldham's hub: the hub's costs for its services, the commissioner's direct payments for the rest."""
    oldham = load_scenario(ROOT / "scenarios" / "oldham.toml")
    names = [c.name for c in provider_columns(oldham, "prime")]
    assert names == ["cost_provider_prime_gbp", "cost_provider_acute_trust_gbp", "pay_provider_community_physio_gbp",
                     "pay_provider_community_podiatry_gbp", "pay_provider_acute_trust_gbp"]  # fmt: skip
    rows = pd.DataFrame([activity(oldham, 1, YEAR1.iloc[0].drop("year").to_dict())])
    costed = add_finance(rows, oldham)
    assert [c for c in costed.columns if c.startswith(("cost_provider_", "pay_provider_"))] == names
    direct = costed[[n for n in names if n.startswith("pay_")]].sum(axis=1)
    assert costed["commissioner_cost_gbp"].iloc[0] == pytest.approx(costed["prime_income_gbp"].iloc[0] + direct.iloc[0])


@pytest.mark.parametrize(
    ("overrides", "key", "problem"),
    [
        (('finance.prime_contract.scope=["triage", "surgery"]',), "finance.prime_contract.scope",
         "'surgery' is not a known service"),
        (('finance.prime_contract.scope=["triage", "physio", "theatre", "x"]',), "finance.prime_contract.scope",
         "'x' is not a known service of design 'prime'"),
        (('finance.providers.prime.payment="block"', 'finance.prime_contract.scope=["triage", "physio"]'),
         "finance.prime_contract.scope", "cannot be split by service"),
    ],
)  # fmt: skip
def test_a_scope_that_cannot_be_paid_is_a_clear_error(overrides: tuple[str, ...], key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(*overrides)
    assert key in str(e.value) and problem in str(e.value)
