"""What capacity costs the providers, and what of it their income leaves uncovered.

A service's cost to its provider is fixed (its staff, and each slot offered whether used or
not) plus variable (each appointment attended, each operation); a provider may add fixed
overheads. All are year-1 prices, moved by pay and non-pay inflation
(:func:`sim.money.prices.cost_index`). Slots offered come from the capacity calendar, so bank
holidays and reduced periods offer fewer. Only providers whose services are given costs are
costed: a provider with none has no cost columns, never a cost of zero.

Capacity a policy adds (:class:`sim.scenario.schema.CapacityPolicy`) is costed as it was run: its slots
as any slot offered; a service whose capacity follows demand has its staff grow with its slots;
a managed service's added sessions cost their premium (:func:`session_premiums`), which its
provider bears unless an integrator buys the service (:mod:`sim.money.payment`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.lazy import later
from sim.model.capacity import year_capacity
from sim.money.prices import cost_index
from sim.scenario.schema import Scenario
from sim.scenario.surgery import Surgery

pd = later("pandas")


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


def _added(rows: pd.DataFrame, column: str) -> np.ndarray:
    """A count of what a capacity policy added, per row (none where the runs counted none)."""
    return rows[column].to_numpy(dtype=float) if column in rows.columns else np.zeros(len(rows))


def session_premiums(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, np.ndarray]:
    """Per service (and ``theatre``) whose policy adds sessions at a premium: the premium of the
    sessions it ran in each row, at that year's prices (year-1 premium moved by cost inflation)."""
    index = cost_index(scenario.finance, rows["year"].to_numpy(dtype=int))
    return {name: value * index for name, value in _premiums(rows, scenario, design).items()}


def _premiums(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, np.ndarray]:
    """:func:`session_premiums` at year-1 prices."""
    out: dict[str, np.ndarray] = {}
    for name in scenario.design_services(design):
        premium = scenario.capacity_policy(design, name).premium_per_session_gbp
        if premium:
            out[name] = _added(rows, f"{name}_sessions_added") * premium
    return out


def provider_costs(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, ProviderCost]:
    """Each costed provider's fixed and variable costs in each row of ``design``."""
    years = rows["year"].to_numpy(dtype=int)
    index = cost_index(scenario.finance, years)
    premiums = _premiums(rows, scenario, design)
    out: dict[str, ProviderCost] = {}
    for provider in scenario.costed_providers(design):
        fixed = np.full(len(rows), scenario.finance.providers[provider].overheads_gbp)
        variable = np.zeros(len(rows))
        for name, service in scenario.design_services(design).items():
            if service.provider != provider:
                continue
            staff = sum(s.wte * s.cost_per_wte_gbp for s in service.staff)
            by_year = {int(y): slots_offered(scenario, design, name, int(y)) for y in np.unique(years)}
            planned = np.array([by_year[int(y)] for y in years])
            added = _added(rows, f"{name}_slots_added")
            offered = planned + added
            if scenario.capacity_policy(design, name).kind == "follows_demand":  # staff grow with the slots they give
                staff = staff * np.divide(offered, planned, out=np.ones_like(offered), where=planned > 0)
            fixed = fixed + staff + offered * service.cost_per_slot_gbp + premiums.get(name, 0.0)
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


def monthly_premiums(monthly: pd.DataFrame, scenarios: dict[int, Scenario]) -> pd.DataFrame:
    """``monthly.csv`` with ``added_sessions_cost_gbp``: each month's premiums of the sessions
    capacity policies added, at its contract year's prices (unchanged where none act)."""
    if monthly.empty or not any(s.capacity_policies_act for s in scenarios.values()):
        return monthly
    points = monthly["point"] if "point" in monthly.columns else pd.Series(0, index=monthly.index)
    cost = np.zeros(len(monthly))
    for (point, design), part in monthly.groupby([points, monthly["design"]]):
        scenario = scenarios.get(int(point), scenarios[min(scenarios)])
        if str(design) not in scenario.designs:
            continue
        positions = monthly.index.get_indexer(part.index)
        cost[positions] = sum(session_premiums(part, scenario, str(design)).values(), np.zeros(len(part)))
    return monthly.assign(added_sessions_cost_gbp=cost)
