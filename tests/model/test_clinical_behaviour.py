"""Clinical behaviour a reviewer would challenge: each in isolation, and all of it against the
traffic equations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.flows import expected_activity
from sim.model.pathway import Pathway, simulate
from sim.runs.experiment import run_replications
from sim.scenario.loading import ScenarioError
from tests.conftest import AT_CAPACITY_SET, NO_REMOVALS, bundled, scenario_from, single_stage
from tests.validation.test_queueing_theory import exact_mean_list

MRI = 'stages.mri={kind="diagnostic", provider="acute_trust", slots_per_week=400, tariff_first=150, dna_first=0.05}'
"""A diagnostic service (MRI) the acute trust runs: 80 scans a working day at £150 each (assumed)."""
WITH_MRI = (
    MRI,
    'designs.fragmented.services=["physio", "podiatry", "orthopaedics", "rheumatology", "pain", "mri"]',
    'designs.prime.services=["triage", "physio", "podiatry", "community_specialist", "orthopaedics", "rheumatology", '
    '"pain", "mri"]',
    "stages.orthopaedics.tests={mri=0.3}",
    "stages.community_specialist.tests={mri=0.4}",
)
BEHAVIOUR = (
    *WITH_MRI,
    "stages.physio.dna_return_rate=0.5",
    "stages.orthopaedics.dna_return_rate=0.5",
    "stages.orthopaedics.dna_first=0.1",
    "surgery.avoidable_return_rate=0.5",
    "designs.prime.stage_overrides.theatre.avoidable_return_rate=0.5",
    "stages.rheumatology.contacts_per_episode_by_need={specialist=6.0}",
    "designs.prime.stage_overrides.rheumatology.contacts_per_episode_by_need={specialist=5.3}",
    "stages.triage.dna_first=0.05",
    "stages.triage.booking_lead_days=3",
    "demand.self_referral.per_year=4000",
    "demand.self_referral.replaces_gp_share=0.5",
    "stages.orthopaedics.advice_and_guidance_share=0.2",
    "stages.orthopaedics.advice_and_guidance_return_share=0.4",
    "stages.orthopaedics.procedure_share=0.25",
    "stages.physio.pifu_share=0.3",
    "stages.community_specialist.procedure_share=0.2",
)
"""Every behaviour the traffic equations hold, on at once."""


# --------------------------------------------------------------------------- against theory


@pytest.fixture(scope="module")
def behaving():
    s = bundled("run.years=2", "run.warmup_days=730", "demand.growth=0", *NO_REMOVALS, *BEHAVIOUR)
    return s, run_replications(s, ["fragmented", "prime"], 3, jobs=2)


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_behaviour_matches_the_traffic_equations(behaving, design: str) -> None:
    """With tests, returns after missed appointments and avoidable operations, follow-ups by need,
    self-referral replacing GP referrals, patient-initiated follow-up and day-case procedures, each
    count per GP referral is within the 99% interval (or 3%) of the solved routing."""
    scenario, table = behaving
    flows = expected_activity(scenario, design)
    part = table[table["design"] == design]
    keys = ["gp_consultations", "dna_returns", "surgeries_avoidable", "joint_replacements", "surgeries_daycase", "procedures"]
    for st in scenario.designs[design].services:
        keys += [f"{st}_arrivals", f"{st}_first", f"{st}_followup", f"{st}_dna", f"{st}_advice_and_guidance"]
    failures = []
    for key in keys:
        theory = flows.get(key, 0.0)
        ratio = part[key] / part["referrals"]
        half = stats.t.ppf(0.995, len(ratio) - 1) * ratio.std(ddof=1) / np.sqrt(len(ratio))
        # 3%: counts of about 1,500 a year over six replication-years have a standard error near
        # 1%, and six correlated samples can understate it
        tolerance = max(half, 0.03 * theory, 1e-4)
        if abs(ratio.mean() - theory) > tolerance:
            failures.append(f"{key}: simulated {ratio.mean():.5f}, theory {theory:.5f}, tolerance {tolerance:.5f}")
    assert not failures, "\n".join(failures)
    assert flows["mri_first"] > 0.01 and flows["dna_returns"] > 0.001 and flows["surgeries_avoidable"] > 0.001
    assert flows["procedures"] > 0.01
    others = scenario.demand.self_referral.per_year + scenario.demand.outside_contract.per_year
    journeys = 1.0 + others / scenario.demand.gp_referrals_per_year  # per GP referral
    ends = ("resolved", "unresolved", "dna", "removed")
    assert sum(flows.get(f"ended_{o}", 0.0) for o in ends) == pytest.approx(journeys, abs=1e-9)


@pytest.mark.slow
def test_a_diagnostic_list_is_the_exact_slot_queue() -> None:
    """Every referral is seen the day it arrives at a clinic with ample slots, which orders a scan
    for all: the scanner's list is then Poisson(λ) arrivals a day against c slots, the chain
    X' = max(X + A - c, 0) of the single-stage test, and its mean must match."""
    lam, c = 8.0, 10
    raw = single_stage(lam, 60, tests={"scan": 1.0})
    raw["stages"]["scan"] = {"kind": "diagnostic", "provider": "p", "slots_per_week": 7 * c, "working_days": 7}
    raw["designs"]["fragmented"]["services"] = ["physio", "scan"]
    s = scenario_from(raw)
    lists = []
    for rep in range(8):
        rows = simulate(s, "fragmented", rep)
        lists.append(np.mean([r["scan_list_mean"] for r in rows]))
        assert all(r["scan_first"] == pytest.approx(r["physio_first"], rel=0.02) for r in rows)  # one scan each
    theory = exact_mean_list(lam, c)
    mean, se = np.mean(lists), np.std(lists, ddof=1) / np.sqrt(len(lists))
    assert abs(mean - theory) <= stats.t.ppf(0.995, len(lists) - 1) * se, f"simulated {mean:.3f}, theory {theory:.3f}"


# --------------------------------------------------------------------------- each in isolation


@pytest.mark.slow
def test_a_test_is_charged_once_and_not_repeated() -> None:
    """A patient scanned at the community clinic is not scanned again at orthopaedics: with every
    first attendance at both ordering a scan, scans equal the patients reaching either, once."""
    s = bundled("run.years=1", *WITH_MRI, "stages.orthopaedics.tests={mri=1.0}", "stages.community_specialist.tests={mri=1.0}")
    m = Pathway(s, "prime", 0)
    m.run()
    scanned = sum(1 for p in m.census() if p.tested)
    assert scanned > 0
    row = m.recorder.rows[0]
    both = m.flows[("community_specialist", "orthopaedics")]
    assert row["mri_first"] < row["orthopaedics_first"] + row["community_specialist_first"] - 0.5 * both
    assert (
        row["mri_first"] > 0 and row["cost_provider_acute_trust_gbp" if "cost_provider_acute_trust_gbp" in row else "mri_first"]
    )


@pytest.mark.slow
def test_the_rtt_clock_runs_through_a_test() -> None:
    """A test is not treatment: a patient waiting for a scan (or its result) keeps their clock."""
    s = bundled("run.years=1", *WITH_MRI, "stages.orthopaedics.tests={mri=1.0}")
    m = Pathway(s, "fragmented", 0)
    m.env.run(until=s.run.warmup_days + 200)
    at_mri = [p for p in m.stages["mri"].patients()]
    assert at_mri and all(p.clock != float("-inf") for p in at_mri)


@pytest.mark.slow
def test_an_operation_helps_the_surgical_need_only() -> None:
    """Nobody is operated on needlessly when only the surgical need is listed; otherwise the
    needless operations are counted and, with no return, end unresolved."""
    only = ["specialist", "physio", "self_management"]
    s = bundled("run.years=1", *(f"stages.orthopaedics.list_for_surgery.{n}=0" for n in only))
    row = simulate(s, "fragmented", 0)[0]
    assert row["surgeries_avoidable"] == 0 and row["joint_replacements"] > 0
    row = simulate(bundled("run.years=1"), "fragmented", 0)[0]
    assert row["surgeries_avoidable"] > 0


@pytest.mark.slow
def test_a_did_not_attend_discharge_may_return_to_the_gp() -> None:
    base = ("run.years=1", "stages.physio.dna_first=0.3", "stages.physio.max_dna=1")
    off = simulate(bundled(*base), "fragmented", 0)[0]
    on = simulate(bundled(*base, "stages.physio.dna_return_rate=1"), "fragmented", 0)[0]
    assert off["dna_returns"] == 0
    assert on["dna_returns"] > 0.5 * on["physio_dna"]
    assert (
        on["journeys_dna"] < 0.5 * off["journeys_dna"]
        if "journeys_dna" in on
        else on["gp_consultations"] > off["gp_consultations"]
    )


class WatchedGP(Pathway):
    """Counts the GP's re-referrals to a service that had already failed the patient."""

    def __init__(self, *args):
        self.again = self.to_failed = 0
        super().__init__(*args)

    def gp_consultation(self, p, day):
        failed = p.failed
        super().gp_consultation(p, day)
        clinic = self.stages.get(p.at)
        self.again += 1
        row = self.scenario.gp.rereferral[p.need]
        others = [d for d, w in row.items() if w > 0 and d in self.stages and not failed >> self.stages[d].index & 1]
        if clinic is not None and failed >> clinic.index & 1 and others:
            self.to_failed += 1


@pytest.mark.parametrize("remembers", [True, False])
@pytest.mark.slow
def test_the_gp_remembers_the_services_that_failed(remembers: bool) -> None:
    """Remembering, the GP never sends a patient back to a service that failed them while the row
    has another; forgetting, they often do (the check can fail)."""
    s = bundled("run.years=1", f"gp.remembers_failed={str(remembers).lower()}")
    m = WatchedGP(s, "fragmented", 0)
    m.run()
    assert m.again > 1000
    if remembers:
        assert m.to_failed == 0
    else:
        assert m.to_failed > 0.05 * m.again


@pytest.mark.slow
def test_the_gp_chooses_among_the_services_not_yet_tried() -> None:
    m = Pathway(bundled("gp.remembers_failed=true"), "fragmented", 0)
    row = m.scenario.gp.rereferral["specialist"]
    from sim.model.patient import Patient

    p = Patient(1, 0, "specialist", False, 0, 123, 0.5, 0.5, 0.5)
    p.failed = 1 << m.stages["orthopaedics"].index
    u = (np.arange(10_000) + 0.5) / 10_000
    picks = [m.routes.elsewhere(p, x) for x in u]
    kept = {d: w for d, w in row.items() if w > 0 and d != "orthopaedics"}
    for dest, w in kept.items():
        assert picks.count(dest) / len(u) == pytest.approx(w / sum(kept.values()), abs=1e-3)
    p.failed = sum(1 << c.index for c in m.stages.values())  # every service failed: the whole row again
    assert {m.routes.elsewhere(p, x) for x in u} == {d for d, w in row.items() if w > 0}


@pytest.mark.slow
def test_advice_and_guidance_has_a_price_and_some_come_back() -> None:
    """Each referral answered by advice is paid for; with a return share, some of those the advice
    helped see their GP again and are referred again: more GP consultations, same patients."""
    sets = ("run.years=1", "stages.orthopaedics.advice_and_guidance_share=0.3")
    priced = simulate(bundled(*sets, "stages.orthopaedics.tariff_advice_and_guidance=25"), "fragmented", 0)[0]
    free = simulate(bundled(*sets), "fragmented", 0)[0]
    answered = priced["orthopaedics_advice_and_guidance"]
    assert answered > 0 and answered == free["orthopaedics_advice_and_guidance"]
    import pandas as pd

    from sim.money.finance import tariff_value_by_element

    s_priced, s_free = bundled(*sets, "stages.orthopaedics.tariff_advice_and_guidance=25"), bundled(*sets)
    a = tariff_value_by_element(pd.DataFrame([priced]), s_priced, "fragmented")["orthopaedics"].value.iloc[0]
    b = tariff_value_by_element(pd.DataFrame([priced]), s_free, "fragmented")["orthopaedics"].value.iloc[0]
    assert a - b == pytest.approx(25 * answered)
    back = simulate(bundled(*sets, "stages.orthopaedics.advice_and_guidance_return_share=1"), "fragmented", 0)[0]
    assert back["gp_consultations"] - free["gp_consultations"] > 0.2 * answered


@pytest.mark.slow
def test_self_referral_replaces_gp_referrals() -> None:
    s = bundled(
        "run.years=1", "demand.growth=0", "demand.self_referral.per_year=6000", "demand.self_referral.replaces_gp_share=0.5"
    )
    assert s.demand.gp_referrals_per_year == s.demand.referrals_per_year - 3000
    rows = [simulate(s, "fragmented", r)[0] for r in range(2)]
    mean = np.mean([r["referrals"] for r in rows])
    assert mean == pytest.approx(s.demand.gp_referrals_per_year, rel=0.03)
    with pytest.raises(ScenarioError, match="replace more GP referrals"):
        bundled("demand.self_referral.per_year=2000000", "demand.self_referral.replaces_gp_share=1")


def test_follow_ups_differ_by_need_and_design() -> None:
    s = bundled(
        "stages.rheumatology.contacts_per_episode_by_need={specialist=6.0}",
        "designs.prime.stage_overrides.rheumatology.contacts_per_episode_by_need={specialist=5.3}",
    )
    assert s.design_stages("prime")["rheumatology"].contacts("specialist") == 5.3
    assert s.design_stages("fragmented")["rheumatology"].contacts("specialist") == 6.0
    assert s.design_stages("fragmented")["rheumatology"].contacts("physio") == s.stages["rheumatology"].contacts_per_episode
    plain = expected_activity(bundled(), "fragmented")["rheumatology_followup"]
    more = expected_activity(s, "fragmented")["rheumatology_followup"]
    assert more > plain


@pytest.mark.slow
def test_triage_may_have_missed_appointments_and_a_lead_time() -> None:
    def triage_list(*sets: str) -> tuple[dict, float]:
        m = Pathway(bundled("run.years=1", *sets), "prime", 0)
        row = m.run()[0]
        cols = m.recorder.monthly_columns
        return row, float(np.mean([month[cols.index("triage_waiting_mean")] for month in m.recorder.monthly]))

    row, booking = triage_list("stages.triage.dna_first=0.1", "stages.triage.booking_lead_days=5")
    plain, none = triage_list()
    assert row["triage_dna"] > 0.08 * row["triage_first"] and plain["triage_dna"] == 0
    per_day = row["referrals"] / 365.25
    assert booking - none > 0.6 * 5 * per_day  # about five days' referrals (on working days) being booked


def test_surgery_settings_may_differ_by_design() -> None:
    s = bundled(
        "designs.prime.stage_overrides.theatre.daycase_share=0.95", "designs.prime.stage_overrides.theatre.los_other_days=1.5"
    )
    assert s.design_surgery("prime").daycase_share == 0.95 and s.design_surgery("fragmented").daycase_share != 0.95
    flows = expected_activity(s, "prime")
    share = flows["surgeries_daycase"] / (flows["surgeries_daycase"] + flows["surgeries_inpatient"] - flows["joint_replacements"])
    assert share == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("sets", "key"),
    [
        (["stages.orthopaedics.tests={physio=0.2}"], "stages.orthopaedics.tests.physio"),
        ([MRI, "stages.orthopaedics.tests={mri=0.2}"], "stages.orthopaedics.tests.mri"),  # the designs do not run it
        (["stages.physio.dna_return_rate=1.5"], "stages.physio.dna_return_rate"),
    ],
)
def test_bad_behaviour_keys_are_named(sets: list[str], key: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(*sets)
    assert e.value.key == key


def _two_providers(weight: float) -> dict:
    """Two physio providers the GP's patients choose between, half and half; the second has
    half the first's slots: at half the patients it cannot keep up."""
    raw = single_stage(8.0, 6)
    raw["stages"]["physio_b"] = {**raw["stages"]["physio"], "slots_per_week": 7 * 3}
    rows = {n: {"either": 1.0} for n in ("self_management", "physio", "specialist", "surgical")}
    raw["gp"] = {"referral": rows, "rereferral": rows, "choice_wait_weight": weight}
    raw["choices"] = {"either": {"physio": 0.5, "physio_b": 0.5}}
    raw["designs"]["fragmented"]["services"] = ["physio", "physio_b"]
    raw["run"]["years"] = 2
    return raw


def test_patients_may_choose_by_waits() -> None:
    """Blind to waits, the shares are the row's and the smaller provider's list grows; choosing by
    waits, patients go where the list is shorter and both lists stay short."""
    blind = simulate(scenario_from(_two_providers(0.0)), "fragmented", 0)[-1]
    aware = simulate(scenario_from(_two_providers(2.0)), "fragmented", 0)[-1]
    share = blind["physio_b_arrivals"] / (blind["physio_arrivals"] + blind["physio_b_arrivals"])
    assert share == pytest.approx(0.5, abs=0.02)
    assert aware["physio_b_arrivals"] / (aware["physio_arrivals"] + aware["physio_b_arrivals"]) < 0.42
    assert blind["physio_b_list_mean"] > 200 and aware["physio_b_list_mean"] < 0.2 * blind["physio_b_list_mean"]


@pytest.mark.slow
def test_the_theatre_may_overflow_to_the_independent_sector() -> None:
    """With too few theatre slots, routine patients still waiting 18 weeks after listing are
    operated on by the overflow provider: nobody on the list waits longer, and their operations
    are paid to it at the theatre's tariffs."""
    import pandas as pd

    from sim.money.finance import tariff_value_by_element

    sets = ("run.years=1", "surgery.slots_per_week=100", "surgery.removal_rate_per_week=0", AT_CAPACITY_SET)
    overflow = ('finance.providers.independent_sector={payment="tariff"}', "surgery.overflow_after_weeks=18",
                'surgery.overflow_provider="independent_sector"')  # fmt: skip
    s = bundled(*sets, *overflow)
    m = Pathway(s, "fragmented", 0)
    row = m.run()[0]
    moved = row["overflow_surgeries_daycase"] + row["overflow_surgeries_inpatient"]
    assert moved > 100
    day = m.days - 1
    assert all(day - e[2] <= 18 * 7 + 1 for e in m.theatre.waiting if e[-1].waiting_at == -2 and not e[-1].urgent)
    plain = Pathway(bundled(*sets), "fragmented", 0)
    plain.run()
    assert max(day - e[2] for e in plain.theatre.waiting if e[-1].waiting_at == -2) > 18 * 7 + 30
    value = tariff_value_by_element(pd.DataFrame([row]), s, "fragmented")
    assert value["theatre_overflow"].provider == "independent_sector"
    surgery = s.surgery
    joint = row["overflow_joint_replacements"]
    want = (
        joint * surgery.tariff_joint_replacement
        + row["overflow_surgeries_daycase"] * surgery.tariff_other_daycase
        + (row["overflow_surgeries_inpatient"] - joint) * surgery.tariff_other_inpatient
    )
    assert value["theatre_overflow"].value.iloc[0] == pytest.approx(want)
    with pytest.raises(ScenarioError, match="go together"):
        bundled("surgery.overflow_after_weeks=18")


# --------------------------------------------------------------------------- day-case procedures


def _admitted_and_nonadmitted(model: Pathway) -> tuple[int, int]:
    """Admitted and non-admitted clock stops of the run's returns, every function and month."""
    admitted = nonadmitted = 0
    for _month, year, _function, part, *counts in model.recorder.returns:
        if year < 1:
            continue
        if part == "admitted":
            admitted += sum(counts)
        elif part == "nonadmitted":
            nonadmitted += sum(counts)
    return admitted, nonadmitted


@pytest.mark.slow
def test_a_procedure_is_an_admitted_clock_stop_on_the_theatre_list() -> None:
    """Of the patients orthopaedics treats, a share gets a day-case procedure on the theatre list
    first: it stops the clock as admitted, so admitted stops grow by the procedures done and
    non-admitted stops fall by as many; what happens after is the course it was, so the
    orthopaedic follow-ups and everything downstream are unchanged."""
    sets = ("run.years=1", *NO_REMOVALS, "surgery.slots_per_week=400")
    off, on = (Pathway(bundled(*sets, f"stages.orthopaedics.procedure_share={x}"), "fragmented", 0) for x in (0, 0.3))
    off.run()
    on.run()
    row_off, row_on = off.recorder.rows[-1], on.recorder.rows[-1]
    assert row_off["procedures"] == 0
    done = row_on["procedures"]
    assert done > 0.2 * (row_on["orthopaedics_first"] - row_on["orthopaedics_listed"]) * 0.5
    (a0, n0), (a1, n1) = _admitted_and_nonadmitted(off), _admitted_and_nonadmitted(on)
    # the procedure patients' clocks stop a few days later (the theatre list), so a handful of
    # stops move across the run's end: the counts agree to that
    assert a1 - a0 == pytest.approx(done, rel=0.03)
    assert a1 + n1 == pytest.approx(a0 + n0, rel=0.005)
    for key in ("orthopaedics_first", "surgeries_daycase", "joint_replacements", "gp_consultations"):
        assert row_on[key] == pytest.approx(row_off[key], rel=0.02), key


@pytest.mark.slow
def test_a_procedure_is_priced_and_takes_theatre_time() -> None:
    """The theatre is paid ``tariff_procedure`` for each, and the expected theatre load counts
    ``procedure_slots`` for each."""
    from sim.analysis.flows import THEATRE_SLOTS
    from sim.money.finance import tariff_value_by_element
    from sim.scenario.schema import THEATRE

    s = bundled("run.years=1", "stages.orthopaedics.procedure_share=0.3", "surgery.tariff_procedure=700",
                "surgery.procedure_slots=0.4")  # fmt: skip
    rows = pd.DataFrame([{**dict.fromkeys(simulate(s, "fragmented", 0)[0], 0), "year": 1, "procedures": 10}])
    assert tariff_value_by_element(rows, s, "fragmented")[THEATRE].value.iloc[0] == pytest.approx(7_000)
    flows = expected_activity(s, "fragmented")
    without = expected_activity(bundled("stages.orthopaedics.procedure_share=0"), "fragmented")
    assert flows["procedures"] > 0.01
    assert flows[THEATRE_SLOTS] - without[THEATRE_SLOTS] == pytest.approx(0.4 * flows["procedures"], rel=1e-9)


def test_procedures_are_for_clinics_only() -> None:
    with pytest.raises(ScenarioError, match="procedure_share"):
        bundled("stages.physio.procedure_share=0.1")
