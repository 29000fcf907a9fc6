"""Contract arithmetic worked by hand, and the finance columns of a real run."""

from __future__ import annotations

import numpy as np
import pytest

from sim.finance import contract_value, share_surplus
from sim.scenario import PrimeContract

TERMS = PrimeContract(year1_value_gbp=100.0, retained_surplus_share=0.05, commissioner_surplus_split=0.5)


@pytest.mark.parametrize(
    ("surplus", "prime", "commissioner"),
    [
        (3.0, 3.0, 0.0),  # below 5% of the up-front 95: the prime keeps all of it
        (4.75, 4.75, 0.0),  # exactly 5% of 95
        (10.75, 7.75, 3.0),  # 4.75 kept, the 6 above it split 50/50
        (-8.0, -8.0, 0.0),  # a deficit stays with the prime
        (0.0, 0.0, 0.0),
    ],
)
def test_surplus_sharing(surplus: float, prime: float, commissioner: float) -> None:
    p, c = share_surplus(np.array([surplus]), np.array([95.0]), TERMS)
    assert p[0] == pytest.approx(prime)
    assert c[0] == pytest.approx(commissioner)
    assert p[0] + c[0] == pytest.approx(surplus)


def test_escalator() -> None:
    v = contract_value(np.array([1, 2, 5]), PrimeContract(year1_value_gbp=26.5e6, escalator=0.013))
    assert v[0] == pytest.approx(26.5e6)
    assert v[1] == pytest.approx(26.5e6 * 1.013)
    assert v[2] == pytest.approx(26.5e6 * 1.013**4)
