"""Random numbers tied to patients, and discrete draws from one uniform number.

Every clinical decision draws from a stream keyed to the patient, the purpose and the place,
so the same patient meets the same chance at the same service in every design (common
random numbers), whatever else happened in the run before. Discrete draws (a key of a
probability row, a count) take one uniform by inverse CDF.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import accumulate
from typing import Final

from mypy_extensions import i64


def _probe() -> None:
    """Nothing: its type says whether this module runs compiled (a C function) or not."""


COMPILED: Final = type(_probe).__name__ != "function"


def first_above(cum: list[float], u: float) -> int:
    """The first index whose value is above ``u`` in the ascending ``cum`` (``bisect_right``).

    Written out for the compiled model, where the search runs on C doubles and a call to
    ``bisect`` would box ``u`` and go through Python's calling convention each draw; from the
    sources ``bisect`` (in C) is the faster, and is used.
    """
    lo, hi = 0, len(cum)
    while lo < hi:
        mid = (lo + hi) >> 1
        if u < cum[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


class Choice:
    """Pick a key of a probability row with one uniform number (inverse CDF)."""

    __slots__ = ("_cum", "keys")

    keys: list[str]
    _cum: list[float]

    def __init__(self, row: dict[str, float]):
        items = [(k, p) for k, p in row.items() if p > 0]
        self.keys = [k for k, _ in items]
        cum = list(accumulate(p for _, p in items))
        cum[-1] = 1.0  # rows sum to 1 within tolerance; close the gap so every u maps somewhere
        self._cum = cum

    def __call__(self, u: float) -> str:
        return self.keys[first_above(self._cum, u) if COMPILED else bisect_right(self._cum, u)]


DIRECT_LIMIT: Final = 500.0
"""Up to this mean the table starts at 0 with ``exp(-mean)`` (about 1e-217, far from underflow)."""
TAIL_SDS: Final = 12.0
"""Counts further than this many standard deviations from the mean have probability below 1e-30."""


class CountTable:
    """``offset + Poisson(mean - offset)`` drawn by inverse CDF from one uniform number.

    Used for contacts per course, follow-ups and lengths of stay: discrete, with the
    given mean, and cheap to draw inside the event loop. The table covers the counts
    within ``TAIL_SDS`` standard deviations of the mean (at least the first 30), so it is
    exact for any finite mean: a large mean starts its table near the mean, in log space,
    where ``exp(-mean)`` alone would underflow to zero.
    """

    __slots__ = ("_cum", "_low", "mean", "offset")

    mean: float
    offset: int
    _low: int
    _cum: list[float]

    def __init__(self, mean: float, offset: int = 0):
        if not math.isfinite(mean):
            raise ValueError(f"a count's mean must be finite, got {mean}")
        self.mean, self.offset = mean, offset
        lam = max(mean - offset, 0.0)
        if lam <= DIRECT_LIMIT:
            low, p = 0, math.exp(-lam)
        else:
            low = max(0, math.floor(lam - TAIL_SDS * math.sqrt(lam)))
            p = math.exp(low * math.log(lam) - lam - math.lgamma(low + 1))
        high = max(low + 30, math.ceil(lam + TAIL_SDS * math.sqrt(lam)) + 30)
        cum: list[float] = []
        total, k = 0.0, low
        while k <= high and total < 1.0 - 1e-12:
            total += p
            cum.append(total)
            k += 1
            p *= lam / k
        cum[-1] = 1.0
        self._low = low
        self._cum = cum

    def __call__(self, u: float) -> int:
        return self.offset + self._low + (first_above(self._cum, u) if COMPILED else bisect_right(self._cum, u))

    def pmf(self) -> list[float]:
        """Probabilities of ``offset + 0, offset + 1, ...`` (for the traffic equations)."""
        return [0.0] * self._low + [b - a for a, b in zip([0.0, *self._cum[:-1]], self._cum, strict=True)]


# --------------------------------------------------------------------------- keyed streams
# Each patient carries a random 63-bit key, drawn where they are created. A stream of
# uniforms is keyed to (patient, purpose, place, episode) by SplitMix64's finaliser, which
# makes every bit of the seed depend on every bit of the key; draws within a stream then
# come from a 64-bit linear congruential step (Knuth's MMIX constants), of which the top 53
# bits are used. A stream is short (a patient's draws for one purpose), so the speed of
# three integer operations a draw matters more than an LCG's weakness over long runs.
#
# States are 64-bit words. Compiled, they are C's signed 64-bit integers (``i64``), whose
# arithmetic wraps modulo 2**64 (the build passes ``-fwrapv``, which makes that defined C) and
# never allocates; from the sources they are Python integers in [0, 2**64), kept there by
# ``& MASK``. Both forms hold the same bits, so they draw the same numbers: constants above
# 2**63 are written as their signed equivalents (the same bits), and right shifts are masked
# so that C's arithmetic shift of a negative word gives the logical shift's bits.

MASK: Final[i64] = -1 if COMPILED else 0xFFFFFFFFFFFFFFFF
"""Keeps a state's 64 bits: a no-op on C's wrapping integers, a wrap on Python's."""
# Constants of 2**62 or more are made with i64(): mypyc keeps them as C integers then (a
# literal that large would be a Python integer, converted at every use).
GOLDEN: Final = i64(-0x61C8864680B583EB)  # 0x9E3779B97F4A7C15
MIX_1: Final = i64(-0x40A7B892E31B1A47)  # 0xBF58476D1CE4E5B9
MIX_2: Final = i64(-0x6B2FB644ECCEEE15)  # 0x94D049BB133111EB
LCG_MULTIPLIER: Final = i64(6364136223846793005)
LCG_INCREMENT: Final[i64] = 1442695040888963407
LOW_34: Final[i64] = 0x3FFFFFFFF
LOW_37: Final[i64] = 0x1FFFFFFFFF
LOW_33: Final[i64] = 0x1FFFFFFFF
LOW_53: Final[i64] = 0x1FFFFFFFFFFFFF
TO_UNIT: Final = 1.0 / (1 << 53)

# Purposes of a patient's streams (the place is 0 for those not tied to a service).
EPISODE: Final = 0  # at a service: advice and guidance, attendance, resolve, listing, course, PIFU
ROUTE: Final = 1  # patient choice of provider, re-triage, onward referral
GP: Final = 2  # GP wait and re-referral
SURGERY: Final = 3  # priority category, length of stay, post-operative follow-ups, rehabilitation


def mix(z: i64) -> i64:
    """SplitMix64's finaliser: a 64-bit word each of whose bits depends on all of ``z``'s."""
    z = ((z ^ ((z >> 30) & LOW_34)) * MIX_1) & MASK
    z = ((z ^ ((z >> 27) & LOW_37)) * MIX_2) & MASK
    return z ^ ((z >> 31) & LOW_33)


def seed(key: i64, purpose: i64, place: i64 = 0, episode: i64 = 0) -> i64:
    """The first state of the stream keyed to (patient key, purpose, place, episode)."""
    code = (purpose << 40) | (place << 20) | episode
    return mix((key + (code + 1) * GOLDEN) & MASK)


def step(state: i64) -> i64:
    """The next state of a stream."""
    return (state * LCG_MULTIPLIER + LCG_INCREMENT) & MASK


def unit(state: i64) -> float:
    """A state as a uniform number in [0, 1): its top 53 bits."""
    top: int = (state >> 11) & LOW_53  # an int, which mypy multiplies by a float (i64 it does not)
    return top * TO_UNIT
