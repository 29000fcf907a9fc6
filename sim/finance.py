"""Money for each result row: activity valued at tariff, then settled by the design's payment policy.

Costs are computed from the activity counts of each result row, never inside the event
loop, so contract terms (and a bid price) can be re-evaluated on simulated paths without
simulating again. How a design is paid is its policy's business (:mod:`sim.payment`); the
contract arithmetic lives in :mod:`sim.contracts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.payment import FINANCE_COLUMNS, delivery_costs, payment_policy
from sim.schema import Scenario


def tariff_value_by_provider(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, pd.Series]:
    """Activity valued at full tariff (diagnostics included), per provider, for each row."""
    out: dict[str, pd.Series] = {}
    for name, stage in scenario.design_stages(design).items():
        first = stage.tariff_first + stage.diagnostics_per_first
        value = rows[f"{name}_first"] * first + rows[f"{name}_followup"] * stage.tariff_followup
        out[stage.provider] = out.get(stage.provider, 0.0) + value
    surgery = scenario.design_surgery(design)
    other_inpatient = rows["surgeries_inpatient"] - rows["joint_replacements"]
    operations = (
        rows["joint_replacements"] * surgery.tariff_joint_replacement
        + rows["surgeries_daycase"] * surgery.tariff_other_daycase
        + other_inpatient * surgery.tariff_other_inpatient
    )
    out[surgery.provider] = out.get(surgery.provider, 0.0) + operations
    return out


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
        by_provider = tariff_value_by_provider(part, scenario, str(design))
        rows.loc[idx, "tariff_value_gbp"] = sum(by_provider.values())
        gp = part["gp_consultations"] * scenario.gp.consultation_cost
        rows.loc[idx, "gp_cost_gbp"] = gp
        policy = payment_policy(scenario.designs[str(design)].payment, scenario.finance)
        settled = policy.settle(part, by_provider, scenario.finance.providers)
        for col, value in settled.items():
            rows.loc[idx, col] = value.to_numpy()
        rows.loc[idx, "system_cost_gbp"] = settled["commissioner_cost_gbp"] + gp
    return rows
