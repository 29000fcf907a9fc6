"""Contract arithmetic: the capitated prime contract's account and Pennine-style tariff share.

Pure functions of the contract terms and of what the care cost, one row per replication
and year, so a bid can re-price the same simulated paths at any price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np

from sim.base.lazy import later
from sim.scenario import names
from sim.scenario.columns import column
from sim.scenario.contracts import PrimeContract, QualityTarget, TariffShare, share_in_year

pd = later("pandas")

Money: TypeAlias = "pd.Series | np.ndarray | float"


def target_credit(values: Money, target: QualityTarget, sign: int) -> np.ndarray:
    """The share of one target's part of the pot earned at each value of its measure.

    ``sign`` is +1 where higher is better, -1 where lower is: full credit at the target or
    better, none at the floor or worse, a straight line between; pass or fail with no floor.
    A year with no value of the measure (no patients to measure it on) earns nothing.
    """
    x = np.asarray(values, dtype=float) * sign
    goal = target.target * sign
    if target.floor is None or target.floor == target.target:
        credit = (x >= goal).astype(float)
    else:
        # a far-off value over a narrow floor-to-target gap overflows to ±inf: the clip makes it
        # the 0 or 1 it is, so the overflow is no error to warn of
        with np.errstate(over="ignore"):
            credit = np.clip((x - target.floor * sign) / (goal - target.floor * sign), 0.0, 1.0)
    return np.where(np.isnan(x), 0.0, credit)


def quality_met(rows: pd.DataFrame, terms: PrimeContract | TariffShare) -> np.ndarray:
    """Share of the quality pot earned in each row: the weighted credit of its targets."""
    targets = terms.quality_targets
    if not targets:
        return np.zeros(len(rows))
    total = sum(t.weight for t in targets)
    earned = sum(t.weight * target_credit(rows[t.measure], t, column(t.measure).sign) for t in targets)
    return np.asarray(earned, dtype=float) / total


def yearly(share: float | list[float], year: Money) -> np.ndarray:
    """A share of the contract value for each row's contract year."""
    return np.array([share_in_year(share, int(y)) for y in np.atleast_1d(np.asarray(year))], dtype=float)


def contract_value(year: Money, contract: PrimeContract, year1_value: Money) -> np.ndarray:
    """Annual contract value in each contract year (the year-1 price, then the escalator)."""
    v1 = np.asarray(year1_value, dtype=float)
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
    upfront_per_pound = contract_value(year, contract, 1.0) * yearly(contract.upfront_share, year)
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
    year1_value: Money,
    cost_index: Money = 1.0,
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
        What the prime pays for the care delivered (see :func:`sim.money.payment.delivery_costs`).
    contract
        The contract terms.
    year1_value
        The year-1 price to evaluate, a number or one per row (the contract's is
        :meth:`~sim.scenario.schema.PrimeContract.year1_value`). Lets a bid be re-priced on the same
        simulated paths.
    cost_index
        Each row's costs relative to year 1 (:func:`sim.money.prices.cost_index`): the prime's
        overheads are year-1 prices.
    """
    year = rows["year"].to_numpy()
    delivery = np.asarray(delivery_cost, dtype=float)
    value = contract_value(year, contract, year1_value)
    upfront = value * yearly(contract.upfront_share, year)
    management = value * contract.management_share
    quality = value * yearly(contract.quality_share, year) * quality_met(rows, contract)
    vat = vat_cost(delivery, contract)
    overheads = contract.overheads_gbp * np.broadcast_to(np.asarray(cost_index, dtype=float), (len(rows),))
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
        names.COMMISSIONER_GAIN_SHARE_GBP: gain_share,
        names.PRIME_SURPLUS_GBP: result,
        names.PRIME_INCOME_GBP: upfront + management + quality,
        names.PRIME_COST_GBP: delivery + vat + overheads + mobilisation,
        names.QUALITY_PAYMENT_GBP: quality,
        names.COMMISSIONER_COST_GBP: upfront + management + quality - gain_share,
    }
    return pd.DataFrame(out, index=rows.index)


def tariff_share_account(
    rows: pd.DataFrame,
    tariff_by_element: Mapping[str, Money],
    delivery_cost: Money,
    terms: TariffShare,
    cost_index: Money = 1.0,
) -> pd.DataFrame:
    """Pennine-style: the commissioner pays a share of tariff plus an outcome incentive.

    ``tariff_by_element`` is the tariff value of each element (a service, or ``theatre``) the
    hub is paid for; each is paid at its share (``tariff_share_by_service``, else
    ``tariff_share``). The hub's overheads are year-1 prices, moved by ``cost_index``.
    """
    shares = terms.tariff_share_by_service
    tariff = sum(
        (np.asarray(value, dtype=float) * shares.get(name, terms.tariff_share) for name, value in tariff_by_element.items()),
        np.zeros(len(rows)),
    )
    incentive = tariff * yearly(terms.incentive_share, rows["year"]) * quality_met(rows, terms)
    delivery = np.asarray(delivery_cost, dtype=float)
    income = tariff + incentive
    cost = delivery + terms.overheads_gbp * np.asarray(cost_index, dtype=float)
    out = {
        names.PRIME_INCOME_GBP: income,
        names.PRIME_COST_GBP: cost,
        names.PRIME_SURPLUS_GBP: income - cost,
        names.COMMISSIONER_GAIN_SHARE_GBP: np.zeros(len(rows)),
        names.QUALITY_PAYMENT_GBP: incentive,
        names.COMMISSIONER_COST_GBP: income,
    }
    return pd.DataFrame(out, index=rows.index)
