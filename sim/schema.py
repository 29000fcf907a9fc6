"""The scenario schema: frozen pydantic models of every section, and the names they share.

A scenario file is validated into these objects once, before any model is built; unknown
keys are errors and the objects cannot be changed afterwards. Checks that span several
sections live in :mod:`sim.checks`; reading files lives in :mod:`sim.scenario`.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NEEDS: tuple[str, ...] = ("self_management", "physio", "specialist", "surgical")
"""Latent clinical need, the hidden truth that routing decisions try to match."""

ADVICE = "advice"
"""Pseudo-destination: advice and supported self-management, no appointment needed."""

THEATRE = "theatre"
"""The surgical list's place name: in backlogs, reduced periods, results columns and flows."""

Need = Literal["self_management", "physio", "specialist", "surgical"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Money = Annotated[float, Field(ge=0.0, le=1e12)]
"""Pounds: at most a trillion (the whole NHS budget is under £200 billion)."""
Slots = Annotated[float, Field(ge=0.0, le=1e6)]
"""Slots a week: at most a million (England's whole MSK pathway offers far fewer)."""
Days = Annotated[float, Field(ge=1.0, le=365.0)]
"""A mean number of days a count is drawn for (a wait, a stay): at least one, at most a year."""
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$"
"""A scenario's name: it names the results folder, so letters, digits, ``-`` and ``_`` only."""
MAX_DESCRIPTION = 10_000
ROW_TOLERANCE = 1e-6
WeeklyRate = Annotated[float, Field(ge=0.0, lt=1.0)]
TreatmentFunction = Annotated[str, Field(pattern=r"^[0-9A-Z]{3}$")]
OTHER_FUNCTION = "X01"
"""The NHS treatment function "Other": where a consultant-led service without its own code reports."""


class ScenarioError(ValueError):
    """A scenario that cannot be used, with where and why."""

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class Strict(BaseModel):
    """Base for scenario sections: unknown keys are errors, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


RemovalRate = WeeklyRate | list[tuple[NonNegative, WeeklyRate]]
"""Share of those still waiting who leave a list each week without being seen: one rate, or
``[[from_week, rate], ...]`` by weeks waited (the first from week 0)."""


def removal_bands(rate: float | list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A removal rate as ``[(from_week, rate), ...]`` whatever form it was given in."""
    return [(0.0, float(rate))] if isinstance(rate, (int, float)) else [(float(w), float(r)) for w, r in rate]


def _check_removals(rate: RemovalRate) -> RemovalRate:
    if isinstance(rate, list):
        weeks = [w for w, _ in rate]
        if not weeks or weeks[0] != 0:
            raise ValueError("a removal table starts at week 0: [[0, rate], [from_week, rate], ...]")
        if any(b <= a for a, b in pairwise(weeks)):
            raise ValueError(f"the weeks of a removal table must increase, got {weeks}")
    return rate


def _check_row(row: dict[str, float], what: str) -> dict[str, float]:
    total = sum(row.values())
    if abs(total - 1.0) > ROW_TOLERANCE:
        shares = " + ".join(f"{k} {v:g}" for k, v in row.items())
        raise ValueError(f"{what} must sum to 1, got {total:.6g} ({shares})")
    return row


class RunSettings(Strict):
    """How long, how often and from which seed."""

    years: int = Field(5, ge=1, le=50)
    warmup_days: int = Field(365, ge=0)
    start_date: date = date(2014, 4, 1)
    seed: int = Field(20140401, ge=0)
    replications: int = Field(10, ge=1)


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
        return _check_row(v, "need mix")


class SelfReferral(Strict):
    """Direct access (e.g. physio self-referral): extra referrals that bypass the GP and triage."""

    per_year: Annotated[float, Field(ge=0.0, le=10_000_000)] = 0.0
    stage: str = "physio"
    need: dict[Need, Probability] = Field(default_factory=lambda: {"self_management": 0.35, "physio": 0.6, "specialist": 0.05})

    @field_validator("need")
    @classmethod
    def _need_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_row(v, "self-referral need mix")


class Demand(Strict):
    """Referrals: volume, growth, seasonality, priority and case mix."""

    referrals_per_year: Annotated[float, Field(ge=0.0, le=10_000_000)]
    growth: float = Field(0.0, ge=-0.5, le=1.0)
    seasonality: list[Annotated[float, Field(gt=0.0)]] = Field(default_factory=lambda: [1.0] * 12, min_length=12, max_length=12)
    urgent_share: Probability = 0.0
    referral_working_days: int = Field(5, ge=1, le=7)
    conditions: dict[str, Condition] = Field(min_length=1)
    self_referral: SelfReferral = Field(default_factory=SelfReferral)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Demand:
        _check_row({k: c.share for k, c in self.conditions.items()}, "condition shares")
        return self


class CapacityChange(Strict):
    """A new weekly capacity from a date onward."""

    from_date: date
    slots_per_week: Slots


class ReducedPeriod(Strict):
    """A stretch of each year with less capacity (summer leave, Christmas), as MM-DD dates."""

    start: Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    end: Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    factor: Annotated[float, Field(ge=0.0, le=2.0)]
    stages: list[str] = Field(default_factory=list)
    """Services it applies to (and "theatre"); empty means all."""

    @field_validator("start", "end")
    @classmethod
    def _real_day(cls, v: str) -> str:
        month, day = (int(x) for x in v.split("-"))
        try:
            date(2024, month, day)  # a leap year, so 02-29 is a day
        except ValueError:
            raise ValueError(f"{v} is not a day of the year") from None
        return v


class Calendar(Strict):
    """Working time: bank holidays and seasonal capacity."""

    bank_holidays: Literal["england", "none"] = "england"
    reduced: list[ReducedPeriod] = Field(default_factory=list)


class Stage(Strict):
    """An appointment-based service: a waiting list offered a number of slots each working day."""

    kind: Literal["triage", "therapy", "clinic"] = "clinic"
    provider: str
    consultant_led: bool = False
    treatment_function: TreatmentFunction | None = None
    """The NHS treatment function code its RTT pathways report under (``110``, ``410``...);
    consultant-led services only, ``X01`` (Other) when not given."""
    hospital: bool = False
    slots_per_week: Slots
    working_days: int = Field(5, ge=1, le=7)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    booking_lead_days: int = Field(0, ge=0, le=365)
    booking_lead_spread_days: float = Field(0.0, ge=0.0, le=365.0)
    """Mean of a further delay, exponentially distributed, before a routine patient can be
    offered a first slot: later dates chosen, appointments moved, letters lost (0: none)."""
    booking: Literal["in_turn", "long_waiters_first"] = "in_turn"
    long_wait_weeks: float = Field(40.0, gt=0.0)
    dna_first: Probability = 0.0
    dna_followup: Probability = 0.0
    max_dna: int = Field(2, ge=1, le=10)
    dna_rebook_days: int = Field(7, ge=1)
    contacts_per_episode: float = Field(1.0, ge=1.0, le=50.0)
    followup_interval_days: int = Field(14, ge=1)
    resolves: dict[Need, Probability] = Field(default_factory=dict)
    assessment_only_if_unresolved: bool = True
    list_for_surgery: dict[Need, Probability] = Field(default_factory=dict)
    decision_at_followup_share: Probability = 0.0
    """Share of first attendances (not triage, not rehabilitation) whose decision waits for a
    follow-up ``followup_interval_days`` later (tests, results, a trial of time): the RTT
    clock runs on to it, and listing or treatment start there."""
    tariff_first: Money = 0.0
    tariff_followup: Money = 0.0
    diagnostics_per_first: Money = 0.0
    advice_and_guidance_share: Probability = 0.0
    """Share of referrals without surgical need answered by advice to the GP, no appointment."""
    pifu_share: Probability = 0.0
    """Share of follow-ups replaced by patient-initiated follow-up."""
    pifu_return_rate: Probability = 0.3
    """Of those, the share of patients who do come back."""
    overflow_to: str | None = None
    """A service (e.g. the independent sector) that takes routine patients waiting too long here."""
    overflow_after_weeks: float = Field(18.0, gt=0.0)
    removal_rate_per_week: RemovalRate = 0.0
    """Removals without treatment: recovered, gone elsewhere or removed at validation."""

    _removals = field_validator("removal_rate_per_week")(_check_removals)

    @model_validator(mode="after")
    def _function(self) -> Stage:
        if self.treatment_function is not None and not self.consultant_led:
            raise ValueError("treatment_function is for consultant-led services only (RTT returns cover no other)")
        return self

    @property
    def rtt_function(self) -> str | None:
        """The treatment function its RTT pathways report under; None when not consultant-led."""
        return (self.treatment_function or OTHER_FUNCTION) if self.consultant_led else None

    @property
    def surgical(self) -> bool:
        """Whether this clinic can list patients for surgery."""
        return any(p > 0 for p in self.list_for_surgery.values())


class Surgery(Strict):
    """Theatre lists and beds, shared by the surgical clinics of a design."""

    provider: str
    slots_per_week: Slots
    working_days: int = Field(5, ge=1, le=7)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    booking_lead_days: int = Field(0, ge=0, le=365)
    booking_lead_spread_days: float = Field(0.0, ge=0.0, le=365.0)
    """Mean of a further delay, exponentially distributed, before a routine patient can be
    given a date: fitness to be optimised, dates declined, operations moved (0: none)."""
    joint_replacement_slots: float = Field(2.5, gt=0.0)
    inpatient_slots: float = Field(1.5, gt=0.0)
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
    priority_shares: dict[Literal["P1", "P2", "P3", "P4"], Probability] = Field(default_factory=dict)
    """Surgical priority categories (P1 most urgent); lists are worked in category order."""
    removal_rate_per_week: RemovalRate = 0.0
    """Removals from the surgical list without an operation (as for a service)."""
    tariff_joint_replacement: Money = 0.0
    tariff_other_daycase: Money = 0.0
    tariff_other_inpatient: Money = 0.0

    _removals = field_validator("removal_rate_per_week")(_check_removals)


class GP(Strict):
    """General practice: the referral decision and, in the fragmented design, the loop back."""

    referral: dict[Need, dict[str, Probability]]
    rereferral: dict[Need, dict[str, Probability]]
    wait_days: Days = 14.0
    max_referrals: int = Field(5, ge=1, le=20)
    consultation_cost: Money = 45.0

    @field_validator("referral", "rereferral")
    @classmethod
    def _rows(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {need: _check_row(row, f"row '{need}'") for need, row in v.items()}


class Design(Strict):
    """One way of organising the pathway."""

    services: list[str] = Field(min_length=1)
    entry: str = "gp"
    unresolved: Literal["gp", "onward"] = "gp"
    payment: Literal["activity", "prime_contract", "tariff_share"] = "activity"
    routing: dict[Need, dict[str, Probability]] = Field(default_factory=dict)
    onward: dict[Need, dict[str, Probability]] = Field(default_factory=dict)
    onward_delay_days: int = Field(2, ge=0)
    advice_return_days: int = Field(56, ge=1)
    max_onward: int = Field(4, ge=1, le=20)
    stage_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _no_clock(cls, data: Any) -> Any:
        if isinstance(data, dict) and "clock" in data:
            raise ValueError(
                "'clock' is no longer a setting: every design follows the national RTT rules "
                "(README, 'The RTT clock'); delete the key"
            )
        return data

    @field_validator("routing", "onward")
    @classmethod
    def _rows(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {need: _check_row(row, f"row '{need}'") for need, row in v.items()}


class Provider(Strict):
    """How a provider is paid: by the commissioner (fragmented) and by a prime contractor."""

    payment: Literal["tariff", "block"] = "tariff"
    block_gbp: Money = 0.0
    prime_cost_share: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0


class PrimeContract(Strict):
    """A capitated prime contract (Bedfordshire terms by default)."""

    year1_value_gbp: Money
    escalator: float = Field(0.013, ge=-0.2, le=0.5)
    upfront_share: Probability = 0.95
    management_share: Probability = 0.025
    quality_share: Probability = 0.025
    retained_surplus_share: Probability = 0.05
    commissioner_surplus_split: Probability = 0.5
    overheads_gbp: Money = 0.0
    mobilisation_gbp: Money = 0.0
    vat_rate: Probability = 0.0
    vat_cost_share: Probability = 0.0
    deficit_corridor_share: Probability = 1.0
    commissioner_deficit_share: Probability = 0.0
    quality_rtt_target_pct: Annotated[float, Field(ge=0.0, le=100.0)] = 92.0
    quality_diversion_target_pct: Annotated[float, Field(ge=0.0, le=100.0)] = 40.0
    quality_followup_ratio_max: NonNegative = 2.0

    @model_validator(mode="after")
    def _shares(self) -> PrimeContract:
        total = self.upfront_share + self.management_share + self.quality_share
        if total > 1.0 + ROW_TOLERANCE:
            raise ValueError(f"upfront + management + quality shares exceed 1 ({total:.4g})")
        return self


class TariffShare(Strict):
    """Pennine-style payment: activity at a share of tariff plus an outcome incentive.

    The commissioner keeps the budget; the hub earns ``tariff_share`` of national tariff on
    the activity and up to ``incentive_share`` of that value for outcomes met.
    """

    tariff_share: Annotated[float, Field(ge=0.0, le=2.0)] = 0.9
    incentive_share: Probability = 0.015
    overheads_gbp: Money = 0.0
    quality_rtt_target_pct: Annotated[float, Field(ge=0.0, le=100.0)] = 92.0
    quality_diversion_target_pct: Annotated[float, Field(ge=0.0, le=100.0)] = 40.0
    quality_followup_ratio_max: NonNegative = 2.0


class Finance(Strict):
    """Who is paid what."""

    providers: dict[str, Provider]
    prime_contract: PrimeContract | None = None
    tariff_share: TariffShare | None = None


class Backlog(Strict):
    """Patients already waiting when the run starts: a CSV file of patients, a published RTT
    return (incomplete pathways by week band), or counts by weeks-waited band."""

    file: str | None = None
    stages: dict[str, dict[str, Annotated[int, Field(ge=0)]]] = Field(default_factory=dict)
    commissioner: str | None = None
    """With an RTT return: the commissioner's code (``06F``)."""
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    """With an RTT return: the month whose incomplete pathways start the run (``2015-02``)."""
    treatment_functions: list[TreatmentFunction] | None = None
    """With an RTT return: the functions taken (default: those the services name, Other apart)."""
    decision_to_admit_share: Probability = 0.2
    """With a return that does not count them apart: the share of incomplete pathways on the
    surgical list (decision to admit made) rather than waiting for outpatients."""
    patients: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    """Rows read from ``file`` when the scenario is loaded (not written back)."""
    pathways: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    """Incomplete pathways read from an RTT return, by treatment function and week band."""


class Scenario(Strict):
    """A whole scenario: population, demand, services, designs, money and run settings."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    """Letters, digits, ``-`` and ``_`` (it names the results folder)."""
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    population: int = Field(ge=1, le=100_000_000)
    run: RunSettings = Field(default_factory=RunSettings)
    calendar: Calendar = Field(default_factory=Calendar)
    demand: Demand
    stages: dict[str, Stage] = Field(min_length=1)
    surgery: Surgery
    gp: GP
    designs: dict[str, Design] = Field(min_length=1)
    choices: dict[str, dict[str, Probability]] = Field(default_factory=dict)
    """Patient choice between providers: a routing destination that stands for several services."""
    finance: Finance
    uncertainty: dict[str, dict[str, Any]] = Field(default_factory=dict)
    backlog: Backlog | None = None

    def design_stages(self, design: str) -> dict[str, Stage]:
        """The stages a design commissions, with its overrides applied."""
        d = self.designs[design]
        out = {}
        for name in d.services:
            base = self.stages[name]
            extra = d.stage_overrides.get(name)
            out[name] = base.model_copy(update=extra) if extra else base
        return out

    def design_surgery(self, design: str | None) -> Surgery:
        """The theatre as a design commissions it (``stage_overrides.theatre``)."""
        extra = self.designs[design].stage_overrides.get(THEATRE) if design is not None else None
        return Surgery.model_validate({**self.surgery.model_dump(), **extra}) if extra else self.surgery


def onward_row(row: dict[str, float], origin: str) -> dict[str, float]:
    """An onward-referral row as seen from ``origin``: a service does not refer to itself.

    The remaining destinations keep their relative weights; a row that names only the
    origin is kept as it is.
    """
    rest = {k: p for k, p in row.items() if k != origin and p > 0}
    total = sum(rest.values())
    return {k: p / total for k, p in rest.items()} if total > 0 else dict(row)
