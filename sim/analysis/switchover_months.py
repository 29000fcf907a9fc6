"""The switch-over month by month: from the old design's lists to the new design's steady state.

A ``compare --switch-over`` batch runs three designs on the same patients: the old design, the
new one taking over from it at the contract start (``<new>_from_<old>``), and the new one in
its steady state (warmed up as itself). Month by month, each measure of the switch-over is
paired with the steady state's in the same replication; the switch-over has *settled* from
the first month after which the mean difference stays within :data:`TOLERANCE` of the steady
state's value (:data:`POINTS` for a percentage), or its 95% interval holds zero, to the end of
the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.takeover import TAKES_OVER
from sim.base.lazy import later

pd = later("pandas")

SWITCH_OVER = "switch_over"
"""The key of a batch's ``extra`` settings naming the three designs: ``from``, ``design``, ``steady``."""
TOLERANCE = 0.05
"""A difference within this share of the steady state's value counts as settled..."""
POINTS = 1.0
"""...or, for a percentage, within this many points (5% of 92% would be 4.6 points)."""
MEASURES = ("rtt_incomplete", "rtt_incomplete_within_18w_pct", "rtt_wait_median_weeks")
"""The RTT measures followed, before each service's list."""
T_95 = 1.96


ALSO = "also"
"""The key of a batch's ``extra`` settings naming designs run beside a compared pair, each
compared with the pair's first (``compare --also``)."""


def compared(designs: list[str], extra: dict[str, Any] | None) -> list[str]:
    """The two designs whose differences a batch reports: its pair, a switch-over's old and
    switch-over designs, or a takeover bid's design without and with the takeover; none otherwise."""
    if extra and extra.get(TAKES_OVER):  # a bid that takes over: the takeover against the same design without it
        return [extra[TAKES_OVER]["without"], extra[TAKES_OVER]["design"]]
    if extra and (extra.get(SWITCH_OVER) or extra.get(ALSO)):
        return designs[:2]
    return list(designs) if len(designs) == 2 else []


def also_compared(extra: dict[str, Any] | None) -> list[str]:
    """The designs a batch runs beside its pair, each compared with the pair's first."""
    return list((extra or {}).get(ALSO) or [])


def difference_scopes(designs: list[str], extra: dict[str, Any] | None) -> list[str]:
    """The summary's scopes: each design, then each difference it reports (``<other> - <baseline>``)."""
    pair = compared(designs, extra)
    if not pair:
        return list(designs)
    others = [pair[1], *also_compared(extra)]
    return [pair[0], *(s for o in others for s in (o, f"{o} - {pair[0]}"))]


def measures(monthly: pd.DataFrame) -> list[str]:
    """The measures followed: the RTT list, its share within 18 weeks and median, then every list."""
    lists = [c for c in monthly.columns if c.endswith("_waiting")]
    return [m for m in MEASURES if m in monthly.columns] + lists


def path(monthly: pd.DataFrame, designs: dict[str, str]) -> pd.DataFrame:
    """Month by month and measure by measure: each design's mean (the old design's, the
    switch-over's and the steady state's), the switch-over minus the
    steady state (mean and 95% interval, paired by replication) and whether it has settled.

    ``monthly`` holds every replication's month-end rows (``monthly.csv``); ``designs`` maps
    ``from``, ``design`` and ``steady`` to the batch's design names.
    """
    old, switch, steady = designs["from"], designs["design"], designs["steady"]
    data = monthly[monthly["design"].isin([old, switch, steady])]
    if "point" in data.columns:
        data = data[data["point"] == data["point"].min()]
    out = []
    for measure in measures(data):
        wide = data.pivot_table(index=["day", "replication"], columns="design", values=measure, aggfunc="first")
        if switch not in wide.columns or steady not in wide.columns:
            continue
        paired = wide.dropna(subset=[switch, steady])
        diff = (paired[switch] - paired[steady]).groupby(level="day")
        means = paired.groupby(level="day").mean()
        n = diff.count()
        half = T_95 * diff.std(ddof=1) / np.sqrt(n)
        frame = pd.DataFrame(
            {
                "day": means.index,
                "measure": measure,
                "old_design_mean": means[old] if old in means.columns else np.nan,
                "switch_over_mean": means[switch],
                "steady_state_mean": means[steady],
                "difference": diff.mean().to_numpy(),
                "difference_lo": (diff.mean() - half).to_numpy(),
                "difference_hi": (diff.mean() + half).to_numpy(),
                "replications": n.to_numpy(),
            }
        ).reset_index(drop=True)
        frame.insert(1, "month", range(1, len(frame) + 1))
        tolerance = POINTS if measure.endswith("_pct") else TOLERANCE * frame["steady_state_mean"].abs()
        close = (frame["difference"].abs() <= tolerance) | ((frame["difference_lo"] <= 0) & (frame["difference_hi"] >= 0))
        # settled from a month on: that month and every later one close
        frame["settled"] = close[::-1].cummin()[::-1].to_numpy()
        out.append(frame)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def months_to_settle(table: pd.DataFrame) -> dict[str, int | None]:
    """Per measure: the months the switch-over takes to reach the steady state (0: settled in
    the contract's first month), or None when it has not by the end of the run."""
    out: dict[str, int | None] = {}
    for measure, part in table.groupby("measure", sort=False):
        settled = part.loc[part["settled"].astype(bool), "month"]
        out[str(measure)] = int(settled.min()) - 1 if len(settled) else None
    return out
