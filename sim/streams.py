"""Random number streams of a replication: one per purpose, so both designs see the same patients.

Each purpose gets its own NumPy generator from ``SeedSequence(seed, spawn_key=(replication,
purpose))``. The design is deliberately not part of the key: in replication *r* the fragmented
and prime designs draw the same referrals, conditions, needs, priorities and patient keys
(common random numbers), and a replication's numbers never depend on which other
replications ran, or where. Decisions about a patient once referred draw from streams keyed
to that patient (``sim.model.draws``), not from these.
"""

from __future__ import annotations

import numpy as np

PURPOSES: tuple[str, ...] = (
    "arrivals",  # daily referral counts
    "patients",  # condition, need, priority, first routing draws and key of each GP referral
    "self_referral",  # direct-access referrals
    "backlog",  # patients already waiting: generated waits, conditions, needs and keys
    "cancellations",  # theatre lists cancelled on the day
    "uncertainty",  # parameter draws (outer Monte Carlo loop)
)
KEY_BOUND = 1 << 63
"""Patient keys are drawn uniformly below this (NumPy's largest signed integer, plus one)."""


def generator(seed: int, replication: int, purpose: str) -> np.random.Generator:
    """The generator for one purpose in one replication."""
    key = (replication, PURPOSES.index(purpose))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def patient_keys(rng: np.random.Generator, n: int) -> list[int]:
    """``n`` patient keys, as Python integers."""
    return rng.integers(0, KEY_BOUND, size=n, dtype=np.int64).tolist()


class Streams:
    """All streams of one replication, by purpose (``rng["arrivals"]``...)."""

    def __init__(self, seed: int, replication: int):
        self.seed, self.replication = seed, replication
        self.rng = {p: generator(seed, replication, p) for p in PURPOSES}
