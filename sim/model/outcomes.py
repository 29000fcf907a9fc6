"""How journeys end, and the health lost while waiting for the right treatment."""

from __future__ import annotations

from sim.model.kinds import Outcome
from sim.model.patient import Patient
from sim.scenario.demand import Condition

WEEKS_A_YEAR = 52.18


class JourneyStats:
    """Journeys (first referral to end of the episode of care) that ended this year."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.days: list[int] = []
        self.outcomes: dict[str, int] = {o.value: 0 for o in Outcome}
        self.hospital_bound = 0
        self.hospital_bound_diverted = 0
        self.never_hospital = 0
        self.rereferrals = 0

    def add(self, p: Patient, day: int, outcome: str) -> None:
        self.days.append(day - p.referred)
        self.outcomes[outcome] += 1
        self.rereferrals += p.referrals
        if not p.seen_hospital:
            self.never_hospital += 1
        if p.gp_hospital:
            self.hospital_bound += 1
            if not p.seen_hospital:
                self.hospital_bound_diverted += 1


class HealthLost:
    """Quality-adjusted life years lost while waiting, by condition group.

    Quality of life is ``utility_loss`` below normal at referral and falls a further
    ``utility_decline_per_week`` each week until the treatment that meets the need starts.
    """

    def __init__(self, conditions: list[Condition]):
        self.conditions = conditions
        self.on: bool = any(c.utility_loss or c.utility_decline_per_week for c in conditions)
        self.total = 0.0

    def treated(self, p: Patient, day: int) -> None:
        """The treatment that meets the patient's need starts: their wait for it ends."""
        if self.on and not p.treated:
            p.treated = True
            weeks = (day - p.referred) / 7.0
            c = self.conditions[p.condition]
            self.total += (c.utility_loss * weeks + c.utility_decline_per_week * weeks * weeks / 2.0) / WEEKS_A_YEAR
