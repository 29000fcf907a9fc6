"""What capacity costs the providers, and what of it their income leaves uncovered.

A service's cost to its provider is fixed (its staff, and each slot offered whether used or
not) plus variable (each appointment attended, each operation); a provider may add fixed
overheads. All are year-1 prices, moved by pay and non-pay inflation
(:func:`sim.prices.cost_index`). Slots offered come from the capacity calendar, so bank
holidays and reduced periods offer fewer. Only providers whose services are given costs are
costed: a provider with none has no cost columns, never a cost of zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.capacity import year_capacity
from sim.prices import cost_index
from sim.schema import Scenario, Surgery


@dataclass(frozen=True)
class ProviderCost:
    """One provider's costs in each result row: ``fixed`` (staff, slots offered, overheads)
    and ``variable`` (the care given)."""

    fixed: np.ndarray
    variable: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.fixed + self.variable


def slots_offered(scenario: Scenario, design: str, element: str, year: int) -> float:
    """Slots a service (or ``theatre``) offers in a contract year: the calendar's days summed."""
    return float(sum(year_capacity(scenario, element, design, year)))


def provider_costs(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, ProviderCost]:
    """Each costed provider's fixed and variable costs in each row of ``design``."""
    years = rows["year"].to_numpy(dtype=int)
    index = cost_index(scenario.finance, years)
    out: dict[str, ProviderCost] = {}
    for provider in scenario.costed_providers(design):
        fixed = np.full(len(rows), scenario.finance.providers[provider].overheads_gbp)
        variable = np.zeros(len(rows))
        for name, service in scenario.design_services(design).items():
            if service.provider != provider:
                continue
            staff = sum(s.wte * s.cost_per_wte_gbp for s in service.staff)
            by_year = {int(y): slots_offered(scenario, design, name, int(y)) for y in np.unique(years)}
            offered = np.array([by_year[int(y)] for y in years])
            fixed = fixed + staff + offered * service.cost_per_slot_gbp
            if isinstance(service, Surgery):
                # operations the overflow provider did are not this theatre's
                used = rows["surgeries_daycase"] + rows["surgeries_inpatient"]
                used = used - rows.get("overflow_surgeries_daycase", 0) - rows.get("overflow_surgeries_inpatient", 0)
                used = used + rows.get("procedures", 0) * service.procedure_slots  # its share of a day case's time
                variable = variable + used.to_numpy(dtype=float) * service.cost_per_operation_gbp
            else:
                used = rows[f"{name}_first"] + rows[f"{name}_followup"]
                variable = variable + used.to_numpy(dtype=float) * service.cost_per_contact_gbp
        out[provider] = ProviderCost(fixed * index, variable * index)
    return out


def stranded(cost: ProviderCost, income: np.ndarray) -> np.ndarray:
    """Fixed cost the provider's income does not cover, once its variable costs are paid: what
    a provider is left carrying when activity moves away and its capacity stays."""
    contribution = np.clip(np.asarray(income, dtype=float) - cost.variable, 0.0, None)
    return np.clip(cost.fixed - contribution, 0.0, None)
