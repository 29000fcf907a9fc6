"""Building a design's places: its services and the theatre, with their capacity day by day and
the plans of capacity policies that act (``sim.model.policy``); and the routes between them."""

from __future__ import annotations

import math
from datetime import date, timedelta

from sim.base.streams import Streams
from sim.model.capacity import add_years, bank_holidays, daily_capacity, open_days
from sim.model.clinic import Clinic
from sim.model.draws import Choice, CountTable
from sim.model.hub import Hub
from sim.model.kinds import Need
from sim.model.patient import Patient
from sim.model.policy import CapacityPlan
from sim.model.theatre import Theatre
from sim.scenario.schema import THEATRE, Scenario, onward_row


def closed_days(scenario: Scenario, first_day: date, days: int) -> frozenset:
    """The bank holidays of the run: no place works."""
    return bank_holidays(first_day, first_day + timedelta(days=days), scenario.calendar.bank_holidays)


def _reduced(scenario: Scenario, name: str) -> list:
    return [r for r in scenario.calendar.reduced if not r.stages or name in r.stages]


def build_services(scenario: Scenario, design: str, first_day: date, days: int, hub: Hub) -> dict[str, Clinic]:
    """The design's services, each with its capacity day by day."""
    order = list(scenario.stages)
    closed = closed_days(scenario, first_day, days)
    out: dict[str, Clinic] = {}
    for name, cfg in scenario.design_stages(design).items():
        cap = daily_capacity(
            cfg.slots_per_week, cfg.working_days, cfg.capacity_changes, first_day, days,
            whole=True, closed=closed, reduced=_reduced(scenario, name),
        )  # fmt: skip
        out[name] = Clinic(name, cfg, cap, hub, order.index(name), order)
    return out


def build_theatre(
    scenario: Scenario, design: str, first_day: date, days: int, streams: Streams, hub: Hub
) -> tuple[Theatre, list[bool]]:
    """The theatre, its list time day by day less whole lists cancelled on the day; and the days cancelled."""
    s = scenario.design_surgery(design)
    cap = daily_capacity(
        s.slots_per_week, s.working_days, s.capacity_changes, first_day, days,
        whole=False, closed=closed_days(scenario, first_day, days), reduced=_reduced(scenario, THEATRE),
    )  # fmt: skip
    cancelled: list[bool] = []
    if s.cancellation_rate > 0:  # staff sickness, no beds...
        lost = streams.rng["cancellations"].random(len(cap)) < s.cancellation_rate
        cancelled.extend(lost.tolist())
        cap = [0.0 if cancel else c for c, cancel in zip(cap, cancelled, strict=True)]
    joint = [c.joint_replacement_share for c in scenario.demand.conditions.values()]
    return Theatre(s, joint, cap, hub), cancelled


def capacity_plans(
    scenario: Scenario, design: str, first_day: date, days: int,
    stages: dict[str, Clinic], theatre: Theatre, cancelled: list[bool],
) -> bool:  # fmt: skip
    """A plan for each place whose capacity policy acts; whether any does."""
    s = scenario
    start = s.run.start_date
    contract = (start - first_day).days
    closed = closed_days(scenario, first_day, days)
    any_plan = False
    for place in [*stages, THEATRE]:
        policy = s.capacity_policy(design, place)
        if not policy.acts:
            continue
        cfg = s.design_surgery(design) if place == THEATRE else stages[place].cfg
        works = open_days(cfg.working_days, first_day, days, closed)
        if place == THEATRE and cancelled:
            works = [w and not c for w, c in zip(works, cancelled, strict=True)]
        acts_from = (add_years(start, policy.from_year - 1) - first_day).days
        plan = CapacityPlan(policy, works, cfg.working_days, acts_from, contract, s.demand.growth, place != THEATRE)
        if place == THEATRE:
            theatre.plan = plan
        else:
            stages[place].plan = plan
        any_plan = True
    return any_plan


class Routes:
    """A design's probability rows as inverse-CDF choices: the GP's, triage's, onward referral's
    and patients' choice of provider, and which first stops are hospital-bound."""

    def __init__(self, scenario: Scenario, design: str, stages: dict[str, Clinic]):
        s, d = scenario, scenario.designs[design]
        self.stages = stages
        needs = [n.value for n in Need]
        self.gp_first = {n: Choice(s.gp.referral[n]) for n in needs}
        self.gp_again = {n: Choice(s.gp.rereferral[n]) for n in needs}
        self.rereferral = s.gp.rereferral
        self.gp_wait = CountTable(s.gp.wait_days, offset=1)
        self.routing_rows = s.design_routing(design)
        self.routing = {n: Choice(self.routing_rows[n]) for n in needs} if d.routing else {}
        self.onward = (
            {(origin, n): Choice(onward_row(d.onward[n], origin)) for origin in stages for n in needs} if d.onward else {}
        )
        self.choice_rows = s.choices
        self.choices = {name: Choice(row) for name, row in s.choices.items()}
        self.choice_weight: float = s.gp.choice_wait_weight
        hospital = {n for n, st in s.stages.items() if st.hospital}
        # A GP choice of "orthopaedics, at a provider the patient picks" is hospital-bound too.
        hospital |= {c for c, row in s.choices.items() if any(o in hospital for o, p in row.items() if p > 0)}
        self.hospital_stages = frozenset(hospital)

    def by_waits(self, choice: str, u: float) -> str:
        """Patient choice weighted by the waits now: share x exp(-weight x weeks of list)."""
        row: dict[str, float] = {}
        for option, share in self.choice_rows[choice].items():
            clinic = self.stages.get(option)
            if share <= 0 or clinic is None:
                continue
            weekly = clinic.cfg.slots_per_week
            weeks = clinic.waiting / weekly if weekly > 0 else 52.0
            row[option] = share * math.exp(-self.choice_weight * weeks)
        total = sum(row.values())
        return Choice({k: v / total for k, v in row.items()})(u) if total > 0 else self.choices[choice](u)

    def elsewhere(self, p: Patient, u: float) -> str:
        """The GP's re-referral among the services that have not failed the patient (all of the
        row's, when every one has)."""
        row = self.rereferral[p.need]
        index = {name: c.index for name, c in self.stages.items()}
        kept = {d: w for d, w in row.items() if w > 0 and not (d in index and p.failed >> index[d] & 1)}
        total = sum(kept.values())
        return Choice({d: w / total for d, w in kept.items()})(u) if total > 0 else self.gp_again[p.need](u)
