"""Discrete draws by inverse CDF from one uniform number: a key of a probability row, or a count.

Each takes its uniform from a stream the caller chose, so the same number gives the same
draw in every design (common random numbers).
"""

from __future__ import annotations

import bisect
import math
from itertools import accumulate


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
        return self.keys[bisect.bisect_right(self._cum, u)]


class CountTable:
    """``offset + Poisson(mean - offset)`` drawn by inverse CDF from one uniform number.

    Used for contacts per course, follow-ups and lengths of stay: discrete, with the
    given mean, and cheap to draw inside the event loop.
    """

    __slots__ = ("_cum", "mean", "offset")

    mean: float
    offset: int
    _cum: list[float]

    def __init__(self, mean: float, offset: int = 0):
        self.mean, self.offset = mean, offset
        lam = max(mean - offset, 0.0)
        cum: list[float] = []
        p, total, k = math.exp(-lam), 0.0, 0
        while total < 1.0 - 1e-12 and k < 1000:
            total += p
            cum.append(total)
            k += 1
            p *= lam / k
        cum[-1] = 1.0
        self._cum = cum

    def __call__(self, u: float) -> int:
        return self.offset + bisect.bisect_right(self._cum, u)

    def pmf(self) -> list[float]:
        """Probabilities of ``offset + 0, offset + 1, ...`` (for the traffic equations)."""
        return [b - a for a, b in zip([0.0, *self._cum[:-1]], self._cum, strict=True)]
