"""Removals from a waiting list without treatment: when a patient would leave it.

A list loses some of those waiting each week without their being seen (they recover, go
elsewhere, or are removed when the list is validated); the literature calls it reneging.
The rate may depend on the weeks already waited. Each patient draws one uniform when they
join a list, which fixes the day they would leave if still waiting then: the inverse of the
cumulative hazard, conditioned on the time already waited (a patient from a backlog has
waited before the run starts).
"""

from __future__ import annotations

import math

DAYS_A_WEEK = 7.0


class RemovalTimes:
    """Piecewise-constant removal hazard by weeks waited.

    Parameters
    ----------
    bands
        ``[(from_week, weekly_rate), ...]``, the first from week 0; a weekly rate is the
        share of those still waiting at the start of a week who leave during it.
    """

    def __init__(self, bands: list[tuple[float, float]]):
        self.starts: list[float] = [w * DAYS_A_WEEK for w, _ in bands]
        self.hazards: list[float] = [-math.log1p(-r) / DAYS_A_WEEK for _, r in bands]  # per day
        self.active: bool = any(h > 0 for h in self.hazards)

    def cumulative(self, t: float) -> float:
        """The cumulative hazard after ``t`` days waited."""
        total = 0.0
        starts, hazards = self.starts, self.hazards
        for k in range(len(starts)):
            end = starts[k + 1] if k + 1 < len(starts) else math.inf
            if t <= starts[k]:
                break
            total += hazards[k] * (min(t, end) - starts[k])
        return total

    def after(self, waited: float, u: float) -> float:
        """Days waited when the patient leaves, given ``waited`` days so far and a uniform ``u``;
        infinity when they never would."""
        target = self.cumulative(waited) - math.log1p(-u)
        total = 0.0
        starts, hazards = self.starts, self.hazards
        for k in range(len(starts)):
            end = starts[k + 1] if k + 1 < len(starts) else math.inf
            span = hazards[k] * (end - starts[k])
            if hazards[k] > 0 and total + span >= target:
                return starts[k] + (target - total) / hazards[k]
            total += span
        return math.inf
