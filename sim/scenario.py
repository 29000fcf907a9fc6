"""Scenario files: schema, loading, ``extends`` and ``--set`` overrides.

A scenario is TOML, read with the standard library and validated once, centrally, into
frozen pydantic objects before any model is built. Every problem is reported as a
:class:`ScenarioError` naming the file, the key path and what is wrong.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import math
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

NEEDS: tuple[str, ...] = ("self_management", "physio", "specialist", "surgical")
"""Latent clinical need, the hidden truth that routing decisions try to match."""

ADVICE = "advice"
"""Pseudo-destination: advice and supported self-management, no appointment needed."""

THEATRE = "theatre"
"""The surgical list's place name: in backlogs, reduced periods, results columns and flows."""

Need = Literal["self_management", "physio", "specialist", "surgical"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
ROW_TOLERANCE = 1e-6


class ScenarioError(ValueError):
    """A scenario that cannot be used, with where and why."""

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class Strict(BaseModel):
    """Base for scenario sections: unknown keys are errors, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_row(row: dict[str, float], what: str) -> dict[str, float]:
    total = sum(row.values())
    if abs(total - 1.0) > ROW_TOLERANCE:
        raise ValueError(f"{what} must sum to 1, got {total:.6g}")
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

    per_year: NonNegative = 0.0
    stage: str = "physio"
    need: dict[Need, Probability] = Field(default_factory=lambda: {"self_management": 0.35, "physio": 0.6, "specialist": 0.05})

    @field_validator("need")
    @classmethod
    def _need_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_row(v, "self-referral need mix")


class Demand(Strict):
    """Referrals: volume, growth, seasonality, priority and case mix."""

    referrals_per_year: NonNegative
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
    slots_per_week: NonNegative


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
    hospital: bool = False
    slots_per_week: NonNegative
    working_days: int = Field(5, ge=1, le=7)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    booking_lead_days: int = Field(0, ge=0, le=365)
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
    tariff_first: NonNegative = 0.0
    tariff_followup: NonNegative = 0.0
    diagnostics_per_first: NonNegative = 0.0
    advice_and_guidance_share: Probability = 0.0
    """Share of referrals without surgical need answered by advice to the GP, no appointment."""
    pifu_share: Probability = 0.0
    """Share of follow-ups replaced by patient-initiated follow-up."""
    pifu_return_rate: Probability = 0.3
    """Of those, the share of patients who do come back."""
    overflow_to: str | None = None
    """A service (e.g. the independent sector) that takes routine patients waiting too long here."""
    overflow_after_weeks: float = Field(18.0, gt=0.0)

    @property
    def surgical(self) -> bool:
        """Whether this clinic can list patients for surgery."""
        return any(p > 0 for p in self.list_for_surgery.values())


class Surgery(Strict):
    """Theatre lists and beds, shared by the surgical clinics of a design."""

    provider: str
    slots_per_week: NonNegative
    working_days: int = Field(5, ge=1, le=7)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    booking_lead_days: int = Field(0, ge=0, le=365)
    joint_replacement_slots: float = Field(2.5, gt=0.0)
    inpatient_slots: float = Field(1.5, gt=0.0)
    daycase_share: Probability = 0.8
    beds: int = Field(ge=0)
    los_joint_days: float = Field(5.5, ge=1.0)
    los_other_days: float = Field(2.0, ge=1.0)
    postop_followups: float = Field(1.0, ge=0.0)
    postop_followup_days: int = Field(42, ge=1)
    rehab_stage: str = "physio"
    rehab_share_joint: Probability = 0.9
    rehab_share_other: Probability = 0.3
    cancellation_rate: Probability = 0.0
    priority_shares: dict[Literal["P1", "P2", "P3", "P4"], Probability] = Field(default_factory=dict)
    """Surgical priority categories (P1 most urgent); lists are worked in category order."""
    tariff_joint_replacement: NonNegative = 0.0
    tariff_other_daycase: NonNegative = 0.0
    tariff_other_inpatient: NonNegative = 0.0


class GP(Strict):
    """General practice: the referral decision and, in the fragmented design, the loop back."""

    referral: dict[Need, dict[str, Probability]]
    rereferral: dict[Need, dict[str, Probability]]
    wait_days: float = Field(14.0, ge=1.0)
    max_referrals: int = Field(5, ge=1, le=20)
    consultation_cost: NonNegative = 45.0

    @field_validator("referral", "rereferral")
    @classmethod
    def _rows(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {need: _check_row(row, f"row '{need}'") for need, row in v.items()}


class Design(Strict):
    """One way of organising the pathway."""

    services: list[str] = Field(min_length=1)
    entry: str = "gp"
    unresolved: Literal["gp", "onward"] = "gp"
    clock: Literal["referral", "pathway"] = "referral"
    payment: Literal["activity", "prime_contract", "tariff_share"] = "activity"
    routing: dict[Need, dict[str, Probability]] = Field(default_factory=dict)
    onward: dict[Need, dict[str, Probability]] = Field(default_factory=dict)
    onward_delay_days: int = Field(2, ge=0)
    advice_return_days: int = Field(56, ge=1)
    max_onward: int = Field(4, ge=1, le=20)
    stage_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("routing", "onward")
    @classmethod
    def _rows(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {need: _check_row(row, f"row '{need}'") for need, row in v.items()}


class Provider(Strict):
    """How a provider is paid: by the commissioner (fragmented) and by a prime contractor."""

    payment: Literal["tariff", "block"] = "tariff"
    block_gbp: NonNegative = 0.0
    prime_cost_share: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0


class PrimeContract(Strict):
    """A capitated prime contract (Bedfordshire terms by default)."""

    year1_value_gbp: NonNegative
    escalator: float = Field(0.013, ge=-0.2, le=0.5)
    upfront_share: Probability = 0.95
    management_share: Probability = 0.025
    quality_share: Probability = 0.025
    retained_surplus_share: Probability = 0.05
    commissioner_surplus_split: Probability = 0.5
    overheads_gbp: NonNegative = 0.0
    mobilisation_gbp: NonNegative = 0.0
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
    overheads_gbp: NonNegative = 0.0
    quality_rtt_target_pct: Annotated[float, Field(ge=0.0, le=100.0)] = 92.0
    quality_diversion_target_pct: Annotated[float, Field(ge=0.0, le=100.0)] = 40.0
    quality_followup_ratio_max: NonNegative = 2.0


class Finance(Strict):
    """Who is paid what."""

    providers: dict[str, Provider]
    prime_contract: PrimeContract | None = None
    tariff_share: TariffShare | None = None


class Backlog(Strict):
    """Patients already waiting when the run starts: a CSV file, or counts by weeks-waited band."""

    file: str | None = None
    stages: dict[str, dict[str, Annotated[int, Field(ge=0)]]] = Field(default_factory=dict)
    patients: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    """Rows read from ``file`` when the scenario is loaded (not written back)."""


class Scenario(Strict):
    """A whole scenario: population, demand, services, designs, money and run settings."""

    name: str
    description: str = ""
    population: int = Field(ge=1)
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


class _KeyError(ValueError):
    def __init__(self, key: str, problem: str):
        super().__init__(problem)
        self.key = key


def _cross_check(s: Scenario) -> None:
    """Checks that need more than one section: routes, providers, rows per need."""
    stage_names = set(s.stages)
    places = stage_names | set(s.choices)
    check_matrix = functools.partial(_check_matrix, known=places)
    for cname, row in s.choices.items():
        where = f"choices.{cname}"
        if cname in stage_names or cname == ADVICE:
            raise _KeyError(where, f"'{cname}' is already the name of a stage")
        if abs(sum(row.values()) - 1) > ROW_TOLERANCE:
            raise _KeyError(where, f"shares must sum to 1, got {sum(row.values()):.6g}")
        for option in row:
            if option not in stage_names:
                raise _KeyError(f"{where}.{option}", _unknown(option, stage_names, "stage"))
    for name, st in s.stages.items():
        if st.overflow_to is not None and st.overflow_to not in stage_names:
            raise _KeyError(f"stages.{name}.overflow_to", _unknown(st.overflow_to, stage_names, "stage"))
    sr = s.demand.self_referral
    if sr.per_year > 0 and sr.stage not in stage_names:
        raise _KeyError("demand.self_referral.stage", _unknown(sr.stage, stage_names, "stage"))
    for which, matrix in (("gp.referral", s.gp.referral), ("gp.rereferral", s.gp.rereferral)):
        check_matrix(which, matrix, stage_names | set(s.choices), allow_advice=False)
    for name, st in s.stages.items():
        if st.provider not in s.finance.providers:
            raise _KeyError(f"stages.{name}.provider", f"provider '{st.provider}' is not in finance.providers")
    for i, period in enumerate(s.calendar.reduced):
        for j, name in enumerate(period.stages):
            if name not in stage_names and name != "theatre":
                raise _KeyError(f"calendar.reduced[{i}].stages[{j}]", _unknown(name, {*stage_names, "theatre"}, "stage"))
    used = {st.provider for st in s.stages.values()} | {s.surgery.provider}
    used |= {o["provider"] for d in s.designs.values() for o in d.stage_overrides.values() if "provider" in o}
    for pname in s.finance.providers:
        if pname not in used:
            close = difflib.get_close_matches(pname, sorted(used), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise _KeyError(f"finance.providers.{pname}", f"no stage or theatre is run by provider '{pname}'{hint}")
    if s.surgery.provider not in s.finance.providers:
        raise _KeyError("surgery.provider", f"provider '{s.surgery.provider}' is not in finance.providers")
    if s.surgery.rehab_stage not in stage_names:
        raise _KeyError("surgery.rehab_stage", f"stage '{s.surgery.rehab_stage}' does not exist")
    for dname, d in s.designs.items():
        base = f"designs.{dname}"
        for i, svc in enumerate(d.services):
            if svc not in stage_names:
                raise _KeyError(f"{base}.services[{i}]", _unknown(svc, stage_names, "stage"))
        services = set(d.services)
        offered = services | {c for c, row in s.choices.items() if all(o in services for o, p in row.items() if p > 0)}
        for sname in d.services:
            target = s.stages[sname].overflow_to
            if target is not None and target not in services:
                raise _KeyError(f"stages.{sname}.overflow_to", f"'{target}' is not a service of design '{dname}'")
        if sr.per_year > 0 and sr.stage not in services:
            raise _KeyError("demand.self_referral.stage", f"'{sr.stage}' is not a service of design '{dname}'")
        if d.entry == "gp":
            check_matrix("gp.referral", s.gp.referral, offered, allow_advice=False, design=dname)
        elif d.entry not in services:
            raise _KeyError(f"{base}.entry", _unknown(d.entry, services, "service of this design"))
        else:
            if s.stages[d.entry].kind != "triage":
                raise _KeyError(f"{base}.entry", f"entry stage '{d.entry}' must be of kind 'triage'")
            check_matrix(f"{base}.routing", d.routing, offered, allow_advice=True)
        if d.unresolved == "gp":
            check_matrix("gp.rereferral", s.gp.rereferral, offered, allow_advice=False, design=dname)
        else:
            check_matrix(f"{base}.onward", d.onward, offered, allow_advice=True)
        if s.surgery.rehab_stage not in services:
            raise _KeyError("surgery.rehab_stage", f"stage '{s.surgery.rehab_stage}' is not a service of design '{dname}'")
        for sname, ovr in d.stage_overrides.items():
            if sname not in services:
                raise _KeyError(f"{base}.stage_overrides.{sname}", _unknown(sname, services, "service of this design"))
            try:
                Stage.model_validate({**s.stages[sname].model_dump(), **ovr})
            except ValidationError as e:
                err = e.errors()[0]
                loc = ".".join(str(x) for x in err["loc"])
                raise _KeyError(f"{base}.stage_overrides.{sname}.{loc}", _pydantic_problem(err)) from None
    for dname, d in s.designs.items():
        if d.payment != "activity" and getattr(s.finance, d.payment) is None:
            raise _KeyError(f"finance.{d.payment}", f"design '{dname}' is paid by {d.payment} but finance.{d.payment} is missing")


def _check_matrix(
    where: str,
    matrix: dict[str, dict[str, float]],
    allowed: set[str],
    *,
    allow_advice: bool,
    design: str | None = None,
    known: set[str] | None = None,
) -> None:
    """Every need has a row; every destination exists (a name no stage has is a typo even at
    probability 0) and, where it is used, is a service the design commissions."""
    for need in NEEDS:
        if need not in matrix:
            raise _KeyError(f"{where}.{need}", "missing routing row for this latent need")
    for need, row in matrix.items():
        for dest, p in row.items():
            ok = dest in allowed or (allow_advice and dest == ADVICE)
            if known is not None and dest not in known and dest != ADVICE:
                raise _KeyError(f"{where}.{need}.{dest}", _unknown(dest, known, "stage"))
            if not ok and p > 0:
                what = f"service of design '{design}'" if design else "stage"
                raise _KeyError(f"{where}.{need}.{dest}", _unknown(dest, allowed, what))


def onward_row(row: dict[str, float], origin: str) -> dict[str, float]:
    """An onward-referral row as seen from ``origin``: a service does not refer to itself.

    The remaining destinations keep their relative weights; a row that names only the
    origin is kept as it is.
    """
    rest = {k: p for k, p in row.items() if k != origin and p > 0}
    total = sum(rest.values())
    return {k: p / total for k, p in rest.items()} if total > 0 else dict(row)


def _unknown(name: str, known: set[str], what: str) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"'{name}' is not a known {what}{hint}; known: {', '.join(sorted(known))}"


# --------------------------------------------------------------------------- loading


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, merge (``extends``), override (``--set``) and validate a scenario file.

    Parameters
    ----------
    path
        The TOML file.
    overrides
        ``KEY=VALUE`` strings; ``VALUE`` is read as TOML, or as a plain string when it is not.

    Raises
    ------
    ScenarioError
        Naming the file (or ``--set``), the key path and the problem.
    """
    path = Path(path)
    raw = _read_with_extends(path, seen=())
    _resolve_backlog_file(raw, path.parent)
    set_keys: set[str] = set()
    for item in overrides or []:
        key, value = parse_override(item)
        _assign(raw, key, value)
        set_keys.add(key)
    if any(k.startswith("backlog") for k in set_keys):
        _resolve_backlog_file(raw, Path.cwd())
    return validate_raw(raw, str(path), set_keys)


def _resolve_backlog_file(raw: dict[str, Any], base: Path) -> None:
    """A relative backlog file is relative to the scenario that names it (or, from --set, to here)."""
    b = raw.get("backlog")
    if isinstance(b, dict) and isinstance(b.get("file"), str) and not Path(b["file"]).is_absolute():
        b["file"] = str((base / b["file"]).resolve())


def validate_raw(raw: dict[str, Any], source: str, set_keys: set[str] | None = None, how: str | None = "--set") -> Scenario:
    """Validate an already-merged dictionary, turning every problem into a ScenarioError.

    ``set_keys`` are the key paths given a value by hand (``--set``, a grid point, a draw):
    an error at one of them names it (``how``, e.g. ``--set``), and a value fixed by hand is
    no longer uncertain, so its ``[uncertainty]`` entry is dropped.
    """
    set_keys = set_keys or set()
    if set_keys and isinstance(raw.get("uncertainty"), dict):
        raw = {**raw, "uncertainty": fix_uncertain(raw["uncertainty"], set_keys)}
    try:
        scenario = Scenario.model_validate(raw)
        _cross_check(scenario)  # here, not in a validator, so the error keeps its key path
        if scenario.backlog is not None:
            scenario = _with_backlog(scenario, source)
        if scenario.uncertainty:
            from sim.uncertainty import check_limits, parse_uncertainty  # the distributions need a valid scenario

            try:
                check_limits(parse_uncertainty(scenario.uncertainty, scenario, source), scenario, source)
            except ScenarioError as e:
                raise ScenarioError(_source_for(e.key, source, set_keys, how), e.key, e.problem) from None
        return scenario
    except ValidationError as e:
        err = e.errors()[0]
        key = _loc_to_key(err["loc"])
        problem = _pydantic_problem(err, raw)
        raise ScenarioError(_source_for(key, source, set_keys, how), key, problem) from None
    except _KeyError as e:
        raise ScenarioError(_source_for(e.key, source, set_keys, how), e.key, str(e)) from None


def fix_uncertain(table: dict[str, Any], set_keys: set[str]) -> dict[str, Any]:
    """The ``[uncertainty]`` table without the values fixed by hand.

    A key set with ``--set`` or swept in a grid means "at this value": its distribution
    (or a row's, when one share of it is set, or every one below a whole table that is set)
    is dropped, and so is its place in another entry's ``also``.
    """
    fixed = [tuple(key_parts(k) or k.split(".")) for k in set_keys]

    def hit(key: str) -> bool:
        parts = tuple(key.split("."))
        return any(parts[: len(f)] == f or f[: len(parts)] == parts for f in fixed)

    out: dict[str, Any] = {}
    for key, entry in table.items():
        if hit(key):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("also"), list):
            entry = {**entry, "also": [a for a in entry["also"] if not (isinstance(a, str) and hit(a))]}
        out[key] = entry
    return out


def _with_backlog(s: Scenario, source: str) -> Scenario:
    """Check the backlog against the scenario and read its file once."""
    from sim.backlog import parse_band, read_backlog_csv

    b = s.backlog
    if s.run.warmup_days != 0:
        raise _KeyError("run.warmup_days", "must be 0 when the run starts from a backlog (the backlog is the state at the start)")
    places = {*s.stages, "theatre"}
    for stage, bands in b.stages.items():
        if stage not in places:
            raise _KeyError(f"backlog.stages.{stage}", _unknown(stage, places, "stage"))
        for band in bands:
            try:
                parse_band(band)
            except ValueError as e:
                raise _KeyError(f'backlog.stages.{stage}."{band}"', str(e)) from None
    rows = []
    if b.file:
        rows = read_backlog_csv(Path(b.file), s.run.start_date, places, set(s.demand.conditions), set(s.designs))
    return s.model_copy(update={"backlog": b.model_copy(update={"patients": rows})})


def _source_for(key: str, source: str, set_keys: set[str], how: str | None) -> str:
    if how is None:
        return source
    for k in set_keys:
        if key == k or key.startswith((k + ".", k + "[")) or k.startswith(key + "."):
            return f"{source} ({how} {k})"
    return source


def _loc_to_key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for x in loc:
        if isinstance(x, int):
            parts[-1:] = [f"{parts[-1]}[{x}]"] if parts else [f"[{x}]"]
        else:
            parts.append(str(x))
    return ".".join(parts)


def _pydantic_problem(err: dict[str, Any], raw: dict[str, Any] | None = None) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        known = _known_fields(err["loc"][:-1])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{name}'{hint}"
    if kind == "missing":
        return "required key is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind != "value_error" and not isinstance(err["input"], dict):
        msg += f" (got {err['input']!r})"
    return msg


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model at a location, for 'did you mean' hints."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            model = _dict_value_model(model)
            continue
        model = _model_of(field.annotation)
    return sorted(getattr(model, "model_fields", {}) or [])


def _dict_value_model(model: Any) -> Any:
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _model_of(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        m = _model_of(arg)
        if m is not None:
            return m
    return None


def _read_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise ScenarioError(str(path), "extends", f"circular extends: {chain}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except OSError as e:
        raise ScenarioError(str(path), "", f"cannot read: {e.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), "", f"not valid TOML: {e}") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a file name (string)")
    base = _read_with_extends(path.parent / parent, (*seen, resolved))
    own = data.get("uncertainty", {})
    if isinstance(base.get("uncertainty"), dict) and isinstance(own, dict):
        # A value this file sets is this file's value: a range inherited for it (in the
        # parent's units, e.g. the parent's referrals) no longer applies, unless this
        # file gives the key a distribution of its own.
        inherited = {k: v for k, v in base["uncertainty"].items() if k not in own}
        kept = fix_uncertain(inherited, set(_leaf_keys({k: v for k, v in data.items() if k != "uncertainty"})))
        base = {**base, "uncertainty": {**{k: v for k, v in base["uncertainty"].items() if k in own}, **kept}}
    return deep_merge(base, data)


def _leaf_keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted key paths of every value in nested tables (parts quoted where needed)."""
    out = []
    for k, v in data.items():
        part = k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)
        key = f"{prefix}.{part}" if prefix else part
        out += _leaf_keys(v, key) if isinstance(v, dict) and v else [key]
    return out


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in ``top`` replaces what ``base`` had."""
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def parse_override(item: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE``; the value is parsed as TOML when it can be."""
    key, sep, text = _split_assignment(item)
    key = key.strip()
    if not sep or not key or key_parts(key) is None:
        raise ScenarioError("--set", item, "expected KEY=VALUE with a dotted key, e.g. stages.physio.slots_per_week=1200")
    text = text.strip()
    if not text:
        raise ScenarioError("--set", key, "no value after '='")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError("--set", key, f"value must be finite, got {text}")
    return key, value


def _split_assignment(item: str) -> tuple[str, str, str]:
    """Split at the first '=' outside quotes (a quoted key may hold dots or '=')."""
    quote = ""
    for i, ch in enumerate(item):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "=":
            return item[:i], "=", item[i + 1 :]
    return item, "", ""


def key_parts(key: str) -> list[str] | None:
    """A dotted TOML key as its parts (quoted parts may contain dots), or None if malformed."""
    try:
        node: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts = []
    while isinstance(node, dict) and len(node) == 1:
        ((k, node),) = node.items()
        parts.append(k)
    return parts if node == 0 else None


def _assign(raw: dict[str, Any], key: str, value: Any) -> None:
    node = raw
    parts = key_parts(key) or key.split(".")
    for i, part in enumerate(parts[:-1]):  # a copy is not needed: callers own ``raw``
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        elif not isinstance(nxt, dict):
            raise ScenarioError("--set", key, f"'{'.'.join(parts[: i + 1])}' is a value, not a table")
        node = nxt
    node[parts[-1]] = value


def with_values(scenario: Scenario, values: dict[str, Any], source: str, how: str | None = "--set") -> Scenario:
    """The scenario with values set by key path, validated again (grid points, drawn inputs)."""
    data = scenario_to_dict(scenario)
    for key, value in values.items():
        _assign(data, key, value)
    return validate_raw(data, source, set(values), how)


def scenario_to_dict(s: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data (dates kept as dates, for TOML)."""
    return s.model_dump(mode="python")
