"""Removals from a waiting list without treatment: when a patient would leave it.

A list loses some of those waiting each week without their being seen (they recover, go
elsewhere, or are removed when the list is validated); the literature calls it reneging.
The rate may depend on the weeks already waited. Each patient draws one uniform when they
join a list, which fixes the day they would leave if still waiting then: the inverse of the
cumulative hazard, conditioned on the time already waited (a patient from a backlog has
waited before the run starts).

Some pathways on a list are stale: the patient will never be offered a slot (treated
elsewhere, moved away, recovered, not reachable) but the pathway stays open, its clock
running, until the list is validated. A share of those joining are stale, and leave at their
own (validation) rate; the same uniform says which and when, so a list with no stale share
draws exactly as before.
"""

from __future__ import annotations

import math
from typing import Final

DAYS_A_WEEK: Final = 7.0
BOOKING: Final = -(1 << 40)
"""The list-entry day of a patient who left while still being booked (or assessed), never on the list."""


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
        # the cumulative hazard where each band starts and ends (the last runs on for ever)
        self.at_start: list[float] = [0.0]
        for k in range(len(bands) - 1):
            self.at_start.append(self.at_start[k] + self.hazards[k] * (self.starts[k + 1] - self.starts[k]))
        last = math.inf if self.hazards[-1] > 0 else self.at_start[-1]
        self.at_end: list[float] = [*self.at_start[1:], last]

    def cumulative(self, t: float) -> float:
        """The cumulative hazard after ``t`` days waited."""
        k = len(self.starts) - 1
        while k > 0 and t < self.starts[k]:
            k -= 1
        return self.at_start[k] + self.hazards[k] * (t - self.starts[k]) if t > 0 else 0.0

    def after(self, waited: float, u: float) -> float:
        """Days waited when the patient leaves, given ``waited`` days so far and a uniform ``u``;
        infinity when they never would."""
        target = (self.cumulative(waited) if waited > 0 else 0.0) - math.log1p(-u)
        hazards = self.hazards
        for k, end in enumerate(self.at_end):  # the band where the cumulative hazard reaches the target
            if end >= target and hazards[k] > 0:
                return self.starts[k] + (target - self.at_start[k]) / hazards[k]
        return math.inf


def leaving_day(
    removal: RemovalTimes, stale: RemovalTimes, stale_share: float, day: int, waited: float, u: float
) -> tuple[float, bool]:
    """The day a patient joining a list on ``day`` (having waited ``waited`` days) would leave it
    unseen, and whether the pathway is stale, from one uniform ``u``."""
    if u < stale_share:
        t = stale.after(waited, u / stale_share)
        is_stale = True
    else:
        t = removal.after(waited, (u - stale_share) / (1.0 - stale_share))
        is_stale = False
    return (math.inf if t == math.inf else day + math.ceil(t - waited)), is_stale
