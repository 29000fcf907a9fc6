"""Capacity policies: capacity that follows demand, and managed sessions added between triggers.

On one service open every day with referrals that grow (``tests.conftest.single_stage``):
``follows_demand`` holds the load within the error its lag and review allow, and adds the slots
its plan says to within the one slot a day's rounding carries; ``managed`` holds the list between
its triggers where its maximum allows, and not where it does not; its premiums are the sessions
it ran times the premium. On the bundled scenario: a policy that never acts changes no number,
the integrator pays the premiums of the services it buys, and a design taking over another
manages its capacity from the switch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.model.policy import share_within_18w
from sim.money.prices import cost_index
from sim.runs.experiment import Task, run_batch, run_task
from sim.scenario.schema import ScenarioError
from tests.conftest import ALL_TO, bundled, scenario_from, single_stage

ARRIVALS = 40.0  # a day
GROWTH = 0.15  # a year: fast, so a fixed service is overwhelmed within the run
SERVICE = ALL_TO  # the one service


def grown(**policy: Any) -> dict[str, Any]:
    """One service at a load of 0.91 in year 1, its referrals growing 15% a year, with ``policy``."""
    raw = single_stage(ARRIVALS, 44, capacity_policy=policy or {"kind": "fixed"}, cost_per_slot_gbp=5.0)
    raw["demand"]["growth"] = GROWTH
    raw["run"]["years"] = 4
    return raw


def rows_of(raw: dict[str, Any], replications: int = 2) -> pd.DataFrame:
    s = scenario_from(raw)
    r = run_batch(s, ["fragmented"], replications, uncertainty=False)
    assert not r.errors, r.errors[0].error
    return r.table.sort_values(["replication", "year"]).reset_index(drop=True)


def year_loads(t: pd.DataFrame) -> pd.Series:
    """Referrals over the slots offered, each year (one contact each, no missed appointments)."""
    offered = 44 * 365 + t[f"{SERVICE}_slots_added"] if f"{SERVICE}_slots_added" in t else 44 * 365
    return (t[f"{SERVICE}_arrivals"] / offered).groupby(t["year"]).mean()


@pytest.mark.slow
def test_follows_demand_holds_the_load_within_the_error_of_its_lag() -> None:
    review, lag = 91, 28
    fixed = year_loads(rows_of(grown()))
    follows = rows_of(grown(kind="follows_demand", review_days=review, lag_days=lag))
    loads = year_loads(follows)
    assert fixed.iloc[-1] > 1.25  # without the policy the service is overwhelmed...
    # ...with it the load stays at year 1's, the plan at most a review and a lag behind demand
    behind = (1 + GROWTH) ** ((review + lag) / 365.25) - 1
    assert (loads / loads.iloc[0] - 1).abs().max() <= behind + 0.02, loads
    assert follows[f"{SERVICE}_waiting_end"].max() < 5 * ARRIVALS


def test_follows_demand_adds_the_slots_its_plan_says() -> None:
    """The plan, worked out by hand: from each review on the contract start's 91-day cycle, a lag
    later, the slots set times the growth of demand to the review; whole slots a day, the
    fractions carried (so within one slot of the exact sum)."""
    review, lag = 91, 28
    raw = grown(kind="follows_demand", review_days=review, lag_days=lag)
    t = rows_of(raw, replications=1)
    warmup, years = raw["run"]["warmup_days"], raw["run"]["years"]
    s = scenario_from(raw)
    start = s.run.start_date
    days = np.arange(warmup, warmup + sum((start.replace(year=start.year + y + 1) - start.replace(year=start.year + y)).days
                                           for y in range(years)))  # fmt: skip
    factor = np.ones(len(days))
    for r in range(warmup, int(days[-1]) + 1, review):
        factor[days >= r + lag] = (1 + GROWTH) ** ((r - warmup) / 365.25)
    year_of = np.searchsorted([(start.replace(year=start.year + y) - start).days + warmup for y in range(1, years)], days,
                              side="right")  # fmt: skip
    expected = pd.Series(44 * (factor - 1)).groupby(year_of).sum().to_numpy()
    cumulative = np.cumsum(t[f"{SERVICE}_slots_added"].to_numpy())
    assert np.abs(cumulative - np.cumsum(expected)).max() <= 1.0, (cumulative, np.cumsum(expected))


MANAGED = dict(kind="managed", add_at=200, remove_at=80, session_slots=14, max_sessions=15, lag_days=7, review_days=7,
               premium_per_session_gbp=400.0)  # fmt: skip
"""Two slots a day a session, up to 30 more a day; demand outgrows the 44 slots a day set in year 2
and reaches about 65 a day in year 4."""


@pytest.mark.slow
def test_managed_holds_the_list_between_its_triggers_and_pays_each_session_its_premium() -> None:
    raw = grown(**MANAGED)
    s = scenario_from(raw)
    r = run_batch(s, ["fragmented"], 2, uncertainty=False)
    assert not r.errors, r.errors[0].error
    t = r.table
    lists = r.monthly[r.monthly["year"] >= 2][f"{SERVICE}_waiting"]
    # A list stays within reach of its triggers: past add_at by at most what the excess of demand
    # brings in the week until a review and the week a session takes to start, twice over.
    excess = ARRIVALS * (1 + GROWTH) ** 4 - 44
    assert lists.max() <= MANAGED["add_at"] + 2 * 2 * 7 * excess, lists.max()
    assert lists.mean() <= MANAGED["add_at"], lists.mean()
    assert t[f"{SERVICE}_sessions_added"].iloc[-1] > 0
    assert (t[f"{SERVICE}_sessions_peak"] <= MANAGED["max_sessions"]).all()
    # two whole slots a day a session: the slots added are the sessions times the slots in each
    np.testing.assert_allclose(t[f"{SERVICE}_slots_added"], t[f"{SERVICE}_sessions_added"] * 14, rtol=1e-12)
    premium = t[f"{SERVICE}_sessions_added"] * 400.0 * cost_index(s.finance, t["year"])
    np.testing.assert_allclose(t["added_sessions_cost_gbp"], premium, rtol=1e-12)
    # its provider bears the premium and the added slots' own costs
    no_premium = run_batch(scenario_from(grown(**{**MANAGED, "premium_per_session_gbp": 0.0})), ["fragmented"], 2,
                           uncertainty=False).table  # fmt: skip
    np.testing.assert_allclose(t["provider_cost_p_gbp"] - no_premium["provider_cost_p_gbp"], premium, rtol=1e-9)
    assert (t["commissioner_cost_gbp"] == no_premium["commissioner_cost_gbp"]).all()  # paid by activity, as before


@pytest.mark.slow
def test_managed_cannot_hold_a_list_beyond_its_maximum_and_says_so() -> None:
    t = rows_of(grown(**{**MANAGED, "max_sessions": 3}))
    last = t[t["year"] == t["year"].max()]
    assert (last[f"{SERVICE}_sessions_peak"] == 3).all()
    assert last[f"{SERVICE}_waiting_end"].min() > 10 * MANAGED["add_at"]
    assert (last[f"{SERVICE}_expected_load"] > 1).all()  # demand beyond the capacity at its maximum
    held = rows_of(grown(**MANAGED))
    assert (held[f"{SERVICE}_expected_load"] < 1).all()


@pytest.mark.slow
def test_managed_on_the_share_within_18_weeks_adds_sessions_when_it_falls() -> None:
    policy = {**MANAGED, "measure": "within_18w_pct", "add_at": 95.0, "remove_at": 99.0}
    fixed = rows_of(grown(), replications=1)
    t = rows_of(grown(**policy), replications=1)
    # sessions are added only once waits pass 18 weeks, and then hold them near it: a list worked
    # in turn with 5% of it past 18 weeks sees those at its head, just past it
    assert t[f"{SERVICE}_sessions_added"].iloc[0] == 0 and t[f"{SERVICE}_sessions_added"].iloc[-1] > 0
    wait = f"{SERVICE}_first_wait_p92_days"
    assert t[wait].iloc[-1] <= 18 * 7 * 1.3, t[wait]
    assert fixed[wait].iloc[-1] > 1.5 * 18 * 7, fixed[wait]


def test_the_share_within_18_weeks_counts_waits_under_126_days() -> None:
    assert share_within_18w([], 500) == 100.0
    assert share_within_18w([500 - 125, 500 - 126, 500 - 10, 500 - 400], 500) == 50.0


SHORT = ("run.years=1", "run.warmup_days=200")
PLACES_FIXED = (
    *(f'stages.{n}.capacity_policy.kind="fixed"' for n in bundled().stages),
    'surgery.capacity_policy.kind="fixed"',
)
"""The bundled scenario's own policies switched off, place by place, so a test can set one."""


@pytest.mark.slow
def test_a_policy_that_never_acts_changes_no_number() -> None:
    """Sessions that never start leave every patient where they were: the same rows, lists and returns."""
    never = 'stages.physio.capacity_policy={kind="managed", add_at=1e7, remove_at=0, max_sessions=5}'
    base, quiet = bundled(*SHORT, *PLACES_FIXED), bundled(*SHORT, *PLACES_FIXED, never)
    for design in ("fragmented", "prime"):
        a, b = run_task(base, Task(0, 1, design)), run_task(quiet, Task(0, 1, design))
        assert a.error is None and b.error is None
        x, y = pd.DataFrame(a.rows), pd.DataFrame(b.rows)
        load = "physio_expected_load"  # against the capacity at the policy's maximum: lower
        assert (y[load] < x[load]).all()
        pd.testing.assert_frame_equal(y[x.columns].drop(columns=load), x.drop(columns=load), check_exact=True)
        assert (y["physio_sessions_added"] == 0).all() and (y["added_sessions_cost_gbp"] == 0).all()
        columns = a.traces["monthly_columns"]
        assert [row[: len(columns)] for row in b.traces["monthly"]] == a.traces["monthly"]
        assert b.traces["returns"] == a.traces["returns"]


@pytest.mark.slow
def test_run_capacity_policies_fixed_holds_every_policy_at_the_file_s_capacity() -> None:
    acting = 'stages.physio.capacity_policy={kind="managed", add_at=1, remove_at=0, max_sessions=5}'
    base, held = bundled(*SHORT, *PLACES_FIXED), bundled(*SHORT, *PLACES_FIXED, acting, "run.capacity_policies=fixed")
    assert not held.capacity_policies_act
    a, b = run_task(base, Task(0, 0, "prime")), run_task(held, Task(0, 0, "prime"))
    pd.testing.assert_frame_equal(pd.DataFrame(a.rows), pd.DataFrame(b.rows), check_exact=True)


@pytest.mark.slow
def test_the_integrator_pays_the_premiums_of_the_services_it_buys() -> None:
    acting = 'stages.physio.capacity_policy={kind="managed", add_at=1, remove_at=0, max_sessions=3, lag_days=0, '
    paid = bundled(*SHORT, *PLACES_FIXED, acting + "premium_per_session_gbp=750}")
    free = bundled(*SHORT, *PLACES_FIXED, acting + "premium_per_session_gbp=0}")
    a, b = run_task(paid, Task(0, 0, "prime"), uncertainty=False), run_task(free, Task(0, 0, "prime"), uncertainty=False)
    ta, tb = pd.DataFrame(a.rows), pd.DataFrame(b.rows)
    premium = ta["physio_sessions_added"] * 750 * cost_index(paid.finance, ta["year"])
    assert (premium > 0).all()
    provider = paid.design_stages("prime")["physio"].provider
    column = f"cost_provider_{provider}_gbp"
    np.testing.assert_allclose(ta[column] - tb[column], premium, rtol=1e-9)
    np.testing.assert_allclose(ta["prime_cost_gbp"] - tb["prime_cost_gbp"], premium, rtol=1e-9)
    np.testing.assert_allclose(ta["added_sessions_cost_gbp"], premium, rtol=1e-12)


@pytest.mark.slow
def test_a_design_taking_over_manages_its_capacity_from_the_switch() -> None:
    acting = 'designs.prime.stage_overrides.triage.capacity_policy={kind="managed", add_at=1, remove_at=0, max_sessions=4}'
    s = bundled(*SHORT, *PLACES_FIXED, 'designs.prime.inherits="fragmented"', acting)
    o = run_task(s, Task(0, 0, "prime"))
    assert o.error is None, o.error
    t = pd.DataFrame(o.rows)
    assert (t["triage_sessions_added"] > 0).all() and t["triage_sessions_peak"].max() == 4
    frag = pd.DataFrame(run_task(s, Task(0, 0, "fragmented")).rows)
    assert "triage_sessions_added" not in frag and (frag["physio_sessions_added"] == 0).all()  # no policy acts there


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ('stages.physio.capacity_policy={kind="managed", max_sessions=2}', "needs add_at and remove_at"),
        ('stages.physio.capacity_policy={kind="managed", add_at=5, remove_at=9, max_sessions=2}', "must be below add_at"),
        ('stages.physio.capacity_policy={kind="managed", add_at=5, remove_at=1}', "max_sessions of 1 or more"),
        (
            'stages.physio.capacity_policy={kind="managed", measure="within_18w_pct", add_at=95, remove_at=90, max_sessions=2}',
            "must be above add_at",
        ),
        ('stages.physio.capacity_policy={kind="follows_demand", from_year=9}', "after the run's last contract year"),
        ('surgery.capacity_policy={kind="follows_demand"}', "already follows demand through designs.fragmented"),
        ('stages.physio.capacity_policy={kind="sometimes"}', "capacity_policy.kind"),
    ],
)
def test_bad_policies_are_named_at_their_key(setting: str, problem: str) -> None:
    with pytest.raises(ScenarioError, match="capacity_policy") as e:
        bundled(setting)
    assert problem in str(e.value)


@pytest.mark.slow
def test_target_searches_a_managed_policy_s_maximum_and_its_triggers() -> None:
    """The least sessions a week that hold the list's waits, in whole sessions: one fewer misses."""
    from sim.planning.target import Target, at_factor, capacity_values, peak_load, search
    from sim.runs.options import MAX_LOAD

    run = {"replications": 2}
    s = scenario_from(grown(**{**MANAGED, "max_sessions": 4}))
    s = s.model_copy(update={"run": s.run.model_copy(update=run)})
    goal = Target(f"{SERVICE}_first_wait_p92_days", 30.0, at_least=False, year=4, probability=1.0)
    answer, trials = search(s, "fragmented", [SERVICE], goal, uncertainty=False, searched="maximum", tolerance=0.1)
    key = f"stages.{SERVICE}.capacity_policy.max_sessions"
    assert answer is not None and answer.met
    found = answer.slots[key]
    assert found == int(found) and found > 4  # four sessions cannot hold demand that outgrows them
    if answer.at_floor:  # one session fewer would put the list at a load over the maximum
        fewer = at_factor(s, capacity_values(s, "fragmented", [SERVICE], "maximum"), (found - 1) / 4)
        assert peak_load(fewer, "fragmented", [SERVICE]).load >= MAX_LOAD - 5e-4
    else:  # one fewer misses the target
        assert any(not t.met and t.slots[key] == found - 1 for t in trials)
    # a lower trigger acts sooner: a factor above 1 divides the list triggers
    s = scenario_from(grown(**MANAGED))
    s = s.model_copy(update={"run": s.run.model_copy(update=run)})
    answer, trials = search(s, "fragmented", [SERVICE], Target(f"{SERVICE}_list_mean", 100.0, at_least=False, year=4),
                            uncertainty=False, searched="trigger", tolerance=0.1)  # fmt: skip
    assert answer is not None
    add = answer.slots[f"stages.{SERVICE}.capacity_policy.add_at"]
    remove = answer.slots[f"stages.{SERVICE}.capacity_policy.remove_at"]
    assert add < MANAGED["add_at"] and remove / add == pytest.approx(MANAGED["remove_at"] / MANAGED["add_at"])


def test_an_override_sets_a_policy_key_by_key() -> None:
    s = bundled(
        'stages.orthopaedics.capacity_policy={kind="managed", add_at=500, remove_at=300, max_sessions=8, session_slots=12}',
        "designs.prime.stage_overrides.orthopaedics.capacity_policy={add_at=900, remove_at=700}",
    )
    prime, fragmented = s.capacity_policy("prime", "orthopaedics"), s.capacity_policy("fragmented", "orthopaedics")
    assert (prime.kind, prime.add_at, prime.remove_at, prime.max_sessions) == ("managed", 900, 700, 8)
    assert (fragmented.add_at, fragmented.remove_at) == (500, 300)


@pytest.mark.slow
def test_a_drawn_policy_setting_is_ranked_with_the_other_drawn_inputs() -> None:
    """The premium drawn per replication moves the prime's costs: the bid's tornado ranks it."""
    from sim.money.bid import BidPaths, drawn_sensitivity

    # key by key: a whole table set by hand would fix the values drawn below it
    acting = [f"stages.physio.capacity_policy.{k}" for k in ('kind="managed"', "add_at=1", "remove_at=0", "max_sessions=3")]
    draw = 'uncertainty."stages.physio.capacity_policy.premium_per_session_gbp"={dist="uniform", low=0, high=20000}'
    s = bundled(*SHORT, *PLACES_FIXED, *acting, draw, "run.replications=4")
    r = run_batch(s, ["prime"], 4)
    assert not r.errors, r.errors[0].error
    premium = r.table.groupby("replication")["param.stages.physio.capacity_policy.premium_per_session_gbp"].first()
    assert premium.nunique() == 4
    ranked = drawn_sensitivity(BidPaths(r.table, s, "prime"), 27e6)
    assert "stages.physio.capacity_policy.premium_per_session_gbp" in set(ranked["input"])


def test_what_the_policies_did_is_said_per_design_and_place() -> None:
    from sim.analysis.diagnostics import policy_lines

    s = bundled()
    rows = []
    for rep in (0, 1):
        row = {"design": "prime", "replication": rep, "year": 1}
        for place in [*s.design_stages("prime"), "theatre"]:
            row |= {f"{place}_slots_added": 0.0, f"{place}_sessions_added": 0.0, f"{place}_sessions_peak": 0}
        row |= {"theatre_slots_added": 50.0 * (rep + 1), "theatre_sessions_added": 10.0 * (rep + 1),
                "theatre_sessions_peak": 9 if rep else 3}  # fmt: skip
        rows.append(row)
    lines = policy_lines(pd.DataFrame(rows), s)
    premium = s.capacity_policy("prime", "theatre").premium_per_session_gbp
    assert lines[0] == (f"prime: theatre added 15 sessions a year on average (75 slots; premiums £{15 * premium:,.0f} a year "
                        "at year-1 prices), up to 9 a week; its maximum of 9 reached in 1 of 2 replications")  # fmt: skip
    assert lines[1].startswith("prime: no capacity added at triage, physio")
