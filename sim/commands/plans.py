"""What the planning commands do: ``target`` (the least capacity that meets a target, under each
capacity structure) and ``scale`` (a scenario scaled to another population). Loaded when one runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sim.commands.shared import err_console, fail, out_console, user_errors, warn
from sim.planning import scale as scaling
from sim.planning import targeting
from sim.planning.answer import unmet
from sim.planning.target import HIGHEST, TargetError, Trial
from sim.report import progress
from sim.report.terminal_scale import print_scaled
from sim.report.terminal_target import print_answer, print_ends, print_search, print_structures, trial_line
from sim.runs.batch import open_executor
from sim.runs.executors import StartError
from sim.runs.folders import claimed
from sim.runs.transaction import staged
from sim.scenario.loading import load_given


def target(ask: targeting.Ask, jobs: int | None, quiet: bool) -> None:
    """``target``: settle, search under each structure, write the folder, and say what was found."""
    with user_errors():
        job = targeting.settle(ask, warn)
    print_structures(job, err_console)
    # the folder held (and refused to a second msksim) throughout; its files moved in together at the end
    with user_errors(TargetError, StartError), claimed(job.folder, ask.out is not None, ask.force, what="target"), \
            staged(job.folder) as into:  # fmt: skip
        found, tried, written = _searches(job, into, jobs, quiet)
    missed = [one for one in job.structures if one not in found]
    if missed and not found:
        why = "; ".join(unmet(tried[one], one) for one in missed)
        fail(f"not met even at x{HIGHEST:g} the capacity of {', '.join(ask.stages)}: {why} "
             f"(trials in {job.folder / 'target.csv'})", code=1)  # fmt: skip
    out_console.print(f"Results written to [bold]{job.folder}[/bold] ({', '.join(written)})")
    if missed:
        raise typer.Exit(1)


def _searches(job: targeting.Job, into: Path, jobs: int | None, quiet: bool
              ) -> tuple[dict[str, targeting.Answer], dict[str, list[Trial]], list[str]]:  # fmt: skip
    """The searches, each trial said as it ends; their files written in ``into``, what is found shown."""
    answers: dict[str, tuple[Trial, dict[str, Any]]] = {}
    tried: dict[str, list[Trial]] = {}
    executor = open_executor(jobs, None, warn=warn)
    try:
        for one in job.structures:
            values = targeting.values_under(job, one)
            print_search(job, one, values, err_console)
            with progress.trials(err_console, job.scenario.run.replications, quiet) as tasks:
                answer, trials = targeting.search_under(job, one, executor,
                                                        lambda t: err_console.print(trial_line(t, job.goal), highlight=False),
                                                        tasks)  # fmt: skip
            tried[one] = trials
            if answer is not None:
                answers[one] = (answer, values)
    finally:
        executor.close()
    written = [targeting.write_trials(into, tried)]
    found: dict[str, targeting.Answer] = {}
    for one, (answer, values) in answers.items():
        found[one] = targeting.write_found(job, one, answer, values, into)
        written += found[one].files
        print_answer(found[one], job.goal, job.scenario.run.years, out_console)
    print_ends(found, tried, job.goal, out_console)
    return found, tried, written


def scale(scenario: Path, population: int, out: Path | None, name: str | None, force: bool) -> None:
    """``scale``: write the scenario scaled, and show what changed."""
    with user_errors():
        s = load_given(scenario, None, warn=warn)
        done = scaling.scale(s, population, name)
        target = out if out is not None else scenario.parent / f"{done.name}.toml"
        scaled = scaling.write(done, scenario, target, force)
    print_scaled(s, done, scaled, target, out_console, warn)
