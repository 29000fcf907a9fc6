"""A single stage against the exact solution of its queue.

With Poisson(λ) referrals each day and c slots each day, the end-of-day waiting list is the
Markov chain X' = max(X + A - c, 0). We solve its stationary distribution numerically and
check the simulated mean list size and mean wait against it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.model.pathway import simulate
from tests.conftest import scenario_from, single_stage


def exact_mean_list(lam: float, c: int, states: int = 2000) -> float:
    """Stationary mean of X' = max(X + A - c, 0), A ~ Poisson(lam), by solving πP = π."""
    a = stats.poisson.pmf(np.arange(states + c + 1), lam)
    a[-1] += 1.0 - a.sum()  # the tail beyond the table joins the last entry
    P = np.zeros((states, states))
    for x in range(states):
        nxt = np.minimum(np.maximum(x + np.arange(len(a)) - c, 0), states - 1)
        np.add.at(P[x], nxt, a)
    A = P.T - np.eye(states)
    A[-1, :] = 1.0
    b = np.zeros(states)
    b[-1] = 1.0
    pi = np.linalg.solve(A, b)
    return float(pi @ np.arange(states))


@pytest.mark.parametrize(("lam", "c"), [(5.0, 10), (8.0, 10), (9.0, 10), (4.0, 5)])  # loads 0.5, 0.8, 0.9, 0.8
def test_single_stage_matches_markov_chain(lam: float, c: int) -> None:
    """Mean list size and mean wait (Little's law, L/λ) within the simulation's 99% interval."""
    s = scenario_from(single_stage(lam, c))
    lists, waits = [], []
    for rep in range(8):
        rows = simulate(s, "fragmented", rep)
        lists.append(np.mean([r["physio_list_mean"] for r in rows]))
        waits.append(np.mean([r["physio_queue_wait_mean_days"] for r in rows]))
    theory_list = exact_mean_list(lam, c)
    for values, theory in ((lists, theory_list), (waits, theory_list / lam)):
        mean, se = np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))
        half = stats.t.ppf(0.995, len(values) - 1) * se
        assert abs(mean - theory) <= half, f"simulated {mean:.3f} ± {half:.3f}, theory {theory:.3f}"


def test_markov_chain_solver_agrees_with_a_known_case() -> None:
    """Sanity check of the oracle: with c = 1 it is the M/D/1-like slotted queue (Bailey)."""
    # With c = 1, X' = max(X + A - 1, 0); for this chain E[X] = λ²/(2(1-λ)) (slotted M/D/1)
    lam = 0.6
    assert exact_mean_list(lam, 1, states=400) == pytest.approx(lam**2 / (2 * (1 - lam)), rel=1e-6)


def test_no_capacity_grows_list_by_its_arrivals() -> None:
    """A stage with no slots at all keeps everyone referred to it."""
    raw = single_stage(3.0, 0)
    raw["run"]["warmup_days"] = 0
    raw["run"]["years"] = 1
    rows = simulate(scenario_from(raw), "fragmented", 0)
    r = rows[0]
    assert r["physio_first"] == 0
    assert r["physio_waiting_end"] == r["referrals"] == r["physio_arrivals"]


def test_ample_capacity_means_no_wait() -> None:
    """With far more slots than referrals nobody waits past the day they are referred."""
    rows = simulate(scenario_from(single_stage(3.0, 60)), "fragmented", 0)
    assert all(r["physio_queue_wait_mean_days"] == 0 for r in rows)
    assert all(r["physio_list_mean"] == 0 for r in rows)


def test_nhsrwaitinglist_relations_at_moderate_load() -> None:
    """Load = λ/μ is the share of slots used; the list is λ times the mean wait (Little)."""
    from sim.analysis.diagnostics import target_queue_size

    lam, c = 7.0, 10  # load 0.7
    s = scenario_from(single_stage(lam, c))
    rows = [r for rep in range(4) for r in simulate(s, "fragmented", rep)]
    used = np.mean([r["physio_first"] for r in rows]) / (365 * c)
    assert used == pytest.approx(lam / c, rel=0.02)
    L = np.mean([r["physio_list_mean"] for r in rows])
    W = np.mean([r["physio_queue_wait_mean_days"] for r in rows])
    assert pytest.approx(lam * W, rel=0.03) == L
    # the target-list rule is Little's law in weeks: a mean wait of T/f weeks means a list of λT/f
    weeks = W / 7
    assert target_queue_size(lam * 7, 4 * weeks) == pytest.approx(L, rel=0.03)


def test_zero_demand_gives_no_activity_and_no_cost() -> None:
    from sim.runs.experiment import run_replications
    from tests.conftest import bundled

    s = bundled("run.years=1", "run.warmup_days=30", "demand.referrals_per_year=0", "demand.outside_contract.per_year=0")
    t = run_replications(s, ["fragmented", "prime"], 1)
    activity = [c for c in t.columns if c.endswith(("_first", "_followup", "_dna")) or c.startswith("surgeries")]
    assert (t[activity].fillna(0) == 0).all().all()
    frag = t[t.design == "fragmented"]
    # tariff providers cost nothing; block contracts are still paid (they are fixed sums)
    assert (frag["tariff_value_gbp"] == 0).all()
    blocks = sum(p.block_gbp for p in s.finance.providers.values() if p.payment == "block")
    assert frag["commissioner_cost_gbp"].iloc[0] == pytest.approx(blocks)
    assert (t["gp_cost_gbp"] == 0).all()
