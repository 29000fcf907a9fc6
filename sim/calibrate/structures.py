"""Two explanations of waits the returns cannot tell apart, each fitted, and which to prefer.

Where moving a capacity does not move the targets (:mod:`sim.calibrate.identify`), the
search carried the waits in booking delays before a first slot, over a clinic below its
capacity: the *delay-led* structure. The same months may fit a *queue-led* one as well:
capacity near the throughput the returns imply, a fixed delay no longer than the shortest
published waits, and the waits made by the queue itself (the RTT Planner's reading: the list a stock fed
by clock starts and drained by stops and removals). The two answer a capacity question very
differently, so both are fitted, and both are kept when both meet the targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sim.analysis.flows import stage_load
from sim.base.lazy import later
from sim.calibrate.fit import LN2, MEDIAN_DELAY, REMOVAL_SCALE, Evaluation, Fitter, Knob
from sim.calibrate.identify import CAPACITY, Identified
from sim.model.capacity import effective_weekly
from sim.rtt.returns import returns_for
from sim.scenario.schema import THEATRE, Scenario

pd = later("pandas")

DELAY, QUEUE = "delay", "queue"
"""The structures' names, as ``calibrated.toml`` and every command call them."""

WHY = {
    DELAY: "delay-led: services below their capacity, the waits carried by booking delays before a first slot; "
    "more capacity hardly shortens them, and less changes little until the load nears 1",
    QUEUE: "queue-led: services near their capacity, the lists queues behind short fixed delays (as the RTT "
    "Planner reads a list); waits follow capacity closely, and the list moves by demand less capacity less removals",
}

QUEUE_LOADS = (0.95, 1.15)
"""The loads (expected demand over capacity) a queue-led capacity may take: near 1. A list that
holds steady from month to month, as published ones do, says a queue works near its capacity;
one a little past it is held by its removals (the list settles where removals take the excess:
seven weeks of demand on the list, removed at 1% a week, takes a load of about 1.07)."""


SHORTEST_SHARE = 0.05
"""The shortest published waits: the wait under which this share of completed pathways fall.
No fixed delay before a first slot can be longer, or fewer would be seen so soon."""

WAITS = ("within_18w_pct", "median_weeks")

SPREAD = "booking_lead_spread_days"

PLAUSIBLE_IDLE_LOAD = 0.85
"""A fitted load below this with a median delay of :data:`PLAUSIBLE_IDLE_DELAY_DAYS` or more
reads as idle capacity while patients wait: possible under a booking policy, rare in the NHS."""

PLAUSIBLE_IDLE_DELAY_DAYS = 28

CLEARLY_BETTER = 1.5
"""One structure is preferred for its fit when its loss is this many times smaller (and smaller
by more than :data:`LOSS_NOISE`); closer fits are told apart by plausibility."""

LOSS_NOISE = 0.1


@dataclass
class StructureFit:
    """One structure's fit: its values, loss, the wait targets it meets and what it implies."""

    name: str
    best: Evaluation
    scenario_values: dict[str, Any]
    loads: dict[str, float]
    """Per untold service (or ``theatre``): expected demand over its fitted capacity, year 1."""
    delays: dict[str, float]
    """Per untold service (or ``theatre``): its median delay before a first slot, days."""
    waits_met: set[tuple[str, str, str, str]]
    knobs: list[Knob]
    notes: dict[str, str] = field(default_factory=dict)
    """Why a value the structure sets without fitting it is so, by key."""

    @property
    def loss(self) -> float:
        return self.best.loss

    def idle(self) -> list[str]:
        """The untold services at a low load with a long delay: idle capacity while patients wait."""
        return [p for p, load in self.loads.items()
                if load < PLAUSIBLE_IDLE_LOAD and self.delays.get(p, 0.0) >= PLAUSIBLE_IDLE_DELAY_DAYS]  # fmt: skip

    def describe(self) -> str:
        """Loads and delays of the untold services, in words."""
        parts = [f"{p} at a load of {load:.2f} with a median delay of {self.delays.get(p, 0.0):.0f} days"
                 for p, load in self.loads.items()]  # fmt: skip
        return "; ".join(parts)


@dataclass
class Choice:
    """The structures kept (the preferred first) and why."""

    kept: list[StructureFit]
    why: str
    dropped: list[tuple[StructureFit, str]]

    def fitted(self) -> list[StructureFit]:
        """Every structure fitted, the kept first."""
        return [*self.kept, *(f for f, _ in self.dropped)]


def place_of(key: str) -> str:
    """The service (or ``theatre``) a stage-override key sets."""
    return key.split(".")[-2]


def waits_met(terms: pd.DataFrame) -> set[tuple[str, str, str, str]]:
    """The wait targets (within 18 weeks, median) met: each within its tolerance."""
    met = terms[terms["statistic"].isin(WAITS) & (terms["error"].abs() <= 1.0)]
    return set(zip(met["month"], met["treatment_function"], met["part"], met["statistic"], strict=True))


def shortest_wait_days(published: pd.DataFrame, commissioner: str, months: list[str], function: str, part: str) -> float:
    """The wait, in days, under which :data:`SHORTEST_SHARE` of ``part``'s completed pathways
    fall, pooled over ``months`` (band k holds waits of k to k + 1 weeks: its lower edge)."""
    total = np.zeros(0)
    for m in months:
        c = returns_for(published, commissioner, m, function, part)[0].astype(float)
        n = max(len(total), len(c))
        total = np.pad(total, (0, n - len(total))) + np.pad(c, (0, n - len(c)))
    if total.sum() <= 0:
        return 0.0
    return 7.0 * float(np.argmax(np.cumsum(total) / total.sum() >= SHORTEST_SHARE))


def untold_places(identified: dict[str, Identified]) -> list[str]:
    """The services (and ``theatre``) whose capacity the returns do not tell."""
    return [place_of(key) for key, ident in identified.items() if not ident.told]


def shortest_waits(
    s: Scenario, design: str, published: pd.DataFrame, commissioner: str, months: list[str], places: list[str]
) -> dict[str, float]:
    """Per place, the shortest published waits its delay must not exceed: a clinic's function's
    non-admitted pathways, the theatre's admitted ones (the shortest over the functions listing)."""
    functions = sorted(set(published["treatment_function"]))
    stages = s.design_stages(design)
    out = {}
    for p in places:
        if p == THEATRE:
            admitted = [f for f in functions if ((published["treatment_function"] == f)
                                                 & (published["part"] == "admitted")).any()]  # fmt: skip
            out[p] = min((shortest_wait_days(published, commissioner, months, f, "admitted") for f in admitted), default=0.0)
        elif stages[p].rtt_function in functions:
            out[p] = shortest_wait_days(published, commissioner, months, str(stages[p].rtt_function), "nonadmitted")
        else:
            out[p] = 0.0
    return out


HELD = ("procedure_share", "decision_at_followup_share", "stale_share")
"""Values a queue-led search holds at the delay-led fit besides those not of the services: they
set the demand on the untold services, and the queue-led capacities are bounded by that demand.
Stale pathways (never to be seen, on the list till validation) are no part of either
explanation: both lists hold them alike."""


def queue_knobs(
    knobs: list[Knob], best: dict[str, float], places: list[str], shortest: dict[str, float], stage_prefix: str,
    at_demand: dict[str, float],
) -> tuple[list[Knob], dict[str, float], dict[str, float]]:  # fmt: skip
    """The queue-led search: the untold capacities near load 1 (``at_demand``: per place, the
    slots that meet the delay-led fit's expected demand) and their fixed delays (the lead before
    any slot is offered) no longer than the shortest published waits; the spread of booking
    (dates patients choose, appointments moved) stays free, since the returns' long waits need
    it under either reading. The values that set demand (:data:`HELD`, the routing, the
    referrals) are held at the delay-led fit, every other value of the services free. Returns
    the knobs, where they start and what is held."""
    out, start, held = [], dict(best), {}
    if THEATRE in places:  # the theatre's lead is no knob: a queue-led one is no longer than the shortest waits
        held[f"{stage_prefix}{THEATRE}.booking_lead_days"] = round(shortest.get(THEATRE, 0.0))
    for k in knobs:
        outside = not k.key.startswith(stage_prefix) and not k.key.startswith(REMOVAL_SCALE)
        if outside or k.key.endswith(HELD):
            held[k.key] = best[k.key]
            start.pop(k.key)
            continue
        place = place_of(k.key) if k.key.startswith(stage_prefix) else ""
        if place not in places:
            out.append(k)
            continue
        queue_why = f"{k.why}; queue-led"
        if k.key.endswith(CAPACITY):
            value = at_demand[place]
            q = replace(k, low=value / QUEUE_LOADS[1], high=value / QUEUE_LOADS[0], step=0.03,
                        why=f"{queue_why}, near the throughput the returns imply")  # fmt: skip
        elif k.key.endswith(MEDIAN_DELAY):  # the fixed lead, not the median, is what a queue-led fit keeps short
            most = shortest.get(place, 0.0)
            spread = best.get(k.key.replace(MEDIAN_DELAY, SPREAD), 0.0)
            start.pop(k.key)
            lead = Knob(k.key.replace(MEDIAN_DELAY, "booking_lead_days"), min(most, max(0.0, best[k.key] - LN2 * spread)),
                        0.0, most, False, 3, f"{queue_why}: a fixed delay no longer than the shortest published waits "
                        f"({most:g} days)", integer=True)  # fmt: skip
            out.append(lead)
            start[lead.key] = lead.clip(lead.start)
            continue
        else:
            out.append(k)
            continue
        out.append(q)
        start[k.key] = q.clip(value)
    return out, start, held


def implied(s: Scenario, design: str, places: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Per place: its load (expected demand over capacity, year 1) and median delay in days."""
    demand = stage_load(s, design)
    services = s.design_services(design)
    loads, delays = {}, {}
    for p in places:
        capacity = effective_weekly(s, p, design)
        loads[p] = demand[p] / capacity if capacity > 0 else math.inf
        svc = services[p]
        delays[p] = svc.booking_lead_days + LN2 * svc.booking_lead_spread_days
    return loads, delays


def structure_fit(name: str, fitter: Fitter, best: Evaluation, places: list[str]) -> StructureFit:
    """A finished search as a structure: its values and what they imply."""
    s = fitter.scenario_for(best.values)
    loads, delays = implied(s, fitter.design, places)
    return StructureFit(name, best, fitter.scenario_values(best.values), loads, delays, waits_met(best.terms), fitter.knobs)


def fit_queue_led(
    fitter: Fitter, best: Evaluation, places: list[str], shortest: dict[str, float], stage_prefix: str, rounds: int
) -> tuple[StructureFit, Fitter]:
    """The queue-led search from the delay-led fit ``best``, on the same seeds and targets."""
    loads, _ = implied(fitter.scenario_for(best.values), fitter.design, places)
    at_demand = {p: best.values[f"{stage_prefix}{p}.slots_per_week"] * loads[p] for p in places}
    knobs, start, held = queue_knobs(fitter.knobs, best.values, places, shortest, stage_prefix, at_demand)
    lead = f"{stage_prefix}{THEATRE}.booking_lead_days"
    # held at the delay-led fit's values, as the scenario takes them (a stale share with its removal rate)
    kept = {**fitter.scenario_values({k: v for k, v in held.items() if k != lead}),
            **{k: v for k, v in held.items() if k == lead}}  # fmt: skip
    queue = Fitter(
        fitter.scenario, fitter.design, knobs, fitter.published, fitter.months, fitter.executor, fitter.replications,
        fixed={**fitter.fixed, **kept}, progress=fitter.progress, fit_months=fitter.fit_months, expand=fitter.expand,
        counted=fitter.counted,
    )  # fmt: skip
    first = queue.evaluate([start])[0]
    found = queue.search(rounds=rounds, start=first)
    fitter.evaluations += queue.evaluations
    fit = structure_fit(QUEUE, queue, found, places)
    fit.scenario_values = {**kept, **fit.scenario_values}
    if lead in held:
        fit.notes[lead] = f"queue-led: no longer than the shortest published admitted waits ({held[lead]} days)"
    return fit, queue


def choose(delay: StructureFit, queue: StructureFit) -> Choice:
    """Both kept when the queue-led fit meets every wait target the delay-led one meets (the fit
    as it was) with a loss of at most 1; the preferred first, with why."""
    missed = sorted(delay.waits_met - queue.waits_met)
    if missed or queue.loss > 1.0:
        what = f"misses {len(missed)} wait target(s) the delay-led fit meets" if missed else f"loss {queue.loss:.3g} over 1"
        return Choice([delay], "only the delay-led structure meets the targets", [(queue, what)])
    a, b = sorted((delay, queue), key=lambda f: f.loss)
    if a.loss * CLEARLY_BETTER < b.loss and b.loss - a.loss > LOSS_NOISE:
        why = f"{a.name}-led fits the returns better (loss {a.loss:.3g} against {b.loss:.3g})"
        return Choice([a, b], why, [])
    idle = delay.idle()
    if idle:
        why = (
            f"the two fit about as well (loss {delay.loss:.3g} delay-led, {queue.loss:.3g} queue-led), and the delay-led "
            f"one needs {', '.join(idle)} to leave capacity idle while patients wait weeks for a first slot "
            f"({delay.describe()}); a list that holds steady at its demand reads more plainly as a queue, as the RTT "
            "Planner reads it"
        )
        return Choice([queue, delay], why, [])
    why = (f"the two fit about as well and both are plausible ({delay.describe()} delay-led); "
           f"{a.name}-led has the lower loss ({a.loss:.3g} against {b.loss:.3g})")  # fmt: skip
    return Choice([a, b], why, [])
