"""A sweep's verdicts (the smallest value that meets the 18-week standard, for the terminal and
the report) and the sweep's table for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sim.base.lazy import later
from sim.report.labels import key_label, value_text
from sim.report.terminal import fmt, sweep_metrics, unit_of
from sim.rtt.summary import parse_metric
from sim.scenario.loading import overridden
from sim.scenario.schema import Scenario

pd = later("pandas")


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
