"""What the services, the theatre and a design's policies may ask of the pathway they work in.

They hold the pathway as a :class:`Hub`, never as the whole model: the calls below, and the
run's clocks, health lost and counts. The pathway (:class:`sim.model.pathway.Pathway`) is the one
hub; a service names another place by its name, and the hub finds it. So the model's modules
import one way, up to the pathway, and a service can be built and tried against a small hub.

A base class rather than a :class:`typing.Protocol`: compiled, a call through a base class is a
native method call, where one through a protocol goes through Python's attribute lookup, and
these calls are on every patient's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mypy_extensions import mypyc_attr

from sim.model.clocks import RTTClocks
from sim.model.counters import RunCounts
from sim.model.outcomes import HealthLost
from sim.model.patient import Patient

Transfer = Callable[[Any, int], None]
"""Something scheduled for the start of a later day: called with its argument and the day."""


@mypyc_attr(allow_interpreted_subclasses=True)  # the pathway's subclasses may be Python (an audit)
class Hub:
    """The pathway as its services see it."""

    rtt: RTTClocks
    health: HealthLost
    counts: RunCounts

    # -- any place ---------------------------------------------------------------------

    def later(self, day: int, fn: Transfer, arg: Any) -> None:
        """Schedule ``fn(arg, day)`` at the start of a later day."""
        raise NotImplementedError

    def move(self, p: Patient, to: str) -> None:
        """The patient moves to ``to`` (counted for the flow diagram)."""
        raise NotImplementedError

    def refer(self, p: Patient, dest: str, day: int, delay: int = 0) -> None:
        """Refer a patient to a service, a choice of providers, or advice."""
        raise NotImplementedError

    def discharge(self, p: Patient, day: int, outcome: str) -> None:
        """The journey ends (``outcome``: a :class:`sim.model.kinds.Outcome`)."""
        raise NotImplementedError

    def gp_consultation(self, p: Patient, day: int) -> None:
        """The GP sees the patient again, and refers."""
        raise NotImplementedError

    # -- a service's episode -------------------------------------------------------------

    def episode_ended(self, place: str, p: Patient, day: int) -> None:
        """A course of care at service ``place`` is over."""
        raise NotImplementedError

    def unresolved_episode(self, place: str, p: Patient, day: int) -> None:
        """Service ``place`` could not meet the need: the design's policy says what follows."""
        raise NotImplementedError

    def missed_out(self, p: Patient, day: int, return_rate: float) -> None:
        """Discharged after missed appointments; ``return_rate`` of them go back to the GP."""
        raise NotImplementedError

    def triaged(self, p: Patient, day: int) -> None:
        """A triage decision: the single point of access routes the patient."""
        raise NotImplementedError

    def tested(self, p: Patient, day: int) -> None:
        """A diagnostic test done: the clinic that ordered it sees the patient with the result."""
        raise NotImplementedError

    # -- between the services and the theatre ----------------------------------------------

    def list_for_surgery(self, place: str, p: Patient, day: int) -> None:
        """Service ``place`` lists the patient for an operation."""
        raise NotImplementedError

    def list_for_procedure(self, place: str, p: Patient, day: int) -> None:
        """Service ``place`` lists the patient for a day-case procedure on the theatre list."""
        raise NotImplementedError

    def book(self, place: str, p: Patient, due: int) -> None:
        """Book the patient a follow-up at service ``place`` on day ``due``."""
        raise NotImplementedError

    def resume_course(self, place: str, p: Patient, day: int) -> None:
        """A procedure done: the course of care goes on at service ``place``."""
        raise NotImplementedError

    def rehabilitate(self, place: str, p: Patient, day: int) -> None:
        """After an operation: an episode of rehabilitation at service ``place``, from tomorrow."""
        raise NotImplementedError
