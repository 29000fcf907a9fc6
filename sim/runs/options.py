"""The options every simulating command shares, gathered in one object (light: the command line
imports it before any command runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MAX_LOAD = 0.95
"""The highest expected load (appointments asked for over slots offered) ``target`` recommends in
any year of the horizon, by default. A list at a load of 1 or more only grows, and one just under
1 takes years to settle and swings with every holiday: an answer that meets the target there is
luck of the horizon, not capacity."""


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
    force: bool = False
    xlsx: bool = False

    def overrides(self) -> list[str]:
        """``--set`` values, then ``--backlog FILE`` as a backlog with no warm-up (the backlog is the start)."""
        sets = list(self.sets)
        if self.backlog is not None:
            sets += [f"backlog.file={json.dumps(str(self.backlog.resolve()), ensure_ascii=False)}", "run.warmup_days=0"]
        for key, value in (("commissioner", self.commissioner), ("month", self.month)):
            if value is not None:
                sets.append(f"backlog.{key}={json.dumps(value, ensure_ascii=False)}")
        return sets
