"""What a command watches: a column of ``replications.csv`` or a measure of the RTT returns.

``target --metric``, ``sweep --metric`` and ``--precision``'s ``--metric`` name a measure one way:
any numeric column a run of the design writes (docs/results.md), or a measure of the RTT returns
it writes (:mod:`sim.rtt.summary`), such as ``rtt_110_incomplete_within_18w_pct``: trauma and
orthopaedics' incomplete pathways within 18 weeks, as the NHS reports them by treatment function.
The pooled ``rtt_incomplete_within_18w_pct`` can be held up by another function's short clocks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import numpy as np

from sim.base.lazy import later
from sim.rtt.summary import metric_name, metrics_for, order_functions, parse_metric
from sim.rtt.summary import per_replication as returns_per_replication
from sim.scenario.columns import current_name, numeric_columns
from sim.scenario.schema import Scenario

pd = later("pandas")

IDS = ["point", "design", "replication", "year"]
"""The columns that say whose a value is, in :func:`frame`; ``year`` is ``all`` for the whole horizon."""


class MeasureError(ValueError):
    """A measure no run of the design writes."""


def reported_functions(scenario: Scenario, design: str) -> list[str]:
    """The treatment functions a design's RTT pathways report under."""
    codes = {st.rtt_function for st in scenario.design_stages(design).values()}
    return order_functions(c for c in codes if c is not None)


def function_metrics(scenario: Scenario, design: str) -> list[str]:
    """Each reported treatment function's share of incomplete pathways within 18 weeks."""
    return [metric_name(f, "incomplete", "within_18w_pct") for f in reported_functions(scenario, design)]


def names(scenario: Scenario, designs: Iterable[str]) -> list[str]:
    """Every measure a run of ``designs`` writes: the numeric result columns, then the returns'."""
    out: dict[str, None] = {}
    functions: set[str] = set()
    for design in designs:
        out |= dict.fromkeys(numeric_columns(scenario, design, uncertainty=True))
        functions |= set(reported_functions(scenario, design))
    out |= dict.fromkeys(metrics_for(order_functions(functions)))
    return list(out)


def check(metric: str, scenario: Scenario, designs: Iterable[str], option: str = "--metric") -> str:
    """``metric`` by its name today (an old column name is read as its new one).

    Raises
    ------
    MeasureError
        When no run of ``designs`` writes it, with the nearest names and the per-function ones.
    """
    designs = list(designs)
    now = current_name(metric)
    known = names(scenario, designs)
    if now in known:
        return now
    close = difflib.get_close_matches(metric, known, n=3, cutoff=0.6)
    near = f"; nearest: {', '.join(close)}" if close else ""
    functions = sorted({m for d in designs for m in function_metrics(scenario, d)})
    of = f"; by treatment function: {', '.join(functions)}" if functions else ""
    raise MeasureError(
        f"{option} {metric}: not a measure a run of {', '.join(designs)} writes{near}{of} "
        "(all: the numeric columns of replications.csv, docs/results.md, and the RTT returns' rtt_<function>_...)"
    )


def of_returns(metric: str) -> bool:
    """Whether ``metric`` is a measure of the RTT returns, not a result column."""
    return parse_metric(metric) is not None


def frame(table: pd.DataFrame, returns: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per point × design × replication × year, and its ``value`` of ``metric``; with
    year ``all`` for the whole horizon (the mean of the years for a column; the months pooled,
    as a return is read, for a measure of the returns)."""
    if parse_metric(metric) is None:
        if table.empty or metric not in table.columns:
            return pd.DataFrame(columns=[*IDS, "value"])
        t = table if "point" in table.columns else table.assign(point=0)
        years = t[["point", "design", "replication", "year", metric]].astype({"year": str})
        whole = t.groupby(["point", "design", "replication"], sort=False)[metric].mean().reset_index().assign(year="all")
        return pd.concat([years, whole], ignore_index=True).rename(columns={metric: "value"})[[*IDS, "value"]]
    if returns.empty:
        return pd.DataFrame(columns=[*IDS, "value"])
    r = returns if "point" in returns.columns else returns.assign(point=0)
    parts = []
    for point, part in r.groupby("point", sort=True):
        wide = returns_per_replication(part.drop(columns=["point"]))
        values = wide[metric] if metric in wide.columns else np.nan
        parts.append(wide[["design", "replication", "year"]].assign(point=point, value=values))
    return pd.concat(parts, ignore_index=True)[[*IDS, "value"]]


def values(table: pd.DataFrame, returns: pd.DataFrame, metric: str, design: str, year: int | str) -> np.ndarray:
    """``metric`` per replication (in order) of ``design`` in contract ``year`` (or ``all``)."""
    f = frame(table, returns, metric)
    rows = f[(f["design"] == design) & (f["year"] == str(year))].sort_values("replication")
    return rows["value"].to_numpy(dtype=float)
