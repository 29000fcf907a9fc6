"""Scaling a scenario to another population: demand, capacity and the sums paid move together.

A smaller area has fewer referrals, fewer clinic slots and theatre sessions, fewer beds and
smaller contracts; its prices per unit, shares, rates and delays are those of the larger one.
:func:`scale` finds every value of the first kind in a resolved scenario and multiplies it
by ``population / scenario.population``, so each service's load (appointments asked for over
slots offered) stays as it was. :func:`scaled_toml` writes the result as a scenario that
``extends`` the original and sets only the scaled values, each with what it was.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.analysis.diagnostics import expected_loads
from sim.runs.journal import JournalError
from sim.runs.results import write_atomic
from sim.runs.transaction import file_locked
from sim.scenario.fields import MAX_DESCRIPTION, NAME_PATTERN
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario, ScenarioError
from sim.scenario.values import key_parts, scenario_to_dict, toml_key, toml_value

Path_ = tuple[str | int, ...]

SCALED_PARAMETERS = ("low", "mode", "high", "mean", "sd")
"""Parameters of an absolute distribution given in the units of its value (beta's and
dirichlet's are shares, which no scaled value is)."""


@dataclass(frozen=True)
class Scaled:
    """One value scaled: where, what it was and what it is now."""

    path: Path_
    was: float
    now: float
    exact: float
    """The product before rounding (a whole number of beds or patients is rounded)."""

    @property
    def key(self) -> str:
        return _dotted(self.path)


@dataclass(frozen=True)
class Scaling:
    """A scenario scaled to another population."""

    scenario: Scenario
    population: int
    values: list[Scaled]
    uncertainty: dict[str, dict[str, Any]]
    """The distributions of scaled values, scaled (absolute) or as they were (relative)."""
    name: str
    notes: list[str]
    """What was not scaled and why (a backlog file, say)."""
    description: str = ""
    """The scaled scenario's own description: what it was scaled from, and by how much."""

    @property
    def factor(self) -> float:
        return self.population / self.scenario.population


def _extensive(d: dict[str, Any]) -> Iterator[Path_]:
    """Every value that grows with the population: its path in the resolved scenario (how it is
    rounded is :func:`rounded`'s, by its key)."""
    yield ("demand", "referrals_per_year")
    yield ("demand", "self_referral", "per_year")
    yield ("demand", "outside_contract", "per_year")
    places: list[tuple[Path_, dict[str, Any]]] = [(("stages", n), st) for n, st in d["stages"].items()]
    places.append((("surgery",), d["surgery"]))
    for design, cfg in d["designs"].items():
        places += [(("designs", design, "stage_overrides", p), o) for p, o in cfg["stage_overrides"].items()]
        for name, structure in (cfg.get("structures") or {}).items():
            places += [(("designs", design, "structures", name, "stage_overrides", p), o)
                       for p, o in structure["stage_overrides"].items()]  # fmt: skip
        if cfg.get("capacity_basis"):  # the demand its capacities are for grows with the population too
            yield ("designs", design, "capacity_basis", "referrals_per_year")
    for where, cfg in places:
        if "slots_per_week" in cfg:
            yield (*where, "slots_per_week")
        for i, _ in enumerate(cfg.get("capacity_changes") or []):
            yield (*where, "capacity_changes", i, "slots_per_week")
        for i, _ in enumerate(cfg.get("staff") or []):  # scaled with the slots they give, so the two agree
            yield (*where, "staff", i, "wte")
        if "beds" in cfg:
            yield (*where, "beds")
        policy = cfg.get("capacity_policy") or {}
        if policy.get("kind") == "managed":  # a bigger area's list and the sessions it may add are bigger
            if policy.get("measure", "list") == "list":
                yield (*where, "capacity_policy", "add_at")
                yield (*where, "capacity_policy", "remove_at")
            yield (*where, "capacity_policy", "max_sessions")
    for provider in d["finance"]["providers"]:
        yield ("finance", "providers", provider, "block_gbp")
        yield ("finance", "providers", provider, "overheads_gbp")
    contract = d["finance"].get("prime_contract")
    if contract:
        # a price per head grows with the population by itself; a population set for it must be scaled
        for k in ("year1_value_gbp", "capitated_population", "overheads_gbp", "mobilisation_gbp"):
            if contract.get(k) is not None:
                yield ("finance", "prime_contract", k)
    for name, design in d["designs"].items():  # a bigger area's mobilisation costs more
        if (design.get("mobilisation") or {}).get("cost_gbp") is not None:
            yield ("designs", name, "mobilisation", "cost_gbp")
    if d["finance"].get("tariff_share"):
        yield ("finance", "tariff_share", "overheads_gbp")
    backlog = d.get("backlog") or {}
    for stage, bands in (backlog.get("stages") or {}).items():
        for band in bands:
            yield ("backlog", "stages", stage, band)


PLACES = {"slots_per_week": 1, "wte": 2}
"""Decimal places a scaled value is written to, by its key: slots a week to 0.1, staff to 0.01
WTE; every other value (referrals, patients on a list, beds, sessions, sums in pounds) whole."""

FIGURES = 3
"""Significant figures kept however small a value: 2.6 slots a week stays 2.61, not 2.6."""

LOAD_TOLERANCE = 0.01
"""How far the rounding may move a service's expected load (appointments asked for over slots
offered) before ``scale`` warns: the load is what the scaled area is for."""

ROUNDING = (
    "rounded: referrals, patients, beds and sessions to whole numbers, slots to 0.1 a week, staff to "
    f"0.01 WTE (at least {FIGURES} significant figures), sums to whole pounds; each value's comment in the file "
    "gives the product before rounding"
)


def rounded(key: str, exact: float) -> int | float:
    """``exact`` to the places :data:`PLACES` gives its key (at least :data:`FIGURES` significant
    figures): a whole number as an int."""
    places = PLACES.get(key, 0)
    if exact and places:
        places = max(places, FIGURES - 1 - math.floor(math.log10(abs(exact))))
    return round(exact, places) if places else round(exact)


LISTS = (("capacity_changes", "slots_per_week"), ("staff", "wte"))
"""Lists whose items hold a scaled value: (the list's key, the value's key in each item)."""


def _get(d: Any, path: Path_) -> Any:
    for p in path:
        d = d[p]
    return d


def _dotted(path: Path_) -> str:
    return ".".join(toml_key(str(p)) for p in path)


def scale(scenario: Scenario, population: int, name: str | None = None) -> Scaling:
    """The values of ``scenario`` that grow with its population, scaled to ``population``.

    Raises
    ------
    ScenarioError
        For a population or name out of bounds, or a distribution that ties a scaled value
        to one that is not scaled.
    """
    if not 1 <= population <= 100_000_000:
        raise ScenarioError("--population", "", f"{population}: expected 1 to 100,000,000 people")
    new_name = name or f"{scenario.name}_{population}"
    if not re.fullmatch(NAME_PATTERN, new_name):
        raise ScenarioError(
            "--name", "", f"{new_name!r}: letters, digits, '-' and '_', at most 80, starting with a letter or digit"
        )
    d = scenario_to_dict(scenario)
    f = population / scenario.population
    values = []
    for path in _extensive(d):
        was = _get(d, path)
        if not was:  # nothing to scale: left out of the file, which stays short
            continue
        exact = was * population / scenario.population  # multiplied first: 1,150 x 150,000 / 250,000 is 690 exactly
        now = rounded(str(path[-1]), exact)
        if path[-1] == "max_sessions":  # a managed policy adds one session at least
            now = max(now, 1)
        values.append(Scaled(path, was, now, float(exact)))
    values = _staffed(d, values)
    scaled_keys = {v.key for v in values}
    uncertainty = {}
    for key, entry in scenario.uncertainty.items():
        parts = key_parts(key) or key.split(".")
        dotted = _dotted(tuple(parts))
        targets = [dotted, *(_dotted(tuple(key_parts(a) or a.split("."))) for a in entry.get("also", []))]
        hits = [t in scaled_keys for t in targets]
        if not any(hits):
            continue
        if not all(hits):
            raise ScenarioError(
                "uncertainty", key, "its distribution gives one draw to values that scale with the population "
                "and values that do not; give them distributions of their own before scaling"
            )  # fmt: skip
        if entry.get("relative"):
            uncertainty[key] = dict(entry)  # multiples of the value: they move with it
        else:  # in the value's units: scaled, and rounded as the value is
            field = str(parts[-1])
            uncertainty[key] = {
                k: (rounded(field, v * f) if k in SCALED_PARAMETERS and isinstance(v, int | float) else v)
                for k, v in entry.items()
            }
    notes = []
    backlog = d.get("backlog") or {}
    if backlog.get("file"):
        notes.append(
            f"backlog.file: the {len(scenario.backlog.patients) or len(scenario.backlog.pathways)} patients "
            "or pathways it lists are not scaled; the scaled area starts from the same list"
        )
    description = (
        f"{scenario.name} scaled from {scenario.population:,} to {population:,} people by msksim scale: referrals, "
        f"capacity and the sums paid x{f:.4g}, rounded; everything else as in {scenario.name}"
    )[:MAX_DESCRIPTION]
    return Scaling(scenario, population, values, uncertainty, new_name, notes, description)


def _staffed(d: dict[str, Any], values: list[Scaled]) -> list[Scaled]:
    """A staffed service's slots a week are what its rounded staff give (the scenario requires
    the two to agree), not the slots rounded on their own."""
    wte = {v.path: v.now for v in values if v.path[-1] == "wte"}
    out = []
    for v in values:
        where = v.path[:-1]
        staff = _get(d, where).get("staff") if v.path[-1] == "slots_per_week" and "capacity_changes" not in v.path else None
        if staff:
            now = sum(
                wte.get((*where, "staff", i, "wte"), g["wte"]) * g["sessions_per_wte"] * g["slots_per_session"]
                for i, g in enumerate(staff)
            )
            v = Scaled(v.path, v.was, round(now, 6), v.exact)  # written too: a base may set them beside its staff
        out.append(v)
    return out


def scaled_toml(scaling: Scaling, original: Path, out: Path) -> str:
    """The scaled scenario as TOML: ``extends`` the original and sets only what was scaled."""
    s, f = scaling.scenario, scaling.factor
    lines = [
        f"# {s.name} scaled from a population of {s.population:,} to {scaling.population:,} by `msksim scale`",
        f"# on {datetime.now(UTC):%Y-%m-%d}: referrals, slots, beds and the sums paid (block, contract value,",
        f"# overheads) are x{f:.6g}; prices per unit, shares, rates and days are those of the original.",
        f'extends = "{Path(os.path.relpath(original.resolve(), out.parent.resolve())).as_posix()}"',
        f'name = "{scaling.name}"',
        f"description = {toml_value(scaling.description)}",
        f"population = {scaling.population}",
        f"# {ROUNDING}",
    ]
    lines += [f"# {n}" for n in scaling.notes]
    tables: dict[str, list[str]] = {}
    for v in scaling.values:
        listed = next((k for k, _ in LISTS if k in v.path), None)
        if listed is not None:  # a list replaces the original's whole: written whole, once
            field = dict(LISTS)[listed]
            where = v.path[: v.path.index(listed)]
            if v.path[len(where) + 1] != 0:
                continue
            items = _get(scenario_to_dict(s), (*where, listed))
            mine = {w.path[len(where) + 1]: w.now for w in scaling.values if w.path[: len(where) + 1] == (*where, listed)}
            scaled = [{**c, field: mine[i]} for i, c in enumerate(items)]
            was = ", ".join(toml_value(c[field]) for c in items)
            tables.setdefault(_dotted(where), []).append(f"{listed} = {toml_value(scaled)}  # {field} were {was}")
            continue
        exact = f" (x{f:.6g} = {v.exact:.6g}, rounded)" if v.now != v.exact else ""
        tables.setdefault(_dotted(v.path[:-1]), []).append(
            f"{toml_key(str(v.path[-1]))} = {toml_value(v.now)}  # was {toml_value(v.was)}{exact}"
        )
    for table, rows in tables.items():
        lines += ["", f"[{table}]", *rows]
    for key, entry in scaling.uncertainty.items():
        how = "relative: unchanged" if entry.get("relative") else f"x{f:.6g}"
        lines += ["", f"[uncertainty.{toml_key(key)}]  # {how}"]
        lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def write(scaling: Scaling, original: Path, out: Path, force: bool = False) -> Scenario:
    """Write the scaled scenario to ``out``, whole or not at all, once it loads and validates.

    Raises
    ------
    ScenarioError
        When ``out`` exists (without ``force``) or is a folder.
    """
    if out.is_dir():
        raise ScenarioError(str(out), "--out", "is a folder; give the scenario file to write, e.g. small.toml")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with file_locked(out):  # a second scale to the same file is refused, not mixed with this one
            return _write(scaling, original, out, force)
    except JournalError:
        raise ScenarioError(str(out), "--out", "another msksim process is writing it; wait for it to finish") from None


def _write(scaling: Scaling, original: Path, out: Path, force: bool) -> Scenario:
    if (out.exists() or out.is_symlink()) and not force:
        raise ScenarioError(str(out), "--out", "exists; give another name, or --force to replace it")
    if out.resolve() == original.resolve():
        raise ScenarioError(str(out), "--out", "is the scenario being scaled; give another name")
    text = scaled_toml(scaling, original, out)
    trial = out.parent / f".{out.name}.check.toml"  # beside the output, so that ``extends`` resolves as it will
    try:
        write_atomic(trial, text)
        scaled = load_scenario(trial)
    except OSError as e:  # named by the file asked for, not the trial beside it
        raise OSError(e.errno, e.strerror, str(out)) from None
    finally:
        trial.unlink(missing_ok=True)
    write_atomic(out, text)
    return scaled


def loads(s: Scenario) -> dict[tuple[str, str], float]:
    """Each design's expected load on each service and the theatre in the first contract year, at
    the capacity set (a managed policy's most sessions are whole: rounded, they move its reach)."""
    s = s.model_copy(update={"run": s.run.model_copy(update={"capacity_policies": "fixed"})})
    return {(design, stage): by_year[0] for design in s.designs for stage, by_year in expected_loads(s, design).items()}
