"""Replications at scale: tasks, executors, a journal that survives a crash, stopping rules.

A task is one (grid point, design, replication). Its numbers depend only on the scenario of
its grid point, the seed and the replication number, so a table is the same whatever the
executor (this process, local processes, a Dask cluster) and whatever order tasks finish in.

With a results folder, every finished task is appended to ``journal.jsonl`` (one line, one
write, flushed and synced) as it completes; a batch killed half way resumes from there.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.finance import add_finance
from sim.model.pathway import Pathway
from sim.scenario import Scenario, apply_parameters, with_values
from sim.uncertainty import draw_parameters, parameter_columns, parse_uncertainty

Progress = Callable[[int, int], None]
JOURNAL = "journal.jsonl"


@dataclass(frozen=True, order=True)
class Task:
    """One simulation: a grid point, a design and a replication."""

    point: int
    replication: int
    design: str


@dataclass
class Outcome:
    """What a task gave back: result rows and traces over time, or an error.

    ``traces`` holds ``weekly`` (day, waiting, in system, RTT clocks from day 0),
    ``monthly`` (month-end lists per stage after the warm-up, with ``monthly_columns``),
    ``waits`` (weeks waited by incomplete pathways, pooled over month ends) and ``flows``
    (moves between places, [from, to, count]).
    """

    task: Task
    rows: list[dict[str, Any]]
    traces: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_task(scenario: Scenario, task: Task, uncertainty: bool = True) -> Outcome:
    """Draw this replication's parameters (if any), simulate, and cost the result rows."""
    try:
        s, params = scenario, {}
        if uncertainty and scenario.uncertainty:
            dists = parse_uncertainty(scenario.uncertainty, scenario, scenario.name)
            drawn = draw_parameters(dists, scenario, task.replication)
            copies = {c for d in dists.values() for c in d.also}
            s, params = apply_parameters(scenario, drawn), parameter_columns(drawn, copies)
        model = Pathway(s, task.design, task.replication)
        rows = add_finance(pd.DataFrame(model.run()), s)
        for key, value in params.items():
            rows[key] = value
        rows.insert(0, "point", task.point)
        rec = model.recorder
        traces = {
            "weekly": [list(x) for x in rec.series],
            "monthly": rec.monthly,
            "monthly_columns": rec.monthly_columns,
            "waits": rec.wait_hist.tolist(),
            "flows": [[a, b, n] for (a, b), n in model.flows.items()],
            "years": s.run.years,
        }
        outcome = Outcome(task, rows.to_dict("records"), traces)
        # A finished model is a web of cycles (services point back at the pathway) that only
        # the cyclic collector frees, and runs pause it: free it now, or a worker carries
        # every earlier model from task to task (about 150 MB a worker after 100 tasks).
        del model, rec
        gc.collect()
        return outcome
    except Exception:  # recorded with the task; the batch goes on
        return Outcome(task, [], {}, traceback.format_exc())


# --------------------------------------------------------------------------- executors


class Executor:
    """Runs tasks and yields outcomes as they finish."""

    def run(self, scenarios: dict[int, Scenario], tasks: list[Task], uncertainty: bool) -> Iterator[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers."""


class SerialExecutor(Executor):
    """In this process, one task after another."""

    def run(self, scenarios, tasks, uncertainty):
        for t in tasks:
            yield run_task(scenarios[t.point], t, uncertainty)


class ProcessExecutor(Executor):
    """Local worker processes, a bounded number of tasks in flight."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = ProcessPoolExecutor(max_workers=jobs)

    def run(self, scenarios, tasks, uncertainty):
        todo = list(tasks)
        running = set()
        while todo or running:
            while todo and len(running) < 2 * self.jobs:
                t = todo.pop(0)
                running.add(self.pool.submit(run_task, scenarios[t.point], t, uncertainty))
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask distributed cluster (``pip install msksim[cluster]``)."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover - depends on the optional extra
            raise RuntimeError("--scheduler needs Dask: pip install 'msksim[cluster]'") from e
        self.client = Client(address)

    def run(self, scenarios, tasks, uncertainty):
        from distributed import as_completed

        shared = {k: self.client.scatter(v, broadcast=True) for k, v in scenarios.items()}
        futures = [self.client.submit(run_task, shared[t.point], t, uncertainty, pure=False) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()

    def close(self) -> None:
        self.client.close()


def make_executor(jobs: int = 1, scheduler: str | None = None) -> Executor:
    if scheduler:
        return DaskExecutor(scheduler)
    return ProcessExecutor(jobs) if jobs > 1 else SerialExecutor()


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- the journal


class Journal:
    """Append-only record of finished tasks: one JSON line each, written whole and synced."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / JOURNAL

    def read(self) -> dict[Task, Outcome]:
        """Finished tasks so far; a line cut short by a crash is dropped (and truncated away)."""
        out: dict[Task, Outcome] = {}
        if not self.path.exists():
            return out
        good = 0
        with open(self.path, "rb") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    break
                if not line.endswith(b"\n"):
                    break
                good += len(line)
                task = Task(**rec["task"])
                out[task] = Outcome(task, rec["rows"], rec["traces"], rec["error"])
        if good < self.path.stat().st_size:
            with open(self.path, "r+b") as fh:
                fh.truncate(good)
        return out

    def append(self, outcome: Outcome) -> None:
        rec = {"task": asdict(outcome.task), "rows": outcome.rows, "traces": outcome.traces, "error": outcome.error}
        line = (json.dumps(rec, default=_plain) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    raise TypeError(f"cannot store {type(x)}")


# --------------------------------------------------------------------------- batches


@dataclass
class BatchResult:
    """A finished (or partly failed) batch.

    ``series`` is the weekly mean across replications (warm-up check); ``monthly`` the
    month-end lists of every replication; ``waits`` and ``flows`` are per replication-year
    means, per grid point and design.
    """

    table: pd.DataFrame
    series: pd.DataFrame
    errors: list[Outcome]
    replications: int
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)
    waits: pd.DataFrame = field(default_factory=pd.DataFrame)
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    precision_met: bool | None = None
    """With a precision target: whether the final table meets it (None without one)."""


def tasks_for(points: Iterable[int], designs: Iterable[str], replications: Iterable[int]) -> list[Task]:
    """Tasks in a fixed order: replication by replication, so early results cover every point."""
    return [Task(p, r, d) for r in replications for p in points for d in designs]


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
    metric: str = "rtt_incomplete_18w_pct",
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
    journal = Journal(folder) if folder is not None else None
    done: dict[Task, pd.DataFrame] = {}
    traces = _Traces()
    errors: dict[Task, Outcome] = {}

    def keep(outcome: Outcome) -> None:
        # Hold a compact frame per task and running sums of the traces, not the raw records:
        # memory grows by a few kilobytes a replication, whatever the batch size.
        done[outcome.task] = pd.DataFrame(outcome.rows)
        traces.add(outcome)

    for outcome in (journal.read() if journal else {}).values():
        if outcome.error is None:
            keep(outcome)
    target = replications if precision is None else min(first_check, replications)
    while True:
        wanted = tasks_for(scenarios, designs, range(target))
        todo = [t for t in wanted if t not in done]
        finished = len(wanted) - len(todo)
        if progress:
            progress(finished, len(wanted))
        for outcome in executor.run(scenarios, todo, uncertainty):
            if journal:
                journal.append(outcome)
            if outcome.error is None:
                keep(outcome)
            else:
                errors[outcome.task] = outcome
            finished += 1
            if progress:
                progress(finished, len(wanted))
        if precision is None or target >= replications or errors:
            break
        table = _table(done, wanted)
        if precise_enough(table, metric, precision):
            break
        target = min(target + step, replications)
    wanted = tasks_for(scenarios, designs, range(target))
    keep_tasks = set(wanted)
    table = _table(done, wanted)
    met = None if precision is None else (not errors and not table.empty and precise_enough(table, metric, precision))
    return BatchResult(
        table,
        traces.weekly_frame(),
        list(errors.values()),
        target,
        traces.monthly_frame(keep_tasks),
        traces.waits_frame(),
        traces.flows_frame(),
        met,
    )


def _table(done: dict[Task, pd.DataFrame], wanted: list[Task]) -> pd.DataFrame:
    frames = [done[t] for t in sorted(wanted) if t in done]
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["point", "design", "replication", "year"], kind="stable").reset_index(drop=True)


SERIES_COLUMNS = ("waiting_list", "in_system", "rtt_incomplete")


class _Traces:
    """Running aggregates of the traces: means across replications, sums of counts."""

    def __init__(self) -> None:
        self.sums: dict[tuple[int, str], np.ndarray] = {}
        self.days: dict[tuple[int, str], np.ndarray] = {}
        self.counts: dict[tuple[int, str], int] = {}
        self.waits: dict[tuple[int, str], np.ndarray] = {}
        self.flows: dict[tuple[int, str], dict[tuple[str, str], float]] = {}
        self.rep_years: dict[tuple[int, str], int] = {}
        self.monthly: dict[Task, pd.DataFrame] = {}

    def add(self, outcome: Outcome) -> None:
        tr = outcome.traces
        if not tr:
            return
        key = (outcome.task.point, outcome.task.design)
        arr = np.asarray(tr["weekly"], dtype=float)
        if key not in self.sums:
            self.sums[key], self.days[key], self.counts[key] = np.zeros((len(arr), 3)), arr[:, 0], 0
            self.waits[key], self.flows[key], self.rep_years[key] = np.zeros(len(tr["waits"])), {}, 0
        self.sums[key] += arr[:, 1:]
        self.counts[key] += 1
        self.waits[key] += np.asarray(tr["waits"], dtype=float)
        self.rep_years[key] += tr["years"]
        flows = self.flows[key]
        for a, b, n in tr["flows"]:
            flows[a, b] = flows.get((a, b), 0.0) + n
        self.monthly[outcome.task] = pd.DataFrame(tr["monthly"], columns=tr["monthly_columns"])

    def weekly_frame(self) -> pd.DataFrame:
        """Mean series: one row per point × design × week, with the number of replications."""
        frames = []
        for key, total in sorted(self.sums.items()):
            f = pd.DataFrame(total / self.counts[key], columns=list(SERIES_COLUMNS))
            f.insert(0, "day", self.days[key].astype(int))
            f.insert(0, "design", key[1])
            f.insert(0, "point", key[0])
            f["replications"] = self.counts[key]
            frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def monthly_frame(self, tasks: set[Task]) -> pd.DataFrame:
        frames = []
        for t in sorted(self.monthly):
            if t in tasks:
                f = self.monthly[t].copy()
                f.insert(0, "replication", t.replication)
                f.insert(0, "design", t.design)
                f.insert(0, "point", t.point)
                frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def waits_frame(self) -> pd.DataFrame:
        """Incomplete pathways by whole weeks waited, per month end (mean over replications)."""
        frames = []
        for key, total in sorted(self.waits.items()):
            months = 12 * self.rep_years[key]
            frames.append(
                pd.DataFrame({"point": key[0], "design": key[1], "weeks": np.arange(len(total)), "pathways": total / months})
            )
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def flows_frame(self) -> pd.DataFrame:
        """Moves between places per year (mean over replication-years)."""
        records = [
            {"point": key[0], "design": key[1], "from": a, "to": b, "per_year": n / self.rep_years[key]}
            for key, flows in sorted(self.flows.items())
            for (a, b), n in sorted(flows.items())
        ]
        return pd.DataFrame.from_records(records)


def grid_points(scenario: Scenario, grid: dict[str, list[Any]]) -> dict[int, Scenario]:
    """One scenario per combination of grid values, numbered in ``itertools.product`` order
    (just the scenario, as point 0, without a grid)."""
    if not grid:
        return {0: scenario}
    keys = list(grid)
    combos = itertools.product(*(grid[k] for k in keys))
    return {i: with_values(scenario, dict(zip(keys, c, strict=True)), "--grid", how=None) for i, c in enumerate(combos)}


def result_columns(scenario: Scenario, design: str) -> list[str]:
    """The numeric columns a task's rows will have (from a one-year run with no referrals)."""
    empty = {"run.years": 1, "run.warmup_days": 0, "demand.referrals_per_year": 0, "demand.self_referral.per_year": 0}
    s = with_values(scenario, empty, scenario.name, how=None)
    outcome = run_task(s, Task(0, 0, design), uncertainty=False)
    if outcome.error is not None:
        raise RuntimeError(outcome.error)
    return [k for k, v in outcome.rows[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]


def precise_enough(table: pd.DataFrame, metric: str, precision: float) -> bool:
    """Whether every point × design has a 95% half-width within ``precision`` × |mean|."""
    from sim.metrics import interval

    per_rep = table.groupby(["point", "design", "replication"])[metric].mean()
    for _, values in per_rep.groupby(level=["point", "design"]):
        mean, low, high, n = interval(values.to_numpy())
        if n < 2 or not np.isfinite(low) or (high - low) / 2 > precision * abs(mean):
            return False
    return True


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
    """
    executor = make_executor(jobs)
    try:
        result = run_batch(scenario, designs, replications, executor=executor, uncertainty=uncertainty, progress=progress)
    finally:
        executor.close()
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} task(s) failed; first:\n{result.errors[0].error}")
    return result.table.drop(columns=["point"])
