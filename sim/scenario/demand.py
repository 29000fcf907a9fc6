"""The ``[demand]`` and ``[gp]`` sections: referrals (volume, growth, seasonality, case mix,
self-referral, care outside the contract) and the GP's referral decision."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.scenario.fields import Days, Money, Need, Probability, Strict, check_row


class Condition(Strict):
    """A condition group: its share of referrals and its mix of latent need.

    Health while waiting: quality of life is ``utility_loss`` below normal at referral and
    falls a further ``utility_decline_per_week`` each week until the right treatment starts.
    """

    share: Probability
    need: dict[Need, Probability]
    joint_replacement_share: Probability = 0.0
    utility_loss: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    utility_decline_per_week: Annotated[float, Field(ge=0.0, le=0.1)] = 0.0

    @field_validator("need")
    @classmethod
    def _need_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        return check_row(v, "need mix")


class SelfReferral(Strict):
    """Direct access (e.g. physio self-referral): extra referrals that bypass the GP and triage."""

    per_year: Annotated[float, Field(ge=0.0, le=10_000_000)] = 0.0
    replaces_gp_share: Probability = 0.0
    """Of the self-referrals, the share who would otherwise have been referred by their GP: GP
    referrals fall by ``per_year`` times it."""
    stage: str = "physio"
    need: dict[Need, Probability] = Field(default_factory=lambda: {"self_management": 0.35, "physio": 0.6, "specialist": 0.05})

    @field_validator("need")
    @classmethod
    def _need_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        return check_row(v, "self-referral need mix")


class OutsideContract(Strict):
    """Care the commissioner buys from a service outside the MSK contract, in every design.

    The RTT returns count, under the service's treatment function, work an MSK contract does
    not cover: under-18s, electives that start from trauma, tertiary referrals. These patients
    are referred straight to ``stage`` (no GP's choice, no triage), routine, from their own
    random numbers; when it cannot help them they leave the MSK system. Their referrals grow
    with the population (``growth``), not with MSK demand. ``conditions`` is their mix of
    condition groups, by name (default: the scenario's condition shares).
    """

    per_year: Annotated[float, Field(ge=0.0, le=10_000_000)] = 0.0
    growth: float = Field(0.0, ge=-0.5, le=1.0)
    stage: str = "orthopaedics"
    need: dict[Need, Probability] = Field(default_factory=lambda: {"specialist": 0.6, "surgical": 0.4})
    conditions: dict[str, Probability] | None = None

    @field_validator("need")
    @classmethod
    def _need_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        return check_row(v, "need mix")

    @field_validator("conditions")
    @classmethod
    def _conditions_sum_to_one(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return v if v is None else check_row(v, "condition shares")


class Demand(Strict):
    """Referrals: volume, growth, seasonality, priority and case mix."""

    referrals_per_year: Annotated[float, Field(ge=0.0, le=10_000_000)]
    growth: float = Field(0.0, ge=-0.5, le=1.0)
    seasonality: list[Annotated[float, Field(gt=0.0)]] = Field(default_factory=lambda: [1.0] * 12, min_length=12, max_length=12)
    urgent_share: Probability = 0.0
    referral_working_days: int = Field(5, ge=1, le=7)
    conditions: dict[str, Condition] = Field(min_length=1)
    self_referral: SelfReferral = Field(default_factory=SelfReferral)
    outside_contract: OutsideContract = Field(default_factory=OutsideContract)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Demand:
        check_row({k: c.share for k, c in self.conditions.items()}, "condition shares")
        sr = self.self_referral
        if sr.per_year * sr.replaces_gp_share > self.referrals_per_year:
            raise ValueError(
                f"self_referral: per_year x replaces_gp_share ({sr.per_year * sr.replaces_gp_share:,.0f}) would replace "
                f"more GP referrals than referrals_per_year ({self.referrals_per_year:,.0f})"
            )
        return self

    @property
    def gp_referrals_per_year(self) -> float:
        """GP referrals a year: ``referrals_per_year`` less those self-referral replaces."""
        sr = self.self_referral
        return self.referrals_per_year - sr.per_year * sr.replaces_gp_share


class GP(Strict):
    """General practice: the referral decision and, in the fragmented design, the loop back."""

    referral: dict[Need, dict[str, Probability]]
    rereferral: dict[Need, dict[str, Probability]]
    wait_days: Days = 14.0
    max_referrals: int = Field(5, ge=1, le=20)
    consultation_cost: Money = 45.0
    remembers_failed: bool = False
    """The GP re-refers a patient to a service that has not already failed them (the row's
    other destinations, in proportion), where the row has one."""
    choice_wait_weight: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    """Patient choice by waits (a logit): each option of a ``[choices]`` row is weighted by its
    share times ``exp(-weight x weeks)``, where weeks is the service's list over its weekly
    slots at the time; 0: the fixed shares, blind to waits."""

    @field_validator("referral", "rereferral")
    @classmethod
    def _rows(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {need: check_row(row, f"row '{need}'") for need, row in v.items()}
