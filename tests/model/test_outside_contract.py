"""Care outside the MSK contract: its own patients, the same in every design, on shared capacity,
never routed by the contract, counted and paid apart from it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.diagnostics import expected_loads
from sim.analysis.flows import expected_outside_activity, outside_load
from sim.analysis.switchover import simulate_switch_over
from sim.model.capacity import effective_weekly
from sim.model.pathway import Pathway
from sim.model.patient import Patient
from sim.model.referrals import OUTSIDE_CONTRACT
from sim.money.prices import price_index
from sim.planning.scale import scale
from sim.runs.experiment import Task, run_replications, run_task
from sim.scenario.columns import check_columns, columns_for
from sim.scenario.loading import ScenarioError, load_scenario, with_switch_over
from sim.scenario.schema import Scenario
from tests.conftest import AT_CAPACITY_SET, NO_REMOVALS, bundled

FLOW = ("demand.outside_contract.per_year=1500", "demand.outside_contract.growth=0.01")
"""About 18% on top of the scaled-down scenario's 8,400 GP referrals a year."""
OFF = ("demand.outside_contract.per_year=0",)
"""The bundled scenario's own care outside the contract switched off (FLOW, set after it, wins)."""
ROUTES_OPEN = (
    "stages.orthopaedics.dna_return_rate=0.5",  # the GP loop after missed appointments
    "stages.orthopaedics.advice_and_guidance_share=0.2",  # answers to the GP
    "surgery.avoidable_return_rate=0.5",  # the unresolved after a needless operation, as the design treats them
    "designs.prime.stage_overrides.theatre.avoidable_return_rate=0.5",
    "stages.orthopaedics.procedure_share=0.25",
)
"""Every way back into the contract's routing (the GP, onward referral) open to those it could take."""
AMPLE = (
    *NO_REMOVALS,
    "stages.orthopaedics.slots_per_week=2000",
    "designs.prime.stage_overrides.orthopaedics.slots_per_week=2000",
    "stages.physio.slots_per_week=5000",
    "surgery.slots_per_week=2000",
    "designs.prime.stage_overrides.theatre.slots_per_week=2000",
    "surgery.beds=1000",
)
"""Capacity that never binds where care outside the contract goes (orthopaedics, rehabilitation, the
theatre and beds): nobody waits for anybody else there, and nobody leaves a list unseen."""


class Audited(Pathway):
    """Records each patient's discharges, where care outside the contract is referred, and any
    triage decision or GP consultation it meets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.left: Counter[int] = Counter()
        self.outside_left: set[int] = set()
        self.sent: Counter[str] = Counter()  # destinations of care outside the contract
        self.arrived: list[tuple[int, int]] = []  # (day, key) of each referral outside the contract
        self.wrong: list[str] = []
        super().__init__(*args, **kwargs)

    def refer(self, p: Patient, dest: str, day: int, delay: int = 0) -> None:
        if p.outside:
            self.sent[dest] += 1
            if p.at == OUTSIDE_CONTRACT:
                self.arrived.append((day, p.key))
        super().refer(p, dest, day, delay)

    def triaged(self, p: Patient, day: int) -> None:
        if p.outside:
            self.wrong.append(f"patient {p.pid} triaged on day {day}")
        super().triaged(p, day)

    def gp_consultation(self, p: Patient, day: int) -> None:
        if p.outside:
            self.wrong.append(f"patient {p.pid} saw the GP on day {day}")
        super().gp_consultation(p, day)

    def move(self, p: Patient, to: str) -> None:
        if p.outside and to == "GP":
            self.wrong.append(f"patient {p.pid} sent back to the GP")
        super().move(p, to)

    def discharge(self, p: Patient, day: int, outcome: str) -> None:
        self.left[p.pid] += 1
        if p.outside:
            self.outside_left.add(p.pid)
        super().discharge(p, day, outcome)


def _scenario(small: Path, *overrides: str) -> Scenario:
    return load_scenario(small, ["run.years=1", "run.warmup_days=200", *FLOW, *overrides])


# --------------------------------------------------------------------------- patients


@pytest.mark.parametrize("design", ["fragmented", "prime"])
def test_every_outside_patient_is_accounted_for_and_never_routed_by_the_contract(small: Path, design: str) -> None:
    """Each patient outside the contract is in the system or has left once; none is triaged, sees
    the GP or is referred anywhere but their clinic, though every such route is open to others."""
    s = _scenario(small, *ROUTES_OPEN)
    m = Audited(s, design, 1)
    (row,) = m.run()
    inside = m.census()
    counted = Counter(p.pid for p in inside)
    assert max(m.left.values()) == 1, "a patient was discharged twice"
    assert max(counted.values()) == 1, "a patient is in two places at once"
    assert not set(counted) & set(m.left), "a discharged patient is still in the system"
    assert set(counted) | set(m.left) == set(range(1, m.counts.created + 1)), "a patient was lost"
    outside_inside = {p.pid for p in inside if p.outside}
    assert len(outside_inside) + len(m.outside_left) == m.counts.outside_referrals == len(m.arrived) > 1000
    assert not m.wrong, m.wrong[:5]
    assert set(m.sent) == {"orthopaedics"}, m.sent
    assert all(p.triaged == 0 and p.referrals == 0 and not p.gp_hospital for p in inside if p.outside)
    # the routes were open: the contract's own patients took them
    assert m.counts.gp_consultations + m.counts.onward_referrals > 0 and row["orthopaedics_advice_and_guidance"] > 0


@pytest.mark.slow
def test_both_designs_see_the_same_outside_patients_on_the_same_days(small: Path) -> None:
    """Common random numbers: the same referrals outside the contract, day by day, key by key, in
    every design and replication; another replication has others."""
    s = _scenario(small)
    seen = {}
    for design in ("fragmented", "prime"):
        for rep in (0, 1):
            m = Audited(s, design, rep)
            rows = m.run()
            seen[design, rep] = m.arrived
            assert rows[0]["outside_contract_referrals"] == sum(1 for day, _ in m.arrived if day >= m.warmup)
    assert seen["fragmented", 0] == seen["prime", 0] and seen["fragmented", 1] == seen["prime", 1]
    assert seen["prime", 0] != seen["prime", 1]


def test_the_switch_over_goes_on_with_the_same_outside_patients(small: Path) -> None:
    """A design taking over another sees, after the switch, the patients a design that ran from the
    start sees: their stream goes on where the old design left it."""
    s, name = with_switch_over(_scenario(small), "prime", "fragmented")
    switched = simulate_switch_over(s, name, 0, model=Audited)
    switched.run()
    steady = Audited(s, "prime", 0)
    steady.run()
    after = [a for a in steady.arrived if a[0] >= s.run.warmup_days]
    assert switched.arrived == after and len(after) > 1000


# --------------------------------------------------------------------------- against theory


STEADY = ("run.years=2", "run.warmup_days=365", "demand.growth=0", *FLOW, "demand.outside_contract.growth=0")
"""Nothing grows: a year's counts are a steady state's, and follow-ups and rehabilitation have
reached it after the warm-up."""


@pytest.fixture(scope="module")
def ample(small: Path) -> tuple[Scenario, pd.DataFrame]:
    s = load_scenario(small, [*STEADY, *ROUTES_OPEN, *AMPLE])
    return s, run_replications(s, ["fragmented", "prime"], 3, jobs=1, uncertainty=False)


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_outside_activity_matches_the_traffic_equations(ample: tuple[Scenario, pd.DataFrame], design: str) -> None:
    """Each count of care outside the contract per referral outside it is within the 99% interval
    (or 3%) of the solved routing, which never sends it back to the GP or onward."""
    scenario, table = ample
    theory = expected_outside_activity(scenario, design)
    part = table[table["design"] == design]
    keys = ["orthopaedics_first", "orthopaedics_followup", "physio_first", "physio_followup", "joint_replacements",
            "surgeries_daycase", "surgeries_inpatient", "procedures"]  # fmt: skip
    failures = []
    for key in keys:
        ratio = part[f"outside_contract_{key}"] / part["outside_contract_referrals"]
        half = stats.t.ppf(0.995, len(ratio) - 1) * ratio.std(ddof=1) / np.sqrt(len(ratio))
        tolerance = max(half, 0.03 * theory[key], 1e-3)
        if abs(ratio.mean() - theory[key]) > tolerance:
            failures.append(f"{key}: simulated {ratio.mean():.4f}, theory {theory[key]:.4f}, tolerance {tolerance:.4f}")
    assert not failures, "\n".join(failures)
    assert theory["ended_resolved"] + theory["ended_unresolved"] + theory["ended_dna"] == pytest.approx(1.0, abs=1e-9)
    assert theory.get("gp_consultations", 0.0) == theory.get("advice_given", 0.0) == 0.0
    assert theory.get("orthopaedics_advice_and_guidance", 0.0) == 0.0 and theory["procedures"] > 0.01


def test_expected_loads_grow_care_outside_the_contract_at_its_own_rate() -> None:
    """A year's expected load is the contract's demand grown at its rate plus care outside the
    contract grown at its own: the loads with it less those without are its load, so grown."""
    with_flow = bundled(*OFF, AT_CAPACITY_SET, "demand.outside_contract.per_year=3000", "demand.outside_contract.growth=-0.1")
    without = bundled(*OFF, AT_CAPACITY_SET)
    for design in ("fragmented", "prime"):
        a, b, apart = expected_loads(with_flow, design), expected_loads(without, design), outside_load(with_flow, design)
        assert apart["orthopaedics"] > 50 and apart.get("rheumatology", 0.0) == 0.0
        for year in (1, 3):
            factor = (0.9**year - 0.9 ** (year - 1)) / np.log(0.9)  # the year's mean of 0.9 ** (days / 365.25)
            for stage in ("orthopaedics", "theatre"):
                added = (a[stage][year - 1] - b[stage][year - 1]) * effective_weekly(with_flow, stage, design, year)
                assert added == pytest.approx(apart[stage] * factor, rel=1e-9), (design, stage, year)


# --------------------------------------------------------------------------- money


def _rows(s: Scenario, design: str, rep: int = 0) -> dict[str, Any]:
    out = run_task(s, Task(0, rep, design), uncertainty=False)
    assert out.error is None, out.error
    return out.rows[0]


def outside_at_tariff(row: dict[str, Any], s: Scenario, design: str) -> float:
    """Care outside the contract priced by hand: appointments and operations at the tariffs."""
    total = 0.0
    for name, stage in s.design_stages(design).items():
        first = stage.tariff_first + stage.diagnostics_per_first
        value = row[f"outside_contract_{name}_first"] * first + row[f"outside_contract_{name}_followup"] * stage.tariff_followup
        total += value * float(price_index(s.finance, stage.provider, np.array([row["year"]]))[0])
    th = s.design_surgery(design)
    joint = row["outside_contract_joint_replacements"]
    operations = (
        joint * th.tariff_joint_replacement
        + row["outside_contract_surgeries_daycase"] * th.tariff_other_daycase
        + (row["outside_contract_surgeries_inpatient"] - joint) * th.tariff_other_inpatient
        + row["outside_contract_procedures"] * th.tariff_procedure
    )
    return total + operations * float(price_index(s.finance, th.provider, np.array([row["year"]]))[0])


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_outside_spend_is_its_activity_at_tariff_and_not_the_contracts(small: Path, design: str) -> None:
    """With capacity to spare the contract's patients meet nobody outside it, so its money (the
    prime's delivery cost, the commissioner's MSK spend) is what it is without care outside the
    contract; that care is paid apart, its activity at the tariffs exactly, and is the trust's income.
    (The prime's quality payment turns on measures of every patient, follow-ups per first
    attendance among them: it is left out of the comparison.)"""
    sets = (*OFF, "run.years=1", "run.warmup_days=200", *ROUTES_OPEN, *AMPLE)
    without = load_scenario(small, list(sets))
    with_flow = load_scenario(small, [*sets, *FLOW])
    a, b = _rows(without, design), _rows(with_flow, design)
    assert b["outside_contract_referrals"] > 1000 and "outside_contract_spend_gbp" not in a
    assert b["outside_contract_spend_gbp"] == pytest.approx(outside_at_tariff(b, with_flow, design), rel=1e-12)
    assert b["outside_contract_spend_gbp"] > 1e6
    for col in (c for c in a if c.startswith(("cost_provider_", "pay_provider_", "prime_cost"))):
        assert b[col] == pytest.approx(a[col], rel=1e-9, nan_ok=True), col

    def msk(row: dict[str, Any]) -> float:
        return row["commissioner_cost_gbp"] - np.nan_to_num(row["quality_payment_gbp"])

    assert msk(b) == pytest.approx(msk(a), rel=1e-9)
    assert b["commissioner_cost_with_outside_gbp"] == pytest.approx(b["commissioner_cost_gbp"] + b["outside_contract_spend_gbp"])
    # the same patients of the contract did the same: the counts differ by care outside it only
    for col in ("orthopaedics_first", "physio_followup", "surgeries_daycase", "joint_replacements"):
        assert b[col] - b[f"outside_contract_{col}"] == a[col], col
    # the trust's work, on the trust's capacity: in its income and its costs
    trust = "provider_income_acute_trust_gbp"
    assert b[trust] > a[trust] + 0.9 * b["outside_contract_spend_gbp"]
    assert b["provider_cost_acute_trust_gbp"] > a["provider_cost_acute_trust_gbp"]


@pytest.mark.slow
def test_a_tariff_share_hub_is_not_paid_for_care_outside_the_contract(small: Path) -> None:
    """Pennine-style: the hub's tariff income and its costs are those without care outside the
    contract (its incentive turns on measures that count all patients: not compared)."""
    sets = (*OFF, "run.years=1", "run.warmup_days=200", *AMPLE, 'designs.prime.payment="tariff_share"',
            "finance.tariff_share.tariff_share=0.9")  # fmt: skip
    a = _rows(load_scenario(small, list(sets)), "prime")
    b = _rows(load_scenario(small, [*sets, *FLOW]), "prime")
    assert b["outside_contract_spend_gbp"] > 1e6
    for col in ("prime_cost_gbp", "cost_provider_acute_trust_gbp"):
        assert b[col] == pytest.approx(a[col], rel=1e-9), col
    assert b["prime_income_gbp"] - b["quality_payment_gbp"] == pytest.approx(a["prime_income_gbp"] - a["quality_payment_gbp"])


# --------------------------------------------------------------------------- off, and its columns


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_switched_off_every_number_is_as_before(small: Path, design: str) -> None:
    """At 0 a year nothing is drawn, counted or paid: whatever the table's other settings, the row
    is the one without them, with no column of care outside the contract."""
    base = ["run.years=1", "run.warmup_days=90", *OFF]
    odd = load_scenario(small, [*base, "demand.outside_contract.growth=0.5", 'demand.outside_contract.stage="nowhere"'])
    row, plain = _rows(odd, design), _rows(load_scenario(small, base), design)
    assert pd.Series(row).equals(pd.Series(plain))
    assert not [c for c in row if "outside" in c]
    with_flow = _rows(load_scenario(small, [*base, *FLOW]), design)
    assert with_flow["outside_contract_referrals"] > 1000  # the same table with the flow on does count it


@pytest.mark.slow
def test_columns_are_declared_and_there_when_the_volume_is_drawn(small: Path) -> None:
    """With care outside the contract, or its volume drawn per replication (a draw may be 0), a run's
    columns are the declared ones, in order."""
    drawn_volume = 'uncertainty."demand.outside_contract.per_year"={dist="uniform", low=0, high=400}'
    drawn = load_scenario(small, ["run.years=1", "run.warmup_days=30", drawn_volume])
    for s in (drawn, _scenario(small, "run.warmup_days=30")):
        for design in ("fragmented", "prime"):
            out = run_task(s, Task(0, 0, design))
            assert out.error is None, out.error
            check_columns(list(out.rows[0]), s, design)
            assert "outside_contract_spend_gbp" in columns_for(s, design)
    assert run_task(drawn, Task(0, 0, "prime")).rows[0]["outside_contract_referrals"] > 0


def test_scaling_an_area_scales_care_outside_the_contract(small: Path) -> None:
    s = load_scenario(small, [*FLOW])
    scaled = {v.key: v.now for v in scale(s, 40_000).values}
    assert scaled["demand.outside_contract.per_year"] == pytest.approx(750.0)


@pytest.mark.parametrize(
    "sets, key, words",
    [
        (['demand.outside_contract.stage="rheumatologyy"'], "demand.outside_contract.stage", "not a known stage"),
        (['demand.outside_contract.stage="community_specialist"'], "demand.outside_contract.stage",
         "not a service of design 'fragmented'"),
        (['demand.outside_contract.stage="triage"'], "demand.outside_contract.stage", "of kind 'triage'"),
        (["demand.outside_contract.conditions={knee=0.5, hips=0.5}"], "demand.outside_contract.conditions.hips",
         "not a known condition group"),
        (["demand.outside_contract.need={specialist=0.6, surgical=0.5}"], "demand.outside_contract.need", "must sum to 1"),
        (["demand.outside_contract.per_year=-1"], "demand.outside_contract.per_year", "greater than or equal to 0"),
    ],
)  # fmt: skip
def test_a_bad_setting_names_its_key(sets: list[str], key: str, words: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled("demand.outside_contract.per_year=100", *sets)
    assert e.value.key == key and words in str(e.value)
