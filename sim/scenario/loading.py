"""Scenario files: loading, ``--set`` overrides, validation, and designs added to a scenario.

A scenario is TOML, read with the standard library and validated once, centrally, into
frozen pydantic objects (:mod:`sim.scenario.schema`) before any model is built. Every problem is
reported as a :class:`ScenarioError` naming the file, the key path and what is wrong.

The modules beneath this one are layered, each importing only those before it:
:mod:`sim.base.files` (reading input files safely), :mod:`sim.scenario.schema` (the models, a
module per section beside it), :mod:`sim.scenario.values` (key paths, overrides, merging),
:mod:`sim.scenario.uncertainty` and :mod:`sim.scenario.backlog` (distributions, backlog rows),
:mod:`sim.scenario.problems` (how a problem is worded), :mod:`sim.scenario.checks` (checks
across sections), :mod:`sim.scenario.reading` (files and ``extends``) and
:mod:`sim.scenario.based_on` (designs written as changes to another). The names most callers
need are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.rtt.returns import is_return
from sim.scenario.backlog import read_backlog_csv, read_return_backlog
from sim.scenario.based_on import resolve_based_on
from sim.scenario.capacity import CapacityChange
from sim.scenario.checks import check_backlog, check_raw_destinations, cross_check, waiting_places
from sim.scenario.contracts import PrimeContract, TariffShare
from sim.scenario.demand import GP, Condition, Demand, SelfReferral
from sim.scenario.designs import Design
from sim.scenario.fields import Strict
from sim.scenario.finance import Finance, Provider
from sim.scenario.problems import KeyProblem, loc_to_key, pydantic_problem, unknown
from sim.scenario.reading import MAX_DEPTH, depth, read_with_extends, resolve_backlog_file
from sim.scenario.run import Calendar, ReducedPeriod, RunSettings
from sim.scenario.schema import ADVICE, NEEDS, THEATRE, Backlog, Scenario, ScenarioError, onward_row
from sim.scenario.stages import Stage
from sim.scenario.surgery import Surgery
from sim.scenario.uncertainty import check_limits, parse_uncertainty
from sim.scenario.values import (
    MISSING,
    assign,
    assigned,
    deep_merge,
    fix_uncertain,
    key_parts,
    parse_override,
    scenario_to_dict,
    value_at,
)

__all__ = [
    "ADVICE",
    "GP",
    "NEEDS",
    "THEATRE",
    "Backlog",
    "Calendar",
    "CapacityChange",
    "Condition",
    "Demand",
    "Design",
    "Finance",
    "PrimeContract",
    "Provider",
    "ReducedPeriod",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "SelfReferral",
    "Stage",
    "Strict",
    "Surgery",
    "TariffShare",
    "apply_parameters",
    "deep_merge",
    "fix_uncertain",
    "key_parts",
    "load_scenario",
    "onward_row",
    "parse_override",
    "scenario_to_dict",
    "validate_raw",
    "with_values",
]


def load_given(path: Path, sets: list[str] | None, reps: int | None = None, seed: int | None = None,
         years: int | None = None, warn: Callable[[str], None] | None = None, drawn: bool = True) -> Scenario:  # fmt: skip
    """A scenario with ``--set`` values and the ``--reps``, ``--seed``, ``--years`` shortcuts applied.

    ``warn`` is told of each ``--set`` key a design overrides, and (when inputs are ``drawn``)
    of each that replaces an uncertain input.

    Raises
    ------
    ScenarioError
        Naming the file (or option), the key and the problem.
    """
    overrides = list(sets or [])
    options: dict[str, str] = {}
    shortcuts = (("run.replications", "--reps", reps), ("run.seed", "--seed", seed), ("run.years", "--years", years))
    for key, option, value in shortcuts:
        if value is not None:
            overrides.append(f"{key}={value}")
            options[key] = option
    notes: list[str] = []
    try:
        scenario = load_scenario(path, overrides, notes)
    except ScenarioError as e:
        if e.key in options:  # the option given wins over the file and any --set: name it
            raise ScenarioError(f"{path} ({options[e.key]})", e.key, e.problem) from None
        raise
    if not drawn:
        notes = []
    notes += override_notes(scenario, dict.fromkeys(parse_override(item)[0] for item in sets or []), "--set")
    for note in notes if warn is not None else ():
        warn(note)
    return scenario


def overridden(scenario: Scenario, key: str, designs: Iterable[str] | None = None) -> dict[str, str]:
    """The designs (of ``designs``, all by default) in which another key wins over ``key`` (a
    service's or the theatre's, shared or a design's own override), each with the key that
    does: what must change to change that design. Empty for any other key."""
    parts = key_parts(key) or []
    if len(parts) >= 3 and parts[0] == "stages":
        place, leaf, of = parts[1], parts[2], None
    elif len(parts) >= 2 and parts[0] == "surgery":
        place, leaf, of = THEATRE, parts[1], None
    elif len(parts) >= 5 and parts[0] == "designs" and parts[2] == "stage_overrides":
        place, leaf, of = parts[3], parts[4], parts[1]
    else:
        return {}
    out = {}
    for design in designs if designs is not None else scenario.designs:
        if design not in scenario.designs or (of is not None and design != of):
            continue
        if place != THEATRE and place not in scenario.design_stages(design):
            continue
        winner = _source_key(scenario, design, scenario.capacity_key(design, place, leaf), place, leaf)
        if key_parts(winner) != parts[: len(key_parts(winner) or [])]:
            out[design] = winner
    return out


def _source_key(scenario: Scenario, design: str, winner: str, place: str, leaf: str) -> str:
    """Where a design ``based_on`` another has an override only by inheriting it, the base's key:
    the one a user sets to change both."""
    data: dict[str, Any] | None = None
    while (base := scenario.designs[design].based_on) is not None and winner.startswith(f"designs.{design}."):
        theirs = f"designs.{base}." + winner[len(f"designs.{design}.") :]
        if scenario.capacity_key(base, place, leaf) != theirs:
            break
        data = data if data is not None else scenario_to_dict(scenario)
        if value_at(data, winner) != value_at(data, theirs):  # the design sets its own
            break
        design, winner = base, theirs
    return winner


def load_scenario(path: str | Path, overrides: list[str] | None = None, notes: list[str] | None = None) -> Scenario:
    """Read, merge (``extends``), override (``--set``) and validate a scenario file.

    Parameters
    ----------
    path
        The TOML file.
    overrides
        ``KEY=VALUE`` strings; ``VALUE`` is read as TOML, or as a plain string when it is not.
    notes
        If given, a sentence is added for each override that replaces a value the scenario
        draws from ``[uncertainty]``: the value set is used in every replication, undrawn.

    Raises
    ------
    ScenarioError
        Naming the file (or ``--set``), the key path and the problem.
    """
    path = Path(path)
    raw = read_with_extends(path, seen=())
    resolve_backlog_file(raw, path.parent)
    set_keys: set[str] = set()
    for item in overrides or []:
        key, value = parse_override(item)
        assign(raw, key, value)
        set_keys.add(key)
    if set_keys and depth(raw) > MAX_DEPTH:
        raise ScenarioError(f"{path} (--set)", "", f"a key nested more than {MAX_DEPTH} deep: no scenario key is")
    if notes is not None and isinstance(raw.get("uncertainty"), dict):
        table = {k: v for k, v in raw["uncertainty"].items() if isinstance(k, str)}
        for key in sorted(set(table) - set(fix_uncertain(table, set_keys))):
            notes.append(
                f'--set replaces uncertain input "{key}": the value set is used in every replication, '
                f"not drawn from its [uncertainty] distribution"
            )
    if any(k.startswith("backlog") for k in set_keys):
        resolve_backlog_file(raw, Path.cwd())
    raw = resolve_based_on(raw, str(path))
    return validate_raw(raw, str(path), set_keys)


def override_notes(scenario: Scenario, keys: Iterable[str], option: str, designs: Iterable[str] | None = None) -> list[str]:
    """A sentence for each of ``keys`` that a design overrides, naming the design and the key
    that wins there: what a user changing ``keys`` (by ``option``) must change instead."""
    out = []
    for key in keys:
        won = overridden(scenario, key, designs)
        if won:
            names = ", ".join(f"'{d}'" for d in won)
            one, winners = len(won) == 1, list(dict.fromkeys(won.values()))
            out.append(
                f"{option} {key} does not change design{'' if one else 's'} {names}: {', '.join(winners)} "
                f"win{'s' if len(winners) == 1 else ''} there, so {'it runs' if one else 'they run'} as before; set "
                f"{'that key' if len(winners) == 1 else 'those keys'} to change {'it' if one else 'them'}"
            )
    return out


def validate_raw(raw: dict[str, Any], source: str, set_keys: set[str] | None = None, how: str | None = "--set") -> Scenario:
    """Validate an already-merged dictionary, turning every problem into a ScenarioError.

    ``set_keys`` are the key paths given a value by hand (``--set``, a grid point, a draw):
    an error at one of them names it (``how``, e.g. ``--set``), and a value fixed by hand is
    no longer uncertain, so its ``[uncertainty]`` entry is dropped.
    """
    set_keys = set_keys or set()
    raw = into_structures(raw, set_keys)
    if set_keys and isinstance(raw.get("uncertainty"), dict):
        raw = {**raw, "uncertainty": fix_uncertain(raw["uncertainty"], set_keys)}
    try:
        check_raw_destinations(raw)
        scenario = Scenario.model_validate(raw)
        cross_check(scenario)  # here, not in a validator, so the error keeps its key path
        if scenario.backlog is not None:
            scenario = _with_backlog(scenario)
        if scenario.uncertainty:
            try:
                dists = parse_uncertainty(scenario.uncertainty, scenario, source)
                check_limits(dists, scenario, source, lambda s, values: with_values(s, values, source, how=None))
            except ScenarioError as e:
                raise ScenarioError(_source_for(e.key, source, set_keys, how), e.key, e.problem) from None
        return scenario
    except ValidationError as e:
        err = e.errors()[0]
        key = loc_to_key(err["loc"])
        raise ScenarioError(_source_for(key, source, set_keys, how), key, pydantic_problem(err)) from None
    except KeyProblem as e:
        raise ScenarioError(_source_for(e.key, source, set_keys, how), e.key, str(e)) from None


def into_structures(raw: dict[str, Any], set_keys: set[str]) -> dict[str, Any]:
    """A design's override set by hand (``designs.D.stage_overrides.S.K``, a draw, a grid point)
    that its structures set too is set in each of them: the value set is the value simulated,
    whichever structure runs."""
    for key in set_keys:
        parts = key_parts(key) or key.split(".")
        if len(parts) < 5 or parts[0] != "designs" or parts[2] != "stage_overrides":
            continue
        designs = raw.get("designs")
        design = designs.get(parts[1]) if isinstance(designs, dict) else None
        structures = design.get("structures") if isinstance(design, dict) else None
        if not isinstance(structures, dict):
            continue
        value = value_at(raw, ".".join(parts))
        for name, structure in structures.items():
            table = structure.get("stage_overrides", {}).get(parts[3]) if isinstance(structure, dict) else None
            if isinstance(table, dict) and parts[4] in table and value is not MISSING:
                assign(raw, ".".join(["designs", parts[1], "structures", name, "stage_overrides", *parts[3:]]), value)
    return raw


def with_values(scenario: Scenario, values: dict[str, Any], source: str, how: str | None = "--set") -> Scenario:
    """The scenario with values set by key path, validated again (grid points, drawn inputs)."""
    return validate_raw(assigned(scenario, values), source, set(values), how)


def apply_parameters(scenario: Scenario, drawn: dict[str, Any]) -> Scenario:
    """The scenario with one replication's drawn values in place, validated again."""
    return with_values(scenario, drawn, f"{scenario.name} [uncertainty]", how=None)


def with_switch_over(s: Scenario, new: str, old: str, source: str = "--switch-over") -> tuple[Scenario, str]:
    """The scenario with one more design: ``new`` taking over from ``old`` (``inherits``).

    It is named ``<new>_from_<old>``. Its inputs are drawn with ``new``'s: every
    ``[uncertainty]`` entry on ``designs.<new>.…`` also sets the same key of the copy, so in a
    replication the two run on the same drawn values and differ only by the start.

    Raises
    ------
    ScenarioError
        When either design is unknown, they are the same, or the name is taken.
    """
    for name in (new, old):
        if name not in s.designs:
            raise ScenarioError(source, f"designs.{name}", unknown(name, set(s.designs), "design"))
    name = f"{new}_from_{old}"
    if new == old or name in s.designs:
        problem = "a design cannot take over from itself" if new == old else f"a design named '{name}' exists already"
        raise ScenarioError(source, f"designs.{name}", problem)
    return with_design_copy(s, name, s.designs[new].model_copy(update={"inherits": old}), new, source), name


def with_design_copy(s: Scenario, name: str, design: Design, base: str, source: str) -> Scenario:
    """The scenario with one more design, ``name``: ``design``, a changed copy of ``base``, its
    inputs drawn with ``base``'s (every ``[uncertainty]`` entry on ``designs.<base>.…`` also sets
    the same key of the copy), so in a replication the two differ only by the change."""
    prefix, copy = f"designs.{base}.", f"designs.{name}."
    uncertainty = {}
    for key, entry in s.uncertainty.items():
        targets = [key, *entry.get("also", [])]
        copies = [copy + t[len(prefix) :] for t in targets if t.startswith(prefix)]
        uncertainty[key] = {**entry, "also": [*entry.get("also", []), *copies]} if copies else entry
    out = s.model_copy(update={"designs": {**s.designs, name: design}, "uncertainty": uncertainty})
    try:
        cross_check(out)
    except KeyProblem as e:
        raise ScenarioError(source, e.key, str(e)) from None
    return out


def with_structure_designs(
    s: Scenario, designs: list[str], source: str = "structures"
) -> tuple[Scenario, dict[str, tuple[str, str]]]:
    """The scenario with a design for each structure of ``designs`` other than the one they run:
    ``<design>_<structure>``, on the same patients and drawn inputs. Returns it and, per design
    added, the design and structure it runs.

    Raises
    ------
    ScenarioError
        When a name is taken by a design of the scenario's own.
    """
    added: dict[str, tuple[str, str]] = {}
    for d in designs:
        cfg = s.designs[d]
        for n, structure in cfg.structures.items():
            if n == cfg.active_structure:
                continue
            name = f"{d}_{n}"
            if name in s.designs:
                raise ScenarioError(source, f"designs.{name}", f"a design of that name exists already: the {n} structure "
                                    f"of '{d}' runs under it beside '{d}'; rename it")  # fmt: skip
            copy = cfg.model_copy(update={"structure": n, "fitted_to": structure.fitted_to or cfg.fitted_to})
            s = with_design_copy(s, name, copy, d, source)
            added[name] = (d, n)
    return s, added


def _with_backlog(s: Scenario) -> Scenario:
    """Check the backlog against the scenario and read its file once."""
    check_backlog(s)
    b = s.backlog
    rows: list[dict[str, Any]] = []
    pathways: list[dict[str, Any]] = []
    if b.file and is_return(b.file):
        pathways = read_return_backlog(Path(b.file), s)
    elif b.file:
        rows = read_backlog_csv(Path(b.file), s.run.start_date, waiting_places(s), set(s.demand.conditions), set(s.designs))
    return s.model_copy(update={"backlog": b.model_copy(update={"patients": rows, "pathways": pathways})})


def _source_for(key: str, source: str, set_keys: set[str], how: str | None) -> str:
    """The source named in an error: the file, or the file and the hand-set key it came from."""
    if how is None:
        return source
    for k in set_keys:
        if key == k or key.startswith((k + ".", k + "[")) or k.startswith(key + "."):
            return f"{source} ({how} {k})"
    return source
