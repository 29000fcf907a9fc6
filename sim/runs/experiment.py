"""Replications at scale: batches of tasks, journalled, with a stopping rule for precision.

A batch runs every grid point × design × replication on an executor (see
:mod:`sim.runs.executors`); a table is the same whatever the executor and whatever order tasks
finish in. With a results folder every finished task goes to the journal
(:mod:`sim.runs.journal`) as it completes, and a batch killed half way resumes from there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import measures
from sim.base.lazy import later
from sim.base.metrics import interval
from sim.runs.executors import DaskExecutor, Executor, ProcessExecutor, SerialExecutor, default_jobs, make_executor
from sim.runs.journal import JOURNAL, Journal
from sim.runs.tasks import Outcome, Task, run_task, tasks_for
from sim.runs.traces import SERIES_COLUMNS, Traces
from sim.scenario.loading import with_values
from sim.scenario.schema import Scenario

pd = later("pandas")

__all__ = [
    "JOURNAL",
    "SERIES_COLUMNS",
    "BatchResult",
    "DaskExecutor",
    "Executor",
    "Journal",
    "Outcome",
    "ProcessExecutor",
    "Progress",
    "SerialExecutor",
    "Task",
    "default_jobs",
    "grid_points",
    "grid_values",
    "make_executor",
    "precise_enough",
    "relative_half_width",
    "run_batch",
    "run_replications",
    "run_task",
    "tasks_for",
]

Progress = Callable[[int, int], None]
"""Called with (tasks finished, tasks wanted) as a batch goes."""


@dataclass
class BatchResult:
    """A finished (or partly failed) batch.

    ``series`` is the weekly mean across replications (warm-up check); ``monthly`` the
    month-end lists of every replication; ``waits`` and ``flows`` are per replication-year
    means, per grid point and design; ``engines`` how the workers ran the model; ``returns``
    the RTT returns of every replication that made them (see :mod:`sim.rtt.table`).
    """

    table: pd.DataFrame
    series: pd.DataFrame
    errors: list[Outcome]
    replications: int
    monthly: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    waits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    flows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    precision_met: bool | None = None
    """With a precision target: whether the final table meets it (None without one)."""
    engines: list[str] = field(default_factory=list)
    returns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    damaged: list[int] = field(default_factory=list)
    """Lines of the journal that held no finished task when the batch was resumed (skipped, run again)."""


class _Store:
    """What a batch has so far: a compact frame per finished task, running traces, errors."""

    def __init__(self, folder: Path | None):
        self.journal = Journal(folder) if folder is not None else None
        self.done: dict[Task, pd.DataFrame] = {}
        self.traces = Traces()
        self.errors: dict[Task, Outcome] = {}
        for outcome in (self.journal.read() if self.journal else {}).values():
            if outcome.error is None:  # a task that failed before is tried again
                self._keep(outcome)
        self.damaged = list(self.journal.damaged) if self.journal else []

    def _keep(self, outcome: Outcome) -> None:
        self.done[outcome.task] = pd.DataFrame(outcome.rows)
        self.traces.add(outcome)

    def run(self, executor: Executor, scenarios: dict[int, Scenario], wanted: list[Task], uncertainty: bool,
            progress: Progress | None) -> None:  # fmt: skip
        """Run the wanted tasks not yet done, journalling each as it finishes."""
        todo = [t for t in wanted if t not in self.done]
        finished = len(wanted) - len(todo)
        if progress:
            progress(finished, len(wanted))
        for outcome in executor.run(scenarios, todo, uncertainty):
            if self.journal:
                self.journal.append(outcome)
            if outcome.error is None:
                self._keep(outcome)
            else:
                self.errors[outcome.task] = outcome
            finished += 1
            if progress:
                progress(finished, len(wanted))

    def table(self, wanted: list[Task]) -> pd.DataFrame:
        """The result rows of the wanted tasks that finished, in a fixed order."""
        frames = [self.done[t] for t in sorted(wanted) if t in self.done]
        if not frames:
            return pd.DataFrame()
        table = pd.concat(frames, ignore_index=True)
        return table.sort_values(["point", "design", "replication", "year"], kind="stable").reset_index(drop=True)


def run_batch(
    scenarios: dict[int, Scenario] | Scenario,
    designs: Iterable[str],
    replications: int,
    *,
    executor: Executor | None = None,
    folder: Path | None = None,
    uncertainty: bool = True,
    progress: Progress | None = None,
    precision: float | None = None,
    metric: str = "rtt_incomplete_within_18w_pct",
    first_check: int = 10,
    step: int = 5,
) -> BatchResult:
    """Run every grid point × design × replication, journalled if ``folder`` is given.

    With ``precision``, replications are added ``step`` at a time (after ``first_check``)
    until the 95% interval of ``metric`` is within ``precision`` × its mean for every design
    and grid point, or ``replications`` is reached. Checks happen at fixed counts, so the
    stopping point does not depend on the executor.
    """
    if isinstance(scenarios, Scenario):
        scenarios = {0: scenarios}
    designs = list(designs)
    executor = executor or SerialExecutor()
    store = _Store(folder)
    target = replications if precision is None else min(first_check, replications)
    while True:
        wanted = tasks_for(scenarios, designs, range(target))
        store.run(executor, scenarios, wanted, uncertainty, progress)
        if precision is None or target >= replications or store.errors:
            break
        returns = store.traces.returns_frame(set(wanted)) if measures.of_returns(metric) else None
        if precise_enough(store.table(wanted), metric, precision, returns):
            break
        target = min(target + step, replications)
    table = store.table(wanted)
    traces = store.traces
    returns = traces.returns_frame(set(wanted))
    met = None
    if precision is not None:
        met = not store.errors and not table.empty and precise_enough(table, metric, precision, returns)
    return BatchResult(
        table,
        traces.weekly_frame(),
        list(store.errors.values()),
        target,
        traces.monthly_frame(set(wanted)),
        traces.waits_frame(),
        traces.flows_frame(),
        met,
        sorted(traces.engines),
        returns,
        store.damaged,
    )


def grid_points(scenario: Scenario, grid: dict[str, list[Any]]) -> dict[int, Scenario]:
    """One scenario per combination of grid values, numbered in ``itertools.product`` order
    (just the scenario, as point 0, without a grid).

    Raises
    ------
    ScenarioError
        When a combination makes an invalid scenario (naming ``--grid`` and the key).
    """
    if not grid:
        return {0: scenario}
    return {i: with_values(scenario, values, "--grid", how=None) for i, values in grid_values(grid).items()}


def grid_values(grid: dict[str, list[Any]]) -> dict[int, dict[str, Any]]:
    """Each grid point's values of the swept keys, numbered as :func:`grid_points` numbers them."""
    keys = list(grid)
    combos = itertools.product(*(grid[k] for k in keys))
    return {i: dict(zip(keys, c, strict=True)) for i, c in enumerate(combos)} if grid else {}


def precise_enough(table: pd.DataFrame, metric: str, precision: float, returns: pd.DataFrame | None = None) -> bool:
    """Whether every point × design has a 95% half-width within ``precision`` × |mean|."""
    return relative_half_width(table, metric, returns) <= precision


def relative_half_width(table: pd.DataFrame, metric: str, returns: pd.DataFrame | None = None) -> float:
    """The widest 95% half-width of ``metric`` (a result column, or a measure of the ``returns``:
    :mod:`sim.analysis.measures`) over the whole horizon as a share of its |mean|, over points × designs
    (inf when an interval cannot be formed: fewer than two replications, or a zero mean)."""
    f = measures.frame(table, returns if returns is not None else pd.DataFrame(), metric)
    per_rep = f[f["year"] == "all"].set_index(["point", "design", "replication"])["value"].astype(float)
    if per_rep.empty:
        return math.inf
    widest = 0.0
    for _, values in per_rep.groupby(level=["point", "design"]):
        mean, low, high, n = interval(values.to_numpy())
        if n < 2 or not np.isfinite(low) or mean == 0:
            return math.inf
        widest = max(widest, (high - low) / 2 / abs(mean))
    return widest


def run_replications(
    scenario: Scenario,
    designs: Iterable[str],
    replications: int,
    *,
    jobs: int = 1,
    uncertainty: bool = False,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Simulate and cost every design × replication in memory; raise if any task fails.

    The simple entry point for scripts and tests: point values unless ``uncertainty``.

    Raises
    ------
    RuntimeError
        When a task fails, with the first failure's traceback.
    """
    executor = make_executor(jobs)
    try:
        result = run_batch(scenario, designs, replications, executor=executor, uncertainty=uncertainty, progress=progress)
    finally:
        executor.close()
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} task(s) failed; first:\n{result.errors[0].error}")
    return result.table.drop(columns=["point"])
