"""Theatre lists and beds: the surgical waiting list, operated in turn as time and beds allow."""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappop, heappush
from typing import TYPE_CHECKING

from sim.model.counters import Counters
from sim.model.draws import CountTable
from sim.model.patient import Patient
from sim.scenario import Surgery

if TYPE_CHECKING:
    from sim.model.pathway import Pathway


@dataclass
class TheatreStats(Counters):
    """Counters of the theatre for the current contract year."""

    bed_days: int = 0
    joint: int = 0
    list_area: int = 0
    list_exits: int = 0
    listed: int = 0
    no_bed: int = 0
    other_daycase: int = 0
    other_inpatient: int = 0
    wait_days: int = 0


class Theatre:
    """Operates listed patients, urgent first then longest waiting, each day's list time allowing.

    Capacity is in day-case slots; a joint replacement takes ``joint_replacement_slots`` and
    another inpatient operation ``inpatient_slots``. An inpatient needs a free bed for the
    length of stay; when none is free the day's list stops there.
    """

    def __init__(self, cfg: Surgery, capacity: list[float], model: Pathway):
        self.cfg = cfg
        self.capacity = capacity
        self.model = model
        self.waiting: list[tuple[int, int, int, int, Patient]] = []  # (category, routine?, listed, seq, patient)
        self.beds_free = cfg.beds
        self.pending = 0
        self.stats = TheatreStats()
        self.los_joint = CountTable(cfg.los_joint_days, offset=1)
        self.los_other = CountTable(cfg.los_other_days, offset=1)
        self._seq = 0

    def add(self, p: Patient, day: int) -> None:
        """List a patient for surgery; routine patients can be scheduled after the
        ``booking_lead_days`` of pre-operative assessment."""
        self.stats.listed += 1
        if self.cfg.booking_lead_days and not p.urgent and p.category != 0:
            self.pending += 1
            self.model.later(day + self.cfg.booking_lead_days, self._ready, p)
        else:
            self._ready(p, day, pending=False)

    def _ready(self, p: Patient, day: int, pending: bool = True) -> None:
        """On the list from ``day`` (a backlog patient's day is before the run started)."""
        if pending:
            self.pending -= 1
        self._seq += 1
        heappush(self.waiting, (p.category, 0 if p.urgent else 1, day, self._seq, p))

    def run(self):
        """SimPy process: one theatre day at a time."""
        env = self.model.env
        while True:
            day = int(env.now)
            units = self.capacity[day] if day < len(self.capacity) else 0.0
            if units > 0 and self.waiting:
                self.operate(day, units)
            self.stats.list_area += len(self.waiting)
            yield env.timeout(1)

    def operate(self, day: int, units: float) -> None:
        cfg, stats, waiting = self.cfg, self.stats, self.waiting
        model = self.model
        u = model.draw_surgery
        while waiting:
            p = waiting[0][-1]
            need = cfg.joint_replacement_slots if p.joint else (1.0 if p.daycase else cfg.inpatient_slots)
            if need > units + 1e-9:
                break
            inpatient = p.joint or not p.daycase
            if inpatient and self.beds_free <= 0:
                stats.no_bed += 1
                break
            entered = heappop(waiting)[2]
            units -= need
            stats.list_exits += 1
            stats.wait_days += day - entered
            if inpatient:
                los = (self.los_joint if p.joint else self.los_other)(u())
                self.beds_free -= 1
                stats.bed_days += los
                model.later(day + los, model.bed_freed, None)
            if p.joint:
                stats.joint += 1
            elif p.daycase:
                stats.other_daycase += 1
            else:
                stats.other_inpatient += 1
            model.operated(p, day)

    def patients(self) -> list[Patient]:
        """Everyone on the surgical waiting list."""
        return [e[-1] for e in self.waiting]
