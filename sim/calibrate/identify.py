"""Which fitted capacities the returns tell: each moved a step either way from its fitted value,
with the same seeds, and how far that moves the targets.

Waits carried by a delay before the first slot hardly change with capacity above demand, so
a fit can land anywhere over a wide range of slots with the same loss. A planner must know
which capacities the published returns fixed and which they left open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.base.lazy import later
from sim.calibrate.fit import Evaluation, Fitter, Knob

pd = later("pandas")

FACTOR = 1.25
"""Each capacity is tried at its fitted value divided and multiplied by this (20% less, 25% more)."""

TOLD = 0.2
"""A capacity is told by the returns when one of those moves shifts the targets by a fifth of
their tolerances or more (root mean square over the targets: a count by 3%, the share within
18 weeks by a point, the median by 0.4 weeks, all of them). The same seeds give a change of
event order when anything changes: on the bundled areas' fits (2 replications) capacities well
above demand moved them by 0.002 to 0.15; halving one to below its demand, by 0.5 to 3.9."""

UNTOLD = f"{1 - 1 / FACTOR:.0%} less or {FACTOR - 1:.0%} more moves the targets by under {TOLD:g} of their tolerances"
"""Why a capacity is not told by the returns, as the terminal and ``calibrated.toml`` say it."""

CAPACITY = ".slots_per_week"
"""The unknowns checked: every capacity (a staffed clinic's is fitted as its slots too)."""

TERM_KEYS = ["month", "treatment_function", "part", "statistic"]


@dataclass(frozen=True)
class Identified:
    """How far moving one fitted value moves the targets, in units of their tolerances."""

    key: str
    down: float
    """The targets' move (:func:`target_move`) at the value / :data:`FACTOR` (NaN where the
    fit's lower bound leaves no room)."""
    up: float
    """The same at the value x :data:`FACTOR`."""

    @property
    def told(self) -> bool:
        return any(x >= TOLD for x in (self.down, self.up) if not math.isnan(x))


def target_move(terms: pd.DataFrame, base: pd.DataFrame) -> float:
    """How far the targets' errors moved between two evaluations: the root mean square of the
    changes, in tolerance units, over the targets both have."""
    moved = terms.set_index(TERM_KEYS)["error"].sub(base.set_index(TERM_KEYS)["error"])
    return float((moved**2).mean() ** 0.5) if moved.notna().any() else math.nan


def capacities(knobs: list[Knob]) -> list[Knob]:
    """The unknowns :func:`identify` checks."""
    return [k for k in knobs if k.key.endswith(CAPACITY)]


def identify(fitter: Fitter, best: Evaluation) -> dict[str, Identified]:
    """Each capacity unknown of ``fitter`` moved down and up from ``best``, all candidates in
    one batch (two a capacity at most); the knobs' bounds hold (a step past one is not tried)."""
    knobs = capacities(fitter.knobs)
    tries: list[tuple[str, str, dict[str, float]]] = []
    for k in knobs:
        here = best.values[k.key]
        for side, value in (("down", k.clip(here / FACTOR)), ("up", k.clip(here * FACTOR))):
            if not math.isclose(value, here):
                tries.append((k.key, side, {**best.values, k.key: value}))
    moves = {(k.key, side): math.nan for k in knobs for side in ("down", "up")}
    for (key, side, _), e in zip(tries, fitter.evaluate([c for *_, c in tries]), strict=True):
        moves[key, side] = target_move(e.terms, best.terms)
    return {k.key: Identified(k.key, moves[k.key, "down"], moves[k.key, "up"]) for k in knobs}
