"""The ``[run]`` and ``[calendar]`` sections: how long, how often and from which seed, and
working time (bank holidays, seasonal capacity)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal

from pydantic import Field, field_validator

from sim.scenario.fields import Strict

EARLIEST_START: Final = date(1990, 1, 1)
LATEST_START: Final = date(2100, 12, 31)
"""The range ``run.start_date`` may fall in: the calendar (bank holidays, contract years) and the
dates of the tables (to 2262, pandas' last day) hold for a run starting there, with its warm-up
before and its years after."""
MAX_YEARS: Final = 50
MAX_WARMUP_DAYS: Final = 20 * 365
"""Twenty years of warm-up: a list that has not settled in twenty years will not settle."""
MAX_REPLICATIONS: Final = 100_000
"""Far more than a bid needs (hundreds): a count above it is a slip, not a plan."""
MAX_SEED: Final = 2**63 - 1
"""The largest integer a scenario file (TOML) can hold: the seed is written back into the results."""


class RunSettings(Strict):
    """How long, how often and from which seed."""

    years: int = Field(5, ge=1, le=MAX_YEARS)
    warmup_days: int = Field(365, ge=0, le=MAX_WARMUP_DAYS)
    start_date: date = date(2014, 4, 1)
    seed: int = Field(20140401, ge=0, le=MAX_SEED)
    replications: int = Field(10, ge=1, le=MAX_REPLICATIONS)
    capacity_policies: Literal["as_set", "fixed"] = "as_set"
    """``fixed``: every service and theatre at the capacity the file sets, whatever its
    ``capacity_policy`` says (a line of ``--set`` to see what the policies do)."""

    @field_validator("start_date")
    @classmethod
    def _start_in_range(cls, v: date) -> date:
        if not EARLIEST_START <= v <= LATEST_START:
            raise ValueError(f"must fall between {EARLIEST_START} and {LATEST_START} (got {v})")
        return v


class ReducedPeriod(Strict):
    """A stretch of each year with less capacity (summer leave, Christmas), as MM-DD dates."""

    start: Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    end: Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    factor: Annotated[float, Field(ge=0.0, le=2.0)]
    stages: list[str] = Field(default_factory=list)
    """Services it applies to (and "theatre"); empty means all."""

    @field_validator("start", "end")
    @classmethod
    def _real_day(cls, v: str) -> str:
        month, day = (int(x) for x in v.split("-"))
        try:
            date(2024, month, day)  # a leap year, so 02-29 is a day
        except ValueError:
            raise ValueError(f"{v} is not a day of the year") from None
        return v


class Calendar(Strict):
    """Working time: bank holidays and seasonal capacity."""

    bank_holidays: Literal["england", "none"] = "england"
    reduced: list[ReducedPeriod] = Field(default_factory=list)
