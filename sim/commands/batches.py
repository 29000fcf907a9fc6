"""What the simulating commands do (``run``, ``compare``, ``sweep``, ``bid``) and the commands
that read a results folder (``report``, ``published``): settle the batch, run it with a progress
bar, write its folder and print what it found. Loaded when one of them runs."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import typer

from sim.base.lazy import later
from sim.commands.shared import err_console, fail, grouped, out_console, user_errors, warn
from sim.report import progress
from sim.report.html import build_report
from sim.report.terminal import print_beside
from sim.report.terminal_bid import bid_warnings, per_head_price, price_query, print_bid_result
from sim.report.terminal_run import print_run
from sim.report.verdicts import print_sweep
from sim.rtt import compare as rtt_compare
from sim.rtt import returns as rtt_returns
from sim.runs import batch as batching
from sim.runs import outputs, results, settle
from sim.runs.batch import Batch
from sim.runs.experiment import BatchResult
from sim.runs.folders import held
from sim.runs.options import BatchOptions
from sim.runs.transaction import LEAST_OUTPUT, check_writable
from sim.scenario.names import PRIME_SURPLUS_GBP

pd = later("pandas")


@contextlib.contextmanager
def _shown(quiet: bool, batch: Batch) -> Iterator[batching.Progress | None]:
    """The batch's progress bar while it runs (none with ``quiet``)."""
    with progress.bar(err_console, f"{batch.scenario.name}: {', '.join(batch.designs)}", None, quiet) as bar:
        yield bar.update if bar is not None else None


def _run(batch: Batch, options: BatchOptions) -> BatchResult:
    return batching.run(batch, options, warn, functools.partial(_shown, options.quiet))


def _finish(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], started: datetime, report: bool) -> None:
    """Write everything (warnings as they come), the report if asked, then the precision verdict."""
    with grouped():
        written = batching.finish(batch, result, tables, started, warn=warn)
    if written and report:
        err_console.print(f"Report written to [bold]{build_report(batch.folder)}[/bold]")  # stdout is kept for --json
    verdict = batching.precision_verdict(batch, result)
    if verdict is not None:
        met, message = verdict
        if met:
            err_console.print(message)
        else:
            warn(message)


def _report_errors(result: BatchResult) -> None:
    message = batching.failures(result)
    if message:
        fail(message, code=1)


def simulate(request: settle.Request, scenario: Path | None, options: BatchOptions, as_json: bool) -> None:
    """``run`` and ``compare``: simulate, write, and show one design, or two with their difference
    (and the designs run ``also``, each with its difference from the first)."""
    started = datetime.now(UTC)
    batch = settle.prepare(request, scenario, options, warn)
    result = _run(batch, options)
    tables = outputs.design_tables(batch, result)
    _finish(batch, result, tables, started, options.report)
    if not tables["replications"].empty:
        if as_json:
            typer.echo(outputs.summary_json(tables["summary"], batch.folder))
        else:
            print_run(batch, result, tables, out_console)
    _report_errors(result)


def sweep(scenario: Path | None, grid_items: list[str] | None, grid_file: Path | None, designs: str, metric: str,
          options: BatchOptions) -> None:  # fmt: skip
    """``sweep``: every combination of the swept values × designs × replications, then each point's line and verdict."""
    started = datetime.now(UTC)
    if options.resume is not None:
        settle.refuse_on_resume(options.resume, [("--grid", grid_items), ("--grid-file", grid_file)])
    grid = settle.parse_grid(grid_items, grid_file) if options.resume is None else {}
    names = [d.strip() for d in designs.split(",") if d.strip()]
    batch = settle.prepare(settle.Request("sweep", names, metric=metric, grid=grid), scenario, options, warn)
    result = _run(batch, options)
    tables = outputs.sweep_tables(batch, result)
    _finish(batch, result, tables, started, options.report)
    if tables:
        # the batch's metric: an old name given is read as its new one, and a resumed batch keeps its own
        print_sweep(tables["sweep_summary"], list(batch.grid), batch.metric, out_console, scenario=batch.scenario)
        out_console.print(f"Results written to [bold]{batch.folder}[/bold]")
    _report_errors(result)


def bid(scenario: Path | None, terms: settle.BidTerms, design: str, takes_over: str | None, as_json: bool,
        options: BatchOptions) -> None:  # fmt: skip
    """``bid``: the stress test of a capitated price on the design's paths."""
    started = datetime.now(UTC)
    takeover = takes_over if options.resume is None else None
    request = settle.Request("bid", [design], metric=PRIME_SURPLUS_GBP, extra=terms.extra(), takes_over=takeover)
    batch = settle.prepare(request, scenario, options, warn)
    if options.resume is not None:  # the batch's price and terms are its own: the same again is harmless
        settle.refuse_bid_changes(batch, terms, takes_over)
    price_year1, risk = outputs.bid_terms(batch, scenario or batch.folder / results.SCENARIO_FILE)
    query = price_query(str(terms.price), price_year1, batch.scenario) if terms.amount is not None else None
    if query:
        warn(query)
    if terms.per_head:
        err_console.print(f"--bid {terms.price}: {per_head_price(price_year1)}", highlight=False, markup=False)
    result = _run(batch, options)
    tables = outputs.bid_tables(batch, result, price_year1, risk, warn=warn)
    _finish(batch, result, tables, started, options.report)
    if "bid_summary" in tables:
        for message in bid_warnings(tables, batch, risk):
            warn(message)
        if as_json:
            typer.echo(outputs.bid_json(tables["bid_summary"], batch.folder))
        else:
            print_bid_result(batch, result, tables, price_year1, out_console)
    _report_errors(result)


def report(folder: Path) -> None:
    """``report``: write report.html into a results folder."""
    with user_errors():
        results.read_run(folder)  # a damaged folder is named and explained before the report reads it
    try:
        with user_errors(), held(folder):
            check_writable(folder / "report.html", LEAST_OUTPUT, "the report")  # before the work
            written = build_report(folder)
    except (KeyError, ValueError, TypeError, IndexError) as e:  # a table edited into a shape the checks let by
        fail(f"{folder}: cannot build the report from its tables ({type(e).__name__}: {e}); were they edited?")
    out_console.print(f"Report written to [bold]{written}[/bold]")


def published(folder: Path, rtt: list[Path], commissioner: str, design: list[str] | None) -> None:
    """``published``: a run's RTT returns beside the published ones, month for month."""
    with user_errors(rtt_returns.ReturnsError):
        run = results.read_run(folder)
        if "rtt_returns" not in run.tables:
            raise results.ResultsError(folder, "no rtt_returns.csv (written by runs since the RTT returns were added)")
        rtt_returns.check_one_era(rtt)
        found = rtt_returns.read_returns(rtt, commissioner)
    if found.empty:
        fail(f"no rows for commissioner {commissioner} in {', '.join(map(str, rtt))}")
    returns = run.tables["rtt_returns"]
    known = list(dict.fromkeys(returns["design"].astype(str)))
    for name in design or []:
        if name not in known:
            fail(f"--design {name}: not a design of the run in {folder}; known: {', '.join(known)}")
    for name in design or known:
        table, months = rtt_compare.beside_run(returns, found, name)
        if table.empty:
            warn(f"design '{name}': no months of the run match the published ones")
            continue
        pairs = ", ".join(f"{p} ← {s}" if p != s else p for p, s in months.items())
        print_beside(table, f"{name}: simulated (mean, range over replications) beside {commissioner} (months {pairs})")
