"""The ``msksim`` command line: validate a scenario; run, compare, sweep and bid; plan capacity;
fit areas to their returns; report on a run.

The Typer app and the options of each command; what a command does loads when it runs, from
the packages below (:mod:`sim.commands` and those it calls), so ``msksim --help`` starts quickly.
The options every command shares, the error handling (``error: …`` and an exit code, never a
traceback) and the searching commands' declarations are in :mod:`sim.commands`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim import __version__
from sim.base.lazy import later
from sim.commands import searches
from sim.commands.shared import (
    PRECISION_METRIC,
    BatchScenarioArg,
    DesignOpt,
    JsonOpt,
    MetricOpt,
    PrecisionOpt,
    ScenarioArg,
    SetOpt,
    SweepMetricOpt,
    batch_command,
    finite,
    out_console,
    user_errors,
    warn,
)
from sim.runs.options import BatchOptions

batches = later("sim.commands.batches")
plans = later("sim.commands.plans")
plausibility = later("sim.analysis.plausibility")
scenarios = later("sim.scenario.loading")
settle = later("sim.runs.settle")
terminal_scenario = later("sim.report.terminal_scenario")

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
    batches.simulate(settle.Request("run", [design], precision, metric), scenario, options, as_json)


@app.command(
    epilog="Example: msksim compare scenarios/bedfordshire.toml --reps 20 --set stages.physio.slots_per_week=2800 --report"
)
@batch_command
def compare(
    scenario: BatchScenarioArg = None,
    baseline: Annotated[str, typer.Option("--baseline", help="The design compared against.", metavar="NAME")] = "fragmented",
    other: Annotated[str, typer.Option("--design", help="The design compared.", metavar="NAME")] = "prime",
    switch_over: Annotated[
        bool,
        typer.Option(
            "--switch-over",
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

    With --switch-over the second design starts from the first's lists at the contract start
    (the switch-over a commissioner lives through) and is compared with the first; its steady
    state runs beside it, and the months it takes to reach it are shown."""
    request = settle.Request("compare", [baseline, other], precision, metric, switch_over=switch_over, also=also or [])
    batches.simulate(request, scenario, options, as_json)


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
    batches.sweep(scenario, grid_items, grid_file, designs, metric, options)


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
            "--max-loss-probability", callback=finite, help="Risk appetite for the safe price.", min=0.0, max=1.0, metavar="P"
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
    terms = settle.bid_terms(price, reserve, max_loss_probability)
    batches.bid(scenario, terms, design, takes_over, as_json, options)


@app.command(name="report", epilog="Example: msksim report results/bedfordshire-20260101T120000.000000Z-1a2b3c")
def report_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by run, compare, sweep or bid.", show_default=False)],
) -> None:
    """Write report.html (self-contained: charts, tables, diagnostics) into a results folder."""
    batches.report(folder)


@app.command(name="published", epilog="Example: msksim published results/RUN --rtt data/rtt/FILE.csv --commissioner 06F")
def published_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by run or compare.", show_default=False)],
    rtt: Annotated[list[Path], typer.Option("--rtt", help="Published RTT return files (either format); repeat.", metavar="FILE")],
    commissioner: Annotated[str, typer.Option("--commissioner", help="The commissioner's code, e.g. 06F.", metavar="CODE")],
    design: Annotated[list[str] | None, typer.Option("--design", help="Designs to show (default: all).", metavar="NAME")] = None,
) -> None:
    """Set a run's RTT returns beside the published ones, month for month (the same calendar months)."""
    batches.published(folder, rtt, commissioner, design)


app.command(
    name="target",
    epilog="Example: msksim target scenarios/bedfordshire.toml --design prime --stage orthopaedics --stage theatre "
    "--metric rtt_incomplete_within_18w_pct --at-least 92 --year 2",
)(searches.target_command)
app.command(
    name="calibrate",
    epilog="Example: msksim calibrate scenarios/bedfordshire.toml --commissioner 06F --holdout 1 "
    "$(for f in data/rtt/rtt-commissioner-ccg-*.csv; do echo --rtt $f; done)  (the bundled 2014/15 returns)",
)(searches.calibrate_command)
app.command(
    name="national",
    epilog="Example: msksim national scenarios/bedfordshire.toml --areas 06F,00Y,12F --holdout 1 "
    "$(for f in data/rtt/rtt-commissioner-ccg-*.csv; do echo --rtt $f; done)  (every CCG's 2014/15 returns are bundled)",
)(searches.national_command)


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
    plans.scale(scenario, population, out, name, force)


@app.command(epilog="Example: msksim validate scenarios/bedfordshire.toml --set demand.referrals_per_year=40000")
def validate(scenario: ScenarioArg, set_: SetOpt = None) -> None:
    """Check a scenario file and summarise what it describes."""
    with user_errors():
        s = scenarios.load_given(scenario, set_, warn=warn)
    for message in plausibility.warnings(s):
        warn(message)
    terminal_scenario.print_validation(s, scenario, out_console)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
