"""Counts drawn from one uniform number: exact for every mean the schema accepts.

Contacts per course, GP waits, lengths of stay and post-operative follow-ups are drawn by
:class:`sim.model.draws.CountTable`. A table built by the Poisson recursion from
``exp(-mean)`` underflows past a mean of about 745 and silently gives a constant; these
tests hold the table to its mean everywhere up to the schema's bounds (and well past them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.draws import CountTable
from sim.scenario.demand import GP
from sim.scenario.stages import Stage
from sim.scenario.surgery import Surgery

MEANS = st.floats(min_value=0.0, max_value=20_000.0, allow_nan=False, allow_infinity=False)


@given(mean=MEANS, offset=st.sampled_from([0, 1]))
@settings(max_examples=150, deadline=None)
def test_the_table_has_the_mean_and_variance_it_was_given(mean: float, offset: int) -> None:
    mean = max(mean, float(offset))
    pmf = np.array(CountTable(mean, offset).pmf())
    k = np.arange(len(pmf)) + offset
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (pmf >= 0).all()
    assert float(k @ pmf) == pytest.approx(mean, rel=1e-9, abs=1e-9)
    variance = float(((k - mean) ** 2) @ pmf)
    assert variance == pytest.approx(mean - offset, rel=1e-6, abs=1e-6)  # Poisson: variance = mean above the offset


@given(mean=MEANS, offset=st.sampled_from([0, 1]), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_the_sample_mean_of_drawn_counts_matches_the_parameter(mean: float, offset: int, seed: int) -> None:
    mean = max(mean, float(offset))
    table = CountTable(mean, offset)
    n = 4_000
    draws = np.array([table(u) for u in np.random.default_rng(seed).random(n)])
    sd = math.sqrt(max(mean - offset, 0.0))
    assert abs(draws.mean() - mean) <= 5 * sd / math.sqrt(n) + 1e-9, f"mean {mean}: sample mean {draws.mean()}"
    assert draws.min() >= offset


@pytest.mark.parametrize("mean", [745.0, 760.0, 800.0, 5_000.0])
def test_large_means_are_not_clamped(mean: float) -> None:
    """The old table gave exactly 1,000 for every mean from about 760 up."""
    table = CountTable(mean, offset=1)
    draws = [table(u) for u in np.linspace(0.001, 0.999, 999)]
    assert np.mean(draws) == pytest.approx(mean, rel=0.01)
    assert len(set(draws)) > 50


@pytest.mark.parametrize(
    ("model", "key", "offset"),
    [(GP, "wait_days", 1), (Surgery, "los_joint_days", 1), (Surgery, "los_other_days", 1),
     (Surgery, "postop_followups", 0), (Stage, "contacts_per_episode", 1)],
)  # fmt: skip
def test_every_count_the_schema_accepts_is_drawn_with_its_mean(model, key: str, offset: int) -> None:
    """Across each count key's whole accepted range, up to its stated upper bound."""
    field = model.model_fields[key]
    high = next(m.le for m in field.metadata if getattr(m, "le", None) is not None)
    low = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), 0.0)
    for mean in np.linspace(low, high, 25):
        pmf = np.array(CountTable(float(mean), offset).pmf())
        assert float((np.arange(len(pmf)) + offset) @ pmf) == pytest.approx(mean, rel=1e-9), f"{key} = {mean}"


def test_infinity_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        CountTable(math.inf, offset=1)
