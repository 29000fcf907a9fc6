"""Side-by-side tables for the terminal, with units and 95% intervals."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.metrics import HEADLINE


def fmt(value: float, unit: str) -> str:
    """A number as a person reads it: thousands separators, £ with k/m, % and weeks."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "gbp":
        a = abs(value)
        sign = "-" if value < 0 else ""
        if a >= 1e6:
            return f"{sign}£{a / 1e6:,.2f}m"
        if a >= 1e3:
            return f"{sign}£{a / 1e3:,.0f}k"
        return f"{sign}£{a:,.0f}"
    if unit == "pct":
        return f"{value:,.1f}%"
    if unit == "ratio":
        return f"{value * 100:,.1f}%"
    if unit == "weeks":
        return f"{value:,.1f} wk"
    if unit == "rate":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _cell(summary: pd.DataFrame, scope: str, metric: str, unit: str, year: str) -> str:
    hit = summary[(summary["scope"] == scope) & (summary["metric"] == metric) & (summary["year"] == year)]
    if hit.empty or pd.isna(hit["mean"].iloc[0]):
        return "–"
    r = hit.iloc[0]
    if pd.isna(r["ci_low"]):
        return fmt(r["mean"], unit)
    half = (r["ci_high"] - r["ci_low"]) / 2
    return f"{fmt(r['mean'], unit)} [dim]± {fmt(half, unit).lstrip('-')}[/dim]"


def summary_table(summary: pd.DataFrame, scopes: list[str], title: str, year: str = "all") -> Table:
    """The headline metrics for the given scopes (designs, then differences)."""
    table = Table(title=title, caption="Mean per contract year ± half-width of the 95% confidence interval", header_style="bold")
    table.add_column("Per year", style="bold", ratio=1, overflow="fold")
    for s in scopes:
        table.add_column(s, justify="right", no_wrap=True)
    present = set(summary["metric"])
    for metric, label, unit in HEADLINE:
        if metric not in present:
            continue
        cells = [_cell(summary, s, metric, "pct" if unit == "pct" else unit, year) for s in scopes]
        if all(c == "–" for c in cells):
            continue
        table.add_row(label, *cells)
    return table


def print_summary(summary: pd.DataFrame, scopes: list[str], title: str, console: Console | None = None) -> None:
    (console or Console()).print(summary_table(summary, scopes, title))
