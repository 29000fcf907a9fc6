"""What makes a design: where referrals enter, and what happens to the unresolved.

A design of the scenario (``[designs.NAME]``) is two independent choices, each a small
policy object chosen once when the model is built, so the event handlers never test a
design's name or a switch:

* **entry** (``entry``): the GP refers straight to a service (:class:`GPEntry`), or every
  referral goes to a single point of access (:class:`SinglePointEntry`);
* **the unresolved** (``unresolved``): a service that cannot help sends the patient back to
  the GP (:class:`BackToGP`), or refers them onward inside the system (:class:`Onward`).

The RTT clock is not a choice: every design follows the national rules (:mod:`sim.model.clocks`).
"""

from __future__ import annotations

from sim.model.clocks import NONADMITTED
from sim.model.draws import GP, ROUTE, Choice, CountTable
from sim.model.hub import Hub
from sim.model.kinds import GP_PLACE, UNRESOLVED
from sim.model.patient import Patient

# --------------------------------------------------------------------------- entry


class Entry:
    """Where a new referral, or a patient whom advice did not help, goes."""

    name: str = ""

    def first_stop(self, gp_choice: str) -> str:
        """The place a new referral is sent, given the GP's own choice."""
        raise NotImplementedError

    def come_back(self, model: Hub, p: Patient, day: int) -> None:
        """A patient whom advice did not help looks for care again."""
        raise NotImplementedError

    def routing_weight(self, need: str, stage: str) -> float:
        """How likely a patient with this need is to be sent to this stage first."""
        raise NotImplementedError


class GPEntry(Entry):
    """The GP refers to the service of their choice (``referral``: the GP's rows by need)."""

    def __init__(self, referral: dict[str, dict[str, float]]):
        self.referral = referral

    def first_stop(self, gp_choice: str) -> str:
        return gp_choice

    def come_back(self, model: Hub, p: Patient, day: int) -> None:
        model.gp_consultation(p, day)

    def routing_weight(self, need: str, stage: str) -> float:
        return self.referral[need].get(stage, 0.0)


class SinglePointEntry(Entry):
    """Every referral is triaged at one service, which routes it (``routing``: its rows by need)."""

    def __init__(self, name: str, routing: dict[str, dict[str, float]]):
        self.name = name
        self.routing = routing

    def first_stop(self, gp_choice: str) -> str:
        return self.name

    def come_back(self, model: Hub, p: Patient, day: int) -> None:
        model.refer(p, self.name, day)

    def routing_weight(self, need: str, stage: str) -> float:
        if stage == self.name:
            return 1.0
        return self.routing[need].get(stage, 0.0)


# --------------------------------------------------------------------------- the unresolved


class Unresolved:
    """What happens when a service's episode of care did not meet the patient's need."""

    def handle(self, model: Hub, place: str, p: Patient, day: int) -> None:
        """Service ``place`` could not help ``p``."""
        raise NotImplementedError


class BackToGP(Unresolved):
    """Discharged to the GP, who (after a wait and a consultation) refers again.

    ``index`` gives each service's place (the GP remembers which failed the patient), ``gp_wait``
    the days before the GP sees them, ``max_referrals`` when the GP stops referring.
    """

    def __init__(self, index: dict[str, int], gp_wait: CountTable, max_referrals: int):
        self.index = index
        self.gp_wait = gp_wait
        self.max_referrals = max_referrals

    def handle(self, model: Hub, place: str, p: Patient, day: int) -> None:
        model.rtt.stop(p, day, NONADMITTED)  # discharged to the GP: the pathway is complete
        p.failed |= 1 << self.index[place]  # the GP remembers (gp.remembers_failed)
        if p.referrals >= self.max_referrals:
            model.discharge(p, day, UNRESOLVED)
            return
        model.counts.bounce_backs += 1
        model.move(p, GP_PLACE)
        model.later(day + self.gp_wait(p.u(GP)), model.gp_consultation, p)


class Onward(Unresolved):
    """Referred on inside the system, without going back to the GP: by ``onward`` (the design's
    rows by service and need), after ``delay`` days, at most ``max_onward`` times."""

    def __init__(self, onward: dict[tuple[str, str], Choice], max_onward: int, delay: int):
        self.onward = onward
        self.max_onward = max_onward
        self.delay = delay

    def handle(self, model: Hub, place: str, p: Patient, day: int) -> None:
        if p.referrals > self.max_onward:
            model.discharge(p, day, UNRESOLVED)
            return
        model.counts.onward_referrals += 1
        dest = self.onward[place, p.need](p.u(ROUTE))
        model.refer(p, dest, day, self.delay)


# --------------------------------------------------------------------------- a design


ENTRY_GP = "gp"
BACK_TO_GP = "gp"
ONWARD = "onward"
