"""Pathway changes as switches: each does what it says, and the routing oracle still holds."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim.analysis.flows import expected_activity
from sim.runs.experiment import run_replications
from sim.scenario.loading import with_values
from tests.conftest import NO_REMOVALS, bundled

STEADY = ("run.years=1", "run.warmup_days=730", "demand.growth=0", *NO_REMOVALS)  # long courses need two years to settle
REPS = 4

IS_STAGE = {
    "kind": "clinic", "provider": "acute_trust", "consultant_led": True, "hospital": True, "slots_per_week": 300,
    "booking_lead_days": 14, "dna_first": 0.05, "dna_followup": 0.05, "contacts_per_episode": 2.0,
    "followup_interval_days": 42, "resolves": {"self_management": 1.0, "specialist": 0.9},
    "list_for_surgery": {"surgical": 0.95, "specialist": 0.1}, "tariff_first": 140, "tariff_followup": 75,
}  # fmt: skip


@functools.cache  # the unchanged pathway is the baseline of several tests: simulated once
def totals(*overrides: str, design: str = "fragmented"):
    s = bundled(*STEADY, *overrides)
    t = run_replications(s, [design], REPS, jobs=2)
    return s, t


def per_referral(t, col: str) -> tuple[float, float]:
    r = t[col] / t["referrals"]
    return float(r.mean()), float(r.std(ddof=1) / np.sqrt(len(r)))


@pytest.mark.slow
def test_patient_initiated_follow_up_cuts_follow_ups_by_its_share() -> None:
    share, back = 0.4, 0.25
    _, base = totals()
    _, pifu = totals(f"stages.rheumatology.pifu_share={share}", f"stages.rheumatology.pifu_return_rate={back}")
    ratio = pifu["rheumatology_followup"].sum() / base["rheumatology_followup"].sum()
    assert ratio == pytest.approx(1 - share * (1 - back), abs=0.03)
    assert pifu["rheumatology_pifu_skipped"].sum() > 0
    assert pifu["rheumatology_first"].sum() == pytest.approx(base["rheumatology_first"].sum(), rel=0.03)


@pytest.mark.slow
def test_advice_and_guidance_cuts_first_attendances_by_its_share() -> None:
    share = 0.25
    _, base = totals()
    s, ag = totals(f"stages.rheumatology.advice_and_guidance_share={share}")
    ratio = ag["rheumatology_first"].sum() / base["rheumatology_first"].sum()
    # rheumatology rarely sees surgical need, which advice and guidance never answers
    assert ratio == pytest.approx(1 - share, abs=0.03)
    answered, se = per_referral(ag, "rheumatology_advice_and_guidance")
    assert answered == pytest.approx(
        expected_activity(s, "fragmented")["rheumatology_advice_and_guidance"], abs=max(4 * se, 1e-4)
    )


@pytest.mark.slow
def test_self_referral_adds_direct_demand() -> None:
    _, base = totals()
    _, more = totals("demand.self_referral.per_year=6000")
    added = (more["physio_arrivals"] - base["physio_arrivals"]).mean()
    assert added == pytest.approx(6000, rel=0.08)
    assert (more["referrals"] == base["referrals"]).all(), "GP referrals (common random numbers) are unchanged"


@pytest.mark.slow
def test_overflow_to_the_independent_sector_caps_the_wait() -> None:
    """With too few orthopaedic slots, routine patients past 10 weeks go to the independent sector."""
    base = bundled(*STEADY, "stages.orthopaedics.slots_per_week=760")
    s = with_values(
        base,
        {
            "stages.orthopaedics_is": IS_STAGE,
            "stages.orthopaedics.overflow_to": "orthopaedics_is",
            "stages.orthopaedics.overflow_after_weeks": 10,
            "designs.fragmented.services": [*base.designs["fragmented"].services, "orthopaedics_is"],
            "designs.prime.services": [*base.designs["prime"].services, "orthopaedics_is"],
            "designs.prime_as_claimed.services": [*base.designs["prime"].services, "orthopaedics_is"],
        },
        "test",
    )
    t = run_replications(s, ["fragmented"], 2)
    assert t["orthopaedics_overflow"].sum() > 0
    assert (t["orthopaedics_overflow"] == t["orthopaedics_is_arrivals"]).all()
    assert t["orthopaedics_is_first"].sum() > 0
    without = run_replications(base, ["fragmented"], 2)
    assert t["orthopaedics_queue_wait_mean_days"].mean() < without["orthopaedics_queue_wait_mean_days"].mean()


@pytest.mark.slow
def test_patient_choice_between_providers() -> None:
    base = bundled(*STEADY)
    gp = base.gp.referral
    rows = {n: {("ortho_choice" if k == "orthopaedics" else k): v for k, v in row.items()} for n, row in gp.items()}
    s = with_values(
        base,
        {
            "stages.orthopaedics_is": IS_STAGE,
            "choices.ortho_choice": {"orthopaedics": 0.7, "orthopaedics_is": 0.3},
            "gp.referral": rows,
            "designs.fragmented.services": [*base.designs["fragmented"].services, "orthopaedics_is"],
            "designs.prime.services": [*base.designs["prime"].services, "orthopaedics_is"],
            "designs.prime_as_claimed.services": [*base.designs["prime"].services, "orthopaedics_is"],
        },
        "test",
    )
    t = run_replications(s, ["fragmented"], 2)
    flows = expected_activity(s, "fragmented")
    assert flows["orthopaedics_is_arrivals"] > 0
    direct = t["orthopaedics_is_arrivals"].sum() / t["referrals"].sum()
    assert direct == pytest.approx(flows["orthopaedics_is_arrivals"], rel=0.06)


@pytest.mark.slow
def test_health_lost_while_waiting_grows_with_the_wait() -> None:
    util = ("demand.conditions.knee.utility_loss=0.15", "demand.conditions.knee.utility_decline_per_week=0.002")
    _, ample = totals(*util)
    _, tight = totals(*util, "stages.orthopaedics.slots_per_week=800")
    _, none = totals()
    assert (none["qaly_lost_waiting"] == 0).all()
    assert ample["qaly_lost_waiting"].mean() > 0
    assert tight["qaly_lost_waiting"].mean() > ample["qaly_lost_waiting"].mean()


def test_surgical_priority_categories_are_worked_in_order() -> None:
    s = bundled(
        "run.years=1", "run.warmup_days=200", "surgery.slots_per_week=120", "surgery.priority_shares={ P2 = 0.2, P4 = 0.8 }"
    )
    from sim.model.pathway import Pathway

    m = Pathway(s, "fragmented", 0)
    m.run()
    cats = [e[0] for e in m.theatre.waiting]
    assert set(cats) <= {1, 3}
    assert cats.count(1) < 0.2 * len(cats), "P2 patients do not pile up behind P4"
