"""Same scenario and seed, same numbers; both designs see the same patients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from scipy import stats

from sim.base.streams import Streams
from sim.model.draws import GP, ROUTE, SURGERY
from sim.model.pathway import Pathway, simulate
from sim.model.patient import Patient
from sim.model.referrals import draw_referrals
from sim.runs.experiment import run_replications
from sim.scenario.loading import load_scenario
from tests.conftest import ROOT, bundled

SHORT = ("run.years=1", "run.warmup_days=90")  # of the scaled-down scenario (conftest.small) where size does not matter
UNFITTED = ("designs.prime.stage_overrides={}",)


def test_same_seed_same_rows(small: Path) -> None:
    s = load_scenario(small, list(SHORT))
    assert simulate(s, "prime", 2) == simulate(s, "prime", 2)


def test_different_seed_or_replication_differs(small: Path) -> None:
    s = load_scenario(small, list(SHORT))
    other = load_scenario(small, [*SHORT, "run.seed=99"])
    a = simulate(s, "fragmented", 0)[0]
    assert a != simulate(other, "fragmented", 0)[0]
    assert a != simulate(s, "fragmented", 1)[0]


@pytest.mark.slow
def test_processes_do_not_change_results(small: Path) -> None:
    """One process or two, and whatever order tasks finish in: the same table, row for row."""
    s = load_scenario(small, list(SHORT))
    one = run_replications(s, ["fragmented", "prime"], 3, jobs=1)
    two = run_replications(s, ["fragmented", "prime"], 3, jobs=2)
    pdt.assert_frame_equal(one, two)


@pytest.mark.slow
def test_the_hash_seed_does_not_change_results(small: Path) -> None:
    """Set and dict order never leak into the numbers: two interpreters with different hash seeds."""
    code = (
        "from sim.scenario.loading import load_scenario; from sim.runs.experiment import run_replications; "
        f"print(run_replications(load_scenario({str(small)!r}, {list(SHORT)!r}), ['fragmented', 'prime'], 1)"
        ".to_csv(index=False))"
    )
    tables = [
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}).stdout
        for seed in ("1", "2")
    ]  # fmt: skip
    assert tables[0] and tables[0] == tables[1]


@pytest.mark.slow
def test_replication_does_not_depend_on_others(small: Path) -> None:
    """Replication 2 alone equals replication 2 of a batch."""
    s = load_scenario(small, list(SHORT))
    batch = run_replications(s, ["prime"], 3, jobs=1)
    alone = pd.DataFrame(simulate(s, "prime", 2))
    got = batch[batch["replication"] == 2].reset_index(drop=True)[alone.columns]
    pdt.assert_frame_equal(got, alone, check_dtype=False)


def test_common_random_numbers_same_patients(small: Path) -> None:
    """Both designs draw identical referrals: days, conditions, needs, priorities."""
    s = load_scenario(small, list(SHORT))
    frag, prime = Pathway(s, "fragmented", 4), Pathway(s, "prime", 4)
    a = draw_referrals(s, frag.streams, frag.first_day, frag.days)
    b = draw_referrals(s, prime.streams, prime.first_day, prime.days)
    assert a == b
    rows_f, rows_p = frag.run(), prime.run()
    assert [r["referrals"] for r in rows_f] == [r["referrals"] for r in rows_p]


def test_streams_are_independent_of_each_other() -> None:
    """Drawing more from one purpose does not shift another's numbers."""
    a, b = Streams(5, 0), Streams(5, 0)
    a.rng["patients"].random(10_000)
    assert (a.rng["arrivals"].random(5) == b.rng["arrivals"].random(5)).all()
    assert not (a.rng["backlog"].random(5) == b.rng["self_referral"].random(5)).any()


def test_a_patients_streams_depend_on_key_purpose_place_and_episode_only() -> None:
    """Two patients with one key draw the same numbers for each purpose and place, whatever
    else either drew first; a different place, episode or purpose gives other numbers."""
    a, b = Patient(1, 0, "surgical", False, 0, 12345, 0.1, 0.2, 0.3), Patient(9, 2, "physio", True, 7, 12345, 0.5, 0.5, 0.5)
    for _ in range(7):
        a.u(ROUTE), a.u(GP)
    a.arrive(3)
    b.arrive(3)
    assert [a.here_u() for _ in range(5)] == [b.here_u() for _ in range(5)]
    assert a.u(SURGERY) == b.u(SURGERY)
    b.arrive(3)  # a second episode at the same place
    a.arrive(4)
    firsts = {a.here_u(), b.here_u(), Patient(2, 0, "physio", False, 0, 12346, 0, 0, 0).u(ROUTE), a.u(ROUTE), a.u(GP)}
    assert len(firsts) == 5


def test_keyed_uniforms_are_uniform_and_uncorrelated() -> None:
    """The keyed streams pass simple checks: uniform in every decile over many keys, and no
    correlation between successive draws, between places, or between neighbouring keys."""
    n = 20_000
    first, second, other_place, neighbour = [], [], [], []
    for key in range(n):  # the worst case: consecutive keys
        p, q = Patient(0, 0, "physio", False, 0, key, 0, 0, 0), Patient(0, 0, "physio", False, 0, key + 1, 0, 0, 0)
        p.arrive(2)
        q.arrive(2)
        first.append(p.here_u())
        second.append(p.here_u())
        neighbour.append(q.here_u())
        p.arrive(3)
        other_place.append(p.here_u())
    x = np.array(first)
    assert stats.chisquare(np.histogram(x, bins=10, range=(0, 1))[0]).pvalue > 1e-3
    for y in (second, other_place, neighbour):
        assert abs(np.corrcoef(x, y)[0, 1]) < 4 / np.sqrt(n)


def _first_orthopaedic_episodes(design: str, scenario) -> dict[int, str]:
    """Patient key -> how their first orthopaedic episode ended: listed or not."""
    out: dict[int, str] = {}

    class Audit(Pathway):
        def move(self, p, to):
            # listed for an operation (a day-case procedure is the clinic's treatment, at its own share)
            if to == "theatre" and p.origin == "orthopaedics" and p.episodes_at(ortho) == 1 and not p.procedure:
                out.setdefault(p.key, "listed")
            super().move(p, to)

        def episode_ended(self, place, p, day):
            if place == "orthopaedics" and p.episodes_at(ortho) == 1 and p.phase == 0:
                out.setdefault(p.key, "not listed")
            super().episode_ended(place, p, day)

    ortho = list(scenario.stages).index("orthopaedics")
    Audit(scenario, design, 3).run()
    return out


@pytest.mark.slow
def test_the_same_patient_gets_the_same_listing_decision_in_both_designs() -> None:
    """Where a patient reaches the orthopaedic clinic in both designs, the surgeon's decision
    at their first episode there is the same: it draws from the patient's own stream."""
    s = bundled("run.years=1", "run.warmup_days=120")
    frag = _first_orthopaedic_episodes("fragmented", s)
    prime = _first_orthopaedic_episodes("prime", s)
    both = set(frag) & set(prime)
    assert len(both) > 1000
    assert sum(frag[k] == "listed" for k in both) > 300
    assert all(frag[k] == prime[k] for k in both)


@pytest.mark.slow
def test_common_random_numbers_sharpen_the_difference() -> None:
    """Paired by replication, design differences vary less than with independent streams.

    Without the prime's fitted clinics and theatre (``stage_overrides``): a theatre working at
    capacity does the same number of operations whoever is listed, and weeks of delay in one
    design move operations out of the other's year, which both hide the pairing."""
    s = bundled(*SHORT, *UNFITTED)
    reps = 8
    t = run_replications(s, ["fragmented", "prime"], reps, jobs=2)
    f = t[t.design == "fragmented"].set_index("replication")
    p = t[t.design == "prime"].set_index("replication")
    independent = run_replications(bundled(*SHORT, *UNFITTED, "run.seed=12345"), ["prime"], reps, jobs=2)
    independent = independent.set_index("replication")
    assert (p["referrals"] - f["referrals"]).abs().max() == 0
    for metric in ("joint_replacements", "surgeries_inpatient"):
        paired = (p[metric] - f[metric]).std()
        unpaired = (independent[metric] - f[metric]).std()
        assert paired < unpaired, metric
