"""Little's law, L = λW, on every waiting list of the bundled scenario."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.pathway import simulate
from tests.conftest import bundled

DAYS_PER_YEAR = 365


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_littles_law_per_stage(design: str) -> None:
    """Time-average list size equals exit rate × mean wait, for each stage and the theatre."""
    # Tighter capacity than the default so that every list is long enough to measure.
    s = bundled(
        "run.years=3",
        "demand.growth=0",
        "stages.orthopaedics.slots_per_week=850",
        "stages.physio.slots_per_week=2300",
        "surgery.slots_per_week=128",
    )
    rows = simulate(s, design, 1)
    stages = [*s.designs[design].services, "theatre"]
    checked = 0
    for st in stages:
        L = np.array([r[f"{st}_list_mean"] for r in rows])
        lam = np.array([r[f"{st}_list_exits"] for r in rows]) / DAYS_PER_YEAR
        W = np.array([r[f"{st}_queue_wait_mean_days"] for r in rows])
        if L.mean() < 5:
            continue  # too short a list for a year's edges not to matter
        checked += 1
        assert L.mean() == pytest.approx((lam * W).mean(), rel=0.05), st
    assert checked >= 2
