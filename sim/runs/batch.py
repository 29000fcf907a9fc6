"""A simulating command's batch, from its options to its results folder.

:func:`prepare` checks every input and settles the batch (or reopens one to resume) before
anything is written; :func:`execute` writes the scenario, its inputs and the batch settings,
then runs the tasks; :func:`finish` writes every table and the manifest. Bad input raises
:class:`BatchError` (or :class:`~sim.scenario.loading.ScenarioError`) naming the option or file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import shutil
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.analysis import diagnostics, limits, measures, plausibility, transition, warmup
from sim.analysis.takeover import TAKES_OVER, takeovers
from sim.analysis.transition import ALSO, SWITCH_OVER
from sim.base.files import FileProblem, read_text
from sim.base.lazy import later
from sim.base.metrics import rtt_monthly
from sim.money.provider_costs import monthly_premiums
from sim.rtt.table import with_statistics
from sim.runs.dictionary import dictionary
from sim.runs.executors import Executor, ProcessExecutor, StartError, default_jobs, make_executor
from sim.runs.experiment import BatchResult, Progress, grid_points, grid_values, relative_half_width, run_batch
from sim.runs.journal import JOURNAL, JournalError, locked
from sim.runs.options import BatchOptions
from sim.runs.results import (
    BATCH_FILE,
    MAIN_TABLES,
    MANIFEST_FILE,
    SCENARIO_FILE,
    XLSX_FILE,
    run_folder,
    save_inputs,
    write_atomic,
    write_run,
    write_xlsx,
    wrong_setting,
)
from sim.runs.transaction import LEAST_OUTPUT, check_space, describe, staged
from sim.scenario.columns import current_name
from sim.scenario.loading import load_given, override_notes, with_structure_designs, with_switch_over
from sim.scenario.schema import Scenario, ScenarioError
from sim.scenario.values import parse_override

pd = later("pandas")

STRUCTURES = "structures"
"""In a batch's ``extra``: per design added to run another capacity structure, [design, structure]."""

Say = Callable[[str], None]
"""Where a message for the user goes (a warning, or a note beside the results)."""


class BatchError(Exception):
    """Options or files that make no batch: the message names the option or file and the problem."""


@dataclass
class Batch:
    """Everything a simulating command needs, settled before anything is written."""

    kind: str
    scenario: Scenario
    designs: list[str]
    folder: Path
    uncertainty: bool
    precision: float | None
    metric: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False
    force: bool = False
    """``--force``: replace what the folder holds."""
    xlsx: bool = False
    """``--xlsx``: also write every table into one workbook."""

    @functools.cached_property
    def points(self) -> dict[int, Scenario]:
        """One scenario per grid point (just one without a grid), validated once."""
        return grid_points(self.scenario, self.grid)

    def settings(self) -> dict[str, Any]:
        """What ``batch.json`` keeps, for a resume to continue the batch as it was started."""
        return {
            "kind": self.kind,
            "designs": self.designs,
            "uncertainty": self.uncertainty,
            "precision": self.precision,
            "metric": self.metric,
            "grid": self.grid,
            "extra": self.extra,
        }


def metric_now(metric: str, warn: Say) -> str:
    """The column ``--metric`` names today: an old name is read as its new one, with a warning."""
    now = current_name(metric)
    if now != metric:
        warn(f"--metric {metric}: renamed {now}; that column is used")
    return now


def prepare(kind: str, path: Path | None, designs: list[str], options: BatchOptions, *, warn: Say, precision: float | None = None,
            metric: str = "rtt_incomplete_within_18w_pct", grid: dict[str, list[Any]] | None = None,
            extra: dict[str, Any] | None = None, switch_over: bool = False, also: list[str] | None = None,
            takes_over: str | None = None) -> Batch:  # fmt: skip
    """Validate all input, and either settle a new batch or reopen one to resume.

    With ``switch_over`` (two designs: old, new), a third design runs the new one taking
    over from the old at the contract start; the batch's designs are then old, the
    switch-over and new (its steady state), and the differences are the switch-over's.

    With ``takes_over`` (a bid: one design), the design runs taking over the lists of the design
    named, beside itself in its steady state on the same patients: the batch's designs are the
    takeover (``<design>_from_<takes_over>``, priced) and the design (what the takeover adds is
    paired against it, :mod:`sim.analysis.takeover`).

    Raises
    ------
    BatchError, ScenarioError
        On any bad input; nothing has been written then.
    """
    if options.resume is not None:
        # a bid's --takes-over is checked against the batch's own by the command
        given = [("--precision", precision), ("--also", also), ("--transition", switch_over), ("--grid", grid)]
        refuse_on_resume(options.resume, given)
        return _reopen(kind, options.resume, options, warn, path)
    if path is None:
        raise BatchError(f"{kind}: give a scenario file (e.g. scenarios/bedfordshire.toml), or --resume DIR")
    twice = next((d for i, d in enumerate(designs) if d in designs[:i]), None)
    if twice is not None:
        named = "--baseline and --design both name" if kind == "compare" else "--designs names twice"
        raise BatchError(f"{named} the design '{twice}': a design is compared with another, not itself")
    try:
        scenario = load_given(path, options.overrides(), options.reps, options.seed, options.years, warn,
                              drawn=not options.no_uncertainty)  # fmt: skip
    except ScenarioError as e:
        chosen = options.commissioner is not None or options.month is not None
        if chosen and options.backlog is None and e.key in ("backlog.commissioner", "backlog.month"):
            raise BatchError("--commissioner and --month choose an RTT return to start from: give --backlog FILE too") from None
        raise
    if also:
        if switch_over:
            raise BatchError("--also and --transition: run the switch-over and the extra designs apart")
        for d in also:
            if d in designs:
                raise BatchError(f"--also {d}: already compared; name a third design")
        designs = [*designs, *dict.fromkeys(also)]
        extra = {**(extra or {}), ALSO: list(dict.fromkeys(also))}
    for d in designs:
        if d not in scenario.designs:
            raise BatchError(f"{path}: designs.{d}: no such design; known: {', '.join(scenario.designs)}")
    if kind in ("run", "bid"):
        for d in designs:
            cfg = scenario.designs[d]
            others = [n for n in cfg.structures if n != cfg.active_structure]
            if others:
                again = "`compare` runs each, or" if kind == "run" else "its price under another may differ: run again with"
                warn(f"design '{d}' runs its {cfg.active_structure} structure; the returns allow {', '.join(others)} as "
                     f"well: {again} --set designs.{d}.structure=\"{others[0]}\"")  # fmt: skip
    for note in override_notes(scenario, grid or {}, "--grid", designs):
        warn(note)
    if kind == "sweep" and grid:  # every structure the returns allow, as one more dimension of the grid
        for d in designs:
            key = f"designs.{d}.structure"
            if len(scenario.designs[d].structures) > 1 and key not in grid:
                grid = {**grid, key: list(scenario.designs[d].structures)}
    if kind == "compare" and not switch_over:  # every structure the returns allow, beside the one run
        scenario, added = with_structure_designs(scenario, designs, str(path))
        if added:
            designs = [*designs, *added]
            extra = {**(extra or {}), ALSO: [*(extra or {}).get(ALSO, []), *added],
                     STRUCTURES: {name: list(of) for name, of in added.items()}}  # fmt: skip
    if takes_over is not None:
        scenario, designs, extra = _with_takeover(scenario, designs[0], takes_over, extra)
    if switch_over:
        scenario, name = with_switch_over(scenario, designs[1], designs[0])
        designs = [designs[0], name, designs[1]]
        extra = {**(extra or {}), SWITCH_OVER: {"from": designs[0], "design": name, "steady": designs[2]}}
        if scenario.run.warmup_days == 0 and scenario.backlog is None:
            warn(f"--transition: run.warmup_days is 0 and there is no backlog: '{name}' takes over empty lists")
    metric = metric_now(metric, warn)
    if precision is not None or kind == "sweep":  # what the precision or the sweep's verdict reads
        try:
            measures.check(metric, scenario, designs)
        except measures.MeasureError as e:
            raise BatchError(str(e)) from None
    folder = run_folder(scenario, options.out)
    batch = Batch(kind, scenario, designs, folder, not options.no_uncertainty, precision, metric, grid or {}, extra or {},
                  force=options.force, xlsx=options.xlsx)  # fmt: skip
    _ = batch.points  # every grid point validated now, before anything is written
    check_out(folder, options.out is not None, options.force)
    for message in plausibility.warnings(scenario):
        warn(message)
    unfitted = scenario.unfitted_beside_fitted([d for d in designs if d in scenario.designs])
    if unfitted:
        warn(unfitted)
    check_memory(batch, options, warn)
    return batch


def _with_takeover(
    scenario: Scenario, design: str, old: str, extra: dict[str, Any] | None
) -> tuple[Scenario, list[str], dict[str, Any]]:
    """The scenario with ``design`` taking over from ``old`` added, the batch's designs (the
    takeover, then ``design`` in its steady state) and its ``extra`` settings naming them."""
    cfg = scenario.designs[design]
    if old not in scenario.designs or old == design:
        others = ", ".join(n for n in scenario.designs if n != design)
        raise BatchError(f"--takes-over {old}: designs.{design}.inherits: not a known other design; known: {others}")
    if cfg.inherits is not None:
        raise BatchError(
            f"--takes-over {old}: designs.{design} takes over '{cfg.inherits}' already (inherits): "
            "bid without --takes-over, or on a design that starts afresh"
        )
    if scenario.designs[old].inherits is not None:
        raise BatchError(f"--takes-over {old}: '{old}' itself inherits from '{scenario.designs[old].inherits}': "
                         "take over from a design that starts afresh")  # fmt: skip
    scenario, name = with_switch_over(scenario, design, old, source="--takes-over")
    return scenario, [name, design], {**(extra or {}), TAKES_OVER: {"from": old, "design": name, "without": design}}


RESULTS_MARKS = (JOURNAL, BATCH_FILE, MANIFEST_FILE, "calibrated.toml", "areas.jsonl", "national.json")
"""Files that make a folder an msksim results folder."""


def check_out(folder: Path, given: bool, force: bool) -> None:
    """Refuse a results folder that is a file, holds a batch, or holds files that are not msksim's
    (unless ``force``), or that cannot be written. Nothing is written here.

    Raises
    ------
    BatchError
        Naming the folder (as ``--out`` when given) and the problem.
    """
    name = f"--out {folder}" if given else str(folder)
    if os.path.lexists(folder) and not folder.is_dir():
        raise BatchError(f"{name}: is a file (or a broken link), not a folder")
    if folder.is_dir():
        journal = folder / JOURNAL
        if journal.is_symlink():
            raise BatchError(f"{name}: {JOURNAL} is a symbolic link; a batch writes only inside its own folder")
        if os.path.lexists(journal) and not force:
            raise BatchError(
                f"{name}: already holds a batch: continue it with --resume {folder}, choose another --out, "
                "or --force to replace it"
            )
        ours = any(os.path.lexists(folder / mark) for mark in RESULTS_MARKS)
        if not ours and any(folder.iterdir()) and not force:
            raise BatchError(
                f"{name}: a folder of other files, not an msksim results folder: choose an empty or new folder, "
                "or --force to write there (files of the same names are replaced)"
            )
    existing = next((p for p in (folder, *folder.absolute().parents) if p.exists()), None)
    if existing is not None and not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        raise BatchError(f"{name}: cannot write there ({existing} is not a folder you may write to)")


BYTES_PER_TASK_YEAR = 20_000
"""The least a finished task leaves on disk per simulated year (its journal line and table rows),
about a fifth of what small runs measure: the space check refuses only a batch that cannot fit."""
BYTES_FIXED = 100_000
"""The least a batch's folder holds whatever its size (scenario, dictionary, manifest, chart), about a third of it."""


def estimate_bytes(batch: Batch) -> int:
    """A low estimate of what a new batch writes (a resumed one has written much of it already)."""
    if batch.resumed:
        return 0
    s = batch.scenario
    tasks = len(batch.points) * len(batch.designs) * s.run.replications
    return int(BYTES_FIXED + tasks * BYTES_PER_TASK_YEAR * (s.run.years + s.run.warmup_days / 365))


def check_memory(batch: Batch, options: BatchOptions, warn: Say) -> None:
    """Refuse a batch that cannot fit in this machine's memory; warn of one that fills half of it."""
    local = options.scheduler is None
    tasks = len(batch.points) * len(batch.designs) * batch.scenario.run.replications
    need = max(
        (limits.estimate(s, batch.designs, tasks, options.jobs or default_jobs(), local) for s in batch.points.values()),
        key=lambda e: e.total,
    )
    have = limits.machine_memory()
    if need.total > have:
        raise BatchError(
            f"this batch needs {need.describe()}, more than this machine's memory ({have / limits.MB:,.0f} MB): "
            "fewer --reps, --years or --jobs, less demand, or more capacity where demand outruns it"
        )
    if need.total > have / 2:
        warn(f"this batch needs {need.describe()}, over half of this machine's memory ({have / limits.MB:,.0f} MB)")


def _reopen(kind: str, folder: Path, options: BatchOptions, warn: Say, path: Path | None = None) -> Batch:
    saved = folder / BATCH_FILE
    if not saved.exists():
        raise BatchError(f"--resume {folder}: no {BATCH_FILE} there; not a batch folder")
    if (folder / JOURNAL).is_symlink():
        raise BatchError(f"--resume {folder}: {JOURNAL} is a symbolic link; a batch writes only inside its own folder")
    try:
        settings = json.loads(read_text(saved))
    except FileProblem as e:
        raise BatchError(f"--resume {folder}: {BATCH_FILE}: {e.problem}") from None
    except json.JSONDecodeError as e:
        raise BatchError(f"--resume {folder}: {BATCH_FILE}: cannot read the batch settings: {e}") from None
    names = ("designs", "uncertainty", "precision", "metric", "grid", "extra")
    lacking = [n for n in ("kind", *names) if not isinstance(settings, dict) or n not in settings]
    if lacking:
        raise BatchError(f"--resume {folder}: {BATCH_FILE}: {lacking[0]}: missing; not the settings of a batch")
    wrong = wrong_setting(settings)
    if wrong:
        raise BatchError(f"--resume {folder}: {BATCH_FILE}: {wrong}; not the settings of a batch")
    if settings["kind"] != kind:
        raise BatchError(f"--resume {folder}: that folder holds a '{settings['kind']}' batch, not '{kind}'")
    if options.no_uncertainty and settings["uncertainty"]:
        refuse_on_resume(folder, [("--no-uncertainty", True)])
    # --reps may raise (or lower) the target: finished replications are kept either way
    scenario = load_given(folder / SCENARIO_FILE, None, options.reps)
    _refuse_changes(folder, scenario, options)
    ignored = ["--out"] if options.out is not None and options.out.resolve() != folder.resolve() else []
    if path is not None and path.resolve() != (folder / SCENARIO_FILE).resolve():
        ignored.insert(0, f"the scenario {path} (the folder's own {SCENARIO_FILE} is used)")
    if ignored:
        warn(f"--resume continues the batch as it was started: {', '.join(ignored)} ignored")
    unknown = [d for d in settings["designs"] if d not in scenario.designs]
    if unknown:
        raise BatchError(f"--resume {folder}: {BATCH_FILE}: designs: '{unknown[0]}' is not a design of its scenario")
    settings["metric"] = current_name(settings["metric"])  # a batch started before a rename
    # --xlsx is only about output: a resumed batch writes the workbook when asked
    batch = Batch(kind, scenario, folder=folder, resumed=True, xlsx=options.xlsx, **{n: settings[n] for n in names})
    check_memory(batch, options, warn)
    return batch


def _refuse_changes(folder: Path, scenario: Scenario, options: BatchOptions) -> None:
    """Refuse scenario options given on resume that would change the batch's scenario (the
    same values as it was started with, e.g. the command line repeated, are harmless)."""
    given = [("--set", options.sets), ("--seed", options.seed), ("--years", options.years), ("--backlog", options.backlog),
             ("--commissioner", options.commissioner), ("--month", options.month)]  # fmt: skip
    named = [(name, value) for name, value in given if value is not None and value != []]
    if not named:
        return
    try:
        again = load_given(folder / SCENARIO_FILE, options.overrides(), options.reps, options.seed, options.years)
    except ScenarioError:
        again = None
    if again != scenario:
        refuse_on_resume(folder, named)


def refuse_on_resume(folder: Path, given: list[tuple[str, Any]]) -> None:
    """Refuse options that would change a resumed batch's results: it keeps the settings it was
    started with (its own scenario, seed, designs and terms), so they would be silently ignored.

    Raises
    ------
    BatchError
        Naming the first option given (one given is not None, False or empty).
    """
    for name, value in given:
        if value is not None and value is not False and value != [] and value != {}:
            raise BatchError(
                f"--resume {folder}: {name} cannot change a batch that is resumed: it keeps its own settings "
                f"(start a new batch with --out to use {name})"
            )


def parse_grid(items: list[str] | None, grid_file: Path | None) -> dict[str, list[Any]]:
    """The values to sweep: a ``[grid]`` table from ``grid_file``, then ``--grid KEY=V1,V2`` items.

    Raises
    ------
    BatchError
        When the file cannot be read or holds no grid, a value is not readable, or nothing is swept.
    """
    grid: dict[str, list[Any]] = _grid_file(grid_file) if grid_file is not None else {}
    for item in items or []:
        key, _, text = item.partition("=")
        try:
            values = [parse_override(f"{key}={v}")[1] for v in text.split(",")]
        except ScenarioError as e:
            raise BatchError(f"--grid {item}: {e.problem}") from None
        grid[key.strip()] = values
    if not grid:
        raise BatchError("sweep: give at least one --grid KEY=V1,V2 or a --grid-file")
    return grid


def _grid_file(path: Path) -> dict[str, list[Any]]:
    try:
        data = tomllib.loads(read_text(path))
    except FileProblem as e:
        raise BatchError(f"{path}: cannot read the sweep file: {e.problem}") from None
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        raise BatchError(f"{path}: cannot read the sweep file: not valid TOML: {e}") from None
    table = data.get("grid")
    if not isinstance(table, dict) or not table:
        raise BatchError(f"{path}: grid: expected a [grid] table of KEY = [values]")
    for key, values in table.items():
        if not isinstance(values, list) or not values:
            raise BatchError(f"{path}: grid.{key}: expected a non-empty list of values")
    return dict(table)


def open_executor(jobs: int | None, scheduler: str | None, warn: Say | None = None) -> Executor:
    """Local processes (all cores unless ``jobs``, as many as the machine can start: ``warn`` is
    told when fewer), or the Dask cluster at ``scheduler``.

    Raises
    ------
    BatchError
        When the scheduler cannot be used (nothing has been written yet).
    """
    try:
        return make_executor(jobs or default_jobs(), scheduler, warn)
    except (OSError, RuntimeError, ValueError) as e:
        raise BatchError(f"--scheduler {scheduler}: cannot use the Dask scheduler: {e}") from None


def execute(batch: Batch, executor: Executor, progress: Progress | None = None) -> BatchResult:
    """Write the scenario, its inputs and the batch settings (unless resuming), then run the batch.

    The folder's lock is held throughout: a second process on the same folder is refused.

    Local workers are started first, before the lock is taken and anything is written.

    Raises
    ------
    BatchError
        When the folder cannot be made or written, another process is running its batch, or the
        workers cannot be started.
    """
    check_space(batch.folder, estimate_bytes(batch), f"this {batch.kind}")
    made = not os.path.lexists(batch.folder)
    try:
        if isinstance(executor, ProcessExecutor):  # before the lock and the first file: see StartError
            executor.start(len(batch.points) * len(batch.designs) * batch.scenario.run.replications)
        with locked(batch.folder):
            return _locked_execute(batch, executor, progress)
    except StartError as e:
        raise BatchError(str(e)) from None
    except JournalError as e:
        raise BatchError(str(e)) from None
    except OSError as e:
        if os.path.lexists(batch.folder / BATCH_FILE):  # its settings and finished tasks kept: it goes on from them
            raise BatchError(
                f"{describe(e)}: the finished replications are kept in {batch.folder / JOURNAL}: free some space "
                f"(or fix the folder) and continue with: msksim {batch.kind} --resume {batch.folder}"
            ) from None
        if made:  # the batch's settings never landed: nothing there to resume, so nothing left
            shutil.rmtree(batch.folder, ignore_errors=True)
        raise BatchError(f"cannot write the results: {describe(e)}") from None


def _locked_execute(batch: Batch, executor: Executor, progress: Progress | None) -> BatchResult:
    if not batch.resumed:
        if os.path.lexists(batch.folder / JOURNAL) and not batch.force:  # started since it was checked
            raise BatchError(f"{batch.folder} already holds a batch: continue it with --resume {batch.folder}")
        for name in (JOURNAL, MANIFEST_FILE):
            (batch.folder / name).unlink(missing_ok=True)  # --force: the batch there is replaced
        save_inputs(batch.folder, batch.scenario)
        write_atomic(batch.folder / BATCH_FILE, json.dumps(batch.settings(), indent=2, default=str))
    return run_batch(
        batch.points, batch.designs, batch.scenario.run.replications, executor=executor, folder=batch.folder,
        uncertainty=batch.uncertainty, precision=batch.precision, metric=batch.metric, progress=progress,
    )  # fmt: skip


def per_point(batch: Batch, frame: pd.DataFrame) -> pd.DataFrame:
    """A table as saved: with its grid ``point`` column in a sweep, without it otherwise."""
    return frame if batch.grid or "point" not in frame.columns else frame.drop(columns=["point"])


def finish(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], started: datetime, *, warn: Say) -> bool:
    """Warm-up check, diagnostics, error list, every table and the manifest.

    The files are written beside the folder and moved in together, the manifest last, under the
    folder's lock: a file system that refuses them (full, read-only, …) leaves the folder as it
    was, its journal kept for ``--resume``.

    Returns whether the run has result rows (what a report is made of).

    Raises
    ------
    BatchError
        Naming the file that could not be written, the reason, and how to resume.
    """
    try:
        with locked(batch.folder), staged(batch.folder, last=(MANIFEST_FILE,)) as stage:
            _write_tables(batch, result, tables, started, warn, stage)
    except JournalError as e:
        raise BatchError(str(e)) from None
    except OSError as e:
        raise BatchError(
            f"{describe(e)}: no results written; the finished replications are kept in {batch.folder / JOURNAL}: "
            f"free some space (or fix the folder) and continue with: msksim {batch.kind} --resume {batch.folder}"
        ) from None
    main = next((tables[n] for n in MAIN_TABLES if n in tables), None)
    if main is None or main.empty:
        return False
    checks = diagnostics.stage_checks(main, batch.points)
    names = {i: ", ".join(f"{k} = {v}" for k, v in values.items()) for i, values in grid_values(batch.grid).items()}
    for msg in diagnostics.warnings(checks, result.replications, steady=batch.scenario.backlog is None, names=names):
        warn(msg)
    for msg in diagnostics.overload_warnings(diagnostics.overloaded_paths(main), names):
        warn(msg)
    return True


def _write_tables(
    batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], started: datetime, warn: Say, stage: Path
) -> None:
    """Every table, the chart, the workbook and the manifest, written in ``stage``."""
    extra: dict[str, Any] = {"replications_run": result.replications, "batch": batch.settings()}
    if batch.precision is not None:
        extra["precision_met"] = result.precision_met
    if not result.series.empty:
        extra["warmup_mser_truncation_day"] = _warmup(batch, result, tables, warn, stage)
    tables.update(_trace_tables(batch, result))
    taken = takeovers(batch.scenario, batch.designs, result.returns)
    if taken:
        extra["takes_over"] = taken
    if result.damaged:
        lines = ", ".join(map(str, result.damaged))
        warn(f"{batch.folder / JOURNAL}: line(s) {lines} damaged, not a finished task: skipped, and their tasks run again")
    lacking = returns_lacking(result)
    if lacking:
        warn(lacking)
    if result.errors:
        tables["errors"] = pd.DataFrame(
            [
                {"point": o.task.point, "design": o.task.design, "replication": o.task.replication, "error": o.error}
                for o in result.errors
            ]
        )
    tables["data_dictionary"] = dictionary(tables)
    write_run(batch.folder, batch.scenario, tables, started=started, extra=extra, workers=result.engines, stage=stage)
    if batch.xlsx:
        write_xlsx(stage / XLSX_FILE, tables)


def _warmup(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], warn: Say, into: Path) -> dict[str, int]:
    """Judge the warm-up on the mean series: a table, a chart, warnings; MSER's truncation day per design."""
    growth = {i: s.demand.growth for i, s in batch.points.items()}
    analysis = warmup.analyse(result.series, batch.scenario.run.warmup_days, growth=growth)
    tables["warmup"] = analysis
    if batch.scenario.backlog is None:  # a run from a backlog starts from a real list: no warm-up to judge
        # a design taking over from another changes at the contract start on purpose: its transient is the point
        steady = analysis[[batch.scenario.designs[d].inherits is None for d in analysis["design"]]]
        for msg in warmup.verdicts(steady):
            warn(msg)
    warmup.plot(analysis, into / "warmup.png")
    return analysis.groupby("design")["mser_truncation_day"].first().to_dict()


def _trace_tables(batch: Batch, result: BatchResult) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    if not result.monthly.empty:
        tables["rtt_monthly"] = per_point(batch, rtt_monthly(result.monthly, batch.scenario))
        if batch.extra.get(SWITCH_OVER):
            tables["switch_over"] = transition.path(result.monthly, batch.extra[SWITCH_OVER])
    for name, saved_as in (("monthly", "monthly"), ("waits", "rtt_waits"), ("flows", "flows")):
        frame = getattr(result, name)
        if name == "monthly":
            frame = monthly_premiums(frame, batch.points)
        if not frame.empty:
            tables[saved_as] = per_point(batch, frame)
    if not result.returns.empty:
        tables["rtt_returns"] = per_point(batch, with_statistics(result.returns))
    return tables


def returns_lacking(result: BatchResult) -> str | None:
    """What to say when some finished replications made no RTT returns (None when all did, or none).

    That happens when a batch is resumed from a journal written before the model made them:
    ``rtt_returns.csv`` and the ``rtt_`` rows of the summary then cover fewer replications.
    """
    if result.returns.empty or result.table.empty:
        return None
    keys = ["point", "design", "replication"]
    made = len(result.returns[keys].drop_duplicates())
    finished = len(result.table[keys].drop_duplicates())
    if made >= finished:
        return None
    return (
        f"RTT returns for {made} of {finished} replications only (the others were journalled before the model "
        "made returns): rtt_returns.csv and the rtt_ rows of summary.csv cover those"
    )


def precision_verdict(batch: Batch, result: BatchResult) -> tuple[bool, str] | None:
    """Whether a precision target was met, and the sentence saying so (None without a target)."""
    if batch.precision is None:
        return None
    goal = f"95% interval of {batch.metric} within ±{batch.precision:.3g} × its mean"
    reached = relative_half_width(result.table, batch.metric, result.returns) if not result.table.empty else math.inf
    got = f"±{reached:.3g} × its mean" if math.isfinite(reached) else "no interval (too few replications, or a zero mean)"
    if result.precision_met:
        return True, f"Precision: {goal}, met with {result.replications} replications (reached {got})."
    return False, (
        f"precision: {goal} NOT met after {result.replications} replications "
        f"(cap {batch.scenario.run.replications}): it reached {got}; raise --reps or relax --precision"
    )


def failures(result: BatchResult) -> str | None:
    """What to say when replications failed (None when none did)."""
    if not result.errors:
        return None
    total = len(result.errors) + len({(r["point"], r["design"], r["replication"]) for r in result.table.to_dict("records")})
    return f"{len(result.errors)} of {total} replications failed; see errors.csv (the rest are saved)"


@contextlib.contextmanager
def claimed(
    folder: Path, given: bool, force: bool, need: int = LEAST_OUTPUT, what: str = "writing its results"
) -> Iterator[None]:
    """Hold ``folder`` for a command that writes into it: the batch's ``--out`` rules
    (:func:`check_out`) and its lock, checked again once the lock is held (another
    process may have finished there meanwhile). A folder this made is removed on failure when
    nothing was moved into it.

    Raises
    ------
    BatchError
        When the folder is refused, or another msksim process holds it.
    SpaceError
        When its file system has not ``need`` bytes free.
    """
    made = not os.path.lexists(folder)
    check_out(folder, given, force)
    check_space(folder, need, what)
    try:
        with locked(folder):
            check_out(folder, given, force)
            yield
    except JournalError as e:
        raise BatchError(str(e)) from None
    finally:
        if made and folder.is_dir() and not any(folder.iterdir()):
            with contextlib.suppress(OSError):
                folder.rmdir()


@contextlib.contextmanager
def held(folder: Path) -> Iterator[None]:
    """Hold an existing results folder's lock (the batch's) while writing into it.

    Raises
    ------
    BatchError
        When another msksim process holds it.
    """
    try:
        with locked(folder):
            yield
    except JournalError as e:
        raise BatchError(str(e)) from None
