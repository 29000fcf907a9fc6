"""Contract arithmetic: the capitated prime contract's account and Pennine-style tariff share.

Pure functions of the contract terms and of what the care cost, one row per replication
and year, so a bid can re-price the same simulated paths at any price.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.schema import PrimeContract, TariffShare

Money = pd.Series | np.ndarray | float


def quality_met(rows: pd.DataFrame, terms: PrimeContract | TariffShare) -> np.ndarray:
    """Share of the three outcome targets met in each row: RTT, diversion, follow-up ratio."""
    met = (
        (rows["rtt_incomplete_within_18w_pct"] >= terms.quality_rtt_target_pct).astype(float)
        + (rows["hospital_diversion_pct"] >= terms.quality_diversion_target_pct).astype(float)
        + (rows["followups_per_first_op"] <= terms.quality_followup_ratio_max).astype(float)
    )
    return met.to_numpy() / 3.0


def contract_value(year: Money, contract: PrimeContract, year1_value: Money | None = None) -> np.ndarray:
    """Annual contract value in each contract year (year 1 value, then the escalator)."""
    v1 = contract.year1_value_gbp if year1_value is None else np.asarray(year1_value, dtype=float)
    return v1 * (1.0 + contract.escalator) ** (np.asarray(year, dtype=float) - 1.0)


def vat_cost(delivery_cost: Money, contract: PrimeContract) -> np.ndarray:
    """Unrecoverable VAT: ``vat_rate`` on the ``vat_cost_share`` of delivery costs that carry it."""
    return np.asarray(delivery_cost, dtype=float) * contract.vat_rate * contract.vat_cost_share


def sharing_edges(year: Money, delivery_cost: Money, contract: PrimeContract) -> np.ndarray:
    """The year-1 prices at which each row's surplus on the up-front payment reaches a kink of
    the sharing rule: the deficit corridor's edge (column 0) and the retained-surplus limit
    (column 1); ``inf`` where there is none.

    Between these prices, and beyond the last, a row's account is linear in the price, which
    is what lets a bid search bracket each path's break-even price exactly.
    """
    cost = np.asarray(delivery_cost, dtype=float) + vat_cost(delivery_cost, contract)
    upfront_per_pound = contract_value(year, contract, 1.0) * contract.upfront_share
    with np.errstate(divide="ignore", invalid="ignore"):
        edges = np.column_stack(
            [
                cost / (upfront_per_pound * (1.0 + contract.deficit_corridor_share)),
                cost / (upfront_per_pound * (1.0 - contract.retained_surplus_share)),
            ]
        )
    return np.where(np.isfinite(edges) & (edges >= 0.0), edges, np.inf)


def share_surplus(surplus: Money, upfront: Money, contract: PrimeContract) -> tuple[np.ndarray, np.ndarray]:
    """Split the result on the up-front payment between prime and commissioner.

    Surplus: the prime keeps up to ``retained_surplus_share`` of the up-front payment in full;
    the commissioner takes ``commissioner_surplus_split`` of any excess. Deficit: the prime
    bears it alone within a corridor of ``deficit_corridor_share`` of the up-front payment;
    beyond it the commissioner bears ``commissioner_deficit_share`` of the excess loss.

    Returns ``(prime_share, commissioner_share)``; they always add up to ``surplus``, and the
    commissioner's share is negative when it helps with a deficit.
    """
    surplus = np.asarray(surplus, dtype=float)
    upfront = np.asarray(upfront, dtype=float)
    excess_gain = np.clip(surplus - contract.retained_surplus_share * upfront, 0.0, None)
    excess_loss = np.clip(-surplus - contract.deficit_corridor_share * upfront, 0.0, None)
    commissioner = excess_gain * contract.commissioner_surplus_split - excess_loss * contract.commissioner_deficit_share
    return surplus - commissioner, commissioner


def prime_account(
    rows: pd.DataFrame,
    delivery_cost: Money,
    contract: PrimeContract,
    year1_value: Money | None = None,
) -> pd.DataFrame:
    """The prime contractor's profit and loss, component by component, for each row.

    The surplus that is shared with the commissioner (and the deficit the corridor limits) is
    the surplus *on the up-front payment*: the 95% less the care it buys, unrecoverable VAT on
    that care included. Overheads and mobilisation are left out on purpose. The Bedfordshire
    terms (Jowett and White, "New models of care: services and contract mechanisms", 2016) have
    the prime keep the first 5% of any surplus on the 95% and pay an extra 2.5% for
    management: the prime's own overheads are what the management fee is for, and
    mobilisation is its own set-up investment. Deducting either before sharing would make the
    commissioner pay for management twice (the fee, then a smaller gain share) and would
    blunt the prime's incentive to keep its own costs down. Both still count in full against
    the prime's result.

    Parameters
    ----------
    rows
        Result rows of the prime design (``year`` and the quality metrics are used).
    delivery_cost
        What the prime pays for the care delivered (see :func:`sim.payment.delivery_costs`).
    contract
        The contract terms.
    year1_value
        The year-1 price to evaluate, a number or one per row; defaults to the contract's.
        Lets a bid be re-priced on the same simulated paths.
    """
    year = rows["year"].to_numpy()
    delivery = np.asarray(delivery_cost, dtype=float)
    value = contract_value(year, contract, year1_value)
    upfront = value * contract.upfront_share
    management = value * contract.management_share
    quality = value * contract.quality_share * quality_met(rows, contract)
    vat = vat_cost(delivery, contract)
    overheads = np.full(len(rows), contract.overheads_gbp)
    mobilisation = np.where(year == 1, contract.mobilisation_gbp, 0.0)
    before = upfront - delivery - vat  # the surplus on the 95%: overheads and mobilisation are not shared
    prime_share, gain_share = share_surplus(before, upfront, contract)
    result = prime_share + management + quality - overheads - mobilisation
    out = {
        "contract_value_gbp": value,
        "income_upfront_gbp": upfront,
        "income_management_gbp": management,
        "income_quality_gbp": quality,
        "cost_delivery_gbp": delivery,
        "cost_vat_gbp": vat,
        "cost_overheads_gbp": overheads,
        "cost_mobilisation_gbp": mobilisation,
        "surplus_on_upfront_gbp": before,
        "surplus_before_sharing_gbp": before + management + quality - overheads - mobilisation,
        "commissioner_gain_share_gbp": gain_share,
        "prime_surplus_gbp": result,
        "prime_income_gbp": upfront + management + quality,
        "prime_cost_gbp": delivery + vat + overheads + mobilisation,
        "quality_payment_gbp": quality,
        "commissioner_cost_gbp": upfront + management + quality - gain_share,
    }
    return pd.DataFrame(out, index=rows.index)


def tariff_share_account(rows: pd.DataFrame, tariff_value: Money, delivery_cost: Money, terms: TariffShare) -> pd.DataFrame:
    """Pennine-style: the commissioner pays a share of tariff plus an outcome incentive."""
    tariff = np.asarray(tariff_value, dtype=float) * terms.tariff_share
    incentive = tariff * terms.incentive_share * quality_met(rows, terms)
    delivery = np.asarray(delivery_cost, dtype=float)
    income = tariff + incentive
    cost = delivery + terms.overheads_gbp
    out = {
        "prime_income_gbp": income,
        "prime_cost_gbp": cost,
        "prime_surplus_gbp": income - cost,
        "commissioner_gain_share_gbp": np.zeros(len(rows)),
        "quality_payment_gbp": incentive,
        "commissioner_cost_gbp": income,
    }
    return pd.DataFrame(out, index=rows.index)
