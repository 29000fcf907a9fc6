"""Capacity per day: weekly slots spread over working days, changing from given dates."""

from __future__ import annotations

from datetime import date, timedelta

from sim.scenario import CapacityChange


def daily_capacity(
    slots_per_week: float,
    working_days: int,
    changes: list[CapacityChange],
    first_day: date,
    days: int,
    *,
    whole: bool,
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
        to the next working day, so a week gives exactly ``slots_per_week``. Theatres
        (``whole=False``) get the plain fraction: unused list time is lost.
    """
    ordered = sorted(changes, key=lambda c: c.from_date)
    out: list[float] = []
    carry = 0.0
    for d in range(days):
        today = first_day + timedelta(days=d)
        if today.weekday() >= working_days:
            out.append(0.0)
            continue
        weekly = slots_per_week
        for ch in ordered:
            if ch.from_date <= today:
                weekly = ch.slots_per_week
        share = weekly / working_days
        if whole:
            carry += share
            n = int(carry + 1e-9)
            carry -= n
            out.append(float(n))
        else:
            out.append(share)
    return out
