"""Capacity per day: weekly slots spread over working days, less on bank holidays and in
reduced periods, changing from given dates."""

from __future__ import annotations

import math
from datetime import date, timedelta
from functools import lru_cache

import holidays

from sim.scenario.capacity import CapacityChange
from sim.scenario.run import ReducedPeriod

DAYS_A_YEAR = 365.25


@lru_cache(maxsize=32)
def bank_holidays(first: date, last: date, region: str) -> frozenset[date]:
    """England's bank holidays between two dates (the ``holidays`` package), or none."""
    if region == "none":
        return frozenset()
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first.year, last.year + 1))
    return frozenset(d for d in days if first <= d <= last)


@lru_cache(maxsize=8)
def dates(first_day: date, days: int) -> tuple[date, ...]:
    """The calendar date of each simulated day: made once, for every service and replication."""
    return tuple(first_day + timedelta(days=d) for d in range(days))


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def _in_period(md: tuple[int, int], start: tuple[int, int], end: tuple[int, int]) -> bool:
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end  # wraps over the new year


def daily_capacity(
    slots_per_week: float,
    working_days: int,
    changes: list[CapacityChange],
    first_day: date,
    days: int,
    *,
    whole: bool,
    closed: frozenset[date] = frozenset(),
    reduced: list[ReducedPeriod] | None = None,
) -> list[float]:
    """Capacity for each simulated day.

    Parameters
    ----------
    slots_per_week, working_days, changes
        The stage's capacity settings.
    first_day
        The calendar date of simulated day 0.
    days
        How many days to cover.
    whole
        Clinics book whole appointments: the fractional part of a day's share is carried
        to the next working day, so a normal week gives exactly ``slots_per_week``.
        Theatres (``whole=False``) get the plain fraction: unused list time is lost.
    closed
        Days with no sessions at all (bank holidays): their capacity is lost, not moved.
    reduced
        Periods of each year when capacity is multiplied by a factor.
    """
    ordered = sorted(changes, key=lambda c: c.from_date)
    periods = [(_month_day(p.start), _month_day(p.end), p.factor) for p in reduced or ()]
    out: list[float] = []
    carry = 0.0
    for today in dates(first_day, days):
        if today.weekday() >= working_days or today in closed:
            out.append(0.0)
            continue
        weekly = slots_per_week
        for ch in ordered:
            if ch.from_date <= today:
                weekly = ch.slots_per_week
        share = weekly / working_days
        for start, end, factor in periods:
            if _in_period((today.month, today.day), start, end):
                share *= factor
        if whole:
            carry += share
            n = int(carry + 1e-9)
            carry -= n
            out.append(float(n))
        else:
            out.append(share)
    return out


def open_days(working_days: int, first_day: date, days: int, closed: frozenset[date] = frozenset()) -> list[bool]:
    """For each simulated day, whether a place that works ``working_days`` a week (Monday first)
    works that day: not at a weekend beyond them, not on a closed day."""
    out = []
    for today in dates(first_day, days):
        out.append(today.weekday() < working_days and today not in closed)
    return out


def add_years(d: date, k: int) -> date:
    """The same day ``k`` years on (28 February for 29 February in a common year)."""
    try:
        return d.replace(year=d.year + k)
    except ValueError:
        return d.replace(year=d.year + k, day=28)


def year_capacity(scenario, stage: str, design: str | None = None, year: int = 1) -> list[float]:
    """Slots offered each day of a contract year, after holidays and reduced periods (theatre
    lists before cancellations). With ``design``, the stage as that design commissions it."""
    run, cal = scenario.run, scenario.calendar
    first, days = add_years(run.start_date, year - 1), 365
    closed = bank_holidays(first, first + timedelta(days=days), cal.bank_holidays)
    reduced = [r for r in cal.reduced if not r.stages or stage in r.stages]
    if stage == "theatre":
        s = scenario.design_surgery(design)
        return daily_capacity(s.slots_per_week, s.working_days, s.capacity_changes, first, days, whole=False,
                              closed=closed, reduced=reduced)  # fmt: skip
    st = scenario.design_stages(design)[stage] if design is not None else scenario.stages[stage]
    return daily_capacity(st.slots_per_week, st.working_days, st.capacity_changes, first, days, whole=True,
                          closed=closed, reduced=reduced)  # fmt: skip


def effective_weekly(scenario, stage: str, design: str | None = None, year: int = 1) -> float:
    """Mean slots a week over a contract year (the first by default), after holidays, reduced
    periods and (for the theatre) expected cancellations: the capacity that meets demand.

    With ``design``, the stage as that design commissions it (its ``stage_overrides``)."""
    weekly = sum(year_capacity(scenario, stage, design, year)) * 7 / 365
    if stage == "theatre":
        return weekly * (1.0 - scenario.design_surgery(design).cancellation_rate)
    return weekly


def available_weekly(scenario, stage: str, design: str, year: int = 1) -> float:
    """Mean slots a week a place can offer in a contract year under its capacity policy: as
    :func:`effective_weekly` when fixed; grown as expected demand grows, less the lag, when it
    follows demand; with every session its managed policy may add (``max_sessions``), on the
    days it works, when managed. The capacity a load must stay under for a list to settle."""
    weekly = effective_weekly(scenario, stage, design, year)
    policy = scenario.capacity_policy(design, stage)
    if not policy.acts or year < policy.from_year:
        return weekly
    if policy.kind == "follows_demand":
        g = scenario.demand.growth
        # the plan in force is on average half a review and the lag behind the demand of the day
        behind = (policy.lag_days + policy.review_days / 2.0) / DAYS_A_YEAR
        grown = ((1 + g) ** year - (1 + g) ** (year - 1)) / math.log1p(g) if g else 1.0
        return weekly * grown * (1 + g) ** -behind
    first = add_years(scenario.run.start_date, year - 1)
    cfg = scenario.design_surgery(design) if stage == "theatre" else scenario.design_stages(design)[stage]
    closed = bank_holidays(first, first + timedelta(days=365), scenario.calendar.bank_holidays)
    works = sum(open_days(cfg.working_days, first, 365, closed))
    extra = policy.max_sessions * policy.session_slots * works / cfg.working_days * 7 / 365
    if stage == "theatre":
        extra *= 1.0 - cfg.cancellation_rate
    return weekly + extra
