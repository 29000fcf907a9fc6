"""One design of the pathway as a SimPy model: referrals in, routing between services, out.

The two bundled designs share every service and differ by policy (``sim.model.design``):

* **fragmented** (GP entry, unresolved back to the GP): the GP refers to one provider; a
  provider that cannot help discharges the patient back to the GP, who, after a wait and a
  consultation, refers again.
* **prime** (a single point of access, onward referral): every referral is triaged and
  routed; a service that cannot help refers onward inside the system.

Both run the RTT clock by the national rules (:mod:`sim.model.clocks`).

The day
-------
The model moves in whole days. One SimPy process runs each day's phases in this order, and
only here (:meth:`Pathway._day`):

1. **boundaries**: the recorder's week, month-end and year-end snapshots, which therefore
   see the state at the end of the day before;
   then **capacity reviews**: a place whose capacity policy acts looks at its list on its
   review days (``sim.model.policy``);
2. **transfers**: what was scheduled for today (GP consultations after a wait, returns from
   advice, beds freed, patients ready for theatre after pre-operative assessment);
3. **GP referrals**, then **self-referrals**, then referrals **outside the contract**;
4. each service's **session**, in the order the design lists its services;
5. the **theatre** list.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any, Final

import simpy
from mypy_extensions import mypyc_attr

from sim.base.interrupt import requested as interrupt_requested
from sim.base.streams import Streams
from sim.model.clinic import Clinic
from sim.model.clocks import NONADMITTED, REMOVALS, RTTClocks
from sim.model.design import BACK_TO_GP, ENTRY_GP, BackToGP, Entry, GPEntry, Onward, SinglePointEntry, Unresolved
from sim.model.draws import GP, ROUTE, Choice
from sim.model.hub import Hub, Transfer
from sim.model.kinds import DNA, GP_PLACE, REMOVED, RESOLVED, SELF_MANAGEMENT, SURGICAL, UNRESOLVED, Outcome
from sim.model.patient import NO_CLOCK, NORMAL, POSTOP, REHAB, Patient
from sim.model.places import Routes, build_services, build_theatre, capacity_plans
from sim.model.recorder import Recorder, Row
from sim.model.referrals import DirectReferrals, draw_referrals, horizon_days, outside_contract, self_referrals
from sim.scenario.backlog import seed_backlog
from sim.scenario.schema import THEATRE, Scenario

LEAVING: Final[dict[str, str]] = {o.value: "discharged" if o == Outcome.RESOLVED else f"discharged ({o.value})" for o in Outcome}
"""Where a journey ends, by outcome, as the flow diagram names it."""


@mypyc_attr(allow_interpreted_subclasses=True)  # a Python subclass may audit or alter a run
class Pathway(Hub):
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

    def __init__(self, scenario: Scenario, design: str, replication: int = 0, start: int = 0, takes_over: bool = False):
        self.scenario = scenario
        self.design_name = design
        self.design = d = scenario.designs[design]
        self.replication = replication
        run = scenario.run
        self.first_day = run.start_date - timedelta(days=run.warmup_days)
        self.warmup = run.warmup_days
        self.days = run.warmup_days + horizon_days(scenario)
        # a design taking over from another runs from the switch, with the patients it is handed (sim.analysis.switchover)
        self.start = start
        self.env = simpy.Environment()
        self.streams = Streams(run.seed, replication)
        self.calendar: dict[int, list[tuple[Transfer, Any]]] = defaultdict(list)
        self.stages: dict[str, Clinic] = build_services(scenario, design, self.first_day, self.days, self)
        self.theatre, cancelled = build_theatre(scenario, design, self.first_day, self.days, self.streams, self)
        self.reviewing = capacity_plans(scenario, design, self.first_day, self.days, self.stages, self.theatre, cancelled)
        functions = sorted({f for c in self.stages.values() if (f := c.cfg.rtt_function) is not None})
        self.rtt = RTTClocks(functions)
        for c in self.stages.values():
            if c.cfg.rtt_function is not None:
                c.function = functions.index(c.cfg.rtt_function)
        self.routes = r = Routes(scenario, design, self.stages)
        self._settings()
        self.entry: Entry = GPEntry(scenario.gp.referral) if d.entry == ENTRY_GP else SinglePointEntry(d.entry, r.routing_rows)
        self.unresolved: Unresolved = (
            BackToGP({n: c.index for n, c in self.stages.items()}, r.gp_wait, self.max_referrals)
            if d.unresolved == BACK_TO_GP
            else Onward(r.onward, self.max_onward, d.onward_delay_days)
        )
        self.recorder = Recorder(scenario, design, replication, self.first_day, self.days, self.stages, self.theatre, self.rtt)
        # the run's counters are the recorder's: the pathway counts into them
        self.counts, self.moves = self.recorder.counts, self.recorder.flows
        self.journeys, self.health = self.recorder.journeys, self.recorder.health
        self.arrivals = draw_referrals(scenario, self.streams, self.first_day, self.days)
        self.direct = self_referrals(scenario, self.streams, self.first_day)
        # care outside the MSK contract: the same patients in every design, never routed by it
        self.outside_contract = outside_contract(scenario, self.streams, self.first_day)
        if scenario.backlog is not None and not takes_over:  # the design it takes over had the backlog
            seed_backlog(self)
        self.env.process(self._days())

    def _settings(self) -> None:
        """Typed copies of the settings the event handlers read: compiled, they are machine
        values rather than lookups on the validated scenario."""
        s, d = self.scenario, self.design
        self.max_onward: int = d.max_onward
        self.advice_return: int = d.advice_return_days
        self.max_referrals: int = s.gp.max_referrals
        self.gp_memory: bool = s.gp.remembers_failed
        # Mobilising after a switch-over: the share of triage decisions made on the patient's
        # need, day by day (none: every decision is); the others follow ``blind_routing``.
        self.accuracy: list[float] = []
        self.blind_routing: Choice | None = None

    # -- starting from a backlog -------------------------------------------------------

    def admit_waiting(
        self, stage: str, condition: int, need: str, urgent: bool, listed: int, key: int, u: list[float], function: str = ""
    ) -> None:
        """A patient already waiting at ``stage`` since day ``listed`` (before day 0).

        A patient on the surgical list was listed at the surgical clinic of treatment
        function ``function`` (the first surgical clinic when none is given or none has it).
        """
        self.counts.created += 1
        p = Patient(self.counts.created, condition, need, urgent, listed, key, u[0], u[1], u[2])
        routes = self.routes
        gp_choice = routes.gp_first[need](u[0])
        p.gp_hospital = gp_choice in routes.hospital_stages
        if stage not in self.stages and stage != THEATRE:
            stage = self.entry.first_stop(gp_choice)
            stage = routes.choices[stage](u[1]) if stage in routes.choices else stage
        p.at = stage
        if stage == THEATRE:
            surgical = [c for c in self.stages.values() if c.cfg.surgical] or list(self.stages.values())
            origin = next((c for c in surgical if c.cfg.rtt_function == function), surgical[0])
            self.rtt.start(p, float(listed), max(origin.function, 0))
            self.theatre.choose_operation(origin.name, p)
            self.theatre.waiting_since(p, listed)
            return
        clinic = self.stages[stage]
        p.arrive(clinic.index)
        if clinic.consultant_led:  # already waiting: the clock runs
            self.rtt.start(p, float(listed), clinic.function)
        clinic.waiting_since(p, listed)

    def sort_waiting(self) -> None:
        """Lists in order of time waited, longest first."""
        for clinic in self.stages.values():
            clinic.sort_waiting()
        self.theatre.sort_waiting()

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
        if self.health.on:  # those still waiting at the end have lost health too: count it to the end
            for p in self.census():
                self.health.treated(p, self.days)
        self.recorder.finish(self.days)
        return self.recorder.rows

    def _days(self):
        """SimPy process: every day's phases, in the order the module docstring gives."""
        if self.start:
            yield self.env.timeout(self.start)
        for day in range(self.start, self.days):
            if interrupt_requested():  # Ctrl-C, deferred to here (sim.base.interrupt)
                raise KeyboardInterrupt
            self._day(day)
            yield self.env.timeout(1)

    def _day(self, day: int) -> None:
        self.recorder.at(day)
        if self.reviewing:
            self._reviews(day)
        for fn, arg in self.calendar.pop(day, ()):
            fn(arg, day)
        self._gp_referrals(day)
        if self.direct is not None:
            self.counts.self_referrals += self._direct_referrals(self.direct, day)
        if self.outside_contract is not None:
            self.counts.outside_referrals += self._direct_referrals(self.outside_contract, day)
        for clinic in self.stages.values():
            clinic.day(day)
        self.theatre.day(day)

    def _reviews(self, day: int) -> None:
        """Capacity policies look at their places on their review days, before the day's work."""
        for clinic in self.stages.values():
            plan = clinic.plan
            if plan is not None and plan.reviews(day):
                plan.review(day, float(clinic.ready()) if plan.list_measure else clinic.within_18w_pct(day))
        plan = self.theatre.plan
        if plan is not None and plan.reviews(day):
            theatre = self.theatre
            plan.review(day, float(theatre.ready_list()) if plan.list_measure else theatre.within_18w_pct(day))

    def later(self, day: int, fn: Transfer, arg: Any) -> None:
        """Schedule ``fn(arg, day)`` at the start of a later day."""
        self.calendar[day].append((fn, arg))

    def _gp_referrals(self, day: int) -> None:
        """The day's new GP referrals, drawn for the whole run before it starts."""
        batch = self.arrivals[day]
        counts = self.counts
        counts.referrals += len(batch)
        first_gp, hospital, entry = self.routes.gp_first, self.routes.hospital_stages, self.entry
        for condition, need, urgent, key, u_gp, u_triage, u_surgery in batch:
            counts.created += 1
            p = Patient(counts.created, condition, need, urgent, day, key, u_gp, u_triage, u_surgery)
            dest = first_gp[need](u_gp)
            p.gp_hospital = dest in hospital
            self.refer(p, entry.first_stop(dest), day)

    def _direct_referrals(self, source: DirectReferrals, day: int) -> int:
        """The day's patients referred straight to a service, without the GP's choice or triage:
        people referring themselves, or care outside the contract. Returns how many."""
        batch = source.today(day)
        counts = self.counts
        for condition, need, urgent, key, u_gp, u_triage, u_surgery in batch:
            counts.created += 1
            p = Patient(counts.created, condition, need, urgent, day, key, u_gp, u_triage, u_surgery)
            p.at = source.place
            p.outside = source.outside
            self.refer(p, source.stage, day)
        return len(batch)

    # -- routing ---------------------------------------------------------------------

    def refer(self, p: Patient, dest: str, day: int, delay: int = 0) -> None:
        """Send a patient to a service (or to advice), starting an RTT clock where one starts.

        ``delay`` is the days a referral takes to arrive (an internal referral, a letter).
        """
        if self.moves.counting:
            self.moves.count(p.at, dest)
        p.at = dest
        clinic = self.stages.get(dest)
        if clinic is None:
            routes = self.routes
            if dest in routes.choices:  # patient choice between providers
                u = p.u(ROUTE)
                pick = routes.by_waits(dest, u) if routes.choice_weight > 0.0 else routes.choices[dest](u)
                self.refer(p, pick, day, delay)
            else:
                self._advice(p, day)
            return
        p.arrive(clinic.index)
        # drawn whatever the share, so the episode's later draws are the same in every design;
        # advice and guidance answers a GP, and care outside the contract was not referred by one
        answered = p.here_u() < clinic.ag
        if answered and p.phase == NORMAL and p.need != SURGICAL and not p.outside:
            self._advice_and_guidance(clinic, p, day)
            return
        if clinic.consultant_led and p.phase == NORMAL:  # a consultant-led or interface service
            if p.clock == NO_CLOCK:
                self.rtt.start(p, float(day + delay), clinic.function)
            else:  # referred on with the clock running: the pathway is now this service's
                self.rtt.moved(p, day, clinic.function)
        clinic.refer(p, day, delay)

    def _advice_and_guidance(self, clinic: Clinic, p: Patient, day: int) -> None:
        """The specialist answers the GP's referral with advice; no appointment.

        The patient is managed in primary care if the service could have helped them,
        and otherwise looks for the right service without having used a slot here.
        """
        clinic.stats.advice_and_guidance += 1
        if p.need == SELF_MANAGEMENT or clinic.resolves[p.need] > 0:
            if clinic.ag_return > 0.0 and p.u(GP) < clinic.ag_return and p.referrals + 1 < self.max_referrals:
                self._back_to_gp(p, day)  # the advice helped for a while
            else:
                self._resolved_without_care(p, day)
        else:
            p.ok = False
            self.unresolved_episode(clinic.name, p, day)

    def _resolved_without_care(self, p: Patient, day: int) -> None:
        p.ok = True
        self.health.treated(p, day)
        self.discharge(p, day, RESOLVED)

    def move(self, p: Patient, to: str) -> None:
        """Count a move between places (after the warm-up) for the flow diagram."""
        if self.moves.counting:
            self.moves.count(p.at, to)
        p.at = to

    @property
    def flows(self) -> Counter[tuple[str, str]]:
        """Moves after the warm-up: (from, to) -> count, in the order the pairs were first seen."""
        return self.moves.counted()

    def _advice(self, p: Patient, day: int) -> None:
        self.rtt.stop(p, day, NONADMITTED)  # advised and discharged: the pathway is complete
        self.counts.advice_given += 1
        if p.need == SELF_MANAGEMENT:
            self._resolved_without_care(p, day)
        else:  # advice did not help: the patient comes back to the single point of access
            self.later(day + self.advice_return, self._return_to_entry, p)

    def _return_to_entry(self, p: Patient, day: int) -> None:
        p.referrals += 1
        if p.referrals > self.max_onward:
            self.discharge(p, day, UNRESOLVED)
        else:
            self.entry.come_back(self, p, day)

    def triaged(self, p: Patient, day: int) -> None:
        """A triage decision: where the single point of access sends the patient."""
        u = p.u_triage if p.triaged == 0 else p.u(ROUTE)
        p.triaged += 1
        blind = self.blind_routing
        if blind is not None and day < len(self.accuracy) and p.u(ROUTE) >= self.accuracy[day]:
            dest = blind(u)  # a triage team still learning: routed as the average referral
        else:
            dest = self.routes.routing[p.need](u)
        self.refer(p, dest, day, 1)

    def episode_ended(self, place: str, p: Patient, day: int) -> None:
        """A course of care at a service is over: discharge, or look for the right service."""
        if p.phase == POSTOP:
            self.theatre.after_postop(p, day)
        elif p.phase == REHAB and not p.ok:  # rehabilitation after an operation that could not help
            self.theatre.not_helped(place, p, day)
        elif p.phase == REHAB or p.ok:
            self.discharge(p, day, RESOLVED)
        else:
            self.unresolved_episode(place, p, day)

    def unresolved_episode(self, place: str, p: Patient, day: int) -> None:
        """The service could not meet the need: the design's policy says what happens, but to
        care outside the contract, which leaves the MSK system (its GP loop and onward routing)."""
        if p.outside:
            self.discharge(p, day, UNRESOLVED)
            return
        p.referrals += 1
        self.unresolved.handle(self, place, p, day)

    def gp_consultation(self, p: Patient, day: int) -> None:
        """The GP sees the patient again and refers where they have not yet been helped."""
        self.counts.gp_consultations += 1
        u = p.u(GP)
        dest = self.routes.gp_again[p.need](u)
        if self.gp_memory and p.failed:
            dest = self.routes.elsewhere(p, u)
        # where the design's entry sends a GP's referral: the service chosen, or the single point of access
        self.refer(p, self.entry.first_stop(dest), day)

    def missed_out(self, p: Patient, day: int, rate: float) -> None:
        """Discharged after missed appointments: back to the GP for some (``rate``, the service's
        ``dna_return_rate``), who refers them again after the GP's wait; the journey ends for the
        rest, and for care outside the contract, which the GP did not refer."""
        back = rate > 0.0 and p.phase == NORMAL and not p.outside
        if back and p.u(GP) < rate and p.referrals + 1 < self.max_referrals:
            self.rtt.stop(p, day, NONADMITTED)  # discharged for not attending: the pathway is complete
            self.counts.dna_returns += 1
            self._back_to_gp(p, day)
        else:
            self.discharge(p, day, DNA)

    def _back_to_gp(self, p: Patient, day: int) -> None:
        """Back with the GP, who refers again after their wait."""
        p.referrals += 1
        self.move(p, GP_PLACE)
        self.later(day + self.routes.gp_wait(p.u(GP)), self.gp_consultation, p)

    def tested(self, p: Patient, day: int) -> None:
        """A diagnostic test done: the clinic that ordered it sees the patient with the result."""
        clinic = self.stages[p.ordered_by]
        self.move(p, clinic.name)
        clinic.book(p, day + clinic.interval)

    # -- between the services and the theatre ---------------------------------------------

    def list_for_surgery(self, place: str, p: Patient, day: int) -> None:
        self.theatre.listed(place, p, day)

    def list_for_procedure(self, place: str, p: Patient, day: int) -> None:
        self.theatre.listed_for_procedure(place, p, day)

    def book(self, place: str, p: Patient, due: int) -> None:
        self.stages[place].book(p, due)

    def resume_course(self, place: str, p: Patient, day: int) -> None:
        self.stages[place].after_procedure(p, day)

    def rehabilitate(self, place: str, p: Patient, day: int) -> None:
        rehab = self.stages[place]
        p.arrive(rehab.index)
        rehab.refer(p, day, 1)

    # -- leaving -----------------------------------------------------------------------

    def discharge(self, p: Patient, day: int, outcome: str) -> None:
        """The journey ends: record it once."""
        self.rtt.stop(p, day, REMOVALS if outcome == REMOVED else NONADMITTED)
        # if never treated (unresolved or lost), they waited until now
        self.health.treated(p, day)
        to = LEAVING[outcome]
        if self.moves.counting:
            self.moves.count(p.at, to)
        p.at = to
        self.counts.discharged += 1
        self.journeys.add(p, day, outcome)

    # -- inspection ------------------------------------------------------------------

    def census(self) -> list[Patient]:
        """Every patient still in the system, wherever they are."""
        out: list[Patient] = []
        for clinic in self.stages.values():
            out += clinic.patients()
        out += self.theatre.patients()
        gone = set(LEAVING.values())  # removed in pre-operative assessment, awaited in vain
        for entries in self.calendar.values():
            out += [arg for _, arg in entries if isinstance(arg, Patient) and arg.at not in gone]
        return out


def simulate(scenario: Scenario, design: str, replication: int = 0) -> list[Row]:
    """Run one design for one replication; one row of results per contract year."""
    return Pathway(scenario, design, replication).run()
