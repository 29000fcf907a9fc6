"""Simulated RTT returns beside published ones: counts, within 18 weeks, median, 95th percentile."""

from __future__ import annotations

import numpy as np

from sim.base.lazy import later
from sim.rtt.bands import BAND_LABELS
from sim.rtt.table import STATISTICS, with_statistics

pd = later("pandas")

PARTS = ("incomplete", "admitted", "nonadmitted")
"""The parts the NHS publishes by weeks waited."""
STATS = ("per_month", "within_18w_pct", "median_weeks", "p95_weeks")


def monthly_statistics(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per row of a returns frame (published or simulated), its count and the NHS statistics,
    read from the week bands (a published open band ``52 plus`` sits in band 52)."""
    counts = frame[list(BAND_LABELS)].fillna(0)
    if "52+" in frame.columns:  # a published return: its open band, where the older files stop
        open_rows = frame[BAND_LABELS[52]].isna()
        counts.loc[open_rows, BAND_LABELS[52]] = frame.loc[open_rows, "52+"]
    rows = pd.concat([frame[keys], counts.astype(np.int64)], axis=1).reset_index(drop=True)
    out = with_statistics(rows)[[*keys, *STATISTICS]]
    return out.rename(columns={"total": "per_month"})


def beside(simulated: pd.DataFrame, published: pd.DataFrame, functions: list[str]) -> pd.DataFrame:
    """One row per treatment function × part: the published months' range and mean, and the
    simulated months' mean over months and replications with its range over replications.

    ``simulated`` holds rows of ``rtt_returns.csv`` (one design, the months wanted);
    ``published`` rows of :func:`sim.rtt.returns.read_returns` (one commissioner, the months wanted).
    """
    sim = monthly_statistics(simulated, ["replication", "month", "treatment_function", "part"])
    pub = monthly_statistics(published, ["month", "treatment_function", "part"])
    rows = []
    for f in functions:
        for part in PARTS:
            p = pub[(pub["treatment_function"] == f) & (pub["part"] == part)]
            s = sim[(sim["treatment_function"] == f) & (sim["part"] == part)]
            if p.empty and s.empty:
                continue
            per_rep = s.groupby("replication")[list(STATS)].mean()
            row: dict[str, object] = {"treatment_function": f, "part": part, "months_published": len(p)}
            for name in STATS:
                row[f"published_{name}"] = float(p[name].mean()) if len(p) else np.nan
                row[f"published_{name}_low"] = float(p[name].min()) if len(p) else np.nan
                row[f"published_{name}_high"] = float(p[name].max()) if len(p) else np.nan
                row[f"simulated_{name}"] = float(per_rep[name].mean()) if len(per_rep) else np.nan
                row[f"simulated_{name}_low"] = float(per_rep[name].min()) if len(per_rep) else np.nan
                row[f"simulated_{name}_high"] = float(per_rep[name].max()) if len(per_rep) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def matching_months(published: list[str], simulated: list[str]) -> dict[str, str]:
    """For each published month, the simulated month set beside it: the same month if the run
    has it, else the same calendar month in the first contract year that has one."""
    out = {}
    for month in published:
        same = [m for m in sorted(simulated) if m[5:] == month[5:]]
        if month in simulated:
            out[month] = month
        elif same:
            out[month] = same[0]
    return out


def beside_run(
    returns: pd.DataFrame, published: pd.DataFrame, design: str, functions: list[str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """A run's returns (``rtt_returns.csv``, contract years only) for ``design`` beside the
    published months of one commissioner; also the months matched, published → simulated."""
    runs = returns[(returns["design"] == design) & (returns["year"] > 0)]
    months = matching_months(sorted(set(published["month"])), sorted(set(runs["month"])))
    runs = runs[runs["month"].isin(set(months.values()))]
    published = published[published["month"].isin(set(months))]
    wanted = functions or sorted(set(runs["treatment_function"]) & set(published["treatment_function"]))
    return beside(runs, published, wanted), months
