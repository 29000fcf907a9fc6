"""Random number streams: one per purpose, so both designs see the same patients.

Each purpose gets its own NumPy generator from ``SeedSequence(seed, spawn_key=(replication,
purpose))``. The design is deliberately not part of the key: in replication *r* the fragmented
and prime designs draw the same referrals, conditions, needs and priorities (common random
numbers), and a replication's numbers never depend on which other replications ran, or where.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, count

import numpy as np

BLOCK = 4096
"""Uniforms come from NumPy this many at a time: one call per block, not per number."""

PURPOSES: tuple[str, ...] = (
    "arrivals",  # daily referral counts
    "patients",  # condition, need, priority, first routing draw
    "dna",  # did-not-attend at each booked appointment (one sub-stream per service)
    "contacts",  # length of a course of treatment
    "decisions",  # clinical decisions: listing for surgery, routing after the first
    "surgery",  # operation type, day case, length of stay, rehab
    "gp",  # GP waits and re-referrals
    "uncertainty",  # parameter draws (outer Monte Carlo loop)
    "backlog",  # patients already waiting: generated waits, conditions and needs
    "self_referral",  # direct-access referrals
)


def generator(seed: int, replication: int, purpose: str) -> np.random.Generator:
    """The generator for one purpose in one replication."""
    key = (replication, PURPOSES.index(purpose))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def uniforms(rng: np.random.Generator) -> Callable[[], float]:
    """Uniform(0, 1) numbers drawn from ``rng`` in blocks, handed out one a call.

    Drawing one number at a time from NumPy costs about a microsecond of call overhead;
    the ``__next__`` of a chain of 4,096-number blocks costs a thirtieth of that, and the
    numbers are the same, in the same order, as single draws from the block.
    """
    return chain.from_iterable(rng.random(BLOCK).tolist() for _ in count()).__next__


class Streams:
    """All streams of one replication.

    Streams that belong to a service (``for_stage``) add the stage's position in the
    scenario to the key, so each service has its own sequence in every design.
    """

    def __init__(self, seed: int, replication: int):
        self.seed, self.replication = seed, replication
        self.rng = {p: generator(seed, replication, p) for p in PURPOSES}
        self.contacts = uniforms(self.rng["contacts"])
        self.decisions = uniforms(self.rng["decisions"])
        self.surgery = uniforms(self.rng["surgery"])
        self.gp = uniforms(self.rng["gp"])

    def for_stage(self, purpose: str, index: int) -> np.random.Generator:
        """A generator for one purpose at one service (index: its position in the scenario)."""
        key = (self.replication, PURPOSES.index(purpose), index + 1)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))
