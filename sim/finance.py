"""Money for each result row: activity valued at tariff, then settled by the design's payment policy.

Costs are computed from the activity counts of each result row, never inside the event
loop, so contract terms (and a bid price) can be re-evaluated on simulated paths without
simulating again. How a design is paid is its policy's business (:mod:`sim.payment`); the
contract arithmetic lives in :mod:`sim.contracts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.payment import (
    COST_OF_PROVIDER,
    FINANCE_COLUMNS,
    PAID_TO_PROVIDER,
    Element,
    Elements,
    by_provider,
    delivery_costs,
    payment_policy,
    provider_column,
)
from sim.prices import cost_index, price_index
from sim.provider_costs import provider_costs, stranded
from sim.schema import THEATRE, THEATRE_OVERFLOW, Scenario


def tariff_value_by_element(rows: pd.DataFrame, scenario: Scenario, design: str) -> Elements:
    """Activity valued at full tariff (diagnostics included), service by service and the
    theatre, for each row, at the prices of the row's contract year (:func:`sim.prices.price_index`)."""
    out: Elements = {}
    finance = scenario.finance
    for name, stage in scenario.design_stages(design).items():
        first = stage.tariff_first + stage.diagnostics_per_first
        value = rows[f"{name}_first"] * first + rows[f"{name}_followup"] * stage.tariff_followup
        if stage.tariff_advice_and_guidance:
            value = value + rows[f"{name}_advice_and_guidance"] * stage.tariff_advice_and_guidance
        out[name] = Element(stage.provider, value * price_index(finance, stage.provider, rows["year"]))
    surgery = scenario.design_surgery(design)

    def operations(joint: pd.Series, daycase: pd.Series, inpatient: pd.Series) -> pd.Series:
        return (
            joint * surgery.tariff_joint_replacement
            + daycase * surgery.tariff_other_daycase
            + (inpatient - joint) * surgery.tariff_other_inpatient
        )

    done = operations(rows["joint_replacements"], rows["surgeries_daycase"], rows["surgeries_inpatient"])
    # tables written before procedures were counted have no column: there were none
    done = done + rows.get("procedures", 0) * surgery.tariff_procedure
    if surgery.overflow_provider is None:
        out[THEATRE] = Element(surgery.provider, done * price_index(finance, surgery.provider, rows["year"]))
        return out
    elsewhere = operations(
        rows["overflow_joint_replacements"], rows["overflow_surgeries_daycase"], rows["overflow_surgeries_inpatient"]
    )
    out[THEATRE] = Element(surgery.provider, (done - elsewhere) * price_index(finance, surgery.provider, rows["year"]))
    index = price_index(finance, surgery.overflow_provider, rows["year"])
    out[THEATRE_OVERFLOW] = Element(surgery.overflow_provider, elsewhere * index)
    return out


def tariff_value_by_provider(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, pd.Series]:
    """Activity valued at full tariff, per provider, for each row (see :func:`tariff_value_by_element`)."""
    return by_provider(tariff_value_by_element(rows, scenario, design))


def delivery_cost_by_provider(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, pd.Series]:
    """What an integrator pays each provider for the care in ``rows`` (see :func:`sim.payment.delivery_costs`)."""
    return delivery_costs(tariff_value_by_provider(rows, scenario, design), scenario.finance.providers)


def add_finance(rows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Add the money columns (:data:`FINANCE_COLUMNS`) to a table of result rows, and one
    column per provider of what it is paid (see :mod:`sim.payment`)."""
    rows = rows.copy()
    for col in FINANCE_COLUMNS:
        rows[col] = np.nan
    for design, idx in rows.groupby("design").groups.items():
        part = rows.loc[idx]
        elements = tariff_value_by_element(part, scenario, str(design))
        rows.loc[idx, "tariff_value_gbp"] = sum(e.value for e in elements.values())
        gp = part["gp_consultations"] * scenario.gp.consultation_cost * cost_index(scenario.finance, part["year"])
        rows.loc[idx, "gp_cost_gbp"] = gp
        policy = payment_policy(scenario.designs[str(design)].payment, scenario.finance, scenario.population)
        costs = provider_costs(part, scenario, str(design))
        settled = policy.settle(part, elements, scenario.finance.providers, costs)
        for col, value in settled.items():
            rows.loc[idx, col] = value.to_numpy()
        rows.loc[idx, "system_cost_gbp"] = settled["commissioner_cost_gbp"] + gp
        if costs:
            rows.loc[idx, "capacity_cost_gbp"] = sum(c.total for c in costs.values())
        for p, cost in costs.items():
            paid = [
                settled[c].to_numpy()
                for c in (provider_column(PAID_TO_PROVIDER, p), provider_column(COST_OF_PROVIDER, p))
                if c in settled
            ]
            income = sum(paid, np.zeros(len(part)))
            rows.loc[idx, f"provider_income_{p}_gbp"] = income
            rows.loc[idx, f"provider_cost_{p}_gbp"] = cost.total
            rows.loc[idx, f"provider_stranded_{p}_gbp"] = stranded(cost, income)
    return rows.copy()  # one block again: the columns were added one at a time
