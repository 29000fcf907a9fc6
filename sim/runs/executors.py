"""Where tasks run: this process, local worker processes, or a Dask cluster.

Every executor yields outcomes as tasks finish; the order may differ, the numbers do not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import resource
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, TypeVar

from sim.base import interrupt
from sim.runs import journal
from sim.runs.tasks import Outcome, Task, run_task, worker_started
from sim.scenario.schema import Scenario

PER_CORE = 8
"""Most local workers a core: more only share it, each with its own memory."""
SPARE_PROCESSES = 16
"""Processes left free under the machine's process limit, for everything else that runs (a
quarter of the room where that is less, but 4 at least: the parent's own threads count too)."""
PR_SET_PDEATHSIG = 1
"""Linux's prctl option: the signal a process is sent when its parent dies."""


R = TypeVar("R")


class StartError(RuntimeError):
    """A worker process could not be started (the machine's process or memory limit)."""


class Executor:
    """Runs tasks and yields outcomes as they finish."""

    def run(self, scenarios: dict[int, Scenario], tasks: list[Task], uncertainty: bool) -> Iterator[Outcome]:
        """Run ``tasks``, each on the scenario of its grid point; yield each outcome once."""
        return self.map(run_task, [(scenarios[t.point], t, uncertainty) for t in tasks])

    def map(self, fn: Callable[..., R], calls: list[tuple[Any, ...]]) -> Iterator[R]:
        """``fn(*args)`` for each of ``calls``; yield each result once, as it finishes. ``fn``
        must be importable by name and never raise (it returns its errors), as
        :func:`sim.runs.tasks.run_task` does."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers."""


class SerialExecutor(Executor):
    """In this process, one task after another."""

    def map(self, fn: Callable[..., R], calls: list[tuple[Any, ...]]) -> Iterator[R]:
        for args in calls:
            yield fn(*args)


class ProcessExecutor(Executor):
    """Local worker processes, a bounded number of tasks in flight.

    Workers start with the first tasks (or :meth:`start`), no more of them than there are tasks,
    and die with this process (:func:`_worker_started`). ``jobs`` above what the machine can start
    (:func:`most_jobs`) is lowered, with a note through ``note``.
    """

    def __init__(self, jobs: int, note: Callable[[str], None] | None = None):
        most, why = most_jobs()
        if jobs > most:
            (note or _stderr)(f"--jobs {jobs}: {most} worker{'s' if most > 1 else ''} at most ({why})")
            jobs = most
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.workers = 0
        self.running: set[Future[Any]] = set()

    def start(self, tasks: int) -> None:
        """Start the workers for ``tasks`` tasks now (at most ``jobs``), not at the first task.

        Raises
        ------
        StartError
            When the machine cannot start them; none is left running then.
        """
        want = max(1, min(self.jobs, tasks))
        if self.pool is not None and self.workers >= want:
            return
        if self.pool is not None:  # between runs (nothing in flight): a bigger run needs more workers
            self.pool.shutdown()
        self.workers = want
        self.pool = ProcessPoolExecutor(
            max_workers=want, mp_context=_context(), initializer=_worker_started, initargs=(os.getpid(),)
        )
        try:
            # with fork, the first task starts every worker at once: a failure shows here
            self.pool.submit(int).result()
        except OSError as e:
            started = len(self.pool._processes or {})
            self.kill()
            raise StartError(
                f"--jobs {self.jobs}: cannot start worker process {started + 1} of {want}: {e.strerror or e} "
                f"(the machine's limit on processes or memory); run with fewer --jobs, e.g. --jobs {max(1, started)}"
            ) from None

    def map(self, fn: Callable[..., R], calls: list[tuple[Any, ...]]) -> Iterator[R]:
        if not calls:
            return
        self.start(len(calls))
        assert self.pool is not None
        todo = list(calls)
        running: set[Future[Any]] = set()
        self.running = running
        try:
            while todo or running:
                while todo and len(running) < 2 * self.workers:
                    running.add(self.pool.submit(fn, *todo.pop(0)))
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                running -= done
                for fut in done:
                    yield fut.result()
        except interrupt.Terminated:  # the parent is told to stop: the tasks in flight are not waited for
            self.kill()
            raise

    def kill(self) -> None:
        """Stop every worker now, tasks in flight or not (what they finished is journalled)."""
        if self.pool is None:
            return
        pool, self.pool = self.pool, None
        processes = list((pool._processes or {}).values())  # the pool offers no way to stop them before 3.14
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.kill()
        for p in processes:
            p.join(timeout=5)

    def close(self) -> None:
        """Let idle workers go; stop them at once if tasks are still in flight (the run was stopped)."""
        if any(not f.done() for f in self.running):
            self.kill()
        elif self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


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
        # a scenario shared by many tasks is sent to each worker once, not with every task
        shared = {k: self.client.scatter(v, broadcast=True) for k, v in scenarios.items()}
        return self.map(run_task, [(shared[t.point], t, uncertainty) for t in tasks])

    def map(self, fn: Callable[..., R], calls: list[tuple[Any, ...]]) -> Iterator[R]:
        from distributed import as_completed  # present: __init__ imported the package

        futures = [self.client.submit(fn, *args, pure=False) for args in calls]
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()

    def close(self) -> None:
        self.client.close()


def make_executor(jobs: int = 1, scheduler: str | None = None, note: Callable[[str], None] | None = None) -> Executor:
    """A Dask executor if ``scheduler`` is given, else ``jobs`` local processes (or this one).

    ``note`` is told when ``jobs`` is lowered to what the machine can start."""
    if scheduler:
        return DaskExecutor(scheduler)
    return ProcessExecutor(jobs, note) if jobs > 1 else SerialExecutor()


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def most_jobs() -> tuple[int, str]:
    """The most local workers worth starting, and why: :data:`PER_CORE` a core, and no more than
    the machine's process limits leave room for (the container's ``pids.max``, ``RLIMIT_NPROC``)."""
    cores = os.cpu_count() or 1
    most, why = PER_CORE * cores, f"{PER_CORE} a core on {cores} core(s): more only share them"
    room = process_room()
    spare = min(SPARE_PROCESSES, max(4, (room or 0) // 4))
    if room is not None and room - spare < most:
        most = max(1, room - spare)
        why = f"the machine's process limit leaves room for {room} more processes, {spare} of them kept spare"
    return most, why


def process_room() -> int | None:
    """How many more processes this one may start under the limits that can be read (None: no limit found).

    A container's process limit (cgroup ``pids.max`` less ``pids.current``, this cgroup and those
    above it) and, but for root, ``RLIMIT_NPROC`` less the processes and threads of this user.
    """
    rooms = [_cgroup_room()]
    soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    if soft != resource.RLIM_INFINITY and os.geteuid() != 0:  # root is not held to it
        used = _user_threads()
        if used is not None:
            rooms.append(soft - used)
    known = [r for r in rooms if r is not None]
    return min(known) if known else None


def _cgroup_room() -> int | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    rooms = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            base = Path("/sys/fs/cgroup")  # cgroup v2
        elif "pids" in controllers.split(","):
            base = Path("/sys/fs/cgroup/pids")
        else:
            continue
        here = base / path.lstrip("/")
        for folder in (here, *here.parents):
            if not folder.is_relative_to(base):
                break
            try:
                top = (folder / "pids.max").read_text().strip()
                now = int((folder / "pids.current").read_text())
            except (OSError, ValueError):
                continue
            if top.isdigit():
                rooms.append(int(top) - now)
    return min(rooms) if rooms else None


def _user_threads() -> int | None:
    """Processes and threads of this user now (what ``RLIMIT_NPROC`` counts); None without ``/proc``."""
    uid, count = os.geteuid(), 0
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return None
    for entry in entries:
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:  # gone since
                continue
    return count


def _context() -> multiprocessing.context.BaseContext:
    """Fork where it is Linux's (workers start at once, sharing the loaded libraries); else the default."""
    return multiprocessing.get_context("fork") if sys.platform.startswith("linux") else multiprocessing.get_context()


def _worker_started(parent: int) -> None:
    """A worker starts: it dies with its parent, holds none of the parent's locks, and leaves
    SIGTERM and SIGHUP to end it (the parent's handlers, :func:`sim.base.interrupt.terminating`, are its own)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no libc to ask
            pass
        if os.getppid() != parent:  # the parent died before the request was made
            os._exit(0)
    journal.release_inherited()
    for signum in interrupt.TERMINATING:
        signal.signal(signum, signal.SIG_DFL)
    worker_started()


def _stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
