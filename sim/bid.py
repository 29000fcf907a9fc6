"""Stress-testing a capitated bid: loss probabilities, value at risk and a safe price.

The prime's delivery costs along each simulated path do not depend on the price, so every
price is evaluated on the same paths by re-running the contract arithmetic, never the model.
The prime's result is continuous and non-decreasing in the price, so each path has a single
break-even price and the safe price is a quantile of those.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.finance import prime_account
from sim.metrics import interval
from sim.scenario import PrimeContract, Scenario

_MONEY = re.compile(r"^\s*£?\s*(-?[0-9][0-9,_]*(?:\.[0-9]+)?)\s*([kKmMbB]n?)?\s*$")
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9}


def parse_money(text: str | float) -> float:
    """Read a price as people write it: ``26.5m``, ``800k``, ``£1,250,000``, ``1.2bn``."""
    if isinstance(text, int | float):
        return float(text)
    m = _MONEY.match(text)
    if not m:
        raise ValueError(f"not an amount of money: {text!r} (try 26.5m, 800k or 26500000)")
    value = float(m.group(1).replace(",", "").replace("_", ""))
    return value * _SCALE[m.group(2).lower()] if m.group(2) else value


class BidPaths:
    """The prime design's simulated paths, ready to be priced.

    Parameters
    ----------
    table
        Result rows (``replications.csv``) that include the design.
    scenario
        The scenario they came from; its ``finance.prime_contract`` gives the terms.
    design
        The prime-contract design.
    """

    def __init__(self, table: pd.DataFrame, scenario: Scenario, design: str = "prime"):
        contract = scenario.finance.prime_contract
        if contract is None:
            raise ValueError("the scenario has no finance.prime_contract")
        self.contract: PrimeContract = contract
        self.rows = table[table["design"] == design].sort_values(["replication", "year"]).reset_index(drop=True)
        if self.rows.empty:
            raise ValueError(f"no rows for design '{design}'")
        # Costs come from the rows: each replication was costed with its own drawn prices.
        cols = [c for c in self.rows.columns if c.startswith("cost_provider_")]
        self.delivery_by_provider = self.rows[cols].rename(
            columns=lambda c: c.removeprefix("cost_provider_").removesuffix("_gbp")
        )
        self.delivery = self.delivery_by_provider.sum(axis=1).to_numpy()
        self.replications = self.rows["replication"].to_numpy()
        self.paths = np.unique(self.replications)

    def account(
        self, price: float | np.ndarray, contract: PrimeContract | None = None, delivery_scale: float = 1.0
    ) -> pd.DataFrame:
        """Income, costs and shares per row at a year-1 price (one price, or one per row)."""
        return prime_account(self.rows, self.delivery * delivery_scale, contract or self.contract, price)

    def cumulative(
        self, price: float | np.ndarray, contract: PrimeContract | None = None, delivery_scale: float = 1.0
    ) -> np.ndarray:
        """The prime's result over the whole contract on each path."""
        per_row = self.account(price, contract, delivery_scale)["prime_surplus_gbp"].to_numpy()
        return np.bincount(np.searchsorted(self.paths, self.replications), weights=per_row)

    def break_even(self, contract: PrimeContract | None = None) -> np.ndarray:
        """Each path's lowest year-1 price with no cumulative loss (bisection to £1)."""
        lo = np.zeros(len(self.paths))
        hi = np.full(len(self.paths), max(self.delivery.max(), 1.0) * 4.0)
        index = np.searchsorted(self.paths, self.replications)
        while (hi - lo).max() > 1.0:
            mid = (lo + hi) / 2
            ok = self.cumulative(mid[index], contract) >= 0
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        return hi

    def safe_price(self, max_loss_probability: float, contract: PrimeContract | None = None) -> float:
        """The lowest year-1 price at which P(cumulative loss) <= ``max_loss_probability``."""
        prices = np.sort(self.break_even(contract))
        allowed = int(np.floor(max_loss_probability * len(prices) + 1e-9))  # paths that may still lose
        return float(prices[len(prices) - allowed - 1]) if allowed < len(prices) else 0.0


def bid_table(paths: BidPaths, price: float) -> pd.DataFrame:
    """``bid.csv``: one row per replication × year with every component and the running total."""
    acc = paths.account(price)
    out = pd.concat(
        [
            paths.rows[["replication", "year"]],
            paths.delivery_by_provider.add_prefix("cost_provider_").add_suffix("_gbp"),
            acc,
        ],
        axis=1,
    )
    out["cumulative_surplus_gbp"] = out.groupby("replication")["prime_surplus_gbp"].cumsum()
    return out


def bid_summary(paths: BidPaths, price: float, max_loss_probability: float) -> pd.DataFrame:
    """``bid_summary.csv``: the figures a bidder asks for, with 95% intervals where they apply."""
    table = bid_table(paths, price)
    per_path = table.groupby("replication")
    cumulative = per_path["prime_surplus_gbp"].sum().to_numpy()
    income = per_path["prime_income_gbp"].sum().to_numpy()
    y1 = table[table["year"] == 1].set_index("replication")["prime_surplus_gbp"]
    any_year = per_path["prime_surplus_gbp"].min().to_numpy() < 0
    records: list[dict] = []

    def add(metric: str, values: np.ndarray, unit: str, year: str = "all") -> None:
        mean, low, high, n = interval(values)
        records.append({"metric": metric, "year": year, "unit": unit, "mean": mean, "ci_low": low, "ci_high": high, "n": n})

    add("bid_year1_gbp", np.array([price]), "gbp")
    for year, part in table.groupby("year"):
        add("prime_surplus_gbp", part["prime_surplus_gbp"].to_numpy(), "gbp", str(year))
        add("commissioner_cost_gbp", part["commissioner_cost_gbp"].to_numpy(), "gbp", str(year))
        add("commissioner_gain_share_gbp", part["commissioner_gain_share_gbp"].to_numpy(), "gbp", str(year))
        add("loss_probability", (part["prime_surplus_gbp"].to_numpy() < 0).astype(float), "probability", str(year))
    add("cumulative_surplus_gbp", cumulative, "gbp")
    add("margin_pct", 100.0 * cumulative / income, "pct")
    add("loss_probability_year1", (y1.to_numpy() < 0).astype(float), "probability")
    add("loss_probability_any_year", any_year.astype(float), "probability")
    add("loss_probability_cumulative", (cumulative < 0).astype(float), "probability")
    p5 = float(np.quantile(cumulative, 0.05))
    add("cumulative_surplus_p5_gbp", np.array([p5]), "gbp")
    add("value_at_risk_5pct_gbp", np.array([max(0.0, -p5)]), "gbp")  # the loss at the 5th percentile, if any
    add("commissioner_cost_total_gbp", per_path["commissioner_cost_gbp"].sum().to_numpy(), "gbp")
    add("commissioner_gain_share_total_gbp", per_path["commissioner_gain_share_gbp"].sum().to_numpy(), "gbp")
    add("safe_price_year1_gbp", np.array([paths.safe_price(max_loss_probability)]), "gbp")
    add("max_loss_probability", np.array([max_loss_probability]), "probability")
    return pd.DataFrame.from_records(records)


SWINGS: tuple[tuple[str, str, float, float], ...] = (
    # (input, how it is varied, low, high)
    ("delivery cost (activity and unit costs)", "scale", 0.9, 1.1),
    ("overheads_gbp", "relative", 0.8, 1.2),
    ("escalator", "absolute", -0.01, 0.01),
    ("vat_rate on 30% of costs", "vat", 0.0, 0.2),
    ("quality_share earned", "quality", 0.0, 1.0),
)


def prcc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of ``y`` with each column of ``x``, the others held fixed."""
    from scipy.stats import rankdata

    rx = np.column_stack([rankdata(col) for col in x.T]) if x.size else x
    ry = rankdata(y)
    out = np.full(rx.shape[1], np.nan)
    for j in range(rx.shape[1]):
        others = np.column_stack([np.ones(len(ry)), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        denom = np.sqrt((res_x**2).sum() * (res_y**2).sum())
        out[j] = (res_x * res_y).sum() / denom if denom > 0 else np.nan
    return out


def drawn_sensitivity(paths: BidPaths, price: float) -> pd.DataFrame:
    """Rank the drawn inputs (``param.*`` columns) by partial rank correlation with the
    cumulative surplus, with the mean surplus in their lowest and highest quartiles."""
    params = [c for c in paths.rows.columns if c.startswith("param.")]
    first = paths.rows.groupby("replication")[params].first() if params else pd.DataFrame()
    varying = [c for c in params if first[c].nunique() > 1]
    if not varying or len(first) < len(varying) + 3:
        return pd.DataFrame(
            columns=["input", "kind", "prcc", "low", "high", "surplus_at_low_gbp", "surplus_at_high_gbp", "swing_gbp"]
        )
    y = paths.cumulative(price)
    x = first.loc[paths.paths, varying].to_numpy(dtype=float)
    rho = prcc(x, y)
    records = []
    for j, name in enumerate(varying):
        lo_cut, hi_cut = np.quantile(x[:, j], [0.25, 0.75])
        low, high = y[x[:, j] <= lo_cut].mean(), y[x[:, j] >= hi_cut].mean()
        records.append(
            {
                "input": name.removeprefix("param."),
                "kind": "drawn input (quartiles)",
                "prcc": rho[j],
                "low": lo_cut,
                "high": hi_cut,
                "surplus_at_low_gbp": low,
                "surplus_at_high_gbp": high,
                "swing_gbp": abs(high - low),
            }
        )
    return pd.DataFrame.from_records(records)


def sensitivity(paths: BidPaths, price: float) -> pd.DataFrame:
    """What moves the cumulative surplus, largest first.

    Drawn inputs (when the scenario has an ``[uncertainty]`` section) are ranked by partial
    rank correlation and their quartile swing; contract terms and cost levels are swung
    low/high on the same simulated paths.
    """
    return pd.concat([drawn_sensitivity(paths, price), term_sensitivity(paths, price)], ignore_index=True).sort_values(
        "swing_gbp", ascending=False, ignore_index=True
    )


def term_sensitivity(paths: BidPaths, price: float) -> pd.DataFrame:
    """Low/high swings of cost levels and contract terms, evaluated on the simulated paths."""
    base = paths.cumulative(price).mean()
    c = paths.contract
    records = []
    for name, how, low, high in SWINGS:
        values = []
        for x in (low, high):
            if how == "scale":
                v = paths.cumulative(price, delivery_scale=x).mean()
            elif how == "relative":
                v = paths.cumulative(price, c.model_copy(update={"overheads_gbp": c.overheads_gbp * x})).mean()
            elif how == "absolute":
                v = paths.cumulative(price, c.model_copy(update={"escalator": c.escalator + x})).mean()
            elif how == "vat":
                v = paths.cumulative(price, c.model_copy(update={"vat_rate": x, "vat_cost_share": 0.3})).mean()
            else:  # quality: none of the pot earned, or all of it
                terms = {"quality_rtt_target_pct": 0.0, "quality_diversion_target_pct": 0.0, "quality_followup_ratio_max": 1e9}
                if x == 0.0:
                    terms = {"quality_share": 0.0}
                v = paths.cumulative(price, c.model_copy(update=terms)).mean()
            values.append(v)
        records.append(
            {
                "input": name,
                "kind": "term (low/high)",
                "low": low,
                "high": high,
                "surplus_at_low_gbp": values[0],
                "surplus_at_high_gbp": values[1],
                "swing_gbp": abs(values[1] - values[0]),
                "base_gbp": base,
            }
        )
    return pd.DataFrame.from_records(records)
