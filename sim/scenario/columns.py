"""The results schema: every column of a replication's result rows, declared once.

Each :class:`Column` says what a column holds (unit, plain-English label, one-line
description), which way is better for patients or the commissioner's spend, and which part
of the model fills it. Per-service columns are declared as patterns (``{stage}_first``), the
money paid to each provider as ``pay_provider_{provider}_gbp`` and drawn inputs as
``param.{key}``; :func:`columns_for` expands them for a scenario and design without running
anything, and :func:`column` describes any concrete name.

The order of the declarations (:mod:`sim.scenario.declared`) is the order of the columns in a
run's rows; the names are constants of :mod:`sim.scenario.names`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from sim.scenario import names
from sim.scenario.declared import (  # re-exported: the schema is read from here
    ACTIVITY,
    ADDED_PER_PLACE,
    ADDED_SESSIONS_COST,
    EXPECTED_LOAD,
    IDENTIFIERS,
    JOURNEYS,
    OUTSIDE_CARE,
    OUTSIDE_OPERATIONS,
    OUTSIDE_PER_STAGE,
    OUTSIDE_REFERRALS,
    PARAMETER,
    PER_STAGE,
    RTT,
    SYSTEM,
    UNITS,
    Better,
    Column,
    ColumnError,
    Source,
    _c,
    stage_name,
    words,
)
from sim.scenario.schema import OUTSIDE_CONTRACT, THEATRE, Scenario
from sim.scenario.uncertainty import draw_parameters, parameter_columns, parse_uncertainty

__all__ = [
    "ACTIVITY",
    "ADDED_PER_PLACE",
    "ADDED_SESSIONS_COST",
    "DECLARED",
    "EXPECTED_LOAD",
    "FINANCE",
    "HEADLINE",
    "IDENTIFIERS",
    "JOURNEYS",
    "OUTSIDE_MONEY",
    "OUTSIDE_OPERATIONS",
    "OUTSIDE_PER_STAGE",
    "OUTSIDE_REFERRALS",
    "PARAMETER",
    "PER_PROVIDER",
    "PER_STAGE",
    "PROVIDER_COSTS",
    "RTT",
    "SYSTEM",
    "UNITS",
    "Better",
    "Column",
    "ColumnError",
    "Source",
    "stage_name",
    "words",
]

HEADLINE: tuple[str, ...] = (
    # the result columns a summary shows first, in order
    names.REFERRALS,
    names.OUTSIDE_CONTRACT_REFERRALS,  # where a scenario has care outside the contract
    names.GP_CONSULTATIONS,
    names.TRIAGE_CONTACTS,
    names.PHYSIO_CONTACTS,
    names.FIRST_OP_ATTENDANCES,
    names.FOLLOWUP_OP_ATTENDANCES,
    names.CONVERSION_RATE,
    names.SURGERIES_DAYCASE,
    names.SURGERIES_INPATIENT,
    names.JOINT_REPLACEMENTS_PER_1000,
    names.HOSPITAL_DIVERSION_PCT,
    names.NEVER_IN_HOSPITAL_OP_PCT,
    names.PHYSIO_DNA_PCT,
    names.RTT_INCOMPLETE_WITHIN_18W_PCT,
    names.RTT_WAIT_P92_WEEKS,
    names.JOURNEY_WEEKS_MEAN,
    names.JOURNEY_WEEKS_P92,
    names.RTT_INCOMPLETE_52W_MEAN,
    names.WAITING_LIST_END,
    names.COMMISSIONER_COST_GBP,
    names.OUTSIDE_CONTRACT_SPEND_GBP,
    names.GP_COST_GBP,
    names.PRIME_SURPLUS_GBP,
)

RENAMED: dict[str, str] = {
    "rtt_incomplete_18w_pct": "rtt_incomplete_within_18w_pct",  # read as a share of breaches
    "rtt_within_18w_pct": "rtt_incomplete_within_18w_pct",  # the same quantity, at each month end
    "rtt_p92_weeks": "rtt_wait_p92_weeks",
    "rtt_median_weeks": "rtt_wait_median_weeks",
}
"""Columns renamed since first written: folders, journals and options that use the old names are read
under the new ones (:func:`current_name`)."""

RENAMED_PATTERNS: dict[str, str] = {
    # the list after the booking lead only, read as the wait for an appointment: the wait from
    # referral to first appointment is a column of its own, {stage}_first_wait_mean_days
    "{stage}_wait_mean_days": "{stage}_queue_wait_mean_days",
}
"""Per-service columns renamed since first written, as patterns (the theatre's included)."""


# The money a run's rows carry (``sim.money.finance`` fills them).
# fmt: off
FINANCE = tuple(
    _c(name, "gbp", label, description, better, source="finance", **more)
    for name, label, description, better, more in (
        (names.TARIFF_VALUE_GBP, "Activity at tariff", "All activity valued at full tariff, diagnostics included.", "none", {}),
        (
            names.COMMISSIONER_COST_GBP, "Commissioner spend",
            "What the commissioner pays for MSK care (not for care outside the contract).", "lower", {},
        ),
        (names.GP_COST_GBP, "GP cost (outside MSK budget)", "GP consultations from bounce-backs, at their cost.", "lower", {}),
        (names.SYSTEM_COST_GBP, "System cost", "Commissioner spend and GP cost together.", "lower", {}),
        (names.PRIME_INCOME_GBP, "Prime income", "What the integrator is paid (an integrated design only).", "none", {}),
        (names.PRIME_COST_GBP, "Prime cost", "What the integrator spends (an integrated design only).", "none", {}),
        (
            names.PRIME_SURPLUS_GBP, "Prime surplus after sharing", "The integrator's result after sharing.", "none",
            {"title": "Prime surplus after sharing"},
        ),
        (
            names.COMMISSIONER_GAIN_SHARE_GBP, "Commissioner's share of the surplus",
            "The part of the integrator's surplus the commissioner takes back.", "none",
            {"title": "Commissioner's share of the surplus"},
        ),
        (names.QUALITY_PAYMENT_GBP, "Quality payment", "Paid for outcome targets met (an integrated design only).", "none", {}),
        (
            names.CAPACITY_COST_GBP, "Providers' costs",
            "What the costed providers' capacity and care cost them: staff, slots offered, contacts and operations, "
            "overheads (empty when the scenario gives no costs).", "lower", {},
        ),
    )
)

OUTSIDE_MONEY = (
    _c(
        f"{OUTSIDE_CONTRACT}_spend_gbp", "gbp", "Spend outside the contract",
        f"What the commissioner pays the providers directly for {OUTSIDE_CARE}, at their tariffs, in every design: "
        "in no contract, block or integrator's budget.", "lower", source="finance", short="Outside the contract",
    ),
    _c(
        names.COMMISSIONER_COST_WITH_OUTSIDE_GBP, "gbp", "Commissioner spend with care outside the contract",
        f"Commissioner spend on MSK care and on {OUTSIDE_CARE} together.", "lower", source="finance",
    ),
)
"""Money for care outside the contract, where a scenario has it."""

PER_PROVIDER = {  # by the design's payment: what the money columns per provider hold
    "activity": _c(
        names.PAY_PROVIDER_PROVIDER_GBP, "gbp", "Paid to {provider}",
        "What the commissioner pays {provider}: activity at tariff, or its block sum.", source="finance",
    ),
    "integrated": _c(
        names.COST_PROVIDER_PROVIDER_GBP, "gbp", "Cost of {provider}",
        "What the integrator pays {provider} for the care it delivers.", source="finance",
    ),
}

PROVIDER_COSTS = (
    _c(
        names.PROVIDER_INCOME_PROVIDER_GBP, "gbp", "{Provider}: income",
        "What {provider} is paid, by the commissioner directly or through an integrator: the same column in every "
        "design, so a comparison shows its income change.", source="finance",
    ),
    _c(
        names.PROVIDER_COST_PROVIDER_GBP, "gbp", "{Provider}: costs",
        "What {provider}'s services cost it: staff, slots offered (used or not), contacts and operations, overheads.",
        source="finance",
    ),
    _c(
        names.PROVIDER_STRANDED_PROVIDER_GBP, "gbp", "{Provider}: fixed cost not covered",
        "The part of {provider}'s fixed costs its income leaves uncovered once its variable costs are paid.",
        "lower", source="finance",
    ),
)
"""For each provider whose costs the scenario gives."""
# fmt: on

DECLARED: tuple[Column, ...] = (
    *IDENTIFIERS, *ACTIVITY, *PER_STAGE, *SYSTEM, OUTSIDE_REFERRALS, *OUTSIDE_PER_STAGE, *OUTSIDE_OPERATIONS,
    *ADDED_PER_PLACE, *JOURNEYS, *RTT, *FINANCE, *OUTSIDE_MONEY, ADDED_SESSIONS_COST, *PER_PROVIDER.values(),
    *PROVIDER_COSTS, EXPECTED_LOAD,
    PARAMETER,
)  # fmt: skip
"""Every declaration, in the order of a run's columns."""

_BY_NAME = {c.name: c for c in DECLARED if not c.is_pattern}
_HOLE = re.compile(r"\{(\w+)\}")


def _regex(pattern: str) -> re.Pattern[str]:
    parts = _HOLE.split(pattern)  # literal, name, literal, ...
    holes = {"key": ".+"}  # a key path has dots; a stage or provider name has none
    text = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{holes.get(p, '[^.]+')})" for i, p in enumerate(parts))
    return re.compile(text + r"\Z")


# the most specific pattern first, so ``x_list_mean`` is never read as a stage ``x_list``
_PATTERNS = sorted(((_regex(c.name), c) for c in DECLARED if c.is_pattern), key=lambda rc: -len(_HOLE.sub("", rc[1].name)))


def find(name: str) -> Column | None:
    """The declaration of a concrete column name, patterns resolved; None if undeclared."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    for regex, col in _PATTERNS:
        hit = regex.match(name)
        if hit:
            return col.resolve(**hit.groupdict())
    return None


_OLD_PATTERNS = [(_regex(old), new) for old, new in RENAMED_PATTERNS.items()]


@functools.cache  # a journal's rows repeat the same few hundred names
def current_name(name: str) -> str:
    """A column's name today, given its name now or before a rename.

    A name matching an old pattern is renamed only when no column has that name today:
    ``physio_queue_wait_mean_days`` and ``physio_first_wait_mean_days`` are read as they are,
    not as stages ``physio_queue`` and ``physio_first``.
    """
    if name in RENAMED:
        return RENAMED[name]
    if find(name) is None:
        for regex, new in _OLD_PATTERNS:
            hit = regex.match(name)
            if hit:
                return new.format(**hit.groupdict())
    return name


def column(name: str) -> Column:
    """The declaration of a concrete column name, patterns resolved."""
    col = find(name)
    if col is None:
        raise KeyError(f"'{name}' is not a declared result column (see sim/scenario/columns.py)")
    return col


def providers(scenario: Scenario, design: str, in_scope: bool | None = None) -> list[str]:
    """The providers a design's money columns name, in their order: its services', then the
    theatre's; with ``in_scope``, only those of the elements its integrator is (or is not) paid for."""
    scope = scenario.in_scope(design)
    elements = scenario.design_elements(design)
    return list(dict.fromkeys(p for e, p in elements.items() if in_scope is None or scope[e] == in_scope))


def provider_columns(scenario: Scenario, design: str) -> list[Column]:
    """A design's money columns per provider: what the commissioner pays each directly, or what
    its integrator pays each for the care in the contract, then what the commissioner pays
    directly for care outside it."""
    if scenario.designs[design].payment == "activity":
        return [PER_PROVIDER["activity"].resolve(provider=p) for p in providers(scenario, design)]
    return [
        *(PER_PROVIDER["integrated"].resolve(provider=p) for p in providers(scenario, design, in_scope=True)),
        *(PER_PROVIDER["activity"].resolve(provider=p) for p in providers(scenario, design, in_scope=False)),
    ]


def parameter_names(scenario: Scenario) -> list[str]:
    """The ``param.`` columns of a run with drawn inputs, in their order (none without any)."""
    if not scenario.uncertainty:
        return []
    dists = parse_uncertainty(scenario.uncertainty, scenario, scenario.name)
    copies = {c for d in dists.values() for c in d.also}
    # the names depend on the keys drawn, not on the values: replication 0 tells them all
    return list(parameter_columns(draw_parameters(dists, scenario, 0), copies))


def declared_for(scenario: Scenario, design: str, uncertainty: bool = True) -> list[Column]:
    """The concrete columns of a run of ``design``, in order (no simulation is run)."""
    stages = list(scenario.design_stages(design))
    places, added = [*stages, THEATRE], scenario.capacity_policies_act
    outside = scenario.counts_outside_contract
    return [
        *IDENTIFIERS,
        *ACTIVITY,
        *(c.resolve(stage=s) for s in stages for c in PER_STAGE),
        *SYSTEM,
        *(c.resolve(stage=s) for s in (places if added else []) for c in ADDED_PER_PLACE),
        *(_outside_counts(stages) if outside else []),
        *JOURNEYS,
        *RTT,
        *FINANCE,
        *(OUTSIDE_MONEY if outside else ()),
        *([ADDED_SESSIONS_COST] if added else []),
        *provider_columns(scenario, design),
        *(c.resolve(provider=p) for p in scenario.costed_providers(design) for c in PROVIDER_COSTS),
        *(EXPECTED_LOAD.resolve(stage=s) for s in [*stages, THEATRE]),
        *(column(name) for name in (parameter_names(scenario) if uncertainty else [])),
    ]


def _outside_counts(stages: list[str]) -> list[Column]:
    """The columns of care outside the contract: its referrals, then its part of each count."""
    return [OUTSIDE_REFERRALS, *(c.resolve(stage=s) for s in stages for c in OUTSIDE_PER_STAGE), *OUTSIDE_OPERATIONS]


def outside_counted(stages: Iterable[str]) -> list[str]:
    """The counts of which care outside the contract is counted apart, ``outside_contract_<count>``
    holding its part: each service's attended appointments, the theatre's operations and procedures."""
    prefix = f"{OUTSIDE_CONTRACT}_"
    theatre = [c.name.removeprefix(prefix) for c in OUTSIDE_OPERATIONS]
    return [*(f"{s}_{kind}" for s in stages for kind in ("first", "followup")), *theatre]


def columns_for(scenario: Scenario, design: str, uncertainty: bool = True) -> list[str]:
    """The column names a run of ``design`` has, in order, for the scenario's services."""
    return [c.name for c in declared_for(scenario, design, uncertainty)]


def numeric_columns(scenario: Scenario, design: str, uncertainty: bool = False) -> list[str]:
    """The numeric columns of a run (all but the design's name), in order."""
    return [c.name for c in declared_for(scenario, design, uncertainty) if c.unit != "text"]


def check_columns(names: Sequence[str], scenario: Scenario, design: str, uncertainty: bool = True) -> None:
    """Raise :class:`ColumnError` unless ``names`` are exactly the declared columns, in order."""
    declared = columns_for(scenario, design, uncertainty)
    extra = [n for n in names if n not in set(declared)]
    missing = [n for n in declared if n not in set(names)]
    problems = []
    if extra:
        problems.append(f"undeclared: {', '.join(extra)}")
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if not problems and list(names) != declared:
        first = next(i for i, (a, b) in enumerate(zip(names, declared, strict=True)) if a != b)
        problems.append(f"out of order from '{names[first]}' (declared: '{declared[first]}')")
    if problems:
        raise ColumnError(f"result columns of design '{design}' in {scenario.name}: {'; '.join(problems)}")


FIRST_WAITS = ("_first_wait_mean_days", "_first_wait_p92_days", "theatre_admission_wait_mean_days",
               "theatre_admission_wait_p92_days")  # fmt: skip
"""How the waits for a first appointment end (the theatre's, for admission, are whole names)."""


def first_waits(names: Iterable[str]) -> list[str]:
    """The waits for a first appointment at each service, in the order of ``names`` (a service's
    mean, then its 92nd centile), then the theatre's from listing to admission, among ``names``."""
    found = [n for n in dict.fromkeys(names) if n.endswith(FIRST_WAITS) and find(n) is not None]
    return sorted(found, key=lambda n: n.startswith(f"{THEATRE}_admission_"))  # stable: the services keep their order


def undeclared(names: Iterable[str]) -> list[str]:
    """The names no declaration describes."""
    return [n for n in names if find(n) is None]
