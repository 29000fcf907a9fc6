"""Stress-testing a capitated bid: loss probabilities, value at risk and a safe price.

The prime's delivery costs along each simulated path do not depend on the price, so every
price is evaluated on the same paths by re-running the contract arithmetic, never the model.
The prime's result is continuous and piecewise linear in the price. It is non-decreasing
unless the commissioner takes on most of any loss beyond a deficit corridor: the corridor is
a share of the up-front payment, so a higher price then widens the loss the prime bears. A
path's break-even price is therefore the lowest price from which no higher price loses
money, and the safe price is an order statistic of those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.base.lazy import later
from sim.base.metrics import interval, quantile_interval, share_interval
from sim.money.contracts import contract_value, prime_account, sharing_edges
from sim.money.payment import COST_OF_PROVIDER, PAID_TO_PROVIDER
from sim.money.prices import cost_index, discount_factor
from sim.scenario.columns import column
from sim.scenario.contracts import PrimeContract
from sim.scenario.names import PRIME_SURPLUS_GBP
from sim.scenario.schema import Scenario

pd = later("pandas")
stats = later("scipy.stats")

PRICE_CAP_FACTOR = 1024.0
"""The break-even search gives up at this multiple of a path's costs (its costliest year,
in year-1 prices): terms that lose money at such a price never break even in practice."""


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
        contract = scenario.design_finance(design).prime_contract  # a takeover's mobilisation cost included
        if contract is None:
            raise ValueError("the scenario has no finance.prime_contract")
        self.contract: PrimeContract = contract
        self.price = contract.year1_value(scenario.population)
        """The year-1 price the scenario sets (a sum, or per head times the population)."""
        self.rows = table[table["design"] == design].sort_values(["replication", "year"]).reset_index(drop=True)
        if self.rows.empty:
            raise ValueError(f"no rows for design '{design}'")
        # Costs come from the rows: each replication was costed with its own drawn prices.
        cols = [c for c in self.rows.columns if c.startswith(COST_OF_PROVIDER)]
        self.delivery_by_provider = self.rows[cols].rename(
            columns=lambda c: c.removeprefix(COST_OF_PROVIDER).removesuffix("_gbp")
        )
        self.delivery = self.delivery_by_provider.sum(axis=1).to_numpy()
        # care outside the contract's scope, which the commissioner pays for directly at any price
        direct = [c for c in self.rows.columns if c.startswith(PAID_TO_PROVIDER)]
        self.direct = self.rows[direct].sum(axis=1).to_numpy() if direct else np.zeros(len(self.rows))
        self.replications = self.rows["replication"].to_numpy()
        self.paths = np.unique(self.replications)
        self.cost_index = cost_index(scenario.finance, self.rows["year"])
        self.population = float(scenario.population)
        self.discount_rate = scenario.finance.discount_rate
        self.discount = discount_factor(scenario.finance, self.rows["year"])

    def account(
        self, price: float | np.ndarray, contract: PrimeContract | None = None, delivery_scale: float = 1.0
    ) -> pd.DataFrame:
        """Income, costs and shares per row at a year-1 price (one price, or one per row)."""
        acc = prime_account(self.rows, self.delivery * delivery_scale, contract or self.contract, price, self.cost_index)
        acc["commissioner_cost_gbp"] += self.direct
        return acc

    def cumulative(
        self, price: float | np.ndarray, contract: PrimeContract | None = None, delivery_scale: float = 1.0
    ) -> np.ndarray:
        """The prime's result over the whole contract on each path."""
        per_row = self.account(price, contract, delivery_scale)[PRIME_SURPLUS_GBP].to_numpy()
        return np.bincount(np.searchsorted(self.paths, self.replications), weights=per_row)

    def break_even(self, contract: PrimeContract | None = None) -> np.ndarray:
        """Each path's break-even year-1 price, to within £1: the lowest price from which no
        higher price loses money over the contract; ``inf`` if none up to
        :data:`PRICE_CAP_FACTOR` times the path's costs does."""
        terms = contract or self.contract
        path = np.searchsorted(self.paths, self.replications)  # each row's path, by position

        def result(price: np.ndarray) -> np.ndarray:
            return self.cumulative(price[path], terms)

        # The result is linear in price between the kinks of the sharing rule, so its last
        # change of sign lies between the last kink where it is negative and the next one.
        kinks = self._kinks(terms, path)
        losing = np.column_stack([result(kinks[:, j]) < 0 for j in range(kinks.shape[1])])
        lo, hi, beyond = _last_loss_bracket(kinks, losing)
        # Still losing beyond the last kink: double the bound until the result there is
        # checked to be no loss, up to a cap. Every bracket then has a loss at ``lo``, none at
        # ``hi`` and a straight line between, so bisection keeps both true.
        scale = self._cost_scale(terms, path)
        hi = np.where(beyond, np.maximum(2.0 * lo, scale), hi)
        cap = PRICE_CAP_FACTOR * np.maximum(scale, lo)
        while True:
            never = beyond & (result(hi) < 0)
            grow = never & (hi < cap)
            if not grow.any():
                break
            hi = np.where(grow, np.minimum(2.0 * hi, cap), hi)
        lo, hi = np.where(never, 0.0, lo), np.where(never, 0.0, hi)
        while (hi - lo).max(initial=0.0) > 1.0:
            mid = (lo + hi) / 2
            ok = result(mid) >= 0
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        return np.where(never, np.inf, hi)

    def _kinks(self, terms: PrimeContract, path: np.ndarray) -> np.ndarray:
        """The prices where each path's result may bend: 0 and its rows' sharing edges, sorted,
        one row a path; a path with fewer repeats its last, which changes nothing."""
        n = len(self.paths)
        edges = sharing_edges(self.rows["year"], self.delivery, terms)
        finite = np.isfinite(edges.ravel())
        owner = np.concatenate([np.arange(n), np.repeat(path, edges.shape[1])[finite]])
        price = np.concatenate([np.zeros(n), edges.ravel()[finite]])
        order = np.lexsort((price, owner))
        owner, price = owner[order], price[order]
        rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
        kinks = np.full((n, rank.max() + 1), np.nan)
        kinks[owner, rank] = price
        for j in range(1, kinks.shape[1]):
            kinks[:, j] = np.where(np.isnan(kinks[:, j]), kinks[:, j - 1], kinks[:, j])
        return kinks

    def _cost_scale(self, terms: PrimeContract, path: np.ndarray) -> np.ndarray:
        """Each path's costliest year in year-1 prices (at least £1): where the search for a
        break-even price beyond the last kink starts, and what its cap is a multiple of."""
        costs = self.account(0.0, terms)["prime_cost_gbp"].to_numpy() / contract_value(self.rows["year"], terms, 1.0)
        first_rows = np.searchsorted(path, np.arange(len(self.paths)))
        return np.maximum(np.maximum.reduceat(costs, first_rows) if len(costs) else 0.0, 1.0)

    def safe_price(self, max_loss_probability: float, contract: PrimeContract | None = None) -> float:
        """The lowest year-1 price from which P(cumulative loss) <= ``max_loss_probability``.

        Raises
        ------
        ValueError
            If too many paths lose money at any price up to the cap: the contract's terms
            leave the prime too little of any surplus to cover its own costs.
        """
        prices = np.sort(self.break_even(contract))
        n = len(prices)
        # the most paths that may still lose: the largest k with k / n <= target, compared
        # as a loss share is (so a target of 0.29 on 100 paths allows 29, and 1 - 1e-16 on 1 allows none)
        allowed = min(int(np.floor(max_loss_probability * n)), n)
        allowed += int((allowed + 1) / n <= max_loss_probability)
        allowed -= int(allowed > 0 and allowed / n > max_loss_probability)
        if allowed >= len(prices):
            return 0.0
        price = float(prices[len(prices) - allowed - 1])
        if not np.isfinite(price):
            never = int(np.isinf(prices).sum())
            raise ValueError(
                f"no year-1 price keeps the probability of a loss at or under {max_loss_probability:.0%}: on {never} of "
                f"{len(prices)} paths the prime loses money even at {PRICE_CAP_FACTOR:g} times its costs, because the "
                "contract leaves it too little of any surplus to cover its own costs"
            )
        return price


def _last_loss_bracket(kinks: np.ndarray, losing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each path, the last kink where it loses money and the next kink (``lo``, ``hi``;
    both 0 where it never loses), and whether that loss is at its last kink (``beyond``)."""
    n, width = kinks.shape
    paths = np.arange(n)
    last = width - 1 - np.argmax(losing[:, ::-1], axis=1)
    ever = losing.any(axis=1)
    lo = np.where(ever, kinks[paths, last], 0.0)
    hi = np.where(ever & (last < width - 1), kinks[paths, np.minimum(last + 1, width - 1)], lo)
    return lo, hi, ever & (last == width - 1)


def bid_table(paths: BidPaths, price: float) -> pd.DataFrame:
    """``bid.csv``: one row per replication × year with every component and the running total."""
    acc = paths.account(price)
    out = pd.concat(
        [
            paths.rows[["replication", "year"]],
            paths.delivery_by_provider.add_prefix(COST_OF_PROVIDER).add_suffix("_gbp"),
            acc,
        ],
        axis=1,
    )
    out["cumulative_surplus_gbp"] = out.groupby("replication")[PRIME_SURPLUS_GBP].cumsum()
    return out


def bid_summary(paths: BidPaths, price: float, max_loss_probability: float) -> pd.DataFrame:
    """``bid_summary.csv``: the figures a bidder asks for, with 95% intervals where they apply."""
    table = bid_table(paths, price)
    per_path = table.groupby("replication")
    cumulative = per_path[PRIME_SURPLUS_GBP].sum().to_numpy()
    income = per_path["prime_income_gbp"].sum().to_numpy()
    y1 = table[table["year"] == 1].set_index("replication")[PRIME_SURPLUS_GBP]
    any_year = per_path[PRIME_SURPLUS_GBP].min().to_numpy() < 0
    records: list[dict] = []

    def add(metric: str, values: np.ndarray, unit: str, year: str = "all") -> None:
        mean, low, high, n = share_interval(values) if unit == "probability" and len(values) > 1 else interval(values)
        records.append({"metric": metric, "year": year, "unit": unit, "mean": mean, "ci_low": low, "ci_high": high, "n": n})

    population = paths.contract.population(paths.population)
    add("bid_year1_gbp", np.array([price]), "gbp")
    add("bid_per_head_gbp", np.array([price / population]), "gbp")
    for year, part in table.groupby("year"):
        add(PRIME_SURPLUS_GBP, part[PRIME_SURPLUS_GBP].to_numpy(), "gbp", str(year))
        add("commissioner_cost_gbp", part["commissioner_cost_gbp"].to_numpy(), "gbp", str(year))
        add("commissioner_gain_share_gbp", part["commissioner_gain_share_gbp"].to_numpy(), "gbp", str(year))
        add("loss_probability", (part[PRIME_SURPLUS_GBP].to_numpy() < 0).astype(float), "probability", str(year))
    add("cumulative_surplus_gbp", cumulative, "gbp")
    present = table[[PRIME_SURPLUS_GBP, "commissioner_cost_gbp"]].mul(paths.discount, axis=0)  # year-1 pounds
    discounted = present.groupby(table["replication"]).sum()
    add("cumulative_surplus_npv_gbp", discounted[PRIME_SURPLUS_GBP].to_numpy(), "gbp")
    add("margin_pct", 100.0 * cumulative / income, "pct")
    add("loss_probability_year1", (y1.to_numpy() < 0).astype(float), "probability")
    add("loss_probability_any_year", any_year.astype(float), "probability")
    add("loss_probability_cumulative", (cumulative < 0).astype(float), "probability")
    p5 = float(np.quantile(cumulative, 0.05))
    add("cumulative_surplus_p5_gbp", np.array([p5]), "gbp")
    add("value_at_risk_5pct_gbp", np.array([max(0.0, -p5)]), "gbp")  # the loss at the 5th percentile, if any
    add("commissioner_cost_total_gbp", per_path["commissioner_cost_gbp"].sum().to_numpy(), "gbp")
    add("commissioner_cost_total_npv_gbp", discounted["commissioner_cost_gbp"].to_numpy(), "gbp")
    add("commissioner_gain_share_total_gbp", per_path["commissioner_gain_share_gbp"].sum().to_numpy(), "gbp")
    add("discount_rate", np.array([paths.discount_rate]), "rate")
    try:
        safe = paths.safe_price(max_loss_probability)
    except ValueError:  # no price keeps the loss probability under the target: say so, keep the rest
        safe = float("nan")
    # the safe price is an order statistic of the paths' break-even prices: bounded by others
    low, high = quantile_interval(paths.break_even(), 1 - max_loss_probability) if np.isfinite(safe) else (np.nan, np.nan)
    records.append({"metric": "safe_price_year1_gbp", "year": "all", "unit": "gbp", "mean": safe,
                    "ci_low": low, "ci_high": high, "n": len(paths.paths)})  # fmt: skip
    records.append({"metric": "safe_price_per_head_gbp", "year": "all", "unit": "gbp", "mean": safe / population,
                    "ci_low": low / population, "ci_high": high / population, "n": len(paths.paths)})  # fmt: skip
    add("max_loss_probability", np.array([max_loss_probability]), "probability")
    return pd.DataFrame.from_records(records)


@dataclass(frozen=True)
class Swing:
    """One input of the bid swung low and high on the simulated paths.

    ``vary(terms, x)`` gives the contract terms and the factor on delivery costs at ``x``.
    """

    input: str
    low: float
    high: float
    vary: Callable[[PrimeContract, float], tuple[PrimeContract, float]]


def _changed(terms: PrimeContract, **update: float) -> PrimeContract:
    return terms.model_copy(update=update)


def _quality_earned(terms: PrimeContract, x: float) -> tuple[PrimeContract, float]:
    """None of the quality pot earned (x = 0), or all of it (targets every row meets)."""
    if x == 0.0:
        return _changed(terms, quality_share=0.0), 1.0
    # a target anyone meets: the measure's worst value is past any reachable one
    met = [t.model_copy(update={"target": -1e12 * column(t.measure).sign, "floor": None}) for t in terms.quality_targets]
    return terms.model_copy(update={"quality_targets": met}), 1.0


SWINGS: tuple[Swing, ...] = (
    Swing("delivery cost (activity and unit costs)", 0.9, 1.1, lambda terms, x: (terms, x)),
    Swing("overheads_gbp", 0.8, 1.2, lambda terms, x: (_changed(terms, overheads_gbp=terms.overheads_gbp * x), 1.0)),
    Swing("escalator", -0.01, 0.01, lambda terms, x: (_changed(terms, escalator=terms.escalator + x), 1.0)),
    Swing("vat_rate on 30% of costs", 0.0, 0.2, lambda terms, x: (_changed(terms, vat_rate=x, vat_cost_share=0.3), 1.0)),
    Swing("quality_share earned", 0.0, 1.0, _quality_earned),
)
"""The contract terms and cost levels :func:`term_sensitivity` swings."""


def prcc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of ``y`` with each column of ``x``, the others held fixed."""
    rx = np.column_stack([stats.rankdata(col) for col in x.T]) if x.size else x
    ry = stats.rankdata(y)
    out = np.full(rx.shape[1], np.nan)
    for j in range(rx.shape[1]):
        others = np.column_stack([np.ones(len(ry)), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        denom = np.sqrt((res_x**2).sum() * (res_y**2).sum())
        out[j] = (res_x * res_y).sum() / denom if denom > 0 else np.nan
    return out


PARTIAL = "drawn input (quartiles)"
"""The kind of a drawn input ranked by partial rank correlation."""
MARGINAL = "drawn input (quartiles; plain rank correlation)"
"""The kind of a drawn input ranked by plain rank correlation: too few replications for partial."""


def _drawn(paths: BidPaths) -> pd.DataFrame:
    """Each path's drawn inputs that vary between paths (``param.`` columns), one row a path."""
    params = [c for c in paths.rows.columns if c.startswith("param.")]
    if not params:
        return pd.DataFrame(index=paths.paths)
    first = paths.rows.groupby("replication")[params].first()
    return first[[c for c in params if first[c].nunique() > 1]]


def unranked_inputs(paths: BidPaths) -> str | None:
    """Why the drawn inputs are not ranked, or ranked by plain rank correlation rather than
    partial (None when they are ranked by partial rank correlation)."""
    drawn = _drawn(paths)
    k, n = drawn.shape[1], len(drawn)
    if not k or n >= k + 3:
        return None
    if n < 3:
        return (
            f"the {k} drawn inputs are not ranked in sensitivity.csv: a rank correlation needs at least 3 replications, "
            f"and there are {n}; raise --reps"
        )
    return (
        f"the {k} drawn inputs are ranked in sensitivity.csv by plain rank correlation, each on its own: holding the "
        f"others fixed (partial rank correlation) needs at least {k + 3} replications (inputs + 3), and there are {n}; "
        "raise --reps"
    )


def drawn_sensitivity(paths: BidPaths, price: float) -> pd.DataFrame:
    """Rank the drawn inputs (``param.*`` columns) by partial rank correlation with the
    cumulative surplus, or by plain rank correlation when there are too few replications to
    hold the others fixed, with the mean surplus in their lowest and highest quartiles."""
    drawn = _drawn(paths)
    k, n = drawn.shape[1], len(drawn)
    if not k or n < 3:
        return pd.DataFrame(
            columns=["input", "kind", "prcc", "low", "high", "surplus_at_low_gbp", "surplus_at_high_gbp", "swing_gbp"]
        )
    y = paths.cumulative(price)
    x = drawn.loc[paths.paths].to_numpy(dtype=float)
    partial = n >= k + 3
    rho = prcc(x, y) if partial else np.array([stats.spearmanr(col, y).statistic if np.ptp(y) > 0 else np.nan for col in x.T])
    records = []
    for j, name in enumerate(drawn.columns):
        lo_cut, hi_cut = np.quantile(x[:, j], [0.25, 0.75])
        low, high = y[x[:, j] <= lo_cut].mean(), y[x[:, j] >= hi_cut].mean()
        records.append(
            {
                "input": name.removeprefix("param."),
                "kind": PARTIAL if partial else MARGINAL,
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
    records = []
    for swing in SWINGS:
        at_low, at_high = (paths.cumulative(price, *swing.vary(paths.contract, x)).mean() for x in (swing.low, swing.high))
        records.append(
            {
                "input": swing.input,
                "kind": "term (low/high)",
                "low": swing.low,
                "high": swing.high,
                "surplus_at_low_gbp": at_low,
                "surplus_at_high_gbp": at_high,
                "swing_gbp": abs(at_high - at_low),
                "base_gbp": base,
            }
        )
    return pd.DataFrame.from_records(records)
