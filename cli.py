"""The ``msksim`` command line: validate a scenario; run, compare, sweep and bid; report on a run."""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from sim import __version__
from sim.base.lazy import later
from sim.runs.options import MAX_LOAD, BatchOptions

pd = later("pandas")
alike = later("sim.base.alike")
area_fit = later("sim.calibrate.area")
area_scale = later("sim.planning.scale")
batching = later("sim.runs.batch")
bidding = later("sim.money.bid")
calibration_output = later("sim.calibrate.output")
calibration_report = later("sim.report.calibration")
diagnostics = later("sim.analysis.diagnostics")
executors = later("sim.runs.executors")
experiment = later("sim.runs.experiment")
identified = later("sim.calibrate.identify")
interrupt = later("sim.base.interrupt")
journal = later("sim.runs.journal")
metrics = later("sim.base.metrics")
national_areas = later("sim.national.areas")
national_batch = later("sim.national.batch")
national_report = later("sim.report.national")
national_task = later("sim.national.task")
model_capacity = later("sim.model.capacity")
outputs = later("sim.runs.outputs")
plausibility = later("sim.analysis.plausibility")
report_html = later("sim.report.html")
results = later("sim.runs.results")
rtt_compare = later("sim.rtt.compare")
rtt_returns = later("sim.rtt.returns")
scenario_values = later("sim.scenario.values")
scenarios = later("sim.scenario.loading")
schema = later("sim.scenario.schema")
staging = later("sim.runs.transaction")
takeover_mod = later("sim.analysis.takeover")
targets = later("sim.planning.target")
terminal = later("sim.report.terminal")
traffic = later("sim.analysis.flows")
transitions = later("sim.analysis.transition")
uncertainty = later("sim.scenario.uncertainty")

__all__ = ["app", "main"]

app = typer.Typer(
    help="msksim: simulate the NHS musculoskeletal pathway, fragmented providers against a prime contractor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: "[uncertainty]" is shown, not read as markup
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"msksim {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """msksim: simulate the NHS musculoskeletal pathway, fragmented providers against a prime contractor."""


out_console = Console()
err_console = Console(stderr=True)

ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario TOML file, e.g. scenarios/bedfordshire.toml.", show_default=False, metavar="SCENARIO")
]
BatchScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario TOML file, e.g. scenarios/bedfordshire.toml (not needed with --resume).",
        show_default=False,
        metavar="[SCENARIO]",
    ),
]
RepsOpt = Annotated[
    int | None, typer.Option("--reps", help="Replications per design (default: the scenario's).", min=1, metavar="N")
]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Master random seed (default: the scenario's).", min=0, metavar="SEED")
]
YearsOpt = Annotated[
    int | None, typer.Option("--years", help="Contract years to simulate after the warm-up.", min=1, metavar="YEARS")
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Results folder (default: results/<scenario>-<time>).", metavar="DIR")]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Override any scenario value: KEY=VALUE (repeatable).", metavar="KEY=VALUE")
]
JobsOpt = Annotated[int | None, typer.Option("--jobs", help="Local processes (default: all cores).", min=1, metavar="N")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Run on a Dask cluster: the scheduler's address, tcp://HOST:PORT.", metavar="tcp://HOST:PORT"
    ),
]
NoUncertaintyOpt = Annotated[bool, typer.Option("--no-uncertainty", help="Run at the point values, ignoring [uncertainty].")]
ResumeOpt = Annotated[
    Path | None,
    typer.Option("--resume", help="Continue a batch that stopped, from its results folder.", show_default=False, metavar="DIR"),
]


def _finite(value: float | None) -> float | None:
    """A number option's value, refused when it is infinite or not a number (``inf``, ``nan``):
    the command line reads them as floats, and no option means anything at either."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, not {value}")
    return value


PrecisionOpt = Annotated[
    float | None,
    typer.Option(
        "--precision",
        callback=_finite,
        help="Add replications until the 95% CI half-width is within this share of the mean.",
        min=0,
        metavar="SHARE",
    ),
]
MetricOpt = Annotated[
    str, typer.Option("--metric", help="The column of replications.csv that --precision watches.", metavar="COLUMN")
]
PRECISION_METRIC = "commissioner_cost_gbp"
"""What --precision watches by default: the spend varies from path to path, where the share
within 18 weeks sits near 100% in a run with spare capacity and would be "met" at once."""
SweepMetricOpt = Annotated[
    str, typer.Option("--metric", help="The column the sweep's summary and verdict read.", metavar="COLUMN")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of a table.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Write into an --out folder that holds other files or a finished batch, replacing it."),
]
XlsxOpt = Annotated[bool, typer.Option("--xlsx", help="Also write results.xlsx: every table a sheet, the data dictionary first.")]
ReportOpt = Annotated[bool, typer.Option("--report", help="Also write report.html into the results folder.")]
BacklogOpt = Annotated[
    Path | None,
    typer.Option(
        "--backlog",
        help="Start from the patients already waiting: a CSV of patients, or a published RTT return "
        "(with --commissioner and --month); the run then needs no warm-up.",
    ),
]
CommissionerOpt = Annotated[
    str | None,
    typer.Option("--commissioner", help="With an RTT return as --backlog: the commissioner's code, e.g. 06F.", metavar="CODE"),
]
MonthOpt = Annotated[
    str | None,
    typer.Option("--month", help="With an RTT return as --backlog: the month to start from, YYYY-MM.", metavar="YYYY-MM"),
]
DesignOpt = Annotated[str, typer.Option("--design", help="Which design to run.", metavar="NAME")]

BID_SANITY = 3.0
"""A --bid further than this factor from the scenario's own year-1 value is queried."""

SHARED_OPTIONS: dict[str, tuple[Any, Any]] = {
    "reps": (RepsOpt, None),
    "seed": (SeedOpt, None),
    "years": (YearsOpt, None),
    "out": (OutOpt, None),
    "sets": (SetOpt, None),
    "backlog": (BacklogOpt, None),
    "commissioner": (CommissionerOpt, None),
    "month": (MonthOpt, None),
    "jobs": (JobsOpt, None),
    "scheduler": (SchedulerOpt, None),
    "no_uncertainty": (NoUncertaintyOpt, False),
    "resume": (ResumeOpt, None),
    "quiet": (QuietOpt, False),
    "report": (ReportOpt, False),
    "force": (ForceOpt, False),
    "xlsx": (XlsxOpt, False),
}
"""The options of every simulating command: name in :class:`BatchOptions` → (Typer annotation, default)."""


def _fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


_held: list[list[str]] = []
"""Warnings held while a burst of them comes (a batch's checks), to be grouped when it ends."""


def _warn(message: str) -> None:
    if _held:
        _held[-1].append(message)
    else:
        err_console.print(f"[bold yellow]warning:[/bold yellow] {escape(message)}", highlight=False)


@contextlib.contextmanager
def _grouped() -> Iterator[None]:
    """Warnings given inside are printed when it ends, those alike as one with a count."""
    _held.append([])
    try:
        yield
    finally:
        for message in alike.group(_held.pop()):
            _warn(message)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Bad input, or a file system that refuses a write (full, read-only, …), ends the command
    with ``error: …`` and exit code 2, never a traceback."""
    try:
        yield
    except (batching.BatchError, schema.ScenarioError, results.ResultsError, staging.SpaceError) as e:
        _fail(str(e))
    except OSError as e:
        _fail(staging.describe(e))


def batch_command(command: Callable[..., None]) -> Callable[..., None]:
    """Give a simulating command the shared options.

    Typer sees them as the command's own parameters; the command receives them gathered in
    one keyword argument, ``options: BatchOptions``.
    """
    kw = inspect.Parameter.KEYWORD_ONLY
    signature = inspect.signature(command, eval_str=True)
    own = [p.replace(kind=kw) for p in signature.parameters.values() if p.name != "options"]
    shared = [inspect.Parameter(name, kw, default=default, annotation=hint) for name, (hint, default) in SHARED_OPTIONS.items()]

    @functools.wraps(command)
    def with_options(**values: Any) -> None:
        given = {name: values.pop(name) for name in SHARED_OPTIONS}
        options = BatchOptions(**{**given, "sets": list(given["sets"] or [])})
        with _user_errors():
            command(**values, options=options)

    with_options.__signature__ = inspect.Signature([*own, *shared], return_annotation=None)  # type: ignore[attr-defined]
    with_options.__annotations__ = {p.name: p.annotation for p in (*own, *shared)}
    return with_options


def _execute(batch: batching.Batch, options: BatchOptions) -> experiment.BatchResult:
    executor = batching.open_executor(options.jobs, options.scheduler, warn=_warn)
    try:
        with interrupt.terminating():  # SIGTERM and SIGHUP stop the batch as Ctrl-C does
            return _run(batch, options, executor)
    except KeyboardInterrupt as e:
        done = len(journal.Journal(batch.folder).read()) if batch.folder.is_dir() else 0
        how = f"stopped by {e.name}" if isinstance(e, interrupt.Terminated) else "interrupted"
        _fail(
            f"{how}: {done} finished replication(s) are kept in {batch.folder}; "
            f"continue with: msksim {batch.kind} --resume {batch.folder}",
            code=interrupt.exit_code(e),
        )
    finally:
        executor.close()


def _run(batch: batching.Batch, options: BatchOptions, executor: executors.Executor) -> experiment.BatchResult:
    if options.quiet:
        return batching.execute(batch, executor)
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
        return batching.execute(batch, executor, lambda done, total: bar.update(task, completed=done, total=total))


def _finish(
    batch: batching.Batch, result: experiment.BatchResult, tables: dict[str, pd.DataFrame], started: datetime, report: bool
) -> None:
    """Write everything (warnings as they come), the report if asked, then the precision verdict."""
    with _grouped():
        written = batching.finish(batch, result, tables, started, warn=_warn)
    if written and report:
        err_console.print(f"Report written to [bold]{report_html.build_report(batch.folder)}[/bold]")  # stdout is kept for --json
    verdict = batching.precision_verdict(batch, result)
    if verdict is not None:
        met, message = verdict
        if met:
            err_console.print(message)
        else:
            _warn(message)


def _report_errors(result: experiment.BatchResult) -> None:
    message = batching.failures(result)
    if message:
        _fail(message, code=1)


@app.command(epilog="Example: msksim run scenarios/bedfordshire.toml --design prime --reps 20 --jobs 2")
@batch_command
def run(
    scenario: BatchScenarioArg = None,
    design: DesignOpt = "prime",
    precision: PrecisionOpt = None,
    metric: MetricOpt = PRECISION_METRIC,
    as_json: JsonOpt = False,
    *,
    options: BatchOptions,
) -> None:
    """Run one design of a scenario and write its results."""
    _simulate("run", scenario, [design], options, precision=precision, metric=metric, as_json=as_json)


@app.command(
    epilog="Example: msksim compare scenarios/bedfordshire.toml --reps 20 --set stages.physio.slots_per_week=2800 --report"
)
@batch_command
def compare(
    scenario: BatchScenarioArg = None,
    baseline: Annotated[str, typer.Option("--baseline", help="The design compared against.", metavar="NAME")] = "fragmented",
    other: Annotated[str, typer.Option("--design", help="The design compared.", metavar="NAME")] = "prime",
    transition: Annotated[
        bool,
        typer.Option(
            "--transition",
            help="Also run the design taking over the baseline's patients at the contract start (mobilising as "
            "the scenario says), compared month by month with its steady state.",
        ),
    ] = False,
    also: Annotated[
        list[str] | None,
        typer.Option(
            "--also",
            help="Another design to run beside them on the same patients, compared with the "
            "baseline too (repeatable), e.g. prime_as_claimed.",
            metavar="NAME",
        ),
    ] = None,
    precision: PrecisionOpt = None,
    metric: MetricOpt = PRECISION_METRIC,
    as_json: JsonOpt = False,
    *,
    options: BatchOptions,
) -> None:
    """Run two designs on the same patients and show them side by side with the difference.

    With --also, more designs run beside them on the same patients, each compared with the
    baseline (the prime as delivered and as claimed, for example).

    With --transition the second design starts from the first's lists at the contract start
    (the switch-over a commissioner lives through) and is compared with the first; its steady
    state runs beside it, and the months it takes to reach it are shown."""
    _simulate("compare", scenario, [baseline, other], options, precision=precision, metric=metric, as_json=as_json,
              switch_over=transition, also=also or [])  # fmt: skip


def _simulate(kind: str, scenario: Path | None, designs: list[str], options: BatchOptions, *, precision: float | None,
              metric: str, as_json: bool, switch_over: bool = False, also: list[str] | None = None) -> None:  # fmt: skip
    """``run`` and ``compare``: simulate, write, and show one design, or two with their difference
    (and the designs run ``also``, each with its difference from the first)."""
    started = datetime.now(UTC)
    batch = batching.prepare(kind, scenario, designs, options, warn=_warn, precision=precision, metric=metric,
                    switch_over=switch_over, also=also or [])  # fmt: skip
    result = _execute(batch, options)
    tables = outputs.design_tables(batch, result)
    table, summary = tables["replications"], tables["summary"]
    _finish(batch, result, tables, started, options.report)
    if not table.empty:
        if as_json:
            typer.echo(outputs.summary_json(summary, batch.folder))
        else:
            reps, years, name = result.replications, batch.scenario.run.years, batch.scenario.name
            pair = transitions.compared(batch.designs, batch.extra)
            if pair:
                title = f"{name}: {reps} replications × {years} years, common random numbers"
                columns = transitions.difference_scopes(batch.designs, batch.extra)
            else:
                title = f"{name}: {batch.designs[0]} design, {reps} replications × {years} years"
                columns = list(batch.designs)
            terminal.print_summary(summary, columns, title, out_console)
            terminal.print_returns(summary, list(batch.designs), out_console)
            ranges = terminal.structures_table(summary, batch.extra.get(batching.STRUCTURES, {}), batch.scenario)
            if ranges is not None:
                out_console.print(ranges)
            if "switch_over" in tables:
                terminal.print_switch_over(tables["switch_over"], batch.extra[transitions.SWITCH_OVER], out_console)
            _print_takeovers(batch, result)
            _print_policies(table, batch.scenario)
            out_console.print(f"Results written to [bold]{batch.folder}[/bold]")
    _report_errors(result)


def _print_takeovers(batch: batching.Batch, result: experiment.BatchResult) -> None:
    """What each design that takes over another's lists took over (none: nothing said)."""
    for design, what in takeover_mod.takeovers(batch.scenario, batch.designs, result.returns).items():
        out_console.print(takeover_mod.sentence(design, what), highlight=False)


def _print_policies(table: pd.DataFrame, scenario: schema.Scenario) -> None:
    """What the capacity policies that acted did, and how to see the run without them."""
    lines = diagnostics.policy_lines(table, scenario)
    if lines:
        out_console.print("Capacity policies (docs/planning.md: Capacity that follows demand):", highlight=False)
        for line in lines:
            out_console.print(f"  {line}", highlight=False)
        out_console.print("  At the capacity the file sets instead: --set run.capacity_policies=fixed", highlight=False)


@app.command(epilog="Example: msksim sweep scenarios/bedfordshire.toml --grid stages.physio.slots_per_week=2200,2600,3000")
@batch_command
def sweep(
    scenario: BatchScenarioArg = None,
    grid_items: Annotated[
        list[str] | None,
        typer.Option("--grid", help="KEY=V1,V2,... : values to sweep (repeatable; every combination runs).", metavar="KEY=V1,V2"),
    ] = None,
    grid_file: Annotated[
        Path | None, typer.Option("--grid-file", help="A TOML file with a [grid] table of KEY = [values].", metavar="FILE")
    ] = None,
    designs: Annotated[
        str, typer.Option("--designs", help="Designs to run, comma-separated.", metavar="NAME,NAME")
    ] = "fragmented,prime",
    metric: SweepMetricOpt = "rtt_incomplete_within_18w_pct",
    *,
    options: BatchOptions,
) -> None:
    """Run every combination of the swept values × designs × replications (same patients throughout)."""
    started = datetime.now(UTC)
    if options.resume is not None:
        batching.refuse_on_resume(options.resume, [("--grid", grid_items), ("--grid-file", grid_file)])
    grid = batching.parse_grid(grid_items, grid_file) if options.resume is None else {}
    names = [d.strip() for d in designs.split(",") if d.strip()]
    batch = batching.prepare("sweep", scenario, names, options, warn=_warn, metric=metric, grid=grid)
    result = _execute(batch, options)
    tables = outputs.sweep_tables(batch, result)
    _finish(batch, result, tables, started, options.report)
    if tables:
        # the batch's metric: an old name given is read as its new one, and a resumed batch keeps its own
        terminal.print_sweep(tables["sweep_summary"], list(batch.grid), batch.metric, out_console, scenario=batch.scenario)
        out_console.print(f"Results written to [bold]{batch.folder}[/bold]")
    _report_errors(result)


@app.command(epilog="Example: msksim bid scenarios/bedfordshire.toml --bid 24.5m --reps 50")
@batch_command
def bid(
    scenario: BatchScenarioArg = None,
    price: Annotated[
        str | None,
        typer.Option(
            "--bid",
            help="Year-1 contract price: 26.5m, 800k or 26500000, or per head of the population covered: 590/head "
            "(default: the scenario's).",
            metavar="PRICE",
        ),
    ] = None,
    design: Annotated[str, typer.Option("--design", help="The prime-contract design.", metavar="NAME")] = "prime",
    takes_over: Annotated[
        str | None,
        typer.Option(
            "--takes-over",
            help="The design whose patients the prime takes over at the contract start (its warm-up runs as that "
            "design), mobilising as the scenario says: the first years as a bidder would live them.",
            metavar="NAME",
        ),
    ] = None,
    max_loss_probability: Annotated[
        float,
        typer.Option(
            "--max-loss-probability", callback=_finite, help="Risk appetite for the safe price.", min=0.0, max=1.0, metavar="P"
        ),
    ] = 0.10,
    reserve: Annotated[
        str | None,
        typer.Option(
            "--reserve",
            help="Cash the prime holds (reserve or parent guarantee): when it runs out, month by month.",
            metavar="AMOUNT",
        ),
    ] = None,
    as_json: JsonOpt = False,
    *,
    options: BatchOptions,
) -> None:
    """Stress-test a capitated bid: loss probabilities, value at risk, the lowest safe price, and
    monthly cash (bid_monthly.csv): when a reserve runs out, and the buffer that covers 90% of paths."""
    started = datetime.now(UTC)
    try:
        amount, per_head = bidding.parse_price(price) if price is not None else (None, False)
    except ValueError as e:
        raise batching.BatchError(f"--bid: {e}") from None
    try:
        held = bidding.parse_money(reserve, zero=True) if reserve is not None else 0.0
    except ValueError as e:
        raise batching.BatchError(f"--reserve: {e}") from None
    extra = {
        "bid_year1_gbp": None if per_head else amount,
        "bid_per_head_gbp": amount if per_head else None,
        "max_loss_probability": max_loss_probability,
        "reserve_gbp": held,
    }
    takeover = takes_over if options.resume is None else None
    batch = batching.prepare("bid", scenario, [design], options, warn=_warn, metric="prime_surplus_gbp", extra=extra,
                             takes_over=takeover)  # fmt: skip
    if options.resume is not None:  # the batch's price and terms are its own: the same again is harmless
        was = batch.extra.get(batching.TAKES_OVER) or {}
        changed = [("--bid", price is not None and (batch.extra.get("bid_year1_gbp"), batch.extra.get("bid_per_head_gbp"))
                    != (extra["bid_year1_gbp"], extra["bid_per_head_gbp"])),
                   ("--reserve", reserve is not None and batch.extra.get("reserve_gbp", 0.0) != held),
                   ("--takes-over", takes_over is not None and was.get("from") != takes_over)]  # fmt: skip
        batching.refuse_on_resume(batch.folder, changed)
    price_year1, risk = outputs.bid_terms(batch, scenario or batch.folder / results.SCENARIO_FILE)
    written = batch.scenario.finance.prime_contract.year1_value(batch.scenario.population)
    if amount is not None and written > 0 and not 1 / BID_SANITY <= price_year1 / written <= BID_SANITY:
        _warn(
            f"--bid {price}: {terminal.fmt(price_year1, 'gbp')} is {price_year1 / written:.2g} times the scenario's year-1 "
            f"value ({terminal.fmt(written, 'gbp')}): is that the price you meant?"
        )
    if per_head:
        covered = f"a year-1 price of {terminal.fmt(price_year1, 'gbp')} for the population covered"
        err_console.print(f"--bid {escape(str(price))}: {covered}", highlight=False)
    result = _execute(batch, options)
    tables = outputs.bid_tables(batch, result, price_year1, risk, warn=_warn)
    _finish(batch, result, tables, started, options.report)
    if "bid_summary" in tables:
        unranked = bidding.unranked_inputs(bidding.BidPaths(tables["replications"], batch.scenario, batch.designs[0]))
        if unranked:
            _warn(unranked)
        row = tables["bid_summary"].set_index("metric").loc["safe_price_year1_gbp"]
        if not math.isfinite(row["mean"]):
            _warn(f"no year-1 price keeps the probability of a cumulative loss at or under {risk:.0%} on these paths")
        elif not math.isfinite(row["ci_high"]):
            _warn(
                f"the safe price rests on {int(row['n'])} paths: at least {metrics.paths_for_upper_bound(1 - risk)} are needed "
                f"to bound it from above at 95% for a {risk:.0%} loss probability; raise --reps"
            )
        if as_json:
            typer.echo(outputs.bid_json(tables["bid_summary"], batch.folder))
        else:
            terminal.print_bid(tables["bid_summary"], tables["sensitivity"], batch.scenario, price_year1, out_console)
            _print_takeovers(batch, result)
            if "takeover" in tables:
                terminal.print_takeover(tables["takeover"], batch.extra[takeover_mod.TAKES_OVER], out_console)
            _print_policies(tables["replications"], batch.scenario)
            out_console.print(f"Results written to [bold]{batch.folder}[/bold]")
    _report_errors(result)


@app.command(name="report", epilog="Example: msksim report results/bedfordshire-20260101T120000.000000Z-1a2b3c")
def report_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by run, compare, sweep or bid.", show_default=False)],
) -> None:
    """Write report.html (self-contained: charts, tables, diagnostics) into a results folder."""
    with _user_errors():
        results.read_run(folder)  # a damaged folder is named and explained before the report reads it
    try:
        with _user_errors(), batching.held(folder):
            staging.check_writable(folder / "report.html", staging.LEAST_OUTPUT, "the report")  # before the work
            written = report_html.build_report(folder)
    except (KeyError, ValueError, TypeError, IndexError) as e:  # a table edited into a shape the checks let by
        _fail(f"{folder}: cannot build the report from its tables ({type(e).__name__}: {e}); were they edited?")
    out_console.print(f"Report written to [bold]{written}[/bold]")


@app.command(name="published", epilog="Example: msksim published results/RUN --rtt data/rtt/FILE.csv --commissioner 06F")
def published_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by run or compare.", show_default=False)],
    rtt: Annotated[list[Path], typer.Option("--rtt", help="Published RTT return files (either format); repeat.", metavar="FILE")],
    commissioner: Annotated[str, typer.Option("--commissioner", help="The commissioner's code, e.g. 06F.", metavar="CODE")],
    design: Annotated[list[str] | None, typer.Option("--design", help="Designs to show (default: all).", metavar="NAME")] = None,
) -> None:
    """Set a run's RTT returns beside the published ones, month for month (the same calendar months)."""
    with _user_errors():
        run = results.read_run(folder)
        if "rtt_returns" not in run.tables:
            raise results.ResultsError(folder, "no rtt_returns.csv (written by runs since the RTT returns were added)")
        try:
            rtt_returns.check_one_era(rtt)
            published = rtt_returns.read_returns(rtt, commissioner)
        except rtt_returns.ReturnsError as e:
            _fail(str(e))
    if published.empty:
        _fail(f"no rows for commissioner {commissioner} in {', '.join(map(str, rtt))}")
    returns = run.tables["rtt_returns"]
    known = list(dict.fromkeys(returns["design"].astype(str)))
    for name in design or []:
        if name not in known:
            _fail(f"--design {name}: not a design of the run in {folder}; known: {', '.join(known)}")
    for name in design or known:
        table, months = rtt_compare.beside_run(returns, published, name)
        if table.empty:
            _warn(f"design '{name}': no months of the run match the published ones")
            continue
        pairs = ", ".join(f"{p} ← {s}" if p != s else p for p, s in months.items())
        terminal.print_beside(table, f"{name}: simulated (mean, range over replications) beside {commissioner} (months {pairs})")


@app.command(
    name="target",
    epilog="Example: msksim target scenarios/bedfordshire.toml --design prime --stage orthopaedics --stage theatre "
    "--metric rtt_incomplete_within_18w_pct --at-least 92 --year 2",
)
def target_command(
    scenario: ScenarioArg,
    stage: Annotated[
        list[str], typer.Option("--stage", help="A service whose capacity is searched (or theatre); repeat.", metavar="NAME")
    ],
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="The measure to meet: a numeric column of replications.csv (rtt_incomplete_within_18w_pct) or one "
            "treatment function's return (rtt_110_incomplete_within_18w_pct: trauma and orthopaedics).",
            metavar="MEASURE",
        ),
    ] = "rtt_incomplete_within_18w_pct",
    at_least: Annotated[
        float | None, typer.Option("--at-least", callback=_finite, help="The metric must be at least this.", metavar="VALUE")
    ] = None,
    at_most: Annotated[
        float | None, typer.Option("--at-most", callback=_finite, help="The metric must be at most this.", metavar="VALUE")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="The contract year to meet it in (default: the last).", min=1, metavar="Y")
    ] = None,
    probability: Annotated[
        float,
        typer.Option(
            "--probability", callback=_finite, help="Share of replications that must meet it.", min=0.0, max=1.0, metavar="P"
        ),
    ] = 0.9,
    max_load: Annotated[
        float,
        typer.Option(
            "--max-load",
            callback=_finite,
            help="The highest expected load (appointments asked for / slots offered) any searched service may have in "
            "any year of the run: capacity at or above it is never recommended.",
            metavar="L",
        ),
    ] = MAX_LOAD,
    design: Annotated[
        str | None,
        typer.Option("--design", help="The design (default: the scenario's last not based on another).", metavar="NAME"),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option("--tolerance", callback=_finite, help="Stop when the bracket is this close (relative).", min=1e-4, max=1.0),
    ] = 0.01,
    reps: Annotated[int | None, typer.Option("--reps", help="Replications per trial.", min=1, metavar="N")] = None,
    years: Annotated[int | None, typer.Option("--years", help="Contract years.", min=1, metavar="Y")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.", min=0, metavar="S")] = None,
    no_uncertainty: Annotated[bool, typer.Option("--no-uncertainty", help="Run at the point values.")] = False,
    out: OutOpt = None,
    force: ForceOpt = False,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    quiet: QuietOpt = False,
    structure: Annotated[
        str | None,
        typer.Option(
            "--structure", help="Search under this capacity structure only (default: each the design has).", metavar="NAME"
        ),
    ] = None,
    searched: Annotated[
        str,
        typer.Option(
            "--search",
            help="What to search: the capacity set; or, for services with a managed capacity policy, its most "
            "sessions a week (maximum) or its list triggers (trigger).",
            metavar="capacity|maximum|trigger",
        ),
    ] = "capacity",
) -> None:
    """The least capacity of the named services that meets a target: a search on common random numbers.

    Where the design has capacity structures the returns cannot tell apart (a queue-led and a
    delay-led fit), the search runs under each, and the answer is the range they give."""
    with _user_errors():
        if (at_least is None) == (at_most is None):
            raise batching.BatchError("give the target one way: --at-least VALUE or --at-most VALUE")
        if searched not in targets.SEARCHES:
            raise batching.BatchError(f"--search {searched}: expected one of {', '.join(targets.SEARCHES)}")
        s = scenarios.load_given(scenario, set_, reps=reps, seed=seed, years=years, warn=_warn)
        metric = batching.metric_now(metric, _warn)
        name = design or s.own_designs()[-1]
        if name not in s.designs:
            raise batching.BatchError(f"--design {name}: not a design of {s.name}; known: {', '.join(s.designs)}")
        goal = targets.Target(metric, at_least if at_least is not None else at_most, at_least is not None, year, probability,
                              max_load)  # fmt: skip
        if structure and structure not in s.designs[name].structures:
            raise batching.BatchError(f"--structure {structure}: not a structure of design '{name}'; it has "
                             f"{', '.join(s.designs[name].structures) or 'none'}")  # fmt: skip
        try:
            targets.capacity_values(s, name, stage, searched)
            targets.check_target(s, name, goal)
        except targets.TargetError as e:
            raise batching.BatchError(str(e)) from None
        folder = results.run_folder(f"{s.name}-target", out)
        batching.check_out(folder, out is not None, force)
    structures = [structure] if structure else s.structure_names([name]) or [""]
    if len(structures) > 1:
        err_console.print(
            f"Design '{name}' has {len(structures)} capacity structures the returns cannot tell apart "
            f"({', '.join(structures)}): the search runs under each, on the same patients",
            highlight=False,
        )
    # the folder held (and refused to a second msksim) throughout; its files moved in together at the end
    with _user_errors(), batching.claimed(folder, out is not None, force, what="target"), staging.staged(folder) as into:
        found, tried, written = _target_run(s, scenario, name, stage, goal, structures, into, folder, set_, reps, seed,
                                            years, jobs, tolerance, no_uncertainty, quiet, searched)  # fmt: skip
    missed = [one for one in structures if one not in found]
    if missed and not found:
        why = "; ".join(targets.unmet(tried[one], one) for one in missed)
        _fail(f"not met even at x{targets.HIGHEST:g} the capacity of {', '.join(stage)}: {why} "
              f"(trials in {folder / 'target.csv'})", code=1)  # fmt: skip
    out_console.print(f"Results written to [bold]{folder}[/bold] ({', '.join(written)})")
    if missed:
        raise typer.Exit(1)


def _target_run(s: schema.Scenario, scenario: Path, name: str, stage: list[str], goal: targets.Target, structures: list[str],
                into: Path, folder: Path, set_: list[str] | None, reps: int | None, seed: int | None, years: int | None,
                jobs: int | None, tolerance: float, no_uncertainty: bool, quiet: bool, searched: str,
                ) -> tuple[dict[str, tuple[targets.Trial, dict[str, Any]]], dict[str, list[targets.Trial]],
                           list[str]]:  # fmt: skip
    """``target``'s searches, their files written in ``into`` (moved into ``folder`` after), what is found shown."""
    written: list[str] = []
    found: dict[str, tuple[targets.Trial, dict[str, Any]]] = {}
    tried: dict[str, list[targets.Trial]] = {}
    all_trials = []
    executor = batching.open_executor(jobs, None, warn=_warn)
    try:
        for one in structures:
            run = s.with_structure(one) if one else s
            values = targets.capacity_values(run, name, stage, searched)
            answer, trials = _target_search(run, name, stage, goal, one, executor, tolerance, no_uncertainty, quiet, searched)
            all_trials.append(targets.trials_table(trials).assign(**({"structure": one} if one else {})))
            tried[one] = trials
            if answer is not None:
                found[one] = (answer, values)
    except (targets.TargetError, schema.ScenarioError, executors.StartError) as e:
        _fail(str(e))
    finally:
        executor.close()
    results.write_csv(into / "target.csv", pd.concat(all_trials, ignore_index=True))
    written.append("target.csv")
    missed = [one for one in structures if one not in found]
    if missed and not found:  # the trials alone are kept, to show how near each came
        return found, tried, written
    source = Path(os.path.relpath(scenario.resolve(), folder.resolve())).as_posix()
    shortcuts = [f"{k}={v}" for k, v in (("run.replications", reps), ("run.seed", seed), ("run.years", years)) if v is not None]
    for one, (answer, values) in found.items():
        suffix = f"_{one}" if len(structures) > 1 else ""
        sets = [*(set_ or []), *shortcuts, *([f'designs.{name}.structure="{one}"'] if one else [])]
        run = s.with_structure(one) if one else s
        loads = targets.answer_loads(run, name, values, answer)
        notes = [*targets.horizon(run, name, loads, answer, goal), *targets.reconcile(loads, answer, goal)]
        results.write_csv(into / f"target_monthly{suffix}.csv", targets.trajectory(answer))
        results.write_csv(into / f"target_loads{suffix}.csv", loads)
        toml = targets.target_toml(run, name, answer, values, source, sets, goal, notes)
        results.write_atomic(into / f"target{suffix}.toml", toml)
        written += [f"target_monthly{suffix}.csv", f"target_loads{suffix}.csv", f"target{suffix}.toml"]
        _print_target(answer, values, goal, s.run.years, goal.metric, one, loads)
        for line in notes:
            out_console.print(f"[yellow]{line}[/yellow]" if line.startswith(("Warning", "Not settled")) else line,
                              highlight=False)  # fmt: skip
    if len(found) > 1:
        out_console.print(targets.structures_range(found, goal), highlight=False)
    for one in missed:
        out_console.print(
            f"[yellow]Not met even at x{targets.HIGHEST:g}: {targets.unmet(tried[one], one)}[/yellow]", highlight=False
        )
    return found, tried, written


def _target_search(s: schema.Scenario, name: str, stage: list[str], goal: targets.Target, structure: str,
                   executor: executors.Executor, tolerance: float, no_uncertainty: bool, quiet: bool, searched: str = "capacity",
                   ) -> tuple[targets.Trial | None, list[targets.Trial]]:  # fmt: skip
    """One search of ``target`` (under one structure), saying each trial as it finishes."""
    under = f" under the {structure} structure" if structure else ""
    what = {"maximum": "managed policy's most sessions a week", "trigger": "managed policy's list triggers"}
    what = what.get(searched, "capacity")
    keys = targets.searched_values(targets.capacity_values(s, name, stage, searched))
    err_console.print(
        f"Searching the {what} of {', '.join(stage)} in design '{name}'{under} for {goal.words}, "
        f"{s.run.replications} replications a trial, seed {s.run.seed}, every searched service's expected load under "
        f"{goal.max_load:g} in every year; the keys scaled, as the design sets them: {', '.join(keys)}",
        highlight=False,
    )

    def said(t: targets.Trial) -> None:
        err_console.print(
            f"  x{t.factor:.4g}: met on {t.met_share:.0%} of replications, {goal.metric} {t.metric_mean:,.4g} on average, "
            f"{t.cost_metric} {terminal.fmt(t.cost_gbp, 'gbp')}, highest load {t.peak.load:.3f}"
            f"{' (the least the maximum load allows)' if t.at_floor else ''} — {'meets' if t.met else 'misses'} the target",
            highlight=False,
        )

    if quiet:
        return targets.search(s, name, stage, goal, executor=executor, tolerance=tolerance, uncertainty=not no_uncertainty,
                      report=said, searched=searched)  # fmt: skip
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:

        def tasks(factor: float) -> Callable[[int, int], None]:
            task = bar.add_task(f"trial x{factor:.4g}", total=s.run.replications)
            return lambda done, total: bar.update(task, completed=done, total=total)

        return targets.search(s, name, stage, goal, executor=executor, tolerance=tolerance, uncertainty=not no_uncertainty,
                      report=said, progress=tasks, searched=searched)  # fmt: skip


def _print_target(answer: targets.Trial, values: dict[str, Any], goal: targets.Target, years: int, metric: str, structure: str,
                  loads: pd.DataFrame) -> None:  # fmt: skip
    """The capacity found (under one structure), every service's expected load, and its waits month by month."""
    under = f", {structure} structure" if structure else ""
    table = Table(title=f"Least capacity found{under}: x{answer.factor:.4g} of that set ({goal.words})", header_style="bold")
    for col in ("Key", "Set", "Found"):
        table.add_column(col, justify="left" if col == "Key" else "right", overflow="fold")
    for key, was in targets.searched_values(values).items():
        table.add_row(key, terminal.plain(float(was), 15), terminal.plain(answer.slots[key], 15))
    out_console.print(table)
    out_console.print(
        f"Met on {answer.met_share:.0%} of replications (95% Wilson interval {answer.met_low:.0%} to {answer.met_high:.0%}); "
        f"{metric} {answer.metric_mean:,.4g} on average; {answer.cost_metric} {terminal.fmt(answer.cost_gbp, 'gbp')} in year "
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
    out_console.print(by_year)
    path = targets.trajectory(answer)
    if not path.empty:
        months = Table(title="Month by month at that capacity (mean over replications)", header_style="bold")
        shown = [c for c in ("rtt_incomplete_within_18w_pct", "rtt_wait_median_weeks", "rtt_wait_p92_weeks") if c in path]
        for col in ("Month end", *shown):
            months.add_column(col, justify="right", overflow="fold")
        for r in path.itertuples(index=False):
            months.add_row(str(r.month_end), *(f"{getattr(r, c):,.1f}" for c in shown))
        out_console.print(months)


@app.command(
    name="calibrate",
    epilog="Example: msksim calibrate scenarios/bedfordshire.toml --commissioner 06F --holdout 1 "
    "$(for f in data/rtt/rtt-commissioner-ccg-*.csv; do echo --rtt $f; done)  (the bundled 2014/15 returns)",
)
def calibrate_command(
    scenario: ScenarioArg,
    rtt: Annotated[
        list[Path],
        typer.Option("--rtt", help="Published RTT return files (either format), one per month and part; repeat.", metavar="FILE"),
    ],
    commissioner: Annotated[str, typer.Option("--commissioner", help="The commissioner's code, e.g. 06F.", metavar="CODE")],
    treatment_function: Annotated[
        list[str] | None,
        typer.Option(
            "--treatment-function", help="Functions to fit (default: those the design's clinics report under).", metavar="CODE"
        ),
    ] = None,
    design: Annotated[
        str | None,
        typer.Option("--design", help="The design to fit (default: the scenario's last not based on another).", metavar="NAME"),
    ] = None,
    holdout: Annotated[
        int, typer.Option("--holdout", help="Months held out at the end for the back-test.", min=0, metavar="MONTHS")
    ] = 0,
    fit_referrals: Annotated[
        bool, typer.Option("--fit-referrals", help="Also fit demand.referrals_per_year (it moves every service).")
    ] = False,
    fit_routing: Annotated[
        bool,
        typer.Option(
            "--fit-routing",
            help="Also fit the design's triage_hospital_shift: how many of those triage "
            "would send to a community clinic it sends to hospital instead.",
        ),
    ] = False,
    from_scenario: Annotated[
        bool,
        typer.Option(
            "--from-scenario",
            help="Start the search from the scenario's own values (a refit), not from "
            "capacity at demand and the returns' removals.",
        ),
    ] = False,
    reps: Annotated[
        int, typer.Option("--reps", help="Replications per candidate (common random numbers).", min=1, metavar="N")
    ] = 2,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds",
            help="Rounds of the search at most (0 with --from-scenario: keep the scenario's "
            "values and fit only the structures beside them).",
            min=0,
            metavar="N",
        ),
    ] = 4,
    queue_led: Annotated[
        list[str] | None,
        typer.Option(
            "--queue-led",
            help="Fit the queue-led structure for this service (or theatre) only, of those the "
            "returns do not tell; repeat (default: all of them).",
            metavar="NAME",
        ),
    ] = None,
    structure_rounds: Annotated[
        int | None,
        typer.Option(
            "--structure-rounds",
            help="Rounds of the queue-led search, where the returns do not tell a capacity (default: --rounds).",
            min=1,
            metavar="N",
        ),
    ] = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fit an area's capacity, booking lead and removals to its published RTT returns, and back-test.

    The fit holds every service at the capacity set (``run.capacity_policies=fixed``): the returns
    tell the capacity that was in force in their months, sessions added included; the scenario's
    capacity policies act on what is fitted when it is run."""
    with _user_errors():
        s = scenarios.load_given(scenario, set_, warn=_warn)
        if s.capacity_policies_act:
            err_console.print("Capacity policies held fixed while fitting: the returns tell the capacity in force in "
                              "their months (the calibrated scenario keeps them)", highlight=False)  # fmt: skip
            s = s.model_copy(update={"run": s.run.model_copy(update={"capacity_policies": "fixed"})})
        try:
            table = area_fit.read_published(rtt, commissioner, treatment_function)
            st = area_fit.setup(
                s, design, table, commissioner, treatment_function, holdout, fit_referrals, fit_routing, from_scenario
            )
        except rtt_returns.ReturnsError as e:
            _fail(str(e))
        except area_fit.CalibrationError as e:
            _fail(str(e))
        known = [*s.design_stages(st.design), schema.THEATRE]
        for name in queue_led or []:
            if name not in known:
                raise batching.BatchError(f"--queue-led {name}: not a service of design '{st.design}' (or theatre); known: "
                                 f"{', '.join(known)}")  # fmt: skip
        folder = results.run_folder(f"{s.name}-calibration", out)
        batching.check_out(folder, out is not None, force)
    # the folder held (and refused to a second msksim) from here; its files moved in together at the end
    with _user_errors(), batching.claimed(folder, out is not None, force, what="calibrate"):
        err_console.print(
            f"Fitting design '{st.design}' of {s.name} to {commissioner}, functions {', '.join(st.functions)}: "
            f"{len(st.knobs)} unknowns, months {', '.join(st.fit_months)}"
            + (f", holding out {', '.join(st.holdout_months)}" if st.holdout_months else ""),
            highlight=False,
        )
        executor = batching.open_executor(jobs, None, warn=_warn)
        try:
            if quiet:
                cal = area_fit.calibrate(st, executor, reps, rounds, structure_rounds=structure_rounds, queue_led=queue_led)
            else:
                columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
                with Progress(*columns, console=err_console, transient=True) as bar:
                    most = 1 + (rounds + 1) * 2 * len(st.knobs) + 2 * len(identified.capacities(st.knobs))  # candidates, at most
                    task = bar.add_task("calibrating (simulations)", total=most * reps)
                    cal = area_fit.calibrate(
                        st, executor, reps, rounds, progress=lambda n: bar.advance(task, n), structure_rounds=structure_rounds
                    )
        except executors.StartError as e:
            _fail(str(e))
        finally:
            executor.close()
        calibration_report.print_calibration(cal, out_console)
        with staging.staged(folder, last=("calibrated.toml",)) as stage:
            written = calibration_output.write(cal, folder, scenario, rtt, set_ or [], stage)
    for path in written:
        err_console.print(f"Written {path}", highlight=False)


@app.command(
    name="national",
    epilog="Example: msksim national scenarios/bedfordshire.toml --areas 06F,00Y,12F --holdout 1 "
    "$(for f in data/rtt/rtt-commissioner-ccg-*.csv; do echo --rtt $f; done)  (every CCG's 2014/15 returns are bundled)",
)
def national_command(
    scenario: ScenarioArg,
    rtt: Annotated[
        list[Path],
        typer.Option("--rtt", help="Published RTT return files of one era, one per month and part; repeat.", metavar="FILE"),
    ],
    areas: Annotated[
        str, typer.Option("--areas", help="Commissioner codes, comma-separated (06F,00Y), or 'all'.", metavar="CODES")
    ] = "all",
    holdout: Annotated[
        int,
        typer.Option("--holdout", help="Months held out at the end of each area's, for the back-test.", min=0, metavar="MONTHS"),
    ] = 1,
    population: Annotated[
        Path | None,
        typer.Option(
            "--population",
            help="CSV of code,population; an area it does not name has its population estimated from the returns.",
            metavar="FILE",
        ),
    ] = None,
    design: Annotated[
        str, typer.Option("--design", help="The design fitted to each area's returns.", metavar="NAME")
    ] = "fragmented",
    compare: Annotated[
        list[str] | None,
        typer.Option(
            "--compare", help="A design run beside it on the same patients (repeat; default: every other).", metavar="NAME"
        ),
    ] = None,
    fit_referrals: Annotated[
        bool,
        typer.Option(
            "--fit-referrals/--no-fit-referrals",
            help="Fit each area's referral volume too (a third to three times the scaled one): an estimated population "
            "is corrected by the area's own clock starts and stops.",
        ),
    ] = True,
    reps: Annotated[int, typer.Option("--reps", help="Replications per fitting candidate.", min=1, metavar="N")] = 2,
    rounds: Annotated[int, typer.Option("--rounds", help="Rounds of each area's fit at most.", min=0, metavar="N")] = 4,
    compare_reps: Annotated[
        int, typer.Option("--compare-reps", help="Replications of the paired comparison.", min=2, metavar="N")
    ] = 10,
    out: OutOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the batch in --out from the areas that finished.")] = False,
    force: ForceOpt = False,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fit every area in the returns and compare the designs there: one area, one task.

    For each commissioner: scale the template to its population (from --population or estimated
    from the returns), fit the design to its months but those held out, back-test the held-out
    months beside the naive forecast, and run the compared designs on the same patients. Writes
    national.csv (a row an area), national_backtest.csv, national.html and, per area,
    areas/CODE/scaled.toml and calibrated.toml. A failed area is recorded and the rest go on."""
    started = datetime.now(UTC)
    with _user_errors():
        template = scenarios.load_given(scenario, set_, warn=_warn)
        others = tuple(compare) if compare else tuple(d for d in template.designs if d != design)
        settings = national_task.Settings(design, others, holdout, fit_referrals, reps, rounds, compare_reps)
        folder = out if out is not None else results.run_folder(f"{template.name}-national", None)
        if resume and not (folder / national_batch.JOURNAL).exists():
            _fail(f"--resume: {folder} holds no national batch to continue (no {national_batch.JOURNAL}); give its --out")
        if not resume and (folder / national_batch.JOURNAL).exists() and not force:
            _fail(f"--out {folder}: already holds a national batch: continue it with --resume, choose another --out, "
                  "or --force to replace it")  # fmt: skip
        try:
            nat = national_batch.prepare(scenario, template, rtt, areas, population, settings, folder, set_)
        except (national_batch.NationalError, national_areas.AreaError, rtt_returns.ReturnsError) as e:
            _fail(str(e))
        if resume:
            try:
                national_batch.refuse_changes(nat)
            except national_batch.NationalError as e:
                _fail(str(e))
    guard = batching.held(folder) if resume else batching.claimed(folder, out is not None, force, what="a national batch")
    with _user_errors(), guard:
        if force and not resume:
            national_batch.start_over(folder)
        err_console.print(
            f"{len(nat.codes)} area(s) of {len(nat.names)} in the returns ({', '.join(nat.months)}): design '{design}' fitted "
            f"to each, {holdout} month(s) held out, compared with {', '.join(others)}",
            highlight=False,
        )
        executor = batching.open_executor(jobs, scheduler, warn=_warn)
        try:
            with interrupt.terminating():
                outcomes = _national_run(nat, executor, quiet)
        except KeyboardInterrupt as e:
            done = national_batch.read_journal(folder)
            how = f"stopped by {e.name}" if isinstance(e, interrupt.Terminated) else "interrupted"
            _fail(f"{how}: {len(done)} finished area(s) are kept in {folder}; continue with the same command and --resume",
                  code=interrupt.exit_code(e))  # fmt: skip
        except executors.StartError as e:
            _fail(str(e))
        finally:
            executor.close()
        written = national_batch.finish(nat, outcomes, started, national_report.national_report)
    _print_national(national_batch.national_table(outcomes))
    for note in nat.notes:
        _warn(note)
    for path in written:
        err_console.print(f"Written {path}", highlight=False)
    failed = [o for o in outcomes.values() if o.row.get("status") != "done"]
    if failed:
        _warn(f"{len(failed)} of {len(outcomes)} area(s) did not finish (national.csv says why): "
              + "; ".join(f"{o.code}: {o.row.get('error', '')}" for o in failed[:5]))  # fmt: skip


def _national_run(nat: Any, executor: executors.Executor, quiet: bool) -> dict[str, Any]:
    if quiet:
        return national_batch.execute(nat, executor)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("areas", total=len(nat.codes))
        return national_batch.execute(
            nat,
            executor,
            lambda done, total: bar.update(task, completed=done, total=total),
            lambda code: bar.update(task, description=f"areas (scaling {code})"),
        )


def _print_national(table: pd.DataFrame) -> None:
    """A few columns of every area: its population, fit, back-test and the T&O lists and waits."""
    shown = Table(title="Areas (national.csv has every column)", header_style="bold")
    cols = [("code", "Code"), ("population", "People"), ("fit_loss", "Fit loss"), ("backtest_beats_naive", "Beats naive"),
            ("published_110_within_18w_pct", "Pub. <18w %"), ("fitted_110_within_18w_pct", "Fit <18w %"),
            ("t_and_o_load", "T&O load")]  # fmt: skip
    diff = next((c for c in table.columns if c.endswith("_110_incomplete_within_18w_pct") and "_minus_" in c), None)
    if diff:
        cols.append((diff, f"{diff.split('_minus_')[0]} Δ<18w"))
    cols.append(("status", "Status"))
    for _, title in cols:
        shown.add_column(title, justify="right", overflow="fold")
    for _, r in table.iterrows():
        cells = []
        for col, _ in cols:
            v = r.get(col, "")
            if isinstance(v, str):
                cells.append(v)
            elif pd.isna(v):
                cells.append("")
            else:
                cells.append(f"{v:,.0f}" if col in ("population", "backtest_beats_naive") else f"{v:,.2f}")
        shown.add_row(*cells)
    out_console.print(shown)


@app.command(epilog="Example: msksim scale scenarios/template.toml --population 150000 --out scenarios/my_area.toml")
def scale(
    scenario: ScenarioArg,
    population: Annotated[int, typer.Option("--population", help="People in the area to scale to.", metavar="PEOPLE")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Scenario file to write (default: NAME_PEOPLE.toml beside SCENARIO).", metavar="FILE"),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Its scenario name (default: NAME_PEOPLE).", metavar="NAME")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --out file if it exists.")] = False,
) -> None:
    """Scale a scenario to another population: referrals, slots, beds and the sums paid together.

    Writes a scenario that extends SCENARIO and sets only what was scaled, each value rounded
    (slots to 0.1 a week, staff to 0.01 WTE, the rest whole) with what it was; prices per unit,
    shares, rates and delays stay as they are, so every load does too, to the rounding.
    """
    with _user_errors():
        s = scenarios.load_given(scenario, None, warn=_warn)
        scaling = area_scale.scale(s, population, name)
        target = out if out is not None else scenario.parent / f"{scaling.name}.toml"
        scaled = area_scale.write(scaling, scenario, target, force)
    table = Table(title=f"Scaled x{scaling.factor:.6g}: population {s.population:,} to {population:,}", header_style="bold")
    table.add_column("Key", overflow="fold")
    for col in ("Was", "Now"):
        table.add_column(col, justify="right", overflow="fold")
    for v in scaling.values:
        table.add_row(v.key, terminal.plain(v.was, 15), terminal.plain(v.now, 12))
    out_console.print(table)
    out_console.print(f"{area_scale.ROUNDING[0].upper()}{area_scale.ROUNDING[1:]}.", highlight=False)
    if scaling.uncertainty:
        how = [
            f"{k} ({'relative, unchanged' if e.get('relative') else f'x{scaling.factor:.6g}'})"
            for k, e in scaling.uncertainty.items()
        ]
        out_console.print(f"Distributions of scaled values: {'; '.join(how)}.", highlight=False)
    for note in scaling.notes:
        _warn(note)
    before, after = area_scale.loads(s), area_scale.loads(scaled)
    moved = {k: abs(after[k] - before[k]) for k in before if math.isfinite(before[k])}
    change = max(moved.values(), default=0.0)
    out_console.print(
        f"Every service's load (appointments asked for / slots offered) is as before, to within {change:.3f} "
        f"(the rounding; {area_scale.LOAD_TOLERANCE} at most). Not scaled: prices per unit, shares, rates and days. "
        f"Written {target}; check it with: msksim validate {target}",
        highlight=False,
    )
    if change > area_scale.LOAD_TOLERANCE:
        (design, stage), _ = max(moved.items(), key=lambda kv: kv[1])
        _warn(
            f"{design}: rounding moved {stage}'s load from {before[design, stage]:.3f} to {after[design, stage]:.3f}; "
            f"set its capacity in {target} to give the load you mean"
        )


@app.command(epilog="Example: msksim validate scenarios/bedfordshire.toml --set demand.referrals_per_year=40000")
def validate(scenario: ScenarioArg, set_: SetOpt = None) -> None:
    """Check a scenario file and summarise what it describes."""
    with _user_errors():
        s = scenarios.load_given(scenario, set_, warn=_warn)
    for message in plausibility.warnings(s):
        _warn(message)
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
    outside = d.outside_contract
    if outside.per_year > 0:
        out_console.print(
            f"Care outside the contract: {outside.per_year:,.0f} referrals a year straight to {outside.stage} in every "
            f"design, growth {outside.growth:.1%}/yr; in the loads below, paid apart from the contract "
            "(outside_contract_spend_gbp).",
            highlight=False,
        )
    for name, design in s.designs.items():
        flows = traffic.expected_activity(s, name)
        weekly = traffic.stage_load(s, name, flows)
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
            cap = model_capacity.effective_weekly(s, st_name, name)
            rho = demand / cap if cap else float("inf")
            style = "bold red" if rho >= 1 else ("yellow" if rho >= 0.9 else "")
            cfg = stages.get(st_name)
            function = "as listed" if cfg is None else cfg.rtt_function or "none"
            table.add_row(
                st_name, terminal.fmt(cap, "count"), terminal.fmt(demand, "count"),
                f"[{style}]{rho:.2f}[/{style}]" if style else f"{rho:.2f}", function,
            )  # fmt: skip
        out_console.print(table)
        n = d.referrals_per_year
        ops = (flows.get("surgeries_daycase", 0) + flows.get("surgeries_inpatient", 0)) * n
        fmt = terminal.fmt
        out_console.print(
            f"  expected per year: {fmt(flows.get('gp_consultations', 0) * n, 'count')} extra GP consultations, "
            f"{fmt(flows.get('joint_replacements', 0) * n, 'count')} joint replacements, {fmt(ops, 'count')} operations",
            highlight=False,
        )
    if s.uncertainty:
        out_console.print(uncertainty_table(s))


def uncertainty_table(s: schema.Scenario) -> Table:
    """Each uncertain input: its distribution, the value the scenario sets and the range drawn."""
    dists = uncertainty.parse_uncertainty(s.uncertainty, s, s.name)
    data = scenario_values.scenario_to_dict(s)
    table = Table(title="Uncertain inputs, drawn afresh for each replication (--no-uncertainty: the values set)",
                  header_style="bold")  # fmt: skip
    for col in ("Key", "Distribution", "Value set", "Range drawn (99.98%)"):
        table.add_column(col, justify="left" if col in ("Key", "Distribution") else "right", overflow="fold")
    for key, dist in dists.items():
        point = scenario_values.value_at(data, key)
        params = {k: v for k, v in dist.model_dump().items() if k not in ("dist", "also", "relative") and v is not None}
        shown = ", ".join(f"{k} {terminal.plain(v, 15)}" if isinstance(v, float | int) else f"{k} {v}" for k, v in params.items())
        described = f"{dist.dist}({shown})" + (" × value set" if dist.relative else "")
        if isinstance(point, dict):
            table.add_row(key, described, "a row of shares", "each share drawn, the row summing to 1")
            continue
        low, high = dist.ends(point)
        table.add_row(key, described, terminal.plain(point, 15), f"{terminal.plain(low)} to {terminal.plain(high)}")
    return table


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
