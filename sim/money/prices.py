"""Money across the years of a contract: how prices move after year 1, and what later money is worth now.

The scenario's tariffs, block sums, overheads and GP costs are year-1 prices. After year 1
each provider's prices follow either the national tariff or its own costs (its
``prices_follow``, with the rates of ``finance.inflation``); the discount rate then turns a
year's money into its present value, year 1 undiscounted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np

from sim.base.lazy import later
from sim.scenario.finance import Finance

pd = later("pandas")

Years: TypeAlias = "pd.Series | np.ndarray"


def _per_year(years: Years, index_of: Callable[[int], float]) -> np.ndarray:
    values = np.asarray(years, dtype=int)
    table = {int(y): float(index_of(int(y))) for y in np.unique(values)}
    return np.array([table[int(y)] for y in values], dtype=float)


def cost_index(finance: Finance, years: Years) -> np.ndarray:
    """Costs in each contract year relative to year 1 (pay and non-pay inflation)."""
    return _per_year(years, finance.inflation.cost_index)


def tariff_index(finance: Finance, years: Years) -> np.ndarray:
    """National tariff prices in each contract year relative to year 1."""
    return _per_year(years, finance.inflation.tariff_index)


def price_index(finance: Finance, provider: str, years: Years) -> np.ndarray:
    """A provider's prices in each contract year relative to year 1, as its ``prices_follow`` says."""
    terms = finance.providers[provider]
    return cost_index(finance, years) if terms.prices_follow == "costs" else tariff_index(finance, years)


def discount_factor(finance: Finance, years: Years) -> np.ndarray:
    """What a pound in each contract year is worth in year 1: ``(1 + rate) ** -(year - 1)``."""
    return (1.0 + finance.discount_rate) ** -(np.asarray(years, dtype=float) - 1.0)
