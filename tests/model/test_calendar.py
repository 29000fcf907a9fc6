"""Calendars: bank holidays close clinics, reduced periods and cancelled lists cut capacity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sim.model.capacity import bank_holidays, daily_capacity
from sim.model.pathway import Pathway
from sim.scenario.loading import ReducedPeriod
from tests.conftest import bundled

MONDAY = date(2015, 1, 5)


def test_england_bank_holidays() -> None:
    days = bank_holidays(date(2015, 1, 1), date(2015, 12, 31), "england")
    assert date(2015, 4, 3) in days  # Good Friday
    assert date(2015, 8, 31) in days  # summer bank holiday (England; Scotland's is earlier)
    assert date(2015, 12, 28) in days  # Boxing Day observed
    assert date(2015, 8, 3) not in days
    assert bank_holidays(date(2015, 1, 1), date(2015, 12, 31), "none") == frozenset()


def test_a_week_gives_its_slots_and_a_holiday_loses_them() -> None:
    week = daily_capacity(52, 5, [], MONDAY, 7, whole=True)
    assert sum(week) == 52 and week[5:] == [0.0, 0.0]
    holiday = daily_capacity(52, 5, [], MONDAY, 7, whole=True, closed=frozenset({MONDAY}))
    assert holiday[0] == 0.0 and sum(holiday) < 52


def test_reduced_periods_wrap_the_new_year() -> None:
    xmas = ReducedPeriod(start="12-24", end="01-01", factor=0.5)
    start = date(2014, 12, 22)  # a Monday
    cap = daily_capacity(50, 5, [], start, 21, whole=False, reduced=[xmas])
    assert cap[0] == 10.0  # 22 December: normal
    assert cap[2] == 5.0  # 24 December: halved
    assert cap[10] == 5.0  # 1 January: still halved
    assert cap[11] == 10.0  # 2 January: normal again


def test_no_clinic_activity_on_a_bank_holiday() -> None:
    """Appointments happen only on working days that are not bank holidays.

    The run is stepped a day at a time and the appointment counters read after each day."""
    s = bundled("run.years=1", "run.warmup_days=30")
    m = Pathway(s, "fragmented", 0)

    def appointments() -> int:
        return sum(c.stats.first + c.stats.followup + c.stats.dna_first + c.stats.dna_followup for c in m.stages.values())

    dates, before = set(), 0
    for day in range(m.days):
        m.env.run(until=day + 1)
        if day in m.recorder.year_starts:
            before = 0  # the year's counters were reset at the start of this day
        now = appointments()
        if now > before:
            dates.add(m.first_day + timedelta(days=day))
        before = now
    holidays = bank_holidays(m.first_day, m.first_day + timedelta(days=m.days), "england")
    assert len(holidays) >= 8
    assert not dates & holidays
    assert all(d.weekday() < 5 for d in dates)
    assert date(2014, 12, 25) not in dates and date(2014, 12, 23) in dates


@pytest.mark.parametrize("rate", [0.0, 0.25])
def test_theatre_cancellations_remove_lists(rate: float) -> None:
    s = bundled("run.years=1", "run.warmup_days=0", f"surgery.cancellation_rate={rate}")
    m = Pathway(s, "fragmented", 0)
    working = sum(1 for c in daily_capacity(s.surgery.slots_per_week, 5, [], m.first_day, m.days, whole=False) if c > 0)
    open_days = sum(1 for c in m.theatre.capacity if c > 0)
    assert open_days <= working
    if rate:
        assert open_days == pytest.approx(working * (1 - rate) - 9, abs=0.06 * working)
