"""Side-by-side tables for the terminal, with units and 95% intervals."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from sim.analysis.switchover_months import months_to_settle
from sim.base.lazy import later
from sim.report.labels import RETURN_PARTS, function_label
from sim.rtt.summary import SHAPED, STATISTICS, order_functions, parse_metric, returns_rows
from sim.scenario.columns import HEADLINE, column, find, first_waits
from sim.scenario.names import PRIME_SURPLUS_GBP
from sim.scenario.schema import Scenario

pd = later("pandas")

RETURN_UNITS = {"per_month": "count", "within_18w_pct": "pct", "median_weeks": "weeks", "p95_weeks": "weeks"}
RETURN_HEADINGS = ("Per month", "Within 18 wk (%)", "Median (wk)", "95th pct (wk)")
"""The columns of a table of the returns, one per statistic of :data:`sim.rtt.summary.STATISTICS`."""


LABEL_WIDTH = 18
"""Columns the row labels keep however many designs share a narrow terminal: a number
without its label is no answer."""


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
    if unit == "days":
        return f"{value:,.1f} d"
    if unit == "rate":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def plain(value: float, digits: int = 6) -> str:
    """A number to ``digits`` significant figures, never in E-notation: 1,500,000 and 0.005."""
    text = np.format_float_positional(float(value), precision=digits, fractional=False, trim="-")
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, part = text.partition(".")
    return f"{sign}{int(whole):,}" + (f".{part}" if part else "")


def pence(value: float) -> str:
    """A small sum to the penny (a price per head): £38.51."""
    return "–" if value is None or math.isnan(value) else f"{'-' if value < 0 else ''}£{abs(value):,.2f}"


def unit_of(metric: str) -> str:
    """A result column's unit; for a name no declaration describes, guessed from its ending."""
    returns = parse_metric(metric)
    if returns is not None:
        return RETURN_UNITS[returns.statistic]
    col = find(metric)
    if col is not None:
        return col.unit
    return "pct" if metric.endswith("_pct") else "gbp" if metric.endswith("_gbp") else "count"


def sweep_metrics(metric: str) -> list[str]:
    """What a sweep shows per grid point: the watched metric, then the list and the spend."""
    return [metric, *(m for m in ("waiting_list_end", "commissioner_cost_gbp") if m != metric)]


def _cell(summary: pd.DataFrame, scope: str, metric: str, unit: str, year: str) -> str:
    hit = summary[(summary["scope"] == scope) & (summary["metric"] == metric) & (summary["year"] == year)]
    if hit.empty or pd.isna(hit["mean"].iloc[0]):
        return "–"
    r = hit.iloc[0]
    if pd.isna(r["ci_low"]):
        return fmt(r["mean"], unit)
    half = (r["ci_high"] - r["ci_low"]) / 2
    return f"{fmt(r['mean'], unit)} [dim]± {fmt(half, unit).lstrip('-')}[/dim]"


def _scope_columns(table: Table, scopes: list[str]) -> None:
    """The label column, then one per scope: on a narrow terminal a cell wraps between its mean
    and its interval, and a heading between its words, never cut short."""
    table.add_column("Per year", style="bold", overflow="fold")  # no minimum: rich would widen it past the edge
    for s in scopes:
        table.add_column(s, justify="right", overflow="fold")


def scope_groups(scopes: list[str]) -> list[list[str]]:
    """The columns of a side-by-side table in groups that belong together: a design, then its
    difference from the baseline (``"prime - fragmented"`` follows ``"prime"``)."""
    groups: list[list[str]] = []
    for s in scopes:
        if groups and " - " in s:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def fitting(console: Console, scopes: list[str], build) -> list[Table]:
    """``build(scopes)`` as one table where it fits the console's width, else as several, each
    the first group (the baseline) and as many of the others as fit: on a narrow terminal the
    designs come one comparison at a time rather than with their numbers cut."""
    whole = build(scopes)
    if whole is None or len(scopes) < 3 or _minimum(console, whole) <= console.width:
        return [] if whole is None else [whole]
    first, *rest = scope_groups(scopes)
    chunks: list[list[str]] = []
    for group in rest:
        if chunks and _minimum(console, build([*first, *chunks[-1], *group])) <= console.width:
            chunks[-1] += group
        else:
            chunks.append(list(group))
    return [t for t in (build([*first, *c]) for c in chunks or [[]]) if t is not None]


def _minimum(console: Console, table: Table) -> int:
    """The fewest columns ``table`` takes without cutting a word (measured unbounded: a measure
    within the console's width would be capped at it)."""
    return Measurement.get(console, console.options.update_width(10_000), table).minimum


def summary_table(summary: pd.DataFrame, scopes: list[str], title: str, year: str = "all") -> Table:
    """The headline metrics for the given scopes (designs, then differences)."""
    table = Table(title=title, caption="Mean per contract year ± half-width of the 95% confidence interval", header_style="bold")
    _scope_columns(table, scopes)
    present = set(summary["metric"])
    # then each costed provider's income and what of its fixed cost is left uncovered
    providers = [m for m in dict.fromkeys(summary["metric"]) if m.startswith(("provider_income_", "provider_stranded_"))]
    for metric in (*HEADLINE, *sorted(providers, key=lambda m: (m.split("_", 2)[2], m))):
        if metric not in present:
            continue
        col = column(metric)
        cells = [_cell(summary, s, metric, col.unit, year) for s in scopes]
        if all(c == "–" for c in cells):
            continue
        table.add_row(col.brief, *cells)
    return table


def waits_table(summary: pd.DataFrame, scopes: list[str], year: str = "all") -> Table | None:
    """The wait for a first appointment at each service, and from listing to admission at the
    theatre: mean and 92nd centile for the given scopes (None when the summary has none, as a
    folder written before they were counted)."""
    metrics = first_waits(summary["metric"])
    if not metrics:
        return None
    table = Table(
        title="Waits at each service: referral to first appointment (theatre: listing to admission)",
        caption="Days, mean per contract year ± half-width of the 95% confidence interval; booking, the list and a "
        "missed first appointment's rebooking included",
        header_style="bold",
    )
    _scope_columns(table, scopes)
    for metric in metrics:
        cells = [_cell(summary, s, metric, "days", year) for s in scopes]
        if not all(c == "–" for c in cells):
            table.add_row(column(metric).brief, *cells)
    return table


def print_summary(summary: pd.DataFrame, scopes: list[str], title: str, console: Console | None = None) -> None:
    """The headline table, then the waits at each service."""
    console = console or Console()
    for table in fitting(console, scopes, lambda some: summary_table(summary, some, title)):
        console.print(table)
    for table in fitting(console, scopes, lambda some: waits_table(summary, some)):
        console.print(table)


def number(value: float, unit: str, like: float | None = None) -> str:
    """A number of the returns, bare (the heading gives the unit): one decimal, counts of 100 or
    more whole. ``like`` is the value whose size sets the decimals (an interval's ends follow its mean)."""
    if value is None or pd.isna(value):
        return "–"
    size = abs(value if like is None or pd.isna(like) else like)
    return f"{value:,.0f}" if unit == "count" and size >= 100 else f"{value:,.1f}"


def with_interval(r: pd.Series | None, unit: str) -> str:
    """``81.2 (79.8–82.6)``: the mean and its 95% interval; the mean alone without an interval."""
    if r is None or pd.isna(r["mean"]):
        return "–"
    mean = r["mean"]
    if pd.isna(r["ci_low"]):
        return number(mean, unit)
    return f"{number(mean, unit)} ({number(r['ci_low'], unit, mean)}–{number(r['ci_high'], unit, mean)})"


def returns_cells(summary: pd.DataFrame, scopes: list[str]) -> list[tuple[str, str, str, list[str]]]:
    """Per scope × treatment function × waited part (incomplete, admitted, non-admitted): the
    cells of its statistics over the whole horizon, mean (95% interval); none without returns."""
    rows = returns_rows(summary)
    if rows.empty:
        return []
    found = {(r.scope, r.treatment_function, r.part, r.statistic): r for _, r in rows.iterrows()}
    out = []
    for scope in scopes:
        for tf in order_functions(rows.loc[rows["scope"] == scope, "treatment_function"]):
            for part in SHAPED:
                cells = [with_interval(found.get((scope, tf, part, st)), RETURN_UNITS[st]) for st in STATISTICS]
                out.append((scope, tf, part, cells))
    return out


def returns_table(summary: pd.DataFrame, scopes: list[str]) -> Table | None:
    """The RTT returns in one table: per design and treatment function, the incomplete, admitted
    and non-admitted pathways (None when the summary has no returns)."""
    lines = returns_cells(summary, scopes)
    if not lines:
        return None
    table = Table(
        title="RTT returns (NHS shape), mean per month over the horizon",
        caption="Mean across replications (95% confidence interval). Incomplete: pathways waiting at month end; "
        "admitted, non-admitted: completed in the month. Waits pooled over the months.",
        header_style="bold",
    )
    # a terminal narrower than the table wraps a cell between its mean and its interval (under
    # about 100 columns, inside them too): folded, never cut off, so no number is lost
    for heading in ("Design", "Treatment function", "Part"):
        table.add_column(heading, overflow="fold")
    for heading in RETURN_HEADINGS:
        table.add_column(heading, justify="right", overflow="fold")
    for i, (scope, tf, part, cells) in enumerate(lines):
        new_scope = i == 0 or lines[i - 1][0] != scope
        new_function = new_scope or lines[i - 1][1] != tf
        last = i == len(lines) - 1 or lines[i + 1][0] != scope
        label = function_label(tf) if new_function else ""
        table.add_row(scope if new_scope else "", label, RETURN_PARTS[part], *cells, end_section=last)
    return table


def print_returns(summary: pd.DataFrame, scopes: list[str], console: Console | None = None) -> None:
    """Print :func:`returns_table` (nothing when the summary has no returns)."""
    table = returns_table(summary, scopes)
    if table is not None:
        (console or Console()).print(table)


SWITCH_MONTHS = (1, 2, 3, 4, 5, 6, 9, 12, 18, 24, 36, 48, 60)
"""The months of the contract the switch-over panel shows (those the run has)."""


def switch_over_table(table: pd.DataFrame, designs: dict[str, str], measure: str = "rtt_incomplete") -> Table:
    """One measure of a switch-over month by month: the old design, the new design taking
    over, its steady state, and whether the switch-over has settled."""
    label = {"rtt_incomplete": "RTT waiting list (incomplete pathways)"}.get(measure, measure)
    part = table[table["measure"] == measure]
    settle = months_to_settle(table).get(measure)
    when = "not within the run" if settle is None else f"{settle} month{'s' * (settle != 1)}"
    out = Table(title=f"Switch-over: {designs['design']}, {label}; steady state reached in {when}", header_style="bold")
    for col in ("Month", designs["from"], designs["design"], designs["steady"], "Difference (95% CI)", ""):
        out.add_column(col, justify="right" if col not in ("",) else "left", overflow="fold")
    digits = 1 if measure.endswith(("_pct", "_weeks")) else 0
    for _, r in part[part["month"].isin(SWITCH_MONTHS)].iterrows():
        diff = f"{r['difference']:+,.{digits}f} ({r['difference_lo']:+,.{digits}f} to {r['difference_hi']:+,.{digits}f})"
        out.add_row(
            str(int(r["month"])), f"{r['old_design_mean']:,.{digits}f}", f"{r['switch_over_mean']:,.{digits}f}",
            f"{r['steady_state_mean']:,.{digits}f}", diff, "settled" if r["settled"] else "",
        )  # fmt: skip
    return out


def settling_lines(table: pd.DataFrame) -> list[str]:
    """Per measure, the months the switch-over takes to reach the steady state."""
    out = []
    for measure, months in months_to_settle(table).items():
        out.append(f"{measure}: {'not within the run' if months is None else f'{months} month' + 's' * (months != 1)}")
    return out


def print_switch_over(table: pd.DataFrame, designs: dict[str, str], console: Console | None = None) -> None:
    """The switch-over panel: the RTT list month by month, then every measure's time to settle."""
    console = console or Console()
    if table.empty:
        return
    console.print(switch_over_table(table, designs))
    console.print(
        "Months to the steady state (the difference within 5% of it, 1 point for a percentage, or not "
        "distinguishable from 0, from then on):"
    )
    for line in settling_lines(table):
        console.print(f"  {line}")


def print_beside(table: pd.DataFrame, title: str, console: Console | None = None) -> None:
    """Simulated RTT returns beside published ones (:func:`sim.rtt.compare.beside`): per
    treatment function and part, the published mean (range over months) and the simulated
    mean (range over replications) of the count a month, within 18 weeks, median and 95th centile."""
    out = Table(title=title, header_style="bold")
    for col in ("Function", "Part", "Per month", "Within 18 weeks (%)", "Median (weeks)", "95th centile (weeks)"):
        out.add_column(col, justify="left" if col in ("Function", "Part") else "right", overflow="fold")

    def cell(r: pd.Series, who: str, stat: str, digits: int) -> str:
        mean, low, high = r[f"{who}_{stat}"], r[f"{who}_{stat}_low"], r[f"{who}_{stat}_high"]
        if pd.isna(mean):
            return "–"
        return f"{mean:,.{digits}f} [dim]({low:,.{digits}f}–{high:,.{digits}f})[/dim]"

    for _, r in table.iterrows():
        for who in ("published", "simulated"):
            out.add_row(
                str(r["treatment_function"]) if who == "published" else "", f"{r['part']}, {who}",
                cell(r, who, "per_month", 0), cell(r, who, "within_18w_pct", 1),
                cell(r, who, "median_weeks", 1), cell(r, who, "p95_weeks", 1),
            )  # fmt: skip
    (console or Console()).print(out)


STRUCTURE_MEASURES = ("rtt_incomplete_within_18w_pct", "rtt_wait_median_weeks", "waiting_list_end", "commissioner_cost_gbp",
                      PRIME_SURPLUS_GBP)  # fmt: skip
"""What the table of capacity structures shows, after each treatment function's 18-week share."""


def structure_rows(
    summary: pd.DataFrame, structures: dict[str, list[str]], scenario: Scenario
) -> tuple[list[str], list[list[str]]]:
    """Each design with capacity structures the returns cannot tell apart, under each, and the
    range: the headings (``prime (queue)``, ``prime_delay (delay)``) and rows of label, values,
    range (mean per contract year, the same patients); no rows without structures."""
    if summary.empty or not structures:
        return [], []
    runs: list[tuple[str, str]] = []
    for name, (base, structure) in structures.items():
        if (base, scenario.designs[base].active_structure) not in runs:
            runs.append((base, scenario.designs[base].active_structure))
        runs.append((name, structure))
    functions = [m for m in dict.fromkeys(summary["metric"]) if (p := parse_metric(m)) is not None
                 and p.part == "incomplete" and p.statistic == "within_18w_pct"]  # fmt: skip
    rows = []
    for metric in [*functions, *STRUCTURE_MEASURES]:
        unit = "pct" if metric in functions else unit_of(metric)
        values = []
        for name, _ in runs:
            hit = summary[(summary["scope"] == name) & (summary["metric"] == metric) & (summary["year"].astype(str) == "all")]
            values.append(float(hit["mean"].iloc[0]) if len(hit) else math.nan)
        shown = [v for v in values if not math.isnan(v)]
        if not shown:
            continue
        of = parse_metric(metric)
        label = f"{function_label(of.treatment_function)}: within 18 weeks" if of is not None else column(metric).label
        rows.append([label, *(fmt(v, unit) for v in values), f"{fmt(min(shown), unit)} to {fmt(max(shown), unit)}"])
    return [f"{name} ({structure})" for name, structure in runs], rows


STRUCTURES_TITLE = "Under each capacity structure the returns allow (they cannot tell which holds)"


def structures_table(summary: pd.DataFrame, structures: dict[str, list[str]], scenario: Scenario) -> Table | None:
    """:func:`structure_rows` as a terminal table (None without structures)."""
    headings, rows = structure_rows(summary, structures, scenario)
    if not rows:
        return None
    table = Table(title=STRUCTURES_TITLE, header_style="bold", caption="Mean per contract year, the same patients under each")
    table.add_column("Per year", style="bold", overflow="fold", min_width=LABEL_WIDTH)
    for heading in headings:
        table.add_column(heading, justify="right", overflow="fold")
    table.add_column("Range", justify="right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


