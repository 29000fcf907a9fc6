"""Money for each result row: activity valued at tariff, then settled by the design's payment policy.

Costs are computed from the activity counts of each result row, never inside the event
loop, so contract terms (and a bid price) can be re-evaluated on simulated paths without
simulating again. How a design is paid is its policy's business (:mod:`sim.money.payment`); the
contract arithmetic lives in :mod:`sim.money.contracts`.

Care outside the MSK contract (``demand.outside_contract``) is in the activity counts, counted
apart too: the design's payment settles the rest, and the commissioner pays the providers for it
directly at their tariffs, in every design, in no contract, block or integrator's budget. The
providers' income and costs hold it: it is their work, on their capacity.
"""

from __future__ import annotations

import numpy as np

from sim.base.lazy import later
from sim.money.payment import (
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
from sim.money.prices import cost_index, price_index
from sim.money.provider_costs import provider_costs, session_premiums, stranded
from sim.scenario import names
from sim.scenario.columns import ADDED_SESSIONS_COST, OUTSIDE_MONEY, outside_counted
from sim.scenario.schema import OUTSIDE_CONTRACT, THEATRE, THEATRE_OVERFLOW, Scenario

pd = later("pandas")


def tariff_value_by_element(rows: pd.DataFrame, scenario: Scenario, design: str) -> Elements:
    """Activity valued at full tariff (diagnostics included), service by service and the
    theatre, for each row, at the prices of the row's contract year (:func:`sim.money.prices.price_index`)."""
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
    """What an integrator pays each provider for the care in ``rows`` (see :func:`sim.money.payment.delivery_costs`)."""
    return delivery_costs(tariff_value_by_provider(rows, scenario, design), scenario.finance.providers)


def contract_and_outside(rows: pd.DataFrame, scenario: Scenario, design: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The activity of ``rows`` split in two: the MSK contract's, and care outside it (each with
    the columns the pricing reads; the outside part as if its counts were the whole)."""
    counted = outside_counted(scenario.design_stages(design))
    outside = pd.DataFrame({"year": rows["year"]}, index=rows.index)
    contract = rows.copy()
    for name in counted:
        part = rows.get(f"{OUTSIDE_CONTRACT}_{name}", 0)  # tables without the flow's counts had none
        if name not in rows:  # nor any of a count written before it was counted (procedures)
            continue
        contract[name] = rows[name] - part
        outside[name] = part
    for stage in scenario.design_stages(design):
        outside[f"{stage}_advice_and_guidance"] = 0  # it answers GPs, who do not refer care outside the contract
    return contract, outside


def add_finance(rows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Add the money columns (:data:`FINANCE_COLUMNS`, and with care outside the contract its
    spend) to a table of result rows, and one column per provider of what it is paid (see
    :mod:`sim.money.payment`)."""
    rows = rows.copy()
    outside = scenario.counts_outside_contract
    added = [ADDED_SESSIONS_COST.name] if scenario.capacity_policies_act else []
    for col in [*FINANCE_COLUMNS, *(c.name for c in OUTSIDE_MONEY if outside), *added]:
        rows[col] = np.nan
    for design, idx in rows.groupby("design").groups.items():
        name, part = str(design), rows.loc[idx]
        elements = tariff_value_by_element(part, scenario, name)
        rows.loc[idx, names.TARIFF_VALUE_GBP] = sum(e.value for e in elements.values())
        gp = part["gp_consultations"] * scenario.gp.consultation_cost * cost_index(scenario.finance, part["year"])
        rows.loc[idx, names.GP_COST_GBP] = gp
        policy = payment_policy(scenario.designs[name].payment, scenario.design_finance(name), scenario.population)
        costs = provider_costs(part, scenario, name)
        contract, contract_costs, beyond = part, costs, {}
        if outside:  # the design's payment settles the contract's own activity; the rest is paid at tariff
            contract, apart = contract_and_outside(part, scenario, name)
            elements, contract_costs = tariff_value_by_element(contract, scenario, name), provider_costs(contract, scenario, name)
            beyond = tariff_value_by_provider(apart, scenario, name)
        premiums = session_premiums(part, scenario, name)
        settled = policy.settle(contract, elements, scenario.finance.providers, contract_costs, premiums)
        for col, value in settled.items():
            rows.loc[idx, col] = value.to_numpy()
        rows.loc[idx, names.SYSTEM_COST_GBP] = settled[names.COMMISSIONER_COST_GBP] + gp
        if outside:
            spend = sum(beyond.values(), pd.Series(0.0, index=part.index))
            rows.loc[idx, f"{OUTSIDE_CONTRACT}_spend_gbp"] = spend
            rows.loc[idx, names.COMMISSIONER_COST_WITH_OUTSIDE_GBP] = settled[names.COMMISSIONER_COST_GBP] + spend
        if costs:
            rows.loc[idx, names.CAPACITY_COST_GBP] = sum(c.total for c in costs.values())
        if scenario.capacity_policies_act:
            rows.loc[idx, ADDED_SESSIONS_COST.name] = sum(premiums.values(), np.zeros(len(part)))
        for p, cost in costs.items():
            paid = [
                settled[c].to_numpy()
                for c in (provider_column(PAID_TO_PROVIDER, p), provider_column(COST_OF_PROVIDER, p))
                if c in settled
            ]
            if p in beyond:  # the provider's work for care outside the contract
                paid.append(beyond[p].to_numpy())
            income = sum(paid, np.zeros(len(part)))
            rows.loc[idx, f"provider_income_{p}_gbp"] = income
            rows.loc[idx, f"provider_cost_{p}_gbp"] = cost.total
            rows.loc[idx, f"provider_stranded_{p}_gbp"] = stranded(cost, income)
    return rows.copy()  # one block again: the columns were added one at a time
