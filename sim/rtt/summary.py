"""RTT returns summed up across replications, in the shape of ``summary.csv``.

Per design × replication × treatment function × part, the band counts are pooled over the
months of each contract year (and of the whole horizon, year ``all``), and read as the NHS
reads a return: the percentage within 18 weeks, the median and the 95th percentile
(:mod:`sim.rtt.bands`), with the mean count per month. Across replications each becomes a
mean with its 95% interval (:func:`sim.base.metrics.interval`), and with two designs the paired
difference, exactly as :func:`sim.base.metrics.summarise` does for the result columns.

Only contract years count: the rows of year 0 (the lists as they stood when the contract
started, there for the returns to balance) are left out.

A metric is named ``rtt_<treatment function>_<part>_<statistic>``, e.g.
``rtt_110_incomplete_within_18w_pct`` or ``rtt_X01_clock_starts_per_month``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, NamedTuple

import numpy as np

from sim.base.lazy import later
from sim.base.metrics import interval, paired_differences
from sim.rtt.bands import BAND_LABELS, N_BANDS, percentile, within_pct

pd = later("pandas")

SUMMARY_COLUMNS: Final = ("scope", "year", "metric", "mean", "ci_low", "ci_high", "n")
"""The columns of a ``summary.csv`` row."""
SHAPED: Final = ("incomplete", "admitted", "nonadmitted")
"""Parts described by their waits (within 18 weeks, median, 95th percentile) and their count."""
COUNTED: Final = (*SHAPED, "clock_starts", "removals")
"""Parts summed up: the waited ones, and those only counted per month."""
STATISTICS: Final = ("per_month", "within_18w_pct", "median_weeks", "p95_weeks")
"""What a part becomes, in order; only ``per_month`` for the parts that are only counted."""
ALL_FUNCTIONS: Final = "999"
"""The code of the treatment function that totals the others, shown last."""

_IDS = ["design", "replication", "year"]
_METRIC = re.compile(rf"rtt_(?P<treatment_function>[^_]+)_(?P<part>{'|'.join(COUNTED)})_(?P<statistic>{'|'.join(STATISTICS)})\Z")
_NONE = np.zeros(N_BANDS, dtype=np.int64)


class ReturnsMetric(NamedTuple):
    """What a summary metric of the returns is about."""

    treatment_function: str
    part: str
    statistic: str


def metric_name(treatment_function: str, part: str, statistic: str) -> str:
    """``rtt_110_incomplete_within_18w_pct`` and the like."""
    return f"rtt_{treatment_function}_{part}_{statistic}"


def parse_metric(name: str) -> ReturnsMetric | None:
    """The treatment function, part and statistic of a returns metric; None for any other name."""
    hit = _METRIC.match(name)
    return ReturnsMetric(**hit.groupdict()) if hit else None


def order_functions(codes: Iterable[str]) -> list[str]:
    """Treatment functions in the order the NHS lists them: numbered codes, then ``X`` codes, the total last."""
    return sorted({str(c) for c in codes}, key=lambda c: (c == ALL_FUNCTIONS, not c.isdigit(), c))


def metrics_for(functions: Iterable[str]) -> list[str]:
    """Every metric of these treatment functions, in the order of a summary."""
    return [
        metric_name(tf, part, stat)
        for tf in functions
        for part in COUNTED
        for stat in (STATISTICS if part in SHAPED else STATISTICS[:1])
    ]


def _checked(returns: pd.DataFrame) -> pd.DataFrame:
    if "point" in returns.columns:
        if returns["point"].nunique() > 1:  # grid points are never pooled
            raise ValueError("RTT returns of several grid points: summarise one point at a time")
        returns = returns.drop(columns=["point"])
    missing = [c for c in (*_IDS, "month", "treatment_function", "part", *BAND_LABELS) if c not in returns.columns]
    if missing:
        raise ValueError(f"not RTT returns: no column {', '.join(missing[:3])}")
    out = returns[[*_IDS, "month", "treatment_function", "part", *BAND_LABELS]]
    out = out[out["year"].astype(int) >= 1].copy()  # year 0: the lists the contract started from
    out["treatment_function"] = out["treatment_function"].astype(str)  # a code read back as a number
    out["year"] = out["year"].astype(int)
    return out


def per_replication(returns: pd.DataFrame) -> pd.DataFrame:
    """One row per design × replication × year (text; ``all`` for the whole horizon) and a column
    per metric: each part's counts pooled over the months, read as a return."""
    r = _checked(returns)
    bands = list(BAND_LABELS)
    months = r.groupby(_IDS)["month"].nunique()
    whole = r.groupby(["design", "replication"])["month"].nunique()  # a month split between two years counts once
    kept = r[r["part"].isin(COUNTED)]
    by_year = kept.groupby([*_IDS, "treatment_function", "part"])[bands].sum()
    over_all = by_year.groupby(level=["design", "replication", "treatment_function", "part"]).sum()
    counts = {(d, rep, str(y), tf, p): c for (d, rep, y, tf, p), c in zip(by_year.index, by_year.to_numpy(), strict=True)}
    counts |= {(d, rep, "all", tf, p): c for (d, rep, tf, p), c in zip(over_all.index, over_all.to_numpy(), strict=True)}
    functions = order_functions(r["treatment_function"].unique())
    spans = [(d, rep, str(y), n) for (d, rep, y), n in months.items()]
    spans += [(d, rep, "all", n) for (d, rep), n in whole.items()]
    spans.sort(key=lambda s: (s[0], s[2] == "all", int(s[2]) if s[2] != "all" else 0, s[1]))
    rows = []
    for design, rep, year, n_months in spans:
        row: dict[str, object] = {"design": design, "replication": rep, "year": year}
        for tf in functions:
            for part in COUNTED:
                c = counts.get((design, rep, year, tf, part), _NONE)
                row[metric_name(tf, part, "per_month")] = float(c.sum()) / n_months
                if part in SHAPED:
                    row[metric_name(tf, part, "within_18w_pct")] = within_pct(c)
                    row[metric_name(tf, part, "median_weeks")] = percentile(c, 0.5)
                    row[metric_name(tf, part, "p95_weeks")] = percentile(c, 0.95)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*_IDS, *metrics_for(functions)])


def summarise_returns(returns: pd.DataFrame, baseline: str | None = None, *others: str) -> pd.DataFrame:
    """Rows of ``summary.csv`` for the returns: scope × year × metric, mean and 95% interval.

    ``scope`` is a design, or ``"<other> - <baseline>"`` for the difference paired by
    replication and year. ``returns`` holds one grid point's rows (the band counts; the
    statistics columns of ``rtt_returns.csv``, if there, are not used). Empty returns give
    an empty table with the summary's columns.
    """
    if returns.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    wide = per_replication(returns)
    metrics = [c for c in wide.columns if c not in _IDS]
    records = []
    for (design, year), part in wide.groupby(["design", "year"], sort=False):
        records += [_record(str(design), str(year), m, part[m].to_numpy()) for m in metrics]
    for scope, year, part in paired_differences(wide, metrics, baseline, others):
        records += [_record(scope, year, m, part[m].to_numpy()) for m in metrics]
    return pd.DataFrame.from_records(records, columns=list(SUMMARY_COLUMNS))


def _record(scope: str, year: str, metric: str, values: np.ndarray) -> dict[str, object]:
    mean, low, high, n = interval(values)
    return {"scope": scope, "year": year, "metric": metric, "mean": mean, "ci_low": low, "ci_high": high, "n": n}


def returns_rows(summary: pd.DataFrame, year: str = "all") -> pd.DataFrame:
    """The returns metrics of a summary for one year, with their treatment function, part and
    statistic as columns (what a table of them is drawn from); empty if there are none."""
    if summary.empty or "metric" not in summary.columns:
        return pd.DataFrame(columns=[*SUMMARY_COLUMNS, *ReturnsMetric._fields])
    part = summary[summary["year"].astype(str) == year]
    parsed = [parse_metric(str(m)) for m in part["metric"]]
    keep = [p is not None for p in parsed]
    out = part[keep].copy()
    for i, name in enumerate(ReturnsMetric._fields):
        out[name] = [p[i] for p in parsed if p is not None]
    return out.reset_index(drop=True)
