"""A design that takes over another's lists: what it took over, and what taking over adds to a bid.

A design that ``inherits`` another starts the contract with the other's patients (the
switch-over, :mod:`sim.analysis.switchover`). Runs say so: the incomplete RTT pathways it took over at
the contract start (the year-0 incomplete returns, :func:`taken_over`) are in the terminal, the
manifest, the bid's summary and the report's caveats.

``bid --takes-over`` runs the prime taking over beside the same prime in its steady state (its
warm-up run as itself, no mobilisation), on the same patients and drawn inputs (common random
numbers). :func:`takeover_table` pairs the two accounts at the price tested, replication by
replication and year by year: what the takeover adds to the prime's cost and surplus (the
mobilisation cost, the capacity it runs short while mobilising, the inherited list treated when
it is), the probability of a loss with and without it, and the lowest safe price each way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.base.lazy import later
from sim.base.metrics import interval, share_interval
from sim.rtt.bands import BAND_LABELS
from sim.scenario.names import PRIME_SURPLUS_GBP

pd = later("pandas")

TAKES_OVER = "takes_over"
"""The key of a bid batch's ``extra`` settings: ``from`` (the design whose lists are taken over),
``design`` (the prime taking over, priced) and ``without`` (the same prime in its steady state)."""


def taken_over(returns: pd.DataFrame, design: str) -> pd.Series:
    """Per replication (and grid point, in a sweep), the incomplete RTT pathways ``design`` holds at
    the contract start (its year-0 return): for a design that takes over, the pathways it took over."""
    if returns.empty or "year" not in returns.columns:
        return pd.Series(dtype=float)
    start = returns[(returns["design"] == design) & (returns["year"] == 0) & (returns["part"] == "incomplete")]
    bands = [c for c in BAND_LABELS if c in start.columns]
    counts = start["total"] if "total" in start.columns else start[bands].sum(axis=1)
    keys = [start[k] for k in ("point", "replication") if k in start.columns]  # a sweep's points apart
    return counts.groupby(keys).sum().astype(float)


def inheriting(scenario: Any, designs: list[str]) -> dict[str, str]:
    """Of ``designs``, those that take over another's lists: design -> the design taken over."""
    return {d: scenario.designs[d].inherits for d in designs if d in scenario.designs and scenario.designs[d].inherits}


def takeovers(scenario: Any, designs: list[str], returns: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """What each design that takes over took over: ``from``, the mean incomplete pathways over
    the replications (``pathways_mean``, with its 95% interval), ``replications``, and the
    one-off mobilisation cost its prime contract is charged in year 1 (``mobilisation_gbp``)."""
    out: dict[str, dict[str, Any]] = {}
    for design, old in inheriting(scenario, designs).items():
        counts = taken_over(returns, design)
        mean, low, high, n = interval(counts.to_numpy()) if len(counts) else (float("nan"),) * 3 + (0,)
        mob = scenario.designs[design].mobilisation
        out[design] = {
            "from": old,
            "pathways_mean": mean,
            "pathways_ci_low": low,
            "pathways_ci_high": high,
            "replications": n,
            "mobilisation_gbp": mob.cost_gbp if mob is not None else 0.0,
            "mobilises": mob is not None,
        }
    return out


def sentence(design: str, what: dict[str, Any]) -> str:
    """One line saying what a design took over: for the terminal and the report's caveats."""
    n = what["pathways_mean"]
    count = f"{n:,.0f} incomplete RTT pathways (mean over {what['replications']} replications)" if np.isfinite(n) else (
        "its incomplete RTT pathways"
    )  # fmt: skip
    text = f"'{design}' takes over the lists of '{what['from']}' at the contract start: {count}"
    if not what["mobilises"]:
        return text + ", at full strength from the first day (no mobilisation set)."
    cost = what["mobilisation_gbp"]
    money = f"a mobilisation cost of £{cost:,.0f} in year 1" if cost > 0 else "no mobilisation cost set"
    return text + f", mobilising as the scenario says ({money})."


def takeover_table(with_: Any, without: Any, price: float, risk: float) -> pd.DataFrame:
    """``takeover.csv``: the prime taking over against the same prime without the takeover, at
    the same price, paired by replication; one row per measure and contract year ("all": over
    the contract), with the mean and its 95% interval.

    ``with_`` and ``without`` are :class:`sim.money.bid.BidPaths` of the two designs, run on the same
    replications.
    """
    a, b = with_.account(price), without.account(price)
    a[["replication", "year"]] = with_.rows[["replication", "year"]].to_numpy()
    b[["replication", "year"]] = without.rows[["replication", "year"]].to_numpy()
    a["waiting_list_end"] = with_.rows["waiting_list_end"].to_numpy()
    b["waiting_list_end"] = without.rows["waiting_list_end"].to_numpy()
    keys = ["replication", "year"]
    both = a.merge(b, on=keys, suffixes=("_with", "_without"))
    records: list[dict[str, Any]] = []

    def add(metric: str, year: str, unit: str, values: np.ndarray) -> None:
        mean, low, high, n = share_interval(values) if unit == "probability" and len(values) > 1 else interval(values)
        records.append({"metric": metric, "year": year, "unit": unit, "mean": mean, "ci_low": low, "ci_high": high, "n": n})

    def differences(part: pd.DataFrame, year: str) -> None:
        for metric, column in (
            ("extra_cost_gbp", "prime_cost_gbp"),
            ("extra_delivery_cost_gbp", "cost_delivery_gbp"),
            ("extra_mobilisation_gbp", "cost_mobilisation_gbp"),
            ("extra_income_gbp", "prime_income_gbp"),
            ("extra_surplus_gbp", PRIME_SURPLUS_GBP),
        ):
            add(metric, year, "gbp", (part[f"{column}_with"] - part[f"{column}_without"]).to_numpy())

    for year, part in both.groupby("year", sort=True):
        y = str(year)
        differences(part, y)
        waiting = part["waiting_list_end_with"] - part["waiting_list_end_without"]
        add("extra_waiting_list_end", y, "patients", waiting.to_numpy())
        add("loss_probability_with", y, "probability", (part[f"{PRIME_SURPLUS_GBP}_with"] < 0).to_numpy(dtype=float))
        add("loss_probability_without", y, "probability", (part[f"{PRIME_SURPLUS_GBP}_without"] < 0).to_numpy(dtype=float))
    whole = both.drop(columns="year").groupby("replication").sum()
    differences(whole, "all")
    add("loss_probability_cumulative_with", "all", "probability", (whole[f"{PRIME_SURPLUS_GBP}_with"] < 0).to_numpy(dtype=float))
    add("loss_probability_cumulative_without", "all", "probability",
        (whole[f"{PRIME_SURPLUS_GBP}_without"] < 0).to_numpy(dtype=float))  # fmt: skip
    population = with_.contract.population(with_.population)
    for metric, paths in (("safe_price_year1_with_gbp", with_), ("safe_price_year1_without_gbp", without)):
        try:
            safe = paths.safe_price(risk)
        except ValueError:  # no price keeps the loss probability under the target on these paths
            safe = float("nan")
        records.append({"metric": metric, "year": "all", "unit": "gbp", "mean": safe, "ci_low": np.nan,
                        "ci_high": np.nan, "n": len(paths.paths)})  # fmt: skip
    safe = {r["metric"]: r["mean"] for r in records if r["metric"].startswith("safe_price")}
    extra = safe["safe_price_year1_with_gbp"] - safe["safe_price_year1_without_gbp"]
    records.append({"metric": "extra_safe_price_year1_gbp", "year": "all", "unit": "gbp", "mean": extra,
                    "ci_low": np.nan, "ci_high": np.nan, "n": len(with_.paths)})  # fmt: skip
    records.append({"metric": "extra_safe_price_per_head_gbp", "year": "all", "unit": "gbp", "mean": extra / population,
                    "ci_low": np.nan, "ci_high": np.nan, "n": len(with_.paths)})  # fmt: skip
    return pd.DataFrame.from_records(records)
