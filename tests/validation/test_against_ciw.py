"""msksim against Ciw on the same network: mean waits and throughput agree within the
combined 99% interval of the two simulations (see ``network.py`` for the correspondence)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.pathway import simulate
from sim.scenario.loading import validate_raw
from tests.validation.network import ciw_measures, combined_halfwidth, msksim_measures, msksim_scenario

pytest.importorskip("ciw")
REPS = 10


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    s = validate_raw(msksim_scenario(), "validation network")
    ours = [msksim_measures(simulate(s, "prime", r)) for r in range(REPS)]
    theirs = [ciw_measures(1000 + r) for r in range(REPS)]
    keys = ours[0].keys()
    return ({k: np.array([o[k] for o in ours]) for k in keys}, {k: np.array([t[k] for t in theirs]) for k in keys})


@pytest.mark.parametrize("stage", ["triage", "physio", "orthopaedics", "theatre"])
@pytest.mark.parametrize("measure", ["wait", "throughput"])
def test_agrees_with_ciw(both, stage: str, measure: str) -> None:
    ours, theirs = both
    key = f"{stage}_{measure}"
    a, b = ours[key], theirs[key]
    assert abs(a.mean() - b.mean()) <= combined_halfwidth(a, b), f"msksim {a.mean():.4f}, Ciw {b.mean():.4f}"


def test_the_network_is_not_trivial(both) -> None:
    """Waits are not all zero, so agreement means something."""
    ours, _ = both
    assert ours["orthopaedics_wait"].mean() > 0.1 and ours["theatre_wait"].mean() > 0.1
