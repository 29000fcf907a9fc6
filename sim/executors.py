"""Where tasks run: this process, local worker processes, or a Dask cluster.

Every executor yields outcomes as tasks finish; the order may differ, the numbers do not.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from sim.schema import Scenario
from sim.tasks import Outcome, Task, run_task, worker_started


class Executor:
    """Runs tasks and yields outcomes as they finish."""

    def run(self, scenarios: dict[int, Scenario], tasks: list[Task], uncertainty: bool) -> Iterator[Outcome]:
        """Run ``tasks``, each on the scenario of its grid point; yield each outcome once."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers."""


class SerialExecutor(Executor):
    """In this process, one task after another."""

    def run(self, scenarios: dict[int, Scenario], tasks: list[Task], uncertainty: bool) -> Iterator[Outcome]:
        for t in tasks:
            yield run_task(scenarios[t.point], t, uncertainty)


class ProcessExecutor(Executor):
    """Local worker processes, a bounded number of tasks in flight."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=worker_started)

    def run(self, scenarios: dict[int, Scenario], tasks: list[Task], uncertainty: bool) -> Iterator[Outcome]:
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
    """A Dask distributed cluster (``pip install msksim[cluster]``).

    Raises
    ------
    RuntimeError
        Without Dask installed.
    OSError, ValueError
        When the scheduler cannot be reached or its address is malformed.
    """

    def __init__(self, address: str):
        try:
            from distributed import Client  # optional extra: imported only when a cluster is asked for
        except ImportError as e:  # pragma: no cover - depends on the optional extra
            raise RuntimeError("--scheduler needs Dask: pip install 'msksim[cluster]'") from e
        self.client = Client(address)

    def run(self, scenarios: dict[int, Scenario], tasks: list[Task], uncertainty: bool) -> Iterator[Outcome]:
        from distributed import as_completed  # present: __init__ imported the package

        shared = {k: self.client.scatter(v, broadcast=True) for k, v in scenarios.items()}
        futures = [self.client.submit(run_task, shared[t.point], t, uncertainty, pure=False) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()

    def close(self) -> None:
        self.client.close()


def make_executor(jobs: int = 1, scheduler: str | None = None) -> Executor:
    """A Dask executor if ``scheduler`` is given, else ``jobs`` local processes (or this one)."""
    if scheduler:
        return DaskExecutor(scheduler)
    return ProcessExecutor(jobs) if jobs > 1 else SerialExecutor()


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
