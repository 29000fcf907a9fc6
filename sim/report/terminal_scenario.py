"""What ``validate`` prints of a scenario: its demand, each design's expected loads and its
uncertain inputs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from sim.analysis import flows
from sim.model.capacity import effective_weekly
from sim.report.terminal import fmt, plain
from sim.scenario import values as scenario_values
from sim.scenario.schema import Scenario
from sim.scenario.uncertainty import parse_uncertainty


def print_validation(s: Scenario, path: Path, console: Console) -> None:
    """A scenario found valid: its demand, each design's expected load at each service, and its uncertain inputs."""
    d = s.demand
    console.print(f"[bold green]ok[/bold green] {path}: [bold]{s.name}[/bold] — {s.description}", highlight=False)
    console.print(
        f"Population {s.population:,}; {d.referrals_per_year:,.0f} referrals a year "
        f"({1000 * d.referrals_per_year / s.population:.0f} per 1,000), growth {d.growth:.1%}/yr; "
        f"{len(d.conditions)} condition groups; {s.run.years} years after {s.run.warmup_days} warm-up days, "
        f"{s.run.replications} replications, seed {s.run.seed}; "
        f"{len(s.uncertainty)} uncertain inputs.",
        highlight=False,
    )
    outside = d.outside_contract
    if outside.per_year > 0:
        console.print(
            f"Care outside the contract: {outside.per_year:,.0f} referrals a year straight to {outside.stage} in every "
            f"design, growth {outside.growth:.1%}/yr; in the loads below, paid apart from the contract "
            "(outside_contract_spend_gbp).",
            highlight=False,
        )
    for name in s.designs:
        print_design_loads(s, name, console)
    if s.uncertainty:
        console.print(uncertainty_table(s))


def print_design_loads(s: Scenario, name: str, console: Console) -> None:
    """One design's expected demand, capacity and load at each service, and what a year asks of the GPs and theatres."""
    design = s.designs[name]
    expected = flows.expected_activity(s, name)
    weekly = flows.stage_load(s, name, expected)
    title = (
        f"Design '{name}': entry {design.entry}, unresolved → {design.unresolved}; "
        "capacity after bank holidays, reduced periods and cancellations; load = appointments asked for "
        "(first and follow-up) / slots offered, as the report's diagnostics compute it"
    )
    table = Table(title=title, header_style="bold")
    for col in ("Stage", "Capacity /wk", "Expected demand /wk (year 1)", "Load", "RTT function"):
        table.add_column(col, justify="right" if col not in ("Stage", "RTT function") else "left", overflow="fold")
    stages = s.design_stages(name)
    for st_name, demand in weekly.items():
        cap = effective_weekly(s, st_name, name)
        rho = demand / cap if cap else float("inf")
        style = "bold red" if rho >= 1 else ("yellow" if rho >= 0.9 else "")
        cfg = stages.get(st_name)
        function = "as listed" if cfg is None else cfg.rtt_function or "none"
        table.add_row(
            st_name, fmt(cap, "count"), fmt(demand, "count"),
            f"[{style}]{rho:.2f}[/{style}]" if style else f"{rho:.2f}", function,
        )  # fmt: skip
    console.print(table)
    n = s.demand.referrals_per_year
    ops = (expected.get("surgeries_daycase", 0) + expected.get("surgeries_inpatient", 0)) * n
    console.print(
        f"  expected per year: {fmt(expected.get('gp_consultations', 0) * n, 'count')} extra GP consultations, "
        f"{fmt(expected.get('joint_replacements', 0) * n, 'count')} joint replacements, {fmt(ops, 'count')} operations",
        highlight=False,
    )


def uncertainty_table(s: Scenario) -> Table:
    """Each uncertain input: its distribution, the value the scenario sets and the range drawn."""
    dists = parse_uncertainty(s.uncertainty, s, s.name)
    data = scenario_values.scenario_to_dict(s)
    table = Table(title="Uncertain inputs, drawn afresh for each replication (--no-uncertainty: the values set)",
                  header_style="bold")  # fmt: skip
    for col in ("Key", "Distribution", "Value set", "Range drawn (99.98%)"):
        table.add_column(col, justify="left" if col in ("Key", "Distribution") else "right", overflow="fold")
    for key, dist in dists.items():
        point = scenario_values.value_at(data, key)
        params = {k: v for k, v in dist.model_dump().items() if k not in ("dist", "also", "relative") and v is not None}
        shown = ", ".join(f"{k} {plain(v, 15)}" if isinstance(v, float | int) else f"{k} {v}" for k, v in params.items())
        described = f"{dist.dist}({shown})" + (" × value set" if dist.relative else "")
        if isinstance(point, dict):
            table.add_row(key, described, "a row of shares", "each share drawn, the row summing to 1")
            continue
        low, high = dist.ends(point)
        table.add_row(key, described, plain(point, 15), f"{plain(low)} to {plain(high)}")
    return table


