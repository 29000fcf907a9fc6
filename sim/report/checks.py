"""Diagnostics: load and capacity per stage against the NHSRwaitinglist rules of thumb, and the warm-up."""

from __future__ import annotations

import base64

from sim.analysis import diagnostics
from sim.analysis.warmup import verdicts
from sim.base.lazy import later
from sim.report.labels import words
from sim.report.page import Section, esc, warnings
from sim.report.view import View, describe
from sim.runs.experiment import grid_points

pd = later("pandas")

UNITS = {"theatre": "day-case slots", "beds": "bed-days"}  # what demand and capacity count, where not appointments
HEAD = (
    "<tr><th>Design</th><th>Stage</th><th>Unit (demand and capacity)</th><th>New patients a week (λ)</th>"
    "<th>Follow-ups a week</th><th>Slots offered a week (μ)</th><th>Load (λ + follow-ups) / μ</th>"
    "<th>To meet the 18-week rule of thumb, set</th>"
    "<th>Target list at a mean wait of {wait:.1f} wk (λT/4)</th><th>Largest list keeping 92% within 18 wk</th>"
    "<th>Simulated list: waiting to be offered a slot</th><th>Little's law gap</th></tr>"
)


PLAIN_WORDS = (
    "<p>For the analyst: whether each service can keep up, and whether the simulated numbers can be trusted. "
    "In plain words: <b>load</b> is the appointments asked for over the slots offered, so above 1 a list can only "
    "grow (or be held by people giving up); the <b>rules of thumb</b> are the NHS's planning formulas for the "
    "capacity and list size that keep waits within 18 weeks; <b>Little's law</b> says a list's average size equals "
    "the people joining it a week times their average wait, so a large gap means the list had not settled; the "
    "<b>warm-up</b> chart shows the time the model needed to fill up from empty before its figures were counted.</p>"
)


def diagnostics_section(view: View) -> Section | None:
    """Warnings, the table of stage checks (per grid point in a sweep) and the warm-up."""
    if view.full.empty:
        return None
    points = grid_points(view.scenario, view.grid) if view.sweep else {0: view.scenario}
    checks = diagnostics.stage_checks(view.full, points)
    several = view.sweep and checks["point"].nunique() > 1
    groups = list(checks.groupby("point", sort=True)) if several else [(0, checks)]
    body = _warnings(view, checks, groups, several)
    wait = float(checks["target_wait_weeks"].iloc[0]) if not checks.empty else diagnostics.RTT_WEEKS / diagnostics.FACTOR
    rows = "".join(_group_rows(view, point, part, several) for point, part in groups)
    body += (
        "<p>Demand and capacity per stage (means over replications and years), with the NHSRwaitinglist rules of thumb "
        f"for the 18-week standard: target wait T = 18 weeks, so a target mean wait of T/4 = {wait:.1f} weeks, "
        "coefficients of variation 1. They hold only below load 1. Load is every appointment asked for, first and "
        "follow-up, over every slot offered (after bank holidays, reduced periods and cancellations), as "
        "<code>msksim validate</code> computes it from expected demand; here it is from the simulated activity. "
        "The capacity needed is given as the scenario key to set, in its own units (slots before holidays). "
        "The theatre counts day-case slots (a joint replacement takes several); beds count bed-days. "
        "The simulated list counts patients waiting to be offered a slot, after any booking lead time: it is smaller "
        "than the waiting list charted above, which also counts patients already booked.</p>"
        f'<div class="scroll"><table class="diag">{HEAD.format(wait=wait)}{rows}</table></div>'
        '<p><b>The rule of thumb and <code>msksim target</code>.</b> Both answer "how much capacity?", differently. '
        "The rule is the analytic steady state of one service alone: the capacity that holds its own mean first wait "
        f"at {wait:.1f} weeks, from the demand and follow-ups above, for a list that has settled. "
        "<code>msksim target</code> is the simulated one: it searches the least capacity at which the whole pathway "
        "meets a share within 18 weeks in a contract year, with the calendar (holidays, reduced periods), booking, "
        "variable demand and growth over the horizon, and never at an expected load of 0.95 or more in any year. "
        "For a large service the rule's margin over demand is a fraction of a slot, so the rule sits at a load "
        "close to 1 and <code>target</code> at or above the capacity of load 0.95.</p>" + _rule_gaps(checks)
    )
    body += warmup(view)
    return Section("diagnostics", "Appendix: checks on the model (diagnostics)", PLAIN_WORDS + body)


def _rule_gaps(checks: pd.DataFrame) -> str:
    """Where the rule of thumb and the capacity simulated differ by more than 10%, why (one list per grid point)."""
    if "point" in checks.columns and checks["point"].nunique() > 1:
        return ""  # a sweep's points differ by design: its table shows each
    gaps = diagnostics.rule_gaps(checks)
    if not gaps:
        return ""
    items = "".join(f"<li>{esc(g)}</li>" for g in gaps)
    return f"<p>Where the rule of thumb and the capacity simulated differ by more than 10%, and why:</p><ul>{items}</ul>"


def _where(view: View, point) -> str:
    return describe(view.point_values().get(int(point), {}))


def _warnings(view: View, checks: pd.DataFrame, groups: list, several: bool) -> str:
    steady = view.scenario.backlog is None
    msgs_all = []
    for point, part in groups:
        msgs = diagnostics.warnings(part, diagnostics.MIN_REPLICATIONS, steady)
        if several and msgs:
            msgs = [f"Grid point {point} ({_where(view, point)}): {m}" for m in msgs]
        msgs_all += msgs
    reps = int(view.full["replication"].nunique())
    msgs_all += diagnostics.warnings(checks.iloc[:0], reps, steady)
    names = {int(p): f"Grid point {p} ({_where(view, p)})" for p, _ in groups} if several else None
    msgs_all += diagnostics.overload_warnings(diagnostics.overloaded_paths(view.full), names)
    return warnings(msgs_all) or '<div class="ok">No warnings.</div>'


def _group_rows(view: View, point, part: pd.DataFrame, several: bool) -> str:
    rows = f'<tr class="group"><td colspan="12">Grid point {point}: {esc(_where(view, point))}</td></tr>' if several else ""
    for r in part.itertuples():
        over = ' class="over"' if r.load >= 1 else ""
        lists = (
            "<td>–</td><td>–</td><td>–</td><td>–</td>"
            if r.stage == "beds"
            else f"<td>{r.target_list:,.0f}</td><td>{r.relief_list:,.0f}</td><td>{r.simulated_list:,.0f}</td>"
            f"<td>{r.littles_gap_pct:.1f}%</td>"
        )
        rows += (
            f"<tr><td>{esc(r.design)}</td><td>{esc(words(r.stage))}</td><td>{UNITS.get(r.stage, 'appointments')}</td>"
            f"<td>{r.demand_per_week:,.0f}</td><td>{r.followups_per_week:,.0f}</td><td>{r.capacity_per_week:,.0f}</td>"
            f"<td{over}>{r.load:.2f}</td><td><code>{breakable(r.key)}</code> ≈ {r.key_needed:,.0f} (now {r.key_value:,.0f})</td>"
            f"{lists}</tr>"
        )
    return rows


def breakable(key: str) -> str:
    """A dotted key path, escaped, that may wrap after any dot (a long key would widen the table)."""
    return esc(key).replace(".", ".<wbr>")


def warmup(view: View) -> str:
    """The warm-up chart the run saved, with the MSER-5 verdicts."""
    png = view.folder.warmup_png
    if png is None:
        return ""
    data = "data:image/png;base64," + base64.b64encode(png).decode()
    analysis = view.folder.table("warmup")
    msgs = verdicts(analysis) if not analysis.empty and "mser_truncation_day" in analysis else []
    if view.scenario.backlog is not None:
        text = "The run starts from a backlog, so nothing is discarded: the chart shows the lists settling from it."
    else:
        text = (
            f"Results leave out the first {view.scenario.run.warmup_days} days (the dashed line), while an empty "
            "system fills up. The dotted lines are where the MSER-5 rule would cut."
        )
    return (
        f'<h3 id="warm-up">Warm-up</h3><p>{esc(text)}</p>{warnings(msgs)}'
        f'<figure><img class="inset" src="{data}" alt="Warm-up: patients in the system over time">'
        "<figcaption>Patients in the system, mean across replications (Welch moving average).</figcaption></figure>"
    )
