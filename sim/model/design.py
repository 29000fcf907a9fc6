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

from typing import TYPE_CHECKING

from sim.model.clocks import NONADMITTED
from sim.model.draws import GP, ROUTE
from sim.model.patient import Patient

if TYPE_CHECKING:
    from sim.model.clinic import Clinic
    from sim.model.pathway import Pathway


# --------------------------------------------------------------------------- entry


class Entry:
    """Where a new referral, or a patient whom advice did not help, goes."""

    name: str = ""

    def first_stop(self, gp_choice: str) -> str:
        """The place a new referral is sent, given the GP's own choice."""
        raise NotImplementedError

    def come_back(self, model: Pathway, p: Patient, day: int) -> None:
        """A patient whom advice did not help looks for care again."""
        raise NotImplementedError

    def routing_weight(self, model: Pathway, need: str, stage: str) -> float:
        """How likely a patient with this need is to be sent to this stage first."""
        raise NotImplementedError


class GPEntry(Entry):
    """The GP refers to the service of their choice."""

    def first_stop(self, gp_choice: str) -> str:
        return gp_choice

    def come_back(self, model: Pathway, p: Patient, day: int) -> None:
        model.gp_consultation(p, day)

    def routing_weight(self, model: Pathway, need: str, stage: str) -> float:
        return model.scenario.gp.referral[need].get(stage, 0.0)


class SinglePointEntry(Entry):
    """Every referral is triaged at one service, which routes it."""

    def __init__(self, name: str):
        self.name = name

    def first_stop(self, gp_choice: str) -> str:
        return self.name

    def come_back(self, model: Pathway, p: Patient, day: int) -> None:
        model.refer(p, self.name, day)

    def routing_weight(self, model: Pathway, need: str, stage: str) -> float:
        if stage == self.name:
            return 1.0
        return model.routing_rows[need].get(stage, 0.0)


# --------------------------------------------------------------------------- the unresolved


class Unresolved:
    """What happens when a service's episode of care did not meet the patient's need."""

    def handle(self, model: Pathway, clinic: Clinic, p: Patient, day: int) -> None:
        raise NotImplementedError


class BackToGP(Unresolved):
    """Discharged to the GP, who (after a wait and a consultation) refers again."""

    def handle(self, model: Pathway, clinic: Clinic, p: Patient, day: int) -> None:
        model.rtt.stop(p, day, NONADMITTED)  # discharged to the GP: the pathway is complete
        p.failed |= 1 << clinic.index  # the GP remembers (gp.remembers_failed)
        if p.referrals >= model.max_referrals:
            model.discharge(p, day, "unresolved")
            return
        model.bounce_backs += 1
        model.move(p, "GP")
        model.later(day + model.gp_wait(p.u(GP)), model.gp_consultation, p)


class Onward(Unresolved):
    """Referred on inside the system, without going back to the GP."""

    def handle(self, model: Pathway, clinic: Clinic, p: Patient, day: int) -> None:
        if p.referrals > model.max_onward:
            model.discharge(p, day, "unresolved")
            return
        model.onward_referrals += 1
        dest = model.onward[clinic.name, p.need](p.u(ROUTE))
        model.refer(p, dest, day, model.onward_delay)


# --------------------------------------------------------------------------- a design


ENTRY_GP = "gp"
UNRESOLVED = {"gp": BackToGP, "onward": Onward}
