"""Mean activity at every stage equals what the routing implies (the traffic equations)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.analysis.flows import _Solver, expected_activity
from sim.runs.experiment import run_replications
from sim.scenario.loading import load_scenario
from tests.conftest import NO_REMOVALS, ROOT, bundled

REPS = 4


@pytest.fixture(scope="module")
def steady():
    """The bundled scenario without growth, so every year has the same expected activity.

    Two years of warm-up: rheumatology courses run for most of a year, and onward chains in
    the prime design take months, so one year from empty leaves follow-ups a little short.
    """
    s = bundled("run.years=2", "run.warmup_days=730", "demand.growth=0", *NO_REMOVALS)
    return s, run_replications(s, ["fragmented", "prime"], REPS, jobs=2)


def _keys(scenario, design: str) -> list[str]:
    keys = ["gp_consultations", "joint_replacements", "surgeries_daycase", "surgeries_inpatient", "bed_days"]
    for st in scenario.designs[design].services:
        keys += [f"{st}_arrivals", f"{st}_first", f"{st}_followup", f"{st}_dna", f"{st}_listed"]
    return keys


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_activity_matches_traffic_equations(steady, design: str) -> None:
    """Per referral, each count is within the 99% interval (or 1%) of the solved routing."""
    scenario, table = steady
    flows = expected_activity(scenario, design)
    part = table[table["design"] == design]
    failures = []
    for key in _keys(scenario, design):
        theory = flows.get(key, 0.0)
        ratio = part[key] / part["referrals"]  # one sample per replication × year
        half = stats.t.ppf(0.995, len(ratio) - 1) * ratio.std(ddof=1) / np.sqrt(len(ratio))
        tolerance = max(half, 0.01 * theory, 1e-4)
        if abs(ratio.mean() - theory) > tolerance:
            failures.append(f"{key}: simulated {ratio.mean():.5f}, theory {theory:.5f}, tolerance {tolerance:.5f}")
    assert not failures, "\n".join(failures)


def test_every_referral_ends_once_in_expectation() -> None:
    """The solved routing loses nobody: resolved + unresolved + DNA-discharged + removed (stale
    pathways) = 1 per referral (care outside the contract, a flow of its own, set aside)."""
    s = bundled("demand.outside_contract.per_year=0")
    for design in s.designs:
        f = expected_activity(s, design)
        ends = ("resolved", "unresolved", "dna", "removed")
        assert sum(f.get(f"ended_{o}", 0.0) for o in ends) == pytest.approx(1.0, abs=1e-9)


def test_traffic_equations_notice_a_routing_change(bedfordshire) -> None:
    """The oracle is sensitive: sending fewer GP referrals to physio changes the physio flow."""
    base = expected_activity(bedfordshire, "fragmented")
    changed = expected_activity(
        bundled("gp.referral.physio={ physio = 0.50, podiatry = 0.13, orthopaedics = 0.35, rheumatology = 0.01, pain = 0.01 }"),
        "fragmented",
    )
    # 29% more of the 49% with physio need go first to orthopaedics, and bounce back later
    assert changed["orthopaedics_first"] > base["orthopaedics_first"] + 0.12
    assert changed["gp_consultations"] > base["gp_consultations"] + 0.12
    assert changed["physio_first"] < base["physio_first"]


class _Unrolled(_Solver):
    """The solver without its memo: every visit unrolled afresh."""

    def _visit(self, name: str, need: str, mass: float, k: int, rehab: bool = False, tested: int = 0) -> None:
        self._unrolled(name, need, mass, k, rehab, tested)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.stem)
@pytest.mark.slow
def test_the_memo_gives_what_unrolling_every_visit_gives(path) -> None:
    s = load_scenario(path)
    for design in s.designs:
        memo, plain = expected_activity(s, design), _Unrolled(s, design).solve()
        assert memo.keys() == plain.keys()
        for key, value in plain.items():
            assert memo[key] == pytest.approx(value, rel=1e-12, abs=1e-15), (design, key)
