"""The journal of a batch: every finished task appended to ``journal.jsonl`` as it completes.

One line a task, written whole in one call, flushed and synced: a batch killed half way
resumes from the lines that landed, and a line cut short by the kill is dropped. A damaged
line elsewhere is skipped and reported, never taken to end the journal; the lines after it
are kept. One process at a time runs a batch: :func:`locked` holds an advisory lock.

A lock taken with ``flock`` belongs to the open file, which a forked child shares: a worker
forked while the lock is held would hold it too, and outlive a killed parent holding it. Workers
therefore close what they inherited (:func:`release_inherited`) as they start.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from sim.runs.tasks import Outcome, Task
from sim.scenario.columns import current_name

JOURNAL = "journal.jsonl"

T = TypeVar("T")

_locks: set[int] = set()
"""File descriptors of the locks this process holds (:func:`locked`)."""


class JournalError(Exception):
    """A journal that cannot be used: a link out of the folder, or a batch another process is running."""


class Lines:
    """An append-only file of JSON records, one a line, each written whole in one synced call.

    ``damaged`` lists the lines (numbered from 1) of the last :meth:`read` that ``parse`` could
    not read: they are skipped, and their work is done again.
    """

    def __init__(self, folder: Path, name: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / name
        self.damaged: list[int] = []
        if self.path.is_symlink():
            raise JournalError(f"{self.path}: is a symbolic link; a batch writes its journal only inside its own folder")

    def records(self, parse: Callable[[bytes], T | None]) -> list[T]:
        """What the lines hold, read by ``parse`` (None for a damaged line, which is skipped and
        counted in ``damaged``); a last line cut short by a crash is truncated away, so the next
        line starts clean."""
        out: list[T] = []
        self.damaged = []
        if not self.path.exists():
            return out
        end = 0
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.endswith(b"\n"):
                    break  # the last line, cut short
                end += len(line)
                record = parse(line)
                if record is None:
                    self.damaged.append(number)
                else:
                    out.append(record)
        if end < self.path.stat().st_size:
            with open(self.path, "r+b") as fh:
                fh.truncate(end)
        return out

    def add(self, record: dict[str, Any]) -> None:
        """Add one record in a single synced write."""
        line = (json.dumps(record, default=_plain) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


class Journal(Lines):
    """Append-only record of finished tasks: one JSON line each, written whole and synced.

    ``damaged`` lists the lines (numbered from 1) of the last :meth:`read` that held no
    finished task: they are skipped, and their tasks run again.
    """

    def __init__(self, folder: Path):
        super().__init__(folder, JOURNAL)

    def read(self) -> dict[Task, Outcome]:
        """Finished tasks so far (a damaged line skipped, a last line cut short truncated away)."""
        return {o.task: o for o in self.records(_outcome)}

    def append(self, outcome: Outcome) -> None:
        """Add one finished task (its rows, traces or error) in a single synced write."""
        self.add({"task": asdict(outcome.task), "rows": outcome.rows, "traces": outcome.traces, "error": outcome.error})


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the batch folder's advisory lock: a second process running the same batch is refused.

    Raises
    ------
    JournalError
        When another process holds the lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # the folder itself: no lock file is left behind
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JournalError(f"{folder}: another msksim process is running this batch; wait for it to finish") from None
        _locks.add(fd)
        yield
    finally:
        _locks.discard(fd)
        os.close(fd)  # closing releases the lock


def release_inherited() -> None:
    """In a forked worker: close the parent's lock files, so that only the parent holds its locks.

    Closing one copy leaves the parent's lock in place (unlocking would release it for both)."""
    for fd in list(_locks):
        with contextlib.suppress(OSError):
            os.close(fd)
    _locks.clear()


def _outcome(line: bytes) -> Outcome | None:
    """The finished task a journal line holds, or None for a damaged line."""
    try:
        rec = json.loads(line)
        task = Task(**rec["task"])
        if not (isinstance(task.point, int) and isinstance(task.replication, int) and isinstance(task.design, str)):
            return None
        rows = [{current_name(k): v for k, v in row.items()} for row in rec["rows"]]
        traces = rec["traces"]
        if isinstance(traces, dict) and isinstance(traces.get("monthly_columns"), list):
            traces = {**traces, "monthly_columns": [current_name(c) for c in traces["monthly_columns"]]}
        return Outcome(task, rows, traces, rec["error"])
    except (ValueError, KeyError, TypeError):
        return None


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    raise TypeError(f"cannot store {type(x)}")
