"""An appointment-based service: each working day it offers its slots to those waiting.

Booked follow-ups (and rebooked first appointments) that are due come first; then new
patients, urgent before routine, longest waiting first. A did-not-attend uses the slot;
the patient is rebooked, or discharged after ``max_dna`` misses in a row. Some of those
waiting leave the list without being seen (:mod:`sim.model.removals`): the day each would
leave is drawn when they join, and found when their turn comes or at the month end,
whichever is first, so a removal costs no event and no search.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING

from sim.model.clocks import NONADMITTED
from sim.model.counters import DayCounts, ListCounters
from sim.model.draws import LCG_INCREMENT, LCG_MULTIPLIER, LOW_53, MASK, TO_UNIT, CountTable
from sim.model.patient import NEVER, NO_CLOCK, NORMAL, NOT_WAITING, Patient
from sim.model.policy import CapacityPlan, share_within_18w, waiting_since
from sim.model.removals import BOOKING, RemovalTimes, leaving_day
from sim.scenario.schema import NEEDS, Stage, removal_bands

if TYPE_CHECKING:
    from sim.model.pathway import Pathway

WORKUP = -1
"""``Patient.left`` of a patient booked for the follow-up where the decision is made..."""
WORKUP_LISTED = -2
"""... and of one whom that decision will list for surgery (decided by the draws at the first visit)."""


@dataclass
class StageStats(ListCounters):
    """Counters of one stage for the current contract year."""

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


class Clinic:
    """A service stage: waiting list, booked follow-ups and a daily session.

    Referrals arrive in time order, so each priority's waiting list is a plain FIFO queue
    (longest waiting first); bookings are kept in buckets by due day and move, in order, to
    a queue of due appointments on the day they fall due.
    """

    def __init__(self, name: str, cfg: Stage, capacity: list[float], model: Pathway, index: int):
        self.name = name
        self.cfg = cfg
        self.model = model
        self.capacity = capacity
        self.urgent: deque[tuple[int, Patient]] = deque()  # (day listed, patient)
        self.routine: deque[tuple[int, Patient]] = deque()
        self.bookings: dict[int, list[Patient]] = {}  # due day -> patients (Patient.first_booked: a first visit?)
        # day they can be listed -> referrals, urgent and routine apart, so a day's arrivals
        # join their list in one C-level extend rather than one append each
        self.incoming: tuple[dict[int, list[Patient]], dict[int, list[Patient]]] = ({}, {})
        self.due: deque[Patient] = deque()
        self.stats = StageStats()
        # days from the referral reaching the service to the first appointment attended there
        self.first_waits = DayCounts()
        tables: dict[float, CountTable] = {}
        self.courses: dict[str, CountTable] = {}
        for n in NEEDS:
            mean = cfg.contacts(n)
            if mean not in tables:
                tables[mean] = CountTable(mean, offset=1)
            self.courses[n] = tables[mean]
        self.resolves: dict[str, float] = {n: cfg.resolves.get(n, 0.0) for n in NEEDS}
        self.listing: dict[str, float] = {n: cfg.list_for_surgery.get(n, 0.0) for n in NEEDS}
        self.triage: bool = cfg.kind == "triage"
        self.diagnostic: bool = cfg.kind == "diagnostic"
        order = list(model.scenario.stages)
        self.tests: list[tuple[str, float, int]] = [(t, share, order.index(t)) for t, share in cfg.tests.items() if share > 0]
        self.ag: float = cfg.advice_and_guidance_share
        self.ag_return: float = cfg.advice_and_guidance_return_share
        self.pifu: float = cfg.pifu_share
        self.pifu_return: float = cfg.pifu_return_rate
        self.overflow_after: float | None = cfg.overflow_after_weeks * 7 if cfg.overflow_to else None
        self.lead: int = cfg.booking_lead_days
        self.spread: float = cfg.booking_lead_spread_days
        self.workup: float = cfg.decision_at_followup_share
        self.procedure: float = cfg.procedure_share
        self.long_wait: float | None = cfg.long_wait_weeks * 7 if cfg.booking == "long_waiters_first" else None
        self.pending = 0
        # Typed attributes for what the hot path reads on every appointment: compiled, they
        # are machine values rather than lookups on the validated settings.
        self.hospital: bool = cfg.hospital
        self.consultant_led: bool = cfg.consultant_led
        self.interval: int = cfg.followup_interval_days
        self.assessment_only: bool = cfg.assessment_only_if_unresolved
        self.dna_first: float = cfg.dna_first
        self.dna_followup: float = cfg.dna_followup
        self.max_dna: int = cfg.max_dna
        self.dna_rebook: int = cfg.dna_rebook_days
        self.dna_return: float = cfg.dna_return_rate
        self.function = -1  # the treatment function its clocks report under (set by the pathway)
        self.index = index  # the service's place in the scenario: part of its patients' stream keys
        self.removal = RemovalTimes(removal_bands(cfg.removal_rate_per_week))
        self.stale_share: float = cfg.stale_share
        self.stale = RemovalTimes(removal_bands(cfg.stale_removal_rate_per_week))
        self.removing: bool = self.removal.active or self.stale_share > 0.0
        self.gone = 0  # removed patients still in the queues, skipped when reached
        self.plan: CapacityPlan | None = None  # what its capacity policy adds (none: fixed)

    @property
    def waiting(self) -> int:
        """Patients referred here and not yet seen: on the list, or still being booked."""
        return len(self.urgent) + len(self.routine) - self.gone + self.pending

    # -- entering the stage -------------------------------------------------------------

    def refer(self, p: Patient, day: int, delay: int = 0) -> None:
        """Accept a referral made on ``day`` that arrives ``delay`` days later.

        Routine patients then wait ``booking_lead_days`` (letters, vetting, notice), and
        a further exponential delay of mean ``booking_lead_spread_days`` when one is set,
        before they can be offered a slot; urgent ones join the list as soon as they arrive.
        The wait for a first appointment runs from the arrival, ``day + delay`` (the day the
        RTT clock starts, where one starts here).
        """
        self.stats.arrivals += 1
        p.dnas = 0
        p.reached = day + delay
        wait = delay if p.urgent else delay + self.lead
        stale = self._joins(p, day + delay, 0.0)
        u = p.here_u()  # drawn whatever the spread, so the episode's later draws line up across designs
        if stale:  # never offered a slot: waits, being booked, until validation takes it off
            wait = int(p.leaves) - day
        elif self.spread > 0.0 and not p.urgent:
            wait += int(-self.spread * math.log(1.0 - u))
        if wait:
            self.pending += 1
            self._incoming(p, day + wait)
        else:
            (self.urgent if p.urgent else self.routine).append((day, p))

    def _incoming(self, p: Patient, due: int) -> None:
        """The patient can be offered a slot from day ``due``, still being booked till then."""
        incoming = self.incoming[p.urgent]
        bucket = incoming.get(due)
        if bucket is None:
            incoming[due] = [p]
        else:
            bucket.append(p)

    def _joins(self, p: Patient, day: int, waited: float) -> bool:
        """The patient waits here from ``day``, having waited ``waited`` days already: the day
        they would leave unseen, if still waiting then, is fixed now. True for a stale pathway."""
        u = p.here_u()  # drawn whatever the rate, so the episode's later draws line up
        p.waiting_at = self.index
        if not self.removing:
            p.leaves = NEVER
            return False
        p.leaves, stale = leaving_day(self.removal, self.stale, self.stale_share, day, waited, u)
        return stale

    def _leave(self, p: Patient, left: float, today: int, entered: int) -> None:
        """A patient left unseen on day ``left``, found so on ``today``: on the list since
        ``entered``, or still being booked (``entered`` is :data:`BOOKING`)."""
        day = int(left)
        p.waiting_at = NOT_WAITING
        self.stats.left_unseen(day, today, entered, BOOKING)
        self.model.discharge(p, day, "removed")

    def remove_due(self, today: int) -> None:
        """A month ends: those who left unseen before ``today`` leave the list now, so the month's
        counts and the month-end list are right. (Between month ends a removal is found when
        the patient's turn comes, and dated back.)"""
        if not self.removing:
            return
        index = self.index
        for queue in (self.urgent, self.routine):
            for entered, p in queue:
                if p.waiting_at == index and p.leaves < today:
                    self._leave(p, p.leaves, today, entered)
                    self.gone += 1
        for buckets in self.incoming:
            for bucket in buckets.values():
                for p in bucket:
                    if p.waiting_at == index and p.leaves < today:
                        self._leave(p, p.leaves, today, BOOKING)
                        self.pending -= 1

    def waiting_since(self, p: Patient, listed: int) -> None:
        """A patient already waiting here since day ``listed`` when the run starts."""
        p.reached = listed
        if self._joins(p, 0, float(-listed)):
            self.pending += 1
            self._incoming(p, max(int(p.leaves), 0))
        else:
            (self.urgent if p.urgent else self.routine).append((listed, p))

    def book(self, p: Patient, due: int, first: bool = False) -> None:
        """Book an appointment on a given day (a follow-up, or a rebooked first visit)."""
        p.first_booked = first
        bucket = self.bookings.get(due)
        if bucket is None:
            self.bookings[due] = [p]
        else:
            bucket.append(p)

    # -- the daily session ---------------------------------------------------------------

    def day(self, day: int) -> None:
        """The day: bookings and arrivals fall due, the session's slots are offered, and
        routine patients who have waited too long go to the overflow provider."""
        today = self.bookings.pop(day, None)
        if today:
            self.due.extend(today)
        for urgent in (False, True):
            arriving = self.incoming[urgent].pop(day, None)
            if arriving:
                if self.removing:
                    arriving = self._still_waiting(arriving, day)
                self.pending -= len(arriving)
                (self.urgent if urgent else self.routine).extend(zip(repeat(day), arriving))
        slots = int(self.capacity[day]) if day < len(self.capacity) else 0
        plan = self.plan
        if plan is not None:
            slots += int(plan.added(day, float(slots)))
        if slots:
            self.session(day, slots)
        if self.overflow_after is not None:
            self._overflow(day, day - self.overflow_after)
        self.stats.list_area += len(self.urgent) + len(self.routine) - self.gone

    def _still_waiting(self, arriving: list[Patient], day: int) -> list[Patient]:
        """A day's arrivals on the list, but for those removed while being booked: counted
        off at a month end already, or leaving by today (counted off here)."""
        index = self.index
        kept = [p for p in arriving if p.waiting_at == index]
        for p in kept:
            if p.leaves <= day:
                self._leave(p, p.leaves, day, BOOKING)
                self.pending -= 1
        return [p for p in kept if p.waiting_at == index]

    def _overflow(self, day: int, cutoff: float) -> None:
        """Routine patients listed on or before ``cutoff`` go to the overflow provider."""
        routine = self.routine
        while routine and routine[0][0] <= cutoff:
            entered, p = routine.popleft()
            if p.waiting_at != self.index:  # removed at a month end
                self.gone -= 1
                continue
            if p.leaves <= day:
                self._leave(p, p.leaves, day, entered)
                continue
            p.waiting_at = NOT_WAITING
            self.model.overflow(self, p, day)

    def session(self, day: int, slots: int) -> None:
        """Offer ``slots`` appointments: due bookings first, then the waiting list.

        The hot loop of the whole model: the attendance draw (the next number of the
        patient's stream for this episode, ``Patient.here_u`` written out) and follow-up
        bookings are inlined here rather than called, which halves the cost of an appointment.
        """
        due, bookings = self.due, self.bookings
        dna_first, dna_followup = self.dna_first, self.dna_followup
        interval = self.interval
        followups = outside = 0
        while slots and due:
            p = due.popleft()
            first = p.first_booked
            slots -= 1
            s = p.here
            p.here = (s * LCG_MULTIPLIER + LCG_INCREMENT) & MASK
            top: int = (s >> 11) & LOW_53
            if top * TO_UNIT < (dna_first if first else dna_followup):
                self._missed(p, day, first)
            elif first:
                self._first(p, day)
            else:
                followups += 1
                if p.outside:
                    outside += 1
                p.dnas = 0
                if p.left < 0:  # the decision a first attendance put off
                    self._decide(p, day, p.left == WORKUP_LISTED)
                    continue
                left = p.left - 1
                if left > 0 and self.pifu and p.phase == NORMAL:
                    left = self._skip_followups(p, left)
                p.left = left
                if left > 0:
                    p.first_booked = False
                    bucket = bookings.get(day + interval)
                    if bucket is None:
                        bookings[day + interval] = [p]
                    else:
                        bucket.append(p)
                else:
                    self._end(p, day)
        stats = self.stats
        stats.followup += followups
        stats.outside_followup += outside
        long_wait = self.long_wait
        if long_wait is not None and slots and self.routine:
            self._long_waiters_to_front(day - long_wait)  # before the routine list is served, after bookings
        index = self.index
        for queue in (self.urgent, self.routine):
            while slots and queue:
                entered, p = queue.popleft()
                if p.waiting_at != index:  # removed at a month end
                    self.gone -= 1
                    continue
                if p.leaves <= day:  # left the list unseen before their turn came
                    self._leave(p, p.leaves, day, entered)
                    continue
                p.waiting_at = NOT_WAITING
                slots -= 1
                stats.list_exits += 1
                stats.wait_days += day - entered
                s = p.here
                p.here = (s * LCG_MULTIPLIER + LCG_INCREMENT) & MASK
                top = (s >> 11) & LOW_53
                if top * TO_UNIT < dna_first:
                    self._missed(p, day, True)
                else:
                    self._first(p, day)

    def _skip_followups(self, p: Patient, left: int) -> int:
        """Patient-initiated follow-up: each planned follow-up is, with probability
        ``pifu_share``, left to the patient, who comes back only with ``pifu_return_rate``."""
        while left > 0 and p.here_u() < self.pifu and p.here_u() >= self.pifu_return:
            self.stats.pifu_skipped += 1
            left -= 1
        return left

    def _long_waiters_to_front(self, cutoff: float) -> None:
        """Long-waiter rule: routine patients whose RTT clock has passed the threshold are
        booked before other routine patients, longest clock first. Urgent referrals still
        come first: clinical priority outranks time waited."""
        long: list[tuple[int, Patient]] = []
        rest: deque[tuple[int, Patient]] = deque()
        for entry in self.routine:
            (long if NO_CLOCK < entry[1].clock <= cutoff else rest).append(entry)
        if long:
            long.sort(key=lambda e: e[1].clock)
            rest.extendleft(reversed(long))
            self.routine = rest

    # -- what happens at an appointment ---------------------------------------------------

    def _missed(self, p: Patient, day: int, first: bool) -> None:
        if first:
            self.stats.dna_first += 1
        else:
            self.stats.dna_followup += 1
        p.dnas += 1
        if p.dnas >= self.max_dna:
            self.model.missed_out(self, p, day)
        else:
            self.book(p, day + self.dna_rebook, first)

    def _first(self, p: Patient, day: int) -> None:
        """First attendance: assess, then list, treat or discharge."""
        self.stats.first += 1
        if p.outside:
            self.stats.outside_first += 1
        # the first appointment attended: a missed one and its rebooking are part of the wait
        self.first_waits.add(day - p.reached)
        p.dnas = 0
        if self.hospital:
            p.seen_hospital = True
        model = self.model
        if self.triage:
            model.triaged(self, p, day)
            return
        if self.diagnostic:
            model.tested(self, p, day)
            return
        if p.phase != NORMAL:  # rehabilitation after surgery: always a full course (p.ok: did the operation help)
            self._start_course(p, day)
            return
        # All three drawn here whatever their probabilities, so the episode's later draws, and
        # the decision itself, line up across designs whose settings here differ.
        later = p.here_u() < self.workup
        p.ok = p.here_u() < self.resolves[p.need]
        listed = p.here_u() < self.listing[p.need]
        if self.tests:  # drawn only where tests are ordered: other scenarios' draws are unchanged
            test = self._order(p)
            if test:
                p.left = WORKUP_LISTED if listed else WORKUP
                p.ordered_by = self.name
                model.refer(p, test, day)
                return
        if later:
            p.left = WORKUP_LISTED if listed else WORKUP
            self.book(p, day + self.interval)
            return
        self._decide(p, day, listed)

    def _order(self, p: Patient) -> str:
        """The diagnostic test this first attendance orders, if any: one the patient has not had."""
        u = p.here_u()
        cum = 0.0
        for test, share, index in self.tests:
            if p.tested >> index & 1:
                continue
            cum += share
            if u < cum:
                p.tested |= 1 << index
                return test
        return ""

    def _decide(self, p: Patient, day: int, listed: bool) -> None:
        """The decision after assessment: list, treat or discharge."""
        model = self.model
        ok = p.ok
        if listed:
            self.stats.listed += 1
            model.theatre.listed(self, p, day)
            return
        # Treatment starts here (a course), or the patient is discharged: first definitive
        # treatment, whether or not it will help. An assessment that finds nothing to do
        # here leaves the clock to the design: onward referral, or discharge to the GP.
        course = ok or not self.assessment_only
        # drawn only where procedures are given: other scenarios' draws are unchanged
        if course and self.procedure > 0.0 and p.here_u() < self.procedure:
            self.stats.procedures += 1
            model.theatre.listed_for_procedure(self, p, day)
            return
        if p.clock != NO_CLOCK and course:
            model.rtt.stop(p, day, NONADMITTED)
        if ok:
            model.health.treated(p, day)
        if course:
            self._start_course(p, day)
        else:
            self._end(p, day)

    def after_procedure(self, p: Patient, day: int) -> None:
        """A day-case procedure is done (the clock stopped there): the course goes on here."""
        self._start_course(p, day)

    def _start_course(self, p: Patient, day: int) -> None:
        left = self.courses[p.need](p.here_u()) - 1
        if left and self.pifu and p.phase == NORMAL:
            left = self._skip_followups(p, left)
        p.left = left
        if left:
            self.book(p, day + self.interval)
        else:
            self._end(p, day)

    def _end(self, p: Patient, day: int) -> None:
        if p.ok:
            self.stats.resolved += 1
        else:
            self.stats.unresolved += 1
        self.model.episode_ended(self, p, day)

    # -- what a capacity policy watches ----------------------------------------------------

    def ready(self) -> int:
        """Patients on the list ready to be offered a slot (not those still being booked)."""
        return len(self.urgent) + len(self.routine) - self.gone

    def within_18w_pct(self, day: int) -> float:
        """Of those waiting here (being booked too), the share waiting under 18 weeks: by their
        RTT clock where one runs, else since their referral reached the service."""
        here = self.index
        waits = [waiting_since(p) for _, p in self.urgent if p.waiting_at == here]
        waits += [waiting_since(p) for _, p in self.routine if p.waiting_at == here]
        waits += [waiting_since(p) for buckets in self.incoming for bucket in buckets.values() for p in bucket
                  if p.waiting_at == here]  # fmt: skip
        return share_within_18w(waits, day)

    def patients(self) -> list[Patient]:
        """Everyone waiting or booked here (for conservation checks)."""
        booked = [p for bucket in self.bookings.values() for p in bucket]
        here = self.index
        incoming = [p for buckets in self.incoming for bucket in buckets.values() for p in bucket if p.waiting_at == here]
        listed = [p for _, p in self.urgent if p.waiting_at == here] + [p for _, p in self.routine if p.waiting_at == here]
        return listed + list(self.due) + booked + incoming
