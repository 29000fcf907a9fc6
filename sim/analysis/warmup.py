"""Is the warm-up long enough? MSER-5 and a Welch moving-average plot of the weekly series.

Every run records, each week from day 0 (warm-up included), the number waiting, the number
in the system and the running RTT clocks. MSER-5 (White, 1997) picks the truncation point
that minimises the standard error of the mean of what remains; Welch's method plots the
moving average of the mean across replications so one can see where it levels off.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sim.base.lazy import later

pd = later("pandas")
figure = later("matplotlib.figure")

BATCH = 5
"""Observations averaged into one batch before MSER is applied (MSER-5)."""


def mser(series: np.ndarray, batch: int = BATCH) -> int:
    """MSER-``batch`` truncation point, in observations of ``series``."""
    batches = len(series) // batch
    if batches < 4:
        return 0
    means = np.asarray(series[: batches * batch], dtype=float).reshape(batches, batch).mean(axis=1)
    best, best_cut = np.inf, 0
    for cut in range(batches // 2):  # truncating more than half would leave too little to judge
        rest = means[cut:]
        stat = ((rest - rest.mean()) ** 2).sum() / len(rest) ** 2
        if stat < best:
            best, best_cut = stat, cut
    return best_cut * batch


def moving_average(y: np.ndarray, window: int) -> np.ndarray:
    """Welch's centred moving average, with shorter windows near the start."""
    out = np.empty(len(y))
    for i in range(len(y)):
        half = min(window, i, len(y) - 1 - i)
        out[i] = y[i - half : i + half + 1].mean()
    return out


def analyse(
    series: pd.DataFrame,
    warmup_days: int,
    measure: str = "in_system",
    window: int = 4,
    growth: float | dict[int, float] = 0.0,
) -> pd.DataFrame:
    """Per design: the mean weekly series, its moving average, and the MSER truncation day.

    ``series`` holds the mean across replications per point, design and day. With demand
    growing by ``growth`` a year (per grid point, if a dict), MSER is applied to the number
    in the system per unit of demand: growth is no start-up transient, and a series that
    keeps rising with demand would otherwise be truncated ever later.
    """
    out = []
    for (point, design), part in series.groupby(["point", "design"]):
        mean = part.set_index("day")[measure]
        days = mean.index.to_numpy()
        yearly = growth.get(int(point), 0.0) if isinstance(growth, dict) else growth
        cut = mser(mean.to_numpy() / (1.0 + yearly) ** ((days - warmup_days) / 365.25))
        out.append(
            pd.DataFrame(
                {
                    "point": point,
                    "design": design,
                    "day": days,
                    f"{measure}_mean": mean.to_numpy(),
                    "moving_average": moving_average(mean.to_numpy(), window),
                    "mser_truncation_day": int(days[cut]) if len(days) else 0,
                    "warmup_day": warmup_days,
                }
            )
        )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def verdicts(analysis: pd.DataFrame) -> list[str]:
    """Warnings where MSER says the configured warm-up is too short: which contract years that
    touches, what it means for their numbers, and what to do."""
    msgs = []
    for (point, design), part in analysis.groupby(["point", "design"]):
        cut, warm = int(part["mser_truncation_day"].iloc[0]), int(part["warmup_day"].iloc[0])
        if cut > warm:
            where = f"design '{design}'" + (f", grid point {point}" if analysis["point"].nunique() > 1 else "")
            years = math.ceil((cut - warm) / 365.25)
            span = "year 1 reads" if years == 1 else f"years 1-{years} read"
            msgs.append(
                f"warm-up may be too short for {where}: the number in the system settles by day {cut} (MSER-5), "
                f"the warm-up ends at day {warm}. If the lists are still filling from empty, contract {span} "
                f"low on lists and waits: rerun with --set run.warmup_days={_rounded_up(cut)} to see. If instead "
                "they keep growing (a service over capacity), no warm-up settles them. warmup.png in the results "
                "folder shows which"
            )
    return msgs


def _rounded_up(day: int) -> int:
    """A warm-up to try: ``day`` up to a whole number of 365-day years."""
    return 365 * math.ceil(day / 365)


def plot(analysis: pd.DataFrame, path: Path, measure: str = "in_system") -> None:
    """Welch plot: the moving average per design, the warm-up end and the MSER point."""
    fig = figure.Figure(figsize=(8, 4.5), dpi=110)
    ax = fig.subplots()
    for (point, design), part in analysis.groupby(["point", "design"]):
        label = design if analysis["point"].nunique() == 1 else f"{design} (point {point})"
        (line,) = ax.plot(part["day"], part["moving_average"], label=label)
        ax.axvline(part["mser_truncation_day"].iloc[0], color=line.get_color(), linestyle=":", linewidth=1)
    ax.axvline(analysis["warmup_day"].iloc[0], color="black", linestyle="--", linewidth=1, label="end of warm-up")
    ax.set_title("Patients in the system, mean across replications (Welch moving average)")
    ax.set_xlabel("Day from the start of the warm-up")
    ax.set_ylabel("Patients in the system")
    ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    tmp.replace(path)
