"""The national batch's report: where capacity is short, where the model can be trusted, and
what the compared design would change, area by area (``national.html``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sim import __version__
from sim.base.lazy import later
from sim.report.charts import COLOURS, subplots
from sim.report.page import Section, esc, figure, render, warnings

pd = later("pandas")

MEASURES = (
    ("list", "T&O list size", "% of the published list"),
    ("within_18w", "T&O within 18 weeks", "points"),
    ("median", "T&O median wait", "weeks"),
)
"""The back-test's measures: the columns' short name, what it is and its unit."""

SHOWN = 25
"""Rows of each ranking shown; ``national.csv`` has every area."""


def _n(x: Any, digits: int = 1) -> str:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return esc(x)
    return "" if math.isnan(value) else f"{value:,.{digits}f}"


def _interval(row: pd.Series, name: str, digits: int = 1) -> str:
    mean = _n(row.get(name, math.nan), digits)
    low, high = _n(row.get(f"{name}_low", math.nan), digits), _n(row.get(f"{name}_high", math.nan), digits)
    return f'{mean} <span class="ci">({low} to {high})</span>' if mean else ""


def _cell(value: Any) -> str:
    """A table cell: words to the left, numbers to the right."""
    return f'<td style="text-align:left">{esc(value)}</td>' if isinstance(value, str) else f"<td>{_n(value)}</td>"


def _table(rows: pd.DataFrame, columns: list[tuple[str, str]], cells: dict[str, Any] | None = None) -> str:
    cells = cells or {}
    head = "".join(f"<th>{esc(title)}</th>" for _, title in columns)
    body = []
    for _, r in rows.iterrows():
        tds = [f"<td>{cells[col](r)}</td>" if col in cells else _cell(r.get(col, "")) for col, _ in columns]
        body.append(f"<tr>{''.join(tds)}</tr>")
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>'


def caveat(nat: Any) -> str:
    """Said first and loudly: which side of each pair is fitted to the area, and which is not."""
    s, cfg = nat.template, nat.settings
    others = []
    for d in cfg.others:
        fitted = s.designs[d].fitted_to
        others.append(f"'{d}' ({'fitted to ' + fitted if fitted else 'fitted to no returns'})")
    return warnings([
        f"Only one side of each comparison is fitted to the area. The '{cfg.design}' design is fitted to each "
        f"area's own returns; {', '.join(others)} {'is' if len(others) == 1 else 'are'} the template's, scaled to "
        "the area's population and run on the same patients. A difference says what that design would do with "
        "this area's patients and this area's fitted hospital, not what any such design did there.",
    ])  # fmt: skip


def short_capacity(done: pd.DataFrame) -> str:
    """Areas ranked by the fitted T&O clinic or theatre load: where capacity is shortest."""
    if done.empty:
        return "<p>No area finished.</p>"
    ranked = done.assign(_load=done[["t_and_o_load", "theatre_load"]].max(axis=1)).sort_values("_load", ascending=False)
    cols = [
        ("code", "Code"), ("name", "Area"), ("population", "Population"), ("t_and_o_load", "T&O clinic load"),
        ("theatre_load", "Theatre load"), ("published_110_within_18w_pct", "Published within 18 w (%)"),
        ("fitted_110_within_18w_pct", "Fitted within 18 w (%)"), ("published_110_median_weeks", "Published median (w)"),
        ("flags", "Flags"),
    ]  # fmt: skip
    cells = {"population": lambda r: _n(r["population"], 0), "t_and_o_load": lambda r: _n(r["t_and_o_load"], 2),
             "theatre_load": lambda r: _n(r["theatre_load"], 2)}  # fmt: skip
    return (
        "<p>The load is what the traffic equations ask of the fitted capacity in the first contract year (1 = "
        "all of it). Highest first; the fit holds capacity at or above demand over 1.05, so a load near that "
        f"says the returns' list is made by capacity, not by booking delays. {min(SHOWN, len(ranked))} of "
        f"{len(ranked)} areas shown.</p>" + _table(ranked.head(SHOWN), cols, cells)
    )


def trust(done: pd.DataFrame, bt: pd.DataFrame) -> str:
    """The spread of back-test errors, the model's beside the naive forecast's, and the areas ranked."""
    if bt.empty or "backtest_beats_naive" not in done:
        return "<p>No months were held out (--holdout 0): there is no back-test.</p>"
    fig, axes = subplots(1, len(MEASURES), figsize=(10, 3.2))
    for ax, (short, what, unit) in zip(axes, MEASURES, strict=True):
        model = done[f"backtest_{short}_error"].dropna()
        naive = done[f"naive_{short}_error"].dropna()
        parts = ax.boxplot([model, naive], showfliers=True, patch_artist=True)
        for patch, colour in zip(parts["boxes"], COLOURS, strict=False):
            patch.set_facecolor(colour)
            patch.set_alpha(0.5)
        ax.set_xticks([1, 2], ["model", "naive"])
        ax.set_title(what, fontsize=9)
        ax.set_ylabel(f"absolute error ({unit})", fontsize=8)
    beats = int((done["backtest_beats_naive"] >= 2).sum())
    within = int((done["backtest_within_tolerance"] == len(MEASURES)).sum())
    cols = [("code", "Code"), ("name", "Area"), ("backtest_within_tolerance", "Measures within the fit's tolerance (of 3)"),
            ("backtest_beats_naive", "Measures at least as good as naive (of 3)"),
            *((f"backtest_{s}_error", f"{w}: model") for s, w, _ in MEASURES),
            *((f"naive_{s}_error", f"{w}: naive") for s, w, _ in MEASURES), ("fit_loss", "Fit loss")]  # fmt: skip
    ranked = done.sort_values(["backtest_within_tolerance", "backtest_beats_naive", "backtest_list_error"],
                              ascending=[False, False, True])  # fmt: skip
    whole = {c: (lambda r, c=c: _n(r[c], 0)) for c in ("backtest_within_tolerance", "backtest_beats_naive")}
    return (
        f"<p>Each area's fitted model forecasts its held-out months; the naive forecast carries the last fitted "
        f"month forward, a hard forecast to beat a month or two ahead. The model's forecast is within the fit's "
        f"tolerances (list 15%, share within 18 weeks 5 points, median 2 weeks) on all three measures in {within} "
        f"of {len(done)} areas, and at least as good as the naive forecast on two or three of them in {beats}. A fit "
        "loss above 1 misses its in-sample tolerances.</p>"
        + figure(fig, "Absolute back-test errors on the held-out months, every area: the model and the naive forecast")
        + _table(ranked.head(SHOWN), cols, whole)
    )


def differences(done: pd.DataFrame, nat: Any) -> str:
    """Each compared design's paired difference in T&O waits, activity and spend, areas ranked."""
    cfg = nat.settings
    out = []
    for other in cfg.others:
        base = f"{other}_minus_{cfg.design}_"
        key = f"{base}110_incomplete_within_18w_pct"
        if key not in done:
            continue
        ranked = done.sort_values(key, ascending=False)
        cols = [("code", "Code"), ("name", "Area"), (key, "T&O within 18 w (points)"),
                (f"{base}110_incomplete_median_weeks", "T&O median wait (weeks)"),
                (f"{base}first_op_attendances", "First outpatient attendances a year"),
                (f"{base}commissioner_cost_with_outside_gbp", "Commissioner's spend a year (GBP)")]  # fmt: skip
        cells = {c: (lambda r, c=c: _interval(r, c, 0 if c.endswith(("gbp", "attendances")) else 1)) for c, _ in cols[2:]}
        out.append(
            f"<h3>{esc(other)} − {esc(cfg.design)}</h3><p>Mean over the contract years, paired by replication, with "
            f"its 95% interval; the largest gain in T&O within 18 weeks first.</p>" + _table(ranked.head(SHOWN), cols, cells)
        )
    return "".join(out) or "<p>No design compared.</p>"


def failed(table: pd.DataFrame) -> str:
    bad = table[table["status"] != "done"]
    if bad.empty:
        return "<p>Every area asked finished.</p>"
    return f"<p>{len(bad)} area(s) did not finish; the others are unaffected.</p>" + _table(
        bad, [("code", "Code"), ("name", "Area"), ("error", "Why")]
    )


def national_report(nat: Any, table: pd.DataFrame, bt: pd.DataFrame) -> str:
    """The whole page."""
    done = table[table["status"] == "done"] if not table.empty else table
    lead = (
        f'<p class="lead">{len(done)} of {len(table)} areas fitted to their own published RTT returns '
        f"({esc(', '.join(nat.months))}), {nat.settings.holdout} month(s) held out for the back-test, and run "
        f"against {esc(', '.join(nat.settings.others))} on the same patients. Every row is in national.csv.</p>"
    )
    estimated = int((~done["population_source"].astype(str).str.startswith("population file")).sum()) if len(done) else 0
    notes = (
        f"<p class=\"note\">Populations: {estimated} of {len(done)} estimated from the area's share of England's "
        "all-specialty clock stops (national.csv says how, per area); --population FILE gives them.</p>"
    )
    sections = [
        Section("national", "Areas", lead + caveat(nat) + notes),
        Section("capacity", "Where capacity is short", short_capacity(done)),
        Section("trust", "Where the model can be trusted", trust(done, bt)),
        Section("designs", "What the compared design would change", caveat(nat) + differences(done, nat)),
        Section("failed", "Areas that did not finish", failed(table)),
    ]
    title = nat.template.model_copy(update={"name": f"{nat.template.name} in {len(table)} areas"})  # the page's title
    return render(title, {"finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "msksim_version": __version__},
                  sections)  # fmt: skip
