"""The switch-over: a design takes over the patients of the design it replaces, then mobilises."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis.switchover import blind_routing, hand_over, ramp, scaled_slots, simulate_switch_over
from sim.analysis.switchover_months import months_to_settle, path
from sim.model.pathway import Pathway
from sim.model.patient import NO_CLOCK
from sim.scenario.loading import ScenarioError, with_switch_over
from tests.conftest import AT_CAPACITY_SET, BEDFORDSHIRE, bundled
from tests.model.test_conservation import AuditedPathway

WARMUP = 150
FULL_STRENGTH = ("designs.prime.mobilisation.capacity_from=1", "designs.prime.mobilisation.triage_accuracy_from=1")
"""The bundled prime design mobilises over a year: these take it over at full strength."""


def _at_switch(old_design: str, new_design: str, *overrides: str) -> tuple[Pathway, Pathway, dict[int, tuple[str, float]]]:
    """The old design run to the switch, its census then, and the new design after the hand-over."""
    s = bundled("run.years=1", f"run.warmup_days={WARMUP}", *overrides)
    old = Pathway(s, old_design, 2)
    old.env.run(until=WARMUP)
    before = {p.pid: (p.at, p.clock) for p in old.census()}
    new = Pathway(s, new_design, 2, start=WARMUP, takes_over=True)
    hand_over(old, new, WARMUP)
    return old, new, before


@pytest.mark.parametrize(("old_design", "new_design"), [("fragmented", "prime"), ("prime", "fragmented")])
def test_every_patient_carries_over_with_their_clock(old_design: str, new_design: str) -> None:
    """Everyone in the old system on its last day is in the new one on its first, once, with the
    same RTT clock; those at a service the new design does not run are now at one it does."""
    old, new, before = _at_switch(old_design, new_design)
    after = Counter(p.pid for p in new.census())
    assert before, "nobody to carry over"
    assert max(after.values()) == 1, "a patient is in two places at once"
    assert set(after) == set(before), "a patient was lost or made in the switch-over"
    gone = set(old.stages) - set(new.stages)
    moved = {pid for pid, (at, _) in before.items() if at in gone}
    clocks = {p.pid: p.clock for p in new.census()}
    running = {pid for pid, (_, clock) in before.items() if clock != NO_CLOCK}
    assert all(clocks[pid] == before[pid][1] for pid in running), "a running clock changed"
    assert all(clocks[pid] == NO_CLOCK for pid in set(before) - running - moved), "a clock started where nobody moved"
    # re-referred without a clock (from a service outside the RTT rules) to a consultant-led one: a clock starts that day
    assert all(clocks[pid] in (NO_CLOCK, WARMUP) for pid in moved - running)
    assert new.counts.created - new.counts.discharged == len(after)
    assert {p.pid for p in new.rtt.running()} >= running
    assert all(0 <= p.function < len(new.rtt.functions) for p in new.rtt.running())
    if old_design == "prime":  # triage and the community clinic close: their patients are re-referred
        assert moved
    places = {p.pid: p.waiting_at for p in new.census()}
    indices = {c.index for c in new.stages.values()} | {-1, -2}  # a service, not waiting, or the surgical list
    assert all(places[pid] in indices for pid in moved)


def test_a_switch_over_from_a_backlog_hands_over_each_patient_once() -> None:
    """From a published-style backlog and no warm-up, the old design is seeded and hands over at
    once: the new design has exactly those patients, not a second copy of the backlog."""
    s = bundled("run.years=1", "run.warmup_days=0", 'designs.prime.inherits="fragmented"',
                'backlog.stages.orthopaedics={"0-18" = 300, "18-52" = 80}', 'backlog.stages.theatre={"0-18" = 120}')  # fmt: skip
    m = simulate_switch_over(s, "prime", 0)
    inside = Counter(p.pid for p in m.census())
    assert len(inside) == 500 and max(inside.values()) == 1
    assert m.counts.created == 500 and m.theatre.size == 120
    m.run()


def test_lists_keep_their_order_and_days_listed() -> None:
    """A service both designs run keeps its list as it was: the same patients, days and order."""
    old, new, _ = _at_switch("fragmented", "prime")
    for name in set(old.stages) & set(new.stages):
        was = [(d, p.pid) for d, p in old.stages[name].routine if p.waiting_at == old.stages[name].index]
        now = [(d, p.pid) for d, p in new.stages[name].routine]
        assert now == was, name
    assert new.theatre.size == old.theatre.size


@pytest.mark.slow
def test_the_switch_over_runs_and_accounts_for_every_referral() -> None:
    """Through the whole run: every patient ever referred is in the system or left exactly once."""
    s = bundled("run.years=1", f"run.warmup_days={WARMUP}", 'designs.prime.inherits="fragmented"')
    m = simulate_switch_over(s, "prime", 1, model=AuditedPathway)
    rows = m.run()
    inside = {p.pid for p in m.census()}
    assert max(m.left.values()) == 1, "a patient was discharged twice"
    assert not inside & set(m.left), "a discharged patient is still in the system"
    assert m.counts.created == m.counts.discharged + len(inside)
    assert len(rows) == 1 and rows[0]["design"] == "prime"


@pytest.mark.slow
def test_without_mobilisation_the_switch_over_meets_the_steady_state_where_lists_turn_over() -> None:
    """Lists that turn over within weeks forget where they started: by the year's end the
    switch-over's triage and physio lists are the steady state's, on the same patients."""
    s = bundled("run.years=1", f"run.warmup_days={WARMUP}", 'designs.prime.inherits="fragmented"', *FULL_STRENGTH)
    switched = simulate_switch_over(s, "prime", 0)
    switched.run()
    steady = Pathway(bundled("run.years=1", f"run.warmup_days={WARMUP}"), "prime", 0)
    steady.run()
    cols = switched.recorder.monthly_columns
    last_a, last_b = switched.recorder.monthly[-1], steady.recorder.monthly[-1]
    for name in ("triage_waiting_mean", "physio_waiting_mean"):
        a, b = last_a[cols.index(name)], last_b[cols.index(name)]
        assert a == pytest.approx(b, rel=0.25, abs=30), name


# --------------------------------------------------------------------------- mobilisation


def test_the_ramp_runs_from_its_start_to_one() -> None:
    f = ramp(10, 2, 0.5, 100)
    assert f[:10] == [1.0] * 10
    assert f[10] == 0.5
    length = 2 * 365.25 / 12
    assert f[40] == pytest.approx(0.5 + 0.5 * 30 / length)
    assert f[71:] == [1.0] * 29


def test_whole_slots_over_the_ramp_add_up_to_the_ramped_share() -> None:
    capacity = [23.0 if t % 7 < 5 else 0.0 for t in range(400)]
    f = ramp(30, 6, 0.4, 400)
    out = scaled_slots(capacity, f, 30, whole=True)
    assert all(float(x).is_integer() for x in out)
    assert out[:30] == capacity[:30]
    planned = sum(c * x for c, x in zip(capacity, f, strict=True))
    assert abs(sum(out) - planned) <= 1.0
    assert out[300:] == capacity[300:]


def test_mobilising_services_start_below_their_plan() -> None:
    sets = ('designs.prime.inherits="fragmented"', "designs.prime.mobilisation.months=3",
            "designs.prime.mobilisation.capacity_from=0.5")  # fmt: skip
    s = bundled("run.years=1", f"run.warmup_days={WARMUP}", *sets)
    m = simulate_switch_over(s, "prime", 0)
    plain = Pathway(s, "prime", 0)
    for name in ("triage", "community_specialist"):  # new to the prime design: mobilised by default
        got, plan = m.stages[name].capacity, plain.stages[name].capacity
        f = ramp(WARMUP, 3, 0.5, len(plan))
        first = sum(got[WARMUP : WARMUP + 30])
        assert first == pytest.approx(sum(c * x for c, x in zip(plan[WARMUP : WARMUP + 30], f[WARMUP:], strict=False)), abs=1)
        assert first < 0.6 * sum(plan[WARMUP : WARMUP + 30])
        assert got[WARMUP + 120 :] == plan[WARMUP + 120 :]
        assert got[:WARMUP] == plan[:WARMUP]
    assert m.stages["physio"].capacity == plain.stages["physio"].capacity  # carried over at full strength


def test_blind_routing_is_the_routing_of_the_average_referral(bedfordshire) -> None:
    m = Pathway(bedfordshire, "prime", 0)
    choice = blind_routing(m)
    conds = bedfordshire.demand.conditions.values()
    mix = {n: sum(c.share * c.need.get(n, 0.0) for c in conds) for n in m.routes.routing}
    row = bedfordshire.design_routing("prime")  # with its triage's shift towards hospital
    want = {d: sum(mix[n] * row[n].get(d, 0.0) for n in row) for d in {d for r in row.values() for d in r}}
    u = (np.arange(200_000) + 0.5) / 200_000
    got = Counter(choice(x) for x in u)
    for dest, share in want.items():
        assert got[dest] / len(u) == pytest.approx(share, abs=1e-4), dest


@pytest.mark.slow
def test_a_triage_team_still_learning_routes_blind() -> None:
    """With accuracy 0 all year, triage sends patients whatever their need at the average
    referral's rates: the same share reaches each service, but the wrong patients, so many more
    must be referred on than when triage routes by need."""

    def run(*sets: str) -> Pathway:
        s = bundled("run.years=1", f"run.warmup_days={WARMUP}", 'designs.prime.inherits="fragmented"', *sets)
        m = simulate_switch_over(s, "prime", 0)
        m.run()
        return m

    def to_orthopaedics(m: Pathway) -> float:
        return m.flows[("triage", "orthopaedics")] / sum(n for (a, _), n in m.flows.items() if a == "triage")

    learning = run("designs.prime.mobilisation.months=24", "designs.prime.mobilisation.triage_accuracy_from=0")
    skilled = run(*FULL_STRENGTH)
    u = (np.arange(100_000) + 0.5) / 100_000
    blind = blind_routing(learning)
    assert to_orthopaedics(learning) == pytest.approx(sum(blind(x) == "orthopaedics" for x in u) / len(u), abs=0.02)
    assert learning.counts.onward_referrals > 1.5 * skilled.counts.onward_referrals


# --------------------------------------------------------------------------- scenario keys


@pytest.mark.parametrize(
    ("sets", "key", "words"),
    [
        (['designs.prime.inherits="nowhere"'], "designs.prime.inherits", "not a known other design"),
        (['designs.prime.inherits="prime"'], "designs.prime.inherits", "not a known other design"),
        (['designs.prime.inherits="fragmented"', 'designs.fragmented.inherits="prime"'], "inherits", "starts afresh"),
        (['designs.prime.mobilisation.services=["x-ray"]'], "designs.prime.mobilisation.services[0]", "not a known service"),
        (["designs.prime.mobilisation.capacity_from=0"], "designs.prime.mobilisation.capacity_from", "greater than 0"),
    ],
)
def test_bad_switch_over_keys_are_named(sets: list[str], key: str, words: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(*sets)
    assert key in e.value.key
    assert words in str(e.value)


def test_the_switch_over_copy_draws_what_the_design_draws(bedfordshire) -> None:
    s, name = with_switch_over(bedfordshire, "prime", "fragmented")
    assert name == "prime_from_fragmented" and s.designs[name].inherits == "fragmented"
    entry = s.uncertainty["designs.prime.routing.specialist"]
    assert "designs.prime_from_fragmented.routing.specialist" in entry["also"]
    with pytest.raises(ScenarioError, match="exists already"):
        with_switch_over(s, "prime", "fragmented")
    with pytest.raises(ScenarioError, match="not a known design"):
        with_switch_over(bedfordshire, "prime", "old")


# --------------------------------------------------------------------------- month by month


def test_the_months_to_settle_are_counted_from_the_contract_start() -> None:
    """Hand-made: the switch-over is 50% above the steady state, then 20%, then within 5% for good."""
    rows = []
    for month, excess in enumerate([0.5, 0.5, 0.2, 0.04, 0.0, 0.03], start=1):
        for rep in range(4):
            noise = (rep - 1.5) * 0.001
            for design, value in (("old", 50.0), ("new_from_old", 100 * (1 + excess + noise)), ("new", 100.0)):
                rows.append({"design": design, "replication": rep, "day": 30 * month, "rtt_incomplete": value})
    table = path(pd.DataFrame(rows), {"from": "old", "design": "new_from_old", "steady": "new"})
    assert list(table["settled"]) == [False, False, False, True, True, True]
    assert months_to_settle(table) == {"rtt_incomplete": 3}
    # a percentage settles within 1 point, not 5% of itself: 3 points off at 94% is not settled
    pct = [{**r, "rtt_incomplete_within_18w_pct": 94.0 + (3.0 if r["design"] == "new_from_old" and r["day"] <= 60 else 0.5)
            + r["replication"] * 0.01} for r in rows]  # fmt: skip
    settle = months_to_settle(path(pd.DataFrame(pct), {"from": "old", "design": "new_from_old", "steady": "new"}))
    assert settle["rtt_incomplete_within_18w_pct"] == 2
    assert table["difference"].iloc[0] == pytest.approx(50.0, abs=0.01)
    assert (table["old_design_mean"] == 50.0).all()


@pytest.mark.slow
def test_compare_switch_over_shows_the_path_and_writes_it(tmp_path, small: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["compare", str(small), "--switch-over", "--reps", "2", "--years", "1", "--jobs", "1", "--quiet",
         "--no-uncertainty", "--out", str(out), "--set", f"run.warmup_days={WARMUP}", "--report"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Switch-over: prime_from_fragmented" in result.output
    assert "Months to the steady state" in result.output
    table = pd.read_csv(out / "switch_over.csv")
    assert set(table["measure"]) >= {"rtt_incomplete", "triage_waiting", "theatre_waiting"}
    assert table["month"].max() == 12
    summary = pd.read_csv(out / "summary.csv")
    assert "prime_from_fragmented - fragmented" in set(summary["scope"])
    report = (out / "report.html").read_text()
    assert "The switch-over" in report and "takes over the patients of fragmented" in report


@pytest.mark.slow
def test_a_bid_may_take_over_the_old_system(tmp_path) -> None:
    """bid --takes-over prices the prime taking over the fragmented lists and mobilising: its first
    year triages fewer and keeps a backlog the steady state never has (the new services start at 60%)."""
    base = ["bid", str(BEDFORDSHIRE), "--bid", "24m", "--reps", "2", "--years", "1", "--no-uncertainty", "--quiet",
            "--jobs", "1", "--set", f"run.warmup_days={WARMUP}", "--set", AT_CAPACITY_SET]  # fmt: skip
    steady = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "steady")])
    switched = CliRunner().invoke(app, [*base, "--takes-over", "fragmented", "--out", str(tmp_path / "switched")])
    assert steady.exit_code == 0 and switched.exit_code == 0, switched.output
    assert 'inherits = "fragmented"' in (tmp_path / "switched" / "scenario.toml").read_text()
    a, both = (pd.read_csv(tmp_path / name / "replications.csv") for name in ("steady", "switched"))
    b = both[both["design"] == "prime_from_fragmented"].reset_index(drop=True)
    assert (b["triage_first"] < a["triage_first"]).all()
    assert (b["triage_list_mean"] > 5 * a["triage_list_mean"] + 100).all()  # the new triage team's backlog
    # the steady state runs beside it on the same patients: the bid without the takeover, paired
    beside = both[both["design"] == "prime"].reset_index(drop=True)
    pd.testing.assert_frame_equal(beside[a.columns], a, check_dtype=False)
    bad = CliRunner().invoke(app, [*base, "--takes-over", "nowhere", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "designs.prime.inherits" in bad.output and not (tmp_path / "bad").exists()
