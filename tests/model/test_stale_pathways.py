"""Stale pathways: a share of a list's referrals never seen, on the list till validation."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from sim.analysis.flows import expected_activity
from sim.model.removals import RemovalTimes, leaving_day
from sim.runs.experiment import run_replications
from sim.scenario.schema import ScenarioError
from tests.conftest import NO_REMOVALS, bundled
from tests.model.test_conservation import AuditedPathway

ORTHO = "designs.fragmented.stage_overrides.orthopaedics"
STALE = (f"{ORTHO}.stale_share=0.2", f"{ORTHO}.stale_removal_rate_per_week=0.1")


def test_one_uniform_says_stale_and_when() -> None:
    """Below the share a uniform is a stale pathway's, rescaled; above it, an ordinary removal's:
    with no share every day is as before, so a list without stale pathways draws as it did."""
    removal, stale = RemovalTimes([(0.0, 0.02), (12.0, 0.05)]), RemovalTimes([(0.0, 0.1)])
    for u in np.linspace(0.01, 0.99, 25):
        day, is_stale = leaving_day(removal, stale, 0.0, 10, 0.0, float(u))
        assert not is_stale and day == 10 + np.ceil(removal.after(0.0, float(u)))
    assert leaving_day(removal, stale, 0.2, 0, 0.0, 0.1) == (np.ceil(stale.after(0.0, 0.5)), True)
    assert leaving_day(removal, stale, 0.2, 0, 0.0, 0.6) == (np.ceil(removal.after(0.0, 0.5)), False)
    assert leaving_day(RemovalTimes([(0.0, 0.0)]), stale, 0.2, 0, 0.0, 0.6) == (float("inf"), False)


@pytest.mark.slow
def test_a_rate_without_a_share_changes_nothing() -> None:
    base = run_replications(bundled("run.years=1"), ["fragmented"], 1)
    same = run_replications(bundled("run.years=1", f"{ORTHO}.stale_removal_rate_per_week=0.1"), ["fragmented"], 1)
    assert base.equals(same)


@pytest.fixture(scope="module")
def steady():
    s = bundled("run.years=2", "run.warmup_days=730", "demand.growth=0", *NO_REMOVALS, *STALE)
    return s, run_replications(s, ["fragmented"], 3, jobs=2)


@pytest.mark.slow
def test_stale_pathways_are_removed_and_never_seen(steady) -> None:
    """Per referral, orthopaedics removes its stale share of arrivals (no other removals here)
    and sees the rest, as the traffic equations say."""
    s, table = steady
    flows = expected_activity(s, "fragmented")
    assert flows["orthopaedics_removed"] == pytest.approx(0.2 * flows["orthopaedics_arrivals"])
    for key in ("orthopaedics_removed", "orthopaedics_first", "journeys_removed"):
        theory = flows["ended_removed" if key == "journeys_removed" else key]
        simulated = (table[key] / table["referrals"]).mean()
        assert simulated == pytest.approx(theory, rel=0.03), key
    plain = expected_activity(bundled(*NO_REMOVALS), "fragmented")

    def ended(f: dict[str, float]) -> float:
        return sum(f.get(f"ended_{o}", 0.0) for o in ("resolved", "unresolved", "dna", "removed"))

    assert flows["ended_removed"] > 0 and ended(flows) == pytest.approx(ended(plain), abs=1e-9)  # nobody lost


@pytest.mark.slow
def test_stale_pathways_wait_till_validation() -> None:
    """With room at the clinic, its list is the booking delays' stock of those it will see
    plus the stale pathways, each on it a mean of 1 / -ln(1 - 0.1) weeks (Little's law)."""
    room = ("run.years=2", "run.warmup_days=730", "demand.growth=0", *NO_REMOVALS, f"{ORTHO}.slots_per_week=3000")
    plain = run_replications(bundled(*room), ["fragmented"], 3, jobs=2)
    stale = run_replications(bundled(*room, *STALE), ["fragmented"], 3, jobs=2)
    per_week = stale["orthopaedics_removed"].mean() / 52
    extra = stale["orthopaedics_waiting_end"].mean() - 0.8 * plain["orthopaedics_waiting_end"].mean()
    assert extra == pytest.approx(per_week / -np.log(0.9), rel=0.1)


def test_every_stale_referral_is_in_the_system_or_left_once() -> None:
    m = AuditedPathway(bundled("run.years=1", "run.warmup_days=120", *STALE), "fragmented", 3)
    m.run()
    inside = Counter(p.pid for p in m.census())
    assert max(m.left.values()) == 1
    assert set(inside) | set(m.left) == set(range(1, m.counts.created + 1))
    assert not set(inside) & set(m.left)


def test_a_stale_share_needs_a_validation_rate() -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(f"{ORTHO}.stale_share=0.1")
    assert "stale_removal_rate_per_week" in str(e.value) and "orthopaedics" in str(e.value)
