"""One design of the pathway as a SimPy model: referrals in, routing between services, out.

The two designs share every service and differ by mechanism:

* **fragmented** (``entry = "gp"``, ``unresolved = "gp"``): the GP refers to one provider;
  a provider that cannot help discharges the patient back to the GP, who, after a wait and a
  consultation, refers again. Each referral to a consultant-led service starts a new RTT clock.
* **prime** (``entry = "triage"``, ``unresolved = "onward"``): every referral is triaged at a
  single point of access and routed; a service that cannot help refers onward inside the
  system. One clock runs from triage to the treatment that meets the patient's need.
"""

from __future__ import annotations

import gc
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final, cast

import numpy as np
import simpy
from mypy_extensions import mypyc_attr

from sim.model.capacity import bank_holidays, daily_capacity
from sim.model.clinic import Clinic
from sim.model.draws import Choice, CountTable
from sim.model.patient import NO_CLOCK, NORMAL, POSTOP, REHAB, Patient
from sim.model.recorder import JourneyStats, Recorder, Row
from sim.model.theatre import Theatre
from sim.scenario import NEEDS, Scenario, onward_row
from sim.streams import Streams

Transfer = Callable[[Any, int], None]
LEAVING: Final = {o: "discharged" if o == "resolved" else f"discharged ({o})" for o in ("resolved", "unresolved", "dna")}
"""Where a journey ends, by outcome, as the flow diagram names it."""


@mypyc_attr(allow_interpreted_subclasses=True)  # a Python subclass may audit or alter a run
class Pathway:
    """The model of one design in one replication.

    Parameters
    ----------
    scenario
        A validated scenario.
    design
        The name of one of ``scenario.designs``.
    replication
        Selects the random streams; the same number gives the same patients in every design.
    """

    def __init__(self, scenario: Scenario, design: str, replication: int = 0):
        self.scenario = scenario
        self.design_name = design
        self.design = d = scenario.designs[design]
        self.replication = replication
        run = scenario.run
        self.first_day = run.start_date - timedelta(days=run.warmup_days)
        self.warmup = run.warmup_days
        self.days = run.warmup_days + _horizon_days(scenario)
        self.env = simpy.Environment()
        self.streams = Streams(run.seed, replication)
        # The streams the event handlers draw from, one uniform a call (services use them too).
        self.draw_decision: Callable[[], float] = self.streams.decisions
        self.draw_surgery: Callable[[], float] = self.streams.surgery
        self.draw_gp: Callable[[], float] = self.streams.gp
        self.calendar: dict[int, list[tuple[Transfer, Any]]] = defaultdict(list)
        self.clocks: dict[int, float] = {}

        self.stages: dict[str, Clinic] = {}
        order = list(scenario.stages)
        cal = scenario.calendar
        closed = bank_holidays(self.first_day, self.first_day + timedelta(days=self.days), cal.bank_holidays)

        def reduced(name: str) -> list:
            return [r for r in cal.reduced if not r.stages or name in r.stages]

        for name, cfg in scenario.design_stages(design).items():
            cap = daily_capacity(
                cfg.slots_per_week, cfg.working_days, cfg.capacity_changes, self.first_day, self.days,
                whole=True, closed=closed, reduced=reduced(name),
            )  # fmt: skip
            self.stages[name] = Clinic(name, cfg, cap, self, order.index(name))
        s = scenario.surgery
        cap = daily_capacity(
            s.slots_per_week, s.working_days, s.capacity_changes, self.first_day, self.days,
            whole=False, closed=closed, reduced=reduced("theatre"),
        )  # fmt: skip
        if s.cancellation_rate > 0:  # whole lists cancelled on the day (staff sickness, no beds...)
            lost = self.streams.for_stage("surgery", len(order)).random(len(cap)) < s.cancellation_rate
            cap = [0.0 if cancel else c for c, cancel in zip(cap, lost.tolist(), strict=True)]
        self.theatre = Theatre(s, cap, self)

        gp = scenario.gp
        self.gp_first = {n: Choice(gp.referral[n]) for n in NEEDS}
        self.gp_again = {n: Choice(gp.rereferral[n]) for n in NEEDS}
        self.gp_wait = CountTable(gp.wait_days, offset=1)
        hospital = {n for n, st in scenario.stages.items() if st.hospital}
        # A GP choice of "orthopaedics, at a provider the patient picks" is hospital-bound too.
        hospital |= {c for c, row in scenario.choices.items() if any(o in hospital for o, p in row.items() if p > 0)}
        self.hospital_stages = frozenset(hospital)
        self.routing = {n: Choice(d.routing[n]) for n in NEEDS} if d.routing else {}
        self.onward = (
            {(origin, n): Choice(onward_row(d.onward[n], origin)) for origin in self.stages for n in NEEDS} if d.onward else {}
        )
        self.entry = None if d.entry == "gp" else self.stages[d.entry]
        # Which services start an RTT clock on referral: every consultant-led one, each time,
        # under a clock per referral; under one clock per pathway, the single point of access,
        # or, where that is not consultant-led, the first consultant-led service reached.
        self.clock_per_referral: bool = d.clock == "referral"
        entry_starts = self.entry is not None and self.entry.cfg.consultant_led
        for c in self.stages.values():
            c.starts_clock = c.cfg.consultant_led and (self.clock_per_referral or c is self.entry or not entry_starts)
        self.counting = False  # flows are counted after the warm-up
        # Typed copies of the settings the event handlers read: compiled, they are machine
        # values rather than lookups on the validated scenario.
        self.to_gp: bool = d.unresolved == "gp"
        self.max_onward: int = d.max_onward
        self.onward_delay: int = d.onward_delay_days
        self.advice_return: int = d.advice_return_days
        self.max_referrals: int = scenario.gp.max_referrals
        self.postop_days: int = s.postop_followup_days
        self.daycase_share: float = s.daycase_share
        self.rehab_stage: str = s.rehab_stage
        self.rehab_joint: float = s.rehab_share_joint
        self.rehab_other: float = s.rehab_share_other
        self.choices = {name: Choice(row) for name, row in scenario.choices.items()}
        self.conditions = list(scenario.demand.conditions.values())
        self.qaly_lost = 0.0
        self.qaly_on = any(c.utility_loss or c.utility_decline_per_week for c in self.conditions)
        cats = scenario.surgery.priority_shares
        self.categories = Choice({k: cats[k] for k in sorted(cats)}) if cats else None
        self.joint_share: list[float] = [c.joint_replacement_share for c in self.conditions]
        self.postop_followups = CountTable(s.postop_followups)

        self.gp_referrals = 0
        self.self_referrals = 0
        self.gp_consultations = 0
        self.bounce_backs = 0
        self.advice_given = 0
        self.onward_referrals = 0
        self.created = 0
        self.discharged = 0
        self.journeys = JourneyStats()
        self.flows: dict[tuple[str, str], int] = defaultdict(int)  # (from, to) moves after warm-up
        self.recorder = Recorder(self)

        if scenario.backlog is not None:
            self._load_backlog()

        # The recorder goes first so that a boundary at day t sees the state at the end of t - 1.
        self.env.process(self.recorder.run())
        self.env.process(self._transfers())
        self.env.process(self._referrals())
        if scenario.demand.self_referral.per_year > 0:
            self.env.process(self._self_referrals())
        for clinic in self.stages.values():
            self.env.process(clinic.run())
        self.env.process(self.theatre.run())

    # -- starting from a backlog -----------------------------------------------------

    def _first_routing_weight(self, need: str, stage: str) -> float:
        """How likely a patient with this need is to be sent to this stage first."""
        if stage == "theatre":
            return 1.0 if need == "surgical" else 0.0
        if self.entry is None:
            return self.scenario.gp.referral[need].get(stage, 0.0)
        if self.stages[stage] is self.entry:
            return 1.0
        return self.design.routing[need].get(stage, 0.0)

    def _load_backlog(self) -> None:
        """Put the patients already waiting on their lists, with their clocks already running.

        A patient's latent need, when not given, is drawn from their condition's need mix
        weighted by how likely each need is to have been sent to that stage (Bayes). A patient
        waiting at a service this design does not have (the fragmented design has no triage)
        waits, with the same time waited, where this design's referrals go: its single point
        of access, or the service the GP would choose for their need.
        """
        from sim.backlog import generate

        b = self.scenario.backlog
        rng = self.streams.rng["backlog"]
        conds = self.scenario.demand.conditions
        names = list(conds)
        here = {*self.stages, "theatre"}

        def weight(need: str, stage: str) -> float:
            return self._first_routing_weight(need, stage) if stage in here else 1.0  # no routing to learn from

        def posterior(condition: str, stage: str) -> np.ndarray:
            prior = np.array([conds[condition].need.get(n, 0.0) for n in NEEDS])
            w = prior * np.array([weight(n, stage) for n in NEEDS])
            return w / w.sum() if w.sum() > 0 else prior

        def reached(c: str, st: str) -> float:
            mix = [conds[c].need.get(n, 0.0) for n in NEEDS]
            return conds[c].share * float(np.dot(mix, [weight(n, st) for n in NEEDS]))

        reach = {st: {c: reached(c, st) for c in names} for st in b.stages}
        rows = list(b.patients) + generate(dict(b.stages), rng, reach)
        surgical = [c for c in self.stages.values() if c.cfg.list_for_surgery and any(c.cfg.list_for_surgery.values())]
        for row in rows:
            if row["design"] and row["design"] != self.design_name:
                continue
            need = row["need"] or NEEDS[rng.choice(len(NEEDS), p=posterior(row["condition"], row["stage"]))]
            u = rng.random(3)
            self.created += 1
            waited = -round(row["weeks"] * 7)
            p = Patient(self.created, names.index(row["condition"]), need, row["urgent"], waited, u[0], u[1], u[2])
            gp_choice = self.gp_first[need](u[0])
            p.gp_hospital = gp_choice in self.hospital_stages
            stage = row["stage"]
            if stage not in here:
                stage = self.entry.name if self.entry is not None else gp_choice
                stage = self.choices[stage](u[1]) if stage in self.choices else stage
            p.at = stage
            if stage == "theatre":
                self.start_clock(p, waited)
                self._choose_operation(surgical[0] if surgical else next(iter(self.stages.values())), p)
                self.theatre._ready(p, waited, pending=False)
                continue
            clinic = self.stages[stage]
            if not self.clock_per_referral or clinic.cfg.consultant_led:  # already waiting: the clock runs
                self.start_clock(p, waited)
            (clinic.urgent if p.urgent else clinic.routine).append((waited, p))
        for clinic in self.stages.values():  # in order of time waited, longest first
            clinic.routine = deque(sorted(clinic.routine, key=lambda e: e[0]))
            clinic.urgent = deque(sorted(clinic.urgent, key=lambda e: e[0]))
        self.theatre.waiting.sort()

    # -- running ---------------------------------------------------------------------

    def run(self) -> list[Row]:
        """Simulate warm-up and horizon; return one row of results per contract year."""
        # The model makes no reference cycles worth collecting, but every patient waiting is
        # a live object the cyclic collector walks on each full pass: with the collector on,
        # a run 16 times the size took twice as long per patient. Plain reference counting
        # still frees everything that leaves the system.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if paused:
                gc.enable()

    def _run(self) -> list[Row]:
        self.env.run(until=self.days)
        if self.qaly_on:  # those still waiting at the end have lost health too: count it to the end
            for p in self.census():
                self.treated(p, self.days)
        self.recorder.finish(self.days)
        return self.recorder.rows

    def _transfers(self):
        """SimPy process: carry out each day's scheduled transfers before the clinics run."""
        env, calendar = self.env, self.calendar
        while True:
            day = int(env.now)
            for fn, arg in calendar.pop(day, ()):
                fn(arg, day)
            yield env.timeout(1)

    def later(self, day: int, fn: Transfer, arg: Any) -> None:
        """Schedule ``fn(arg, day)`` at the start of a later day."""
        self.calendar[day].append((fn, arg))

    def _referrals(self):
        """SimPy process: the day's new GP referrals, drawn from the arrival streams."""
        env = self.env
        arrivals = draw_referrals(self.scenario, self.streams, self.first_day, self.days)
        first_gp = self.gp_first
        hospital = self.hospital_stages
        entry = None if self.entry is None else self.entry.name
        refer = self.refer
        for day, batch in enumerate(arrivals):
            # Step day by day even when nobody is referred: the order of processes within a
            # day (referrals before or after a clinic's session) follows when each was woken.
            if day != int(env.now):
                yield env.timeout(day - env.now)
            self.gp_referrals += len(batch)
            for condition, need, urgent, u_gp, u_triage, u_surgery in batch:
                self.created += 1
                p = Patient(self.created, condition, need, urgent, day, u_gp, u_triage, u_surgery)
                dest = first_gp[need](u_gp)
                p.gp_hospital = dest in hospital
                refer(p, dest if entry is None else entry, day)

    def _self_referrals(self):
        """SimPy process: people who refer themselves straight to a service (direct access)."""
        env = self.env
        sr = self.scenario.demand.self_referral
        rng = self.streams.rng["self_referral"]
        dem = self.scenario.demand
        per_day = sr.per_year / (365.25 * dem.referral_working_days / 7.0)
        start = (self.scenario.run.start_date - self.first_day).days
        shares = Choice({str(i): c.share for i, c in enumerate(self.conditions)})
        needs = Choice(sr.need)
        while True:
            day = int(env.now)
            weekday = (self.first_day + timedelta(days=day)).weekday()
            if weekday < dem.referral_working_days:
                lam = per_day * (1.0 + dem.growth) ** ((day - start) / 365.25)
                for u in rng.random((rng.poisson(lam), 4)).tolist():
                    self.created += 1
                    self.self_referrals += 1
                    p = Patient(self.created, int(shares(u[0])), needs(u[1]), False, day, u[2], u[3], u[3])
                    p.at = "self-referral"
                    self.refer(p, sr.stage, day)
            yield env.timeout(1)

    # -- routing ---------------------------------------------------------------------

    def refer(self, p: Patient, dest: str, day: int, delay: int = 0) -> None:
        """Send a patient to a service (or to advice), starting an RTT clock where one starts.

        ``delay`` is the days a referral takes to arrive (an internal referral, a letter).
        """
        if self.counting:  # inlined move(): this is on every referral's path
            self.flows[p.at, dest] += 1
        p.at = dest
        clinic = self.stages.get(dest)
        if clinic is None:
            if dest in self.choices:  # patient choice between providers
                self.refer(p, self.choices[dest](self.draw_decision()), day, delay)
            else:
                self._advice(p, day)
            return
        if clinic.ag and p.phase == NORMAL and p.need != "surgical" and self.draw_decision() < clinic.ag:
            self._advice_and_guidance(clinic, p, day)
            return
        if clinic.starts_clock and p.clock == NO_CLOCK and p.phase == NORMAL:
            p.clock = clock = float(day + delay)  # inlined start_clock()
            self.clocks[p.pid] = clock
        clinic.refer(p, day, delay)

    def _advice_and_guidance(self, clinic: Clinic, p: Patient, day: int) -> None:
        """The specialist answers the GP's referral with advice; no appointment.

        The patient is managed in primary care if the service could have helped them,
        and otherwise looks for the right service without having used a slot here.
        """
        clinic.stats.advice_and_guidance += 1
        if p.need == "self_management" or clinic.resolves[p.need] > 0:
            p.ok = True
            self.treated(p, day)
            self.discharge(p, day, "resolved")
        else:
            p.ok = False
            self._unresolved(clinic, p, day)

    def treated(self, p: Patient, day: int) -> None:
        """The treatment that meets the patient's need starts: their wait for it ends."""
        if self.qaly_on and not p.treated:
            p.treated = True
            weeks = (day - p.referred) / 7.0
            c = self.conditions[p.condition]
            self.qaly_lost += (c.utility_loss * weeks + c.utility_decline_per_week * weeks * weeks / 2.0) / 52.18

    def overflow(self, clinic: Clinic, p: Patient, day: int) -> None:
        """A routine patient who has waited too long goes to the overflow provider."""
        clinic.stats.overflow += 1
        self.refer(p, clinic.cfg.overflow_to, day)

    def move(self, p: Patient, to: str) -> None:
        """Count a move between places (after the warm-up) for the flow diagram."""
        if self.counting:
            self.flows[p.at, to] += 1
        p.at = to

    def _advice(self, p: Patient, day: int) -> None:
        self.advice_given += 1
        if p.need == "self_management":
            p.ok = True
            self.treated(p, day)
            self.discharge(p, day, "resolved")
        else:  # advice did not help: the patient comes back to the single point of access
            self.later(day + self.advice_return, self._return_to_entry, p)

    def _return_to_entry(self, p: Patient, day: int) -> None:
        p.referrals += 1
        if p.referrals > self.max_onward:
            self.discharge(p, day, "unresolved")
        elif self.entry is not None:
            self.refer(p, self.entry.name, day)
        else:
            self._gp_consultation(p, day)

    def triaged(self, clinic: Clinic, p: Patient, day: int) -> None:
        """A triage decision: where the single point of access sends the patient."""
        u = p.u_triage if p.triaged == 0 else self.draw_decision()
        p.triaged += 1
        dest = self.routing[p.need](u)
        self.refer(p, dest, day, 1)

    def listed(self, clinic: Clinic, p: Patient, day: int) -> None:
        """Listed for surgery at a surgical clinic; the clock runs on to the operation."""
        self._choose_operation(clinic, p)
        self.move(p, "theatre")
        self.theatre.add(p, day)

    def _choose_operation(self, clinic: Clinic, p: Patient) -> None:
        p.origin = clinic.name
        p.ok = True
        if self.categories is not None:
            p.category = int(self.categories(self.draw_surgery())[1]) - 1
        # One uniform picks the operation: joint replacement below the condition's share,
        # then day case or inpatient; the same patient gets the same operation in each design.
        joint = self.joint_share[p.condition] if p.need == "surgical" else 0.0
        p.joint = p.u_surgery < joint
        p.daycase = not p.joint and (p.u_surgery - joint) < self.daycase_share * (1.0 - joint)

    def operated(self, p: Patient, day: int) -> None:
        self.stop_clock(p, day)
        self.treated(p, day)
        p.phase = POSTOP
        p.left = self.postop_followups(self.draw_surgery())
        if p.left:
            self.stages[p.origin].book(p, day + self.postop_days)
        else:
            self._after_postop(p, day)

    def _after_postop(self, p: Patient, day: int) -> None:
        if self.draw_surgery() < (self.rehab_joint if p.joint else self.rehab_other):
            p.phase = REHAB
            self.move(p, f"{self.rehab_stage} (rehab)")
            self.stages[self.rehab_stage].refer(p, day, 1)
        else:
            self.discharge(p, day, "resolved")

    def bed_freed(self, _: Any, day: int) -> None:
        self.theatre.beds_free += 1

    def episode_ended(self, clinic: Clinic, p: Patient, day: int) -> None:
        """A course of care at a service is over: discharge, or look for the right service."""
        if p.phase == POSTOP:
            self._after_postop(p, day)
        elif p.phase == REHAB or p.ok:
            self.discharge(p, day, "resolved")
        else:
            self._unresolved(clinic, p, day)

    def _unresolved(self, clinic: Clinic, p: Patient, day: int) -> None:
        p.referrals += 1
        if self.to_gp:
            if self.clock_per_referral:
                self.stop_clock(p, day)
            if p.referrals >= self.max_referrals:
                self.discharge(p, day, "unresolved")
                return
            self.bounce_backs += 1
            self.move(p, "GP")
            self.later(day + self.gp_wait(self.draw_gp()), self._gp_consultation, p)
        else:
            if p.referrals > self.max_onward:
                self.discharge(p, day, "unresolved")
                return
            self.onward_referrals += 1
            dest = self.onward[clinic.name, p.need](self.draw_decision())
            self.refer(p, dest, day, self.onward_delay)

    def _gp_consultation(self, p: Patient, day: int) -> None:
        self.gp_consultations += 1
        self.refer(p, self.gp_again[p.need](self.draw_gp()), day)

    # -- RTT clocks and leaving ------------------------------------------------------

    def start_clock(self, p: Patient, day: int) -> None:
        p.clock = self.clocks[p.pid] = float(day)

    def stop_clock(self, p: Patient, day: int) -> None:
        if p.clock != NO_CLOCK:
            if self.recorder.year > 0:  # completed pathways count after the warm-up
                self.recorder.stops.append(day - p.clock)
            p.clock = NO_CLOCK
            del self.clocks[p.pid]

    def discharge(self, p: Patient, day: int, outcome: str) -> None:
        """The journey ends: record it once."""
        if p.clock != NO_CLOCK:
            self.stop_clock(p, day)
        if self.qaly_on:  # if never treated (unresolved or lost), they waited until now
            self.treated(p, day)
        to = LEAVING[outcome]
        if self.counting:  # inlined move()
            self.flows[p.at, to] += 1
        p.at = to
        self.discharged += 1
        self.journeys.add(p, day, outcome)

    # -- inspection ------------------------------------------------------------------

    def census(self) -> list[Patient]:
        """Every patient still in the system, wherever they are."""
        out: list[Patient] = []
        for clinic in self.stages.values():
            out += clinic.patients()
        out += self.theatre.patients()
        for entries in self.calendar.values():
            out += [arg for _, arg in entries if isinstance(arg, Patient)]
        return out

    def waiting_list(self) -> int:
        """Patients waiting for a first appointment anywhere, plus the surgical list."""
        return sum(c.waiting for c in self.stages.values()) + len(self.theatre.waiting) + self.theatre.pending


def _horizon_days(scenario: Scenario) -> int:
    start = scenario.run.start_date
    end = start.replace(year=start.year + scenario.run.years)
    return (end - start).days


def draw_referrals(scenario: Scenario, streams: Streams, first_day, days: int) -> list[list[tuple]]:
    """All referrals of a run, day by day, as (condition, need, urgent, u_gp, u_triage, u_surgery).

    Drawn in whole-run blocks from the ``arrivals`` and ``patients`` streams only, so every
    design of a replication sees exactly the same people on the same days.
    """
    dem = scenario.demand
    season = np.asarray(dem.seasonality, dtype=float)
    season = season / season.mean()
    start = scenario.run.start_date
    offsets = np.arange(days) - (start - first_day).days
    dates = [first_day + timedelta(days=int(i)) for i in range(days)]
    month = np.array([d.month - 1 for d in dates])
    working = np.array([d.weekday() < dem.referral_working_days for d in dates])
    per_day = dem.referrals_per_year / (365.25 * dem.referral_working_days / 7.0)
    lam = per_day * season[month] * (1.0 + dem.growth) ** (offsets / 365.25) * working
    counts = streams.rng["arrivals"].poisson(lam)
    n = int(counts.sum())
    rng = streams.rng["patients"]
    u = rng.random((n, 6))
    conds = list(dem.conditions.values())
    cond_cum = np.cumsum([c.share for c in conds])
    cond_cum[-1] = 1.0
    cond = np.searchsorted(cond_cum, u[:, 0], side="right")
    cond_list = cast(list[int], cond.tolist())  # numpy's stubs take this for a scalar
    need_idx: np.ndarray = np.empty(n, dtype=int)
    for index, condition in enumerate(conds):
        mask = cond == index
        cum = np.cumsum([condition.need.get(k, 0.0) for k in NEEDS])
        cum[-1] = 1.0
        need_idx[mask] = np.searchsorted(cum, u[mask, 1], side="right")
    urgent = u[:, 2] < dem.urgent_share
    rows = list(
        zip(
            cond_list,
            [NEEDS[i] for i in need_idx.tolist()],
            urgent.tolist(),
            u[:, 3].tolist(),
            u[:, 4].tolist(),
            u[:, 5].tolist(),
            strict=True,
        )
    )
    out: list[list[tuple]] = []
    pos = 0
    for c in counts.tolist():
        out.append(rows[pos : pos + c])
        pos += c
    return out


def simulate(scenario: Scenario, design: str, replication: int = 0) -> list[Row]:
    """Run one design for one replication; one row of results per contract year."""
    return Pathway(scenario, design, replication).run()
