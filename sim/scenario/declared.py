"""The declared result columns: what each holds, in the order of a run's columns.

:class:`Column` says what a column holds (unit, plain-English label, one-line description),
which way is better for patients or the commissioner's spend, and which part of the model
fills it; the names are :mod:`sim.scenario.names`'. :mod:`sim.scenario.columns` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sim.scenario import names
from sim.scenario.schema import OUTSIDE_CONTRACT, THEATRE

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
        (names.POINT, "id", "Grid point", "The grid point of a sweep (0 without a grid)."),
        (names.DESIGN, "text", "Design", "The design simulated: how services are commissioned and paid."),
        (names.REPLICATION, "id", "Replication", "The replication: its random numbers, and its drawn inputs."),
        (names.YEAR, "id", "Contract year", "The contract year the row sums up, from 1 (the warm-up is left out)."),
    )
)

ACTIVITY = (
    _c(names.REFERRALS, "count", "Referrals", "New GP referrals into MSK services (the same people in every design)."),
    _c(names.SELF_REFERRALS, "count", "Self-referrals", "Patients referring themselves without seeing the GP."),
    _c(
        names.GP_CONSULTATIONS, "count", "GP consultations from bounce-backs",
        "GP consultations of patients sent back to the GP, who refers them again.", "lower",
        short="GP visits from bounce-backs",
    ),
    _c(names.BOUNCE_BACKS, "count", "Sent back to the GP", "Patients a service sent back to the GP.", "lower"),
    _c(names.ADVICE_GIVEN, "count", "Advice without an appointment", "Referrals answered by advice and self-management."),
    _c(names.ONWARD_REFERRALS, "count", "Onward referrals", "Referrals from one service straight to another."),
    _c(
        names.DNA_RETURNS, "count", "Back to the GP after missed appointments",
        "Patients discharged for not attending who went back to their GP and were referred again.",
    ),
)

PER_STAGE = (
    _c(names.STAGE_ARRIVALS, "count", "{Stage}: new patients", "Patients arriving at {stage}."),
    _c(names.STAGE_FIRST, "count", "{Stage}: first appointments", "First appointments attended at {stage}."),
    _c(names.STAGE_FOLLOWUP, "count", "{Stage}: follow-ups", "Follow-up appointments attended at {stage}."),
    _c(names.STAGE_DNA, "count", "{Stage}: missed appointments", "Appointments at {stage} not attended.", "lower"),
    _c(names.STAGE_LISTED, "count", "{Stage}: listed for surgery", "Patients {stage} put on the list for an operation."),
    _c(
        names.STAGE_ADVICE_AND_GUIDANCE, "count", "{Stage}: answered by advice and guidance",
        "Referrals to {stage} answered by advice and guidance, with no appointment.",
    ),
    _c(
        names.STAGE_PIFU_SKIPPED, "count", "{Stage}: follow-ups replaced by patient-initiated follow-up",
        "Follow-ups at {stage} not booked because the patient was put on patient-initiated follow-up.",
    ),
    _c(names.STAGE_OVERFLOW, "count", "{Stage}: moved to another provider", "Patients moved from {stage} after a long wait."),
    _c(
        names.STAGE_REMOVED, "count", "{Stage}: removed without being seen",
        "Patients who left the list of {stage} unseen (recovered, went elsewhere, removed at validation).",
    ),
    _c(names.STAGE_WAITING_END, "patients", "{Stage}: waiting at year end", "Patients waiting at {stage} at year end.", "lower"),
    _c(names.STAGE_LIST_MEAN, "patients", "{Stage}: mean list size", "Patients waiting at {stage}, mean over the year.", "lower"),
    _c(names.STAGE_LIST_EXITS, "count", "{Stage}: left the list", "Patients who left the list of {stage}: seen, or removed."),
    _c(
        names.STAGE_QUEUE_WAIT_MEAN_DAYS, "days", "{Stage}: mean wait on the list after booking",
        "Mean days waited on the list of {stage} by those who left it this year (seen, or removed), from the day "
        "they could first be offered a slot: the booking lead before it (at the theatre, pre-operative assessment) "
        "is left out, so the list's mean size is its exits a day times this wait (Little's law).", "lower",
        short="{Stage}: queue after booking, mean",
    ),
    _c(
        names.STAGE_FIRST_WAIT_MEAN_DAYS, "days", "{Stage}: wait for a first appointment, mean",
        "Mean days from the referral reaching {stage} (the day of referral plus any days its letter takes) to the "
        "first appointment attended there, of those first seen this year: the booking lead, the list and any "
        "missed first appointment and its rebooking included.", "lower", short="{Stage}: first wait, mean",
    ),
    _c(
        names.STAGE_FIRST_WAIT_P92_DAYS, "days", "{Stage}: wait for a first appointment, 92nd centile",
        "92nd centile of the days from the referral reaching {stage} to the first appointment attended there, of "
        "those first seen this year (read inside the day from counts by whole days).", "lower",
        short="{Stage}: first wait, 92nd centile",
    ),
)
_PLACE = (
    names.STAGE_REMOVED, names.STAGE_WAITING_END, names.STAGE_LIST_MEAN, names.STAGE_LIST_EXITS,
    names.STAGE_QUEUE_WAIT_MEAN_DAYS,
)

SYSTEM = (
    _c(names.TRIAGE_CONTACTS, "count", "Triage contacts", "First appointments at triage services.", short="Triage"),
    _c(names.PHYSIO_CONTACTS, "count", "Physio contacts", "Physio appointments attended, first and follow-up."),
    _c(names.PHYSIO_DNA_PCT, "pct", "Physio did-not-attend", "Share of physio appointments not attended.", "lower"),
    _c(
        names.FIRST_OP_ATTENDANCES, "count", "Outpatient first attendances",
        "First appointments at hospital services (fewer cost less).", "lower", short="Outpatient first",
    ),
    _c(
        names.FOLLOWUP_OP_ATTENDANCES, "count", "Outpatient follow-ups",
        "Follow-up appointments at hospital services (fewer cost less).", "lower", short="Outpatient follow-up",
    ),
    _c(
        names.FOLLOWUPS_PER_FIRST_OP, "rate", "Outpatient follow-ups per first attendance",
        "Hospital follow-ups per first.", "lower",
    ),
    _c(names.LISTED_FOR_SURGERY, "count", "Listed for surgery", "Patients put on the list for an operation."),
    _c(
        names.CONVERSION_RATE, "ratio", "Conversion to surgery",
        "Share of first visits at surgical services that end in listing for an operation.", "higher",
    ),
    _c(
        names.SURGERIES_DAYCASE, "count", "Operations, day case", "Day-case operations done.", "lower",
        short="Day-case operations",
    ),
    _c(
        names.SURGERIES_INPATIENT, "count", "Operations, inpatient", "Inpatient operations done, joint replacements included.",
        "lower", short="Inpatient operations",
    ),
    _c(names.JOINT_REPLACEMENTS, "count", "Hip/knee replacements", "Hip and knee replacements done."),
    _c(
        names.SURGERIES_AVOIDABLE, "count", "Avoidable operations",
        "Operations on patients without a surgical need: they are not helped by them.", "lower",
    ),
    _c(
        names.PROCEDURES, "count", "Day-case procedures",
        "Day-case procedures on the theatre list (injections under image guidance, manipulations): admitted RTT "
        "pathways, not operations.",
    ),
    _c(
        names.OVERFLOW_JOINT_REPLACEMENTS, "count", "Joint replacements by the overflow provider",
        "Hip and knee replacements done by the overflow provider (in joint_replacements too).",
    ),
    _c(
        names.OVERFLOW_SURGERIES_DAYCASE, "count", "Day-case operations by the overflow provider",
        "Day-case operations done by the theatre's overflow provider after a long wait (in surgeries_daycase too).",
    ),
    _c(
        names.OVERFLOW_SURGERIES_INPATIENT, "count", "Inpatient operations by the overflow provider",
        "Inpatient operations, joint replacements included, done by the overflow provider (in surgeries_inpatient too).",
    ),
    _c(
        names.JOINT_REPLACEMENTS_PER_1000, "rate", "Hip/knee replacements per 1,000",
        "Hip and knee replacements per 1,000 population.",
    ),
    _c(names.BED_DAYS, "count", "Bed-days", "Bed-days used by inpatient operations."),
    *(next(c for c in PER_STAGE if c.name == p).resolve(stage=THEATRE) for p in _PLACE),
    _c(
        names.THEATRE_ADMISSION_WAIT_MEAN_DAYS, "days", "Theatre: wait from listing to admission, mean",
        "Mean days from listing for an operation or a day-case procedure to having it, of those done this year: "
        "pre-operative assessment and the surgical list included, the overflow provider's operations too.", "lower",
        short="Theatre: listing to admission, mean",
    ),
    _c(
        names.THEATRE_ADMISSION_WAIT_P92_DAYS, "days", "Theatre: wait from listing to admission, 92nd centile",
        "92nd centile of the days from listing for an operation or a day-case procedure to having it, of those "
        "done this year (read inside the day from counts by whole days).", "lower",
        short="Theatre: listing to admission, 92nd centile",
    ),
    _c(names.APPOINTMENTS, "count", "Appointments", "Appointments booked (attended or missed) and operations."),
)

OUTSIDE_CARE = "care outside the MSK contract"
OUTSIDE_REFERRALS = _c(
    f"{OUTSIDE_CONTRACT}_referrals", "count", "Referrals outside the contract",
    "Patients referred straight to a service for care the MSK contract does not cover (under-18s, electives "
    "from trauma, tertiary referrals): the same people in every design.", short="Outside the contract",
)
OUTSIDE_PER_STAGE = (
    _c(
        f"{OUTSIDE_CONTRACT}_{{stage}}_first", "count", "{Stage}: first appointments outside the contract",
        f"First appointments attended at {{stage}} by {OUTSIDE_CARE} (in {{stage}}_first too).",
    ),
    _c(
        f"{OUTSIDE_CONTRACT}_{{stage}}_followup", "count", "{Stage}: follow-ups outside the contract",
        f"Follow-up appointments attended at {{stage}} by {OUTSIDE_CARE} (in {{stage}}_followup too).",
    ),
)
_BY_OVERFLOW = "by the overflow provider"
OUTSIDE_OPERATIONS = tuple(
    _c(f"{OUTSIDE_CONTRACT}_{name}", "count", f"{label} outside the contract", f"{what} for {OUTSIDE_CARE} (in {name} too).")
    for name, label, what in (
        (names.JOINT_REPLACEMENTS, "Hip/knee replacements", "Hip and knee replacements"),
        (names.SURGERIES_DAYCASE, "Operations, day case,", "Day-case operations"),
        (names.SURGERIES_INPATIENT, "Operations, inpatient,", "Inpatient operations, joint replacements included,"),
        (names.PROCEDURES, "Day-case procedures", "Day-case procedures"),
        (names.OVERFLOW_JOINT_REPLACEMENTS, f"Joint replacements {_BY_OVERFLOW}", f"Joint replacements {_BY_OVERFLOW}"),
        (names.OVERFLOW_SURGERIES_DAYCASE, f"Day-case operations {_BY_OVERFLOW}", f"Day-case operations {_BY_OVERFLOW}"),
        (names.OVERFLOW_SURGERIES_INPATIENT, f"Inpatient operations {_BY_OVERFLOW}", f"Inpatient operations {_BY_OVERFLOW}"),
    )
)
"""Care outside the contract, counted apart where a scenario has it (``Scenario.counts_outside_contract``):
its referrals, its part of each service's appointments and of the theatre's operations."""

JOURNEYS = (
    _c(names.JOURNEYS_ENDED, "count", "Journeys ended", "Patients whose episode of care ended this year."),
    _c(names.JOURNEYS_RESOLVED_PCT, "pct", "Journeys resolved", "Share of ended journeys that ended resolved.", "higher"),
    _c(names.JOURNEYS_UNRESOLVED, "count", "Journeys unresolved", "Journeys that ended unresolved.", "lower"),
    _c(names.JOURNEYS_DNA_DISCHARGED, "count", "Discharged for missed appointments", "Journeys ended by missed visits.", "lower"),
    _c(names.JOURNEYS_REMOVED, "count", "Removed from a list", "Journeys ended by removal from a waiting list, unseen."),
    _c(names.JOURNEY_WEEKS_MEAN, "weeks", "Whole journey, mean", "Mean weeks from first referral to the end of care.", "lower"),
    _c(names.JOURNEY_WEEKS_P92, "weeks", "Whole journey, 92nd centile", "92nd centile of the weeks of ended journeys.", "lower"),
    _c(names.REREFERRALS_PER_JOURNEY, "rate", "Referrals per journey", "GP referrals per ended journey.", "lower"),
    _c(
        names.HOSPITAL_DIVERSION_PCT, "pct", "Hospital-bound referrals diverted",
        "Share of journeys the GP sent towards hospital that ended without a hospital appointment.", "higher",
    ),
    _c(
        names.NEVER_IN_HOSPITAL_OP_PCT, "pct", "Never seen in hospital outpatients",
        "Share of ended journeys with no hospital appointment.", "higher",
    ),
)

_WAITS = "Incomplete pathways waiting over {w} weeks, mean over the month ends of the year."
RTT = (
    _c(
        names.RTT_INCOMPLETE_WITHIN_18W_PCT, "pct", "Incomplete pathways within 18 weeks",
        "Share of incomplete RTT pathways waiting under 18 weeks, mean over the month ends.", "higher",
        short="RTT within 18 weeks",
    ),
    _c(
        names.RTT_WAIT_P92_WEEKS, "weeks", "RTT wait, 92nd centile",
        "92nd centile of the weeks incomplete pathways have waited, mean over the month ends.", "lower",
        title="Wait of incomplete pathways, 92nd centile (weeks)",
    ),
    _c(
        names.RTT_WAIT_MEDIAN_WEEKS, "weeks", "Wait of incomplete pathways, median",
        "Median weeks incomplete pathways have waited, mean over the month ends.", "lower",
    ),
    _c(
        names.RTT_INCOMPLETE_MEAN, "patients", "Incomplete pathways", "Incomplete RTT pathways, mean over the month ends.",
        "lower",
    ),
    *(
        _c(
            f"rtt_incomplete_{w}w_mean", "patients", f"Waiting over {w} weeks (month-end mean)", _WAITS.format(w=w), "lower",
            title=f"Waiting over {w} weeks (month-end mean)",
        )
        for w in (52, 65, 78)
    ),
    _c(names.RTT_COMPLETED, "count", "RTT pathways completed", "RTT clocks stopped by treatment or discharge this year."),
    _c(names.RTT_COMPLETED_WEEKS_MEAN, "weeks", "Completed RTT wait, mean", "Mean weeks of the clocks stopped.", "lower"),
    _c(names.WAITING_LIST_END, "patients", "Waiting list at year end", "Patients waiting at any stage at year end.", "lower"),
    _c(
        names.QALY_LOST_WAITING, "qaly", "Health lost while waiting (QALYs)",
        "Quality-adjusted life years lost by patients while they waited.", "lower",
        title="Health lost while waiting (QALYs a year)",
    ),
    _c(
        names.QALY_LOST_PER_1000_REFERRALS, "rate", "Health lost while waiting per 1,000 referrals",
        "QALYs lost while waiting per 1,000 GP referrals.", "lower",
        title="Health lost while waiting (QALYs per 1,000 referrals)",
    ),
    _c(names.IN_SYSTEM_END, "patients", "In the system at year end", "Patients in care or waiting at year end."),
)

ADDED_PER_PLACE = (
    _c(
        names.STAGE_SESSIONS_ADDED, "count", "{Stage}: sessions added",
        "Sessions {stage}'s capacity policy ran beyond the capacity the file sets (a session a week counts once a "
        "week): zero where its capacity is fixed.", source="recorder",
    ),
    _c(
        names.STAGE_SLOTS_ADDED, "count", "{Stage}: slots added",
        "Slots {stage}'s capacity policy offered beyond those the file sets (negative where capacity that follows "
        "demand fell with it).", source="recorder",
    ),
    _c(
        names.STAGE_SESSIONS_PEAK, "count", "{Stage}: most sessions added a week",
        "The most sessions a week {stage}'s managed policy had in force in the year (its max_sessions caps it).",
        source="recorder",
    ),
)
"""For each service and the theatre, where a scenario has capacity policies that act."""

ADDED_SESSIONS_COST = _c(
    names.ADDED_SESSIONS_COST_GBP, "gbp", "Premiums of added sessions",
    "What the sessions capacity policies added cost beyond their slots (waiting-list initiative premiums), over the "
    "design's services: paid by the integrator for the services it buys, else borne by their providers.",
    "lower", source="finance",
)

EXPECTED_LOAD = _c(
    names.STAGE_EXPECTED_LOAD, "rate", "{Stage}: expected load",
    "Appointments the replication's inputs ask of {stage} in the year (traffic equations, with its drawn inputs "
    "and demand growth) over the slots it can offer (with a capacity policy, all it may add): at 1 or more its list "
    "grows without limit.", "lower", source="flows",
)
PARAMETER = _c(names.PARAM_KEY, "input", "Drawn: {key}", "The value drawn for {key} in the replication.", source="uncertainty")
# fmt: on
