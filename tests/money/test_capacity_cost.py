"""Capacity that costs: staff give slots, slots offered cost whether used or not, and what a
provider's income leaves of its fixed costs uncovered, each against figures worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.money.finance import add_finance
from sim.money.provider_costs import ProviderCost, provider_costs, slots_offered, stranded
from sim.report.terminal import summary_table
from sim.runs.experiment import grid_points
from sim.scenario.columns import columns_for
from sim.scenario.loading import ScenarioError
from sim.scenario.stages import Stage
from tests.money.test_finance import NO_COSTS, PASS_OR_FAIL, activity, bundled

CALM = (
    PASS_OR_FAIL,
    'calendar.bank_holidays="none"',
    "calendar.reduced=[]",
    "finance.inflation={ pay = 0.0, non_pay = 0.0, tariff = 0.0 }",
    *NO_COSTS,
)
"""No holidays, no reduced periods, no inflation, and none of the bundled costs: each test gives
its own, and slots offered can be counted by hand."""
OUTCOMES = {"rtt_incomplete_within_18w_pct": 95.0, "hospital_diversion_pct": 50.0, "followups_per_first_op": 1.5}


def test_staff_give_the_slots() -> None:
    """6 extended-scope physiotherapists x 9 sessions x 20 referrals = 1,080 triage slots a week."""
    stage = Stage(provider="prime", staff=[{"group": "esp", "wte": 6, "sessions_per_wte": 9, "slots_per_session": 20}])
    assert stage.slots_per_week == 1_080
    two = Stage(
        provider="p", staff=[{"wte": 2, "slots_per_session": 10}, {"wte": 1, "sessions_per_wte": 4, "slots_per_session": 5}]
    )
    assert two.slots_per_week == 2 * 9 * 10 + 4 * 5


def test_slots_set_beside_staff_must_agree() -> None:
    with pytest.raises(ValueError, match="disagrees with the staff's 180"):
        Stage(provider="p", slots_per_week=100, staff=[{"wte": 2, "slots_per_session": 10}])
    assert Stage(provider="p", slots_per_week=180, staff=[{"wte": 2, "slots_per_session": 10}]).slots_per_week == 180


def test_a_design_may_staff_a_service_its_own_way() -> None:
    """An override that restaffs triage gives the prime design the staff's slots."""
    s = bundled(*CALM, "designs.prime.stage_overrides.triage={ staff = [{ wte = 5, slots_per_session = 25 }] }")
    assert s.design_stages("prime")["triage"].slots_per_week == 5 * 9 * 25
    assert s.stages["triage"].slots_per_week == 1_150


def test_slots_offered_in_a_year_by_hand() -> None:
    """1 April 2014 to 31 March 2015 has 261 weekdays: at 1,150 a week (230 a day) triage offers
    60,030 slots; the theatre's 160 a week (32 a day), 8,352 (held as given, not following demand)."""
    s = bundled(*CALM, "designs.prime.stage_overrides.theatre.slots_per_week=148", "surgery.slots_per_week=160",
                'designs.fragmented.capacity_basis.follows="fitted"')  # fmt: skip
    assert slots_offered(s, "prime", "triage", 1) == 261 * 230
    assert slots_offered(s, "prime", "theatre", 1) == pytest.approx(261 * (148 / 5))  # the prime's theatre
    assert slots_offered(s, "fragmented", "theatre", 1) == pytest.approx(261 * 32)


def test_what_a_service_costs_its_provider_by_hand() -> None:
    """Triage: 6 staff at £55,000 (330,000), £2 a slot offered (2 x 60,030), £3 a referral
    triaged (3 x 45,000); the community clinic £50 a contact (50 x 10,000); the prime's
    overheads £100,000. Year 1: fixed 550,060, variable 635,000."""
    s = bundled(
        *CALM,
        "stages.triage.staff=[{ wte = 6, sessions_per_wte = 9, slots_per_session = 21.2962962962963, cost_per_wte_gbp = 55000 }]",
        "stages.triage.slots_per_week=1150",
        "stages.triage.cost_per_slot_gbp=2",
        "stages.triage.cost_per_contact_gbp=3",
        "stages.community_specialist.cost_per_contact_gbp=50",
        "finance.providers.prime.overheads_gbp=100000",
    )
    rows = pd.DataFrame([activity(s, 1, OUTCOMES)])
    cost = provider_costs(rows, s, "prime")
    assert list(cost) == ["prime"]
    assert cost["prime"].fixed == pytest.approx([330_000 + 2 * 60_030 + 100_000])
    assert cost["prime"].variable == pytest.approx([3 * 45_000 + 50 * 10_000])
    costed = add_finance(rows, s)
    assert costed["provider_cost_prime_gbp"].iloc[0] == pytest.approx(1_185_060)
    assert costed["capacity_cost_gbp"].iloc[0] == pytest.approx(1_185_060)
    # the prime pays itself tariff for triage and the community clinic unless it is paid its costs
    assert costed["cost_provider_prime_gbp"].iloc[0] == pytest.approx(45_000 * 20 + 10_000 * (130 + 40))
    prime_at_cost = s.finance.providers["prime"].model_copy(update={"integrator_pays": "costs"})
    at_cost = s.finance.model_copy(update={"providers": {**s.finance.providers, "prime": prime_at_cost}})
    at_cost = add_finance(rows, s.model_copy(update={"finance": at_cost}))
    assert at_cost["cost_provider_prime_gbp"].iloc[0] == pytest.approx(1_185_060)
    assert at_cost["provider_stranded_prime_gbp"].iloc[0] == 0.0  # paid exactly its costs


def test_costs_move_with_inflation() -> None:
    """Year 2 with pay and non-pay at 3%: the same staff and slots cost 3% more."""
    terms = ("stages.triage.cost_per_slot_gbp=2", "finance.providers.prime.overheads_gbp=100000")
    flat, rising = bundled(*CALM, *terms), bundled(*CALM, *terms, "finance.inflation={ pay = 0.03, non_pay = 0.03 }")
    rows = pd.DataFrame([activity(flat, 2, OUTCOMES)])
    a, b = provider_costs(rows, flat, "prime")["prime"], provider_costs(rows, rising, "prime")["prime"]
    assert b.fixed == pytest.approx(a.fixed * 1.03)


@pytest.mark.parametrize(
    ("fixed", "variable", "income", "left"),
    [
        (1_000.0, 100.0, 600.0, 500.0),  # income covers the care and half the fixed cost
        (1_000.0, 100.0, 1_100.0, 0.0),  # covers it all
        (1_000.0, 100.0, 1_500.0, 0.0),  # a surplus is not a negative stranded cost
        (1_000.0, 100.0, 50.0, 1_000.0),  # not even the care: all the fixed cost is left
    ],
)
def test_stranded_cost_by_hand(fixed: float, variable: float, income: float, left: float) -> None:
    assert stranded(ProviderCost(np.array([fixed]), np.array([variable])), np.array([income])) == pytest.approx([left])


def test_the_acute_trust_carries_what_the_prime_takes_away() -> None:
    """With its clinics and theatre costed, the trust's stranded cost is larger where the prime
    diverts its activity: the same capacity, less income."""
    s = bundled(
        *CALM,
        "stages.orthopaedics.cost_per_slot_gbp=60", "stages.orthopaedics.cost_per_contact_gbp=20",
        "surgery.cost_per_slot_gbp=900", "surgery.cost_per_operation_gbp=300",
        "designs.prime.stage_overrides.orthopaedics.slots_per_week=1050",  # the fragmented design's capacity
        "designs.prime.stage_overrides.theatre.slots_per_week=160",
    )  # fmt: skip
    frag = {**activity(s, 1, OUTCOMES), "design": "fragmented", "orthopaedics_first": 12_000, "orthopaedics_followup": 20_000}
    frag = {k: v for k, v in frag.items() if not k.startswith(("triage_", "community_specialist_"))}
    prime = {**activity(s, 1, OUTCOMES), "orthopaedics_first": 6_000, "orthopaedics_followup": 10_000}
    rows = add_finance(pd.DataFrame([frag, prime]), s)
    assert list(rows["provider_stranded_acute_trust_gbp"]) == pytest.approx([_by_hand(s, r) for _, r in rows.iterrows()])
    assert rows["provider_stranded_acute_trust_gbp"].iloc[1] > rows["provider_stranded_acute_trust_gbp"].iloc[0]
    # its income, in one column in both designs: tariff from the commissioner, 95% of it from the prime
    income = rows["provider_income_acute_trust_gbp"]
    assert income.iloc[0] == pytest.approx(rows["pay_provider_acute_trust_gbp"].iloc[0])
    assert income.iloc[1] == pytest.approx(rows["cost_provider_acute_trust_gbp"].iloc[1])
    assert "provider_cost_acute_trust_gbp" in columns_for(s, "prime") and "provider_cost_prime_gbp" not in columns_for(s, "prime")


def _by_hand(s, row: pd.Series) -> float:
    design = row["design"]
    ortho = slots_offered(s, design, "orthopaedics", 1) * 60 + (row["orthopaedics_first"] + row["orthopaedics_followup"]) * 20
    theatre = slots_offered(s, design, "theatre", 1) * 900 + (row["surgeries_daycase"] + row["surgeries_inpatient"]) * 300
    fixed = slots_offered(s, design, "orthopaedics", 1) * 60 + slots_offered(s, design, "theatre", 1) * 900
    variable = ortho + theatre - fixed
    income = row["pay_provider_acute_trust_gbp"] if design == "fragmented" else row["cost_provider_acute_trust_gbp"]
    return max(0.0, fixed - max(0.0, income - variable))


def test_without_costs_there_are_no_cost_columns() -> None:
    s = bundled(*CALM)
    assert not s.costed_providers("prime")
    assert not any(c.startswith("provider_cost_") for c in columns_for(s, "prime"))
    assert np.isnan(add_finance(pd.DataFrame([activity(s, 1, OUTCOMES)]), s)["capacity_cost_gbp"].iloc[0])


@pytest.mark.parametrize(
    ("overrides", "key", "problem"),
    [
        (("stages.triage.slots_per_week=100",), "stages.triage", "disagrees with the staff's 1,150"),
        ((*NO_COSTS, 'finance.providers.prime.integrator_pays="costs"'), "finance.providers.prime.integrator_pays",
         "no costs are given for community_specialist, triage"),
        (("stages.triage.staff=[{ wte = -1, slots_per_session = 10 }]", "stages.triage.slots_per_week=0"),
         "stages.triage.staff", ""),
    ],
)  # fmt: skip
def test_bad_capacity_costs_name_the_key(overrides: tuple[str, ...], key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(*overrides)
    assert key in str(e.value) and problem in str(e.value)


def test_the_comparison_shows_each_costed_provider_s_income_and_stranded_cost() -> None:
    """The terminal's headline table ends with each costed provider's income and the fixed cost
    left uncovered, per design and as the paired difference."""
    rows = []
    for scope, income, left in (("fragmented", 20e6, 0.0), ("prime", 13e6, 3e6), ("prime - fragmented", -7e6, 3e6)):
        for metric, value in (("commissioner_cost_gbp", 25e6), ("provider_income_acute_trust_gbp", income),
                              ("provider_stranded_acute_trust_gbp", left)):  # fmt: skip
            rows.append({"scope": scope, "metric": metric, "year": "all", "unit": "gbp", "mean": value,
                         "ci_low": value - 1e5, "ci_high": value + 1e5, "n": 10})  # fmt: skip
    table = summary_table(pd.DataFrame(rows), ["fragmented", "prime", "prime - fragmented"], "t")
    labels = list(table.columns[0].cells)
    assert labels[-2:] == ["Acute trust: income", "Acute trust: fixed cost not covered"]
    assert "-£7.00m" in list(table.columns[3].cells)[-2]


def test_a_staffed_service_is_resized_through_its_staff() -> None:
    """A key path may name a list's item: 7 WTE of triage staff give 7 x 8 x 23 slots, and a
    grid over their WTE gives each point its own slots."""
    s = bundled("stages.triage.staff.0.wte=7")
    assert s.stages["triage"].staff[0].wte == 7 and s.stages["triage"].slots_per_week == 7 * 8 * 23
    points = grid_points(bundled(), {"stages.triage.staff.0.wte": [5, 8]})
    assert [p.stages["triage"].slots_per_week for p in points.values()] == [5 * 8 * 23, 8 * 8 * 23]


@pytest.mark.parametrize(
    ("override", "key", "problem"),
    [
        ("stages.triage.staff.3.wte=7", "stages.triage.staff.3.wte", "the list has 1 items, numbered from 0"),
        ("stages.triage.staff.0.wte=-1", "stages.triage.staff[0].wte", "greater than or equal to 0"),
        ("stages.triage.staff.0.wtee=3", "stages.triage.staff[0].wtee", "did you mean 'wte'"),
    ],
)
def test_a_bad_staff_item_is_named(override: str, key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(override)
    assert key in str(e.value) and problem in str(e.value)
