"""What ``target`` prints: what each search runs, each trial as it ends, and the capacity found
with every service's load and the waits month by month."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sim.planning.answer import structures_range, trajectory, unmet
from sim.planning.target import HIGHEST, Target, Trial, searched_values
from sim.planning.targeting import Answer, Job
from sim.report.terminal import fmt, plain

SEARCHED = {"maximum": "managed policy's most sessions a week", "trigger": "managed policy's list triggers"}
"""What a search scales, by ``--search``: otherwise the capacity."""


def print_structures(job: Job, console: Console) -> None:
    """Say, when there are several, that the search runs under each capacity structure."""
    if len(job.structures) > 1:
        console.print(
            f"Design '{job.design}' has {len(job.structures)} capacity structures the returns cannot tell apart "
            f"({', '.join(job.structures)}): the search runs under each, on the same patients",
            highlight=False,
        )


def print_search(job: Job, structure: str, values: dict[str, float], console: Console) -> None:
    """What one search scales, under which structure, for which target."""
    under = f" under the {structure} structure" if structure else ""
    what = SEARCHED.get(job.ask.searched, "capacity")
    keys = searched_values(values)
    s, goal = job.under(structure), job.goal
    console.print(
        f"Searching the {what} of {', '.join(job.ask.stages)} in design '{job.design}'{under} for {goal.words}, "
        f"{s.run.replications} replications a trial, seed {s.run.seed}, every searched service's expected load under "
        f"{goal.max_load:g} in every year; the keys scaled, as the design sets them: {', '.join(keys)}",
        highlight=False,
    )


def trial_line(t: Trial, goal: Target) -> str:
    """One trial as it ends: how often it met the target, what it cost, its highest load."""
    return (
        f"  x{t.factor:.4g}: met on {t.met_share:.0%} of replications, {goal.metric} {t.metric_mean:,.4g} on average, "
        f"{t.cost_metric} {fmt(t.cost_gbp, 'gbp')}, highest load {t.peak.load:.3f}"
        f"{' (the least the maximum load allows)' if t.at_floor else ''} — {'meets' if t.met else 'misses'} the target"
    )


def print_answer(found: Answer, goal: Target, years: int, console: Console) -> None:
    """The capacity found (under one structure), every service's expected load, its waits month by
    month, and what it owes to the horizon and the rule of thumb."""
    answer, loads = found.trial, found.loads
    under = f", {found.structure} structure" if found.structure else ""
    table = Table(title=f"Least capacity found{under}: x{answer.factor:.4g} of that set ({goal.words})", header_style="bold")
    for col in ("Key", "Set", "Found"):
        table.add_column(col, justify="left" if col == "Key" else "right", overflow="fold")
    for key, was in searched_values(found.values).items():
        table.add_row(key, plain(float(was), 15), plain(answer.slots[key], 15))
    console.print(table)
    console.print(
        f"Met on {answer.met_share:.0%} of replications (95% Wilson interval {answer.met_low:.0%} to {answer.met_high:.0%}); "
        f"{goal.metric} {answer.metric_mean:,.4g} on average; {answer.cost_metric} {fmt(answer.cost_gbp, 'gbp')} in year "
        f"{goal.year or years}.",
        highlight=False,
    )
    by_year = Table(title=f"Expected load at that capacity (maximum {goal.max_load:g})", header_style="bold")
    years_shown = [c for c in loads.columns if c.startswith("year_")]
    for col in ("Service", *(c.replace("_", " ") for c in years_shown)):
        by_year.add_column(col, justify="left" if col == "Service" else "right", overflow="fold")
    for r in loads.itertuples(index=False):
        cells = [f"{getattr(r, c):.3f}" for c in years_shown]
        cells = [f"[red]{c}[/red]" if float(c) >= goal.max_load else c for c in cells]
        by_year.add_row(f"{r.stage} (searched)" if r.searched else str(r.stage), *cells)
    console.print(by_year)
    path = trajectory(answer)
    if not path.empty:
        months = Table(title="Month by month at that capacity (mean over replications)", header_style="bold")
        shown = [c for c in ("rtt_incomplete_within_18w_pct", "rtt_wait_median_weeks", "rtt_wait_p92_weeks") if c in path]
        for col in ("Month end", *shown):
            months.add_column(col, justify="right", overflow="fold")
        for r in path.itertuples(index=False):
            months.add_row(str(r.month_end), *(f"{getattr(r, c):,.1f}" for c in shown))
        console.print(months)
    for line in found.notes:
        console.print(f"[yellow]{line}[/yellow]" if line.startswith(("Warning", "Not settled")) else line, highlight=False)


def print_ends(found: dict[str, Answer], tried: dict[str, list[Trial]], goal: Target, console: Console) -> None:
    """The range over the structures (with answers under several), and each structure not met."""
    if len(found) > 1:
        console.print(structures_range({one: (a.trial, a.values) for one, a in found.items()}, goal), highlight=False)
    for one in (s for s in tried if s not in found):
        console.print(f"[yellow]Not met even at x{HIGHEST:g}: {unmet(tried[one], one)}[/yellow]", highlight=False)
