"""``msksim target`` from its options to its folder: the options checked (:func:`settle`), one
search under each capacity structure the design has (:func:`search_under`), and what is found
written (:func:`write_found`): ``target.csv`` of every trial, and per answer its months, its
loads and the scenario that sets it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.base.lazy import later
from sim.planning.answer import answer_loads, horizon, reconcile, target_toml, trajectory, trials_table
from sim.planning.target import SEARCHES, Target, TargetError, Trial, capacity_values, check_target, search
from sim.runs.batch import BatchError, Say, metric_now
from sim.runs.executors import Executor
from sim.runs.experiment import Progress
from sim.runs.folders import check_out
from sim.runs.results import run_folder, write_atomic, write_csv
from sim.scenario.loading import load_given
from sim.scenario.schema import Scenario

pd = later("pandas")


@dataclass
class Ask:
    """What ``target`` is asked, as given on the command line."""

    scenario: Path
    stages: list[str]
    metric: str
    at_least: float | None
    at_most: float | None
    year: int | None
    probability: float
    max_load: float
    design: str | None = None
    structure: str | None = None
    searched: str = "capacity"
    tolerance: float = 0.01
    uncertainty: bool = True
    reps: int | None = None
    years: int | None = None
    seed: int | None = None
    sets: list[str] = field(default_factory=list)
    out: Path | None = None
    force: bool = False


@dataclass
class Job:
    """A target search settled: the scenario, design, target, structures and folder."""

    ask: Ask
    scenario: Scenario
    design: str
    goal: Target
    structures: list[str]
    folder: Path

    def under(self, structure: str) -> Scenario:
        """The scenario under one capacity structure ("" for the design as set)."""
        return self.scenario.with_structure(structure) if structure else self.scenario


def settle(ask: Ask, warn: Say) -> Job:
    """Check the options and the scenario, and the results folder, before anything runs.

    Raises
    ------
    BatchError, ScenarioError
        On any bad input, naming the option.
    """
    if (ask.at_least is None) == (ask.at_most is None):
        raise BatchError("give the target one way: --at-least VALUE or --at-most VALUE")
    if ask.searched not in SEARCHES:
        raise BatchError(f"--search {ask.searched}: expected one of {', '.join(SEARCHES)}")
    s = load_given(ask.scenario, ask.sets, reps=ask.reps, seed=ask.seed, years=ask.years, warn=warn)
    metric = metric_now(ask.metric, warn)
    name = ask.design or s.own_designs()[-1]
    if name not in s.designs:
        raise BatchError(f"--design {name}: not a design of {s.name}; known: {', '.join(s.designs)}")
    threshold = ask.at_least if ask.at_least is not None else ask.at_most
    goal = Target(metric, threshold, ask.at_least is not None, ask.year, ask.probability, ask.max_load)
    if ask.structure and ask.structure not in s.designs[name].structures:
        raise BatchError(f"--structure {ask.structure}: not a structure of design '{name}'; it has "
                         f"{', '.join(s.designs[name].structures) or 'none'}")  # fmt: skip
    try:
        capacity_values(s, name, ask.stages, ask.searched)
        check_target(s, name, goal)
    except TargetError as e:
        raise BatchError(str(e)) from None
    folder = run_folder(f"{s.name}-target", ask.out)
    check_out(folder, ask.out is not None, ask.force)
    structures = [ask.structure] if ask.structure else s.structure_names([name]) or [""]
    return Job(ask, s, name, goal, structures, folder)


def values_under(job: Job, structure: str) -> dict[str, Any]:
    """The values one search scales (under one structure), by key path."""
    return capacity_values(job.under(structure), job.design, job.ask.stages, job.ask.searched)


def search_under(job: Job, structure: str, executor: Executor,
                 report: Callable[[Trial], None] | None = None, progress: Callable[[float], Progress | None] | None = None,
                 ) -> tuple[Trial | None, list[Trial]]:  # fmt: skip
    """One search (under one structure): the answer (None when not met) and every trial."""
    return search(job.under(structure), job.design, job.ask.stages, job.goal, executor=executor,
                  tolerance=job.ask.tolerance, uncertainty=job.ask.uncertainty, report=report, progress=progress,
                  searched=job.ask.searched)  # fmt: skip


def write_trials(into: Path, tried: dict[str, list[Trial]]) -> str:
    """``target.csv``: every trial under every structure."""
    tables = [trials_table(trials).assign(**({"structure": one} if one else {})) for one, trials in tried.items()]
    write_csv(into / "target.csv", pd.concat(tables, ignore_index=True))
    return "target.csv"


@dataclass
class Answer:
    """What one search found, as written and shown."""

    structure: str
    trial: Trial
    values: dict[str, Any]
    loads: pd.DataFrame
    notes: list[str]
    files: list[str]


def write_found(job: Job, structure: str, answer: Trial, values: dict[str, Any], into: Path) -> Answer:
    """One answer's files, written in ``into`` (moved into the folder after): its months, its loads
    and the scenario that sets the capacity found (extending the one searched, as run)."""
    ask = job.ask
    source = Path(os.path.relpath(ask.scenario.resolve(), job.folder.resolve())).as_posix()
    shortcuts = [f"{k}={v}" for k, v in (("run.replications", ask.reps), ("run.seed", ask.seed), ("run.years", ask.years))
                 if v is not None]  # fmt: skip
    suffix = f"_{structure}" if len(job.structures) > 1 else ""
    sets = [*ask.sets, *shortcuts, *([f'designs.{job.design}.structure="{structure}"'] if structure else [])]
    run = job.under(structure)
    loads = answer_loads(run, job.design, values, answer)
    notes = [*horizon(run, job.design, loads, answer, job.goal), *reconcile(loads, answer, job.goal)]
    write_csv(into / f"target_monthly{suffix}.csv", trajectory(answer))
    write_csv(into / f"target_loads{suffix}.csv", loads)
    write_atomic(into / f"target{suffix}.toml", target_toml(run, job.design, answer, values, source, sets, job.goal, notes))
    files = [f"target_monthly{suffix}.csv", f"target_loads{suffix}.csv", f"target{suffix}.toml"]
    return Answer(structure, answer, values, loads, notes, files)

