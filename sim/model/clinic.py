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
from itertools import repeat

from sim.model.clocks import NONADMITTED
from sim.model.counters import DayCounts, StageStats
from sim.model.draws import LCG_INCREMENT, LCG_MULTIPLIER, LOW_53, MASK, TO_UNIT, CountTable
from sim.model.hub import Hub
from sim.model.kinds import REMOVED, Need
from sim.model.patient import NO_CLOCK, NORMAL, NOT_WAITING, Patient
from sim.model.policy import CapacityPlan
from sim.model.removals import BOOKING
from sim.model.waitlist import Waitlist
from sim.scenario.stages import Stage

WORKUP = -1
"""``Patient.left`` of a patient booked for the follow-up where the decision is made..."""
WORKUP_LISTED = -2
"""... and of one whom that decision will list for surgery (decided by the draws at the first visit)."""


class Clinic(Waitlist):
    """A service stage: its lists (:class:`sim.model.waitlist.Waitlist`) and a daily session.

    ``places`` are the scenario's services in order (a diagnostic test is keyed to its place);
    ``model`` is the pathway the service works in.
    """

    def __init__(self, name: str, cfg: Stage, capacity: list[float], model: Hub, index: int, places: list[str]):
        super().__init__(cfg, index)
        self.name = name
        self.model = model
        self.capacity = capacity
        self.stats = StageStats()
        # days from the referral reaching the service to the first appointment attended there
        self.first_waits = DayCounts()
        tables: dict[float, CountTable] = {}
        self.courses: dict[str, CountTable] = {}
        for n in Need:
            mean = cfg.contacts(n)
            if mean not in tables:
                tables[mean] = CountTable(mean, offset=1)
            self.courses[n.value] = tables[mean]
        self.resolves: dict[str, float] = {n.value: cfg.resolves.get(n, 0.0) for n in Need}
        self.listing: dict[str, float] = {n.value: cfg.list_for_surgery.get(n, 0.0) for n in Need}
        self.triage: bool = cfg.kind == "triage"
        self.diagnostic: bool = cfg.kind == "diagnostic"
        self.tests: list[tuple[str, float, int]] = [(t, share, places.index(t)) for t, share in cfg.tests.items() if share > 0]
        self.ag: float = cfg.advice_and_guidance_share
        self.ag_return: float = cfg.advice_and_guidance_return_share
        self.pifu: float = cfg.pifu_share
        self.pifu_return: float = cfg.pifu_return_rate
        self.overflow_after: float | None = cfg.overflow_after_weeks * 7 if cfg.overflow_to else None
        self.overflow_to: str = cfg.overflow_to or ""
        self.lead: int = cfg.booking_lead_days
        self.spread: float = cfg.booking_lead_spread_days
        self.workup: float = cfg.decision_at_followup_share
        self.procedure: float = cfg.procedure_share
        self.long_wait: float | None = cfg.long_wait_weeks * 7 if cfg.booking == "long_waiters_first" else None
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
        self.plan: CapacityPlan | None = None  # what its capacity policy adds (none: fixed)

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

    def _leave(self, p: Patient, left: float, today: int, entered: int) -> None:
        """A patient left unseen on day ``left``, found so on ``today``: on the list since
        ``entered``, or still being booked (``entered`` is :data:`BOOKING`)."""
        day = int(left)
        p.waiting_at = NOT_WAITING
        self.stats.left_unseen(day, today, entered, BOOKING)
        self.model.discharge(p, day, REMOVED)

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
            self.stats.overflow += 1
            self.model.refer(p, self.overflow_to, day)

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
            self.model.missed_out(p, day, self.dna_return)
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
            model.triaged(p, day)
            return
        if self.diagnostic:
            model.tested(p, day)
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
            model.list_for_surgery(self.name, p, day)
            return
        # Treatment starts here (a course), or the patient is discharged: first definitive
        # treatment, whether or not it will help. An assessment that finds nothing to do
        # here leaves the clock to the design: onward referral, or discharge to the GP.
        course = ok or not self.assessment_only
        # drawn only where procedures are given: other scenarios' draws are unchanged
        if course and self.procedure > 0.0 and p.here_u() < self.procedure:
            self.stats.procedures += 1
            model.list_for_procedure(self.name, p, day)
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
        self.model.episode_ended(self.name, p, day)
