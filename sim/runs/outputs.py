"""The tables each simulating command makes of its batch, and its JSON for other programs.

``run`` and ``compare`` summarise designs (and their difference); ``sweep`` labels each
grid point with its swept values; ``bid`` stress-tests a price. :func:`strict_json` is what
``--json`` prints.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

from sim.analysis.switchover_months import also_compared, compared
from sim.analysis.takeover import TAKES_OVER, taken_over, takeover_table
from sim.base.lazy import later
from sim.base.metrics import interval, summarise
from sim.money.bid import BidPaths, bid_summary, bid_table, sensitivity
from sim.money.cash import CashError, cash_summary, monthly_cash
from sim.rtt.summary import summarise_returns
from sim.runs.batch import Batch, BatchError, Say, per_point
from sim.runs.experiment import BatchResult

pd = later("pandas")


def design_tables(batch: Batch, result: BatchResult) -> dict[str, pd.DataFrame]:
    """``replications`` and ``summary``: with two designs, the second minus the first too.

    The summary's rows of the result columns come first, then those of the RTT returns
    (:func:`with_returns`).
    """
    table = per_point(batch, result.table)
    pair = [*compared(batch.designs, batch.extra), *also_compared(batch.extra)]
    summary = with_returns(summarise(table, *pair), batch, result, *pair) if not table.empty else pd.DataFrame()
    return {"replications": table, "summary": summary}


def with_returns(summary: pd.DataFrame, batch: Batch, result: BatchResult, *pair: str) -> pd.DataFrame:
    """A summary with the rows of the RTT returns appended (``rtt_<function>_<part>_<statistic>``),
    when the batch made returns."""
    if result.returns.empty:
        return summary
    rows = summarise_returns(per_point(batch, result.returns), *pair)
    return pd.concat([summary, rows], ignore_index=True) if not rows.empty else summary


def sweep_tables(batch: Batch, result: BatchResult) -> dict[str, pd.DataFrame]:
    """``sweep`` (every row, with the swept values beside its point) and ``sweep_summary``."""
    table = result.table
    if table.empty:
        return {}
    keys = list(batch.grid)
    combos = list(itertools.product(*(batch.grid[k] for k in keys)))
    swept = pd.DataFrame({key: [combos[p][j] for p in table["point"]] for j, key in enumerate(keys)}, index=table.index)
    table = pd.concat([table.iloc[:, :1], swept, table.iloc[:, 1:]], axis=1)  # the swept values beside the point
    summary = sweep_summary(table, keys)
    if not result.returns.empty and "point" in result.returns.columns:
        summary = pd.concat([summary, _returns_by_point(result.returns, keys, combos, summary.columns)], ignore_index=True)
    return {"sweep": table, "sweep_summary": summary}


def _returns_by_point(returns: pd.DataFrame, keys: list[str], combos: list[tuple], columns: pd.Index) -> pd.DataFrame:
    """The RTT returns' measures (``rtt_110_incomplete_within_18w_pct``, …) per grid point ×
    design over the whole horizon, as rows of ``sweep_summary``."""
    parts = []
    for point, part in returns.groupby("point", sort=True):
        rows = summarise_returns(part.drop(columns=["point"]))
        rows = rows[rows["year"] == "all"].rename(columns={"scope": "design"}).drop(columns=["year"])
        for j, key in enumerate(keys):
            rows[key] = combos[int(point)][j]
        parts.append(rows.assign(point=int(point)))
    return pd.concat(parts, ignore_index=True)[list(columns)] if parts else pd.DataFrame(columns=columns)


def sweep_summary(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Whole-horizon mean and 95% interval of every metric per grid point × design."""
    parts = []
    for (point, design), part in table.groupby(["point", "design"], sort=True):
        s = summarise(part.drop(columns=["point", *keys]))
        s = s[s["year"] == "all"].drop(columns=["scope", "year"])
        s.insert(0, "design", design)
        for key in reversed(keys):
            s.insert(0, key, part[key].iloc[0])
        s.insert(0, "point", point)
        parts.append(s)
    return pd.concat(parts, ignore_index=True)


def bid_terms(batch: Batch, source: Path) -> tuple[float, float]:
    """The year-1 price tested (``--bid``, else the scenario's) and the risk appetite.

    Raises
    ------
    BatchError
        When the design is not paid by a prime contract.
    """
    name = batch.designs[0]
    payment = batch.scenario.designs[name].payment
    if payment != "prime_contract":
        raise BatchError(f"{source}: designs.{name}.payment: is {payment}, not prime_contract")
    contract = batch.scenario.finance.prime_contract
    population = batch.scenario.population
    per_head = batch.extra.get("bid_per_head_gbp")
    if per_head:
        year1 = per_head * contract.population(population)
    else:
        year1 = batch.extra["bid_year1_gbp"] or contract.year1_value(population)
    return year1, batch.extra["max_loss_probability"]


def bid_tables(batch: Batch, result: BatchResult, year1: float, risk: float, warn: Say = print) -> dict[str, pd.DataFrame]:
    """``replications``, and with rows: ``summary``, ``bid``, ``bid_summary``, ``bid_monthly`` and ``sensitivity``;
    for a bid that takes over, ``takeover`` too (:func:`sim.analysis.takeover.takeover_table`)."""
    table = per_point(batch, result.table)
    tables = {"replications": table}
    if not table.empty:
        paths = BidPaths(table, batch.scenario, batch.designs[0])
        summary = bid_summary(paths, year1, risk)
        pair = _takeover_pair(batch, table)
        tables.update(summary=with_returns(summarise(table, *pair), batch, result, *pair), bid=bid_table(paths, year1))
        if batch.scenario.designs[batch.designs[0]].inherits is not None:
            counts = taken_over(per_point(batch, result.returns), batch.designs[0]).to_numpy()
            mean, low, high, n = interval(counts) if len(counts) else (float("nan"), float("nan"), float("nan"), 0)
            row = {"metric": "pathways_taken_over", "year": "all", "unit": "patients", "mean": mean, "ci_low": low,
                   "ci_high": high, "n": n}  # fmt: skip
            summary = pd.concat([summary, pd.DataFrame([row])], ignore_index=True)
        if pair:
            tables["takeover"] = takeover_table(paths, BidPaths(table, batch.scenario, pair[0]), year1, risk)
        reserve = float(batch.extra.get("reserve_gbp") or 0.0)
        try:
            cash = monthly_cash(paths, per_point(batch, result.monthly), batch.scenario, year1, reserve)
        except CashError as e:  # a batch resumed from a journal an earlier msksim wrote
            warn(f"bid_monthly.csv not written: {e}")
        else:
            tables["bid_monthly"] = cash
            summary = pd.concat([summary, pd.DataFrame(cash_summary(cash, reserve))], ignore_index=True)
        tables.update(bid_summary=summary, sensitivity=sensitivity(paths, year1))
    return tables


def _takeover_pair(batch: Batch, table: pd.DataFrame) -> list[str]:
    """A bid that takes over: the design without the takeover, then the one with it (whose
    difference the summary pairs); none otherwise, or when either has no rows."""
    takes = batch.extra.get(TAKES_OVER)
    if not takes:
        return []
    pair = [takes["without"], takes["design"]]
    return pair if all((table["design"] == d).any() for d in pair) else []


def summary_json(summary: pd.DataFrame, folder: Path) -> str:
    """Whole-horizon mean and interval of every metric, by scope (design or difference)."""
    whole = summary[summary["year"] == "all"]
    data: dict[str, dict[str, dict[str, float]]] = {}
    for r in whole.itertuples():
        data.setdefault(r.scope, {})[r.metric] = {"mean": r.mean, "ci_low": r.ci_low, "ci_high": r.ci_high}
    return strict_json({"results": str(folder), "summary": data})


def bid_json(summary: pd.DataFrame, folder: Path) -> str:
    """Each bid measure's mean, by year (``_yearN``) or over the contract."""
    data = {r.metric + ("" if r.year == "all" else f"_year{r.year}"): r.mean for r in summary.itertuples()}
    return strict_json({"results": str(folder), "bid": data})


def strict_json(data: Any) -> str:
    """Strict JSON for other programs: a missing value (NaN, e.g. an interval from one
    replication) is null, not the NaN token most parsers reject."""

    def clean(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        if isinstance(x, float | int) and not isinstance(x, bool):
            return None if not math.isfinite(float(x)) else float(x) if isinstance(x, float) else int(x)
        return x

    return json.dumps(clean(data), indent=2, allow_nan=False, default=float)
