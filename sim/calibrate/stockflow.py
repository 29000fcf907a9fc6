"""The stock-and-flow arithmetic of a waiting list, read from consecutive monthly returns.

As in the NHS's RTT Planner: clock stops in a month are the treatment given; the list at
the month end less those who were already waiting at its start gives the clocks started;
those waiting at the start who neither stopped nor are still waiting were removed. A
return counts waits by week band, so a patient waiting at the start of a month of ``D``
days waits more than ``D / 7`` weeks at its end; a stop in the month with a wait of ``w``
weeks came from the old list with probability ``min(1, w / (D / 7))`` (stops spread evenly
over the month). Removals among those who joined within the month are not seen, so the
clock starts are a lower bound by those few.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np

LONG_WAIT_WEEKS = 12
"""Removals are estimated apart for those waiting less and more than this at the month start."""


@dataclass(frozen=True)
class MonthFlow:
    """One month of one treatment function, from its return and the month before's."""

    month: str
    admitted: float
    nonadmitted: float
    list_start: float
    list_end: float
    clock_starts: float
    removals: float
    removals_short: float
    removals_long: float
    exposure_short: float
    """Person-weeks waited in the month by those on the list at its start with waits under
    :data:`LONG_WAIT_WEEKS` weeks (the removal rate's denominator)."""
    exposure_long: float
    weeks: float


def month_weeks(month: str) -> float:
    """Weeks in a month ``YYYY-MM``."""
    year, mon = int(month[:4]), int(month[5:7])
    return calendar.monthrange(year, mon)[1] / 7


def above(counts: np.ndarray, weeks: float) -> np.ndarray:
    """Per band, the share of its waits over ``weeks`` (band ``k`` holds waits in (k, k+1])."""
    k = np.arange(len(counts), dtype=float)
    return np.clip(k + 1 - weeks, 0.0, 1.0)


def month_flow(month: str, before: np.ndarray, after: np.ndarray, admitted: np.ndarray, nonadmitted: np.ndarray) -> MonthFlow:
    """The flows of ``month`` from the incomplete pathways at the end of the month before
    (``before``) and of this month (``after``) and this month's stops, all by week band."""
    d = month_weeks(month)
    k = np.arange(len(after), dtype=float)
    stops = admitted + nonadmitted
    old_share = np.minimum(1.0, (k + 0.5) / d)  # a stop with this wait was waiting at the month start
    survived = after * above(after, d)
    old_stops = stops * old_share
    short_end = 1.0 - above(after, LONG_WAIT_WEEKS + d)  # waited under 12 weeks at the start
    short_start = 1.0 - above(before, LONG_WAIT_WEEKS)
    short_stop = 1.0 - above(stops, LONG_WAIT_WEEKS + d / 2)
    list_short = float((before * short_start).sum())
    list_long = float(before.sum()) - list_short
    removed_short = list_short - float((survived * short_end).sum()) - float((old_stops * short_stop).sum())
    removed_long = list_long - float((survived * (1 - short_end)).sum()) - float((old_stops * (1 - short_stop)).sum())
    new_stops = float(stops.sum() - old_stops.sum())
    return MonthFlow(
        month=month,
        admitted=float(admitted.sum()),
        nonadmitted=float(nonadmitted.sum()),
        list_start=float(before.sum()),
        list_end=float(after.sum()),
        clock_starts=float(after.sum() - survived.sum()) + new_stops,
        removals=removed_short + removed_long,
        removals_short=removed_short,
        removals_long=removed_long,
        exposure_short=list_short * d,
        exposure_long=list_long * d,
        weeks=d,
    )


@dataclass(frozen=True)
class Rates:
    """Weekly rates over several months: stops, clock starts and removals."""

    admitted_per_week: float
    nonadmitted_per_week: float
    clock_starts_per_week: float
    removal_short: float
    """Share of those waiting under :data:`LONG_WAIT_WEEKS` weeks removed each week."""
    removal_long: float
    removals_share: float
    """Removals as a share of all exits from the list (stops and removals)."""


def rates(flows: list[MonthFlow]) -> Rates:
    """Weekly rates pooled over ``flows`` (each month weighted by its length)."""
    weeks = sum(f.weeks for f in flows)
    exits = sum(f.admitted + f.nonadmitted + f.removals for f in flows)
    removed = sum(f.removals for f in flows)

    def rate(removed: float, exposure: float) -> float:
        return removed / exposure if exposure > 0 else float("nan")

    return Rates(
        admitted_per_week=sum(f.admitted for f in flows) / weeks,
        nonadmitted_per_week=sum(f.nonadmitted for f in flows) / weeks,
        clock_starts_per_week=sum(f.clock_starts for f in flows) / weeks,
        removal_short=rate(sum(f.removals_short for f in flows), sum(f.exposure_short for f in flows)),
        removal_long=rate(sum(f.removals_long for f in flows), sum(f.exposure_long for f in flows)),
        removals_share=removed / exits if exits > 0 else float("nan"),
    )
