"""RTT clocks: which patients' referral-to-treatment clocks run, and the pathways completed.

A running clock is kept twice: on the patient (``Patient.clock``, its start day, read on
the hot path) and here by patient (``running``), so month-end snapshots of the incomplete
pathways need not search the lists.
"""

from __future__ import annotations

from sim.model.design import ClockRule
from sim.model.patient import NO_CLOCK, Patient


class RTTClocks:
    """The clocks of one run, under one design's clock rule.

    ``stops`` holds the weeks-to-stop (in days) of the pathways completed since the
    recorder last reset it; they are kept only once ``counting`` (after the warm-up).
    """

    def __init__(self, rule: ClockRule):
        self.rule = rule
        self.running: dict[int, float] = {}
        self.stops: list[float] = []
        self.counting = False

    def start(self, p: Patient, day: float) -> None:
        p.clock = self.running[p.pid] = day

    def stop(self, p: Patient, day: int) -> None:
        """Stop a running clock: the pathway is complete."""
        if p.clock != NO_CLOCK:
            if self.counting:
                self.stops.append(day - p.clock)
            p.clock = NO_CLOCK
            del self.running[p.pid]
