"""The ``[surgery]`` section: theatre lists and beds, shared by a design's surgical clinics."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.capacity import CapacityChange, CapacityPolicy, Staff, slots_from_staff
from sim.scenario.fields import Days, Money, Probability, RemovalRate, Slots, Strict, check_removals


class Surgery(Strict):
    """Theatre lists and beds, shared by the surgical clinics of a design.

    Costs as for a :class:`Stage`: the ``staff``, ``cost_per_slot_gbp`` for each theatre slot
    offered and ``cost_per_operation_gbp`` for each operation done.
    """

    provider: str
    slots_per_week: Slots
    staff: list[Staff] = Field(default_factory=list, max_length=50)
    cost_per_slot_gbp: Money = 0.0
    cost_per_operation_gbp: Money = 0.0
    working_days: int = Field(5, ge=1, le=7)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    capacity_policy: CapacityPolicy = Field(default_factory=CapacityPolicy)
    booking_lead_days: int = Field(0, ge=0, le=365)
    booking_lead_spread_days: float = Field(0.0, ge=0.0, le=365.0)
    """Mean of a further delay, exponentially distributed, before a routine patient can be
    given a date: fitness to be optimised, dates declined, operations moved (0: none)."""
    joint_replacement_slots: float = Field(2.5, gt=0.0)
    inpatient_slots: float = Field(1.5, gt=0.0)
    procedure_slots: float = Field(0.5, gt=0.0)
    """Theatre time of a day-case procedure (a clinic's ``procedure_share``), in day-case slots."""
    daycase_share: Probability = 0.8
    beds: int = Field(ge=0)
    los_joint_days: Days = 5.5
    los_other_days: Days = 2.0
    postop_followups: float = Field(1.0, ge=0.0, le=50.0)
    postop_followup_days: int = Field(42, ge=1)
    rehab_stage: str = "physio"
    rehab_share_joint: Probability = 0.9
    rehab_share_other: Probability = 0.3
    cancellation_rate: Probability = 0.0
    overflow_after_weeks: Annotated[float, Field(gt=0.0, le=520.0)] | None = None
    """Routine patients still on the list this many weeks after listing are operated on by
    ``overflow_provider`` (the independent sector), paid the same tariffs; none when not set."""
    overflow_provider: str | None = None
    avoidable_return_rate: Probability = 0.0
    """An operation meets the surgical need only: of the patients operated on without it (not
    helped), the share who come back for care, as the design treats the unresolved; the others
    leave unresolved."""
    priority_shares: dict[Literal["P1", "P2", "P3", "P4"], Probability] = Field(default_factory=dict)
    """Surgical priority categories (P1 most urgent); lists are worked in category order."""
    removal_rate_per_week: RemovalRate = 0.0
    """Removals from the surgical list without an operation (as for a service)."""
    tariff_joint_replacement: Money = 0.0
    tariff_other_daycase: Money = 0.0
    tariff_other_inpatient: Money = 0.0
    tariff_procedure: Money = 0.0
    """Price of a day-case procedure (see ``Stage.procedure_share``)."""

    _removals = field_validator("removal_rate_per_week")(check_removals)
    _staffed = model_validator(mode="before")(slots_from_staff)

    @model_validator(mode="after")
    def _overflow_both(self) -> Surgery:
        if (self.overflow_after_weeks is None) != (self.overflow_provider is None):
            raise ValueError("overflow_after_weeks and overflow_provider go together: give both, or neither")
        return self

    @property
    def costed(self) -> bool:
        """Whether what it costs its provider is given (staff costs or unit costs)."""
        return bool(self.cost_per_slot_gbp or self.cost_per_operation_gbp or any(s.cost_per_wte_gbp for s in self.staff))
