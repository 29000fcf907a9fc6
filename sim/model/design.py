"""What makes a design: where referrals enter, what happens to the unresolved, how clocks run.

A design of the scenario (``[designs.NAME]``) is three independent choices, each a small
policy object chosen once when the model is built, so the event handlers never test a
design's name or a switch:

* **entry** (``entry``): the GP refers straight to a service (:class:`GPEntry`), or every
  referral goes to a single point of access (:class:`SinglePointEntry`);
* **the unresolved** (``unresolved``): a service that cannot help sends the patient back to
  the GP (:class:`BackToGP`), or refers them onward inside the system (:class:`Onward`);
* **the RTT clock** (``clock``): each referral to a consultant-led service starts a clock
  (:class:`ClockPerReferral`), or one clock runs over the whole pathway
  (:class:`ClockPerPathway`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.model.draws import GP, ROUTE
from sim.model.patient import NO_CLOCK, Patient

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
        return model.design.routing[need].get(stage, 0.0)


# --------------------------------------------------------------------------- the unresolved


class Unresolved:
    """What happens when a service's episode of care did not meet the patient's need."""

    def handle(self, model: Pathway, clinic: Clinic, p: Patient, day: int) -> None:
        raise NotImplementedError


class BackToGP(Unresolved):
    """Discharged to the GP, who (after a wait and a consultation) refers again."""

    def handle(self, model: Pathway, clinic: Clinic, p: Patient, day: int) -> None:
        model.rtt.rule.bounced(model, p, day)
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


# --------------------------------------------------------------------------- the RTT clock


class ClockRule:
    """Which services start an RTT clock, and which events stop it."""

    per_referral: bool = False

    def starts_at(self, clinic: Clinic, entry: Clinic | None) -> bool:
        """Does a referral to ``clinic`` start a clock (when none runs)?"""
        raise NotImplementedError

    def stops_at_first(self, clinic: Clinic, ok: bool) -> bool:
        """Does a first attendance that does not list for surgery stop a running clock?"""
        raise NotImplementedError

    def backlog_runs(self, clinic: Clinic) -> bool:
        """Does a patient already waiting at ``clinic`` when the run starts have a clock?"""
        raise NotImplementedError

    def bounced(self, model: Pathway, p: Patient, day: int) -> None:
        """The patient goes back to the GP."""


class ClockPerReferral(ClockRule):
    """Each referral to a consultant-led service starts a clock; the first attendance
    there, or a discharge back to the GP, stops it."""

    per_referral = True

    def starts_at(self, clinic: Clinic, entry: Clinic | None) -> bool:
        return clinic.cfg.consultant_led

    def stops_at_first(self, clinic: Clinic, ok: bool) -> bool:
        return clinic.consultant_led

    def backlog_runs(self, clinic: Clinic) -> bool:
        return clinic.cfg.consultant_led

    def bounced(self, model: Pathway, p: Patient, day: int) -> None:
        if p.clock != NO_CLOCK:
            model.rtt.stop(p, day)


class ClockPerPathway(ClockRule):
    """One clock from the single point of access (or, where that is not consultant-led,
    the first consultant-led service reached) to the treatment that meets the need."""

    def starts_at(self, clinic: Clinic, entry: Clinic | None) -> bool:
        entry_starts = entry is not None and entry.cfg.consultant_led
        return clinic.cfg.consultant_led and (clinic is entry or not entry_starts)

    def stops_at_first(self, clinic: Clinic, ok: bool) -> bool:
        return ok

    def backlog_runs(self, clinic: Clinic) -> bool:
        return True


# --------------------------------------------------------------------------- a design


ENTRY_GP = "gp"
UNRESOLVED = {"gp": BackToGP, "onward": Onward}
CLOCKS = {"referral": ClockPerReferral, "pathway": ClockPerPathway}
