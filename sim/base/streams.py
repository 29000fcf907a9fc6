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

PURPOSES: dict[str, int] = {
    "arrivals": 0,  # daily referral counts
    "patients": 1,  # condition, need, priority, first routing draws and key of each GP referral
    "uncertainty": 7,  # parameter draws (outer Monte Carlo loop)
    "backlog": 8,  # patients already waiting: generated waits, conditions, needs and keys
    "self_referral": 9,  # direct-access referrals
    "cancellations": 10,  # theatre lists cancelled on the day
    "outside_contract": 11,  # referrals outside the MSK contract, to a service of every design
}
"""Each purpose's number, part of its seed: fixed, so a stream's numbers never change when
another purpose is added or retired (2 to 6 were streams shared by every patient's decisions,
before decisions drew from streams keyed to patients)."""
KEY_BOUND = 1 << 63
"""Patient keys are drawn uniformly below this (NumPy's largest signed integer, plus one)."""


def generator(seed: int, replication: int, purpose: str) -> np.random.Generator:
    """The generator for one purpose in one replication."""
    key = (replication, PURPOSES[purpose])
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def patient_keys(rng: np.random.Generator, n: int) -> list[int]:
    """``n`` patient keys, as Python integers."""
    return rng.integers(0, KEY_BOUND, size=n, dtype=np.int64).tolist()


class Streams:
    """All streams of one replication, by purpose (``rng["arrivals"]``...)."""

    def __init__(self, seed: int, replication: int):
        self.seed, self.replication = seed, replication
        self.rng = {p: generator(seed, replication, p) for p in PURPOSES}
