"""Counters: of one contract year, reset to zero when the year closes, and of the whole run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from typing import Final

import numpy as np

from sim.rtt.bands import OPEN_BAND, percentile


@dataclass
class Counters:
    """Integer counters, declared as ``name: int = 0`` fields of a dataclass subclass.

    Declared fields (rather than names in a list) give each counter a type, which lets the
    compiled model keep it as a machine integer.
    """

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)


@dataclass
class ListCounters(Counters):
    """The counters of a waiting list: its area (patient-days waited), exits, removals."""

    list_area: int = 0
    list_exits: int = 0
    removed: int = 0
    wait_days: int = 0

    def left_unseen(self, day: int, today: int, entered: int, booking: int) -> None:
        """A patient left unseen on ``day``, found so on ``today``: on the list since
        ``entered``, or still being booked or assessed (``entered`` is ``booking``)."""
        self.removed += 1
        if entered != booking:
            self.list_exits += 1  # a list exit too, so the list obeys Little's law
            self.wait_days += day - entered
            self.list_area -= today - day  # counted as waiting on the days since they left


@dataclass
class StageStats(ListCounters):
    """Counters of one service for the current contract year."""

    advice_and_guidance: int = 0
    arrivals: int = 0
    dna_first: int = 0
    dna_followup: int = 0
    first: int = 0
    followup: int = 0
    listed: int = 0
    outside_first: int = 0  # of ``first``, care outside the contract
    outside_followup: int = 0  # of ``followup``, care outside the contract
    overflow: int = 0
    pifu_skipped: int = 0
    procedures: int = 0
    resolved: int = 0
    unresolved: int = 0


@dataclass
class RunCounts(Counters):
    """Patients and what the pathway did with them, counted from the start of the run and never
    reset: a year's figure is the change over the year (the recorder keeps where it started).

    ``referrals`` and the five after it are named as the columns of a year's row.
    """

    created: int = 0
    discharged: int = 0
    referrals: int = 0  # new GP referrals (the same people in every design)
    self_referrals: int = 0
    gp_consultations: int = 0
    bounce_backs: int = 0
    advice_given: int = 0
    onward_referrals: int = 0
    dna_returns: int = 0
    outside_referrals: int = 0  # care outside the contract

    def carry_on(self, old: RunCounts) -> None:
        """Go on from a run taken over (a switch-over): its patients are this run's now."""
        self.created, self.discharged = old.created, old.discharged


class Flows:
    """Moves between places once ``counting`` (after the warm-up), for the flow diagram: by
    place and destination, with the pairs in the order first seen (counted by name, without
    making a (from, to) tuple a move)."""

    def __init__(self) -> None:
        self.counting = False
        self.moves: dict[str, dict[str, int]] = {}
        self.pairs: list[tuple[str, str]] = []

    def count(self, at: str, to: str) -> None:
        """Count one move from ``at`` to ``to``."""
        moves = self.moves.get(at)
        if moves is None:
            moves = self.moves[at] = {}
        n = moves.get(to, 0)
        if n == 0:
            self.pairs.append((at, to))
        moves[to] = n + 1

    def counted(self) -> Counter[tuple[str, str]]:
        """(from, to) -> count, in the order the pairs were first seen."""
        return Counter({(a, b): self.moves[a][b] for a, b in self.pairs})


LONGEST_DAY: Final[int] = 7 * OPEN_BAND  # typed: OPEN_BAND comes from outside the compiled model
"""Waits are counted day by day up to 104 weeks (as the RTT returns band them); longer ones
are counted together in the last day's count, as the returns' open band ``104+``."""


class DayCounts:
    """Waits in whole days, counted by day: their mean, and any centile, without keeping each wait.

    Memory is one count per day up to :data:`LONGEST_DAY`, whatever the number of waits. A
    centile is read from the counts by :func:`sim.rtt.bands.percentile`, as the NHS reads its
    week bands, one day standing for one band: the count of waits of ``d`` days is spread
    evenly from ``d`` to ``d + 1`` days. Delays in the model are whole days cut down from
    continuous ones (an exponential booking delay is truncated), so that is what a wait of
    ``d`` days stands for; it never reads a centile below the whole days waited (all waits of
    14 days give a 92nd centile of 14.92).
    """

    __slots__ = ("counts", "total", "waits")

    counts: list[int]
    total: int
    waits: int

    def __init__(self) -> None:
        self.counts = [0] * (LONGEST_DAY + 1)
        self.total = 0  # days waited, summed
        self.waits = 0

    def add(self, days: int) -> None:
        """Count one wait of ``days`` (0 or more)."""
        self.counts[days if days < LONGEST_DAY else LONGEST_DAY] += 1
        self.total += days
        self.waits += 1

    def reset(self) -> None:
        """Forget every wait counted (a contract year closes)."""
        self.counts = [0] * (LONGEST_DAY + 1)
        self.total = self.waits = 0

    def mean(self) -> float:
        """The mean wait in days (0 when none was counted, as the other mean waits)."""
        return self.total / self.waits if self.waits else 0.0

    def centile(self, q: float) -> float:
        """The ``q`` quantile (0..1) in days, read inside the day (0 when none was counted)."""
        return percentile(np.asarray(self.counts), q) if self.waits else 0.0
