"""The model's closed sets of names: a patient's need, how a journey ends, the parts of an RTT return.

Each is a :class:`enum.StrEnum`: a member is its string, so a table, a dictionary key or a
comparison with text read from a scenario sees the same value as before there were members.
The hot paths compare with the ``Final`` aliases below: compiled, an alias is a machine
constant, where a member is a lookup on its class.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Need(StrEnum):
    """A patient's latent clinical need, in the order of the scenario's ``NEEDS``."""

    SELF_MANAGEMENT = "self_management"
    PHYSIO = "physio"
    SPECIALIST = "specialist"
    SURGICAL = "surgical"


class Outcome(StrEnum):
    """How a journey ends."""

    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    DNA = "dna"  # discharged after missed appointments
    REMOVED = "removed"  # left a waiting list unseen


class Part(StrEnum):
    """The parts of a month's RTT return, in the order its rows are written."""

    INCOMPLETE = "incomplete"
    ADMITTED = "admitted"
    NONADMITTED = "nonadmitted"
    CLOCK_STARTS = "clock_starts"
    REMOVALS = "removals"
    TRANSFERS_IN = "transfers_in"
    TRANSFERS_OUT = "transfers_out"


SELF_MANAGEMENT: Final[str] = Need.SELF_MANAGEMENT.value
SURGICAL: Final[str] = Need.SURGICAL.value
RESOLVED: Final[str] = Outcome.RESOLVED.value
UNRESOLVED: Final[str] = Outcome.UNRESOLVED.value
DNA: Final[str] = Outcome.DNA.value
REMOVED: Final[str] = Outcome.REMOVED.value

GP_PLACE: Final = "GP"
"""Where a patient is while with their GP, for the flow counts."""
