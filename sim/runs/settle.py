"""A simulating command's batch settled from its options, or reopened to resume, before anything
is written: every input is checked here, and bad input raises :class:`~sim.runs.batch.BatchError`
(or :class:`~sim.scenario.loading.ScenarioError`) naming the option or file."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.analysis import measures, plausibility
from sim.analysis.switchover_months import ALSO, SWITCH_OVER
from sim.analysis.takeover import TAKES_OVER
from sim.base.files import FileProblem, read_text
from sim.money.amounts import parse_money, parse_price
from sim.runs.batch import STRUCTURES, Batch, BatchError, Say, check_memory, metric_now
from sim.runs.folders import check_out
from sim.runs.journal import JOURNAL
from sim.runs.options import BatchOptions
from sim.runs.results import BATCH_FILE, SCENARIO_FILE, run_folder, wrong_setting
from sim.scenario.columns import current_name
from sim.scenario.loading import load_given, override_notes, with_structure_designs, with_switch_over
from sim.scenario.schema import Scenario, ScenarioError
from sim.scenario.values import parse_override


@dataclass
class Request:
    """What a simulating command asks of its batch, beside the options every one shares.

    With ``switch_over`` (two designs: old, new), a third design runs the new one taking
    over from the old at the contract start; the batch's designs are then old, the
    switch-over and new (its steady state), and the differences are the switch-over's.

    With ``takes_over`` (a bid: one design), the design runs taking over the lists of the design
    named, beside itself in its steady state on the same patients: the batch's designs are the
    takeover (``<design>_from_<takes_over>``, priced) and the design (what the takeover adds is
    paired against it, :mod:`sim.analysis.takeover`).
    """

    kind: str
    designs: list[str]
    precision: float | None = None
    metric: str = "rtt_incomplete_within_18w_pct"
    grid: dict[str, list[Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    switch_over: bool = False
    also: list[str] = field(default_factory=list)
    takes_over: str | None = None


def prepare(request: Request, path: Path | None, options: BatchOptions, warn: Say) -> Batch:
    """Validate all input, and either settle a new batch or reopen one to resume.

    Raises
    ------
    BatchError, ScenarioError
        On any bad input; nothing has been written then.
    """
    kind = request.kind
    if options.resume is not None:
        # a bid's --takes-over is checked against the batch's own by the command
        given = [("--precision", request.precision), ("--also", request.also), ("--switch-over", request.switch_over),
                 ("--grid", request.grid)]  # fmt: skip
        refuse_on_resume(options.resume, given)
        return _reopen(kind, options.resume, options, warn, path)
    if path is None:
        raise BatchError(f"{kind}: give a scenario file (e.g. scenarios/bedfordshire.toml), or --resume DIR")
    designs = request.designs
    twice = next((d for i, d in enumerate(designs) if d in designs[:i]), None)
    if twice is not None:
        named = "--baseline and --design both name" if kind == "compare" else "--designs names twice"
        raise BatchError(f"{named} the design '{twice}': a design is compared with another, not itself")
    scenario, designs, grid, extra = _designs(request, _load(path, options, warn), path, warn)
    metric = metric_now(request.metric, warn)
    if request.precision is not None or kind == "sweep":  # what the precision or the sweep's verdict reads
        try:
            measures.check(metric, scenario, designs)
        except measures.MeasureError as e:
            raise BatchError(str(e)) from None
    folder = run_folder(scenario, options.out)
    batch = Batch(kind, scenario, designs, folder, not options.no_uncertainty, request.precision, metric, grid, extra,
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


def _load(path: Path, options: BatchOptions, warn: Say) -> Scenario:
    """The scenario with the options' values set; ``--commissioner`` or ``--month`` without
    ``--backlog`` named as such."""
    try:
        return load_given(path, options.overrides(), options.reps, options.seed, options.years, warn,
                          drawn=not options.no_uncertainty)  # fmt: skip
    except ScenarioError as e:
        chosen = options.commissioner is not None or options.month is not None
        if chosen and options.backlog is None and e.key in ("backlog.commissioner", "backlog.month"):
            raise BatchError("--commissioner and --month choose an RTT return to start from: give --backlog FILE too") from None
        raise


def _designs(
    request: Request, scenario: Scenario, path: Path, warn: Say
) -> tuple[Scenario, list[str], dict[str, list[Any]], dict[str, Any]]:
    """The scenario, designs, grid and ``extra`` settings of a new batch: the designs named, those
    run ``also``, each capacity structure the returns allow, a takeover or a switch-over added."""
    kind, designs, grid, extra = request.kind, request.designs, request.grid, request.extra
    also, switch_over = request.also, request.switch_over
    if also:
        if switch_over:
            raise BatchError("--also and --switch-over: run the switch-over and the extra designs apart")
        for d in also:
            if d in designs:
                raise BatchError(f"--also {d}: already compared; name a third design")
        designs = [*designs, *dict.fromkeys(also)]
        extra = {**extra, ALSO: list(dict.fromkeys(also))}
    for d in designs:
        if d not in scenario.designs:
            raise BatchError(f"{path}: designs.{d}: no such design; known: {', '.join(scenario.designs)}")
    if kind in ("run", "bid"):
        _other_structures(scenario, designs, kind, warn)
    for note in override_notes(scenario, grid, "--grid", designs):
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
            extra = {**extra, ALSO: [*extra.get(ALSO, []), *added],
                     STRUCTURES: {name: list(of) for name, of in added.items()}}  # fmt: skip
    if request.takes_over is not None:
        scenario, designs, extra = _with_takeover(scenario, designs[0], request.takes_over, extra)
    if switch_over:
        scenario, name = with_switch_over(scenario, designs[1], designs[0])
        designs = [designs[0], name, designs[1]]
        extra = {**extra, SWITCH_OVER: {"from": designs[0], "design": name, "steady": designs[2]}}
        if scenario.run.warmup_days == 0 and scenario.backlog is None:
            warn(f"--switch-over: run.warmup_days is 0 and there is no backlog: '{name}' takes over empty lists")
    return scenario, designs, grid, extra


def _other_structures(scenario: Scenario, designs: list[str], kind: str, warn: Say) -> None:
    """Say of each design run that the returns allow other capacity structures than the one it runs."""
    for d in designs:
        cfg = scenario.designs[d]
        others = [n for n in cfg.structures if n != cfg.active_structure]
        if others:
            again = "`compare` runs each, or" if kind == "run" else "its price under another may differ: run again with"
            warn(f"design '{d}' runs its {cfg.active_structure} structure; the returns allow {', '.join(others)} as "
                 f"well: {again} --set designs.{d}.structure=\"{others[0]}\"")  # fmt: skip


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


@dataclass
class BidTerms:
    """A bid's price and terms as ``bid`` reads them: ``--bid`` (a sum, or a rate per head),
    ``--reserve`` and ``--max-loss-probability``."""

    price: str | None
    """``--bid`` as given (None: the scenario's price)."""
    amount: float | None
    per_head: bool
    reserve: str | None
    """``--reserve`` as given."""
    held: float
    """The reserve read (0 without one)."""
    max_loss_probability: float

    def extra(self) -> dict[str, Any]:
        """The batch's ``extra`` settings the terms make."""
        return {
            "bid_year1_gbp": None if self.per_head else self.amount,
            "bid_per_head_gbp": self.amount if self.per_head else None,
            "max_loss_probability": self.max_loss_probability,
            "reserve_gbp": self.held,
        }


def bid_terms(price: str | None, reserve: str | None, max_loss_probability: float) -> BidTerms:
    """Read the bid's price and reserve.

    Raises
    ------
    BatchError
        Naming ``--bid`` or ``--reserve`` when it is not an amount of money.
    """
    try:
        amount, per_head = parse_price(price) if price is not None else (None, False)
    except ValueError as e:
        raise BatchError(f"--bid: {e}") from None
    try:
        held = parse_money(reserve, zero=True) if reserve is not None else 0.0
    except ValueError as e:
        raise BatchError(f"--reserve: {e}") from None
    return BidTerms(price, amount, per_head, reserve, held, max_loss_probability)


def refuse_bid_changes(batch: Batch, terms: BidTerms, takes_over: str | None) -> None:
    """On resume, refuse a price or terms other than the batch's own: the same again is harmless.

    Raises
    ------
    BatchError
        Naming the first option that would change the batch.
    """
    was = batch.extra.get(TAKES_OVER) or {}
    extra = terms.extra()
    changed = [("--bid", terms.price is not None and (batch.extra.get("bid_year1_gbp"), batch.extra.get("bid_per_head_gbp"))
                != (extra["bid_year1_gbp"], extra["bid_per_head_gbp"])),
               ("--reserve", terms.reserve is not None and batch.extra.get("reserve_gbp", 0.0) != terms.held),
               ("--takes-over", takes_over is not None and was.get("from") != takes_over)]  # fmt: skip
    refuse_on_resume(batch.folder, changed)
