"""The key results side by side: each headline measure per design, and the paired difference."""

from __future__ import annotations

import numpy as np

from sim.base.lazy import later
from sim.base.metrics import summarise
from sim.report.page import Section, esc
from sim.report.terminal import fmt
from sim.report.view import View
from sim.scenario.columns import HEADLINE, column, first_waits

pd = later("pandas")

TOTALS = {  # KPI rows summed over the stages, shown when any is non-zero
    "advice_and_guidance": "Answered by advice and guidance, no appointment",
    "pifu_skipped": "Follow-ups replaced by patient-initiated follow-up",
    "overflow": "Moved to another provider after a long wait (overflow)",
}
EXTRA_AFTER = {  # rows the headline list does not have, and where they go
    "rtt_incomplete_52w_mean": ["rtt_incomplete_65w_mean", "rtt_incomplete_78w_mean"],
    "journey_weeks_p92": ["qaly_lost_waiting"],
    "never_in_hospital_op_pct": [f"total_{k}" for k in TOTALS],
}
OPTIONAL = {"qaly_lost_waiting", *(f"total_{k}" for k in TOTALS)}  # shown only when non-zero


def _row_spec(metric: str) -> tuple[str, str, int]:
    """A row's label, unit and better direction (+1 higher, -1 lower, 0 neither)."""
    if metric.startswith("total_"):
        return TOTALS[metric.removeprefix("total_")], "count", 0
    col = column(metric)
    return col.label, col.unit, col.sign


def _fmt(value: float, unit: str) -> str:
    if unit == "qaly":
        return "–" if pd.isna(value) else f"{value:,.1f}"
    return fmt(value, unit)


def kpi_summary(view: View) -> pd.DataFrame:
    """Means and intervals of the KPI rows, per design and for the paired difference of two."""
    t = view.table
    ids = [c for c in ("design", "replication", "year") if c in t.columns]
    cols = [m for m in HEADLINE if m in t.columns]
    cols += [m for extra in EXTRA_AFTER.values() for m in extra if m in t.columns]
    cols += first_waits(t.columns)
    part = t[ids + list(dict.fromkeys(cols))].copy()
    for key in TOTALS:
        stage_cols = [c for c in t.columns if c.endswith(f"_{key}")]
        if stage_cols:
            part[f"total_{key}"] = t[stage_cols].sum(axis=1)
    two = view.pair or [None, None]
    return summarise(part, two[0], two[1])


NEVER_NEGATIVE = {"count", "patients", "weeks", "days", "pct", "ratio"}
"""Units of measures that cannot fall below 0 (money can: a surplus, a difference)."""


def _cell(r: pd.Series | None, scope: str, unit: str, better: int) -> str:
    if r is None or pd.isna(r["mean"]):
        return "<td>–</td>"
    cls = ""
    if " - " in scope and better and pd.notna(r["ci_low"]) and (r["ci_low"] > 0 or r["ci_high"] < 0):
        cls = "better" if np.sign(r["mean"]) == better else "worse"
    low, cut = r["ci_low"], False
    if " - " not in scope and unit in NEVER_NEGATIVE and pd.notna(low) and low < 0 <= r["mean"]:
        low, cut = 0.0, True  # a count's interval reaching below 0 (few replications) says nothing below it
    mark = '<abbr title="the interval reached below 0, which this measure cannot; cut at 0">*</abbr>' if cut else ""
    ci = f'<br><span class="ci">{_fmt(low, unit)}{mark} to {_fmt(r["ci_high"], unit)}</span>' if pd.notna(low) else ""
    return f'<td class="{cls}">{_fmt(r["mean"], unit)}{ci}</td>'


def _row(whole: pd.DataFrame, metric: str, scopes: list[str]) -> str:
    part = whole[whole["metric"] == metric].set_index("scope")
    if part.empty or (metric in OPTIONAL and not (part["mean"].abs() > 1e-9).any()):
        return ""
    label, unit, better = _row_spec(metric)
    cells = "".join(_cell(part.loc[sc] if sc in part.index else None, sc, unit, better) for sc in scopes)
    return f"<tr><td>{esc(label)}</td>{cells}</tr>"


def kpi_section(view: View) -> Section | None:
    """The headline measures, colouring a difference that is clearly better or worse."""
    if view.table.empty:
        return None
    summary = kpi_summary(view)
    whole = summary[summary["year"].astype(str) == "all"]
    scopes = [d for d in view.designs if d in set(whole["scope"])]
    scopes += [sc for sc in dict.fromkeys(whole["scope"]) if sc not in scopes]
    head = "".join(f"<th>{esc(sc.replace(' - ', ' − '))}</th>" for sc in scopes)
    metrics = [m for metric in HEADLINE for m in (metric, *EXTRA_AFTER.get(metric, []))]
    rows = "".join(_row(whole, m, scopes) for m in metrics)
    diff = (
        " The difference is paired by replication; green where it is better for patients or cost and its interval "
        "excludes zero, red where worse. Fewer outpatient attendances and operations count as better: they cost less."
        if any(" - " in sc for sc in scopes)
        else ""
    )
    body = (
        view.point_note() + f"<p>Mean per contract year with its 95% confidence interval across replications.{diff} "
        "An interval marked * reached below 0 for a measure that cannot, as t-intervals on few replications do: "
        "it is cut at 0.</p>" + f"<table><tr><th>Measure</th>{head}</tr>{rows}</table>" + _waits_table(whole, scopes, head)
    )
    return Section("kpi", "Key results side by side", body)


WAITS_NOTE = (
    "At each service, the days from the referral reaching it (the day of referral, plus any days its letter takes) "
    "to the first appointment attended there: booking, the list, and a missed first appointment and its rebooking "
    "included; at the theatre, from listing for surgery to admission, pre-operative assessment included. The "
    "92nd centile is that of the year's waits, averaged as the mean is."
)


def _waits_table(whole: pd.DataFrame, scopes: list[str], head: str) -> str:
    """The wait for a first appointment at each service (and for admission at the theatre); none
    in a folder written before they were counted."""
    rows = "".join(_row(whole, m, scopes) for m in first_waits(whole["metric"]))
    if not rows:
        return ""
    return f"<h3>Waits at each service</h3><p>{esc(WAITS_NOTE)}</p><table><tr><th>Wait (days)</th>{head}</tr>{rows}</table>"
