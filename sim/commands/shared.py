"""What every command of the command line shares: the consoles, the error handling (``error: …``
and an exit code, never a traceback), the warnings, and the options' declarations.

Light: the command line imports it before any command runs, so ``msksim --help`` loads none
of the model or its libraries; the exceptions it catches load when one is raised."""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from sim.base.lazy import later
from sim.runs.options import BatchOptions

alike = later("sim.base.alike")
batching = later("sim.runs.batch")
results = later("sim.runs.results")
schema = later("sim.scenario.schema")
staging = later("sim.runs.transaction")

out_console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """End the command with ``error: MESSAGE`` and exit code ``code``."""
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


_held: list[list[str]] = []
"""Warnings held while a burst of them comes (a batch's checks), to be grouped when it ends."""


def warn(message: str) -> None:
    """Say ``warning: MESSAGE`` (held to the end of a :func:`grouped` burst)."""
    if _held:
        _held[-1].append(message)
    else:
        err_console.print(f"[bold yellow]warning:[/bold yellow] {escape(message)}", highlight=False)


@contextlib.contextmanager
def grouped() -> Iterator[None]:
    """Warnings given inside are printed when it ends, those alike as one with a count."""
    _held.append([])
    try:
        yield
    finally:
        for message in alike.group(_held.pop()):
            warn(message)


@contextlib.contextmanager
def user_errors(*more: type[Exception]) -> Iterator[None]:
    """Bad input, or a file system that refuses a write (full, read-only, …), ends the command
    with ``error: …`` and exit code 2, never a traceback; so do the exceptions ``more`` names. A
    batch stopped by Ctrl-C or a signal ends with the exit code of its stop."""
    try:
        yield
    except batching.Stopped as e:
        fail(str(e), code=e.code)
    except (batching.BatchError, schema.ScenarioError, results.ResultsError, staging.SpaceError, *more) as e:
        fail(str(e))
    except OSError as e:
        fail(staging.describe(e))


def finite(value: float | None) -> float | None:
    """A number option's value, refused when it is infinite or not a number (``inf``, ``nan``):
    the command line reads them as floats, and no option means anything at either."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, not {value}")
    return value


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
        callback=finite,
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
        with user_errors():
            command(**values, options=options)

    with_options.__signature__ = inspect.Signature([*own, *shared], return_annotation=None)  # type: ignore[attr-defined]
    with_options.__annotations__ = {p.name: p.annotation for p in (*own, *shared)}
    return with_options
