"""Summaries: means and 95% confidence intervals across replications, and paired differences."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np

from sim.base.lazy import later

pd = later("pandas")
stats = later("scipy.stats")

ID_COLUMNS = ("design", "replication", "year")


def metric_columns(table: pd.DataFrame) -> list[str]:
    """Numeric result columns (everything but the identifiers)."""
    return [c for c in table.columns if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(table[c])]


def _present(values: np.ndarray) -> np.ndarray:
    """The values as floats, missing ones (NaN) left out."""
    v = np.asarray(values, dtype=float)
    return v[~np.isnan(v)]


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and a t-based confidence interval: (mean, low, high, n)."""
    v = _present(values)
    n = len(v)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(v.mean())
    if n < 2:
        return mean, np.nan, np.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


def share_interval(flags: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """A share of paths (a probability) with Wilson's score interval: (share, low, high, n).

    Unlike a t-interval, it stays within [0, 1] and is not of zero width when no path (or
    every path) has the property.
    """
    v = _present(flags)
    if len(v) == 0:
        return np.nan, np.nan, np.nan, 0
    n, k = len(v), int(v.sum())
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return k / n, float(ci.low), float(ci.high), n


def quantile_interval(values: np.ndarray, q: float, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free bounds on the ``q`` quantile from order statistics: (low, high), each
    NaN when too few values to give it at this level."""
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    if n == 0:
        return np.nan, np.nan
    tail = (1 - level) / 2
    low = int(stats.binom.ppf(tail, n, q))  # order statistic v[low - 1] (1-based low) lies below the quantile
    high = int(stats.binom.ppf(1 - tail, n, q)) + 1
    below = v[low - 1] if low >= 1 and stats.binom.cdf(low - 1, n, q) <= tail else np.nan
    above = v[high - 1] if high <= n and stats.binom.cdf(high - 1, n, q) >= 1 - tail else np.nan
    return float(below), float(above)


def paths_for_upper_bound(q: float, level: float = 0.95) -> int:
    """The fewest values from which the ``q`` quantile has an upper bound at ``level`` (two-sided)."""
    return int(np.ceil(np.log((1 - level) / 2) / np.log(q)))


def per_replication(table: pd.DataFrame) -> pd.DataFrame:
    """Whole-horizon values per design × replication: the mean over contract years."""
    cols = metric_columns(table)
    means = table.groupby(["design", "replication"], sort=False)[cols].mean().copy()  # one block, not one a column
    out = means.reset_index()
    out["year"] = "all"
    return out


def summarise(table: pd.DataFrame, baseline: str | None = None, *others: str) -> pd.DataFrame:
    """Tidy summary: one row per scope × year × metric with mean and 95% interval.

    ``scope`` is a design name, or ``"<other> - <baseline>"`` for the difference paired by
    replication (and year), which is what common random numbers make precise: one for each
    of ``others``.
    """
    cols = metric_columns(table)
    years = table.copy()
    years["year"] = years["year"].astype(str)
    full = pd.concat([years, per_replication(table)], ignore_index=True)
    records = []
    for (design, year), part in full.groupby(["design", "year"], sort=False):
        for c in cols:
            records.append(_record(str(design), str(year), c, part[c].to_numpy()))
    for scope, year, part in paired_differences(full, cols, baseline, others):
        records += [_record(scope, year, c, part[c].to_numpy()) for c in cols]
    return pd.DataFrame.from_records(records)


def paired_differences(
    wide: pd.DataFrame, cols: list[str], baseline: str | None, others: tuple[str | None, ...]
) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """Each of ``others`` minus ``baseline``, paired by replication and year: (``"<other> -
    <baseline>"``, year, that year's differences of ``cols``), for the designs given."""
    if not baseline:
        return
    a = wide[wide["design"] == baseline].set_index(["replication", "year"])
    for other in others:
        if not other:
            continue
        b = wide[wide["design"] == other].set_index(["replication", "year"])
        common = a.index.intersection(b.index, sort=False)
        diff = b.loc[common, cols] - a.loc[common, cols]
        for year, part in diff.groupby(level="year", sort=False):
            yield f"{other} - {baseline}", str(year), part


def _record(scope: str, year: str, metric: str, values: np.ndarray) -> dict:
    mean, low, high, n = interval(values)
    return {"scope": scope, "year": year, "metric": metric, "mean": mean, "ci_low": low, "ci_high": high, "n": n}


def rtt_monthly(monthly: pd.DataFrame, scenario) -> pd.DataFrame:
    """``rtt_monthly.csv``: incomplete pathways at each month end in the shape of the NHS RTT
    statistics (weeks-waited bands, median, 92nd percentile, long-wait breaches), per
    design and replication."""
    if monthly.empty:
        return monthly
    first = scenario.run.start_date - timedelta(days=scenario.run.warmup_days)
    cols = [c for c in monthly.columns if c.startswith("rtt_")]
    keys = [c for c in ("point", "design", "replication") if c in monthly.columns]
    out = monthly[[*keys, "year", *cols]].copy()
    # a snapshot taken at the start of day t describes the month that ended on day t - 1
    out.insert(len(keys), "month_end", [(first + timedelta(days=int(d) - 1)).isoformat() for d in monthly["day"]])
    return out
