"""Capacity that answers demand: what a service's policy adds to its slots, day by day.

A place (a service or the theatre) with a policy other than ``fixed`` gets a
:class:`CapacityPlan`. The pathway asks it to review on its review days, with the measure it
watches; the place asks it each day for the slots it adds to those the file sets. Decisions
take effect ``lag_days`` after they are made, one change at a time, so a policy never acts on
a list its last change has not yet reached. The plan counts what it added, by contract year,
for the recorder: slots, sessions run and the most sessions a week in force.
"""

from __future__ import annotations

import math

from sim.model.patient import NO_CLOCK, Patient
from sim.scenario.capacity import CapacityPolicy

DAYS_A_YEAR = 365.25
NONE_PENDING = -1


RTT_STANDARD_DAYS = 18 * 7


def waiting_since(p: Patient) -> int:
    """The day a waiting patient's wait began, as a policy counts it: the RTT clock's start where
    one runs, else the day the referral reached the place."""
    return int(p.clock) if p.clock != NO_CLOCK else p.reached


def share_within_18w(since: list[int], day: int) -> float:
    """The share (%) of waits begun on the days ``since`` that are under 18 weeks on ``day`` (100 for none)."""
    if not since:
        return 100.0
    cutoff = day - RTT_STANDARD_DAYS
    return 100.0 * sum(1 for d in since if d > cutoff) / len(since)


class CapacityPlan:
    """The slots a place's policy adds to those its file sets.

    Parameters
    ----------
    cfg
        The place's policy (not ``fixed``).
    open_days
        For each simulated day, whether the place works that day (its working days, not a bank
        holiday, and for the theatre not a cancelled day): added sessions run only then.
    working_days
        Its working days a week: a session a week is spread over them.
    start
        The simulated day the policy starts acting (its ``from_year``'s start).
    contract_start
        The simulated day of the contract start, from which expected demand grows.
    growth
        Expected demand's yearly growth (``demand.growth``).
    whole
        Whether slots are whole appointments (clinics: fractions carry to the next working
        day) or time (theatre lists: a fraction of a slot is used as it comes).
    """

    def __init__(self, cfg: CapacityPolicy, open_days: list[bool], working_days: int, start: int, contract_start: int,
                 growth: float, whole: bool):  # fmt: skip
        self.follows: bool = cfg.kind == "follows_demand"
        self.open_days = open_days
        self.per_day: float = 1.0 / working_days
        self.start: int = start
        self.contract_start: int = contract_start
        self.growth: float = growth
        self.whole: bool = whole
        self.review_days: int = cfg.review_days
        self.lag: int = cfg.lag_days
        self.list_measure: bool = cfg.measure == "list"
        self.add_at: float = cfg.add_at if cfg.add_at is not None else math.inf
        self.remove_at: float = cfg.remove_at if cfg.remove_at is not None else -math.inf
        self.session_slots: float = cfg.session_slots
        self.max_sessions: int = cfg.max_sessions
        self.factor: float = 1.0  # follows_demand: the capacity planned, over the file's
        self.sessions: int = 0  # managed: sessions a week in force
        self.due: int = NONE_PENDING  # the day the change decided takes effect
        self.next_factor: float = 1.0
        self.next_sessions: int = 0
        self.carry: float = 0.0
        # this contract year's counts (the recorder reads and resets them)
        self.slots_added: float = 0.0
        self.sessions_run: float = 0.0
        self.sessions_peak: int = 0

    def reviews(self, day: int) -> bool:
        """Whether ``day`` is one of its review days."""
        return day >= self.start and (day - self.start) % self.review_days == 0

    def review(self, day: int, measure: float) -> None:
        """Look at the place on a review day (``measure``: what a managed policy watches) and
        decide a change, unless one is still to take effect."""
        if self.due != NONE_PENDING:
            return
        if self.follows:
            factor = (1.0 + self.growth) ** ((day - self.contract_start) / DAYS_A_YEAR)
            if factor != self.factor:
                self._decide(day, factor, 0)
            return
        grow = measure >= self.add_at if self.list_measure else measure <= self.add_at
        shrink = measure <= self.remove_at if self.list_measure else measure >= self.remove_at
        if grow and self.sessions < self.max_sessions:
            self._decide(day, 1.0, self.sessions + 1)
        elif shrink and self.sessions > 0:
            self._decide(day, 1.0, self.sessions - 1)

    def _decide(self, day: int, factor: float, sessions: int) -> None:
        self.next_factor, self.next_sessions = factor, sessions
        self.due = day + self.lag
        if self.lag == 0:
            self._take_effect()

    def _take_effect(self) -> None:
        self.factor, self.sessions = self.next_factor, self.next_sessions
        self.due = NONE_PENDING
        if self.sessions > self.sessions_peak:
            self.sessions_peak = self.sessions

    def added(self, day: int, base: float) -> float:
        """The slots added today to ``base``, those the file sets (whole slots for a clinic).
        Never takes a day below no slots at all."""
        if day == self.due:
            self._take_effect()
        if self.follows:
            extra = base * (self.factor - 1.0)
        elif self.sessions and day < len(self.open_days) and self.open_days[day]:
            extra = self.sessions * self.session_slots * self.per_day
            self.sessions_run += self.sessions * self.per_day
        else:
            return 0.0
        if self.whole:
            self.carry += extra
            n = math.floor(self.carry + 1e-9)
            self.carry -= n
            extra = float(n)
        if base + extra < 0.0:
            extra = -base
        self.slots_added += extra
        return extra

    def new_year(self) -> None:
        """A contract year starts: its counts start from nothing (the sessions in force are its first peak)."""
        self.slots_added = self.sessions_run = 0.0
        self.sessions_peak = self.sessions
