"""RTT clocks under the national rules, and the month's returns by treatment function.

One rule in every design, the NHS's (docs/model.md, "The RTT clock"):

* a referral to a consultant-led or interface service starts a clock, unless one runs;
* the clock runs on through onward referrals, listing for surgery and waits for therapy;
* it stops at first definitive treatment: an operation (an *admitted* pathway), or a course
  of care started in outpatients or in therapy, a decision not to treat, advice and
  discharge, discharge back to the GP or after missed appointments (*non-admitted*);
* a removal from a list without treatment stops it too, counted apart;
* a new referral after a stop starts a new clock.

A running clock belongs to a treatment function: that of the consultant-led service which
started it, then of each consultant-led service the patient is referred on to (a
*transfer*). The counts of a month, by function, part and week band, balance: incomplete
last month + clock starts + transfers in − admitted − non-admitted − removals − transfers
out = incomplete this month.
"""

from __future__ import annotations

import math
from typing import Final

from sim.model.kinds import Part
from sim.model.patient import NO_CLOCK, Patient
from sim.rtt import bands

PARTS: Final[tuple[str, ...]] = tuple(part.value for part in Part)
"""The parts of a month's return, in the order the rows are written (:class:`sim.model.kinds.Part`)."""
INCOMPLETE: Final = 0
ADMITTED: Final = 1
NONADMITTED: Final = 2
STARTS: Final = 3
REMOVALS: Final = 4
TRANSFERS_IN: Final = 5
TRANSFERS_OUT: Final = 6
WEEK: Final = 7.0
# Typed here: a name imported from a module outside the compiled model is untyped (Any) to it,
# and every comparison or index with it would go through Python's generic operations.
N_BANDS: Final[int] = bands.N_BANDS
OPEN_BAND: Final[int] = bands.OPEN_BAND


def band(days: float) -> int:
    """The week band of a wait of ``days``: band ``k`` holds more than ``k`` and at most
    ``k + 1`` weeks, as :func:`sim.rtt.bands.band_of` (written out: it is on every clock stop)."""
    if days <= 0.0:
        return 0
    k = math.ceil(days / WEEK) - 1
    return k if k < OPEN_BAND else OPEN_BAND


class RTTClocks:
    """The clocks of one run.

    A clock's start day is ``Patient.clock`` and its treatment function ``Patient.function``.
    :meth:`running` gives the patients whose clock runs; ``open`` counts them. ``counts[f][part]``
    are this month's events by week band, emptied by :meth:`month`. ``stops`` holds the waits
    (days) of the pathways completed since the recorder last emptied it, kept only once
    ``counting`` (after the warm-up).
    """

    def __init__(self, functions: list[str]):
        self.functions = functions
        # Patients whose clock ran since the last sweep (Patient.tracked): a stopped clock
        # stays here until :meth:`running` sweeps it out, which costs less than taking each
        # patient out of a dict when their clock stops.
        self.tracked: list[Patient] = []
        self.open = 0
        self.stops: list[float] = []
        self.counting = False
        self.counts: list[list[list[int]]] = self._empty()

    def _empty(self) -> list[list[list[int]]]:
        return [[[0] * N_BANDS for _ in PARTS] for _ in self.functions]

    def start(self, p: Patient, day: float, function: int) -> None:
        """A clock starts on ``day`` (a backlog patient's before the run)."""
        p.clock = day
        p.function = function
        self.adopt(p)
        self.counts[function][STARTS][0] += 1

    def adopt(self, p: Patient) -> None:
        """Hold ``p``, whose clock has just started, among this run's clocks."""
        if not p.tracked:
            p.tracked = True
            self.tracked.append(p)
        self.open += 1

    def receive(self, patients: list[Patient]) -> None:
        """Hold the running clocks of another run's patients (a hand-over between designs)."""
        for p in patients:
            p.tracked = True
            self.tracked.append(p)
        self.open += len(patients)

    def running(self) -> list[Patient]:
        """The patients whose clock runs (the stopped ones swept out on the way)."""
        kept = []
        for p in self.tracked:
            if p.clock != NO_CLOCK:
                kept.append(p)
            else:
                p.tracked = False
        self.tracked = kept
        return kept

    def moved(self, p: Patient, day: int, function: int) -> None:
        """A patient with a running clock is referred on to a service of ``function``."""
        if p.function != function:
            k = band(day - p.clock)
            self.counts[p.function][TRANSFERS_OUT][k] += 1
            self.counts[function][TRANSFERS_IN][k] += 1
            p.function = function

    def stop(self, p: Patient, day: int, part: int) -> None:
        """Stop a running clock (if one runs): the pathway is complete, or removed."""
        if p.clock != NO_CLOCK:
            waited = day - p.clock
            self.counts[p.function][part][band(waited)] += 1
            if self.counting and part != REMOVALS:
                self.stops.append(waited)
            p.clock = NO_CLOCK
            self.open -= 1

    def incomplete(self, day: int) -> list[list[int]]:
        """Pathways still waiting at the start of ``day``, by function and week band."""
        out = [[0] * N_BANDS for _ in self.functions]
        for p in self.running():
            out[p.function][band(day - p.clock)] += 1
        return out

    def month(self, day: int) -> list[tuple[str, str, list[int]]]:
        """The return of the month ending before ``day``: (function, part, counts) rows;
        the month's event counts start again from zero."""
        waiting = self.incomplete(day)
        rows: list[tuple[str, str, list[int]]] = []
        for f, code in enumerate(self.functions):
            rows.append((code, PARTS[INCOMPLETE], waiting[f]))
            for part in range(1, len(PARTS)):
                rows.append((code, PARTS[part], self.counts[f][part]))
        self.counts = self._empty()
        return rows

    def restart(self) -> None:
        """Forget the events counted so far (the position the returns start from)."""
        self.counts = self._empty()
