"""Contract arithmetic worked by hand, and the finance columns of a real run."""

from __future__ import annotations

from collections import Counter
from typing import get_args

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.money.contracts import contract_value, prime_account, quality_met, share_surplus
from sim.money.finance import add_finance, delivery_cost_by_provider
from sim.money.payment import FINANCE_COLUMNS, PAYMENT_POLICIES, POLICIES, PROVIDER_PAYMENTS, Element, payment_policy
from sim.scenario.loading import Design, Finance, PrimeContract, Provider, Scenario, ScenarioError, TariffShare
from tests.conftest import bundled

TERMS = PrimeContract(year1_value_gbp=100.0, retained_surplus_share=0.05, commissioner_surplus_split=0.5)


@pytest.mark.parametrize(
    ("surplus", "prime", "commissioner"),
    [
        (3.0, 3.0, 0.0),  # below 5% of the up-front 95: the prime keeps all of it
        (4.75, 4.75, 0.0),  # exactly 5% of 95
        (10.75, 7.75, 3.0),  # 4.75 kept, the 6 above it split 50/50
        (-8.0, -8.0, 0.0),  # a deficit stays with the prime
        (0.0, 0.0, 0.0),
    ],
)
def test_surplus_sharing(surplus: float, prime: float, commissioner: float) -> None:
    p, c = share_surplus(np.array([surplus]), np.array([95.0]), TERMS)
    assert p[0] == pytest.approx(prime)
    assert c[0] == pytest.approx(commissioner)
    assert p[0] + c[0] == pytest.approx(surplus)


def test_escalator() -> None:
    v = contract_value(np.array([1, 2, 5]), PrimeContract(year1_value_gbp=26.5e6, escalator=0.013), 26.5e6)
    assert v[0] == pytest.approx(26.5e6)
    assert v[1] == pytest.approx(26.5e6 * 1.013)
    assert v[2] == pytest.approx(26.5e6 * 1.013**4)


# ----------------------------------------------------------------------------- outcome targets

MET = {"rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0, "followups_per_first_op": 1.5}
MISSED = {"rtt_incomplete_within_18w_pct": 80.0, "hospital_diversion_pct": 10.0, "followups_per_first_op": 3.0}


def quality_rows(*rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows))


def outcomes(rtt: float, diversion: float, followups: float) -> dict[str, float]:
    return {"rtt_incomplete_within_18w_pct": rtt, "hospital_diversion_pct": diversion, "followups_per_first_op": followups}


def test_share_of_outcome_targets_met() -> None:
    """RTT >= 92% within 18 weeks, diversion >= 40%, follow-ups per new <= 2.0: a third each."""
    rows = quality_rows(
        MET,  # 3 of 3
        MISSED,  # 0 of 3
        outcomes(92.0, 40.0, 2.0),  # every edge counts as met: 3 of 3
        outcomes(91.99, 40.0, 2.0),  # RTT just missed: 2 of 3
        outcomes(93.0, 39.9, 2.01),  # only RTT: 1 of 3
        outcomes(50.0, 45.0, 0.5),  # all but RTT: 2 of 3
    )
    met = quality_met(rows, PrimeContract(year1_value_gbp=1.0))
    assert met == pytest.approx([1.0, 0.0, 1.0, 2 / 3, 1 / 3, 2 / 3])


# ----------------------------------------------------------------------------- a whole year's account

V = 10_000_000.0  # year-1 price: up-front 9.5m, management 250k, quality pot 250k


def one_year(delivery: float, targets: dict[str, float] = MISSED, **terms: float) -> pd.Series:
    contract = PrimeContract(year1_value_gbp=V, **terms)
    rows = quality_rows({"year": 1, **targets})
    return prime_account(rows, np.array([delivery]), contract, V).iloc[0]


CORRIDOR = {"deficit_corridor_share": 0.05, "commissioner_deficit_share": 0.5}


@pytest.mark.parametrize(
    ("delivery", "terms", "surplus_on_upfront", "gain_share", "prime_result"),
    [
        # Up-front 9,500,000; 5% of it is 475,000. Management 250,000; no quality targets met;
        # overheads 200,000. Result = prime's share of the surplus + 250,000 - 200,000.
        # below 5%: 9,500,000 - 9,200,000 = 300,000, all the prime's
        (9_200_000, {}, 300_000, 0, 350_000),
        # exactly 5%: 9,500,000 - 9,025,000 = 475,000, still all the prime's
        (9_025_000, {}, 475_000, 0, 525_000),
        # above 5%: 975,000; the 500,000 above 475,000 is split 50/50: prime 725,000
        (8_525_000, {}, 975_000, 250_000, 775_000),
        # deficit, no corridor (the default): the prime bears all of -2,500,000
        (12_000_000, {}, -2_500_000, 0, -2_450_000),
        # deficit inside a 5% corridor (475,000): -300,000, all the prime's
        (9_800_000, CORRIDOR, -300_000, 0, -250_000),
        # deficit exactly at the corridor's edge: -475,000, all the prime's
        (9_975_000, CORRIDOR, -475_000, 0, -425_000),
        # beyond it: -875,000 is 400,000 past the edge; the commissioner bears half (200,000)
        # so the prime bears -675,000
        (10_375_000, CORRIDOR, -875_000, -200_000, -625_000),
    ],
)
def test_surplus_rule_in_the_account(
    delivery: float, terms: dict[str, float], surplus_on_upfront: float, gain_share: float, prime_result: float
) -> None:
    acc = one_year(delivery, overheads_gbp=200_000, **terms)
    assert acc["income_upfront_gbp"] == pytest.approx(9_500_000)
    assert acc["income_management_gbp"] == pytest.approx(250_000)
    assert acc["income_quality_gbp"] == 0
    assert acc["surplus_on_upfront_gbp"] == pytest.approx(surplus_on_upfront)
    assert acc["commissioner_gain_share_gbp"] == pytest.approx(gain_share)
    assert acc["prime_surplus_gbp"] == pytest.approx(prime_result)
    # the commissioner pays 9,500,000 + 250,000 and gets its gain share back (or adds its help)
    assert acc["commissioner_cost_gbp"] == pytest.approx(9_750_000 - gain_share)


@pytest.mark.parametrize(
    ("targets", "quality"),
    [
        (MET, 250_000),  # 2.5% of 10,000,000, all of it
        (MISSED, 0),
        ({**MET, "hospital_diversion_pct": 30.0}, 250_000 * 2 / 3),  # 166,666.67
        ({**MISSED, "followups_per_first_op": 1.0}, 250_000 / 3),  # 83,333.33
    ],
)
def test_quality_pot_is_paid_by_share_of_targets_met(targets: dict[str, float], quality: float) -> None:
    acc = one_year(9_000_000, targets)
    assert acc["income_quality_gbp"] == pytest.approx(quality)
    assert acc["quality_payment_gbp"] == pytest.approx(quality)
    # surplus 500,000 on the 95% (25,000 above 5%: 12,500 to the commissioner) + 250,000 fee
    assert acc["prime_surplus_gbp"] == pytest.approx(487_500 + 250_000 + quality)
    assert acc["commissioner_cost_gbp"] == pytest.approx(9_500_000 + 250_000 + quality - 12_500)


def test_overheads_and_mobilisation_are_not_shared() -> None:
    """Gain share and corridor use the surplus on the 95% (after VAT), not after overheads:
    the management fee pays for the prime's own costs (see prime_account)."""
    base = one_year(8_525_000)  # 975,000 on the 95%: 250,000 to the commissioner
    heavy = one_year(8_525_000, overheads_gbp=1_000_000, mobilisation_gbp=2_000_000)
    assert heavy["commissioner_gain_share_gbp"] == pytest.approx(250_000)
    assert heavy["prime_surplus_gbp"] == pytest.approx(base["prime_surplus_gbp"] - 3_000_000)
    # VAT is a cost of the care the 95% buys, so it does reduce the surplus that is shared:
    # 20% on half of 8,525,000 = 852,500, leaving 122,500, under the 475,000 the prime keeps
    vat = one_year(8_525_000, vat_rate=0.2, vat_cost_share=0.5)
    assert vat["cost_vat_gbp"] == pytest.approx(852_500)
    assert vat["commissioner_gain_share_gbp"] == 0
    # a deficit at the corridor's edge stays the prime's however large its overheads
    edge = one_year(9_975_000, overheads_gbp=2_000_000, **CORRIDOR)
    assert edge["commissioner_gain_share_gbp"] == 0
    assert edge["prime_surplus_gbp"] == pytest.approx(-475_000 + 250_000 - 2_000_000)


# ----------------------------------------------------------------------------- from activity to account


PASS_OR_FAIL = (
    'finance.prime_contract.quality_targets=[{ measure = "rtt_incomplete_within_18w_pct", target = 92.0 }, '
    '{ measure = "hospital_diversion_pct", target = 40.0 }, { measure = "followups_per_first_op", target = 2.0 }]'
)
"""The three default outcome targets, pass or fail (the bundled scenario gives them floors)."""

NO_COSTS = (
    *(f"stages.{st}.cost_per_slot_gbp=0" for st in ("physio", "podiatry", "orthopaedics", "rheumatology", "pain")),
    *(f"stages.{st}.cost_per_contact_gbp=0" for st in ("orthopaedics", "rheumatology", "pain")),
    "surgery.cost_per_slot_gbp=0",
    "surgery.cost_per_operation_gbp=0",
    'finance.providers.community_physio.integrator_pays="tariff_share"',
    'finance.providers.community_podiatry.integrator_pays="tariff_share"',
    "stages.triage.staff=[{ wte = 6.25, sessions_per_wte = 8, slots_per_session = 23 }]",
    "stages.triage.cost_per_slot_gbp=0",
    "stages.community_specialist.staff=[{ wte = 5, sessions_per_wte = 8, slots_per_session = 10 }]",
    "stages.community_specialist.cost_per_slot_gbp=0",
    "stages.community_specialist.cost_per_contact_gbp=0",
    'finance.providers.prime.integrator_pays="tariff_share"',
)
"""None of the bundled scenario's capacity costs: the prime pays every provider a share of tariff."""


@pytest.fixture(scope="module")
def priced() -> Scenario:
    """Bedfordshire's prices, with the prime paying the acute trust 90% of tariff and running
    its own services at 80% of the price list."""
    return bundled(
        "finance.providers.acute_trust.prime_cost_share=0.9",
        "finance.providers.prime.prime_cost_share=0.8",
        "finance.prime_contract.year1_value_gbp=16000000",
        "finance.prime_contract.escalator=0.013",
        "finance.prime_contract.overheads_gbp=300000",
        "finance.prime_contract.mobilisation_gbp=500000",
        "finance.prime_contract.vat_rate=0.2",
        "finance.prime_contract.vat_cost_share=0.3",
        PASS_OR_FAIL,
        "finance.inflation={ pay = 0.0, non_pay = 0.0, tariff = 0.0 }",  # year-2 prices as year 1's
        *NO_COSTS,
    )


def activity(scenario: Scenario, year: int, targets: dict[str, float]) -> dict[str, float]:
    row: dict[str, float] = {f"{s}_{k}": 0.0 for s in scenario.design_stages("prime") for k in ("first", "followup")}
    row |= {
        "design": "prime", "year": year, "gp_consultations": 0,
        "triage_first": 45_000, "community_specialist_first": 10_000,
        "physio_first": 20_000, "physio_followup": 40_000,
        "orthopaedics_first": 6_000, "orthopaedics_followup": 10_000,
        "joint_replacements": 800, "surgeries_daycase": 2_000, "surgeries_inpatient": 1_000,
        **targets,
    }  # fmt: skip
    return row


def test_delivery_cost_by_provider(priced: Scenario) -> None:
    rows = pd.DataFrame([activity(priced, 1, MET)])
    cost = {p: float(v.iloc[0]) for p, v in delivery_cost_by_provider(rows, priced, "prime").items()}
    # prime's own: triage 45,000 x 20 + community clinic 10,000 x (130 + 40 imaging) = 2,600,000, at 80%
    assert cost["prime"] == pytest.approx(2_080_000)
    # physio run at cost: 60,000 contacts x 42
    assert cost["community_physio"] == pytest.approx(2_520_000)
    assert cost["community_podiatry"] == 0
    # acute trust at 90% of tariff: outpatients 6,000 x (140 + 40) + 10,000 x 75 = 1,830,000;
    # surgery 800 x 5,800 + 2,000 x 1,400 + (1,000 - 800) x 3,400 = 8,120,000; 9,950,000 x 0.9
    assert cost["acute_trust"] == pytest.approx(8_955_000)


def test_prime_account_over_two_years(priced: Scenario) -> None:
    """A two-year account from activity counts, every component worked by hand."""
    year1 = outcomes(93.0, 35.0, 1.8)  # diversion missed: 2 of 3
    year2 = outcomes(92.0, 40.0, 2.0)  # all three, each exactly at its target
    rows = add_finance(pd.DataFrame([activity(priced, 1, year1), activity(priced, 2, year2)]), priced)
    # delivery 2,080,000 + 2,520,000 + 8,955,000 = 13,555,000; VAT 13,555,000 x 0.3 x 0.2 = 813,300
    # tariff value 2,600,000 + 2,520,000 + 9,950,000 = 15,070,000
    assert rows["tariff_value_gbp"].tolist() == pytest.approx([15_070_000] * 2)
    assert rows["prime_cost_gbp"].tolist() == pytest.approx(
        [13_555_000 + 813_300 + 300_000 + 500_000, 13_555_000 + 813_300 + 300_000]  # mobilisation in year 1 only
    )
    # Year 1: value 16,000,000; up-front 15,200,000; management 400,000; quality 400,000 x 2/3.
    # On the 95%: 15,200,000 - 13,555,000 - 813,300 = 831,700, which is 71,700 above
    # 5% of 15,200,000 (760,000): the commissioner takes 35,850, the prime keeps 795,850.
    # Result: 795,850 + 400,000 + 266,666.67 - 300,000 - 500,000 = 662,516.67.
    # Year 2: value 16,208,000; up-front 15,397,600; management and quality 405,200 each.
    # On the 95%: 15,397,600 - 14,368,300 = 1,029,300, which is 259,420 above 769,880:
    # the commissioner takes 129,710, the prime keeps 899,590.
    # Result: 899,590 + 405,200 + 405,200 - 300,000 = 1,409,990.
    assert rows["quality_payment_gbp"].tolist() == pytest.approx([266_666.67, 405_200], abs=0.01)
    assert rows["prime_income_gbp"].tolist() == pytest.approx([15_866_666.67, 16_208_000], abs=0.01)
    assert rows["commissioner_gain_share_gbp"].tolist() == pytest.approx([35_850, 129_710])
    assert rows["prime_surplus_gbp"].tolist() == pytest.approx([662_516.67, 1_409_990], abs=0.01)
    # the commissioner pays everything but its gain share: 15,866,666.67 - 35,850 and 16,208,000 - 129,710
    assert rows["commissioner_cost_gbp"].tolist() == pytest.approx([15_830_816.67, 16_078_290], abs=0.01)
    assert rows["system_cost_gbp"].tolist() == pytest.approx(rows["commissioner_cost_gbp"].tolist())  # no GP loop
    assert rows["cost_provider_acute_trust_gbp"].tolist() == pytest.approx([8_955_000] * 2)


# ----------------------------------------------------------------------------- payment policies


def test_each_payment_kind_of_the_schema_has_exactly_one_policy() -> None:
    kinds = get_args(Design.model_fields["payment"].annotation)
    assert Counter(policy.kind for policy in POLICIES) == Counter(kinds)
    assert set(PAYMENT_POLICIES) == set(kinds)
    assert all(PAYMENT_POLICIES[policy.kind] is policy for policy in POLICIES)
    assert set(PROVIDER_PAYMENTS) == set(get_args(Provider.model_fields["payment"].annotation))


def test_a_design_paid_by_an_unknown_kind_cannot_be_built() -> None:
    with pytest.raises(ValidationError):
        Design(services=["physio"], payment="capitation")
    with pytest.raises(ScenarioError) as e:
        bundled('designs.prime.payment="capitation"')
    assert "designs.prime.payment" in str(e.value)
    with pytest.raises(ValueError, match="no payment policy for 'capitation'"):
        payment_policy("capitation", FINANCE)


def test_a_policy_without_its_terms_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"finance\.tariff_share is missing"):
        payment_policy("tariff_share", FINANCE)
    with pytest.raises(ScenarioError, match=r"finance\.tariff_share"):
        bundled('designs.prime.payment="tariff_share"')


# A tiny table: provider "a" paid by tariff (an integrator pays it 90% of tariff), provider
# "b" on a block of 1,000 (an integrator pays it the tariff value). Two rows: year 1 with
# every outcome target met, year 2 with none.
FINANCE = Finance(
    providers={"a": Provider(payment="tariff", prime_cost_share=0.9), "b": Provider(payment="block", block_gbp=1_000.0)}
)
TINY = quality_rows({"year": 1, **MET}, {"year": 2, **MISSED})
TARIFF = {
    "clinic": Element("a", pd.Series([100.0, 200.0], index=TINY.index)),
    "physio": Element("b", pd.Series([50.0, 60.0], index=TINY.index)),
}
"""Two services, one from each provider."""


def settle(kind: str, **terms: object) -> dict[str, list[float]]:
    policy = payment_policy(kind, FINANCE.model_copy(update=terms))
    return {col: value.tolist() for col, value in policy.settle(TINY, TARIFF, FINANCE.providers).items()}


def test_activity_policy_by_hand() -> None:
    """The commissioner pays "a" its tariff and "b" its block, whatever the activity."""
    assert settle("activity") == {
        "pay_provider_a_gbp": [100.0, 200.0],
        "pay_provider_b_gbp": [1_000.0, 1_000.0],
        "commissioner_cost_gbp": [1_100.0, 1_200.0],
    }


def test_tariff_share_policy_by_hand() -> None:
    """90% of tariff value (150 and 260) plus 10% of that when all targets are met."""
    paid = settle("tariff_share", tariff_share=TariffShare(tariff_share=0.9, incentive_share=0.1, overheads_gbp=10.0))
    # the hub pays a 90% of 100 and 200, b its tariff value: 140 and 240, plus 10 overheads
    assert paid["cost_provider_a_gbp"] == pytest.approx([90.0, 180.0])
    assert paid["cost_provider_b_gbp"] == pytest.approx([50.0, 60.0])
    assert paid["quality_payment_gbp"] == pytest.approx([13.5, 0.0])
    assert paid["prime_income_gbp"] == pytest.approx([148.5, 234.0])
    assert paid["prime_cost_gbp"] == pytest.approx([150.0, 250.0])
    assert paid["prime_surplus_gbp"] == pytest.approx([-1.5, -16.0])
    assert paid["commissioner_cost_gbp"] == pytest.approx([148.5, 234.0])
    assert paid["commissioner_gain_share_gbp"] == [0.0, 0.0]
    assert not any(col.startswith("pay_provider_") for col in paid)


def test_prime_contract_policy_by_hand() -> None:
    """A price of 1,000 rising 10% a year on delivery costs of 140 and 240."""
    paid = settle("prime_contract", prime_contract=PrimeContract(year1_value_gbp=1_000.0, escalator=0.1))
    assert paid["cost_provider_a_gbp"] == pytest.approx([90.0, 180.0])
    # Year 1: up-front 950, management 25, quality 25 (all met). On the 95%: 950 - 140 = 810,
    # 762.5 above 5% of 950 (47.5), half of it (381.25) to the commissioner.
    # Year 2: value 1,100: up-front 1,045, management 27.5, no quality. On the 95%:
    # 1,045 - 240 = 805, 752.75 above 52.25: 376.375 to the commissioner.
    assert paid["quality_payment_gbp"] == pytest.approx([25.0, 0.0])
    assert paid["commissioner_gain_share_gbp"] == pytest.approx([381.25, 376.375])
    assert paid["prime_income_gbp"] == pytest.approx([1_000.0, 1_072.5])
    assert paid["prime_cost_gbp"] == pytest.approx([140.0, 240.0])
    assert paid["prime_surplus_gbp"] == pytest.approx([428.75 + 50.0, 428.625 + 27.5])
    assert paid["commissioner_cost_gbp"] == pytest.approx([1_000.0 - 381.25, 1_072.5 - 376.375])
    # only the money columns of a result row: the account's other components stay in the bid
    assert set(paid) <= {*FINANCE_COLUMNS, "cost_provider_a_gbp", "cost_provider_b_gbp"}
