"""The journal of a batch: every finished task appended to ``journal.jsonl`` as it completes.

One line a task, written whole in one call, flushed and synced: a batch killed half way
resumes from the lines that landed, and a line cut short by the kill is dropped.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from sim.tasks import Outcome, Task

JOURNAL = "journal.jsonl"


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
        """Add one finished task (its rows, traces or error) in a single synced write."""
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
