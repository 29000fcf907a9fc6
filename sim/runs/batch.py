"""A simulating command's batch, from its options to its results folder.

:func:`sim.runs.settle.prepare` checks every input and settles the batch (or reopens one to
resume) before anything is written; :func:`execute` writes the scenario, its inputs and the batch settings,
then runs the tasks (:func:`run` opens the executor and stops on Ctrl-C); :func:`finish` writes
every table and the manifest. Bad input raises
:class:`BatchError` (or :class:`~sim.scenario.loading.ScenarioError`) naming the option or file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.analysis import diagnostics, limits, switchover_months, warmup
from sim.analysis.switchover_months import SWITCH_OVER
from sim.analysis.takeover import takeovers
from sim.base import interrupt
from sim.base.lazy import later
from sim.base.metrics import rtt_monthly
from sim.money.provider_costs import monthly_premiums
from sim.rtt.table import with_statistics
from sim.runs.dictionary import dictionary
from sim.runs.executors import Executor, ProcessExecutor, StartError, default_jobs, make_executor
from sim.runs.experiment import BatchResult, Progress, grid_points, grid_values, relative_half_width, run_batch
from sim.runs.journal import JOURNAL, Journal, JournalError, locked
from sim.runs.options import BatchOptions
from sim.runs.results import (
    BATCH_FILE,
    MAIN_TABLES,
    MANIFEST_FILE,
    XLSX_FILE,
    save_inputs,
    write_atomic,
    write_run,
    write_xlsx,
)
from sim.runs.transaction import check_space, describe, staged
from sim.scenario.columns import current_name
from sim.scenario.schema import Scenario

pd = later("pandas")

STRUCTURES = "structures"
"""In a batch's ``extra``: per design added to run another capacity structure, [design, structure]."""

Say = Callable[[str], None]
"""Where a message for the user goes (a warning, or a note beside the results)."""


class BatchError(Exception):
    """Options or files that make no batch: the message names the option or file and the problem."""


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
    force: bool = False
    """``--force``: replace what the folder holds."""
    xlsx: bool = False
    """``--xlsx``: also write every table into one workbook."""

    @functools.cached_property
    def points(self) -> dict[int, Scenario]:
        """One scenario per grid point (just one without a grid), validated once."""
        return grid_points(self.scenario, self.grid)

    def settings(self) -> dict[str, Any]:
        """What ``batch.json`` keeps, for a resume to continue the batch as it was started."""
        return {
            "kind": self.kind,
            "designs": self.designs,
            "uncertainty": self.uncertainty,
            "precision": self.precision,
            "metric": self.metric,
            "grid": self.grid,
            "extra": self.extra,
        }


def metric_now(metric: str, warn: Say) -> str:
    """The column ``--metric`` names today: an old name is read as its new one, with a warning."""
    now = current_name(metric)
    if now != metric:
        warn(f"--metric {metric}: renamed {now}; that column is used")
    return now


BYTES_PER_TASK_YEAR = 20_000
"""The least a finished task leaves on disk per simulated year (its journal line and table rows),
about a fifth of what small runs measure: the space check refuses only a batch that cannot fit."""
BYTES_FIXED = 100_000
"""The least a batch's folder holds whatever its size (scenario, dictionary, manifest, chart), about a third of it."""


def estimate_bytes(batch: Batch) -> int:
    """A low estimate of what a new batch writes (a resumed one has written much of it already)."""
    if batch.resumed:
        return 0
    s = batch.scenario
    tasks = len(batch.points) * len(batch.designs) * s.run.replications
    return int(BYTES_FIXED + tasks * BYTES_PER_TASK_YEAR * (s.run.years + s.run.warmup_days / 365))


def check_memory(batch: Batch, options: BatchOptions, warn: Say) -> None:
    """Refuse a batch that cannot fit in this machine's memory; warn of one that fills half of it."""
    local = options.scheduler is None
    tasks = len(batch.points) * len(batch.designs) * batch.scenario.run.replications
    need = max(
        (limits.estimate(s, batch.designs, tasks, options.jobs or default_jobs(), local) for s in batch.points.values()),
        key=lambda e: e.total,
    )
    have = limits.machine_memory()
    if need.total > have:
        raise BatchError(
            f"this batch needs {need.describe()}, more than this machine's memory ({have / limits.MB:,.0f} MB): "
            "fewer --reps, --years or --jobs, less demand, or more capacity where demand outruns it"
        )
    if need.total > have / 2:
        warn(f"this batch needs {need.describe()}, over half of this machine's memory ({have / limits.MB:,.0f} MB)")


def open_executor(jobs: int | None, scheduler: str | None, warn: Say | None = None) -> Executor:
    """Local processes (all cores unless ``jobs``, as many as the machine can start: ``warn`` is
    told when fewer), or the Dask cluster at ``scheduler``.

    Raises
    ------
    BatchError
        When the scheduler cannot be used (nothing has been written yet).
    """
    try:
        return make_executor(jobs or default_jobs(), scheduler, warn)
    except (OSError, RuntimeError, ValueError) as e:
        raise BatchError(f"--scheduler {scheduler}: cannot use the Dask scheduler: {e}") from None


def execute(batch: Batch, executor: Executor, progress: Progress | None = None) -> BatchResult:
    """Write the scenario, its inputs and the batch settings (unless resuming), then run the batch.

    The folder's lock is held throughout: a second process on the same folder is refused.

    Local workers are started first, before the lock is taken and anything is written.

    Raises
    ------
    BatchError
        When the folder cannot be made or written, another process is running its batch, or the
        workers cannot be started.
    """
    check_space(batch.folder, estimate_bytes(batch), f"this {batch.kind}")
    made = not os.path.lexists(batch.folder)
    try:
        if isinstance(executor, ProcessExecutor):  # before the lock and the first file: see StartError
            executor.start(len(batch.points) * len(batch.designs) * batch.scenario.run.replications)
        with locked(batch.folder):
            return _locked_execute(batch, executor, progress)
    except StartError as e:
        raise BatchError(str(e)) from None
    except JournalError as e:
        raise BatchError(str(e)) from None
    except OSError as e:
        if os.path.lexists(batch.folder / BATCH_FILE):  # its settings and finished tasks kept: it goes on from them
            raise BatchError(
                f"{describe(e)}: the finished replications are kept in {batch.folder / JOURNAL}: free some space "
                f"(or fix the folder) and continue with: msksim {batch.kind} --resume {batch.folder}"
            ) from None
        if made:  # the batch's settings never landed: nothing there to resume, so nothing left
            shutil.rmtree(batch.folder, ignore_errors=True)
        raise BatchError(f"cannot write the results: {describe(e)}") from None


class Stopped(Exception):
    """A batch stopped by Ctrl-C or a signal: the message says what is kept and how to go on."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
        """The exit code a stop by that signal ends with."""


Watching = Callable[[Batch], contextlib.AbstractContextManager[Progress | None]]
"""What shows a batch's progress while it runs: a context that gives the callback, or None."""


@contextlib.contextmanager
def unwatched(batch: Batch) -> Iterator[None]:
    """No progress shown."""
    yield None


def run(batch: Batch, options: BatchOptions, warn: Say, watching: Watching = unwatched) -> BatchResult:
    """Open the executor the options ask for and run the batch (:func:`execute`) on it; SIGTERM
    and SIGHUP stop it as Ctrl-C does.

    Raises
    ------
    Stopped
        When stopped: the finished replications are kept in its folder, for ``--resume``.
    BatchError
        As :func:`execute`.
    """
    executor = open_executor(options.jobs, options.scheduler, warn=warn)
    try:
        with interrupt.terminating(), watching(batch) as progress:
            return execute(batch, executor, progress)
    except KeyboardInterrupt as e:
        done = len(Journal(batch.folder).read()) if batch.folder.is_dir() else 0
        how = f"stopped by {e.name}" if isinstance(e, interrupt.Terminated) else "interrupted"
        raise Stopped(
            f"{how}: {done} finished replication(s) are kept in {batch.folder}; "
            f"continue with: msksim {batch.kind} --resume {batch.folder}",
            interrupt.exit_code(e),
        ) from None
    finally:
        executor.close()


def _locked_execute(batch: Batch, executor: Executor, progress: Progress | None) -> BatchResult:
    if not batch.resumed:
        if os.path.lexists(batch.folder / JOURNAL) and not batch.force:  # started since it was checked
            raise BatchError(f"{batch.folder} already holds a batch: continue it with --resume {batch.folder}")
        for name in (JOURNAL, MANIFEST_FILE):
            (batch.folder / name).unlink(missing_ok=True)  # --force: the batch there is replaced
        save_inputs(batch.folder, batch.scenario)
        write_atomic(batch.folder / BATCH_FILE, json.dumps(batch.settings(), indent=2, default=str))
    return run_batch(
        batch.points, batch.designs, batch.scenario.run.replications, executor=executor, folder=batch.folder,
        uncertainty=batch.uncertainty, precision=batch.precision, metric=batch.metric, progress=progress,
    )  # fmt: skip


def per_point(batch: Batch, frame: pd.DataFrame) -> pd.DataFrame:
    """A table as saved: with its grid ``point`` column in a sweep, without it otherwise."""
    return frame if batch.grid or "point" not in frame.columns else frame.drop(columns=["point"])


def finish(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], started: datetime, *, warn: Say) -> bool:
    """Warm-up check, diagnostics, error list, every table and the manifest.

    The files are written beside the folder and moved in together, the manifest last, under the
    folder's lock: a file system that refuses them (full, read-only, …) leaves the folder as it
    was, its journal kept for ``--resume``.

    Returns whether the run has result rows (what a report is made of).

    Raises
    ------
    BatchError
        Naming the file that could not be written, the reason, and how to resume.
    """
    try:
        with locked(batch.folder), staged(batch.folder, last=(MANIFEST_FILE,)) as stage:
            _write_tables(batch, result, tables, started, warn, stage)
    except JournalError as e:
        raise BatchError(str(e)) from None
    except OSError as e:
        raise BatchError(
            f"{describe(e)}: no results written; the finished replications are kept in {batch.folder / JOURNAL}: "
            f"free some space (or fix the folder) and continue with: msksim {batch.kind} --resume {batch.folder}"
        ) from None
    main = next((tables[n] for n in MAIN_TABLES if n in tables), None)
    if main is None or main.empty:
        return False
    checks = diagnostics.stage_checks(main, batch.points)
    names = {i: ", ".join(f"{k} = {v}" for k, v in values.items()) for i, values in grid_values(batch.grid).items()}
    for msg in diagnostics.warnings(checks, result.replications, steady=batch.scenario.backlog is None, names=names):
        warn(msg)
    for msg in diagnostics.overload_warnings(diagnostics.overloaded_paths(main), names):
        warn(msg)
    return True


def _write_tables(
    batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], started: datetime, warn: Say, stage: Path
) -> None:
    """Every table, the chart, the workbook and the manifest, written in ``stage``."""
    extra: dict[str, Any] = {"replications_run": result.replications, "batch": batch.settings()}
    if batch.precision is not None:
        extra["precision_met"] = result.precision_met
    if not result.series.empty:
        extra["warmup_mser_truncation_day"] = _warmup(batch, result, tables, warn, stage)
    tables.update(_trace_tables(batch, result))
    taken = takeovers(batch.scenario, batch.designs, result.returns)
    if taken:
        extra["takes_over"] = taken
    if result.damaged:
        lines = ", ".join(map(str, result.damaged))
        warn(f"{batch.folder / JOURNAL}: line(s) {lines} damaged, not a finished task: skipped, and their tasks run again")
    lacking = returns_lacking(result)
    if lacking:
        warn(lacking)
    if result.errors:
        tables["errors"] = pd.DataFrame(
            [
                {"point": o.task.point, "design": o.task.design, "replication": o.task.replication, "error": o.error}
                for o in result.errors
            ]
        )
    tables["data_dictionary"] = dictionary(tables)
    write_run(batch.folder, batch.scenario, tables, started=started, extra=extra, workers=result.engines, stage=stage)
    if batch.xlsx:
        write_xlsx(stage / XLSX_FILE, tables)


def _warmup(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], warn: Say, into: Path) -> dict[str, int]:
    """Judge the warm-up on the mean series: a table, a chart, warnings; MSER's truncation day per design."""
    growth = {i: s.demand.growth for i, s in batch.points.items()}
    analysis = warmup.analyse(result.series, batch.scenario.run.warmup_days, growth=growth)
    tables["warmup"] = analysis
    if batch.scenario.backlog is None:  # a run from a backlog starts from a real list: no warm-up to judge
        # a design taking over from another changes at the contract start on purpose: its transient is the point
        steady = analysis[[batch.scenario.designs[d].inherits is None for d in analysis["design"]]]
        for msg in warmup.verdicts(steady):
            warn(msg)
    warmup.plot(analysis, into / "warmup.png")
    return analysis.groupby("design")["mser_truncation_day"].first().to_dict()


def _trace_tables(batch: Batch, result: BatchResult) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    if not result.monthly.empty:
        tables["rtt_monthly"] = per_point(batch, rtt_monthly(result.monthly, batch.scenario))
        if batch.extra.get(SWITCH_OVER):
            tables["switch_over"] = switchover_months.path(result.monthly, batch.extra[SWITCH_OVER])
    for name, saved_as in (("monthly", "monthly"), ("waits", "rtt_waits"), ("flows", "flows")):
        frame = getattr(result, name)
        if name == "monthly":
            frame = monthly_premiums(frame, batch.points)
        if not frame.empty:
            tables[saved_as] = per_point(batch, frame)
    if not result.returns.empty:
        tables["rtt_returns"] = per_point(batch, with_statistics(result.returns))
    return tables


def returns_lacking(result: BatchResult) -> str | None:
    """What to say when some finished replications made no RTT returns (None when all did, or none).

    That happens when a batch is resumed from a journal written before the model made them:
    ``rtt_returns.csv`` and the ``rtt_`` rows of the summary then cover fewer replications.
    """
    if result.returns.empty or result.table.empty:
        return None
    keys = ["point", "design", "replication"]
    made = len(result.returns[keys].drop_duplicates())
    finished = len(result.table[keys].drop_duplicates())
    if made >= finished:
        return None
    return (
        f"RTT returns for {made} of {finished} replications only (the others were journalled before the model "
        "made returns): rtt_returns.csv and the rtt_ rows of summary.csv cover those"
    )


def precision_verdict(batch: Batch, result: BatchResult) -> tuple[bool, str] | None:
    """Whether a precision target was met, and the sentence saying so (None without a target)."""
    if batch.precision is None:
        return None
    goal = f"95% interval of {batch.metric} within ±{batch.precision:.3g} × its mean"
    reached = relative_half_width(result.table, batch.metric, result.returns) if not result.table.empty else math.inf
    got = f"±{reached:.3g} × its mean" if math.isfinite(reached) else "no interval (too few replications, or a zero mean)"
    if result.precision_met:
        return True, f"Precision: {goal}, met with {result.replications} replications (reached {got})."
    return False, (
        f"precision: {goal} NOT met after {result.replications} replications "
        f"(cap {batch.scenario.run.replications}): it reached {got}; raise --reps or relax --precision"
    )


def failures(result: BatchResult) -> str | None:
    """What to say when replications failed (None when none did)."""
    if not result.errors:
        return None
    total = len(result.errors) + len({(r["point"], r["design"], r["replication"]) for r in result.table.to_dict("records")})
    return f"{len(result.errors)} of {total} replications failed; see errors.csv (the rest are saved)"


