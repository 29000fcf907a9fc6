"""The ``msksim`` command line: validate a scenario; run, compare, sweep and bid."""

from __future__ import annotations

import difflib
import functools
import itertools
import json
import math
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from sim import diagnostics, warmup
from sim.bid import BidPaths, bid_summary, bid_table, parse_money, sensitivity
from sim.experiment import JOURNAL, BatchResult, Executor, default_jobs, grid_points, make_executor, result_columns, run_batch
from sim.flows import expected_activity, stage_load
from sim.metrics import rtt_monthly, summarise
from sim.model.capacity import effective_weekly
from sim.report.html import build_report
from sim.report.terminal import fmt, print_bid, print_summary, print_sweep
from sim.results import run_folder, write_atomic, write_run
from sim.scenario import Scenario, ScenarioError, load_scenario, parse_override

app = typer.Typer(
    help="msksim: simulate the NHS musculoskeletal pathway, fragmented providers against a prime contractor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)
BATCH_FILE = "batch.json"

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario TOML file, e.g. scenarios/bedfordshire.toml.", show_default=False)]
RepsOpt = Annotated[int | None, typer.Option("--reps", help="Replications per design (default: the scenario's).", min=1)]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Master random seed (default: the scenario's).", min=0)]
YearsOpt = Annotated[int | None, typer.Option("--years", help="Contract years to simulate after the warm-up.", min=1)]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Results folder (default: results/<scenario>-<time>).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override any scenario value: KEY=VALUE (repeatable).")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", help="Local processes (default: all cores).", min=1)]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", help="Run on a Dask cluster: the scheduler's address, tcp://HOST:PORT.")
]
NoUncertaintyOpt = Annotated[bool, typer.Option("--no-uncertainty", help="Run at the point values, ignoring [uncertainty].")]
ResumeOpt = Annotated[
    Path | None, typer.Option("--resume", help="Continue a batch that stopped, from its results folder.", show_default=False)
]
PrecisionOpt = Annotated[
    float | None,
    typer.Option("--precision", help="Add replications until the 95% CI half-width is within this share of the mean.", min=0),
]
MetricOpt = Annotated[str, typer.Option("--metric", help="The metric --precision watches.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of a table.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
ReportOpt = Annotated[bool, typer.Option("--report", help="Also write report.html into the results folder.")]
BacklogOpt = Annotated[
    Path | None,
    typer.Option("--backlog", help="Start from the patients already waiting (CSV); the run then needs no warm-up."),
]


def _fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code=code)


def _warn(message: str) -> None:
    err_console.print(f"[bold yellow]warning:[/bold yellow] {message}", highlight=False)


@dataclass
class Batch:
    """Everything a simulating command needs, settled before anything is written."""

    kind: str
    scenario: Scenario
    designs: list[str]
    folder: Path
    uncertainty: bool
    precision: float | None
    metric: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False

    @functools.cached_property
    def points(self) -> dict[int, Scenario]:
        """One scenario per grid point (just one without a grid), validated once."""
        return grid_points(self.scenario, self.grid)

    def settings(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "designs": self.designs,
            "uncertainty": self.uncertainty,
            "precision": self.precision,
            "metric": self.metric,
            "grid": self.grid,
            "extra": self.extra,
        }


def _with_backlog(sets: list[str] | None, backlog: Path | None) -> list[str]:
    """--backlog FILE is --set backlog.file=FILE with no warm-up: the backlog is the start."""
    if backlog is None:
        return list(sets or [])
    return [*(sets or []), f"backlog.file={json.dumps(str(backlog.resolve()))}", "run.warmup_days=0"]


def _load(path: Path, sets: list[str] | None, reps: int | None, seed: int | None, years: int | None) -> Scenario:
    overrides = list(sets or [])
    for key, value in (("run.replications", reps), ("run.seed", seed), ("run.years", years)):
        if value is not None:
            overrides.append(f"{key}={value}")
    try:
        return load_scenario(path, overrides)
    except ScenarioError as e:
        _fail(str(e))


def _prepare(
    kind: str,
    path: Path,
    designs: list[str],
    *,
    sets: list[str] | None,
    reps: int | None,
    seed: int | None,
    years: int | None,
    out: Path | None,
    resume: Path | None,
    no_uncertainty: bool,
    precision: float | None,
    metric: str,
    grid: dict[str, list[Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> Batch:
    """Validate all input, and either start a new batch folder or reopen one to resume."""
    if resume is not None:
        saved = resume / BATCH_FILE
        if not saved.exists():
            _fail(f"--resume {resume}: no {BATCH_FILE} there; not a batch folder")
        settings = json.loads(saved.read_text())
        if settings["kind"] != kind:
            _fail(f"--resume {resume}: that folder holds a '{settings['kind']}' batch, not '{kind}'")
        ignored = [name for name, given in (("--set", sets), ("--seed", seed), ("--years", years), ("--out", out)) if given]
        if ignored:
            _warn(f"--resume continues the batch as it was started: {', '.join(ignored)} ignored")
        # --reps may raise (or lower) the target: finished replications are kept either way
        scenario = _load(resume / "scenario.toml", None, reps, None, None)
        return Batch(
            kind,
            scenario,
            settings["designs"],
            resume,
            settings["uncertainty"],
            settings["precision"],
            settings["metric"],
            settings["grid"],
            settings["extra"],
            resumed=True,
        )
    scenario = _load(path, sets, reps, seed, years)
    for d in designs:
        if d not in scenario.designs:
            _fail(f"{path}: designs.{d}: no such design; known: {', '.join(scenario.designs)}")
    if precision is not None:
        known = result_columns(scenario, designs[0])
        if metric not in known:
            close = difflib.get_close_matches(metric, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            _fail(f"--metric {metric}: not a column of replications.csv{hint}")
    batch = Batch(
        kind, scenario, designs, run_folder(scenario, out), not no_uncertainty, precision, metric, grid or {}, extra or {}
    )
    if batch.grid:
        try:
            _ = batch.points  # every grid point validated now, before anything is written
        except ScenarioError as e:
            _fail(str(e))
    if (batch.folder / JOURNAL).exists():
        _fail(f"{batch.folder} already holds a batch: continue it with --resume {batch.folder}, or choose another --out")
    return batch


def _start(batch: Batch) -> None:
    """Write the resolved scenario and the batch settings before the first task runs."""
    if batch.resumed:
        return
    import tomli_w

    from sim.results import toml_ready
    from sim.scenario import scenario_to_dict

    write_atomic(batch.folder / "scenario.toml", tomli_w.dumps(toml_ready(scenario_to_dict(batch.scenario))))
    write_atomic(batch.folder / BATCH_FILE, json.dumps(batch.settings(), indent=2, default=str))


def _executor(jobs: int | None, scheduler: str | None) -> Executor:
    try:
        return make_executor(jobs or default_jobs(), scheduler)
    except (OSError, RuntimeError, ValueError) as e:  # nothing has been written yet
        _fail(f"--scheduler {scheduler}: cannot use the Dask scheduler: {e}")


def _execute(batch: Batch, jobs: int | None, scheduler: str | None, quiet: bool) -> BatchResult:
    points = batch.points
    executor = _executor(jobs, scheduler)
    _start(batch)
    reps = batch.scenario.run.replications
    try:
        if quiet:
            return run_batch(
                points, batch.designs, reps, executor=executor, folder=batch.folder, uncertainty=batch.uncertainty,
                precision=batch.precision, metric=batch.metric,
            )  # fmt: skip
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(f"{batch.scenario.name}: {', '.join(batch.designs)}", total=None)
            return run_batch(
                points, batch.designs, reps, executor=executor, folder=batch.folder, uncertainty=batch.uncertainty,
                precision=batch.precision, metric=batch.metric,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    finally:
        executor.close()


def _finish(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], started: datetime, report: bool = False) -> None:
    """Warm-up check, diagnostics, error list, every table, the manifest, the report if asked."""
    extra: dict[str, Any] = {"replications_run": result.replications, "batch": batch.settings()}
    if batch.precision is not None:
        extra["precision_met"] = result.precision_met
    if not result.series.empty:
        growth = {i: s.demand.growth for i, s in batch.points.items()}
        analysis = warmup.analyse(result.series, batch.scenario.run.warmup_days, growth=growth)
        tables["warmup"] = analysis
        if batch.scenario.backlog is None:  # a run from a backlog starts from a real list: no warm-up to judge
            for msg in warmup.verdicts(analysis):
                _warn(msg)
        extra["warmup_mser_truncation_day"] = analysis.groupby("design")["mser_truncation_day"].first().to_dict()
        warmup.plot(analysis, batch.folder / "warmup.png")
    if not result.monthly.empty:
        rtt = rtt_monthly(result.monthly, batch.scenario)
        tables["rtt_monthly"] = rtt if batch.grid else rtt.drop(columns=["point"])
    for name in ("monthly", "waits", "flows"):
        frame = getattr(result, name)
        if not frame.empty:
            tables[{"waits": "rtt_waits"}.get(name, name)] = frame if batch.grid else frame.drop(columns=["point"])
    if result.errors:
        tables["errors"] = pd.DataFrame(
            [
                {"point": o.task.point, "design": o.task.design, "replication": o.task.replication, "error": o.error}
                for o in result.errors
            ]
        )
    write_run(batch.folder, batch.scenario, tables, started=started, extra=extra)
    main = tables.get("replications", tables.get("sweep"))
    if main is not None and not main.empty:
        checks = diagnostics.stage_checks(main, batch.points)
        for msg in diagnostics.warnings(checks, result.replications, steady=batch.scenario.backlog is None):
            _warn(msg)
    if report and main is not None and not main.empty:
        path = build_report(batch.folder)
        err_console.print(f"Report written to [bold]{path}[/bold]")  # stdout is kept for --json
    if batch.precision is not None:
        goal = f"95% interval of {batch.metric} within ±{batch.precision:.3g} × its mean"
        if result.precision_met:
            err_console.print(f"Precision: {goal}, met with {result.replications} replications.")
        else:
            _warn(
                f"precision: {goal} NOT met after {result.replications} replications "
                f"(cap {batch.scenario.run.replications}); raise --reps or relax --precision"
            )


def _report_errors(result: BatchResult) -> None:
    if result.errors:
        total = len(result.errors) + len({(r["point"], r["design"], r["replication"]) for r in result.table.to_dict("records")})
        _fail(f"{len(result.errors)} of {total} replications failed; see errors.csv (the rest are saved)", code=1)


def _json_summary(summary: pd.DataFrame, folder: Path) -> str:
    whole = summary[summary["year"] == "all"]
    data: dict[str, dict[str, dict[str, float]]] = {}
    for r in whole.itertuples():
        data.setdefault(r.scope, {})[r.metric] = {"mean": r.mean, "ci_low": r.ci_low, "ci_high": r.ci_high}
    return _json({"results": str(folder), "summary": data})


def _json(data: Any) -> str:
    """Strict JSON for other programs: a missing value (NaN, e.g. an interval from one
    replication) is null, not the NaN token most parsers reject."""

    def clean(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        if isinstance(x, float | int) and not isinstance(x, bool):
            return None if not math.isfinite(float(x)) else float(x) if isinstance(x, float) else int(x)
        return x

    return json.dumps(clean(data), indent=2, allow_nan=False, default=float)


def _no_point(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["point"]) if "point" in table.columns else table


@app.command()
def run(
    scenario: ScenarioArg,
    design: Annotated[str, typer.Option("--design", help="Which design to run.")] = "prime",
    reps: RepsOpt = None,
    seed: SeedOpt = None,
    years: YearsOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    backlog: BacklogOpt = None,
    jobs: JobsOpt = None,
    scheduler: SchedulerOpt = None,
    no_uncertainty: NoUncertaintyOpt = False,
    resume: ResumeOpt = None,
    precision: PrecisionOpt = None,
    metric: MetricOpt = "rtt_incomplete_18w_pct",
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    report: ReportOpt = False,
) -> None:
    """Run one design of a scenario and write its results."""
    _simulate(
        "run", scenario, [design], sets=_with_backlog(set_, backlog), reps=reps, seed=seed, years=years, out=out,
        resume=resume, jobs=jobs, scheduler=scheduler, no_uncertainty=no_uncertainty, precision=precision, metric=metric,
        as_json=as_json, quiet=quiet, report=report,
    )  # fmt: skip


def _simulate(kind: str, scenario: Path, designs: list[str], *, as_json: bool, quiet: bool, report: bool,
              jobs: int | None, scheduler: str | None, **settings: Any) -> None:  # fmt: skip
    """``run`` and ``compare``: simulate, write, and show one design, or two with their difference."""
    started = datetime.now(UTC)
    batch = _prepare(kind, scenario, designs, **settings)
    result = _execute(batch, jobs, scheduler, quiet)
    table = _no_point(result.table)
    pair = batch.designs if len(batch.designs) == 2 else []
    summary = summarise(table, *pair) if not table.empty else pd.DataFrame()
    _finish(batch, result, {"replications": table, "summary": summary}, started, report)
    if not table.empty:
        if as_json:
            typer.echo(_json_summary(summary, batch.folder))
        else:
            reps, years, name = result.replications, batch.scenario.run.years, batch.scenario.name
            if pair:
                title = f"{name}: {reps} replications × {years} years, common random numbers"
                columns = [*pair, f"{pair[1]} - {pair[0]}"]
            else:
                title = f"{name}: {batch.designs[0]} design, {reps} replications × {years} years"
                columns = list(batch.designs)
            print_summary(summary, columns, title, out_console)
            out_console.print(f"Results written to [bold]{batch.folder}[/bold]")
    _report_errors(result)


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
    backlog: BacklogOpt = None,
    jobs: JobsOpt = None,
    scheduler: SchedulerOpt = None,
    no_uncertainty: NoUncertaintyOpt = False,
    resume: ResumeOpt = None,
    precision: PrecisionOpt = None,
    metric: MetricOpt = "rtt_incomplete_18w_pct",
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    report: ReportOpt = False,
) -> None:
    """Run two designs on the same patients and show them side by side with the difference."""
    _simulate(
        "compare", scenario, [baseline, other], sets=_with_backlog(set_, backlog), reps=reps, seed=seed, years=years,
        out=out, resume=resume, jobs=jobs, scheduler=scheduler, no_uncertainty=no_uncertainty, precision=precision,
        metric=metric, as_json=as_json, quiet=quiet, report=report,
    )  # fmt: skip


def _parse_grid(items: list[str] | None, grid_file: Path | None) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    if grid_file is not None:
        try:
            data = tomllib.loads(grid_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            _fail(f"{grid_file}: cannot read the sweep file: {e}")
        table = data.get("grid")
        if not isinstance(table, dict) or not table:
            _fail(f"{grid_file}: grid: expected a [grid] table of KEY = [values]")
        for key, values in table.items():
            if not isinstance(values, list) or not values:
                _fail(f"{grid_file}: grid.{key}: expected a non-empty list of values")
            grid[key] = values
    for item in items or []:
        key, _, text = item.partition("=")
        try:
            values = [parse_override(f"{key}={v}")[1] for v in text.split(",")]
        except ScenarioError as e:
            _fail(f"--grid {item}: {e.problem}")
        grid[key.strip()] = values
    if not grid:
        _fail("sweep: give at least one --grid KEY=V1,V2 or a --grid-file")
    return grid


@app.command()
def sweep(
    scenario: ScenarioArg,
    grid_items: Annotated[
        list[str] | None, typer.Option("--grid", help="KEY=V1,V2,... : values to sweep (repeatable; every combination runs).")
    ] = None,
    grid_file: Annotated[
        Path | None, typer.Option("--grid-file", help="A TOML file with a [grid] table of KEY = [values].")
    ] = None,
    designs: Annotated[str, typer.Option("--designs", help="Designs to run, comma-separated.")] = "fragmented,prime",
    reps: RepsOpt = None,
    seed: SeedOpt = None,
    years: YearsOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    backlog: BacklogOpt = None,
    jobs: JobsOpt = None,
    scheduler: SchedulerOpt = None,
    no_uncertainty: NoUncertaintyOpt = False,
    resume: ResumeOpt = None,
    metric: MetricOpt = "rtt_incomplete_18w_pct",
    quiet: QuietOpt = False,
    report: ReportOpt = False,
) -> None:
    """Run every combination of the swept values × designs × replications (same patients throughout)."""
    started = datetime.now(UTC)
    grid = _parse_grid(grid_items, grid_file) if resume is None else {}
    batch = _prepare(
        "sweep", scenario, [d.strip() for d in designs.split(",") if d.strip()], sets=_with_backlog(set_, backlog),
        reps=reps, seed=seed,
        years=years, out=out, resume=resume, no_uncertainty=no_uncertainty, precision=None, metric=metric, grid=grid,
    )  # fmt: skip
    result = _execute(batch, jobs, scheduler, quiet)
    table = result.table
    tables: dict[str, pd.DataFrame] = {}
    if not table.empty:
        keys = list(batch.grid)
        combos = list(itertools.product(*(batch.grid[k] for k in keys)))
        for j, key in enumerate(reversed(keys)):
            table.insert(1, key, [combos[p][len(keys) - 1 - j] for p in table["point"]])
        tables["sweep"] = table
        tables["sweep_summary"] = sweep_summary(table, keys)
    _finish(batch, result, tables, started, report)
    if not table.empty:
        print_sweep(tables["sweep_summary"], list(batch.grid), metric, out_console, scenario=batch.scenario)
        out_console.print(f"Results written to [bold]{batch.folder}[/bold]")
    _report_errors(result)


def sweep_summary(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Whole-horizon mean and 95% interval of every metric per grid point × design."""
    parts = []
    for (point, design), part in table.groupby(["point", "design"], sort=True):
        s = summarise(part.drop(columns=["point", *keys]))
        s = s[s["year"] == "all"].drop(columns=["scope", "year"])
        s.insert(0, "design", design)
        for key in reversed(keys):
            s.insert(0, key, part[key].iloc[0])
        s.insert(0, "point", point)
        parts.append(s)
    return pd.concat(parts, ignore_index=True)


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
    backlog: BacklogOpt = None,
    jobs: JobsOpt = None,
    scheduler: SchedulerOpt = None,
    no_uncertainty: NoUncertaintyOpt = False,
    resume: ResumeOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    report: ReportOpt = False,
) -> None:
    """Stress-test a capitated bid: loss probabilities, value at risk and the lowest safe price."""
    started = datetime.now(UTC)
    year1: float | None = None
    if price is not None:
        try:
            year1 = parse_money(price)
        except ValueError as e:
            _fail(f"--bid: {e}")
    batch = _prepare(
        "bid", scenario, [design], sets=_with_backlog(set_, backlog), reps=reps, seed=seed, years=years, out=out, resume=resume,
        no_uncertainty=no_uncertainty, precision=None, metric="prime_surplus_gbp",
        extra={"bid_year1_gbp": year1, "max_loss_probability": max_loss_probability},
    )  # fmt: skip
    d = batch.scenario.designs[batch.designs[0]]
    if d.payment != "prime_contract":
        _fail(f"{scenario}: designs.{batch.designs[0]}.payment: is {d.payment}, not prime_contract")
    contract = batch.scenario.finance.prime_contract
    year1 = batch.extra["bid_year1_gbp"] or contract.year1_value_gbp
    risk = batch.extra["max_loss_probability"]
    result = _execute(batch, jobs, scheduler, quiet)
    table = _no_point(result.table)
    tables: dict[str, pd.DataFrame] = {"replications": table}
    if not table.empty:
        paths = BidPaths(table, batch.scenario, batch.designs[0])
        tables.update(
            summary=summarise(table),
            bid=bid_table(paths, year1),
            bid_summary=bid_summary(paths, year1, risk),
            sensitivity=sensitivity(paths, year1),
        )
    _finish(batch, result, tables, started, report)
    if not table.empty:
        safe = tables["bid_summary"].set_index("metric").loc["safe_price_year1_gbp", "mean"]
        if not math.isfinite(safe):
            _warn(f"no year-1 price keeps the probability of a cumulative loss at or under {risk:.0%} on these paths")
        if as_json:
            bs = tables["bid_summary"]
            data = {r.metric + ("" if r.year == "all" else f"_year{r.year}"): r.mean for r in bs.itertuples()}
            typer.echo(_json({"results": str(batch.folder), "bid": data}))
        else:
            print_bid(tables["bid_summary"], tables["sensitivity"], batch.scenario, year1, out_console)
            out_console.print(f"Results written to [bold]{batch.folder}[/bold]")
    _report_errors(result)


@app.command(name="report")
def report_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by run, compare, sweep or bid.", show_default=False)],
) -> None:
    """Write report.html (self-contained: charts, tables, diagnostics) into a results folder."""
    if not (folder / "manifest.json").exists():
        _fail(f"{folder}: no manifest.json; not a finished results folder")
    out_console.print(f"Report written to [bold]{build_report(folder)}[/bold]")


@app.command()
def validate(scenario: ScenarioArg, set_: SetOpt = None) -> None:
    """Check a scenario file and summarise what it describes."""
    s = _load(scenario, set_, None, None, None)
    d = s.demand
    out_console.print(f"[bold green]ok[/bold green] {scenario}: [bold]{s.name}[/bold] — {s.description}", highlight=False)
    out_console.print(
        f"Population {s.population:,}; {d.referrals_per_year:,.0f} referrals a year "
        f"({1000 * d.referrals_per_year / s.population:.0f} per 1,000), growth {d.growth:.1%}/yr; "
        f"{len(d.conditions)} condition groups; {s.run.years} years after {s.run.warmup_days} warm-up days, "
        f"{s.run.replications} replications, seed {s.run.seed}; "
        f"{len(s.uncertainty)} uncertain inputs.",
        highlight=False,
    )
    for name, design in s.designs.items():
        flows = expected_activity(s, name)
        load = stage_load(s, name, flows)
        title = (
            f"Design '{name}': entry {design.entry}, unresolved → {design.unresolved}, clock per {design.clock}; "
            "capacity after bank holidays, reduced periods and cancellations"
        )
        table = Table(title=title, header_style="bold")
        for col in ("Stage", "Capacity /wk", "Expected demand /wk (year 1)", "Load"):
            table.add_column(col, justify="right" if col != "Stage" else "left")
        for st_name, demand in load.items():
            cap = effective_weekly(s, st_name, None if st_name == "theatre" else name)
            rho = demand / cap if cap else float("inf")
            style = "bold red" if rho >= 1 else ("yellow" if rho >= 0.9 else "")
            table.add_row(
                st_name, fmt(cap, "count"), fmt(demand, "count"), f"[{style}]{rho:.2f}[/{style}]" if style else f"{rho:.2f}"
            )
        out_console.print(table)
        n = d.referrals_per_year
        ops = (flows.get("surgeries_daycase", 0) + flows.get("surgeries_inpatient", 0)) * n
        out_console.print(
            f"  expected per year: {fmt(flows.get('gp_consultations', 0) * n, 'count')} extra GP consultations, "
            f"{fmt(flows.get('joint_replacements', 0) * n, 'count')} joint replacements, {fmt(ops, 'count')} operations",
            highlight=False,
        )


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
