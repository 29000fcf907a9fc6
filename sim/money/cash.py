"""Monthly cash under a prime contract: income as it is paid, costs as they are incurred.

A year's account (:func:`sim.money.contracts.prime_account`) says whether the prime makes money; its
cash says whether it can pay its way until it does. On each simulated path:

* the up-front payment and the management fee are paid in equal monthly instalments over the
  contract year (capitation is paid monthly in advance);
* the quality payment and the settlement of the surplus or deficit with the commissioner fall
  in the year's last month, when the year's results are known;
* the care delivered is paid for in the month it is delivered: each provider's cost for the
  year is spread over the months in proportion to its activity in each month, valued at the
  scenario's prices (a block contract in equal instalments), so the months of a year add up
  to the year exactly; unrecoverable VAT follows the care it is charged on;
* the prime's overheads are spread evenly over the year, and mobilisation is spent in the
  first month.

Months are the calendar months of the run's month ends; with a contract that starts on a day
other than the 1st, a month that spans two contract years counts in the later one.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from sim.base.lazy import later
from sim.base.metrics import interval, quantile_interval, share_interval
from sim.model.recorder import OPERATIONS
from sim.money.bid import BidPaths
from sim.money.finance import tariff_value_by_provider
from sim.scenario.schema import Scenario

pd = later("pandas")

HORIZONS = (6, 12, 24)
"""Months from the contract start by which the chance of running out of cash is reported."""
COVER = 0.9
"""The chance of never running out that the cash buffer is sized for."""

INCOME = ("income_upfront_gbp", "income_management_gbp", "income_quality_gbp")
COSTS = ("cost_delivery_gbp", "cost_vat_gbp", "cost_overheads_gbp", "cost_mobilisation_gbp")


class CashError(ValueError):
    """A results folder or table that cannot give monthly cash (made before activity was recorded by month)."""


def monthly_cash(paths: BidPaths, monthly: pd.DataFrame, scenario: Scenario, price: float, reserve: float = 0.0) -> pd.DataFrame:
    """``bid_monthly.csv``: one row per path × month of the contract, income and costs as paid.

    Parameters
    ----------
    paths
        The prime design's simulated paths (their yearly costs).
    monthly
        ``monthly.csv``: the month ends of every replication, with each month's activity.
    scenario
        The scenario (its prices spread a provider's costs over the months).
    price
        The year-1 contract value tested.
    reserve
        The cash the prime holds (a reserve, or a parent company's guarantee): ``reserve_left_gbp``
        is it plus the cumulative cash, and the reserve has run out in the first month that is negative.
    """
    design = str(paths.rows["design"].iloc[0])
    months = _months(monthly, design, scenario)
    account = paths.account(price)
    year_rows = pd.concat([paths.rows[["replication", "year"]], account], axis=1)
    key = ["replication", "year"]
    months = months.merge(year_rows, on=key, how="inner", validate="many_to_one", suffixes=("", "_year"))
    per_year = months.groupby(key)["month_end"].transform("size").to_numpy(dtype=float)
    last = months.groupby(key)["month_end"].transform("max").to_numpy() == months["month_end"].to_numpy()
    first = (months["year"].to_numpy() == 1) & (
        months.groupby("replication")["month_end"].transform("min") == months["month_end"]
    )
    share = _delivery_shares(months, paths, scenario, design)
    out = months[["replication", "year", "month_end"]].copy()
    out.insert(2, "month", months.groupby("replication").cumcount().to_numpy() + 1)
    out["income_upfront_gbp"] = months["income_upfront_gbp"].to_numpy() / per_year
    out["income_management_gbp"] = months["income_management_gbp"].to_numpy() / per_year
    out["income_quality_gbp"] = np.where(last, months["income_quality_gbp"], 0.0)
    out["cost_delivery_gbp"] = months["cost_delivery_gbp"].to_numpy() * share
    out["cost_vat_gbp"] = months["cost_vat_gbp"].to_numpy() * share
    out["cost_overheads_gbp"] = months["cost_overheads_gbp"].to_numpy() / per_year
    out["cost_mobilisation_gbp"] = np.where(first, months["cost_mobilisation_gbp"], 0.0)
    out["commissioner_gain_share_gbp"] = np.where(last, months["commissioner_gain_share_gbp"], 0.0)
    out["cash_flow_gbp"] = out[list(INCOME)].sum(axis=1) - out[list(COSTS)].sum(axis=1) - out["commissioner_gain_share_gbp"]
    out["cumulative_cash_gbp"] = out.groupby("replication")["cash_flow_gbp"].cumsum()
    out["reserve_left_gbp"] = reserve + out["cumulative_cash_gbp"]
    return out.reset_index(drop=True)


def _months(monthly: pd.DataFrame, design: str, scenario: Scenario) -> pd.DataFrame:
    """The design's month ends of the contract, in order, with their activity."""
    stages = list(scenario.design_stages(design))
    needed = [*(f"{s}_{k}" for s in stages for k in ("first", "followup")), *OPERATIONS]
    if monthly.empty or any(c not in monthly.columns for c in needed):
        raise CashError("monthly.csv has no activity by month (written by an earlier msksim): run the bid again")
    part = monthly[(monthly["design"] == design) & (monthly["year"] >= 1)]
    part = part[part["day"] != scenario.run.warmup_days]  # the list the run started from: no month of the contract
    if "month_end" not in part.columns:
        first = scenario.run.start_date - timedelta(days=scenario.run.warmup_days)
        part = part.assign(month_end=[(first + timedelta(days=int(d) - 1)).isoformat() for d in part["day"]])
    return part.sort_values(["replication", "day"]).reset_index(drop=True)


def _delivery_shares(months: pd.DataFrame, paths: BidPaths, scenario: Scenario, design: str) -> np.ndarray:
    """Each month's share of its year's delivery cost: providers' shares of the year's cost,
    each spread by its activity (a block in equal parts)."""
    key = ["replication", "year"]
    value = tariff_value_by_provider(months, scenario, design)
    years = pd.concat([paths.rows[key], paths.delivery_by_provider], axis=1)
    cost = months[key].merge(years, on=key, how="left")
    n = months.groupby(key)["month_end"].transform("size").to_numpy(dtype=float)
    total = np.zeros(len(months))
    for provider in paths.delivery_by_provider.columns:
        year_cost = cost[provider].to_numpy(dtype=float)
        v = value.get(provider, pd.Series(0.0, index=months.index)).to_numpy(dtype=float)
        year_value = pd.Series(v).groupby([months[k] for k in key]).transform("sum").to_numpy()
        block = scenario.finance.providers[provider].payment == "block" if provider in scenario.finance.providers else False
        spread = np.where(
            block | (year_value <= 0), 1.0 / n, np.divide(v, year_value, out=np.zeros_like(v), where=year_value > 0)
        )
        total += year_cost * spread
    year_total = cost[list(paths.delivery_by_provider.columns)].sum(axis=1).to_numpy(dtype=float)
    return np.divide(total, year_total, out=1.0 / n, where=year_total > 0)


def cash_summary(table: pd.DataFrame, reserve: float) -> list[dict]:
    """Rows for ``bid_summary.csv``: the cash low point, the chance the reserve runs out within
    6, 12 and 24 months and over the contract, and the buffer that covers 90% of paths."""
    per_path = table.groupby("replication")
    low = np.minimum(per_path["cumulative_cash_gbp"].min().to_numpy(), 0.0)
    out_month = table[table["reserve_left_gbp"] < 0].groupby("replication")["month"].min()
    first_out = out_month.reindex(per_path.size().index).to_numpy(dtype=float)
    records = [_record("reserve_gbp", np.array([reserve]), "gbp")]
    records.append(_record("cash_low_point_gbp", low, "gbp"))
    for months in HORIZONS:
        records.append(_record(f"reserve_exhausted_probability_{months}m", (first_out <= months).astype(float), "probability"))
    records.append(_record("reserve_exhausted_probability_contract", np.isfinite(first_out).astype(float), "probability"))
    need = 0.0 - low  # not -0.0
    q = float(np.quantile(need, COVER, method="inverted_cdf"))
    lo, hi = quantile_interval(need, COVER)
    records.append({"metric": f"cash_buffer_{int(COVER * 100)}pct_gbp", "year": "all", "unit": "gbp", "mean": q,
                    "ci_low": lo, "ci_high": hi, "n": len(need)})  # fmt: skip
    return records


def _record(metric: str, values: np.ndarray, unit: str) -> dict:
    if len(values) < 2:
        mean, low, high, n = float(np.mean(values)), np.nan, np.nan, len(values)
    else:
        mean, low, high, n = share_interval(values) if unit == "probability" else interval(values)
    return {"metric": metric, "year": "all", "unit": unit, "mean": mean, "ci_low": low, "ci_high": high, "n": n}
