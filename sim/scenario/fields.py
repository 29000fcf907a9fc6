"""The types scenario fields share, and the base of every section.

Bounded numbers (probabilities, money, slots, days), names and descriptions, removal rates,
and :class:`Strict`, the pydantic base that makes a section refuse unknown keys and stay
unchanged once read. The sections themselves are modules beside this one; the whole scenario
is :mod:`sim.scenario.schema`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Need = Literal["self_management", "physio", "specialist", "surgical"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Money = Annotated[float, Field(ge=0.0, le=1e12)]
"""Pounds: at most a trillion (the whole NHS budget is under £200 billion)."""
Slots = Annotated[float, Field(ge=0.0, le=1e6)]
"""Slots a week: at most a million (England's whole MSK pathway offers far fewer)."""
Days = Annotated[float, Field(ge=1.0, le=365.0)]
"""A mean number of days a count is drawn for (a wait, a stay): at least one, at most a year."""
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$"
"""A scenario's name: it names the results folder, so letters, digits, ``-`` and ``_`` only."""
MAX_DESCRIPTION = 10_000
ROW_TOLERANCE = 1e-6
WeeklyRate = Annotated[float, Field(ge=0.0, lt=1.0)]


class Strict(BaseModel):
    """Base for scenario sections: unknown keys are errors, objects are immutable, and types
    are strict: ``true`` is not a number and ``"125"`` is text, not 125 (a whole number is
    still a number wherever a fraction may be)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


def _as_tuple(value: Any) -> Any:
    """A TOML array read as a pair: strict types take a tuple only, and TOML has no tuples."""
    return tuple(value) if isinstance(value, list) else value


RemovalRate = WeeklyRate | list[Annotated[tuple[NonNegative, WeeklyRate], BeforeValidator(_as_tuple)]]
"""Share of those still waiting who leave a list each week without being seen: one rate, or
``[[from_week, rate], ...]`` by weeks waited (the first from week 0)."""


def removal_bands(rate: float | list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A removal rate as ``[(from_week, rate), ...]`` whatever form it was given in."""
    return [(0.0, float(rate))] if isinstance(rate, (int, float)) else [(float(w), float(r)) for w, r in rate]


def check_removals(rate: RemovalRate) -> RemovalRate:
    if isinstance(rate, list):
        weeks = [w for w, _ in rate]
        if not weeks or weeks[0] != 0:
            raise ValueError("a removal table starts at week 0: [[0, rate], [from_week, rate], ...]")
        if any(b <= a for a, b in pairwise(weeks)):
            raise ValueError(f"the weeks of a removal table must increase, got {weeks}")
    return rate


def check_row(row: dict[str, float], what: str) -> dict[str, float]:
    total = sum(row.values())
    if abs(total - 1.0) > ROW_TOLERANCE:
        shares = " + ".join(f"{k} {v:g}" for k, v in row.items())
        raise ValueError(f"{what} must sum to 1, got {total:.6g} ({shares})")
    return row
