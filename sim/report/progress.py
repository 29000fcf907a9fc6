"""Progress bars on the terminal while a command runs: a batch's replications, a national
batch's areas, a calibration's simulations, a target search's trials. Each is shown on the
error stream (the output stream is kept for ``--json``) and gone when it ends; with ``quiet``
none is shown and the callbacks are None, as when no bar was asked for."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

COUNTING = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
"""A bar's columns: what runs, the bar, done of all, time taken."""
WITH_ETA = (*COUNTING, TextColumn("ETA"), TimeRemainingColumn())
"""The same, with the time left."""


class Bar:
    """One task's bar: its count, how far it has gone, and what it says."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress, self.task = progress, task

    def update(self, done: int, total: int) -> None:
        """``done`` of ``total``."""
        self.progress.update(self.task, completed=done, total=total)

    def advance(self, n: int) -> None:
        """``n`` more done."""
        self.progress.advance(self.task, n)

    def describe(self, text: str) -> None:
        """Say ``text`` beside the bar."""
        self.progress.update(self.task, description=text)


@contextlib.contextmanager
def bar(console: Console, description: str, total: int | None, quiet: bool, eta: bool = True) -> Iterator[Bar | None]:
    """A bar for one task while the block runs (None with ``quiet``)."""
    if quiet:
        yield None
        return
    with Progress(*(WITH_ETA if eta else COUNTING), console=console, transient=True) as progress:
        yield Bar(progress, progress.add_task(description, total=total))


@contextlib.contextmanager
def trials(console: Console, replications: int, quiet: bool) -> Iterator[Callable[[float], Callable[[int, int], None]] | None]:
    """A bar per trial of a search, each made when its trial starts: the callback given takes
    the trial's factor and gives the trial's progress callback (None with ``quiet``)."""
    if quiet:
        yield None
        return
    with Progress(*COUNTING, console=console, transient=True) as progress:

        def task(factor: float) -> Callable[[int, int], None]:
            one = progress.add_task(f"trial x{factor:.4g}", total=replications)
            return lambda done, total: progress.update(one, completed=done, total=total)

        yield task
