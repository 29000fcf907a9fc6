"""Traffic equations: the expected activity per referral implied by a scenario's routing.

Routing depends only on a patient's latent need, condition and how many times they have
been referred, so the expected number of visits to each service solves a finite, acyclic
system that we unroll exactly. Overflow to another provider depends on waits, not on
routing, and is left out. With capacity below demand these are the long-run means the
simulation must reproduce; ``msksim validate`` uses them to show the load on each stage.
"""

from __future__ import annotations

from collections import defaultdict

from sim.model.draws import CountTable
from sim.scenario import ADVICE, NEEDS, Scenario, Stage, onward_row

Flows = dict[str, float]


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
    ``<stage>_listed``, ``gp_consultations``, ``advice_given``, ``joint_replacements``,
    ``surgeries_daycase``, ``surgeries_inpatient``, ``bed_days``, ``theatre_slots`` and the
    journey outcomes ``ended_resolved``, ``ended_unresolved``, ``ended_dna``.
    """
    return _Solver(scenario, design).solve()


class _Solver:
    def __init__(self, s: Scenario, design: str):
        self.s = s
        self.d = s.designs[design]
        self.stages = s.design_stages(design)
        self.courses = {n: _course(st) for n, st in self.stages.items()}
        self.rehab_courses = {n: _course(st.model_copy(update={"pifu_share": 0.0})) for n, st in self.stages.items()}
        surg = s.surgery
        self.postop = {
            n: _Course(CountTable(surg.postop_followups).pmf(), st.dna_followup, st.max_dna) for n, st in self.stages.items()
        }
        self.acc: Flows = defaultdict(float)

    def solve(self) -> Flows:
        for cond in self.s.demand.conditions.values():
            for need in NEEDS:
                mass = cond.share * cond.need.get(need, 0.0)
                if mass <= 0:
                    continue
                self.joint = cond.joint_replacement_share
                if self.d.entry == "gp":
                    for dest, p in self.s.gp.referral[need].items():
                        self._go(dest, need, mass * p, 0)
                else:
                    self._visit(self.d.entry, need, mass, 0)
        sr, per_year = self.s.demand.self_referral, self.s.demand.referrals_per_year
        if sr.per_year > 0 and per_year > 0:  # direct access, per GP referral
            for cond in self.s.demand.conditions.values():
                self.joint = cond.joint_replacement_share
                for need, p in sr.need.items():
                    self._visit(sr.stage, need, sr.per_year / per_year * cond.share * p, 0)
        return dict(self.acc)

    def _go(self, dest: str, need: str, mass: float, k: int) -> None:
        if mass <= 0:
            return
        if dest in self.s.choices:
            for option, p in self.s.choices[dest].items():
                self._go(option, need, mass * p, k)
            return
        if dest == ADVICE:
            self.acc["advice_given"] += mass
            if need == "self_management":
                self.acc["ended_resolved"] += mass
            else:
                self._again(need, mass, k, advice=True)
        else:
            self._visit(dest, need, mass, k)

    def _visit(self, name: str, need: str, mass: float, k: int, rehab: bool = False) -> None:
        st, acc = self.stages[name], self.acc
        acc[f"{name}_arrivals"] += mass
        if st.advice_and_guidance_share and not rehab and need != "surgical":
            answered = mass * st.advice_and_guidance_share
            acc[f"{name}_advice_and_guidance"] += answered
            mass -= answered
            if need == "self_management" or st.resolves.get(need, 0.0) > 0:
                acc["ended_resolved"] += answered
            else:
                self._again(need, answered, k, origin=name)
        lost, misses = _dna(st.dna_first, st.max_dna)
        acc[f"{name}_dna"] += mass * misses
        acc["ended_dna"] += mass * lost
        seen = mass * (1.0 - lost)
        acc[f"{name}_first"] += seen
        if st.kind == "triage":
            for dest, p in self.d.routing[need].items():
                self._go(dest, need, seen * p, k)
            return
        if rehab:  # rehabilitation courses are never patient-initiated
            done = self._course(name, seen, self.rehab_courses)
            acc["ended_resolved"] += done
            return
        listing = st.list_for_surgery.get(need, 0.0)
        if listing:
            acc[f"{name}_listed"] += seen * listing
            self._surgery(name, need, seen * listing)
        rest = seen * (1.0 - listing)
        r = st.resolves.get(need, 0.0)
        if r > 0:
            acc["ended_resolved"] += self._course(name, rest * r)
        if r < 1:
            fail = rest * (1.0 - r)
            done = fail if st.assessment_only_if_unresolved else self._course(name, fail)
            self._again(need, done, k, origin=name)

    def _course(self, name: str, mass: float, courses: dict[str, _Course] | None = None) -> float:
        c = (courses or self.courses)[name]
        self.acc[f"{name}_followup"] += mass * c.attended
        self.acc[f"{name}_dna"] += mass * c.misses
        self.acc["ended_dna"] += mass * (1.0 - c.complete)
        return mass * c.complete

    def _again(self, need: str, mass: float, k: int, advice: bool = False, origin: str = "") -> None:
        """Unresolved: back to the GP, or onward inside the system."""
        d, acc = self.d, self.acc
        k += 1
        if d.unresolved == "gp" and not advice:
            if k >= self.s.gp.max_referrals:
                acc["ended_unresolved"] += mass
                return
            acc["gp_consultations"] += mass
            for dest, p in self.s.gp.rereferral[need].items():
                self._go(dest, need, mass * p, k)
            return
        if k > d.max_onward:
            acc["ended_unresolved"] += mass
            return
        if advice:
            if d.entry == "gp":
                acc["gp_consultations"] += mass
                for dest, p in self.s.gp.rereferral[need].items():
                    self._go(dest, need, mass * p, k)
            else:
                self._visit(d.entry, need, mass, k)
            return
        for dest, p in onward_row(d.onward[need], origin).items():
            self._go(dest, need, mass * p, k)

    def _surgery(self, clinic: str, need: str, mass: float) -> None:
        s, acc = self.s.surgery, self.acc
        joint = mass * (self.joint if need == "surgical" else 0.0)
        other = mass - joint
        day, inpatient = other * s.daycase_share, other * (1.0 - s.daycase_share)
        acc["joint_replacements"] += joint
        acc["surgeries_daycase"] += day
        acc["surgeries_inpatient"] += joint + inpatient
        acc["bed_days"] += joint * s.los_joint_days + inpatient * s.los_other_days
        acc["theatre_slots"] += joint * s.joint_replacement_slots + day + inpatient * s.inpatient_slots
        # post-operative follow-up at the listing clinic, then rehabilitation for some
        po = self.postop[clinic]
        acc[f"{clinic}_followup"] += mass * po.attended
        acc[f"{clinic}_dna"] += mass * po.misses
        acc["ended_dna"] += mass * (1.0 - po.complete)
        after = po.complete
        rehab = joint * s.rehab_share_joint + other * s.rehab_share_other
        acc["ended_resolved"] += (mass - rehab) * after
        if rehab:
            self._visit(s.rehab_stage, need, rehab * after, 0, rehab=True)


def _course(st: Stage) -> _Course:
    # contacts = 1 + K follow-ups, K ~ Poisson; the table's pmf is indexed by K. Patient-
    # initiated follow-up skips each planned one with probability q, which thins the
    # Poisson: K stays Poisson with mean (contacts - 1)(1 - q).
    q = st.pifu_share * (1.0 - st.pifu_return_rate)
    mean = 1.0 + (st.contacts_per_episode - 1.0) * (1.0 - q)
    return _Course(CountTable(mean, offset=1).pmf(), st.dna_followup, st.max_dna)


def stage_load(scenario: Scenario, design: str, flows: Flows | None = None) -> dict[str, float]:
    """Expected slots needed per week at each stage (attended plus missed), in year 1."""
    flows = flows if flows is not None else expected_activity(scenario, design)
    per_week = scenario.demand.referrals_per_year / 52.18
    out = {}
    for name in scenario.designs[design].services:
        slots = flows.get(f"{name}_first", 0.0) + flows.get(f"{name}_followup", 0.0) + flows.get(f"{name}_dna", 0.0)
        out[name] = slots * per_week
    out["theatre"] = flows.get("theatre_slots", 0.0) * per_week
    return out
