"""Side-by-side tables for the terminal, with units and 95% intervals."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from sim.analysis.transition import months_to_settle
from sim.base.lazy import later
from sim.base.metrics import HEADLINE
from sim.money.cash import COVER as CASH_COVER
from sim.money.cash import HORIZONS as CASH_HORIZONS
from sim.report.labels import RETURN_PARTS, function_label, key_label, value_text
from sim.rtt.summary import SHAPED, STATISTICS, order_functions, parse_metric, returns_rows
from sim.scenario.columns import column, find, first_waits
from sim.scenario.loading import overridden
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


def print_bid(summary: pd.DataFrame, swings: pd.DataFrame, scenario, price: float, console: Console | None = None) -> None:
    """The bid stress test in one screen: the headline risks, then year by year, then what moves it."""
    console = console or Console()

    def get(metric: str, year: str = "all") -> pd.Series:
        return summary[(summary["metric"] == metric) & (summary["year"] == year)].iloc[0]

    def money_ci(metric: str, year: str = "all") -> str:
        r = get(metric, year)
        if pd.isna(r["ci_low"]):
            return fmt(r["mean"], "gbp")
        return f"{fmt(r['mean'], 'gbp')} [dim]({fmt(r['ci_low'], 'gbp')} to {fmt(r['ci_high'], 'gbp')})[/dim]"

    n = int(get("cumulative_surplus_gbp")["n"])
    per_head = get("bid_per_head_gbp")["mean"]
    title = f"{scenario.name}: bid of {fmt(price, 'gbp')} in year 1 ({pence(per_head)} a head), {n} replications"
    head = Table(title=title, header_style="bold")
    head.add_column("Over the whole contract", style="bold", overflow="fold")
    head.add_column("", justify="right", overflow="fold")
    head.add_row("Expected cumulative surplus (95% CI)", money_ci("cumulative_surplus_gbp"))
    rate = get("discount_rate")["mean"]
    head.add_row(f"Net present value at {rate:.1%} a year (95% CI)", money_ci("cumulative_surplus_npv_gbp"))
    head.add_row("Expected margin on income", fmt(get("margin_pct")["mean"], "pct"))

    def share_ci(metric: str, year: str = "all") -> str:
        r = get(metric, year)
        if pd.isna(r["ci_low"]):
            return fmt(100 * r["mean"], "pct")
        return f"{fmt(100 * r['mean'], 'pct')} [dim]({fmt(100 * r['ci_low'], 'pct')} to {fmt(100 * r['ci_high'], 'pct')})[/dim]"

    head.add_row("Probability of a loss in year 1 (95% Wilson CI)", share_ci("loss_probability_year1"))
    head.add_row("Probability of a loss in any year", share_ci("loss_probability_any_year"))
    head.add_row("Probability of a cumulative loss", share_ci("loss_probability_cumulative"))
    head.add_row("Cumulative surplus, 5th percentile", fmt(get("cumulative_surplus_p5_gbp")["mean"], "gbp"))
    head.add_row("5% value at risk (loss at the 5th percentile)", fmt(get("value_at_risk_5pct_gbp")["mean"], "gbp"))
    head.add_row("Commissioner spend (whole contract)", money_ci("commissioner_cost_total_gbp"))
    head.add_row(f"Commissioner spend, net present value at {rate:.1%}", money_ci("commissioner_cost_total_npv_gbp"))
    head.add_row("Commissioner gain-share income", money_ci("commissioner_gain_share_total_gbp"))
    risk = get("max_loss_probability")["mean"]
    safe = get("safe_price_year1_gbp")
    bounds = "no 95% bounds on so few paths" if pd.isna(safe["ci_high"]) else (
        f"{fmt(safe['ci_low'], 'gbp')} to {fmt(safe['ci_high'], 'gbp')}"
    )  # fmt: skip
    head.add_row(
        f"Lowest year-1 price with P(cumulative loss) ≤ {risk:.0%} (order-statistic 95% bounds, {int(safe['n'])} paths)",
        f"[bold]{fmt(safe['mean'], 'gbp')}[/bold] [dim]({bounds})[/dim]",
    )
    head.add_row("  the same, per head of the population covered", pence(get("safe_price_per_head_gbp")["mean"]))
    if (summary["metric"] == "cash_low_point_gbp").any():
        reserve = get("reserve_gbp")["mean"]
        held = f"Reserve of {fmt(reserve, 'gbp')}" if reserve > 0 else "Cash (no --reserve given)"
        head.add_row("Cash: lowest running balance, mean (95% CI)", money_ci("cash_low_point_gbp"))
        for months in CASH_HORIZONS:
            head.add_row(f"{held} runs out within {months} months", share_ci(f"reserve_exhausted_probability_{months}m"))
        head.add_row(f"{held} runs out during the contract", share_ci("reserve_exhausted_probability_contract"))
        buffer = get(f"cash_buffer_{int(CASH_COVER * 100)}pct_gbp")
        head.add_row(
            f"Cash buffer (reserve plus guarantee) for a {CASH_COVER:.0%} chance of never running out",
            f"[bold]{fmt(buffer['mean'], 'gbp')}[/bold]",
        )
    console.print(head)

    years = sorted({y for y in summary["year"] if y != "all"}, key=int)
    per_year = Table(title="Year by year (mean, 95% CI)", header_style="bold")
    for col in ("Year", "Prime surplus", "P(loss)", "Commissioner spend", "Gain share"):
        per_year.add_column(col, justify="right", overflow="fold")
    for y in years:
        per_year.add_row(
            y,
            money_ci("prime_surplus_gbp", y),
            share_ci("loss_probability", y),
            fmt(get("commissioner_cost_gbp", y)["mean"], "gbp"),
            fmt(get("commissioner_gain_share_gbp", y)["mean"], "gbp"),
        )
    console.print(per_year)

    tornado = Table(title="What moves the cumulative surplus (low / high swing)", header_style="bold")
    for col in ("Input", "Low", "High", "Surplus at low", "Surplus at high", "Swing"):
        tornado.add_column(col, justify="right" if col != "Input" else "left", overflow="fold")
    for r in swings.itertuples():
        tornado.add_row(
            r.input,
            plain(r.low),
            plain(r.high),
            fmt(r.surplus_at_low_gbp, "gbp"),
            fmt(r.surplus_at_high_gbp, "gbp"),
            fmt(r.swing_gbp, "gbp"),
        )
    console.print(tornado)


def print_sweep(
    summary: pd.DataFrame, keys: list[str], metric: str, console: Console | None = None, scenario: Scenario | None = None
) -> None:
    """One line per grid point and design: the watched metric with its interval, waits and cost,
    then the verdict of :func:`sweep_verdicts` (``scenario`` tells which stages carry a clock)."""
    console = console or Console()
    table = Table(title=f"Sweep over {', '.join(keys)} (mean per year, 95% CI)", header_style="bold")
    for k in keys:
        table.add_column(k, justify="right", overflow="fold")  # a key path is never cut short
    table.add_column("design", overflow="fold")
    shown = [(m, unit_of(m)) for m in sweep_metrics(metric)]
    costed = summary[summary["metric"] == "capacity_cost_gbp"]
    if metric != "capacity_cost_gbp" and costed["mean"].notna().any():  # what each point's capacity costs the providers
        shown.append(("capacity_cost_gbp", "gbp"))
    for m, _ in shown:
        table.add_column(m, justify="right", overflow="fold")
    for (_, design), part in summary.groupby(["point", "design"], sort=True):
        cells = [str(part[k].iloc[0]) for k in keys] + [str(design)]
        for m, unit in shown:
            hit = part[part["metric"] == m]
            if hit.empty:
                cells.append("–")
                continue
            r = hit.iloc[0]
            text = (
                f"{fmt(r['mean'], unit)} ± {fmt((r['ci_high'] - r['ci_low']) / 2, unit)}"
                if pd.notna(r["ci_low"])
                else fmt(r["mean"], unit)
            )
            if is_18_week_share(m):  # green only when the whole interval meets the standard
                low = r["ci_low"] if pd.notna(r["ci_low"]) else r["mean"]
                text = f"[green]{text}[/green]" if low >= 92 else f"[red]{text}[/red]" if r["mean"] < 92 else text
            cells.append(text)
        table.add_row(*cells)
    console.print(table)
    for design, verdict in sweep_verdicts(summary, keys, metric, scenario).items():
        console.print(f"  {design}: {verdict}")


def clock_covers(scenario: Scenario, design: str, key: str) -> bool | None:
    """Whether the 18-week (RTT) measure of ``design`` covers the stage a swept ``key`` changes.

    Clocks start at consultant-led and interface services; a service that is neither (such
    as physio) is covered only when patients reach it with a clock running, which is so when
    the design's single point of access starts one. ``None`` when the key is not a stage's
    (the theatre, demand, money...), which every clock covers."""
    parts = key.split(".")
    if parts[0] != "stages" or len(parts) < 3 or design not in scenario.designs:
        return None
    d = scenario.designs[design]
    stage = scenario.design_stages(design).get(parts[1])
    if stage is None:
        return False
    entry = scenario.design_stages(design).get(d.entry)
    return stage.consultant_led or (entry is not None and entry.consultant_led)


def sweep_verdicts(
    summary: pd.DataFrame, keys: list[str], metric: str, scenario: Scenario | None = None, plain: bool = False
) -> dict[str, str]:
    """Per design, the smallest value of the first swept key whose 95% interval lies at or above
    the 92% standard (for each combination of the other keys' values, in a sweep of several).

    Judged on the interval's lower end, not the mean: with few replications a mean above 92%
    can sit on an interval reaching far below it. Only for the 18-week measure; where the
    design's clock does not cover the swept stage, says so instead. When the smallest value
    tried already meets it, says the threshold may lie lower. ``plain`` names the key and its
    values in words (for the HTML report)."""
    if not is_18_week_share(metric) or not keys:
        return {}
    out = _verdicts_by_others(summary, keys, metric, scenario, plain) if len(keys) > 1 else _verdicts(
        summary, keys[0], metric, scenario, plain)  # fmt: skip
    if scenario is not None:  # a value that did not reach a design is not ranked for it
        for design, winner in overridden(scenario, keys[0], list(out)).items():
            out[design] = (
                f"{keys[0]} does not change this design: {winner} wins there, so every point ran it alike and no "
                f"value is ranked; sweep {winner} to size it"
            )
    return out


def is_18_week_share(metric: str) -> bool:
    """Whether ``metric`` is a share of incomplete pathways within 18 weeks: pooled, or one function's."""
    parsed = parse_metric(metric)
    if parsed is not None:
        return parsed.part == "incomplete" and parsed.statistic == "within_18w_pct"
    return metric == "rtt_incomplete_within_18w_pct"


def _verdicts(summary: pd.DataFrame, key: str, metric: str, scenario: Scenario | None, plain: bool) -> dict[str, str]:
    """:func:`sweep_verdicts` for a sweep of one key."""
    name = key_label(key).lower() if plain else key

    def value(v: object) -> str:
        return value_text(key, v) if plain else str(v)

    out = {}
    for design, part in summary[summary["metric"] == metric].groupby("design", sort=False):
        covered = clock_covers(scenario, str(design), key) if scenario is not None else None
        if covered is False:
            stage = key.split(".")[1].replace("_", " ")
            out[str(design)] = (
                f"{stage} carries no 18-week clock in this design (not consultant-led, and no clock reaches it), "
                f"so the 18-week measure does not cover it: this sweep cannot show whether {stage} meets 92%"
            )
            continue
        caveat = ""
        if covered is None and scenario is None and key.startswith("stages."):
            stage = key.split(".")[1].replace("_", " ")
            caveat = (
                f"; this holds only if {stage} carries an 18-week clock in this design (consultant-led services "
                "do, and others reached with a clock running)"
            )
        part = part.sort_values(key)
        low = part["ci_low"].where(part["ci_low"].notna(), part["mean"])
        ok = part[low >= 92]
        interval = part["ci_low"].notna().all()
        basis = "the lower end of its 95% interval" if interval else "its mean (too few replications for an interval)"
        if ok.empty:
            best = part.loc[low.idxmax()]
            out[str(design)] = (
                f"no value of {name} meets 92% within 18 weeks judged on {basis} "
                f"(best: {fmt(low.max(), 'pct')} at {value(best[key])}){caveat}"
            )
        else:
            r = ok.iloc[0]
            lowest = r.name == part.index[0]
            out[str(design)] = (
                f"smallest {name} meeting 92% within 18 weeks, judged on {basis}: {value(r[key])} "
                f"(lower end {fmt(low.loc[r.name], 'pct')}, mean {fmt(r['mean'], 'pct')})"
                + (" — the lowest value tried, so the threshold may lie lower: sweep lower values to find it" if lowest else "")
                + caveat
            )
    return out


def _verdicts_by_others(
    summary: pd.DataFrame, keys: list[str], metric: str, scenario: Scenario | None, plain: bool
) -> dict[str, str]:
    """The one-key verdict on the first key, for each combination of the other keys' values."""
    first, others = keys[0], keys[1:]
    lines: dict[str, list[str]] = {}
    for values, part in summary.groupby(others, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        where = ", ".join(f"{value_text(k, v) if plain else f'{k} = {v}'}" for k, v in zip(others, values, strict=True))
        for design, verdict in sweep_verdicts(part, [first], metric, scenario, plain).items():
            lines.setdefault(design, []).append(f"with {where}: {verdict}")
    return {design: "\n    ".join(found) for design, found in lines.items()}


STRUCTURE_MEASURES = ("rtt_incomplete_within_18w_pct", "rtt_wait_median_weeks", "waiting_list_end", "commissioner_cost_gbp",
                      "prime_surplus_gbp")  # fmt: skip
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


TAKEOVER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Extra cost", "extra_cost_gbp", "gbp"),
    ("of which mobilisation", "extra_mobilisation_gbp", "gbp"),
    ("Extra surplus", "extra_surplus_gbp", "gbp"),
    ("P(loss) with", "loss_probability_with", "probability"),
    ("P(loss) without", "loss_probability_without", "probability"),
    ("Extra waiting at year end", "extra_waiting_list_end", "patients"),
)
"""The columns of the takeover's year-by-year table: heading, measure of ``takeover.csv``, unit."""


def print_takeover(table: pd.DataFrame, names: dict[str, str], console: Console | None = None) -> None:
    """What taking over adds to the bid, year by year, paired on the same patients (``takeover.csv``)."""
    console = console or Console()
    by = table.assign(year=table["year"].astype(str)).set_index(["metric", "year"])

    def cell(metric: str, year: str, unit: str) -> str:
        if (metric, year) not in by.index:
            return "–"
        r = by.loc[(metric, year)]
        scale = 100.0 if unit == "probability" else 1.0
        shown = "pct" if unit == "probability" else unit
        text = fmt(scale * r["mean"], shown) if unit != "patients" else f"{r['mean']:+,.0f}"
        if pd.isna(r["ci_low"]) or r["ci_low"] == r["ci_high"] or unit == "probability":
            return text
        low, high = scale * r["ci_low"], scale * r["ci_high"]
        ends = (fmt(low, shown), fmt(high, shown)) if unit != "patients" else (f"{low:+,.0f}", f"{high:+,.0f}")
        return f"{text} [dim]({ends[0]} to {ends[1]})[/dim]"

    title = (
        f"What taking over '{names['from']}' adds to the bid: '{names['design']}' minus '{names['without']}' at the "
        "same price, paired on the same patients (mean, 95% CI)"
    )
    out = Table(title=title, header_style="bold")
    out.add_column("Year", justify="right", overflow="fold")
    for heading, _, _ in TAKEOVER_COLUMNS:
        out.add_column(heading, justify="right", overflow="fold")
    years = sorted({y for y in by.index.get_level_values("year") if y != "all"}, key=int)
    for y in years:
        out.add_row(y, *(cell(metric, y, unit) for _, metric, unit in TAKEOVER_COLUMNS))
    whole = {"loss_probability_with": "loss_probability_cumulative_with",
             "loss_probability_without": "loss_probability_cumulative_without"}  # fmt: skip
    out.add_row("Contract", *(cell(whole.get(metric, metric), "all", unit) for _, metric, unit in TAKEOVER_COLUMNS))
    console.print(out)
    safe = {m: by.loc[(m, "all"), "mean"] for m in ("safe_price_year1_with_gbp", "safe_price_year1_without_gbp",
                                                     "extra_safe_price_year1_gbp", "extra_safe_price_per_head_gbp")}  # fmt: skip
    console.print(
        f"Lowest safe year-1 price: {fmt(safe['safe_price_year1_with_gbp'], 'gbp')} taking over, "
        f"{fmt(safe['safe_price_year1_without_gbp'], 'gbp')} without: the takeover adds "
        f"{fmt(safe['extra_safe_price_year1_gbp'], 'gbp')} ({pence(safe['extra_safe_price_per_head_gbp'])} a head). "
        "P(loss) in the contract row is of a cumulative loss.",
        highlight=False,
    )
