"""The RTT returns as the NHS publishes them: incomplete pathways by week band, and each part's numbers.

Read from ``rtt_returns.csv``; a folder written before the model made returns gets a one-line note.
"""

from __future__ import annotations

from sim.base.lazy import later
from sim.report import charts
from sim.report.labels import RETURN_PARTS, function_label
from sim.report.page import Section, esc, figure
from sim.report.terminal import RETURN_HEADINGS, RETURN_UNITS, number
from sim.report.view import View
from sim.rtt.bands import BAND_LABELS, STANDARD_WEEKS
from sim.rtt.summary import SHAPED, STATISTICS, order_functions, returns_rows, summarise_returns

pd = later("pandas")

GROUPED_FROM = 52
"""Bands from this week on are shown as one bar (``52+``): long waits are few and would stretch the axis."""
NO_RETURNS = "This folder has no rtt_returns.csv (written before the model made RTT returns): nothing to show here."


def incomplete_bands(returns: pd.DataFrame, designs: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """Per treatment function, the mean number of incomplete pathways per month end in each band,
    a row per design: bands up to the last one anyone waits in, from week 52 on grouped as ``52+``."""
    inc = returns[(returns["part"] == "incomplete") & (returns["year"] >= 1)]  # year 0: the lists at the start
    if inc.empty:
        return []
    bands = list(BAND_LABELS)
    # month ends of each design's replications, whatever treatment functions they had pathways in
    ends = inc.groupby("design")[["replication", "month"]].apply(lambda f: len(f.drop_duplicates()))
    sums = inc.groupby(["treatment_function", "design"])[bands].sum()
    means = sums.div(ends.reindex(sums.index.get_level_values("design")).to_numpy(), axis=0)
    used = [k for k, b in enumerate(bands) if means[b].gt(0).any()]
    if not used:
        return []
    last = used[-1]
    # at least a band past the standard, so that its line is drawn however short the waits
    shown = bands[: min(max(last, STANDARD_WEEKS + 1), GROUPED_FROM - 1) + 1]
    frame = means[shown].copy()
    if last >= GROUPED_FROM:
        frame[f"{GROUPED_FROM}+"] = means[bands[GROUPED_FROM:]].sum(axis=1)
    functions = order_functions(frame.index.get_level_values("treatment_function"))
    out = []
    for tf in functions:
        part = frame.xs(tf, level="treatment_function")
        out.append((function_label(tf, short=False), part.reindex([d for d in designs if d in part.index])))
    return out


def numbers_table(summary: pd.DataFrame, designs: list[str]) -> str:
    """Per design × treatment function × waited part: its statistics over the horizon, mean and 95% interval."""
    rows = returns_rows(summary)
    found = {(r.scope, r.treatment_function, r.part, r.statistic): r for _, r in rows.iterrows()}
    body = ""
    for design in designs:
        for tf in order_functions(rows.loc[rows["scope"] == design, "treatment_function"]):
            for i, part in enumerate(SHAPED):
                lead = f"<td>{esc(design)}</td><td>{esc(function_label(tf))}</td>" if i == 0 else "<td></td><td></td>"
                cells = "".join(_cell(found.get((design, tf, part, st)), RETURN_UNITS[st]) for st in STATISTICS)
                body += f"<tr>{lead}<td>{esc(RETURN_PARTS[part])}</td>{cells}</tr>"
    head = "".join(f"<th>{esc(h)}</th>" for h in ("Design", "Treatment function", "Part", *RETURN_HEADINGS))
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def _cell(r: pd.Series | None, unit: str) -> str:
    if r is None or pd.isna(r["mean"]):
        return "<td>–</td>"
    mean = r["mean"]
    ci = (
        f'<br><span class="ci">{number(r["ci_low"], unit, mean)} to {number(r["ci_high"], unit, mean)}</span>'
        if pd.notna(r["ci_low"])
        else ""
    )
    return f"<td>{number(mean, unit)}{ci}</td>"


def returns_section(view: View) -> Section | None:
    """Incomplete pathways by week band per treatment function, and the summary numbers of each part.

    None when the folder has no result rows; a one-line note when it has no returns.
    """
    if view.table.empty:
        return None
    returns = view.csv("rtt_returns")
    title = "RTT returns by treatment function"
    if returns.empty:
        return Section("rtt-returns", title, f'<p class="note">{esc(NO_RETURNS)}</p>')
    designs = [d for d in view.designs if d in set(returns["design"])]
    pair = view.pair if all(d in designs for d in view.pair) else []
    summary = summarise_returns(returns, *pair)
    body = view.point_note() + (
        "<p>Referral-to-treatment pathways counted as the NHS's monthly returns count them, by treatment function: "
        "incomplete pathways still waiting at each month end, and pathways completed in the month by an admission "
        "(admitted) or without one (non-admitted), by whole weeks waited.</p>"
    )
    panels = incomplete_bands(returns, designs)
    if panels:
        fig = charts.return_bands(panels, designs, STANDARD_WEEKS)
        body += figure(
            fig,
            f"Bars per week band, designs side by side; the dashed line is the {STANDARD_WEEKS}-week standard, "
            f"waits from {GROUPED_FROM} weeks are one bar.",
        )
    body += "<h3>Waits by part, over the whole horizon</h3>" + (
        '<p class="small">Mean across replications with its 95% interval; each part\'s counts pooled over the months. '
        "Per month: incomplete pathways at month end, or pathways completed in the month.</p>"
    )
    body += numbers_table(summary, designs)
    return Section("rtt-returns", title, body)
