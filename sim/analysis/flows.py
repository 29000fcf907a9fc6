"""Traffic equations: the expected activity per referral implied by a scenario's routing.

Routing depends only on a patient's latent need, condition and how many times they have
been referred, so the expected number of visits to each service solves a finite, acyclic
system that we unroll exactly. Overflow to another provider and removals from a list
without treatment depend on waits, not on routing, and are left out: they only lower the
activity. With capacity below demand and no removals these are the long-run means the
simulation must reproduce; ``msksim validate`` uses them to show the load on each stage.
"""

from __future__ import annotations

from collections import defaultdict

from sim.model.draws import CountTable
from sim.scenario.schema import ADVICE, NEEDS, THEATRE, Scenario, onward_row
from sim.scenario.stages import Stage

Flows = dict[str, float]

THEATRE_SLOTS = f"{THEATRE}_slots"
"""The key of the expected theatre slots (in day-case slots) per referral."""


def _dna(d: float, m: int) -> tuple[float, float]:
    """(probability an appointment is lost after ``m`` misses in a row, expected misses)."""
    return d**m, sum(d**j for j in range(1, m + 1))


class _Course:
    """Expected follow-ups of a course, given the distribution of their number K.

    Follow-up *j* is reached only if the *j - 1* before it were kept (not lost to
    repeated did-not-attends).
    """

    def __init__(self, pmf_k: list[float], d: float, m: int):
        lost, misses = _dna(d, m)
        keep = 1.0 - lost
        tail = [sum(pmf_k[j:]) for j in range(len(pmf_k))]  # P(K >= j)
        self.attended = sum(tail[j] * keep**j for j in range(1, len(pmf_k)))
        self.misses = misses * sum(tail[j] * keep ** (j - 1) for j in range(1, len(pmf_k)))
        self.complete = sum(p * keep**k for k, p in enumerate(pmf_k))


def expected_activity(scenario: Scenario, design: str) -> Flows:
    """Expected counts per referral for one design.

    Keys are ``<stage>_arrivals``, ``<stage>_first``, ``<stage>_followup``, ``<stage>_dna``,
    ``<stage>_listed``, ``<stage>_removed`` (stale pathways), ``gp_consultations``, ``advice_given``, ``joint_replacements``,
    ``surgeries_daycase``, ``surgeries_inpatient``, ``procedures``, ``bed_days``, ``theatre_slots`` and the
    journey outcomes ``ended_resolved``, ``ended_unresolved``, ``ended_dna`` and ``ended_removed``
    (stale pathways only).
    """
    return _Solver(scenario, design).solve()


def expected_outside_activity(scenario: Scenario, design: str) -> Flows:
    """Expected counts per referral outside the contract (``demand.outside_contract``), with the
    keys of :func:`expected_activity`: what its patients ask of the services they share."""
    solver = _Solver(scenario, design)
    solver.outside_contract(1.0)
    return dict(solver.expected)


class _Solver:
    """Unrolls one design's routing, adding each service's expected counts as it goes.

    A patient's state is their need, their condition's joint replacement share, how many
    times they have been referred (``k``), whether they are in rehabilitation, the
    diagnostic tests they have had (``tested``, bits by service index: a test is not repeated)
    and whether they are care outside the contract (``outside``: never answered by advice and
    guidance, never back to the GP or onward, out of the system when unresolved).
    The GP's memory of the services that failed a patient (``gp.remembers_failed``) is left
    out: it depends on the whole history, not on this state.
    """

    def __init__(self, scenario: Scenario, design: str):
        self.scenario = scenario
        self.design = scenario.designs[design]
        self.routing = scenario.design_routing(design)
        self.stages = scenario.design_stages(design)
        self.order = list(scenario.stages)
        self.courses = {(n, need): _course(stage, need) for n, stage in self.stages.items() for need in NEEDS}
        self.rehab_courses = {
            (n, need): _course(stage.model_copy(update={"pifu_share": 0.0}), need)
            for n, stage in self.stages.items()
            for need in NEEDS
        }
        self.surgery = scenario.design_surgery(design)
        postop_followups = CountTable(self.surgery.postop_followups).pmf()
        self.postop = {
            (n, need): _Course(postop_followups, stage.dna_followup, stage.max_dna)
            for n, stage in self.stages.items()
            for need in NEEDS
        }
        self.expected: Flows = defaultdict(float)
        self.joint = 0.0  # the joint replacement share of the condition being unrolled
        self.outside = False  # unrolling care outside the contract
        # Everything a visit adds is proportional to the mass sent: each (service, need, step,
        # rehab, joint share, tests had, outside) is unrolled once, for a unit of mass, and scaled after.
        self.unit: dict[tuple[str, str, int, bool, float, int, bool], Flows] = {}

    def solve(self) -> Flows:
        demand, design = self.scenario.demand, self.design
        for cond in demand.conditions.values():
            for need in NEEDS:
                mass = cond.share * cond.need.get(need, 0.0)
                if mass <= 0:
                    continue
                self.joint = cond.joint_replacement_share
                if design.entry == "gp":
                    self._route(self.scenario.gp.referral[need], need, mass, 0)
                else:
                    self._visit(design.entry, need, mass, 0)
        self_referral = demand.self_referral
        if self_referral.per_year > 0 and demand.gp_referrals_per_year > 0:  # direct access, per GP referral
            per_gp_referral = self_referral.per_year / demand.gp_referrals_per_year
            for cond in demand.conditions.values():
                self.joint = cond.joint_replacement_share
                for need, p in self_referral.need.items():
                    self._visit(self_referral.stage, need, per_gp_referral * cond.share * p, 0)
        outside = demand.outside_contract
        if outside.per_year > 0 and demand.gp_referrals_per_year > 0:  # care outside the contract, per GP referral
            self.outside_contract(outside.per_year / demand.gp_referrals_per_year)
        return dict(self.expected)

    def outside_contract(self, mass: float) -> None:
        """Add ``mass`` referrals outside the contract: straight to their service, by their own mix
        of conditions and needs."""
        outside, conditions = self.scenario.demand.outside_contract, self.scenario.demand.conditions
        shares = outside.conditions if outside.conditions is not None else {n: c.share for n, c in conditions.items()}
        self.outside = True
        for name, share in shares.items():
            self.joint = conditions[name].joint_replacement_share
            for need, p in outside.need.items():
                self._visit(outside.stage, need, mass * share * p, 0)
        self.outside = False

    def _route(self, row: dict[str, float], need: str, mass: float, k: int, tested: int = 0) -> None:
        """Send ``mass`` on along one row of a routing matrix."""
        for dest, p in row.items():
            self._go(dest, need, mass * p, k, tested)

    def _go(self, dest: str, need: str, mass: float, k: int, tested: int = 0) -> None:
        if mass <= 0:
            return
        if dest in self.scenario.choices:
            self._route(self.scenario.choices[dest], need, mass, k, tested)
        elif dest == ADVICE:
            self.expected["advice_given"] += mass
            if need == "self_management":
                self.expected["ended_resolved"] += mass
            else:
                self._again(need, mass, k, advice=True, tested=tested)
        else:
            self._visit(dest, need, mass, k, tested=tested)

    def _visit(self, name: str, need: str, mass: float, k: int, rehab: bool = False, tested: int = 0) -> None:
        key = (name, need, k, rehab, self.joint, tested, self.outside)
        unit = self.unit.get(key)
        if unit is None:
            outer, self.expected = self.expected, defaultdict(float)
            self._unrolled(name, need, 1.0, k, rehab, tested)
            unit, self.expected = dict(self.expected), outer
            self.unit[key] = unit
        for what, per_unit in unit.items():
            self.expected[what] += per_unit * mass

    def _unrolled(self, name: str, need: str, mass: float, k: int, rehab: bool, tested: int) -> None:
        stage, expected = self.stages[name], self.expected
        if stage.advice_and_guidance_share and not rehab and need != "surgical" and not self.outside:
            mass -= self._advice_and_guidance(name, stage, need, mass, k, tested)
        expected[f"{name}_arrivals"] += mass  # as the model counts them: those answered by advice never arrive
        mass -= self._stale(name, stage, mass)
        lost, misses = _dna(stage.dna_first, stage.max_dna)
        expected[f"{name}_dna"] += mass * misses
        self._lost(stage, need, mass * lost, k, tested, normal=not rehab)
        seen = mass * (1.0 - lost)
        expected[f"{name}_first"] += seen
        if stage.kind == "triage":
            self._route(self.routing[need], need, seen, k, tested)
        elif rehab:  # rehabilitation courses are never patient-initiated
            done = self._course(name, need, seen, k, tested, self.rehab_courses)
            self._operated(name, need, done, k, tested)
        else:
            self._treat(name, stage, need, seen, k, tested)

    def _advice_and_guidance(self, name: str, stage: Stage, need: str, mass: float, k: int, tested: int) -> float:
        """Referrals a specialist answers with advice to the referrer, without seeing the patient."""
        answered = mass * stage.advice_and_guidance_share
        self.expected[f"{name}_advice_and_guidance"] += answered
        if need == "self_management" or stage.resolves.get(need, 0.0) > 0:
            back = answered * stage.advice_and_guidance_return_share if k + 1 < self.scenario.gp.max_referrals else 0.0
            self.expected["ended_resolved"] += answered - back
            self._gp_again(need, back, k, tested)
        else:
            self._again(need, answered, k, origin=name, tested=tested)
        return answered

    def _stale(self, name: str, stage: Stage, mass: float) -> float:
        """Stale pathways: never seen, removed at validation (removals of those who would have
        been seen depend on waits and are left out). Returns the mass removed."""
        stale = mass * stage.stale_share
        if stale:
            self.expected[f"{name}_removed"] += stale
            self.expected["ended_removed"] += stale
        return stale

    def _lost(self, stage: Stage, need: str, mass: float, k: int, tested: int, normal: bool = True) -> None:
        """Discharged after missed appointments: back to the GP for some (``dna_return_rate``)."""
        back = mass * stage.dna_return_rate if normal and not self.outside and k + 1 < self.scenario.gp.max_referrals else 0.0
        self.expected["ended_dna"] += mass - back
        if back > 0:
            self.expected["dna_returns"] += back
        self._gp_again(need, back, k, tested)

    def _gp_again(self, need: str, mass: float, k: int, tested: int) -> None:
        """Back with the GP, who refers again: to the service chosen, or the single point of access."""
        if mass <= 0:
            return
        self.expected["gp_consultations"] += mass
        if self.design.entry == "gp":
            self._route(self.scenario.gp.rereferral[need], need, mass, k + 1, tested)
        else:
            self._visit(self.design.entry, need, mass, k + 1, tested=tested)

    def _treat(self, name: str, stage: Stage, need: str, seen: float, k: int, tested: int) -> None:
        """After a first appointment: a diagnostic test and the follow-up with its result, or the
        follow-up where some are decided, or the decision there and then."""
        lost, misses = _dna(stage.dna_followup, stage.max_dna)
        ordered = 0.0
        for test, share in stage.tests.items():
            bit = 1 << self.order.index(test)
            if share <= 0 or tested & bit:
                continue
            mass = seen * share
            ordered += share
            back = self._test(test, need, mass, k, tested | bit)
            self.expected[f"{name}_followup"] += back * (1.0 - lost)
            self.expected[f"{name}_dna"] += back * misses
            self._lost(stage, need, back * lost, k, tested | bit)
            self._decide(name, stage, need, back * (1.0 - lost), k, tested | bit)
        seen *= 1.0 - ordered
        if stage.decision_at_followup_share:
            workup = seen * stage.decision_at_followup_share
            self.expected[f"{name}_followup"] += workup * (1.0 - lost)
            self.expected[f"{name}_dna"] += workup * misses
            self._lost(stage, need, workup * lost, k, tested)
            seen -= workup * lost
        self._decide(name, stage, need, seen, k, tested)

    def _test(self, name: str, need: str, mass: float, k: int, tested: int) -> float:
        """A diagnostic test: its list, missed appointments and the test. Returns the mass tested."""
        stage, expected = self.stages[name], self.expected
        expected[f"{name}_arrivals"] += mass
        mass -= self._stale(name, stage, mass)
        lost, misses = _dna(stage.dna_first, stage.max_dna)
        expected[f"{name}_dna"] += mass * misses
        self._lost(stage, need, mass * lost, k, tested)
        expected[f"{name}_first"] += mass * (1.0 - lost)
        return mass * (1.0 - lost)

    def _decide(self, name: str, stage: Stage, need: str, seen: float, k: int, tested: int) -> None:
        """Listed for surgery, or a course that resolves or not."""
        listing = stage.list_for_surgery.get(need, 0.0)
        if listing:
            self.expected[f"{name}_listed"] += seen * listing
            self._surgery(name, need, seen * listing, k, tested)
        rest = seen * (1.0 - listing)
        resolves = stage.resolves.get(need, 0.0)
        if stage.procedure_share:  # a day-case procedure starts the course of some (it changes no route)
            treated = rest * (resolves if stage.assessment_only_if_unresolved else 1.0)
            self.expected["procedures"] += treated * stage.procedure_share
            self.expected[THEATRE_SLOTS] += treated * stage.procedure_share * self.surgery.procedure_slots
        if resolves > 0:
            done = self._course(name, need, rest * resolves, k, tested)  # first: a course may add to the ends itself
            self.expected["ended_resolved"] += done
        if resolves < 1:
            fail = rest * (1.0 - resolves)
            done = fail if stage.assessment_only_if_unresolved else self._course(name, need, fail, k, tested)
            self._again(need, done, k, origin=name, tested=tested)

    def _course(
        self, name: str, need: str, mass: float, k: int, tested: int, courses: dict[tuple[str, str], _Course] | None = None
    ) -> float:
        """Follow-ups of a course at ``name``; returns the mass that completes it. Only a course
        looking for the right treatment (not one after an operation) loses patients to the GP."""
        course = (courses or self.courses)[name, need]
        self.expected[f"{name}_followup"] += mass * course.attended
        self.expected[f"{name}_dna"] += mass * course.misses
        self._lost(self.stages[name], need, mass * (1.0 - course.complete), k, tested, normal=courses is None)
        return mass * course.complete

    def _again(self, need: str, mass: float, k: int, advice: bool = False, origin: str = "", tested: int = 0) -> None:
        """Unresolved: back to the GP, or onward inside the system; care outside the contract leaves it."""
        design = self.design
        k += 1
        if self.outside:
            self.expected["ended_unresolved"] += mass
            return
        if design.unresolved == "gp" and not advice:
            if k >= self.scenario.gp.max_referrals:
                self.expected["ended_unresolved"] += mass
            else:
                self._back_to_gp(need, mass, k, tested)
        elif k > design.max_onward:
            self.expected["ended_unresolved"] += mass
        elif not advice:
            self._route(onward_row(design.onward[need], origin), need, mass, k, tested)
        elif design.entry == "gp":
            self._back_to_gp(need, mass, k, tested)
        else:
            self._visit(design.entry, need, mass, k, tested=tested)

    def _back_to_gp(self, need: str, mass: float, k: int, tested: int) -> None:
        self.expected["gp_consultations"] += mass
        self._route(self.scenario.gp.rereferral[need], need, mass, k, tested)

    def _surgery(self, clinic: str, need: str, mass: float, k: int, tested: int) -> None:
        surgery, expected = self.surgery, self.expected
        joint = mass * (self.joint if need == "surgical" else 0.0)
        other = mass - joint
        day, inpatient = other * surgery.daycase_share, other * (1.0 - surgery.daycase_share)
        expected["joint_replacements"] += joint
        expected["surgeries_daycase"] += day
        expected["surgeries_inpatient"] += joint + inpatient
        if need != "surgical":
            expected["surgeries_avoidable"] += mass
        expected["bed_days"] += joint * surgery.los_joint_days + inpatient * surgery.los_other_days
        expected[THEATRE_SLOTS] += joint * surgery.joint_replacement_slots + day + inpatient * surgery.inpatient_slots
        # post-operative follow-up at the listing clinic, then rehabilitation for some
        self._course(clinic, need, mass, k, tested, self.postop)
        after = self.postop[clinic, need].complete
        rehab = joint * surgery.rehab_share_joint + other * surgery.rehab_share_other
        self._operated(clinic, need, (mass - rehab) * after, k, tested)
        if rehab:
            self._visit(surgery.rehab_stage, need, rehab * after, k, rehab=True, tested=tested)

    def _operated(self, where: str, need: str, mass: float, k: int, tested: int) -> None:
        """Care after an operation is over: resolved, if the operation met a surgical need; if not,
        some come back for care (``avoidable_return_rate``) and the others leave unresolved."""
        if need == "surgical":
            self.expected["ended_resolved"] += mass
            return
        back = mass * self.surgery.avoidable_return_rate
        self.expected["ended_unresolved"] += mass - back
        if back > 0:
            self._again(need, back, k, origin=where, tested=tested)


def _course(stage: Stage, need: str) -> _Course:
    # contacts = 1 + K follow-ups, K ~ Poisson; the table's pmf is indexed by K. Patient-
    # initiated follow-up skips each planned one with probability q, which thins the
    # Poisson: K stays Poisson with mean (contacts - 1)(1 - q).
    q = stage.pifu_share * (1.0 - stage.pifu_return_rate)
    mean = 1.0 + (stage.contacts(need) - 1.0) * (1.0 - q)
    return _Course(CountTable(mean, offset=1).pmf(), stage.dna_followup, stage.max_dna)


def stage_load(scenario: Scenario, design: str, flows: Flows | None = None) -> dict[str, float]:
    """Expected slots needed per week at each stage (attended plus missed), in year 1."""
    flows = flows if flows is not None else expected_activity(scenario, design)
    per_week = scenario.demand.gp_referrals_per_year / 52.18
    out = {}
    for name in scenario.designs[design].services:
        slots = flows.get(f"{name}_first", 0.0) + flows.get(f"{name}_followup", 0.0) + flows.get(f"{name}_dna", 0.0)
        out[name] = slots * per_week
    out[THEATRE] = flows.get(THEATRE_SLOTS, 0.0) * per_week
    return out


def outside_load(scenario: Scenario, design: str) -> dict[str, float]:
    """The part of :func:`stage_load` that is care outside the contract (empty when there is none)."""
    demand = scenario.demand
    per_year = demand.outside_contract.per_year
    if per_year <= 0 or demand.gp_referrals_per_year <= 0:  # stage_load counts it per GP referral
        return {}
    ratio = per_year / demand.gp_referrals_per_year
    return stage_load(scenario, design, {k: v * ratio for k, v in expected_outside_activity(scenario, design).items()})
