"""A simulating command's batch, from its options to its results folder.

:func:`prepare` checks every input and settles the batch (or reopens one to resume) before
anything is written; :func:`execute` writes the scenario, its inputs and the batch settings,
then runs the tasks; :func:`finish` writes every table and the manifest. Bad input raises
:class:`BatchError` (or :class:`~sim.scenario.ScenarioError`) naming the option or file.
"""

from __future__ import annotations

import difflib
import functools
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim import diagnostics, warmup
from sim.columns import numeric_columns
from sim.executors import Executor, default_jobs, make_executor
from sim.experiment import BatchResult, Progress, grid_points, run_batch
from sim.journal import JOURNAL
from sim.metrics import rtt_monthly
from sim.results import BATCH_FILE, MAIN_TABLES, SCENARIO_FILE, run_folder, save_inputs, write_atomic, write_run
from sim.rtt.table import with_statistics
from sim.scenario import load_scenario
from sim.schema import Scenario, ScenarioError
from sim.values import parse_override

Say = Callable[[str], None]
"""Where a message for the user goes (a warning, or a note beside the results)."""


class BatchError(Exception):
    """Options or files that make no batch: the message names the option or file and the problem."""


@dataclass
class BatchOptions:
    """The options every simulating command shares, as given on the command line."""

    reps: int | None = None
    seed: int | None = None
    years: int | None = None
    out: Path | None = None
    sets: list[str] = field(default_factory=list)
    backlog: Path | None = None
    commissioner: str | None = None
    month: str | None = None
    jobs: int | None = None
    scheduler: str | None = None
    no_uncertainty: bool = False
    resume: Path | None = None
    quiet: bool = False
    report: bool = False

    def overrides(self) -> list[str]:
        """``--set`` values, then ``--backlog FILE`` as a backlog with no warm-up (the backlog is the start)."""
        sets = list(self.sets)
        if self.backlog is not None:
            sets += [f"backlog.file={json.dumps(str(self.backlog.resolve()))}", "run.warmup_days=0"]
        for key, value in (("commissioner", self.commissioner), ("month", self.month)):
            if value is not None:
                sets.append(f"backlog.{key}={json.dumps(value)}")
        return sets


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


def load(path: Path, sets: list[str] | None, reps: int | None = None, seed: int | None = None,
         years: int | None = None) -> Scenario:  # fmt: skip
    """A scenario with ``--set`` values and the ``--reps``, ``--seed``, ``--years`` shortcuts applied.

    Raises
    ------
    ScenarioError
        Naming the file (or option), the key and the problem.
    """
    overrides = list(sets or [])
    for key, value in (("run.replications", reps), ("run.seed", seed), ("run.years", years)):
        if value is not None:
            overrides.append(f"{key}={value}")
    return load_scenario(path, overrides)


def prepare(kind: str, path: Path, designs: list[str], options: BatchOptions, *, warn: Say, precision: float | None = None,
            metric: str = "rtt_incomplete_18w_pct", grid: dict[str, list[Any]] | None = None,
            extra: dict[str, Any] | None = None) -> Batch:  # fmt: skip
    """Validate all input, and either settle a new batch or reopen one to resume.

    Raises
    ------
    BatchError, ScenarioError
        On any bad input; nothing has been written then.
    """
    if options.resume is not None:
        return _reopen(kind, options.resume, options, warn)
    scenario = load(path, options.overrides(), options.reps, options.seed, options.years)
    for d in designs:
        if d not in scenario.designs:
            raise BatchError(f"{path}: designs.{d}: no such design; known: {', '.join(scenario.designs)}")
    if precision is not None:
        known = numeric_columns(scenario, designs[0], uncertainty=True)
        if metric not in known:
            close = difflib.get_close_matches(metric, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise BatchError(f"--metric {metric}: not a column of replications.csv{hint}")
    folder = run_folder(scenario, options.out)
    batch = Batch(kind, scenario, designs, folder, not options.no_uncertainty, precision, metric, grid or {}, extra or {})
    _ = batch.points  # every grid point validated now, before anything is written
    if (folder / JOURNAL).exists():
        raise BatchError(f"{folder} already holds a batch: continue it with --resume {folder}, or choose another --out")
    return batch


def _reopen(kind: str, folder: Path, options: BatchOptions, warn: Say) -> Batch:
    saved = folder / BATCH_FILE
    if not saved.exists():
        raise BatchError(f"--resume {folder}: no {BATCH_FILE} there; not a batch folder")
    try:
        settings = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BatchError(f"--resume {folder}: {BATCH_FILE}: cannot read the batch settings: {e}") from None
    names = ("designs", "uncertainty", "precision", "metric", "grid", "extra")
    lacking = [n for n in ("kind", *names) if not isinstance(settings, dict) or n not in settings]
    if lacking:
        raise BatchError(f"--resume {folder}: {BATCH_FILE}: {lacking[0]}: missing; not the settings of a batch")
    if settings["kind"] != kind:
        raise BatchError(f"--resume {folder}: that folder holds a '{settings['kind']}' batch, not '{kind}'")
    given = (("--set", options.sets), ("--seed", options.seed), ("--years", options.years), ("--out", options.out))
    ignored = [name for name, value in given if value]
    if ignored:
        warn(f"--resume continues the batch as it was started: {', '.join(ignored)} ignored")
    # --reps may raise (or lower) the target: finished replications are kept either way
    scenario = load(folder / SCENARIO_FILE, None, options.reps)
    return Batch(kind, scenario, folder=folder, resumed=True, **{n: settings[n] for n in names})


def parse_grid(items: list[str] | None, grid_file: Path | None) -> dict[str, list[Any]]:
    """The values to sweep: a ``[grid]`` table from ``grid_file``, then ``--grid KEY=V1,V2`` items.

    Raises
    ------
    BatchError
        When the file cannot be read or holds no grid, a value is not readable, or nothing is swept.
    """
    grid: dict[str, list[Any]] = _grid_file(grid_file) if grid_file is not None else {}
    for item in items or []:
        key, _, text = item.partition("=")
        try:
            values = [parse_override(f"{key}={v}")[1] for v in text.split(",")]
        except ScenarioError as e:
            raise BatchError(f"--grid {item}: {e.problem}") from None
        grid[key.strip()] = values
    if not grid:
        raise BatchError("sweep: give at least one --grid KEY=V1,V2 or a --grid-file")
    return grid


def _grid_file(path: Path) -> dict[str, list[Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise BatchError(f"{path}: cannot read the sweep file: {e}") from None
    table = data.get("grid")
    if not isinstance(table, dict) or not table:
        raise BatchError(f"{path}: grid: expected a [grid] table of KEY = [values]")
    for key, values in table.items():
        if not isinstance(values, list) or not values:
            raise BatchError(f"{path}: grid.{key}: expected a non-empty list of values")
    return dict(table)


def open_executor(jobs: int | None, scheduler: str | None) -> Executor:
    """Local processes (all cores unless ``jobs``), or the Dask cluster at ``scheduler``.

    Raises
    ------
    BatchError
        When the scheduler cannot be used (nothing has been written yet).
    """
    try:
        return make_executor(jobs or default_jobs(), scheduler)
    except (OSError, RuntimeError, ValueError) as e:
        raise BatchError(f"--scheduler {scheduler}: cannot use the Dask scheduler: {e}") from None


def execute(batch: Batch, executor: Executor, progress: Progress | None = None) -> BatchResult:
    """Write the scenario, its inputs and the batch settings (unless resuming), then run the batch."""
    if not batch.resumed:
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

    Returns whether the run has result rows (what a report is made of).
    """
    extra: dict[str, Any] = {"replications_run": result.replications, "batch": batch.settings()}
    if batch.precision is not None:
        extra["precision_met"] = result.precision_met
    if not result.series.empty:
        extra["warmup_mser_truncation_day"] = _warmup(batch, result, tables, warn)
    tables.update(_trace_tables(batch, result))
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
    write_run(batch.folder, batch.scenario, tables, started=started, extra=extra, workers=result.engines)
    main = next((tables[n] for n in MAIN_TABLES if n in tables), None)
    if main is None or main.empty:
        return False
    checks = diagnostics.stage_checks(main, batch.points)
    for msg in diagnostics.warnings(checks, result.replications, steady=batch.scenario.backlog is None):
        warn(msg)
    return True


def _warmup(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], warn: Say) -> dict[str, int]:
    """Judge the warm-up on the mean series: a table, a chart, warnings; MSER's truncation day per design."""
    growth = {i: s.demand.growth for i, s in batch.points.items()}
    analysis = warmup.analyse(result.series, batch.scenario.run.warmup_days, growth=growth)
    tables["warmup"] = analysis
    if batch.scenario.backlog is None:  # a run from a backlog starts from a real list: no warm-up to judge
        for msg in warmup.verdicts(analysis):
            warn(msg)
    warmup.plot(analysis, batch.folder / "warmup.png")
    return analysis.groupby("design")["mser_truncation_day"].first().to_dict()


def _trace_tables(batch: Batch, result: BatchResult) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    if not result.monthly.empty:
        tables["rtt_monthly"] = per_point(batch, rtt_monthly(result.monthly, batch.scenario))
    for name, saved_as in (("monthly", "monthly"), ("waits", "rtt_waits"), ("flows", "flows")):
        frame = getattr(result, name)
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
    if result.precision_met:
        return True, f"Precision: {goal}, met with {result.replications} replications."
    return False, (
        f"precision: {goal} NOT met after {result.replications} replications "
        f"(cap {batch.scenario.run.replications}); raise --reps or relax --precision"
    )


def failures(result: BatchResult) -> str | None:
    """What to say when replications failed (None when none did)."""
    if not result.errors:
        return None
    total = len(result.errors) + len({(r["point"], r["design"], r["replication"]) for r in result.table.to_dict("records")})
    return f"{len(result.errors)} of {total} replications failed; see errors.csv (the rest are saved)"
