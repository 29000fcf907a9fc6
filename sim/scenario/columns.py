"""The results schema: every column of a replication's result rows, declared once.

Each :class:`Column` says what a column holds (unit, plain-English label, one-line
description), which way is better for patients or the commissioner's spend, and which part
of the model fills it. Per-service columns are declared as patterns (``{stage}_first``), the
money paid to each provider as ``pay_provider_{provider}_gbp`` and drawn inputs as
``param.{key}``; :func:`columns_for` expands them for a scenario and design without running
anything, and :func:`column` describes any concrete name.

The order of the declarations is the order of the columns in a run's rows.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from sim.scenario.schema import OUTSIDE_CONTRACT, THEATRE, Scenario
from sim.scenario.uncertainty import draw_parameters, parameter_columns, parse_uncertainty

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


Better = Literal["lower", "higher", "none"]
Source = Literal["identifiers", "recorder", "finance", "flows", "uncertainty"]

UNITS: dict[str, str] = {  # unit -> what follows a label to name it (a chart axis, a heading)
    "id": "",
    "text": "",
    "count": " a year",  # things done in a contract year
    "patients": " (patients)",  # people at one moment
    "pct": " (%)",  # a percentage, 0-100
    "ratio": " (%)",  # a share, 0-1, shown as a percentage
    "rate": "",  # so many per something, the label says per what
    "weeks": " (weeks)",
    "days": " (days)",
    "gbp": " (£ a year)",
    "qaly": " (QALYs a year)",
    "input": "",  # a drawn input, in the unit of its scenario key
}


class ColumnError(ValueError):
    """Result rows whose columns are not the declared ones."""


@dataclass(frozen=True)
class Column:
    """One declared column, or a pattern of them (``{stage}``, ``{provider}``, ``{key}``).

    ``better`` is the direction that is better for patients or for the commissioner's
    spend (``none`` where neither, or where it depends). ``short`` is a shorter label for a
    narrow column or a chart panel; ``title`` the label with its unit where adding the
    unit's words (:data:`UNITS`) would not read well.
    """

    name: str
    unit: str
    label: str
    description: str
    better: Better = "none"
    source: Source = "recorder"
    short: str | None = None
    title: str | None = None

    @property
    def is_pattern(self) -> bool:
        return "{" in self.name

    @property
    def heading(self) -> str:
        """The label with its unit, for a chart axis or a heading."""
        return self.title or self.label + UNITS[self.unit]

    @property
    def brief(self) -> str:
        """The label for a narrow place."""
        return self.short or self.label

    @property
    def sign(self) -> int:
        """+1 if higher is better, -1 if lower is, 0 if neither."""
        return {"higher": 1, "lower": -1, "none": 0}[self.better]

    def resolve(self, **parts: str) -> Column:
        """The concrete column for a stage, provider or key."""
        words = {k.capitalize(): stage_name(v) for k, v in parts.items()}
        text = {**parts, **words}
        return replace(
            self,
            name=self.name.format(**parts),
            label=self.label.format(**text),
            description=self.description.format(**text),
            short=self.short.format(**text) if self.short else None,
            title=self.title.format(**text) if self.title else None,
        )


def words(name: str) -> str:
    """``community_specialist`` -> ``community specialist``; ``self_management`` -> ``self-management``."""
    return name.replace("self_management", "self-management").replace("_", " ")


def stage_name(name: str) -> str:
    """A service as a heading: ``community_specialist`` -> ``Community specialist``."""
    text = words(name)
    return text[:1].upper() + text[1:]


def _c(name: str, unit: str, label: str, description: str, better: Better = "none", **more) -> Column:
    return Column(name, unit, label, description, better, **more)


# fmt: off
# one declaration to a line or two, read as a table
IDENTIFIERS = tuple(
    Column(name, unit, label, description, source="identifiers")
    for name, unit, label, description in (
        ("point", "id", "Grid point", "The grid point of a sweep (0 without a grid)."),
        ("design", "text", "Design", "The design simulated: how services are commissioned and paid."),
        ("replication", "id", "Replication", "The replication: its random numbers, and its drawn inputs."),
        ("year", "id", "Contract year", "The contract year the row sums up, from 1 (the warm-up is left out)."),
    )
)

ACTIVITY = (
    _c("referrals", "count", "Referrals", "New GP referrals into MSK services (the same people in every design)."),
    _c("self_referrals", "count", "Self-referrals", "Patients referring themselves without seeing the GP."),
    _c(
        "gp_consultations", "count", "GP consultations from bounce-backs",
        "GP consultations of patients sent back to the GP, who refers them again.", "lower",
        short="GP visits from bounce-backs",
    ),
    _c("bounce_backs", "count", "Sent back to the GP", "Patients a service sent back to the GP.", "lower"),
    _c("advice_given", "count", "Advice without an appointment", "Referrals answered by advice and self-management."),
    _c("onward_referrals", "count", "Onward referrals", "Referrals from one service straight to another."),
    _c(
        "dna_returns", "count", "Back to the GP after missed appointments",
        "Patients discharged for not attending who went back to their GP and were referred again.",
    ),
)

PER_STAGE = (
    _c("{stage}_arrivals", "count", "{Stage}: new patients", "Patients arriving at {stage}."),
    _c("{stage}_first", "count", "{Stage}: first appointments", "First appointments attended at {stage}."),
    _c("{stage}_followup", "count", "{Stage}: follow-ups", "Follow-up appointments attended at {stage}."),
    _c("{stage}_dna", "count", "{Stage}: missed appointments", "Appointments at {stage} not attended.", "lower"),
    _c("{stage}_listed", "count", "{Stage}: listed for surgery", "Patients {stage} put on the list for an operation."),
    _c(
        "{stage}_advice_and_guidance", "count", "{Stage}: answered by advice and guidance",
        "Referrals to {stage} answered by advice and guidance, with no appointment.",
    ),
    _c(
        "{stage}_pifu_skipped", "count", "{Stage}: follow-ups replaced by patient-initiated follow-up",
        "Follow-ups at {stage} not booked because the patient was put on patient-initiated follow-up.",
    ),
    _c("{stage}_overflow", "count", "{Stage}: moved to another provider", "Patients moved from {stage} after a long wait."),
    _c(
        "{stage}_removed", "count", "{Stage}: removed without being seen",
        "Patients who left the list of {stage} unseen (recovered, went elsewhere, removed at validation).",
    ),
    _c("{stage}_waiting_end", "patients", "{Stage}: waiting at year end", "Patients waiting at {stage} at year end.", "lower"),
    _c("{stage}_list_mean", "patients", "{Stage}: mean list size", "Patients waiting at {stage}, mean over the year.", "lower"),
    _c("{stage}_list_exits", "count", "{Stage}: left the list", "Patients who left the list of {stage}: seen, or removed."),
    _c(
        "{stage}_queue_wait_mean_days", "days", "{Stage}: mean wait on the list after booking",
        "Mean days waited on the list of {stage} by those who left it this year (seen, or removed), from the day "
        "they could first be offered a slot: the booking lead before it (at the theatre, pre-operative assessment) "
        "is left out, so the list's mean size is its exits a day times this wait (Little's law).", "lower",
        short="{Stage}: queue after booking, mean",
    ),
    _c(
        "{stage}_first_wait_mean_days", "days", "{Stage}: wait for a first appointment, mean",
        "Mean days from the referral reaching {stage} (the day of referral plus any days its letter takes) to the "
        "first appointment attended there, of those first seen this year: the booking lead, the list and any "
        "missed first appointment and its rebooking included.", "lower", short="{Stage}: first wait, mean",
    ),
    _c(
        "{stage}_first_wait_p92_days", "days", "{Stage}: wait for a first appointment, 92nd centile",
        "92nd centile of the days from the referral reaching {stage} to the first appointment attended there, of "
        "those first seen this year (read inside the day from counts by whole days).", "lower",
        short="{Stage}: first wait, 92nd centile",
    ),
)
_PLACE = ("{stage}_removed", "{stage}_waiting_end", "{stage}_list_mean", "{stage}_list_exits", "{stage}_queue_wait_mean_days")

SYSTEM = (
    _c("triage_contacts", "count", "Triage contacts", "First appointments at triage services.", short="Triage"),
    _c("physio_contacts", "count", "Physio contacts", "Physio appointments attended, first and follow-up."),
    _c("physio_dna_pct", "pct", "Physio did-not-attend", "Share of physio appointments not attended.", "lower"),
    _c(
        "first_op_attendances", "count", "Outpatient first attendances",
        "First appointments at hospital services (fewer cost less).", "lower", short="Outpatient first",
    ),
    _c(
        "followup_op_attendances", "count", "Outpatient follow-ups",
        "Follow-up appointments at hospital services (fewer cost less).", "lower", short="Outpatient follow-up",
    ),
    _c("followups_per_first_op", "rate", "Outpatient follow-ups per first attendance", "Hospital follow-ups per first.", "lower"),
    _c("listed_for_surgery", "count", "Listed for surgery", "Patients put on the list for an operation."),
    _c(
        "conversion_rate", "ratio", "Conversion to surgery",
        "Share of first visits at surgical services that end in listing for an operation.", "higher",
    ),
    _c("surgeries_daycase", "count", "Operations, day case", "Day-case operations done.", "lower", short="Day-case operations"),
    _c(
        "surgeries_inpatient", "count", "Operations, inpatient", "Inpatient operations done, joint replacements included.",
        "lower", short="Inpatient operations",
    ),
    _c("joint_replacements", "count", "Hip/knee replacements", "Hip and knee replacements done."),
    _c(
        "surgeries_avoidable", "count", "Avoidable operations",
        "Operations on patients without a surgical need: they are not helped by them.", "lower",
    ),
    _c(
        "procedures", "count", "Day-case procedures",
        "Day-case procedures on the theatre list (injections under image guidance, manipulations): admitted RTT "
        "pathways, not operations.",
    ),
    _c(
        "overflow_joint_replacements", "count", "Joint replacements by the overflow provider",
        "Hip and knee replacements done by the overflow provider (in joint_replacements too).",
    ),
    _c(
        "overflow_surgeries_daycase", "count", "Day-case operations by the overflow provider",
        "Day-case operations done by the theatre's overflow provider after a long wait (in surgeries_daycase too).",
    ),
    _c(
        "overflow_surgeries_inpatient", "count", "Inpatient operations by the overflow provider",
        "Inpatient operations, joint replacements included, done by the overflow provider (in surgeries_inpatient too).",
    ),
    _c(
        "joint_replacements_per_1000", "rate", "Hip/knee replacements per 1,000",
        "Hip and knee replacements per 1,000 population.",
    ),
    _c("bed_days", "count", "Bed-days", "Bed-days used by inpatient operations."),
    *(next(c for c in PER_STAGE if c.name == p).resolve(stage=THEATRE) for p in _PLACE),
    _c(
        "theatre_admission_wait_mean_days", "days", "Theatre: wait from listing to admission, mean",
        "Mean days from listing for an operation or a day-case procedure to having it, of those done this year: "
        "pre-operative assessment and the surgical list included, the overflow provider's operations too.", "lower",
        short="Theatre: listing to admission, mean",
    ),
    _c(
        "theatre_admission_wait_p92_days", "days", "Theatre: wait from listing to admission, 92nd centile",
        "92nd centile of the days from listing for an operation or a day-case procedure to having it, of those "
        "done this year (read inside the day from counts by whole days).", "lower",
        short="Theatre: listing to admission, 92nd centile",
    ),
    _c("appointments", "count", "Appointments", "Appointments booked (attended or missed) and operations."),
)

_OUTSIDE = "care outside the MSK contract"
OUTSIDE_REFERRALS = _c(
    f"{OUTSIDE_CONTRACT}_referrals", "count", "Referrals outside the contract",
    "Patients referred straight to a service for care the MSK contract does not cover (under-18s, electives "
    "from trauma, tertiary referrals): the same people in every design.", short="Outside the contract",
)
OUTSIDE_PER_STAGE = (
    _c(
        f"{OUTSIDE_CONTRACT}_{{stage}}_first", "count", "{Stage}: first appointments outside the contract",
        f"First appointments attended at {{stage}} by {_OUTSIDE} (in {{stage}}_first too).",
    ),
    _c(
        f"{OUTSIDE_CONTRACT}_{{stage}}_followup", "count", "{Stage}: follow-ups outside the contract",
        f"Follow-up appointments attended at {{stage}} by {_OUTSIDE} (in {{stage}}_followup too).",
    ),
)
_BY_OVERFLOW = "by the overflow provider"
OUTSIDE_OPERATIONS = tuple(
    _c(f"{OUTSIDE_CONTRACT}_{name}", "count", f"{label} outside the contract", f"{what} for {_OUTSIDE} (in {name} too).")
    for name, label, what in (
        ("joint_replacements", "Hip/knee replacements", "Hip and knee replacements"),
        ("surgeries_daycase", "Operations, day case,", "Day-case operations"),
        ("surgeries_inpatient", "Operations, inpatient,", "Inpatient operations, joint replacements included,"),
        ("procedures", "Day-case procedures", "Day-case procedures"),
        ("overflow_joint_replacements", f"Joint replacements {_BY_OVERFLOW}", f"Joint replacements {_BY_OVERFLOW}"),
        ("overflow_surgeries_daycase", f"Day-case operations {_BY_OVERFLOW}", f"Day-case operations {_BY_OVERFLOW}"),
        ("overflow_surgeries_inpatient", f"Inpatient operations {_BY_OVERFLOW}", f"Inpatient operations {_BY_OVERFLOW}"),
    )
)
"""Care outside the contract, counted apart where a scenario has it (``Scenario.counts_outside_contract``):
its referrals, its part of each service's appointments and of the theatre's operations."""

JOURNEYS = (
    _c("journeys_ended", "count", "Journeys ended", "Patients whose episode of care ended this year."),
    _c("journeys_resolved_pct", "pct", "Journeys resolved", "Share of ended journeys that ended resolved.", "higher"),
    _c("journeys_unresolved", "count", "Journeys unresolved", "Journeys that ended unresolved.", "lower"),
    _c("journeys_dna_discharged", "count", "Discharged for missed appointments", "Journeys ended by missed visits.", "lower"),
    _c("journeys_removed", "count", "Removed from a list", "Journeys ended by removal from a waiting list, unseen."),
    _c("journey_weeks_mean", "weeks", "Whole journey, mean", "Mean weeks from first referral to the end of care.", "lower"),
    _c("journey_weeks_p92", "weeks", "Whole journey, 92nd centile", "92nd centile of the weeks of ended journeys.", "lower"),
    _c("rereferrals_per_journey", "rate", "Referrals per journey", "GP referrals per ended journey.", "lower"),
    _c(
        "hospital_diversion_pct", "pct", "Hospital-bound referrals diverted",
        "Share of journeys the GP sent towards hospital that ended without a hospital appointment.", "higher",
    ),
    _c(
        "never_in_hospital_op_pct", "pct", "Never seen in hospital outpatients",
        "Share of ended journeys with no hospital appointment.", "higher",
    ),
)

_WAITS = "Incomplete pathways waiting over {w} weeks, mean over the month ends of the year."
RTT = (
    _c(
        "rtt_incomplete_within_18w_pct", "pct", "Incomplete pathways within 18 weeks",
        "Share of incomplete RTT pathways waiting under 18 weeks, mean over the month ends.", "higher",
        short="RTT within 18 weeks",
    ),
    _c(
        "rtt_wait_p92_weeks", "weeks", "RTT wait, 92nd centile",
        "92nd centile of the weeks incomplete pathways have waited, mean over the month ends.", "lower",
        title="Wait of incomplete pathways, 92nd centile (weeks)",
    ),
    _c(
        "rtt_wait_median_weeks", "weeks", "Wait of incomplete pathways, median",
        "Median weeks incomplete pathways have waited, mean over the month ends.", "lower",
    ),
    _c("rtt_incomplete_mean", "patients", "Incomplete pathways", "Incomplete RTT pathways, mean over the month ends.", "lower"),
    *(
        _c(
            f"rtt_incomplete_{w}w_mean", "patients", f"Waiting over {w} weeks (month-end mean)", _WAITS.format(w=w), "lower",
            title=f"Waiting over {w} weeks (month-end mean)",
        )
        for w in (52, 65, 78)
    ),
    _c("rtt_completed", "count", "RTT pathways completed", "RTT clocks stopped by treatment or discharge this year."),
    _c("rtt_completed_weeks_mean", "weeks", "Completed RTT wait, mean", "Mean weeks of the clocks stopped.", "lower"),
    _c("waiting_list_end", "patients", "Waiting list at year end", "Patients waiting at any stage at year end.", "lower"),
    _c(
        "qaly_lost_waiting", "qaly", "Health lost while waiting (QALYs)",
        "Quality-adjusted life years lost by patients while they waited.", "lower",
        title="Health lost while waiting (QALYs a year)",
    ),
    _c(
        "qaly_lost_per_1000_referrals", "rate", "Health lost while waiting per 1,000 referrals",
        "QALYs lost while waiting per 1,000 GP referrals.", "lower",
        title="Health lost while waiting (QALYs per 1,000 referrals)",
    ),
    _c("in_system_end", "patients", "In the system at year end", "Patients in care or waiting at year end."),
)

FINANCE = tuple(
    _c(name, "gbp", label, description, better, source="finance", **more)
    for name, label, description, better, more in (
        ("tariff_value_gbp", "Activity at tariff", "All activity valued at full tariff, diagnostics included.", "none", {}),
        (
            "commissioner_cost_gbp", "Commissioner spend",
            "What the commissioner pays for MSK care (not for care outside the contract).", "lower", {},
        ),
        ("gp_cost_gbp", "GP cost (outside MSK budget)", "GP consultations from bounce-backs, at their cost.", "lower", {}),
        ("system_cost_gbp", "System cost", "Commissioner spend and GP cost together.", "lower", {}),
        ("prime_income_gbp", "Prime income", "What the integrator is paid (an integrated design only).", "none", {}),
        ("prime_cost_gbp", "Prime cost", "What the integrator spends (an integrated design only).", "none", {}),
        (
            "prime_surplus_gbp", "Prime surplus after sharing", "The integrator's result after sharing.", "none",
            {"title": "Prime surplus after sharing"},
        ),
        (
            "commissioner_gain_share_gbp", "Commissioner's share of the surplus",
            "The part of the integrator's surplus the commissioner takes back.", "none",
            {"title": "Commissioner's share of the surplus"},
        ),
        ("quality_payment_gbp", "Quality payment", "Paid for outcome targets met (an integrated design only).", "none", {}),
        (
            "capacity_cost_gbp", "Providers' costs",
            "What the costed providers' capacity and care cost them: staff, slots offered, contacts and operations, "
            "overheads (empty when the scenario gives no costs).", "lower", {},
        ),
    )
)

OUTSIDE_MONEY = (
    _c(
        f"{OUTSIDE_CONTRACT}_spend_gbp", "gbp", "Spend outside the contract",
        f"What the commissioner pays the providers directly for {_OUTSIDE}, at their tariffs, in every design: "
        "in no contract, block or integrator's budget.", "lower", source="finance", short="Outside the contract",
    ),
    _c(
        "commissioner_cost_with_outside_gbp", "gbp", "Commissioner spend with care outside the contract",
        f"Commissioner spend on MSK care and on {_OUTSIDE} together.", "lower", source="finance",
    ),
)
"""Money for care outside the contract, where a scenario has it."""

PER_PROVIDER = {  # by the design's payment: what the money columns per provider hold
    "activity": _c(
        "pay_provider_{provider}_gbp", "gbp", "Paid to {provider}",
        "What the commissioner pays {provider}: activity at tariff, or its block sum.", source="finance",
    ),
    "integrated": _c(
        "cost_provider_{provider}_gbp", "gbp", "Cost of {provider}",
        "What the integrator pays {provider} for the care it delivers.", source="finance",
    ),
}

PROVIDER_COSTS = (
    _c(
        "provider_income_{provider}_gbp", "gbp", "{Provider}: income",
        "What {provider} is paid, by the commissioner directly or through an integrator: the same column in every "
        "design, so a comparison shows its income change.", source="finance",
    ),
    _c(
        "provider_cost_{provider}_gbp", "gbp", "{Provider}: costs",
        "What {provider}'s services cost it: staff, slots offered (used or not), contacts and operations, overheads.",
        source="finance",
    ),
    _c(
        "provider_stranded_{provider}_gbp", "gbp", "{Provider}: fixed cost not covered",
        "The part of {provider}'s fixed costs its income leaves uncovered once its variable costs are paid.",
        "lower", source="finance",
    ),
)
"""For each provider whose costs the scenario gives."""

ADDED_PER_PLACE = (
    _c(
        "{stage}_sessions_added", "count", "{Stage}: sessions added",
        "Sessions {stage}'s capacity policy ran beyond the capacity the file sets (a session a week counts once a "
        "week): zero where its capacity is fixed.", source="recorder",
    ),
    _c(
        "{stage}_slots_added", "count", "{Stage}: slots added",
        "Slots {stage}'s capacity policy offered beyond those the file sets (negative where capacity that follows "
        "demand fell with it).", source="recorder",
    ),
    _c(
        "{stage}_sessions_peak", "count", "{Stage}: most sessions added a week",
        "The most sessions a week {stage}'s managed policy had in force in the year (its max_sessions caps it).",
        source="recorder",
    ),
)
"""For each service and the theatre, where a scenario has capacity policies that act."""

ADDED_SESSIONS_COST = _c(
    "added_sessions_cost_gbp", "gbp", "Premiums of added sessions",
    "What the sessions capacity policies added cost beyond their slots (waiting-list initiative premiums), over the "
    "design's services: paid by the integrator for the services it buys, else borne by their providers.",
    "lower", source="finance",
)

EXPECTED_LOAD = _c(
    "{stage}_expected_load", "rate", "{Stage}: expected load",
    "Appointments the replication's inputs ask of {stage} in the year (traffic equations, with its drawn inputs "
    "and demand growth) over the slots it can offer (with a capacity policy, all it may add): at 1 or more its list "
    "grows without limit.", "lower", source="flows",
)
PARAMETER = _c("param.{key}", "input", "Drawn: {key}", "The value drawn for {key} in the replication.", source="uncertainty")
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
