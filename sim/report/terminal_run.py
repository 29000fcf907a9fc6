"""What ``run`` and ``compare`` print: the summary side by side, the returns, each capacity
structure, the switch-over, what was taken over and what the capacity policies did."""

from __future__ import annotations

from rich.console import Console

from sim.analysis import diagnostics, switchover_months, takeover
from sim.base.lazy import later
from sim.report.terminal import print_returns, print_summary, print_switch_over, structures_table
from sim.runs.batch import STRUCTURES, Batch
from sim.runs.experiment import BatchResult
from sim.scenario.schema import Scenario

pd = later("pandas")


def print_run(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], console: Console) -> None:
    """One design, or two with their difference (and the designs run beside them, each with its
    difference from the first), then where the results are."""
    summary = tables["summary"]
    reps, years, name = result.replications, batch.scenario.run.years, batch.scenario.name
    if switchover_months.compared(batch.designs, batch.extra):
        title = f"{name}: {reps} replications × {years} years, common random numbers"
        columns = switchover_months.difference_scopes(batch.designs, batch.extra)
    else:
        title = f"{name}: {batch.designs[0]} design, {reps} replications × {years} years"
        columns = list(batch.designs)
    print_summary(summary, columns, title, console)
    print_returns(summary, list(batch.designs), console)
    ranges = structures_table(summary, batch.extra.get(STRUCTURES, {}), batch.scenario)
    if ranges is not None:
        console.print(ranges)
    if "switch_over" in tables:
        print_switch_over(tables["switch_over"], batch.extra[switchover_months.SWITCH_OVER], console)
    print_takeovers(batch, result, console)
    print_policies(tables["replications"], batch.scenario, console)
    console.print(f"Results written to [bold]{batch.folder}[/bold]")


def print_takeovers(batch: Batch, result: BatchResult, console: Console) -> None:
    """What each design that takes over another's lists took over (none: nothing said)."""
    for design, what in takeover.takeovers(batch.scenario, batch.designs, result.returns).items():
        console.print(takeover.sentence(design, what), highlight=False)


def print_policies(table: pd.DataFrame, scenario: Scenario, console: Console) -> None:
    """What the capacity policies that acted did, and how to see the run without them."""
    lines = diagnostics.policy_lines(table, scenario)
    if lines:
        console.print("Capacity policies (docs/planning.md: Capacity that follows demand):", highlight=False)
        for line in lines:
            console.print(f"  {line}", highlight=False)
        console.print("  At the capacity the file sets instead: --set run.capacity_policies=fixed", highlight=False)
