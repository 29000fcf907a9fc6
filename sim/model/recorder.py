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
from sim.scenario.schema import OUTSIDE_CONTRACT, THEATRE, Scenario

Row = dict[str, Any]
"""One contract year's results: the design's name, the replication, the year and the figures."""

WEEK = 7.0
RTT_STANDARD_WEEKS = 18
LONG_WAIT_WEEKS = 52
WAIT_BINS = N_BANDS  # whole weeks 0..103, and 104 or more
OPERATIONS = ("surgeries_daycase", "surgeries_inpatient", "joint_replacements", "procedures")
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
        row: Row = {"design": self.design, "replication": self.replication, "year": self.year}
        now, base = self.counts, self._base
        row["referrals"] = now.referrals - base.referrals
        row["self_referrals"] = now.self_referrals - base.self_referrals
        row["gp_consultations"] = now.gp_consultations - base.gp_consultations
        row["bounce_backs"] = now.bounce_backs - base.bounce_backs
        row["advice_given"] = now.advice_given - base.advice_given
        row["onward_referrals"] = now.onward_referrals - base.onward_referrals
        row["dna_returns"] = now.dna_returns - base.dna_returns
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
            row[f"{name}_arrivals"] = st.arrivals
            row[f"{name}_first"] = st.first
            row[f"{name}_followup"] = st.followup
            row[f"{name}_dna"] = st.dna_first + st.dna_followup
            row[f"{name}_listed"] = st.listed
            row[f"{name}_advice_and_guidance"] = st.advice_and_guidance
            row[f"{name}_pifu_skipped"] = st.pifu_skipped
            row[f"{name}_overflow"] = st.overflow
            row[f"{name}_removed"] = st.removed
            row[f"{name}_waiting_end"] = c.waiting
            row[f"{name}_list_mean"] = st.list_area / days
            row[f"{name}_list_exits"] = st.list_exits
            row[f"{name}_queue_wait_mean_days"] = _ratio(st.wait_days, st.list_exits)
            row[f"{name}_first_wait_mean_days"] = c.first_waits.mean()
            row[f"{name}_first_wait_p92_days"] = c.first_waits.centile(FIRST_WAIT_CENTILE)
            appointments += st.first + st.followup + st.dna_first + st.dna_followup
            if c.cfg.hospital:
                first_op += st.first
                followup_op += st.followup
            if c.cfg.surgical:
                surgical_first += st.first
                listed += st.listed
            if c.triage:
                triage += st.first
        physio = self.stages.get("physio")
        ps = physio.stats if physio else None
        theatre = self.theatre
        th = theatre.stats
        operations = th.joint + th.other_daycase + th.other_inpatient
        row.update(
            triage_contacts=triage,
            physio_contacts=(ps.first + ps.followup) if ps else 0,
            physio_dna_pct=_pct(ps.dna_first + ps.dna_followup, ps.first + ps.followup + ps.dna_first + ps.dna_followup)
            if ps
            else 0.0,
            first_op_attendances=first_op,
            followup_op_attendances=followup_op,
            followups_per_first_op=_ratio(followup_op, first_op),
            listed_for_surgery=listed,
            conversion_rate=_ratio(listed, surgical_first),
            surgeries_daycase=th.other_daycase,
            surgeries_inpatient=th.joint + th.other_inpatient,
            joint_replacements=th.joint,
            surgeries_avoidable=th.avoidable,
            procedures=th.procedures,
            overflow_joint_replacements=th.overflow_joint,
            overflow_surgeries_daycase=th.overflow_daycase,
            overflow_surgeries_inpatient=th.overflow_joint + th.overflow_inpatient,
            joint_replacements_per_1000=th.joint * 1000.0 / self.scenario.population,
            bed_days=th.bed_days,
            theatre_removed=th.removed,
            theatre_waiting_end=theatre.size,
            theatre_list_mean=th.list_area / days,
            theatre_list_exits=th.list_exits,
            theatre_queue_wait_mean_days=_ratio(th.wait_days, th.list_exits),
            theatre_admission_wait_mean_days=theatre.admission_waits.mean(),
            theatre_admission_wait_p92_days=theatre.admission_waits.centile(FIRST_WAIT_CENTILE),
            appointments=appointments + operations + th.procedures,
        )

    def _added(self, row: Row) -> None:
        """What capacity policies added this year, per place: sessions run, slots, the most
        sessions a week in force (zeros at a place whose capacity is fixed)."""
        for name, plan in zip(self.places, self._plans(), strict=True):
            row[f"{name}_sessions_added"] = plan.sessions_run if plan else 0.0
            row[f"{name}_slots_added"] = plan.slots_added if plan else 0.0
            row[f"{name}_sessions_peak"] = plan.sessions_peak if plan else 0

    def _outside_contract(self, row: Row) -> None:
        """Care outside the contract, counted apart: ``outside_contract_<count>`` is the part of
        ``<count>`` that was (the counts above hold it too: it uses the same capacity)."""
        pre = f"{OUTSIDE_CONTRACT}_"
        row[f"{pre}referrals"] = self.counts.outside_referrals - self._base.outside_referrals
        for name, c in self.stages.items():
            row[f"{pre}{name}_first"] = c.stats.outside_first
            row[f"{pre}{name}_followup"] = c.stats.outside_followup
        th = self.theatre.stats
        row[f"{pre}joint_replacements"] = th.outside_joint
        row[f"{pre}surgeries_daycase"] = th.outside_daycase
        row[f"{pre}surgeries_inpatient"] = th.outside_joint + th.outside_inpatient
        row[f"{pre}procedures"] = th.outside_procedures
        row[f"{pre}overflow_joint_replacements"] = th.outside_overflow_joint
        row[f"{pre}overflow_surgeries_daycase"] = th.outside_overflow_daycase
        row[f"{pre}overflow_surgeries_inpatient"] = th.outside_overflow_joint + th.outside_overflow_inpatient

    def _journeys(self, row: Row) -> None:
        """Journeys that ended this year: how, how long, and whether they reached hospital."""
        j = self.journeys
        ended = len(j.days)
        weeks = np.asarray(j.days, dtype=float) / WEEK
        row.update(
            journeys_ended=ended,
            journeys_resolved_pct=_pct(j.outcomes[Outcome.RESOLVED], ended),
            journeys_unresolved=j.outcomes[Outcome.UNRESOLVED],
            journeys_dna_discharged=j.outcomes[Outcome.DNA],
            journeys_removed=j.outcomes[Outcome.REMOVED],
            journey_weeks_mean=float(weeks.mean()) if ended else 0.0,
            journey_weeks_p92=float(np.quantile(weeks, 0.92)) if ended else 0.0,
            rereferrals_per_journey=_ratio(j.rereferrals, ended),
            hospital_diversion_pct=_pct(j.hospital_bound_diverted, j.hospital_bound),
            never_in_hospital_op_pct=_pct(j.never_hospital, ended),
        )

    def _waits(self, row: Row) -> None:
        """RTT: month-end incomplete pathways averaged over the year, and completed ones."""
        snaps = np.asarray(self._snapshots, dtype=float).reshape(-1, 4 + len(BREACH_WEEKS))
        stops = np.asarray(self.rtt.stops, dtype=float) / WEEK
        columns = range(snaps.shape[1])
        mean = [float(snaps[:, i].mean()) for i in columns] if len(snaps) else [100.0] + [0.0] * (len(columns) - 1)
        qaly = self.health.total - self._qaly_at_start
        row.update(
            rtt_incomplete_within_18w_pct=(mean[0]),
            rtt_wait_p92_weeks=(mean[1]),
            rtt_wait_median_weeks=(mean[2]),
            rtt_incomplete_mean=(mean[3]),
            rtt_incomplete_52w_mean=(mean[4]),
            rtt_incomplete_65w_mean=(mean[5]),
            rtt_incomplete_78w_mean=(mean[6]),
            rtt_completed=len(stops),
            rtt_completed_weeks_mean=float(stops.mean()) if len(stops) else 0.0,
            waiting_list_end=self.waiting_list(),
            qaly_lost_waiting=qaly,
            qaly_lost_per_1000_referrals=1000 * qaly / max(row["referrals"], 1),
            in_system_end=self.counts.created - self.counts.discharged,
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
