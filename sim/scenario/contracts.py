"""An integrator's terms: the prime contract, tariff-share payment, and the outcome targets
their quality pots pay for."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from sim.scenario.fields import ROW_TOLERANCE, Money, Probability, Strict

YearlyShare = Probability | Annotated[list[Probability], Field(min_length=1, max_length=50)]
"""A share of the contract value: one for every year, or one per contract year (the last
holds for any year after the list ends)."""


def share_in_year(share: float | list[float], year: int) -> float:
    """A :data:`YearlyShare` in one contract year (1 is the first)."""
    if isinstance(share, list):
        return float(share[min(year, len(share)) - 1])
    return float(share)


class QualityTarget(Strict):
    """One outcome the quality pot pays for, as incentive schemes are written.

    ``measure`` is a result column with a better direction (``rtt_incomplete_within_18w_pct``,
    ``hospital_diversion_pct``, ``followups_per_first_op``, ``qaly_lost_per_1000_referrals``,
    ``journeys_resolved_pct``...). A year earns the target's part of the pot in full at
    ``target`` or better, none at ``floor`` or worse, and a straight-line share between; with
    no floor the target is pass or fail. ``weight`` is its part of the pot against the others.
    """

    measure: str
    target: float = Field(allow_inf_nan=False)
    floor: float | None = Field(None, allow_inf_nan=False)
    weight: Annotated[float, Field(gt=0.0, le=1e6)] = 1.0


DEFAULT_QUALITY_TARGETS: tuple[QualityTarget, ...] = (
    QualityTarget(measure="rtt_incomplete_within_18w_pct", target=92.0),
    QualityTarget(measure="hospital_diversion_pct", target=40.0),
    QualityTarget(measure="followups_per_first_op", target=2.0),
)
"""Pass or fail, equal parts: 92% of incomplete pathways within 18 weeks (the NHS standard), 40%
of hospital-bound referrals kept out of hospital, no more than 2 follow-ups per first attendance."""

_OLD_QUALITY_KEYS = {
    "quality_rtt_target_pct": "rtt_incomplete_within_18w_pct",
    "quality_diversion_target_pct": "hospital_diversion_pct",
    "quality_followup_ratio_max": "followups_per_first_op",
}


def _no_old_quality_keys(data: Any) -> Any:
    if isinstance(data, dict):
        old = [k for k in _OLD_QUALITY_KEYS if k in data]
        if old:
            example = ", ".join(f'{{ measure = "{_OLD_QUALITY_KEYS[k]}", target = {data[k]} }}' for k in old)
            raise ValueError(
                f"{', '.join(old)} are no longer settings: outcome targets are a list, with partial credit if a "
                f"floor is given; write quality_targets = [{example}]"
            )
    return data


class PrimeContract(Strict):
    """A capitated prime contract (Bedfordshire terms by default).

    The year-1 price is either a sum (``year1_value_gbp``) or a rate per head of the
    population covered (``per_head_gbp`` x ``capitated_population``, by default the
    scenario's population; give a weighted population for a needs-weighted capitation).
    """

    year1_value_gbp: Money | None = None
    per_head_gbp: Annotated[float, Field(gt=0.0, le=1e6)] | None = None
    capitated_population: Annotated[float, Field(gt=0.0, le=1e9)] | None = None
    escalator: float = Field(0.013, ge=-0.2, le=0.5)
    upfront_share: YearlyShare = 0.95
    management_share: Probability = 0.025
    quality_share: YearlyShare = 0.025
    quality_targets: list[QualityTarget] = Field(default_factory=lambda: list(DEFAULT_QUALITY_TARGETS), max_length=50)
    retained_surplus_share: Probability = 0.05
    commissioner_surplus_split: Probability = 0.5
    overheads_gbp: Money = 0.0
    mobilisation_gbp: Money = 0.0
    vat_rate: Probability = 0.0
    vat_cost_share: Probability = 0.0
    deficit_corridor_share: Probability = 1.0
    commissioner_deficit_share: Probability = 0.0
    scope: list[str] | None = None
    """The services (and ``theatre``) the contract pays for; the commissioner pays the rest to
    their providers directly, under the providers' own terms. Default: all of the design's."""

    _old = model_validator(mode="before")(_no_old_quality_keys)

    @model_validator(mode="after")
    def _terms(self) -> PrimeContract:
        if (self.year1_value_gbp is None) == (self.per_head_gbp is None):
            raise ValueError("give the year-1 price one way: year1_value_gbp (a sum) or per_head_gbp (a capitation rate)")
        if self.capitated_population is not None and self.per_head_gbp is None:
            raise ValueError("capitated_population is for a price per head (per_head_gbp)")
        years = max(len(s) if isinstance(s, list) else 1 for s in (self.upfront_share, self.quality_share))
        for year in range(1, years + 1):
            total = share_in_year(self.upfront_share, year) + self.management_share + share_in_year(self.quality_share, year)
            if total > 1.0 + ROW_TOLERANCE:
                raise ValueError(f"upfront + management + quality shares exceed 1 in contract year {year} ({total:.4g})")
        return self

    def year1_value(self, population: float) -> float:
        """The year-1 price, for a scenario of ``population`` when it is set per head."""
        if self.year1_value_gbp is not None:
            return self.year1_value_gbp
        assert self.per_head_gbp is not None  # one of the two, checked above
        return self.per_head_gbp * self.population(population)

    def population(self, population: float) -> float:
        """The population the capitation is paid for: the one set, or the scenario's."""
        return self.capitated_population if self.capitated_population is not None else population


class TariffShare(Strict):
    """Pennine-style payment: activity at a share of tariff plus an outcome incentive.

    The commissioner keeps the budget; the hub earns ``tariff_share`` of national tariff on
    the activity (``tariff_share_by_service`` for the services, or ``theatre``, paid at another
    share) and up to ``incentive_share`` of that value for outcomes met.
    """

    tariff_share: Annotated[float, Field(ge=0.0, le=2.0)] = 0.9
    tariff_share_by_service: dict[str, Annotated[float, Field(ge=0.0, le=2.0)]] = Field(default_factory=dict)
    scope: list[str] | None = None
    """As for :class:`PrimeContract`: the services (and ``theatre``) the hub is paid for."""
    incentive_share: YearlyShare = 0.015
    quality_targets: list[QualityTarget] = Field(default_factory=lambda: list(DEFAULT_QUALITY_TARGETS), max_length=50)
    overheads_gbp: Money = 0.0

    _old = model_validator(mode="before")(_no_old_quality_keys)
