"""One simulation of a batch: a task (grid point, design, replication) and its outcome.

A task's numbers depend only on the scenario of its grid point, the seed and the
replication number, so it can run anywhere: in this process, a worker process or a Dask
worker, in any order.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sim.analysis.diagnostics import expected_loads
from sim.analysis.switchover import simulate_switch_over
from sim.base.interrupt import stop_at_day_boundaries
from sim.base.lazy import later
from sim.model import ENGINE
from sim.model.pathway import Pathway
from sim.money.finance import add_finance
from sim.scenario.loading import apply_parameters
from sim.scenario.schema import Scenario
from sim.scenario.uncertainty import draw_parameters, parameter_columns, parse_uncertainty

pd = later("pandas")


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
    ``waits`` (weeks waited by incomplete pathways, pooled over month ends), ``flows``
    (moves between places, [from, to, count]), ``returns`` (the run's RTT returns: rows of
    month "YYYY-MM", contract year, treatment function, part, then the counts by week band of
    :data:`sim.rtt.bands.BAND_LABELS`, without the zeros after the last) and ``engine`` (how the worker ran the model).
    """

    task: Task
    rows: list[dict[str, Any]]
    traces: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_task(scenario: Scenario, task: Task, uncertainty: bool = True) -> Outcome:
    """Draw this replication's parameters (if any), simulate, and cost the result rows.

    Never raises but for Ctrl-C (``KeyboardInterrupt``, at the start of a simulated day:
    :mod:`sim.base.interrupt`): an exception is returned as the outcome's ``error`` (its
    traceback), so one bad replication does not stop a batch.
    """
    try:
        s, params = scenario, {}
        if uncertainty and scenario.uncertainty:
            dists = parse_uncertainty(scenario.uncertainty, scenario, scenario.name)
            drawn = draw_parameters(dists, scenario, task.replication)
            copies = {c for d in dists.values() for c in d.also}
            s, params = apply_parameters(scenario, drawn), parameter_columns(drawn, copies)
        with stop_at_day_boundaries():
            if s.designs[task.design].inherits is None:
                model = Pathway(s, task.design, task.replication)
            else:
                model = simulate_switch_over(s, task.design, task.replication)
            results = model.run()
        rows = add_finance(pd.DataFrame(results), s)
        loads = {
            f"{stage}_expected_load": [by_year[y - 1] for y in rows["year"]]
            for stage, by_year in expected_loads(s, task.design).items()
        }
        rows = pd.concat([rows, pd.DataFrame(loads, index=rows.index)], axis=1)
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
            "returns": rec.returns,
            "engine": ENGINE,
        }
        outcome = Outcome(task, rows.to_dict("records"), traces)
        # A finished model is a web of cycles (services point back at the pathway) that only
        # the cyclic collector frees, and runs pause it: free it now, or a worker carries
        # every earlier model from task to task (about 150 MB a worker after 100 tasks).
        del model, rec
        gc.collect()
        if gc.get_freeze_count():  # a worker (worker_started): set aside what survived too
            gc.freeze()
        return outcome
    except Exception:  # recorded with the task; the batch goes on
        return Outcome(task, [], {}, traceback.format_exc())


def simulate(scenario: Scenario, design: str, replication: int = 0, *, uncertainty: bool = True) -> Outcome:
    """Simulate one replication of one design and cost it: the result rows and traces.

    The replication number keys every random stream, so the same number gives the same
    patients to every design (common random numbers).

    Raises
    ------
    RuntimeError
        When the simulation fails, with its traceback.
    """
    if design not in scenario.designs:
        raise KeyError(f"{scenario.name} has no design {design!r}; it has {', '.join(scenario.designs)}")
    outcome = run_task(scenario, Task(0, replication, design), uncertainty)
    if outcome.error:
        raise RuntimeError(f"{design}, replication {replication} failed:\n{outcome.error}")
    return outcome


def worker_started() -> None:
    """A worker process starts: what it inherited stays for its life, so the collection at the
    end of each task need not walk it (about 50 ms a task with the libraries loaded)."""
    gc.freeze()


def tasks_for(points: Iterable[int], designs: Iterable[str], replications: Iterable[int]) -> list[Task]:
    """Tasks in a fixed order: replication by replication, so early results cover every point."""
    points, designs = list(points), list(designs)
    return [Task(p, r, d) for r in replications for p in points for d in designs]
