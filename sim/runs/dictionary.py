"""The data dictionary: every column of every table a run writes, with its unit and meaning.

``replications.csv`` (and ``sweep.csv``) are described from the results schema
(:mod:`sim.scenario.columns`), so that part cannot drift from the model; the other tables' columns are
declared here, by exact name or pattern. A test writes every kind of run and checks that no
column is left undescribed.
"""

from __future__ import annotations

import re

from sim.base.lazy import later
from sim.scenario.columns import find

pd = later("pandas")

UNDESCRIBED = "(not described)"
RESULT_TABLES = ("replications", "sweep")
"""The tables whose columns are the results schema's."""

TABLES: dict[str, str] = {
    "replications": "One row per design × replication × contract year: activity, waits and money.",
    "sweep": "As replications, one block per grid point (the swept keys' values in their own columns).",
    "summary": "Tidy: one row per scope × year × metric, mean and 95% interval across replications.",
    "sweep_summary": "As summary, per grid point.",
    "monthly": "Month-end snapshot of each replication: the RTT waiting list by weeks waited, each list's size, "
    "and the month's activity.",
    "rtt_monthly": "The RTT waiting list at each calendar month end, per replication.",
    "rtt_returns": "The RTT returns in the NHS's shape: per month, treatment function and part, counts by week band.",
    "rtt_waits": "Weeks waited by incomplete pathways, pooled over the month ends of all replications.",
    "flows": "Moves of patients between places a year (the pathway map).",
    "warmup": "The weekly number in the system from day 0, smoothed, with MSER-5's truncation point.",
    "bid": "The prime's account per replication × contract year at the price tested.",
    "bid_summary": "The figures a bidder asks for, with 95% intervals where they apply.",
    "bid_monthly": "The prime's cash per replication × month of the contract: income as paid, costs as incurred.",
    "switch_over": "A design taking over from another, month by month against its steady state (compare --switch-over).",
    "takeover": "A bid that takes over (bid --takes-over): what the takeover adds, year by year, against the same design "
    "without it at the same price, paired by replication (extra_* measures: with minus without).",
    "sensitivity": "What moves the cumulative surplus: drawn inputs ranked, and terms and costs swung.",
    "errors": "Replications that raised, with the traceback.",
    "data_dictionary": "This table: every column of every table in the folder.",
}

_COMMON: list[tuple[str, str, str]] = [
    ("design", "text", "The design (way of organising the pathway) the row belongs to."),
    ("replication", "id", "Replication number, from 0: its random numbers depend on it and the seed only."),
    ("point", "id", "Grid point of a sweep, numbered in the order the swept values combine (0 without a sweep)."),
    ("year", "id", "Contract year, from 1 (0: the state the contract starts from)."),
    ("day", "days", "Day of the run, from 0 at the start of the warm-up."),
    ("month_end", "text", "The calendar month end (YYYY-MM-DD)."),
    ("month", "text", "The calendar month (YYYY-MM)."),
    ("metric", "text", "The measure: a column of replications.csv, or an rtt_<function>_<part>_<statistic>."),
    ("scope", "text", "A design, or '<design> - <baseline>' for the difference paired by replication."),
    ("unit", "text", "The unit of the value: gbp, probability, pct or count."),
    ("mean", "input", "Mean across replications (paths), in the metric's unit."),
    ("ci_low", "input", "Lower end of the 95% interval (t-based; Wilson for a probability; order statistics for a price)."),
    ("ci_high", "input", "Upper end of the 95% interval, as ci_low."),
    ("n", "count", "Replications (paths) the figure rests on."),
    ("error", "text", "The traceback of the replication that failed."),
    (
        "rtt_incomplete_within_18w_pct",
        "pct",
        "Incomplete RTT pathways waiting 18 weeks or less at the month end (replications.csv: mean over the month ends).",
    ),
    ("rtt_wait_p92_weeks", "weeks", "92nd percentile of weeks waited by incomplete RTT pathways."),
    ("rtt_wait_median_weeks", "weeks", "Median weeks waited by incomplete RTT pathways."),
    ("rtt_incomplete", "patients", "Incomplete RTT pathways (patients waiting with a clock running)."),
    (r"rtt_over_(\d+)w", "patients", "Incomplete RTT pathways waiting more than that many weeks."),
    (
        r"rtt_weeks_(\d+)_(\d+)",
        "patients",
        "Incomplete RTT pathways waiting more than the first and up to the second number of weeks.",
    ),
    (r"rtt_weeks_(\d+)_plus", "patients", "Incomplete RTT pathways waiting more than that many weeks."),
    (
        r"(\w+)_waiting_mean",
        "patients",
        "Patients on that list, mean over the month's days (counted at the start of each day, the month end included).",
    ),
    (r"(\w+)_waiting", "patients", "Patients on that list at the month end (waiting to be seen, booked or not)."),
]
_IN_THE_MONTH = " in the month (since the last month end)."
_BY_TABLE: dict[str, list[tuple[str, str, str]]] = {
    "monthly": [
        (r"(\w+)_first", "count", "First appointments attended at that service" + _IN_THE_MONTH),
        (r"(\w+)_followup", "count", "Follow-up appointments attended at that service" + _IN_THE_MONTH),
        ("surgeries_daycase", "count", "Day-case operations" + _IN_THE_MONTH),
        ("surgeries_inpatient", "count", "Inpatient operations, joint replacements included," + _IN_THE_MONTH),
        ("joint_replacements", "count", "Joint replacements" + _IN_THE_MONTH),
        ("procedures", "count", "Day-case procedures on the theatre list" + _IN_THE_MONTH),
        (r"(\w+)_sessions_added", "count", "Sessions that place's capacity policy ran beyond the capacity set" + _IN_THE_MONTH),
        (r"(\w+)_slots_added", "count", "Slots that place's capacity policy offered beyond those set" + _IN_THE_MONTH),
        ("added_sessions_cost_gbp", "gbp", "Premiums of the sessions capacity policies added" + _IN_THE_MONTH),
    ],
    "bid_monthly": [
        ("month", "id", "Month of the contract, from 1."),
        ("income_upfront_gbp", "gbp", "The month's instalment of the year's up-front payment (monthly in advance)."),
        ("income_management_gbp", "gbp", "The month's instalment of the management fee."),
        ("income_quality_gbp", "gbp", "The quality payment, in the last month of the contract year."),
        ("cost_delivery_gbp", "gbp", "The care delivered in the month: each provider's year spread by its activity."),
        ("cost_vat_gbp", "gbp", "Unrecoverable VAT on the month's care."),
        ("cost_overheads_gbp", "gbp", "The month's share of the prime's overheads."),
        ("cost_mobilisation_gbp", "gbp", "Mobilisation, spent in the first month."),
        ("commissioner_gain_share_gbp", "gbp", "Surplus paid to the commissioner (negative: deficit it bears), at year end."),
        ("cash_flow_gbp", "gbp", "Income less costs and gain share in the month."),
        ("cumulative_cash_gbp", "gbp", "Cash flow summed from the contract start."),
        ("reserve_left_gbp", "gbp", "The reserve (--reserve) plus the cumulative cash: negative, it has run out."),
    ],
    "rtt_returns": [
        ("treatment_function", "text", "The NHS treatment function code the pathways report under (110, 410, X01...)."),
        ("part", "text", "incomplete, admitted, nonadmitted, clock_starts, removals, transfers_in or transfers_out."),
        (r"\d+-\d+", "count", "Pathways that had waited more than the first and at most the second number of weeks."),
        (r"\d+\+", "count", "Pathways that had waited more than that many weeks."),
        ("total", "count", "All pathways of the row."),
        ("within_18w_pct", "pct", "Share waiting (or having waited) 18 weeks or less, as the NHS computes it."),
        ("median_weeks", "weeks", "Median weeks, interpolated within the band as the NHS does."),
        ("p95_weeks", "weeks", "95th percentile of weeks, as the median."),
    ],
    "rtt_waits": [
        ("weeks", "weeks", "Whole weeks waited."),
        ("pathways", "count", "Incomplete pathways that had waited that long, summed over month ends and replications."),
    ],
    "flows": [
        ("from", "text", "Where patients moved from (a service, the GP, the theatre, or referral)."),
        ("to", "text", "Where they moved to (a service, the GP, the theatre, or discharge)."),
        ("per_year", "count", "Moves a contract year, mean over replications."),
    ],
    "warmup": [
        ("in_system_mean", "patients", "Patients in the system that week, mean over replications."),
        ("moving_average", "patients", "Welch's moving average of in_system_mean."),
        ("mser_truncation_day", "days", "MSER-5's truncation point: the day after which the series is steady."),
        ("warmup_day", "days", "The warm-up the scenario set (statistics before it are discarded)."),
    ],
    "bid": [
        (r"cost_provider_(\w+)_gbp", "gbp", "What delivering the activity at that provider costs the prime."),
        ("contract_value_gbp", "gbp", "The capitated contract's value that year (the year-1 price with the escalator)."),
        ("income_upfront_gbp", "gbp", "The up-front share of the contract value, at the prime's risk."),
        ("income_management_gbp", "gbp", "The management fee."),
        ("income_quality_gbp", "gbp", "The quality pot earned for the outcome targets met."),
        ("cost_delivery_gbp", "gbp", "All delivery costs (the cost_provider_ columns)."),
        ("cost_vat_gbp", "gbp", "Unrecoverable VAT."),
        ("cost_overheads_gbp", "gbp", "The prime's own overheads."),
        ("cost_mobilisation_gbp", "gbp", "Mobilisation costs (year 1)."),
        ("surplus_on_upfront_gbp", "gbp", "Up-front income less delivery costs, before sharing."),
        ("surplus_before_sharing_gbp", "gbp", "The surplus (negative: deficit) before gain or risk share."),
        ("prime_income_gbp", "gbp", "All the prime's income that year."),
        ("prime_cost_gbp", "gbp", "All the prime's costs that year."),
        ("quality_payment_gbp", "gbp", "Quality payment made for targets met."),
        ("cumulative_surplus_gbp", "gbp", "The prime's surplus summed over the contract years so far."),
    ],
    "switch_over": [
        ("month", "id", "Month of the contract, from 1."),
        ("measure", "text", "What is followed: the RTT list, its share within 18 weeks, its median wait, or a service's list."),
        ("old_design_mean", "input", "The old design's value that month, mean over replications (it runs on unchanged)."),
        (
            "switch_over_mean",
            "input",
            "The value under the new design taking over the old one's patients, mean over replications.",
        ),
        ("steady_state_mean", "input", "The value under the new design warmed up as itself, mean over replications."),
        ("difference", "input", "Switch-over minus steady state, paired by replication: mean."),
        ("difference_lo", "input", "Lower end of the difference's 95% interval."),
        ("difference_hi", "input", "Upper end of the difference's 95% interval."),
        ("replications", "count", "Replications paired that month."),
        (
            "settled",
            "flag",
            "True from the month after which the difference stays within 5% of the steady state's value "
            "(1 point for a percentage), or its interval holds zero, to the end of the run.",
        ),
    ],
    "sensitivity": [
        ("input", "text", "A drawn input (its key), a contract term or a cost level."),
        ("kind", "text", "How it was varied: a drawn input by quartiles, or a term or cost swung low and high."),
        (
            "prcc",
            "ratio",
            "Partial rank correlation with the cumulative surplus (drawn inputs only); a plain rank correlation "
            "where kind says so (too few replications to hold the other inputs fixed).",
        ),
        ("low", "input", "The low value (a drawn input's lower quartile; a term's low swing)."),
        ("high", "input", "The high value, as low."),
        ("surplus_at_low_gbp", "gbp", "Mean cumulative surplus at the low value."),
        ("surplus_at_high_gbp", "gbp", "Mean cumulative surplus at the high value."),
        ("swing_gbp", "gbp", "The difference between the two: how much the input moves the surplus."),
        ("base_gbp", "gbp", "Mean cumulative surplus at the price tested, nothing swung."),
    ],
    "data_dictionary": [
        ("table", "text", "The table (its file is <table>.csv)."),
        ("column", "text", "The column's name."),
        ("unit", "text", "Its unit: count (a year), patients (at a moment), pct, ratio, weeks, days, gbp, text, id..."),
        ("description", "text", "What it holds."),
    ],
}
_SWEPT_KEY = re.compile(r"^[a-z_]+\.[A-Za-z0-9_.\[\]\"-]+$")
"""A swept key's column in a sweep's tables (``stages.physio.slots_per_week``)."""


def describe(table: str, column: str) -> tuple[str, str]:
    """(unit, description) of a column of a table, or :data:`UNDESCRIBED`."""
    declared = find(column) if table in RESULT_TABLES or table == "bid" else None
    if declared is not None:  # the results schema first, where its columns are
        return declared.unit, f"{declared.label}: {declared.description}"
    for pattern, unit, text in (*_BY_TABLE.get(table, []), *_COMMON):
        if re.fullmatch(pattern, column):
            return unit, text
    if table in ("sweep", "sweep_summary") and _SWEPT_KEY.match(column):
        return "input", f"The value of the swept key {column} at this grid point."
    return "", UNDESCRIBED


def dictionary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every column of every table given, and of the dictionary itself, described."""
    rows = []
    names = [*tables, "data_dictionary"] if "data_dictionary" not in tables else list(tables)
    for name in names:
        columns = tables[name].columns if name in tables else pd.Index(["table", "column", "unit", "description"])
        for column in columns:
            unit, text = describe(name, str(column))
            rows.append({"table": name, "column": str(column), "unit": unit, "description": text})
    return pd.DataFrame(rows, columns=["table", "column", "unit", "description"])


def undescribed(frame: pd.DataFrame) -> list[str]:
    """``table.column`` of every column the dictionary could not describe."""
    lost = frame[frame["description"] == UNDESCRIBED]
    return [f"{t}.{c}" for t, c in zip(lost["table"], lost["column"], strict=True)]
