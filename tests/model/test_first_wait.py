"""The wait for a first appointment at each service, and for admission at the theatre.

It runs from the referral reaching the service (the day of referral plus the days its letter
takes) to the first appointment attended there: the booking lead and its spread, the list,
and a missed first appointment with its rebooking are all in it. The queue-only mean
(``_queue_wait_mean_days``) counts from the end of the booking lead, as Little's law needs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.model.counters import LONGEST_DAY, DayCounts
from sim.model.pathway import simulate
from sim.rtt.bands import percentile
from tests.conftest import ALL_TO, scenario_from, single_stage
from tests.validation.network import msksim_scenario

LEAD = 14
AMPLE = (5.0, 40)  # 5 referrals a day against 40 slots a day: nobody waits for a slot
FIRST = f"{ALL_TO}_first_wait_mean_days"
P92 = f"{ALL_TO}_first_wait_p92_days"
QUEUE = f"{ALL_TO}_queue_wait_mean_days"


def _rows(raw: dict[str, Any], reps: int = 1) -> list[dict[str, Any]]:
    s = scenario_from(raw)
    return [r for rep in range(reps) for r in simulate(s, "fragmented", rep)]


def test_counts_by_day_give_the_mean_and_read_a_centile_inside_the_day() -> None:
    waits = DayCounts()
    assert waits.mean() == waits.centile(0.92) == 0.0, "no waits: 0, as the other means"
    for _ in range(100):
        waits.add(LEAD)
    assert waits.mean() == LEAD
    # all waited 14 whole days: the 92nd of 100 is read 0.92 of the way through the 14th day
    assert waits.centile(0.92) == pytest.approx(LEAD + 0.92)
    assert waits.centile(0.92) == percentile(np.asarray(waits.counts), 0.92), "the RTT returns' reading, by day"
    waits.add(10 * LONGEST_DAY)  # a very long wait: its days in the mean, its count in the last day's
    assert waits.counts[LONGEST_DAY] == 1 and waits.mean() == pytest.approx((100 * LEAD + 10 * LONGEST_DAY) / 101)
    waits.reset()
    assert waits.waits == waits.total == sum(waits.counts) == 0


def test_with_a_fixed_lead_and_ample_slots_the_first_wait_is_the_lead() -> None:
    """Open every day, referrals every day: each patient is listed ``LEAD`` days after referral
    and seen that day. The queue after booking is empty."""
    rows = _rows(single_stage(*AMPLE, booking_lead_days=LEAD))
    for r in rows:
        assert r[FIRST] == LEAD
        assert r[P92] == pytest.approx(LEAD + 0.92)  # every wait is 14 whole days, read inside the day
        assert r[QUEUE] == 0.0
        assert r[f"{ALL_TO}_first"] > 1000


def test_a_weekend_adds_three_sevenths_of_a_day_on_average() -> None:
    """Open Monday to Friday, referrals on all seven days: listed ``LEAD`` days (two weeks) on, so on
    the weekday of referral; Saturday's wait two more days for Monday, Sunday's one, the rest
    none. Referrals are alike on every weekday: the mean is ``LEAD + 3/7``."""
    raw = single_stage(*AMPLE, booking_lead_days=LEAD, working_days=5)
    rows = _rows(raw)
    for r in rows:
        assert r[FIRST] == pytest.approx(LEAD + 3 / 7, abs=0.1)  # standard error of the weekday mix: 0.02
        assert r[QUEUE] == pytest.approx(3 / 7, abs=0.1), "after booking, the same wait for Monday"
        assert LEAD + 2 <= r[P92] <= LEAD + 3, "over 8% wait the two days from Saturday"


def test_an_exponential_spread_adds_its_mean_and_its_tail() -> None:
    """Lead ``L`` plus an exponential delay of mean ``S`` cut down to whole days: ``floor(X)`` has mean
    ``1 / (e^(1/S) - 1)``, ``S - 1/2`` to within ``1/(12 S)``; its 92nd centile, read inside the day,
    is the exponential's, ``L + S ln(1 / 0.08)``."""
    spread = 10.0
    rows = _rows(single_stage(*AMPLE, booking_lead_days=LEAD, booking_lead_spread_days=spread), reps=2)
    n = sum(r[f"{ALL_TO}_first"] for r in rows)  # about 11,000 first appointments
    mean = np.average([r[FIRST] for r in rows], weights=[r[f"{ALL_TO}_first"] for r in rows])
    expected = LEAD + 1 / math.expm1(1 / spread)
    assert expected == pytest.approx(LEAD + spread - 0.5, abs=1 / (12 * spread))
    assert mean == pytest.approx(expected, abs=4 * spread / math.sqrt(n))  # four standard errors
    p92 = np.mean([r[P92] for r in rows])
    tail = LEAD + spread * math.log(1 / 0.08)
    # a quantile's standard error: sqrt(q (1 - q) / n) / density, about 1 day a year at 1,850 a year
    assert p92 == pytest.approx(tail, abs=1.5)
    assert all(r[P92] >= r[FIRST] for r in rows)
    assert all(r[QUEUE] == 0.0 for r in rows)


def test_a_missed_first_appointment_and_its_rebooking_are_part_of_the_wait() -> None:
    """The wait runs to the first appointment attended. With a share ``d`` missing, a rebooking
    ``R`` days on and discharge at the ``M``-th miss, those seen missed ``k < M`` with weights
    ``d^k``: the mean wait is ``L + R E[k | k < M]``."""
    d, rebook, most = 0.2, 7, 3
    raw = single_stage(*AMPLE, booking_lead_days=LEAD, dna_first=d, dna_rebook_days=rebook, max_dna=most)
    rows = _rows(raw, reps=2)
    weights = [d**k for k in range(most)]
    misses = sum(k * w for k, w in enumerate(weights)) / sum(weights)
    n = sum(r[f"{ALL_TO}_first"] for r in rows)
    sd = rebook * math.sqrt(sum((k - misses) ** 2 * w for k, w in enumerate(weights)) / sum(weights))
    mean = np.average([r[FIRST] for r in rows], weights=[r[f"{ALL_TO}_first"] for r in rows])
    assert mean == pytest.approx(LEAD + rebook * misses, abs=4 * sd / math.sqrt(n))
    assert all(r[QUEUE] == 0.0 for r in rows), "a rebooked first appointment is a booking, not the list"


def test_on_a_busy_list_the_first_wait_is_the_lead_plus_the_queue() -> None:
    """With no spread, no missed appointments, no removals and no urgent referrals, every patient
    seen waited the lead, then the queue: the two means differ by the lead exactly, at any load."""
    rows = _rows(single_stage(9.0, 10, booking_lead_days=LEAD))  # load 0.9
    for r in rows:
        assert r[QUEUE] > 0.2  # a slotted daily list at load 0.9: about 0.4 days
        assert r[FIRST] == pytest.approx(LEAD + r[QUEUE], rel=1e-12)


def test_a_referral_reaches_a_service_the_day_its_letter_arrives() -> None:
    """Triage refers on with a day's letter; the theatre lists after a day of assessment. A
    service's wait runs from the letter's arrival (when the RTT clock starts at a consultant-led
    service), so it is the lead plus the queue; the theatre's from listing."""
    raw = msksim_scenario()
    raw["stages"]["physio"]["booking_lead_days"] = LEAD
    rows = simulate(scenario_from(raw), "prime", 0)
    (r,) = rows
    assert r["physio_first_wait_mean_days"] == pytest.approx(LEAD + r["physio_queue_wait_mean_days"], rel=1e-12)
    for place in ("triage", "orthopaedics"):  # no lead: the queue alone, from the letter's arrival
        assert r[f"{place}_first_wait_mean_days"] == pytest.approx(r[f"{place}_queue_wait_mean_days"], rel=1e-12)
    assert r["theatre_admission_wait_mean_days"] == pytest.approx(1 + r["theatre_queue_wait_mean_days"], rel=1e-12)
    assert r["theatre_admission_wait_p92_days"] >= r["theatre_admission_wait_mean_days"] > 1
