"""Expected load by contract year (the traffic equations on each replication's inputs), and the
services it finds over capacity in some replications only."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.diagnostics import expected_loads, overload_warnings, overloaded_paths
from sim.analysis.flows import stage_load
from sim.model.capacity import effective_weekly
from sim.runs.tasks import Task, run_task
from tests.conftest import AT_CAPACITY_SET, bundled


def test_year_one_is_the_validate_load_and_later_years_grow_as_referrals_do() -> None:
    s = bundled("demand.growth=0.08", "demand.outside_contract.per_year=0", AT_CAPACITY_SET)  # one flow, one growth rate
    loads = expected_loads(s, "fragmented")
    g = 0.08
    first = (1 + g - 1) / math.log1p(g)  # the mean of (1 + g) ** t over the first year
    for stage, asked in stage_load(s, "fragmented").items():
        assert loads[stage][0] == pytest.approx(asked * first / effective_weekly(s, stage, "fragmented"), rel=1e-12)
        caps = np.array([effective_weekly(s, stage, "fragmented", y) for y in range(1, s.run.years + 1)])
        assert np.ptp(caps) > 0, "bank holidays differ from year to year"
        np.testing.assert_allclose(np.array(loads[stage]) * caps / loads[stage][0] / caps[0], (1 + g) ** np.arange(s.run.years))


@pytest.mark.slow
def test_the_growth_factor_is_the_model_s_referrals() -> None:
    """A wrong year (the end of the year, say, not its mean) is 4% out at 8% growth."""
    s = bundled("demand.growth=0.08", "run.years=3", "run.warmup_days=0")
    rows = pd.DataFrame(run_task(s, Task(0, 0, "fragmented"), uncertainty=False).rows)
    loads = expected_loads(s, "fragmented")
    for year, referrals in zip(rows["year"], rows["referrals"], strict=True):
        expected = s.demand.referrals_per_year * ((1.08**year - 1.08 ** (year - 1)) / math.log(1.08))
        assert referrals == pytest.approx(expected, rel=0.015), year
    assert {"physio_expected_load", "theatre_expected_load"} <= set(rows.columns)
    assert rows["physio_expected_load"].tolist() == pytest.approx(loads["physio"])


def _table(loads: dict[int, list[float]], drawn: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"design": "fragmented", "replication": r, "year": y + 1, "physio_expected_load": load, "param.x": drawn[r],
             "param.same": 1.0, "triage_expected_load": np.nan}
            for r, by_year in loads.items() for y, load in enumerate(by_year)
        ]
    )  # fmt: skip


def test_replications_over_capacity_are_found_with_the_input_behind_them() -> None:
    rng = np.random.default_rng(1)
    x = {r: float(v) for r, v in enumerate(rng.uniform(2.5, 5.0, 10))}
    loads = {r: [0.22 * x[r] * 1.04**y for y in range(5)] for r in x}  # over 1 where 0.22 x 1.04^y reaches it
    (found,) = overloaded_paths(_table(loads, x))
    over = [r for r in x if max(loads[r]) >= 1]
    assert 0 < len(over) < 10
    assert (found.design, found.stage, found.over, found.replications) == ("fragmented", "physio", len(over), 10)
    assert found.year == min(y + 1 for r in over for y, v in enumerate(loads[r]) if v >= 1)
    assert found.peaks == (min(max(loads[r]) for r in over), max(max(loads[r]) for r in over))
    assert found.driver == "x"
    assert found.driver_over == (min(x[r] for r in over), max(x[r] for r in over))
    text, note = overload_warnings([found])
    assert f"fragmented: physio over capacity in {len(over)} of 10 replications from year {found.year}" in text
    assert f"; x {min(x[r] for r in over):,.3g}-{max(x[r] for r in over):,.3g} there" in text
    assert "grows without limit" in note


def test_none_over_or_all_over_on_average_is_left_to_the_other_checks() -> None:
    x = {r: float(r) for r in range(10)}
    assert overloaded_paths(_table({r: [0.5, 0.6] for r in x}, x)) == []
    assert overloaded_paths(_table({r: [1.2, 1.3] for r in x}, x)) == []
