"""The patient: who they are, what they really need, and where their journey stands."""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64

from sim.model.draws import EPISODE, GP, LCG_INCREMENT, LCG_MULTIPLIER, LOW_53, MASK, ROUTE, TO_UNIT, seed
from sim.model.kinds import GP_PLACE

# Phases of a journey: looking for the right treatment, after surgery, in rehabilitation.
NORMAL: Final = 0
POSTOP: Final = 1
REHAB: Final = 2
NO_CLOCK: Final = float("-inf")
"""``Patient.clock`` when no RTT clock runs (a backlog patient's clock can start before day 0)."""
NEVER: Final = float("inf")
"""``Patient.leaves`` when no removal would come."""
NOT_WAITING: Final = -1
"""``Patient.waiting_at`` when not on a list (seen, booked, elsewhere or removed)."""


class Patient:
    """One person referred with an MSK problem.

    ``need`` is the latent clinical need (one of :data:`sim.scenario.loading.NEEDS`); services see
    it only through their decisions. ``clock`` is the start day of a running RTT clock, or
    :data:`NO_CLOCK` when none runs.

    ``key`` ties the patient's random numbers to them (see :mod:`sim.model.draws`): each
    episode at a service has its own stream (``here``), keyed to the service and to how many
    episodes the patient has had there; routing, GP and surgical decisions have one stream
    each (``u``; its state in ``route``, ``gp`` and ``surgery``, 0 until its first draw).
    """

    __slots__ = (
        "at",
        "category",
        "clock",
        "condition",
        "daycase",
        "dnas",
        "failed",
        "first_booked",
        "function",
        "gp",
        "gp_hospital",
        "here",
        "joint",
        "key",
        "leaves",
        "left",
        "need",
        "ok",
        "ordered_by",
        "origin",
        "outside",
        "phase",
        "pid",
        "procedure",
        "reached",
        "referrals",
        "referred",
        "repeats",
        "route",
        "seen_hospital",
        "surgery",
        "tested",
        "tracked",
        "treated",
        "triaged",
        "u_gp",
        "u_surgery",
        "u_triage",
        "urgent",
        "visited",
        "waiting_at",
    )

    def __init__(
        self,
        pid: int,
        condition: int,
        need: str,
        urgent: bool,
        referred: int,
        key: i64,
        u_gp: float,
        u_triage: float,
        u_surgery: float,
    ):
        self.pid = pid
        self.at = GP_PLACE  # where the patient is, for the flow counts
        self.condition = condition
        self.need = need
        self.urgent = urgent
        self.referred = referred
        # the day the referral to the service the patient waits for reached it (its letter's
        # delay after the day of referral), or the day listed for surgery: the start of the
        # wait for a first appointment (or an operation) there
        self.reached = referred
        self.key = key
        self.here: i64 = 0
        self.route: i64 = 0
        self.gp: i64 = 0
        self.surgery: i64 = 0
        self.visited: i64 = 0  # places (bits by index) where an episode has started
        self.repeats: dict[int, int] | None = None  # by place visited again: episodes there so far
        self.u_gp = u_gp
        self.u_triage = u_triage
        self.u_surgery = u_surgery  # drawn at referral so both designs pick the same operation
        self.gp_hospital = False
        self.clock = NO_CLOCK
        self.function = -1  # the treatment function of the running clock (sim.model.clocks)
        self.tracked = False  # held in the list of running clocks (sim.model.clocks)
        self.waiting_at = NOT_WAITING  # the place whose list the patient waits on, if any
        self.leaves = NEVER  # the day the patient would leave the list they wait on, unseen
        self.seen_hospital = False
        self.treated = False  # the treatment that meets the need has started (health while waiting)
        self.referrals = 0
        self.triaged = 0
        self.phase = NORMAL
        self.category = 3  # surgical priority P1..P4 as 0..3
        self.left = 0
        self.dnas = 0
        self.ok = False
        self.origin = ""
        self.ordered_by = ""  # the clinic a diagnostic test was ordered by, which makes the decision after it
        self.first_booked = False  # the appointment booked at a clinic is a first visit (rebooked)
        self.failed = 0  # services (bits by index) that discharged the patient unhelped to the GP
        self.tested = 0  # diagnostic services (bits by index) the patient has had a test at
        self.joint = False
        self.daycase = True
        self.procedure = False  # on the theatre list for a day-case procedure, not an operation
        self.outside = False  # care outside the MSK contract: counted apart, never routed by it

    def arrive(self, place: int) -> None:
        """An episode at a service starts: its own stream, keyed to the place and the
        number of earlier episodes there."""
        bit: i64 = 1 << place
        if not self.visited & bit:  # the first episode there, as most are: nothing to allocate
            self.visited |= bit
            n = 0
        else:
            repeats = self.repeats
            if repeats is None:
                repeats = self.repeats = {}
            n = repeats.get(place, 1)
            repeats[place] = n + 1
        self.here = seed(self.key, EPISODE, place, n)

    def episodes_at(self, place: int) -> int:
        """How many episodes the patient has started at a place."""
        if not self.visited & (1 << place):
            return 0
        return self.repeats.get(place, 1) if self.repeats is not None else 1

    def here_u(self) -> float:
        """The next uniform of the current episode's stream."""
        s = self.here  # step() and unit() written out: this is on every decision's path
        self.here = (s * LCG_MULTIPLIER + LCG_INCREMENT) & MASK
        top: int = (s >> 11) & LOW_53
        return top * TO_UNIT

    def u(self, purpose: i64) -> float:
        """The next uniform of the patient's stream for ``ROUTE``, ``GP`` or ``SURGERY``."""
        if purpose == ROUTE:
            s = self.route or seed(self.key, ROUTE)
            self.route = (s * LCG_MULTIPLIER + LCG_INCREMENT) & MASK
        elif purpose == GP:
            s = self.gp or seed(self.key, GP)
            self.gp = (s * LCG_MULTIPLIER + LCG_INCREMENT) & MASK
        else:
            s = self.surgery or seed(self.key, purpose)
            self.surgery = (s * LCG_MULTIPLIER + LCG_INCREMENT) & MASK
        top: int = (s >> 11) & LOW_53
        return top * TO_UNIT

    def __repr__(self) -> str:
        return f"Patient({self.pid}, {self.need}, referred day {self.referred})"
