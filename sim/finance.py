"""Money: tariffs and block contracts (fragmented), and the capitated prime contract.

Costs are computed from the activity counts of each result row, never inside the event
loop, so contract terms can be re-evaluated on simulated paths without re-simulating.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario import PrimeContract, Scenario

FINANCE_COLUMNS = (
    "tariff_value_gbp",
    "commissioner_cost_gbp",
    "gp_cost_gbp",
    "system_cost_gbp",
    "prime_income_gbp",
    "prime_cost_gbp",
    "prime_surplus_gbp",
    "commissioner_gain_share_gbp",
    "quality_payment_gbp",
)


def tariff_value_by_provider(rows: pd.DataFrame, scenario: Scenario, design: str) -> dict[str, pd.Series]:
    """Activity valued at full tariff, per provider, for each row of one design."""
    out: dict[str, pd.Series] = {}
    for name, st in scenario.design_stages(design).items():
        value = (
            rows[f"{name}_first"] * (st.tariff_first + st.diagnostics_per_first) + rows[f"{name}_followup"] * st.tariff_followup
        )
        out[st.provider] = out.get(st.provider, 0.0) + value
    s = scenario.surgery
    other_inpatient = rows["surgeries_inpatient"] - rows["joint_replacements"]
    surgery = (
        rows["joint_replacements"] * s.tariff_joint_replacement
        + rows["surgeries_daycase"] * s.tariff_other_daycase
        + other_inpatient * s.tariff_other_inpatient
    )
    out[s.provider] = out.get(s.provider, 0.0) + surgery
    return out


def add_finance(rows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Add the money columns (:data:`FINANCE_COLUMNS`) to a table of result rows."""
    rows = rows.copy()
    for col in FINANCE_COLUMNS:
        rows[col] = np.nan
    for design, idx in rows.groupby("design").groups.items():
        part = rows.loc[idx]
        by_provider = tariff_value_by_provider(part, scenario, str(design))
        rows.loc[idx, "tariff_value_gbp"] = sum(by_provider.values())
        gp = part["gp_consultations"] * scenario.gp.consultation_cost
        rows.loc[idx, "gp_cost_gbp"] = gp
        d = scenario.designs[str(design)]
        if d.payment == "activity":
            cost = _fragmented_cost(by_provider, scenario)
            rows.loc[idx, "commissioner_cost_gbp"] = cost
        else:
            contract = scenario.finance.prime_contract
            assert contract is not None  # checked when the scenario was validated
            delivery = sum(v * scenario.finance.providers[p].prime_cost_share for p, v in by_provider.items())
            account = prime_account(part, delivery, contract)
            for col in account:
                rows.loc[idx, col] = account[col]
            cost = account["commissioner_cost_gbp"]
        rows.loc[idx, "system_cost_gbp"] = cost + gp
    return rows


def _fragmented_cost(by_provider: dict[str, pd.Series], scenario: Scenario) -> pd.Series:
    """Payment by Results for tariff providers, a fixed annual sum for block providers."""
    total = 0.0
    for provider, value in by_provider.items():
        terms = scenario.finance.providers[provider]
        total = total + (pd.Series(terms.block_gbp, index=value.index) if terms.payment == "block" else value)
    return total


def quality_met(rows: pd.DataFrame, contract: PrimeContract) -> pd.Series:
    """Share of the outcome targets met in each row (RTT, diversion, follow-up ratio)."""
    met = (
        (rows["rtt_incomplete_18w_pct"] >= contract.quality_rtt_target_pct).astype(float)
        + (rows["hospital_diversion_pct"] >= contract.quality_diversion_target_pct).astype(float)
        + (rows["followups_per_first_op"] <= contract.quality_followup_ratio_max).astype(float)
    )
    return met / 3.0


def contract_value(year: pd.Series | np.ndarray, contract: PrimeContract, year1_value: float | None = None) -> pd.Series:
    """Annual contract value in each contract year (year 1 value, then the escalator)."""
    v1 = contract.year1_value_gbp if year1_value is None else year1_value
    return v1 * (1.0 + contract.escalator) ** (np.asarray(year, dtype=float) - 1.0)


def share_surplus(surplus: np.ndarray | pd.Series, upfront: np.ndarray | pd.Series, contract: PrimeContract):
    """Split the surplus on the up-front payment between prime and commissioner.

    The prime keeps surplus up to ``retained_surplus_share`` of the up-front payment in full;
    above that the commissioner takes ``commissioner_surplus_split`` of the excess. A deficit
    stays with the prime. Returns ``(prime_share, commissioner_share)``.
    """
    surplus = np.asarray(surplus, dtype=float)
    threshold = contract.retained_surplus_share * np.asarray(upfront, dtype=float)
    excess = np.clip(surplus - threshold, 0.0, None)
    commissioner = excess * contract.commissioner_surplus_split
    return surplus - commissioner, commissioner


def prime_account(
    rows: pd.DataFrame,
    delivery_cost: pd.Series,
    contract: PrimeContract,
    year1_value: float | None = None,
) -> dict[str, pd.Series]:
    """The prime contractor's profit and loss for each row.

    Parameters
    ----------
    rows
        Result rows of the prime design (needs ``year`` and the quality metrics).
    delivery_cost
        What the prime pays for the care delivered: sub-contracted activity at its share of
        tariff and its own services at unit cost.
    contract
        The contract terms.
    year1_value
        Price to evaluate (defaults to the contract's year-1 value): lets a bid be
        re-priced on the same simulated paths.
    """
    value = contract_value(rows["year"], contract, year1_value)
    upfront = value * contract.upfront_share
    management = value * contract.management_share
    quality = value * contract.quality_share * quality_met(rows, contract).to_numpy()
    vat = delivery_cost * contract.vat_rate * contract.vat_cost_share
    mobilisation = np.where(rows["year"].to_numpy() == 1, contract.mobilisation_gbp, 0.0)
    cost = delivery_cost + vat + contract.overheads_gbp + mobilisation
    surplus_on_upfront = upfront - delivery_cost - vat
    prime_share, commissioner_share = share_surplus(surplus_on_upfront, upfront, contract)
    prime_result = prime_share + management + quality - contract.overheads_gbp - mobilisation
    return {
        "prime_income_gbp": pd.Series(upfront + management + quality, index=rows.index),
        "prime_cost_gbp": pd.Series(np.asarray(cost), index=rows.index),
        "prime_surplus_gbp": pd.Series(np.asarray(prime_result), index=rows.index),
        "commissioner_gain_share_gbp": pd.Series(commissioner_share, index=rows.index),
        "quality_payment_gbp": pd.Series(quality, index=rows.index),
        "commissioner_cost_gbp": pd.Series(upfront + management + quality - commissioner_share, index=rows.index),
    }
