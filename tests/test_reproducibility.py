"""Same scenario and seed, same numbers; both designs see the same patients."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt

from sim.experiment import run_replications
from sim.model.pathway import Pathway, draw_referrals, simulate
from sim.streams import Streams
from tests.conftest import bundled

SHORT = ("run.years=1", "run.warmup_days=90")


def test_same_seed_same_rows() -> None:
    s = bundled(*SHORT)
    assert simulate(s, "prime", 2) == simulate(s, "prime", 2)


def test_different_seed_or_replication_differs() -> None:
    s = bundled(*SHORT)
    other = bundled(*SHORT, "run.seed=99")
    a = simulate(s, "fragmented", 0)[0]
    assert a != simulate(other, "fragmented", 0)[0]
    assert a != simulate(s, "fragmented", 1)[0]


def test_processes_do_not_change_results() -> None:
    """One process or two, and whatever order tasks finish in: the same table, row for row."""
    s = bundled(*SHORT)
    one = run_replications(s, ["fragmented", "prime"], 3, jobs=1)
    two = run_replications(s, ["fragmented", "prime"], 3, jobs=2)
    pdt.assert_frame_equal(one, two)


def test_replication_does_not_depend_on_others() -> None:
    """Replication 2 alone equals replication 2 of a batch."""
    s = bundled(*SHORT)
    batch = run_replications(s, ["prime"], 3, jobs=1)
    alone = pd.DataFrame(simulate(s, "prime", 2))
    got = batch[batch["replication"] == 2].reset_index(drop=True)[alone.columns]
    pdt.assert_frame_equal(got, alone, check_dtype=False)


def test_common_random_numbers_same_patients() -> None:
    """Both designs draw identical referrals: days, conditions, needs, priorities."""
    s = bundled(*SHORT)
    frag, prime = Pathway(s, "fragmented", 4), Pathway(s, "prime", 4)
    a = draw_referrals(s, frag.streams, frag.first_day, frag.days)
    b = draw_referrals(s, prime.streams, prime.first_day, prime.days)
    assert a == b
    rows_f, rows_p = frag.run(), prime.run()
    assert [r["referrals"] for r in rows_f] == [r["referrals"] for r in rows_p]


def test_streams_are_independent_of_each_other() -> None:
    """Drawing more from one purpose or service does not shift another's numbers."""
    a, b = Streams(5, 0), Streams(5, 0)
    for _ in range(10_000):
        a.decisions()
    a.for_stage("dna", 0).random(10_000)
    assert [a.contacts() for _ in range(5)] == [b.contacts() for _ in range(5)]
    assert (a.for_stage("dna", 1).random(5) == b.for_stage("dna", 1).random(5)).all()
    assert not (a.for_stage("dna", 1).random(5) == b.for_stage("dna", 2).random(5)).any()


def test_common_random_numbers_sharpen_the_difference() -> None:
    """Paired by replication, design differences vary less than with independent streams."""
    s = bundled(*SHORT)
    reps = 8
    t = run_replications(s, ["fragmented", "prime"], reps, jobs=2)
    f = t[t.design == "fragmented"].set_index("replication")
    p = t[t.design == "prime"].set_index("replication")
    independent = run_replications(bundled(*SHORT, "run.seed=12345"), ["prime"], reps, jobs=2).set_index("replication")
    assert (p["referrals"] - f["referrals"]).abs().max() == 0
    for metric in ("joint_replacements", "surgeries_inpatient"):
        paired = (p[metric] - f[metric]).std()
        unpaired = (independent[metric] - f[metric]).std()
        assert paired < unpaired, metric
