"""What a run records: counters per contract year, month-end RTT snapshots and returns,
finished journeys.

Nothing is kept per patient beyond the year in which their journey ends: a year's counters
become one row and are reset, so memory follows what is in the system, not what has passed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import numpy as np

from sim.model.capacity import add_years
from sim.model.clinic import Clinic
from sim.model.clocks import RTTClocks
from sim.model.counters import Flows, RunCounts
from sim.model.kinds import Outcome, Part
from sim.model.outcomes import HealthLost, JourneyStats
from sim.model.policy import CapacityPlan
from sim.model.theatre import Theatre
from sim.rtt.bands import N_BANDS, percentile, within_pct
from sim.scenario import names as col
from sim.scenario.names import per
from sim.scenario.schema import THEATRE, Scenario

Row = dict[str, Any]
"""One contract year's results: the design's name, the replication, the year and the figures."""

WEEK = 7.0
RTT_STANDARD_WEEKS = 18
LONG_WAIT_WEEKS = 52
WAIT_BINS = N_BANDS  # whole weeks 0..103, and 104 or more
OPERATIONS = (col.SURGERIES_DAYCASE, col.SURGERIES_INPATIENT, col.JOINT_REPLACEMENTS, col.PROCEDURES)
"""The month's operations, named as in a year's row (inpatient includes joint replacements)."""
ADDED = ("sessions_added", "slots_added")
"""What a place's capacity policy added in a month (``{place}_sessions_added``...)."""
BREACH_WEEKS = (52, 65, 78)
FIRST_WAIT_CENTILE = 0.92
"""The centile of the waits for a first appointment (and for an operation): the 92 of the 18-week standard."""
BAND_EDGES = (0, 6, 12, 18, 26, 39, 52, 65, 78, 104, np.inf)
BAND_NAMES = tuple(f"rtt_weeks_{a}_{b}" if np.isfinite(b) else f"rtt_weeks_{a}_plus" for a, b in pairwise(BAND_EDGES))


class Recorder:
    """Takes month-end snapshots and closes each contract year into a row.

    It holds the run's counters: of patients and what the pathway did (``counts``), moves
    between places (``flows``), journeys ended (``journeys``) and health lost (``health``). It
    reads the services' and the theatre's own counters and lists, and the RTT clocks.
    """

    def __init__(
        self, scenario: Scenario, design: str, replication: int, first_day: date, days: int,
        stages: dict[str, Clinic], theatre: Theatre, rtt: RTTClocks,
    ):  # fmt: skip
        self.scenario, self.design, self.replication = scenario, design, replication
        self.first_day, self.days = first_day, days
        self.stages, self.theatre, self.rtt = stages, theatre, rtt
        self.counts = RunCounts()
        self.flows = Flows()
        self.journeys = JourneyStats()
        self.health = HealthLost(list(scenario.demand.conditions.values()))
        self.rows: list[Row] = []
        self.series: list[tuple[int, int, int, int]] = []  # weekly (day, waiting, in system, clocks), warm-up included
        self.monthly: list[list[float]] = []  # month ends after warm-up: day, year, RTT %, p92, clocks, lists...
        self.monthly_columns = [
            "day", "year", "rtt_incomplete_within_18w_pct", "rtt_wait_p92_weeks", "rtt_wait_median_weeks", "rtt_incomplete",
            *(f"rtt_over_{w}w" for w in BREACH_WEEKS), *BAND_NAMES, *(f"{n}_waiting" for n in [*stages, THEATRE]),
            *(f"{n}_waiting_mean" for n in [*stages, THEATRE]),
            *(f"{n}_{kind}" for n in stages for kind in ("first", "followup")), *OPERATIONS,
        ]  # fmt: skip
        # Places whose capacity may answer demand: what their policies added, by month and year
        # (every place, so designs with and without a policy have the same columns).
        self.places = [*stages, THEATRE] if scenario.capacity_policies_act else []
        self.monthly_columns += [f"{n}_{kind}" for n in self.places for kind in ADDED]
        self.wait_hist: np.ndarray = np.zeros(WAIT_BINS, dtype=np.int64)  # weeks waited by incomplete pathways at month ends
        self.returns: list[list[Any]] = []  # RTT returns: month, year, function, part, counts by band (no trailing 0s)
        self.year = 0  # 0 is the warm-up, discarded
        first = first_day
        start = scenario.run.start_date
        years = scenario.run.years
        self.year_starts = [(add_years(start, k) - first).days for k in range(years + 1)]
        self.month_ends = [(_d - first).days for _d in _month_starts(start, add_years(start, years))]
        self._weeks = set(range(0, days, 7))
        self._events = {t for t in {*self.month_ends, *self.year_starts, *self._weeks} if t < days}
        self._snapshots: list[tuple[float, ...]] = []
        # Lists summed over the month's days (at the start of each): a list that is empty but for a
        # few days after a bank holiday is seen as it is, not by whether the month ends in those days.
        self._list_sums: list[int] = [0] * (len(stages) + 1)  # daily lists added up (ints: exact)
        self._list_days = 0
        # Activity counters run by contract year; a month's activity is their change since the
        # last month end, plus what a year that closed within the month had done by then.
        self._activity_then = np.zeros(2 * len(stages) + len(OPERATIONS) + len(ADDED) * len(self.places))
        self._activity_carry = np.zeros_like(self._activity_then)
        self._qaly_at_start = 0.0
        self._base = RunCounts()  # the counts when the year started
        self.outside = scenario.counts_outside_contract  # its columns, even in a replication that drew none

    def at(self, day: int) -> None:
        """Start of ``day``: take the week's, month's or year's snapshot if one falls due."""
        if day in self._events:
            if day in self._weeks:
                counts = self.counts
                self.series.append((day, self.waiting_list(), counts.created - counts.discharged, self.rtt.open))
            self._boundary(day)
            if day in self.month_ends or day == self.year_starts[0]:
                return  # its lists closed the month just ended, or the warm-up
        if self.year > 0:
            sums = self._list_sums  # added in place: a NumPy call a day cost more than the sums
            for i, n in enumerate(self._lists()):
                sums[i] += n
            self._list_days += 1

    def _lists(self) -> list[int]:
        """Patients on each service's list and the theatre's, now."""
        return [c.waiting for c in self.stages.values()] + [self.theatre.size]

    def waiting_list(self) -> int:
        """Patients waiting for a first appointment anywhere, plus the surgical list."""
        return sum(c.waiting for c in self.stages.values()) + self.theatre.size

    def _removals_due(self, day: int) -> None:
        """A month ends: those who left a list unseen before ``day`` are counted off everywhere."""
        for clinic in self.stages.values():
            clinic.remove_due(day)
        self.theatre.remove_due(day)

    def finish(self, day: int) -> None:
        """Close the boundary at the very end of the run (SimPy stops before it)."""
        if day in self.month_ends or day in self.year_starts:
            self._boundary(day)

    def _boundary(self, t: int) -> None:
        if t in self.month_ends or t in self.year_starts:
            self._removals_due(t)  # before the month's counts and lists are read
        if t in self.month_ends and self.year > 0:
            self._month_end(t)
        if t in self.year_starts:
            if self.year > 0:
                self.rows.append(self._close_year())
            else:
                start = self._start(t)
            self._reset()
            self.year += 1
            self.flows.counting = self.rtt.counting = True
            if t == 0 and self.scenario.backlog is not None:
                self._snapshot(0, start)  # the position the run starts from
                self._snapshots.pop()  # ...which belongs to no month of the contract

    def _start(self, t: int) -> np.ndarray:
        """The contract starts: the returns start from the lists as they stand (year 0).
        Returns the incomplete pathways of all functions by week band."""
        rtt, month = self.rtt, self._month(t)
        total = np.zeros(N_BANDS, dtype=np.int64)
        for code, counts in zip(rtt.functions, rtt.incomplete(t), strict=True):
            self.returns.append([month, 0, code, Part.INCOMPLETE.value, *_trimmed(counts)])
            total += counts
        rtt.restart()
        return total

    def _month(self, t: int) -> str:
        """The month that ends before day ``t``, as YYYY-MM."""
        return (self.first_day + timedelta(days=t - 1)).strftime("%Y-%m")

    def _month_end(self, t: int) -> None:
        """The month's RTT return, by treatment function, and the snapshot of all functions."""
        month, total = self._month(t), np.zeros(N_BANDS, dtype=np.int64)
        for code, part, counts in self.rtt.month(t):
            self.returns.append([month, self.year, code, part, *_trimmed(counts)])
            if part == Part.INCOMPLETE:
                total += counts
        self._snapshot(t, total)

    def _snapshot(self, day: int, weeks: np.ndarray) -> None:
        """Month end: the incomplete pathways by week band, as the NHS RTT statistics count
        them (``weeks``: all treatment functions together)."""
        n = int(weeks.sum())
        if n:
            within = within_pct(weeks, RTT_STANDARD_WEEKS)
            p92, median = percentile(weeks, 0.92), percentile(weeks, 0.5)
            over = [int(weeks[w:].sum()) for w in BREACH_WEEKS]
            bands = [int(weeks[int(a) : int(min(b, WAIT_BINS))].sum()) for a, b in pairwise(BAND_EDGES)]
            self.wait_hist += weeks
        else:
            within, p92, median, over, bands = 100.0, 0.0, 0.0, [0] * len(BREACH_WEEKS), [0] * (len(BAND_EDGES) - 1)
        self._snapshots.append((within, p92, median, n, *over))
        lists = self._lists()
        days = self._list_days + 1
        means = [(total + n) / days for total, n in zip(self._list_sums, lists, strict=True)]
        self._list_sums, self._list_days = [0] * len(lists), 0
        now = self._activity()
        done = (self._activity_carry + now - self._activity_then).tolist()
        self._activity_then, self._activity_carry = now, np.zeros_like(now)
        self.monthly.append([day, self.year, within, p92, median, n, *over, *bands, *lists, *means, *done])

    def _activity(self) -> np.ndarray:
        """The year's activity so far: attended firsts and follow-ups per service, operations by kind, procedures."""
        th = self.theatre.stats
        counts = [x for c in self.stages.values() for x in (c.stats.first, c.stats.followup)]
        added = [x for plan in self._plans() for x in ((plan.sessions_run, plan.slots_added) if plan else (0.0, 0.0))]
        return np.array([*counts, th.other_daycase, th.joint + th.other_inpatient, th.joint, th.procedures, *added], dtype=float)

    def _plans(self) -> list[CapacityPlan | None]:
        """Each place's capacity plan (None: fixed), when the scenario has policies that act."""
        if not self.places:
            return []
        return [c.plan for c in self.stages.values()] + [self.theatre.plan]

    def _reset(self) -> None:
        if self.year > 0:  # the year closing did this since the last month end: the running month's
            self._activity_carry += self._activity() - self._activity_then
        self._activity_then = np.zeros_like(self._activity_then)
        for c in self.stages.values():
            c.stats.reset()
            c.first_waits.reset()
        self.theatre.stats.reset()
        self.theatre.admission_waits.reset()
        for plan in self._plans():
            if plan is not None:
                plan.new_year()
        self.journeys.reset()
        self._snapshots = []
        self.rtt.stops = []
        self._qaly_at_start = self.health.total
        self._base = replace(self.counts)

    def _close_year(self) -> Row:
        days = self.year_starts[self.year] - self.year_starts[self.year - 1]
        row: Row = {col.DESIGN: self.design, col.REPLICATION: self.replication, col.YEAR: self.year}
        now, base = self.counts, self._base
        row[col.REFERRALS] = now.referrals - base.referrals
        row[col.SELF_REFERRALS] = now.self_referrals - base.self_referrals
        row[col.GP_CONSULTATIONS] = now.gp_consultations - base.gp_consultations
        row[col.BOUNCE_BACKS] = now.bounce_backs - base.bounce_backs
        row[col.ADVICE_GIVEN] = now.advice_given - base.advice_given
        row[col.ONWARD_REFERRALS] = now.onward_referrals - base.onward_referrals
        row[col.DNA_RETURNS] = now.dna_returns - base.dna_returns
        self._services(row, days)
        self._added(row)
        if self.outside:
            self._outside_contract(row)
        self._journeys(row)
        self._waits(row)
        return row

    def _services(self, row: Row, days: int) -> None:
        """Activity and lists per service and for the theatre, and the totals over them."""
        first_op = followup_op = surgical_first = listed = triage = appointments = 0
        for name, c in self.stages.items():
            st = c.stats
            row[per(col.STAGE_ARRIVALS, stage=name)] = st.arrivals
            row[per(col.STAGE_FIRST, stage=name)] = st.first
            row[per(col.STAGE_FOLLOWUP, stage=name)] = st.followup
            row[per(col.STAGE_DNA, stage=name)] = st.dna_first + st.dna_followup
            row[per(col.STAGE_LISTED, stage=name)] = st.listed
            row[per(col.STAGE_ADVICE_AND_GUIDANCE, stage=name)] = st.advice_and_guidance
            row[per(col.STAGE_PIFU_SKIPPED, stage=name)] = st.pifu_skipped
            row[per(col.STAGE_OVERFLOW, stage=name)] = st.overflow
            row[per(col.STAGE_REMOVED, stage=name)] = st.removed
            row[per(col.STAGE_WAITING_END, stage=name)] = c.waiting
            row[per(col.STAGE_LIST_MEAN, stage=name)] = st.list_area / days
            row[per(col.STAGE_LIST_EXITS, stage=name)] = st.list_exits
            row[per(col.STAGE_QUEUE_WAIT_MEAN_DAYS, stage=name)] = _ratio(st.wait_days, st.list_exits)
            row[per(col.STAGE_FIRST_WAIT_MEAN_DAYS, stage=name)] = c.first_waits.mean()
            row[per(col.STAGE_FIRST_WAIT_P92_DAYS, stage=name)] = c.first_waits.centile(FIRST_WAIT_CENTILE)
            appointments += st.first + st.followup + st.dna_first + st.dna_followup
            if c.cfg.hospital:
                first_op += st.first
                followup_op += st.followup
            if c.cfg.surgical:
                surgical_first += st.first
                listed += st.listed
            if c.triage:
                triage += st.first
        physio = self.stages.get(col.PHYSIO)
        ps = physio.stats if physio else None
        theatre = self.theatre
        th = theatre.stats
        operations = th.joint + th.other_daycase + th.other_inpatient
        row.update(
            {
                col.TRIAGE_CONTACTS: triage,
                col.PHYSIO_CONTACTS: (ps.first + ps.followup) if ps else 0,
                col.PHYSIO_DNA_PCT: _pct(ps.dna_first + ps.dna_followup, ps.first + ps.followup + ps.dna_first + ps.dna_followup)
                if ps
                else 0.0,
                col.FIRST_OP_ATTENDANCES: first_op,
                col.FOLLOWUP_OP_ATTENDANCES: followup_op,
                col.FOLLOWUPS_PER_FIRST_OP: _ratio(followup_op, first_op),
                col.LISTED_FOR_SURGERY: listed,
                col.CONVERSION_RATE: _ratio(listed, surgical_first),
                col.SURGERIES_DAYCASE: th.other_daycase,
                col.SURGERIES_INPATIENT: th.joint + th.other_inpatient,
                col.JOINT_REPLACEMENTS: th.joint,
                col.SURGERIES_AVOIDABLE: th.avoidable,
                col.PROCEDURES: th.procedures,
                col.OVERFLOW_JOINT_REPLACEMENTS: th.overflow_joint,
                col.OVERFLOW_SURGERIES_DAYCASE: th.overflow_daycase,
                col.OVERFLOW_SURGERIES_INPATIENT: th.overflow_joint + th.overflow_inpatient,
                col.JOINT_REPLACEMENTS_PER_1000: th.joint * 1000.0 / self.scenario.population,
                col.BED_DAYS: th.bed_days,
                col.THEATRE_REMOVED: th.removed,
                col.THEATRE_WAITING_END: theatre.size,
                col.THEATRE_LIST_MEAN: th.list_area / days,
                col.THEATRE_LIST_EXITS: th.list_exits,
                col.THEATRE_QUEUE_WAIT_MEAN_DAYS: _ratio(th.wait_days, th.list_exits),
                col.THEATRE_ADMISSION_WAIT_MEAN_DAYS: theatre.admission_waits.mean(),
                col.THEATRE_ADMISSION_WAIT_P92_DAYS: theatre.admission_waits.centile(FIRST_WAIT_CENTILE),
                col.APPOINTMENTS: appointments + operations + th.procedures,
            }
        )

    def _added(self, row: Row) -> None:
        """What capacity policies added this year, per place: sessions run, slots, the most
        sessions a week in force (zeros at a place whose capacity is fixed)."""
        for name, plan in zip(self.places, self._plans(), strict=True):
            row[per(col.STAGE_SESSIONS_ADDED, stage=name)] = plan.sessions_run if plan else 0.0
            row[per(col.STAGE_SLOTS_ADDED, stage=name)] = plan.slots_added if plan else 0.0
            row[per(col.STAGE_SESSIONS_PEAK, stage=name)] = plan.sessions_peak if plan else 0

    def _outside_contract(self, row: Row) -> None:
        """Care outside the contract, counted apart: ``outside_contract_<count>`` is the part of
        ``<count>`` that was (the counts above hold it too: it uses the same capacity)."""
        row[col.OUTSIDE_CONTRACT_REFERRALS] = self.counts.outside_referrals - self._base.outside_referrals
        for name, c in self.stages.items():
            row[per(col.OUTSIDE_CONTRACT_STAGE_FIRST, stage=name)] = c.stats.outside_first
            row[per(col.OUTSIDE_CONTRACT_STAGE_FOLLOWUP, stage=name)] = c.stats.outside_followup
        th = self.theatre.stats
        row[col.OUTSIDE_CONTRACT_JOINT_REPLACEMENTS] = th.outside_joint
        row[col.OUTSIDE_CONTRACT_SURGERIES_DAYCASE] = th.outside_daycase
        row[col.OUTSIDE_CONTRACT_SURGERIES_INPATIENT] = th.outside_joint + th.outside_inpatient
        row[col.OUTSIDE_CONTRACT_PROCEDURES] = th.outside_procedures
        row[col.OUTSIDE_CONTRACT_OVERFLOW_JOINT_REPLACEMENTS] = th.outside_overflow_joint
        row[col.OUTSIDE_CONTRACT_OVERFLOW_SURGERIES_DAYCASE] = th.outside_overflow_daycase
        row[col.OUTSIDE_CONTRACT_OVERFLOW_SURGERIES_INPATIENT] = th.outside_overflow_joint + th.outside_overflow_inpatient

    def _journeys(self, row: Row) -> None:
        """Journeys that ended this year: how, how long, and whether they reached hospital."""
        j = self.journeys
        ended = len(j.days)
        weeks = np.asarray(j.days, dtype=float) / WEEK
        row.update(
            {
                col.JOURNEYS_ENDED: ended,
                col.JOURNEYS_RESOLVED_PCT: _pct(j.outcomes[Outcome.RESOLVED], ended),
                col.JOURNEYS_UNRESOLVED: j.outcomes[Outcome.UNRESOLVED],
                col.JOURNEYS_DNA_DISCHARGED: j.outcomes[Outcome.DNA],
                col.JOURNEYS_REMOVED: j.outcomes[Outcome.REMOVED],
                col.JOURNEY_WEEKS_MEAN: float(weeks.mean()) if ended else 0.0,
                col.JOURNEY_WEEKS_P92: float(np.quantile(weeks, 0.92)) if ended else 0.0,
                col.REREFERRALS_PER_JOURNEY: _ratio(j.rereferrals, ended),
                col.HOSPITAL_DIVERSION_PCT: _pct(j.hospital_bound_diverted, j.hospital_bound),
                col.NEVER_IN_HOSPITAL_OP_PCT: _pct(j.never_hospital, ended),
            }
        )

    def _waits(self, row: Row) -> None:
        """RTT: month-end incomplete pathways averaged over the year, and completed ones."""
        snaps = np.asarray(self._snapshots, dtype=float).reshape(-1, 4 + len(BREACH_WEEKS))
        stops = np.asarray(self.rtt.stops, dtype=float) / WEEK
        columns = range(snaps.shape[1])
        mean = [float(snaps[:, i].mean()) for i in columns] if len(snaps) else [100.0] + [0.0] * (len(columns) - 1)
        qaly = self.health.total - self._qaly_at_start
        row.update(
            {
                col.RTT_INCOMPLETE_WITHIN_18W_PCT: (mean[0]),
                col.RTT_WAIT_P92_WEEKS: (mean[1]),
                col.RTT_WAIT_MEDIAN_WEEKS: (mean[2]),
                col.RTT_INCOMPLETE_MEAN: (mean[3]),
                col.RTT_INCOMPLETE_52W_MEAN: (mean[4]),
                col.RTT_INCOMPLETE_65W_MEAN: (mean[5]),
                col.RTT_INCOMPLETE_78W_MEAN: (mean[6]),
                col.RTT_COMPLETED: len(stops),
                col.RTT_COMPLETED_WEEKS_MEAN: float(stops.mean()) if len(stops) else 0.0,
                col.WAITING_LIST_END: self.waiting_list(),
                col.QALY_LOST_WAITING: qaly,
                col.QALY_LOST_PER_1000_REFERRALS: 1000 * qaly / max(row[col.REFERRALS], 1),
                col.IN_SYSTEM_END: self.counts.created - self.counts.discharged,
            }
        )


def _trimmed(counts: list[int]) -> list[int]:
    """Counts by week band without the zeros after the last wait counted (most waits are short)."""
    n = len(counts)
    while n and not counts[n - 1]:
        n -= 1
    return counts[:n]


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _pct(a: float, b: float) -> float:
    return 100.0 * a / b if b else 0.0


def _month_starts(start: date, end: date) -> list[date]:
    """First days of months after ``start`` up to ``end``: each marks the previous month's end."""
    out = []
    d = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    while d <= end:
        out.append(d)
        d = (d + timedelta(days=32)).replace(day=1)
    return out
