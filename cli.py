"""The ``msksim`` command line: validate a scenario, run one design, compare two."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from sim.bid import BidPaths, bid_summary, bid_table, parse_money, sensitivity
from sim.experiment import default_jobs, run_replications
from sim.flows import expected_activity, stage_load
from sim.metrics import summarise
from sim.report.terminal import fmt, print_bid, print_summary
from sim.results import run_folder, write_run
from sim.scenario import Scenario, ScenarioError, load_scenario

app = typer.Typer(
    help="msksim: simulate the NHS musculoskeletal pathway, fragmented providers against a prime contractor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario TOML file, e.g. scenarios/bedfordshire.toml.", show_default=False)]
RepsOpt = Annotated[int | None, typer.Option("--reps", help="Replications per design (default: the scenario's).", min=1)]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Master random seed (default: the scenario's).", min=0)]
YearsOpt = Annotated[int | None, typer.Option("--years", help="Contract years to simulate after the warm-up.", min=1)]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Results folder (default: results/<scenario>-<time>).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override any scenario value: KEY=VALUE (repeatable).")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", help="Local processes (default: all cores).", min=1)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of a table.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _load(
    path: Path, sets: list[str] | None, reps: int | None = None, seed: int | None = None, years: int | None = None
) -> Scenario:
    overrides = list(sets or [])
    for key, value in (("run.replications", reps), ("run.seed", seed), ("run.years", years)):
        if value is not None:
            overrides.append(f"{key}={value}")
    try:
        return load_scenario(path, overrides)
    except ScenarioError as e:
        _fail(str(e))


def _simulate(scenario: Scenario, designs: list[str], jobs: int | None, quiet: bool) -> pd.DataFrame:
    n_jobs = jobs or default_jobs()
    if quiet:
        return run_replications(scenario, designs, scenario.run.replications, jobs=n_jobs)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(f"{scenario.name}: {', '.join(designs)}", total=len(designs) * scenario.run.replications)
        return run_replications(
            scenario, designs, scenario.run.replications, jobs=n_jobs, progress=lambda done, _: bar.update(task, completed=done)
        )


def _finish(scenario: Scenario, table: pd.DataFrame, summary: pd.DataFrame, out: Path | None, started: datetime) -> Path:
    folder = run_folder(scenario, out)
    write_run(folder, scenario, {"replications": table, "summary": summary}, started=started)
    return folder


def _json_summary(summary: pd.DataFrame, folder: Path) -> str:
    whole = summary[summary["year"] == "all"]
    data: dict[str, dict[str, dict[str, float]]] = {}
    for r in whole.itertuples():
        data.setdefault(r.scope, {})[r.metric] = {"mean": r.mean, "ci_low": r.ci_low, "ci_high": r.ci_high}
    return json.dumps({"results": str(folder), "summary": data}, indent=2, default=float)


@app.command()
def run(
    scenario: ScenarioArg,
    design: Annotated[str, typer.Option("--design", help="Which design to run.")] = "prime",
    reps: RepsOpt = None,
    seed: SeedOpt = None,
    years: YearsOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run one design of a scenario and write its results."""
    started = datetime.now(UTC)
    s = _load(scenario, set_, reps, seed, years)
    if design not in s.designs:
        _fail(f"{scenario}: designs.{design} (--design): no such design; known: {', '.join(s.designs)}")
    table = _simulate(s, [design], jobs, quiet)
    summary = summarise(table)
    folder = _finish(s, table, summary, out, started)
    if as_json:
        out_console.print_json(_json_summary(summary, folder))
        return
    print_summary(
        summary, [design], f"{s.name}: {design} design, {s.run.replications} replications × {s.run.years} years", out_console
    )
    out_console.print(f"Results written to [bold]{folder}[/bold]")


@app.command()
def compare(
    scenario: ScenarioArg,
    baseline: Annotated[str, typer.Option("--baseline", help="The design compared against.")] = "fragmented",
    other: Annotated[str, typer.Option("--design", help="The design compared.")] = "prime",
    reps: RepsOpt = None,
    seed: SeedOpt = None,
    years: YearsOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run two designs on the same patients and show them side by side with the difference."""
    started = datetime.now(UTC)
    s = _load(scenario, set_, reps, seed, years)
    for name, opt in ((baseline, "--baseline"), (other, "--design")):
        if name not in s.designs:
            _fail(f"{scenario}: designs.{name} ({opt}): no such design; known: {', '.join(s.designs)}")
    table = _simulate(s, [baseline, other], jobs, quiet)
    summary = summarise(table, baseline, other)
    folder = _finish(s, table, summary, out, started)
    if as_json:
        out_console.print_json(_json_summary(summary, folder))
        return
    title = f"{s.name}: {s.run.replications} replications × {s.run.years} years, common random numbers"
    print_summary(summary, [baseline, other, f"{other} - {baseline}"], title, out_console)
    out_console.print(f"Results written to [bold]{folder}[/bold]")


@app.command()
def bid(
    scenario: ScenarioArg,
    price: Annotated[
        str | None, typer.Option("--bid", help="Year-1 contract price: 26.5m, 800k or 26500000 (default: the scenario's).")
    ] = None,
    design: Annotated[str, typer.Option("--design", help="The prime-contract design.")] = "prime",
    max_loss_probability: Annotated[
        float, typer.Option("--max-loss-probability", help="Risk appetite for the safe price.", min=0.0, max=1.0)
    ] = 0.10,
    reps: RepsOpt = None,
    seed: SeedOpt = None,
    years: YearsOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Stress-test a capitated bid: loss probabilities, value at risk and the lowest safe price."""
    started = datetime.now(UTC)
    s = _load(scenario, set_, reps, seed, years)
    d = s.designs.get(design)
    if d is None or d.payment != "prime_contract":
        what = "no such design" if d is None else f"is paid by {d.payment}, not a prime contract"
        _fail(f"{scenario}: designs.{design} (--design): {what}")
    try:
        year1 = parse_money(price) if price is not None else s.finance.prime_contract.year1_value_gbp
    except ValueError as e:
        _fail(f"--bid: {e}")
    table = _simulate(s, [design], jobs, quiet)
    paths = BidPaths(table, s, design)
    tables = {
        "replications": table,
        "summary": summarise(table),
        "bid": bid_table(paths, year1),
        "bid_summary": bid_summary(paths, year1, max_loss_probability),
        "sensitivity": sensitivity(paths, year1),
    }
    folder = run_folder(s, out)
    write_run(folder, s, tables, started=started, extra={"bid_year1_gbp": year1, "max_loss_probability": max_loss_probability})
    if as_json:
        bs = tables["bid_summary"]
        data = {f"{r.metric}" + ("" if r.year == "all" else f"_year{r.year}"): r.mean for r in bs.itertuples()}
        out_console.print_json(json.dumps({"results": str(folder), "bid": data}, default=float))
        return
    print_bid(tables["bid_summary"], tables["sensitivity"], s, year1, out_console)
    out_console.print(f"Results written to [bold]{folder}[/bold]")


def _fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code=2)


@app.command()
def validate(scenario: ScenarioArg, set_: SetOpt = None) -> None:
    """Check a scenario file and summarise what it describes."""
    s = _load(scenario, set_)
    d = s.demand
    out_console.print(f"[bold green]ok[/bold green] {scenario}: [bold]{s.name}[/bold] — {s.description}", highlight=False)
    out_console.print(
        f"Population {s.population:,}; {d.referrals_per_year:,.0f} referrals a year "
        f"({1000 * d.referrals_per_year / s.population:.0f} per 1,000), growth {d.growth:.1%}/yr; "
        f"{len(d.conditions)} condition groups; {s.run.years} years after {s.run.warmup_days} warm-up days, "
        f"{s.run.replications} replications, seed {s.run.seed}.",
        highlight=False,
    )
    for name, design in s.designs.items():
        flows = expected_activity(s, name)
        load = stage_load(s, name, flows)
        table = Table(
            title=f"Design '{name}': entry {design.entry}, unresolved → {design.unresolved}, clock per {design.clock}",
            header_style="bold",
        )
        for col in ("Stage", "Capacity /wk", "Expected demand /wk (year 1)", "Load"):
            table.add_column(col, justify="right" if col != "Stage" else "left")
        stages = s.design_stages(name)
        for st_name, demand in load.items():
            cap = s.surgery.slots_per_week if st_name == "theatre" else stages[st_name].slots_per_week
            rho = demand / cap if cap else float("inf")
            style = "bold red" if rho >= 1 else ("yellow" if rho >= 0.9 else "")
            table.add_row(
                st_name, fmt(cap, "count"), fmt(demand, "count"), f"[{style}]{rho:.2f}[/{style}]" if style else f"{rho:.2f}"
            )
        out_console.print(table)
        n = d.referrals_per_year
        out_console.print(
            f"  expected per year: {fmt(flows.get('gp_consultations', 0) * n, 'count')} extra GP consultations, "
            f"{fmt(flows.get('joint_replacements', 0) * n, 'count')} joint replacements, "
            f"{fmt((flows.get('surgeries_daycase', 0) + flows.get('surgeries_inpatient', 0)) * n, 'count')} operations",
            highlight=False,
        )


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
