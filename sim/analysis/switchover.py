"""The switch-over: a design takes over the patients of the design it replaces.

A commissioner that lets a prime contract does not start from empty lists. A design that
``inherits`` another runs its warm-up as that design; at the contract start (the end of the
warm-up) every patient in the old system moves to the new design's model:

* on the list of, booked at, or being booked into a service the new design also runs: the
  same place, the same day listed and the same bookings (a course under way goes on);
* at a service the new design does not run: sent to the new design's entry (its single point
  of access, or the GP), their RTT clock still running;
* on the surgical list, in pre-operative assessment or in a bed: the same, with the beds
  they fill taken from the new theatre's;
* waiting for a GP consultation or a return to the entry: the same day, now under the new design;
* care outside the contract stays outside it: at a service the new design does not run, it goes
  back to the service it is bought from, never to the new entry.

Self-referrals and care outside the contract go on from the old design's streams, so after the
switch they are the same people on the same days as in a design that ran from the start.

Every running RTT clock keeps its start day. A list whose removal rate changes draws again, from
the time already waited, the day each patient on it would leave unseen.

A mobilisation profile (:class:`sim.scenario.schema.Mobilisation`) then ramps the capacity of the
services named (default: those new to the design) and the triage team's accuracy over the
first months.
"""

from __future__ import annotations

import math
from typing import Any

from sim.model.clinic import Clinic
from sim.model.draws import Choice
from sim.model.kinds import RESOLVED, Need
from sim.model.pathway import Pathway
from sim.model.patient import NEVER, NO_CLOCK, NORMAL, NOT_WAITING, POSTOP, Patient
from sim.scenario.designs import Mobilisation
from sim.scenario.schema import THEATRE, Scenario

DAYS_A_MONTH = 365.25 / 12


def simulate_switch_over(scenario: Scenario, design: str, replication: int = 0, model: type[Pathway] = Pathway) -> Pathway:
    """The model of ``design`` taking over from the design it inherits, ready to run.

    The inherited design has run its warm-up (and any backlog); :meth:`Pathway.run` then
    runs the contract years under ``design`` (as ``model``, a subclass that audits, say).
    """
    d = scenario.designs[design]
    if d.inherits is None:
        raise ValueError(f"design '{design}' inherits from no design")
    switch = scenario.run.warmup_days
    old = Pathway(scenario, d.inherits, replication)
    if switch > 0:
        old.env.run(until=switch)
    new = model(scenario, design, replication, start=switch, takes_over=True)
    hand_over(old, new, switch)
    if d.mobilisation is not None:
        mobilise(new, d.mobilisation, switch, set(scenario.designs[d.inherits].services))
    return new


# --------------------------------------------------------------------------- the hand-over


def hand_over(old: Pathway, new: Pathway, day: int) -> None:
    """Move every patient of ``old`` (run to the start of ``day``) into ``new`` (not yet run)."""
    new.counts.carry_on(old.counts)
    new.direct, new.outside_contract = old.direct, old.outside_contract  # their streams go on where they were
    new.recorder.series = list(old.recorder.series)  # the weekly series shows the whole path
    _clocks(old, new)
    for name, clinic in old.stages.items():
        if name in new.stages:
            _keep_clinic(clinic, new.stages[name], day)
        else:
            _re_triage(clinic, new, day)
    _keep_theatre(old, new, day)
    _calendar(old, new, day)
    for p in new.rtt.running():
        if p.function < 0:  # nowhere better found: the first function the new design reports
            p.function = 0


def _clocks(old: Pathway, new: Pathway) -> None:
    """Running clocks move to the new model, their treatment functions renumbered; a function
    the new design does not report (-1 for now) is replaced by that of the service the patient lands at."""
    codes = new.rtt.functions
    running = old.rtt.running()
    for p in running:
        code = old.rtt.functions[p.function]
        p.function = codes.index(code) if code in codes else -1
    new.rtt.receive(running)


def _clock_here(p: Patient, clinic: Clinic) -> None:
    if p.clock != NO_CLOCK and p.function < 0 and clinic.function >= 0:
        p.function = clinic.function


def _keep_clinic(old: Clinic, new: Clinic, day: int) -> None:
    """The same service under the new design: its lists, bookings and courses carry over."""
    for p in new.adopt(old, day):
        _clock_here(p, new)


def _re_triage(old: Clinic, new: Pathway, day: int) -> None:
    """A service the new design does not run: its patients look for care through the new entry.

    Those after an operation finish it there (rehabilitation, or home); the rest are referred
    to the new design's entry with their clock running, but for care outside the contract, which
    goes back to the service it is bought from.
    """
    for p in old.release():
        p.waiting_at, p.leaves = NOT_WAITING, NEVER
        if p.function < 0 and p.clock != NO_CLOCK:
            p.function = 0
        if p.phase == POSTOP:
            new.theatre.after_postop(p, day)
        elif p.phase != NORMAL:  # rehabilitation at a service that is gone: the operation did its work
            new.discharge(p, day, RESOLVED)
        elif p.outside:
            new.refer(p, new.scenario.demand.outside_contract.stage, day)
        else:
            new.entry.come_back(new, p, day)


def _keep_theatre(old: Pathway, new: Pathway, day: int) -> None:
    """The surgical list, pre-operative assessment and the beds carry over."""
    surgical = [c for c in new.stages.values() if c.cfg.surgical] or list(new.stages.values())
    for p in new.theatre.adopt(old.theatre, day):
        _origin(p, new, surgical)


def _origin(p: Patient, new: Pathway, surgical: list[Clinic]) -> None:
    """The listing clinic sees the patient after the operation: one of the new design's."""
    if p.origin not in new.stages:
        function = new.rtt.functions[p.function] if p.function >= 0 else None
        p.origin = next((c.name for c in surgical if c.cfg.rtt_function == function), surgical[0].name)
    if p.clock != NO_CLOCK and p.function < 0:
        p.function = max(new.stages[p.origin].function, 0)


def _calendar(old: Pathway, new: Pathway, day: int) -> None:
    """What was due on later days (a GP consultation, a return to the entry, readiness for
    theatre, a bed freed) falls due in the new model on the same day."""
    owners: dict[int, Any] = {id(old): new, id(old.theatre): new.theatre}
    for due in sorted(old.calendar):
        if due < day:
            continue
        for fn, arg in old.calendar[due]:
            owner = owners.get(id(getattr(fn, "__self__", None)))
            if owner is None:
                raise RuntimeError(f"switch-over: cannot carry over a scheduled {getattr(fn, '__name__', fn)!r}")
            new.later(due, getattr(owner, fn.__name__), arg)


# --------------------------------------------------------------------------- mobilisation


def ramp(start: int, months: int, low: float, days: int) -> list[float]:
    """The day-by-day factor of a straight line from ``low`` on the switch day to 1 after
    ``months``, for days ``0 .. days - 1`` (1 before the switch and after the ramp)."""
    length = months * DAYS_A_MONTH
    return [low + (1.0 - low) * min(max((t - start) / length, 0.0), 1.0) if t >= start else 1.0 for t in range(days)]


def scaled_slots(capacity: list[float], factor: list[float], start: int, whole: bool) -> list[float]:
    """Capacity scaled day by day; whole slots carry the fractions lost from day to day, so
    the slots over the ramp are its exact share of the planned slots (to within one)."""
    out = list(capacity)
    carry = 0.0
    for t in range(start, len(out)):
        if factor[t] >= 1.0:
            break
        value = capacity[t] * factor[t]
        if whole:
            value, carry = math.floor(value + carry), value + carry - math.floor(value + carry)
        out[t] = value
    return out


def mobilise(model: Pathway, m: Mobilisation, start: int, inherited: set[str]) -> None:
    """Apply a mobilisation profile to a model taking over at day ``start``."""
    factor = ramp(start, m.months, m.capacity_from, model.days)
    names = m.services if m.services is not None else [n for n in model.stages if n not in inherited]
    if m.capacity_from < 1.0:
        for name in names:
            if name == THEATRE:
                model.theatre.capacity = scaled_slots(model.theatre.capacity, factor, start, whole=False)
            else:
                clinic = model.stages[name]
                clinic.capacity = scaled_slots(clinic.capacity, factor, start, whole=True)
    if m.triage_accuracy_from < 1.0 and model.routes.routing:
        model.accuracy = ramp(start, m.months, m.triage_accuracy_from, model.days)
        model.blind_routing = blind_routing(model)


def blind_routing(model: Pathway) -> Choice:
    """Routing blind to the need: each destination with the share of all referrals the design's
    triage sends there (its rows weighted by the referrals' mix of needs)."""
    conditions = model.scenario.demand.conditions.values()
    mix = {n.value: sum(c.share * c.need.get(n, 0.0) for c in conditions) for n in Need}
    row: dict[str, float] = {}
    for need, share in mix.items():
        for dest, p in model.routes.routing_rows.get(need, {}).items():
            row[dest] = row.get(dest, 0.0) + share * p
    total = sum(row.values())
    return Choice({k: v / total for k, v in row.items()})


def waiting_census(model: Pathway) -> dict[int, tuple[str, float]]:
    """Every patient in the system by number: where they are and their clock's start (for checks)."""
    return {p.pid: (p.at, p.clock) for p in model.census()}
