"""Theatre lists and beds: the surgical waiting list, operated in turn as time and beds allow."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from heapq import heapify, heappop, heappush

from sim.model.clocks import ADMITTED
from sim.model.counters import DayCounts, ListCounters
from sim.model.draws import SURGERY, Choice, CountTable
from sim.model.hub import Hub
from sim.model.kinds import REMOVED, RESOLVED, SURGICAL, UNRESOLVED
from sim.model.patient import NEVER, NORMAL, NOT_WAITING, POSTOP, REHAB, Patient
from sim.model.policy import CapacityPlan, share_within_18w, waiting_since
from sim.model.removals import BOOKING, RemovalTimes
from sim.scenario.fields import removal_bands
from sim.scenario.schema import THEATRE
from sim.scenario.surgery import Surgery

ON_LIST = -2
"""``Patient.waiting_at`` while on the surgical list."""


@dataclass
class TheatreStats(ListCounters):
    """Counters of the theatre for the current contract year."""

    avoidable: int = 0
    bed_days: int = 0
    joint: int = 0
    listed: int = 0
    no_bed: int = 0
    other_daycase: int = 0
    other_inpatient: int = 0
    overflow_joint: int = 0
    overflow_daycase: int = 0
    overflow_inpatient: int = 0
    procedures: int = 0
    # of the above, care outside the contract: priced apart from the contract's
    outside_joint: int = 0
    outside_daycase: int = 0
    outside_inpatient: int = 0
    outside_procedures: int = 0
    outside_overflow_joint: int = 0
    outside_overflow_daycase: int = 0
    outside_overflow_inpatient: int = 0

    def operated(self, p: Patient, overflow: bool = False) -> None:
        """Count an operation (by the overflow provider, or not) by the kinds the theatre prices."""
        if not p.ok:
            self.avoidable += 1
        if p.joint:
            self.joint += 1
        elif p.daycase:
            self.other_daycase += 1
        else:
            self.other_inpatient += 1
        if overflow:
            if p.joint:
                self.overflow_joint += 1
            elif p.daycase:
                self.overflow_daycase += 1
            else:
                self.overflow_inpatient += 1
        if p.outside:
            self._outside(p, overflow)

    def _outside(self, p: Patient, overflow: bool) -> None:
        if p.joint:
            self.outside_joint += 1
        elif p.daycase:
            self.outside_daycase += 1
        else:
            self.outside_inpatient += 1
        if overflow:
            if p.joint:
                self.outside_overflow_joint += 1
            elif p.daycase:
                self.outside_overflow_daycase += 1
            else:
                self.outside_overflow_inpatient += 1


class Theatre:
    """Operates listed patients, urgent first then longest waiting, each day's list time allowing.

    It also owns what surrounds the operation: which operation a listed patient has, the
    post-operative follow-ups at the listing clinic, and rehabilitation.

    Capacity is in day-case slots; a joint replacement takes ``joint_replacement_slots`` and
    another inpatient operation ``inpatient_slots``. An inpatient needs a free bed for the
    length of stay; when none is free the day's list stops there. Patients who leave the list
    without an operation are found when their turn comes or at a month end; those found at a
    month end stay in its heap, skipped when reached (``gone``).

    ``joint_share`` is each condition's share of joint replacements among its operations;
    ``model`` the pathway the theatre works in.
    """

    def __init__(self, cfg: Surgery, joint_share: list[float], capacity: list[float], model: Hub):
        self.cfg = cfg
        self.capacity = capacity
        self.model = model
        self.waiting: list[tuple[int, int, int, int, Patient]] = []  # (category, routine?, listed, seq, patient)
        self.beds_free = cfg.beds
        self.pending = 0
        self.assessing: dict[int, Patient] = {}  # in pre-operative assessment, by patient number
        self.gone = 0
        self.removal = RemovalTimes(removal_bands(cfg.removal_rate_per_week))
        self.spread: float = cfg.booking_lead_spread_days
        self.stats = TheatreStats()
        # days from listing (pre-operative assessment included) to the operation or procedure
        self.admission_waits = DayCounts()
        self.los_joint = CountTable(cfg.los_joint_days, offset=1)
        self.los_other = CountTable(cfg.los_other_days, offset=1)
        self._seq = 0
        cats = cfg.priority_shares
        self.categories = Choice({k: cats[k] for k in sorted(cats)}) if cats else None
        # Typed copies of settings read per patient (machine values when compiled).
        self.postop_days: int = cfg.postop_followup_days
        self.procedure_slots: float = cfg.procedure_slots
        self.daycase_share: float = cfg.daycase_share
        self.rehab_stage: str = cfg.rehab_stage
        self.rehab_joint: float = cfg.rehab_share_joint
        self.rehab_other: float = cfg.rehab_share_other
        self.avoidable_return: float = cfg.avoidable_return_rate
        # routine patients in the order they joined the list, for the overflow after a long wait
        self.overflow_after: float = cfg.overflow_after_weeks * 7.0 if cfg.overflow_after_weeks is not None else -1.0
        self.in_order: deque[tuple[int, Patient]] = deque()
        self.joint_share: list[float] = joint_share
        self.postop_followups = CountTable(cfg.postop_followups)
        self.plan: CapacityPlan | None = None  # what its capacity policy adds (none: fixed)

    @property
    def size(self) -> int:
        """Patients on the list, or in pre-operative assessment before joining it."""
        return len(self.waiting) - self.gone + self.pending

    def listed(self, place: str, p: Patient, day: int) -> None:
        """Listed for surgery at the surgical clinic ``place``; the clock runs on to the operation."""
        self.choose_operation(place, p)
        self.model.move(p, THEATRE)
        self.add(p, day)

    def listed_for_procedure(self, place: str, p: Patient, day: int) -> None:
        """Listed for a day-case procedure at clinic ``place`` (its ``procedure_share``): it waits
        on the list as an operation would; the clock runs on to it."""
        p.origin = place
        p.procedure = True
        u = p.u(SURGERY)  # as for an operation: the priority category
        if self.categories is not None:
            p.category = int(self.categories(u)[1]) - 1
        self.model.move(p, THEATRE)
        self.add(p, day)

    def _joins(self, p: Patient, day: int, waited: float) -> None:
        """Listed on ``day``, having waited ``waited`` days: the day the patient would leave
        without an operation, if still waiting then, is fixed now."""
        u = p.u(SURGERY)  # drawn whatever the rate, so later draws line up
        p.waiting_at = ON_LIST
        p.leaves = day + math.ceil(self.removal.after(waited, u) - waited) if self.removal.active else NEVER

    def _leave(self, p: Patient, left: float, today: int, entered: int) -> None:
        """A patient left the list unseen on day ``left``, found so on ``today``: on the list
        since ``entered``, or still in pre-operative assessment (``entered`` is :data:`BOOKING`)."""
        day = int(left)
        p.waiting_at = NOT_WAITING
        self.stats.left_unseen(day, today, entered, BOOKING)
        self.model.discharge(p, day, REMOVED)

    def remove_due(self, today: int) -> None:
        """A month ends: those who left unseen before ``today`` leave now (as for a clinic)."""
        if not self.removal.active:
            return
        for e in self.waiting:
            p = e[-1]
            if p.waiting_at == ON_LIST and p.leaves < today:
                self._leave(p, p.leaves, today, e[2])
                self.gone += 1
        for p in [p for p in self.assessing.values() if p.leaves < today]:
            del self.assessing[p.pid]
            self._leave(p, p.leaves, today, BOOKING)
            self.pending -= 1

    def choose_operation(self, place: str, p: Patient) -> None:
        """The operation of a patient listed at clinic ``place``, and its priority."""
        p.origin = place
        p.ok = p.need == SURGICAL  # an operation meets the surgical need only
        u = p.u(SURGERY)  # drawn with or without categories, so later draws line up
        if self.categories is not None:
            p.category = int(self.categories(u)[1]) - 1
        # One uniform picks the operation: joint replacement below the condition's share,
        # then day case or inpatient; the same patient gets the same operation in each design.
        joint = self.joint_share[p.condition] if p.need == SURGICAL else 0.0
        p.joint = p.u_surgery < joint
        p.daycase = not p.joint and (p.u_surgery - joint) < self.daycase_share * (1.0 - joint)

    def add(self, p: Patient, day: int) -> None:
        """List a patient for surgery; routine patients can be scheduled after the
        ``booking_lead_days`` of pre-operative assessment, and a further exponential delay of
        mean ``booking_lead_spread_days`` when one is set."""
        self.stats.listed += 1
        p.reached = day
        self._joins(p, day, 0.0)
        u = p.u(SURGERY)  # drawn whatever the spread, so later draws line up across designs
        lead = 0
        if not p.urgent and p.category != 0:
            lead = self.cfg.booking_lead_days
            if self.spread > 0.0:
                lead += int(-self.spread * math.log(1.0 - u))
        if lead:
            self.pending += 1
            self.assessing[p.pid] = p
            self.model.later(day + lead, self.ready, p)
        else:
            self.ready(p, day, pending=False)

    def waiting_since(self, p: Patient, listed: int) -> None:
        """A patient already on the list since day ``listed`` when the run starts."""
        p.reached = listed
        self._joins(p, 0, float(-listed))
        self.ready(p, listed, pending=False)

    def ready(self, p: Patient, day: int, pending: bool = True) -> None:
        """On the list from ``day`` (a backlog patient's day is before the run started)."""
        if pending:
            if p.waiting_at != ON_LIST:  # removed in pre-operative assessment at a month end
                return
            del self.assessing[p.pid]
            self.pending -= 1
            if p.leaves <= day:
                self._leave(p, p.leaves, day, BOOKING)
                return
        self._seq += 1
        heappush(self.waiting, (p.category, 0 if p.urgent else 1, day, self._seq, p))
        if self.overflow_after >= 0.0 and not p.urgent and not p.procedure:  # procedures stay here
            self.in_order.append((day, p))

    def day(self, day: int) -> None:
        """The day's list, if it has time and patients."""
        if self.overflow_after >= 0.0 and self.in_order:
            self._overflow(day, day - self.overflow_after)
        units = self.capacity[day] if day < len(self.capacity) else 0.0
        plan = self.plan
        if plan is not None:
            units += plan.added(day, units)
        if units > 0 and self.waiting:
            self.operate(day, units)
        self.stats.list_area += len(self.waiting) - self.gone

    def operate(self, day: int, units: float) -> None:
        cfg, stats, waiting = self.cfg, self.stats, self.waiting
        model = self.model
        while waiting:
            p = waiting[0][-1]
            if p.waiting_at != ON_LIST:  # removed at a month end
                heappop(waiting)
                self.gone -= 1
                continue
            if p.leaves <= day:  # left the list before their turn came
                self._leave(p, p.leaves, day, heappop(waiting)[2])
                continue
            if p.procedure:
                need = self.procedure_slots
            else:
                need = cfg.joint_replacement_slots if p.joint else (1.0 if p.daycase else cfg.inpatient_slots)
            if need > units + 1e-9:
                break
            if p.procedure:
                entered = heappop(waiting)[2]
                p.waiting_at = NOT_WAITING
                units -= need
                self._procedure(p, day, entered)
                continue
            inpatient = p.joint or not p.daycase
            if inpatient and self.beds_free <= 0:
                stats.no_bed += 1
                break
            entered = heappop(waiting)[2]
            p.waiting_at = NOT_WAITING
            units -= need
            stats.list_exits += 1
            stats.wait_days += day - entered
            self.admission_waits.add(day - p.reached)
            u = p.u(SURGERY)  # drawn for day cases too, so later draws line up
            if inpatient:
                los = (self.los_joint if p.joint else self.los_other)(u)
                self.beds_free -= 1
                stats.bed_days += los
                model.later(day + los, self._bed_freed, None)
            stats.operated(p)
            self._operated(p, day)

    def _procedure(self, p: Patient, day: int, entered: int) -> None:
        """A day-case procedure: an admitted clock stop, then the course at the clinic."""
        stats, model = self.stats, self.model
        stats.list_exits += 1
        stats.wait_days += day - entered
        self.admission_waits.add(day - p.reached)
        stats.procedures += 1
        if p.outside:
            stats.outside_procedures += 1
        p.procedure = False
        model.rtt.stop(p, day, ADMITTED)
        if p.ok:
            model.health.treated(p, day)
        model.resume_course(p.origin, p, day)  # at the theatre still, as after an operation

    def _overflow(self, day: int, cutoff: float) -> None:
        """Routine patients listed on or before ``cutoff`` and still waiting are operated on by the
        overflow provider today (its own lists and beds); their entries here are skipped when reached."""
        stats, order = self.stats, self.in_order
        while order and order[0][0] <= cutoff:
            listed, p = order.popleft()
            if p.waiting_at != ON_LIST or p.leaves <= day:  # operated, removed, or leaving: the list sees to them
                continue
            p.waiting_at = NOT_WAITING
            self.gone += 1
            stats.list_exits += 1
            stats.wait_days += day - listed
            self.admission_waits.add(day - p.reached)
            p.u(SURGERY)  # the length of stay drawn here, as for an operation on the list, so later draws line up
            stats.operated(p, overflow=True)
            self.model.move(p, f"{THEATRE} (overflow)")
            self._operated(p, day)

    def ready_list(self) -> int:
        """Patients on the list ready for a date (not those in pre-operative assessment)."""
        return len(self.waiting) - self.gone

    def within_18w_pct(self, day: int) -> float:
        """Of those on the list or in pre-operative assessment, the share waiting under 18 weeks."""
        waits = [waiting_since(e[-1]) for e in self.waiting if e[-1].waiting_at == ON_LIST]
        waits += [waiting_since(p) for p in self.assessing.values()]
        return share_within_18w(waits, day)

    def patients(self) -> list[Patient]:
        """Everyone on the surgical waiting list."""
        return [e[-1] for e in self.waiting if e[-1].waiting_at == ON_LIST]

    def sort_waiting(self) -> None:
        """The list in its order of priority, and the routine patients in the order listed (a
        backlog seeded in any order)."""
        self.waiting.sort()
        self.in_order = deque(sorted(self.in_order, key=lambda e: e[0]))

    def adopt(self, was: Theatre, day: int) -> list[Patient]:
        """Take on the surgical list, pre-operative assessment and the beds of the theatre of the
        design replaced, on ``day``; returns the patients taken on. Those waiting draw again the
        day they would leave if the removal rate here differs."""
        redraw = was.cfg.removal_rate_per_week != self.cfg.removal_rate_per_week
        out: list[Patient] = []
        for e in was.waiting:
            p = e[-1]
            if p.waiting_at == ON_LIST:
                if redraw:
                    self._joins(p, day, float(day - e[2]))
                out.append(p)
                self.waiting.append(e)
        heapify(self.waiting)
        self._seq = was._seq
        if self.overflow_after >= 0.0:  # routine patients in the order they were listed, for the overflow
            self.in_order = deque(sorted(((e[2], e[-1]) for e in self.waiting if not e[-1].urgent), key=lambda x: x[0]))
        for pid, p in was.assessing.items():
            if redraw:
                self._joins(p, day, 0.0)
            out.append(p)
            self.assessing[pid] = p
        self.pending = len(self.assessing)
        occupied = was.cfg.beds - was.beds_free
        self.beds_free = self.cfg.beds - occupied  # below zero when there are fewer here: none free until enough leave
        return out

    def _operated(self, p: Patient, day: int) -> None:
        model = self.model
        model.rtt.stop(p, day, ADMITTED)
        if p.ok:
            model.health.treated(p, day)
        p.phase = POSTOP
        p.left = self.postop_followups(p.u(SURGERY))
        if p.left:
            model.book(p.origin, p, day + self.postop_days)
        else:
            self.after_postop(p, day)

    def after_postop(self, p: Patient, day: int) -> None:
        """Follow-ups after the operation are over: rehabilitation, or home (helped or not)."""
        model = self.model
        if p.u(SURGERY) < (self.rehab_joint if p.joint else self.rehab_other):
            p.phase = REHAB
            model.move(p, f"{self.rehab_stage} (rehab)")
            model.rehabilitate(self.rehab_stage, p, day)
        elif p.ok:
            model.discharge(p, day, RESOLVED)
        else:
            self.not_helped(p.origin, p, day)

    def not_helped(self, place: str, p: Patient, day: int) -> None:
        """Operated on without a surgical need: some come back for care (as the design treats
        the unresolved, from clinic ``place``), the others leave unresolved."""
        model = self.model
        if self.avoidable_return > 0.0 and p.u(SURGERY) < self.avoidable_return:
            p.phase = NORMAL
            p.ok = False
            model.unresolved_episode(place, p, day)
        else:
            model.discharge(p, day, UNRESOLVED)

    def _bed_freed(self, _: object, day: int) -> None:
        self.beds_free += 1
