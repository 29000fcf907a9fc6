"""The scenario schema: frozen pydantic models of every section, and the names they share.

A scenario file is validated into these objects once, before any model is built; unknown
keys are errors and the objects cannot be changed afterwards. Checks that span several
sections live in :mod:`sim.scenario.checks`; reading files lives in :mod:`sim.scenario.loading`.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

NEEDS: tuple[str, ...] = ("self_management", "physio", "specialist", "surgical")
"""Latent clinical need, the hidden truth that routing decisions try to match."""

ADVICE = "advice"
"""Pseudo-destination: advice and supported self-management, no appointment needed."""

THEATRE = "theatre"
"""The surgical list's place name: in backlogs, reduced periods, results columns and flows."""
THEATRE_OVERFLOW = "theatre_overflow"
"""The element of a design's money for operations overflowing to another provider."""
OUTSIDE_CONTRACT = "outside_contract"
"""Care outside the MSK contract: its table under ``[demand]``, and the start of its result columns
(``outside_contract_referrals``; ``outside_contract_<count>``, the part of ``<count>`` that was)."""

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
    """Base for scenario sections: unknown keys are errors, objects are immutable, and types
    are strict: ``true`` is not a number and ``"125"`` is text, not 125 (a whole number is
    still a number wherever a fraction may be)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


def _as_tuple(value: Any) -> Any:
    """A TOML array read as a pair: strict types take a tuple only, and TOML has no tuples."""
    return tuple(value) if isinstance(value, list) else value


RemovalRate = WeeklyRate | list[Annotated[tuple[NonNegative, WeeklyRate], BeforeValidator(_as_tuple)]]
"""Share of those still waiting who leave a list each week without being seen: one rate, or
``[[from_week, rate], ...]`` by weeks waited (the first from week 0)."""


def removal_bands(rate: float | list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A removal rate as ``[(from_week, rate), ...]`` whatever form it was given in."""
    return [(0.0, float(rate))] if isinstance(rate, (int, float)) else [(float(w), float(r)) for w, r in rate]


MAX_SERVICES: Final = 62
"""Services a scenario may define: a patient keeps the services visited as bits of a 64-bit word
(``sim.model.patient``), far more than any MSK pathway has."""


def _check_removals(rate: RemovalRate) -> RemovalRate:
    if isinstance(rate, list):
        weeks = [w for w, _ in rate]
        if not weeks or weeks[0] != 0:
            raise ValueError("a removal table starts at week 0: [[0, rate], [from_week, rate], ...]")
        if any(b <= a for a, b in pairwise(weeks)):
            raise ValueError(f"the weeks of a removal table must increase, got {weeks}")
    return rate


def _check_stale(service: Stage) -> Stage:
    """Stale pathways leave only at validation: without a rate they would wait for ever."""
    if service.stale_share > 0 and removal_bands(service.stale_removal_rate_per_week)[-1][1] <= 0:
        raise ValueError(
            f"stale_share {service.stale_share:g} needs stale_removal_rate_per_week above 0 in its last band: "
            "stale pathways leave the list only when validation takes them off"
        )
    return service


def _check_row(row: dict[str, float], what: str) -> dict[str, float]:
    total = sum(row.values())
    if abs(total - 1.0) > ROW_TOLERANCE:
        shares = " + ".join(f"{k} {v:g}" for k, v in row.items())
        raise ValueError(f"{what} must sum to 1, got {total:.6g} ({shares})")
    return row


EARLIEST_START: Final = date(1990, 1, 1)
LATEST_START: Final = date(2100, 12, 31)
"""The range ``run.start_date`` may fall in: the calendar (bank holidays, contract years) and the
dates of the tables (to 2262, pandas' last day) hold for a run starting there, with its warm-up
before and its years after."""
MAX_YEARS: Final = 50
MAX_WARMUP_DAYS: Final = 20 * 365
"""Twenty years of warm-up: a list that has not settled in twenty years will not settle."""
MAX_REPLICATIONS: Final = 100_000
"""Far more than a bid needs (hundreds): a count above it is a slip, not a plan."""
MAX_SEED: Final = 2**63 - 1
"""The largest integer a scenario file (TOML) can hold: the seed is written back into the results."""


class RunSettings(Strict):
    """How long, how often and from which seed."""

    years: int = Field(5, ge=1, le=MAX_YEARS)
    warmup_days: int = Field(365, ge=0, le=MAX_WARMUP_DAYS)
    start_date: date = date(2014, 4, 1)
    seed: int = Field(20140401, ge=0, le=MAX_SEED)
    replications: int = Field(10, ge=1, le=MAX_REPLICATIONS)
    capacity_policies: Literal["as_set", "fixed"] = "as_set"
    """``fixed``: every service and theatre at the capacity the file sets, whatever its
    ``capacity_policy`` says (a line of ``--set`` to see what the policies do)."""

    @field_validator("start_date")
    @classmethod
    def _start_in_range(cls, v: date) -> date:
        if not EARLIEST_START <= v <= LATEST_START:
            raise ValueError(f"must fall between {EARLIEST_START} and {LATEST_START} (got {v})")
        return v


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
    replaces_gp_share: Probability = 0.0
    """Of the self-referrals, the share who would otherwise have been referred by their GP: GP
    referrals fall by ``per_year`` times it."""
    stage: str = "physio"
    need: dict[Need, Probability] = Field(default_factory=lambda: {"self_management": 0.35, "physio": 0.6, "specialist": 0.05})

    @field_validator("need")
    @classmethod
    def _need_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_row(v, "self-referral need mix")


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
        return _check_row(v, "need mix")

    @field_validator("conditions")
    @classmethod
    def _conditions_sum_to_one(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return v if v is None else _check_row(v, "condition shares")


OUTSIDE_CONTRACT_PER_YEAR = f"demand.{OUTSIDE_CONTRACT}.per_year"
"""The key that switches care outside the contract on (it is off at 0)."""


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
        _check_row({k: c.share for k, c in self.conditions.items()}, "condition shares")
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


class CapacityChange(Strict):
    """A new weekly capacity from a date onward."""

    from_date: date
    slots_per_week: Slots


POLICY_KINDS = ("fixed", "follows_demand", "managed")


class CapacityPolicy(Strict):
    """How a service's (or the theatre's) capacity answers its demand during the contract.

    * ``fixed``: the slots the file sets, and its ``capacity_changes``, whatever happens.
    * ``follows_demand``: every ``review_days`` the plan is set to the slots the file sets times
      the growth of expected demand since the contract start (``demand.growth``), and the new
      capacity runs ``lag_days`` later, as a commissioner planning each year's activity buys.
    * ``managed``: every ``review_days`` the list is looked at; when it passes ``add_at`` one more
      session of ``session_slots`` a week is added, and when it falls past ``remove_at`` one is
      taken away, each ``lag_days`` after the decision (one change at a time), up to
      ``max_sessions`` a week beyond the file's capacity. Each added session costs its provider
      ``premium_per_session_gbp`` (waiting-list initiative rates) besides its slots' own costs.

    The list a managed service watches (``measure``) is ``list``: patients ready to be offered a
    slot (not those still being booked, whom a session cannot see sooner), or
    ``within_18w_pct``: the share of those waiting there whose wait (their RTT clock where one
    runs, else since referral there) is under 18 weeks. It acts from the start of contract year
    ``from_year``; before that (and in the warm-up) capacity is as the file sets it. Added
    sessions run on the service's working days, bank holidays and cancelled theatre days apart.
    """

    kind: Literal["fixed", "follows_demand", "managed"] = "fixed"
    evidence: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = "assumed"
    """Where its settings come from (a source), or ``assumed``."""
    from_year: int = Field(1, ge=1, le=50)
    review_days: int = Field(7, ge=1, le=366)
    lag_days: int = Field(28, ge=0, le=730)
    measure: Literal["list", "within_18w_pct"] = "list"
    add_at: float | None = Field(None, ge=0.0, le=1e7)
    """``list``: add a session when the list is at least this many patients; ``within_18w_pct``:
    when the share within 18 weeks is at most this."""
    remove_at: float | None = Field(None, ge=0.0, le=1e7)
    """``list``: take one away when the list is at most this; ``within_18w_pct``: when the share is at least this."""
    session_slots: float = Field(10.0, gt=0.0, le=10_000.0)
    """Slots one added session holds (theatre: day-case slots)."""
    max_sessions: int = Field(0, ge=0, le=100_000)
    """Sessions a week that may be added at most."""
    premium_per_session_gbp: Money = 0.0

    @model_validator(mode="after")
    def _triggers(self) -> CapacityPolicy:
        if self.kind != "managed":
            return self
        if self.add_at is None or self.remove_at is None:
            raise ValueError(
                "a managed policy needs add_at and remove_at: the list that adds a session and the one that takes it away"
            )
        if self.measure == "list" and self.remove_at >= self.add_at:
            raise ValueError(
                f"remove_at ({self.remove_at:g}) must be below add_at ({self.add_at:g}): a list between them is left alone"
            )
        if self.measure == "within_18w_pct":
            if max(self.add_at, self.remove_at) > 100:
                raise ValueError("within_18w_pct triggers are percentages, 0 to 100")
            if self.remove_at <= self.add_at:
                raise ValueError(
                    f"remove_at ({self.remove_at:g}) must be above add_at ({self.add_at:g}): a session is added when the "
                    "share within 18 weeks falls to add_at and taken away when it climbs to remove_at"
                )
        if self.max_sessions < 1:
            raise ValueError("a managed policy needs max_sessions of 1 or more: the sessions a week it may add")
        return self

    @property
    def acts(self) -> bool:
        return self.kind != "fixed"


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


class Staff(Strict):
    """One staff group giving a service its capacity: whole-time equivalents, the clinical
    sessions each works a week, the slots a session holds, and what a WTE costs a year (pay
    and on-costs, at year-1 prices)."""

    group: Annotated[str, Field(pattern=NAME_PATTERN)] = "clinicians"
    """Who they are, e.g. ``extended_scope_physiotherapists``, ``consultants``."""
    wte: Annotated[float, Field(ge=0.0, le=100_000)]
    sessions_per_wte: Annotated[float, Field(gt=0.0, le=20.0)] = 9.0
    """Clinical sessions a week per whole-time equivalent (a session is half a day)."""
    slots_per_session: Annotated[float, Field(gt=0.0, le=1_000.0)]
    cost_per_wte_gbp: Money = 0.0

    @property
    def slots_per_week(self) -> float:
        return self.wte * self.sessions_per_wte * self.slots_per_session


def _slots_from_staff(data: Any) -> Any:
    """Capacity given as staff: slots a week are what they give, and a value set beside them must agree."""
    if not isinstance(data, dict) or not data.get("staff"):
        return data
    try:
        staff = [Staff.model_validate(x) for x in data["staff"]]
    except Exception:  # the field's own validation reports it, at its key (not a missing slots_per_week)
        return {"slots_per_week": 0.0, **data}
    given = sum(x.slots_per_week for x in staff)
    if "slots_per_week" in data and abs(float(data["slots_per_week"]) - given) > 1e-9 * max(1.0, given):
        raise ValueError(
            f"slots_per_week = {data['slots_per_week']} disagrees with the staff's {given:,.6g} a week (wte x sessions_per_wte "
            "x slots_per_session): give capacity one way, or make them agree; a staffed service's capacity changes "
            "with its staff, e.g. --set stages.<service>.staff.0.wte=7"
        )
    return {**data, "slots_per_week": given}


def scaled_staff(staff: list[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    """Staff groups (as scenario values) with each group's whole-time equivalents times
    ``factor``: the slots they give scale with them."""
    return [{**g, "wte": float(g["wte"]) * factor} for g in staff]


class Stage(Strict):
    """An appointment-based service: a waiting list offered a number of slots each working day.

    Capacity is ``slots_per_week``, or the ``staff`` that give it. What it costs its provider:
    the staff, ``cost_per_slot_gbp`` for each slot offered (rooms, sessions bought, used or
    not) and ``cost_per_contact_gbp`` for each appointment attended (all at year-1 prices).
    """

    kind: Literal["triage", "therapy", "clinic", "diagnostic"] = "clinic"
    """``diagnostic``: tests (MRI, ultrasound, X-ray) ordered by the clinics that name it in their
    ``tests``; after the test the patient goes back to the clinic that ordered it for the decision."""
    provider: str
    consultant_led: bool = False
    treatment_function: TreatmentFunction | None = None
    """The NHS treatment function code its RTT pathways report under (``110``, ``410``...);
    consultant-led services only, ``X01`` (Other) when not given."""
    hospital: bool = False
    slots_per_week: Slots
    staff: list[Staff] = Field(default_factory=list, max_length=50)
    cost_per_slot_gbp: Money = 0.0
    cost_per_contact_gbp: Money = 0.0
    working_days: int = Field(5, ge=1, le=7)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    capacity_policy: CapacityPolicy = Field(default_factory=CapacityPolicy)
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
    dna_return_rate: Probability = 0.0
    """Of the patients discharged after missed appointments, the share who go back to their GP
    and are referred again after the GP's wait (the others leave)."""
    contacts_per_episode: float = Field(1.0, ge=1.0, le=50.0)
    contacts_per_episode_by_need: dict[Need, Annotated[float, Field(ge=1.0, le=50.0)]] = Field(default_factory=dict)
    """Contacts of a course by the patient's need, where it differs from ``contacts_per_episode``."""
    followup_interval_days: int = Field(14, ge=1)
    resolves: dict[Need, Probability] = Field(default_factory=dict)
    assessment_only_if_unresolved: bool = True
    list_for_surgery: dict[Need, Probability] = Field(default_factory=dict)
    decision_at_followup_share: Probability = 0.0
    """Share of first attendances (not triage, not rehabilitation) whose decision waits for a
    follow-up ``followup_interval_days`` later (tests, results, a trial of time): the RTT
    clock runs on to it, and listing or treatment start there."""
    procedure_share: Probability = 0.0
    """Of the patients whose treatment starts here after assessment (not listed for surgery),
    the share whose first treatment is a day-case procedure on the theatre list (an injection
    under image guidance, a manipulation under anaesthesia): it waits on the surgical list,
    takes ``surgery.procedure_slots``, stops the RTT clock as an *admitted* pathway, and the
    course goes on here after it. Not an operation: no listing for surgery, no bed."""
    tariff_first: Money = 0.0
    tariff_followup: Money = 0.0
    diagnostics_per_first: Money = 0.0
    tests: dict[str, Probability] = Field(default_factory=dict)
    """Diagnostic services (stages of kind ``diagnostic``) and the share of first attendances that
    order a test there, unless the patient has had it already; the decision then waits for the
    test and a follow-up here ``followup_interval_days`` after it, the RTT clock running on."""
    advice_and_guidance_share: Probability = 0.0
    """Share of referrals without surgical need answered by advice to the GP, no appointment."""
    tariff_advice_and_guidance: Money = 0.0
    """Price of a referral answered by advice and guidance."""
    advice_and_guidance_return_share: Probability = 0.0
    """Of the patients advice and guidance resolved, the share who come back later: the GP refers
    them again after the GP's wait."""
    pifu_share: Probability = 0.0
    """Share of follow-ups replaced by patient-initiated follow-up."""
    pifu_return_rate: Probability = 0.3
    """Of those, the share of patients who do come back."""
    overflow_to: str | None = None
    """A service (e.g. the independent sector) that takes routine patients waiting too long here."""
    overflow_after_weeks: float = Field(18.0, gt=0.0)
    removal_rate_per_week: RemovalRate = 0.0
    """Removals without treatment: recovered, gone elsewhere or removed at validation."""
    stale_share: Probability = 0.0
    """Share of those referred here whose pathway is stale: never offered a slot (treated
    elsewhere, moved away, recovered, not reachable), it stays on the list, clock running,
    until validation takes it off at ``stale_removal_rate_per_week``."""
    stale_removal_rate_per_week: RemovalRate = 0.0
    """Share of the stale pathways still on the list that validation takes off each week."""

    _removals = field_validator("removal_rate_per_week", "stale_removal_rate_per_week")(_check_removals)
    _stale = model_validator(mode="after")(_check_stale)
    _staffed = model_validator(mode="before")(_slots_from_staff)

    @model_validator(mode="after")
    def _function(self) -> Stage:
        if self.treatment_function is not None and not self.consultant_led:
            raise ValueError("treatment_function is for consultant-led services only (RTT returns cover no other)")
        if self.procedure_share and self.kind != "clinic":
            raise ValueError(f"procedure_share is for clinics; a {self.kind} service gives no day-case procedures")
        return self

    def contacts(self, need: str) -> float:
        """Contacts of a course for a patient of this need."""
        return self.contacts_per_episode_by_need.get(need, self.contacts_per_episode)  # type: ignore[call-overload]

    @property
    def rtt_function(self) -> str | None:
        """The treatment function its RTT pathways report under; None when not consultant-led."""
        return (self.treatment_function or OTHER_FUNCTION) if self.consultant_led else None

    @property
    def costed(self) -> bool:
        """Whether what it costs its provider is given (staff costs or unit costs)."""
        return bool(self.cost_per_slot_gbp or self.cost_per_contact_gbp or any(s.cost_per_wte_gbp for s in self.staff))

    @property
    def surgical(self) -> bool:
        """Whether this clinic can list patients for surgery."""
        return any(p > 0 for p in self.list_for_surgery.values())


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

    _removals = field_validator("removal_rate_per_week")(_check_removals)
    _staffed = model_validator(mode="before")(_slots_from_staff)

    @model_validator(mode="after")
    def _overflow_both(self) -> Surgery:
        if (self.overflow_after_weeks is None) != (self.overflow_provider is None):
            raise ValueError("overflow_after_weeks and overflow_provider go together: give both, or neither")
        return self

    @property
    def costed(self) -> bool:
        """Whether what it costs its provider is given (staff costs or unit costs)."""
        return bool(self.cost_per_slot_gbp or self.cost_per_operation_gbp or any(s.cost_per_wte_gbp for s in self.staff))


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
        return {need: _check_row(row, f"row '{need}'") for need, row in v.items()}


class Mobilisation(Strict):
    """How a design that takes over from another (``inherits``) reaches full strength.

    Over the first ``months`` after the switch, the capacity of ``services`` (default: those
    the inherited design did not have; ``theatre`` may be named) rises in a straight line
    from ``capacity_from`` of its planned slots to all of them, and the share of triage
    decisions made on the patient's need rises from ``triage_accuracy_from`` to 1: the
    others route the patient as the average referral would be routed, blind to their need.

    ``cost_gbp`` is the one-off cost of mobilising (recruiting and training the new teams, IT,
    estates, running beside the old services while patients move): charged in year 1 of a
    prime contract, on top of ``finance.prime_contract.mobilisation_gbp``, only when the
    design takes over (a steady-state run has nothing to mobilise).
    """

    months: int = Field(6, ge=1, le=60)
    capacity_from: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    triage_accuracy_from: Probability = 1.0
    services: list[str] | None = None
    cost_gbp: Money = 0.0


class CapacityBasis(Strict):
    """The demand a design's capacities were fitted at, and whether they follow demand.

    A design fitted to one era's returns (Bedfordshire's 2009/10 system) and carried forward
    to another: its services' slots (``services``; default those whose capacity the design's
    ``stage_overrides`` set, the theatre included) were fitted for ``referrals_per_year``.
    With ``follows = "demand"`` they are scaled by the scenario's referrals over that, and grow
    with ``demand.growth`` from each contract year's start, as a commissioner keeping up with
    demand would buy; with ``follows = "fitted"`` they are held as fitted.
    """

    referrals_per_year: Annotated[float, Field(gt=0.0, le=10_000_000)]
    follows: Literal["demand", "fitted"] = "demand"
    services: list[str] | None = None


class Structure(Strict):
    """One explanation of a design's waits that its returns cannot tell from another.

    Where the published returns do not tell a service's capacity, its waits fit as well with a
    list that is a queue at a load near 1 as with a clinic below its capacity whose waits are
    booking delays; the two answer a capacity question very differently. A structure holds one
    explanation's fitted values (``stage_overrides``, over the design's own), and ``why`` says
    what it assumes. ``msksim calibrate`` writes them; commands run a design under each.
    """

    why: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    fitted_to: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    stage_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)


MERGED = ("capacity_policy",)
"""Tables of a service an override sets key by key: what it leaves out stays as it was."""


def over(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A service's settings (or an override) with ``extra`` set over them: its keys replace
    ``base``'s, but for the tables of :data:`MERGED`, which it sets key by key."""
    out = {**base, **extra}
    for key in MERGED:
        if isinstance(extra.get(key), dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **extra[key]}
    return out


class Design(Strict):
    """One way of organising the pathway.

    ``inherits`` names the design it takes over from: the warm-up runs under that design and
    at the contract start its patients carry over, keeping their places on the lists of the
    services this design also runs, and their RTT clocks (``sim.model.switchover``).
    """

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
    inherits: str | None = None
    mobilisation: Mobilisation | None = None
    capacity_basis: CapacityBasis | None = None
    based_on: str | None = None
    """The design whose keys this one starts from (merged when the file is read: what it sets
    wins, and ``[uncertainty]`` draws on the other's keys are shared with it)."""
    structures: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Structure] = Field(default_factory=dict)
    """Explanations of the design's waits the returns cannot tell apart (:class:`Structure`),
    the preferred first."""
    structure: str = ""
    """The structure simulated (empty: the first of :attr:`structures`)."""
    fitted_to: str = ""
    """What the design's waits and activity were fitted to (returns and months), for the record and
    so a comparison says when a fitted design is set beside one that is not; empty when not fitted.
    A design ``based_on`` another does not inherit it: its changes are not what was fitted."""
    triage_hospital_shift: Probability = 0.0
    """Of the referrals a triage row sends to a community clinic (a clinic not in hospital), the
    share sent to that row's hospital clinics instead, in proportion to their shares (rows with
    none are left alone): a triage that keeps fewer out of hospital than its rows claim."""

    def carried_services(self) -> list[str]:
        """The services (and ``theatre``) whose capacity follows :attr:`capacity_basis`."""
        basis = self.capacity_basis
        if basis is None:
            return []
        if basis.services is not None:
            return list(basis.services)
        return [n for n, o in self.overrides().items() if "slots_per_week" in o or "staff" in o]

    @property
    def active_structure(self) -> str:
        """The structure simulated: the one named by :attr:`structure`, else the first (empty: none)."""
        return self.structure or next(iter(self.structures), "")

    def overrides(self) -> dict[str, dict[str, Any]]:
        """The design's ``stage_overrides`` with its active structure's set over them."""
        structure = self.structures.get(self.active_structure)
        if structure is None or not structure.stage_overrides:
            return self.stage_overrides
        out = {name: dict(o) for name, o in self.stage_overrides.items()}
        for name, o in structure.stage_overrides.items():
            out[name] = over(out.get(name, {}), o)
        return out

    def override_key(self, design: str, place: str, leaf: str) -> str | None:
        """The key path that sets ``leaf`` of ``place`` in this design (named ``design``): the
        active structure's where it sets it, else the design's own override; None for neither."""
        structure = self.structures.get(self.active_structure)
        if structure is not None and leaf in structure.stage_overrides.get(place, {}):
            return f"designs.{design}.structures.{self.active_structure}.stage_overrides.{place}.{leaf}"
        if leaf in self.stage_overrides.get(place, {}):
            return f"designs.{design}.stage_overrides.{place}.{leaf}"
        return None

    @field_validator("structure")
    @classmethod
    def _known_structure(cls, v: str, info: ValidationInfo) -> str:
        structures = info.data.get("structures", {})
        if v and v not in structures:
            known = ", ".join(structures) or "it has none"
            raise ValueError(f"structure '{v}' is not one of the design's structures ({known})")
        return v

    @model_validator(mode="before")
    @classmethod
    def _no_clock(cls, data: Any) -> Any:
        if isinstance(data, dict) and "clock" in data:
            raise ValueError(
                "'clock' is no longer a setting: every design follows the national RTT rules "
                "(docs/model.md, 'The RTT clock'); delete the key"
            )
        return data

    @field_validator("routing", "onward")
    @classmethod
    def _rows(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {need: _check_row(row, f"row '{need}'") for need, row in v.items()}


YearlyShare = Probability | Annotated[list[Probability], Field(min_length=1, max_length=50)]
"""A share of the contract value: one for every year, or one per contract year (the last
holds for any year after the list ends)."""


def share_in_year(share: float | list[float], year: int) -> float:
    """A :data:`YearlyShare` in one contract year (1 is the first)."""
    if isinstance(share, list):
        return float(share[min(year, len(share)) - 1])
    return float(share)


class Provider(Strict):
    """How a provider is paid: by the commissioner (fragmented) and by a prime contractor.

    ``prices_follow`` says how its prices (tariffs, its block sum, what a prime pays it) move
    after year 1: with the national tariff (``finance.inflation.tariff``) or with its own
    costs (``finance.inflation.pay`` and ``non_pay``), as for services run at cost.
    """

    payment: Literal["tariff", "block"] = "tariff"
    block_gbp: Money = 0.0
    prime_cost_share: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    prices_follow: Literal["tariff", "costs"] = "tariff"
    overheads_gbp: Money = 0.0
    """Its fixed costs a year beyond its services' staff and slots (management, estates)."""
    integrator_pays: Literal["tariff_share", "costs"] = "tariff_share"
    """What an integrator pays it: ``prime_cost_share`` of tariff, or its costs (staff, slots,
    contacts and overheads), as for services an integrator runs itself."""


Rate = Annotated[float, Field(ge=-0.5, le=1.0)]
YearlyRate = Rate | Annotated[list[Rate], Field(min_length=1, max_length=50)]
"""A change a year: one rate for every year, or a list whose first entry is the change from
contract year 1 to year 2, the next from year 2 to 3, and so on (the last holds after)."""


def rate_index(rate: float | list[float], year: int) -> float:
    """Prices in contract ``year`` relative to year 1, given a :data:`YearlyRate`."""
    index = 1.0
    for step in range(1, year):
        index *= 1.0 + share_in_year(rate, step)
    return index


class Inflation(Strict):
    """How prices move after the contract's first year (the scenario's prices are year 1's).

    Pay and non-pay inflation move the costs of what is run at cost (providers whose
    ``prices_follow = "costs"``, the prime's overheads, GP consultations); ``tariff`` is the
    net change in national tariff prices (cost uplift less the efficiency factor), which moves
    tariff-paid activity and block sums. The contract's ``escalator`` is set against them.
    """

    pay: YearlyRate = 0.0
    non_pay: YearlyRate = 0.0
    pay_share: Probability = 0.7
    """Share of a service's own costs that are pay (staff)."""
    tariff: YearlyRate = 0.0

    def cost_index(self, year: int) -> float:
        """Costs in ``year`` relative to year 1: pay and non-pay, weighted."""
        index = 1.0
        for step in range(1, year):
            pay, other = share_in_year(self.pay, step), share_in_year(self.non_pay, step)
            index *= 1.0 + self.pay_share * pay + (1.0 - self.pay_share) * other
        return index

    def tariff_index(self, year: int) -> float:
        """National tariff prices in ``year`` relative to year 1."""
        return rate_index(self.tariff, year)


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


GREEN_BOOK_RATE = 0.035
"""HM Treasury Green Book social time preference rate: the default discount rate."""


class Finance(Strict):
    """Who is paid what, how prices move, and how later years are discounted.

    ``discount_rate`` turns each contract year's money into a net present value: year 1 is
    not discounted, year ``y`` by ``(1 + rate) ** (y - 1)``.
    """

    providers: dict[str, Provider]
    inflation: Inflation = Field(default_factory=Inflation)
    discount_rate: Annotated[float, Field(ge=0.0, le=0.5)] = GREEN_BOOK_RATE
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


ServiceT = TypeVar("ServiceT", Stage, Surgery)


class Scenario(Strict):
    """A whole scenario: population, demand, services, designs, money and run settings."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    """Letters, digits, ``-`` and ``_`` (it names the results folder)."""
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    population: int = Field(ge=1, le=100_000_000)
    run: RunSettings = Field(default_factory=RunSettings)
    calendar: Calendar = Field(default_factory=Calendar)
    demand: Demand
    stages: dict[str, Stage] = Field(min_length=1, max_length=MAX_SERVICES)
    surgery: Surgery
    gp: GP
    designs: dict[str, Design] = Field(min_length=1)
    choices: dict[str, dict[str, Probability]] = Field(default_factory=dict)
    """Patient choice between providers: a routing destination that stands for several services."""
    finance: Finance
    uncertainty: dict[str, dict[str, Any]] = Field(default_factory=dict)
    backlog: Backlog | None = None

    @property
    def counts_outside_contract(self) -> bool:
        """Whether runs count care outside the contract apart (result columns and money): when
        it is referred, or its volume is drawn per replication (a draw may then be 0)."""
        if self.demand.outside_contract.per_year > 0:
            return True
        return any(OUTSIDE_CONTRACT_PER_YEAR in (key, *entry.get("also", [])) for key, entry in self.uncertainty.items())

    def capacity_policy(self, design: str, place: str) -> CapacityPolicy:
        """The policy ``place`` (a service or ``theatre``) follows in ``design``: fixed when
        ``run.capacity_policies`` holds every one fixed."""
        if self.run.capacity_policies == "fixed":
            return CapacityPolicy()
        if place == THEATRE:
            return self.design_surgery(design).capacity_policy
        return self.design_stages(design)[place].capacity_policy

    @property
    def capacity_policies_act(self) -> bool:
        """Whether any design's service or theatre has a policy other than ``fixed``: runs then
        count the sessions and slots added."""
        return any(self.capacity_policy(d, place).acts for d, cfg in self.designs.items() for place in [*cfg.services, THEATRE])

    def design_stages(self, design: str) -> dict[str, Stage]:
        """The stages a design commissions, with its overrides applied."""
        d = self.designs[design]
        carried = self._carried_factors(design)
        out = {}
        overrides = d.overrides()
        for name in d.services:
            base = self.stages[name]
            extra = overrides.get(name)
            if extra and "staff" in extra:  # new staff give new slots: validated, so they are derived again
                kept = base.model_dump(exclude={"slots_per_week"} if "slots_per_week" not in extra else set())
                out[name] = Stage.model_validate(over(kept, extra))
            elif extra and any(isinstance(v, list | dict) for v in extra.values()):  # tables in it are validated
                out[name] = Stage.model_validate(over(base.model_dump(), extra))
            else:
                out[name] = base.model_copy(update=extra) if extra else base
            if name in carried:
                out[name] = self._carried(out[name], carried[name])
        return out

    def carried_factor(self, design: str, place: str) -> float:
        """The factor a design's capacity basis puts on the slots ``place`` is given (1: none): a
        value set for it is simulated times this."""
        return self._carried_factors(design).get(place, 1.0)

    def _carried_factors(self, design: str) -> dict[str, float]:
        """Per service whose capacity follows the design's basis: the factor on its fitted slots."""
        d = self.designs[design]
        basis = d.capacity_basis
        if basis is None or basis.follows == "fitted":
            return {}
        factor = self.demand.referrals_per_year / basis.referrals_per_year
        return dict.fromkeys(d.carried_services(), factor)

    def _carried(self, service: ServiceT, factor: float) -> ServiceT:
        """A service with its slots (and staff) scaled by ``factor`` and, from each later
        contract year's start, by the demand growth too (as the referrals grow)."""
        slots = service.slots_per_week * factor
        start, growth = self.run.start_date, self.demand.growth
        changes = [
            CapacityChange(from_date=start.replace(year=start.year + y), slots_per_week=slots * (1.0 + growth) ** y)
            for y in range(1, self.run.years)
        ]
        staff = [g.model_copy(update={"wte": g.wte * factor}) for g in service.staff]
        return service.model_copy(update={"slots_per_week": slots, "staff": staff, "capacity_changes": changes})

    def design_finance(self, design: str) -> Finance:
        """The money terms ``design`` is settled on: the scenario's, with the cost of its
        mobilisation (``designs.<design>.mobilisation.cost_gbp``) added to the prime contract's
        year-1 mobilisation when the design takes over from another (``inherits``)."""
        d, finance = self.designs[design], self.finance
        cost = d.mobilisation.cost_gbp if d.inherits is not None and d.mobilisation is not None else 0.0
        if not cost or finance.prime_contract is None:
            return finance
        terms = finance.prime_contract
        terms = terms.model_copy(update={"mobilisation_gbp": terms.mobilisation_gbp + cost})
        return finance.model_copy(update={"prime_contract": terms})

    def own_designs(self) -> list[str]:
        """The designs not written as changes to another (``based_on``): where a command that
        works on one design by default picks its last."""
        return [n for n, d in self.designs.items() if d.based_on is None]

    def structure_names(self, designs: list[str] | None = None) -> list[str]:
        """The structures of ``designs`` (default all), each name once, in the order given."""
        chosen = self.designs if designs is None else designs
        return list(dict.fromkeys(n for d in chosen if d in self.designs for n in self.designs[d].structures))

    def with_structure(self, name: str) -> Scenario:
        """The scenario with every design that has structure ``name`` simulating it."""
        designs = {
            d: cfg.model_copy(update={"structure": name}) if name in cfg.structures else cfg for d, cfg in self.designs.items()
        }
        return self.model_copy(update={"designs": designs})

    def capacity_key(self, design: str, place: str, leaf: str = "slots_per_week") -> str:
        """The key path that sets ``leaf`` of a service (or the theatre) as ``design`` runs it:
        its active structure's, its own override, or the shared service's."""
        key = self.designs[design].override_key(design, place, leaf)
        return key or (f"surgery.{leaf}" if place == THEATRE else f"stages.{place}.{leaf}")

    def unfitted_beside_fitted(self, designs: list[str]) -> str | None:
        """A warning when some of ``designs`` are fitted to returns (``fitted_to``) and others are not."""
        fitted = {d: self.designs[d].fitted_to for d in dict.fromkeys(designs) if d in self.designs}
        bare = [d for d, f in fitted.items() if not f]
        if not bare or len(bare) == len(fitted):
            return None
        done = "; ".join(f"{d} to {f}" for d, f in fitted.items() if f)
        one = len(bare) == 1
        return (
            f"{', '.join(bare)} {'is' if one else 'are'} not fitted to any returns, set beside designs that are "
            f"({done}): differences from {'it' if one else 'them'} are partly assumption, not data"
        )

    def design_routing(self, design: str) -> dict[str, dict[str, float]]:
        """A design's triage rows, with its ``triage_hospital_shift`` applied."""
        d = self.designs[design]
        shift = d.triage_hospital_shift
        if not shift or not d.routing:
            return d.routing
        hospital = {n for n, st in self.stages.items() if st.hospital}
        community = {n for n, st in self.stages.items() if st.kind == "clinic" and not st.hospital}
        out = {}
        for need, row in d.routing.items():
            to_hospital = sum(p for k, p in row.items() if k in hospital)
            moved = shift * sum(p for k, p in row.items() if k in community)
            if to_hospital <= 0 or moved <= 0:
                out[need] = row
                continue
            out[need] = {
                k: p * (1.0 - shift) if k in community else p + moved * p / to_hospital if k in hospital else p
                for k, p in row.items()
            }
        return out

    def design_services(self, design: str) -> dict[str, Stage | Surgery]:
        """A design's services and its theatre (``theatre``), as it commissions them."""
        return {**self.design_stages(design), THEATRE: self.design_surgery(design)}

    def costed_providers(self, design: str) -> list[str]:
        """The providers of a design whose costs are given (a service with staff or unit costs,
        or overheads of their own), in the order their services come."""
        out: list[str] = []
        for service in self.design_services(design).values():
            p = service.provider
            if p not in out and (service.costed or self.finance.providers[p].overheads_gbp):
                out.append(p)
        return out

    def design_elements(self, design: str) -> dict[str, str]:
        """What a design pays for, service by service and the theatre, with who provides each."""
        out = {name: stage.provider for name, stage in self.design_stages(design).items()}
        surgery = self.design_surgery(design)
        out[THEATRE] = surgery.provider
        if surgery.overflow_provider is not None:
            out[THEATRE_OVERFLOW] = surgery.overflow_provider
        return out

    def contract_terms(self, design: str) -> PrimeContract | TariffShare | None:
        """The integrator's terms a design is paid under; None for a design paid by activity."""
        payment = self.designs[design].payment
        return None if payment == "activity" else getattr(self.finance, payment)

    def in_scope(self, design: str) -> dict[str, bool]:
        """For each of a design's elements, whether its integrator is paid for it (all are, with none)."""
        terms = self.contract_terms(design)
        scope = None if terms is None else terms.scope
        # operations overflowing to another provider are the theatre's, for the contract's scope
        return {
            e: terms is not None and (scope is None or (THEATRE if e == THEATRE_OVERFLOW else e) in scope)
            for e in self.design_elements(design)
        }

    def design_surgery(self, design: str | None) -> Surgery:
        """The theatre as a design commissions it (``stage_overrides.theatre``)."""
        extra = self.designs[design].overrides().get(THEATRE) if design is not None else None
        factor = self._carried_factors(design).get(THEATRE) if design is not None else None
        if not extra and factor is None:
            return self.surgery
        kept = self.surgery.model_dump(
            exclude={"slots_per_week"} if extra and "staff" in extra and "slots_per_week" not in extra else set()
        )
        surgery = Surgery.model_validate(over(kept, extra or {}))
        return surgery if factor is None else self._carried(surgery, factor)


def onward_row(row: dict[str, float], origin: str) -> dict[str, float]:
    """An onward-referral row as seen from ``origin``: a service does not refer to itself.

    The remaining destinations keep their relative weights; a row that names only the
    origin is kept as it is.
    """
    rest = {k: p for k, p in row.items() if k != origin and p > 0}
    total = sum(rest.values())
    return {k: p / total for k, p in rest.items()} if total > 0 else dict(row)
