"""Replications: run every design for every replication, in one process or several.

A task is one (design, replication) pair. Its numbers depend only on the scenario, the seed
and the replication number, so the table is the same whatever the number of processes and
whatever order tasks finish in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

import pandas as pd

from sim.finance import add_finance
from sim.model import simulate
from sim.scenario import Scenario

Progress = Callable[[int, int], None]


def tasks(scenario: Scenario, designs: Iterable[str], replications: int) -> list[tuple[str, int]]:
    """All (design, replication) pairs, in a fixed order."""
    return [(d, r) for r in range(replications) for d in designs]


def _run_task(scenario: Scenario, design: str, replication: int) -> list[dict]:
    return simulate(scenario, design, replication)


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_replications(
    scenario: Scenario,
    designs: Iterable[str],
    replications: int,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Simulate and cost every design × replication; one row per design × replication × year.

    Parameters
    ----------
    scenario
        A validated scenario.
    designs
        Names of designs to run.
    replications
        How many replications of each design.
    jobs
        Local worker processes; 1 runs in this process.
    progress
        Called with (tasks done, tasks in all) as tasks finish.
    """
    designs = list(designs)
    todo = tasks(scenario, designs, replications)
    results: dict[tuple[str, int], list[dict]] = {}
    if jobs <= 1 or len(todo) == 1:
        for i, (d, r) in enumerate(todo, 1):
            results[d, r] = _run_task(scenario, d, r)
            if progress:
                progress(i, len(todo))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            futures = {pool.submit(_run_task, scenario, d, r): (d, r) for d, r in todo}
            for i, fut in enumerate(as_completed(futures), 1):
                results[futures[fut]] = fut.result()
                if progress:
                    progress(i, len(todo))
    rows = [row for key in todo for row in results[key]]
    table = pd.DataFrame(rows)
    return add_finance(table, scenario)
