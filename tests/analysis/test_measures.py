"""One set of names for what a command watches: every numeric column a run writes and every
measure of the RTT returns, read the same way by ``target``, ``sweep`` and ``--precision``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.analysis import measures
from sim.base.metrics import interval
from sim.rtt.summary import per_replication
from sim.runs.experiment import relative_half_width, run_batch
from sim.scenario.loading import load_scenario
from tests.conftest import BEDFORDSHIRE

T_AND_O = "rtt_110_incomplete_within_18w_pct"


def test_the_names_hold_the_columns_and_each_function_s_returns() -> None:
    s = load_scenario(BEDFORDSHIRE)
    names = measures.names(s, ["fragmented"])
    assert {"rtt_incomplete_within_18w_pct", "commissioner_cost_gbp", T_AND_O, "rtt_410_admitted_median_weeks"} <= set(names)
    assert "design" not in names  # text
    assert measures.check("rtt_110_incomplete_within_18w_pct", s, ["prime"]) == T_AND_O
    with pytest.raises(measures.MeasureError, match="nearest: rtt_110_incomplete_within_18w_pct"):
        measures.check("rtt_110_incomplete_within_18", s, ["prime"])
    with pytest.raises(measures.MeasureError, match="by treatment function: rtt_110_incomplete_within_18w_pct"):
        measures.check("nosuch", s, ["prime"])


@pytest.mark.slow
def test_precision_reads_a_measure_of_the_returns(small: Path) -> None:
    """The widest half-width of T&O's share within 18 weeks, from the returns pooled over the
    horizon, is what the precision rule stops on."""
    s = load_scenario(small, ["run.years=1", "run.warmup_days=30"])
    result = run_batch(s, ["fragmented"], 3, uncertainty=False)
    wide = per_replication(result.returns)
    values = wide[wide["year"] == "all"].sort_values("replication")[T_AND_O].to_numpy()
    assert len(values) == 3 and np.isfinite(values).all()
    mean, low, high, _ = interval(values)
    assert relative_half_width(result.table, T_AND_O, result.returns) == pytest.approx((high - low) / 2 / abs(mean))
    assert np.array_equal(measures.values(result.table, result.returns, T_AND_O, "fragmented", "all"), values)
    column = measures.values(result.table, result.returns, "referrals", "fragmented", 1)
    assert np.array_equal(column, result.table.sort_values("replication")["referrals"].to_numpy(dtype=float))
    loose = run_batch(s, ["fragmented"], 6, uncertainty=False, precision=10.0, metric=T_AND_O, first_check=2, step=1)
    assert loose.precision_met and loose.replications == 2
