"""The back-test: the calibrated model's forecast of held-out months against the published
ones, beside the naive forecast that carries the last calibration month forward."""

from __future__ import annotations

from sim.base.lazy import later

pd = later("pandas")

MEASURES = {
    "list_size_pct": ("per_month", "relative"),
    "within_18w_points": ("within_18w_pct", "difference"),
    "median_weeks": ("median_weeks", "difference"),
}
"""Each error: the statistic of incomplete pathways it reads, and how it is measured
(relative: per cent of the published value; difference: in the statistic's own unit)."""


def _error(forecast: float, published: float, how: str) -> float:
    if how == "relative":
        return 100.0 * (forecast / published - 1.0) if published else float("nan")
    return forecast - published


def backtest(published: pd.DataFrame, simulated: pd.DataFrame, fit_months: list[str], holdout: list[str]) -> pd.DataFrame:
    """One row per held-out month, function and measure: the published value, the model's and
    the naive forecast, and each forecast's error (model and naive).

    ``published`` and ``simulated`` hold monthly statistics (month, treatment_function, part,
    per_month, within_18w_pct, median_weeks); only incomplete pathways are read.
    """
    pub = published[published["part"] == "incomplete"].set_index(["month", "treatment_function"])
    sim = simulated[simulated["part"] == "incomplete"].set_index(["month", "treatment_function"])
    last = fit_months[-1]
    rows = []
    for (month, function), p in pub.iterrows():
        if month not in holdout:
            continue
        naive_row = pub.loc[(last, function)]
        for measure, (stat, how) in MEASURES.items():
            model = float(sim.loc[(month, function), stat]) if (month, function) in sim.index else float("nan")
            naive = float(naive_row[stat])
            rows.append(
                {
                    "month": month, "treatment_function": function, "measure": measure,
                    "published": float(p[stat]), "model": model, "naive": naive,
                    "model_error": _error(model, float(p[stat]), how), "naive_error": _error(naive, float(p[stat]), how),
                }
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["month", "treatment_function", "measure", "published", "model", "naive",
                                       "model_error", "naive_error"])  # fmt: skip
