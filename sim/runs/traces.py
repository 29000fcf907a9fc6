"""Running aggregates of the traces a batch's tasks return.

Kept as sums and counts per grid point × design, not as raw records, so memory grows by a
few kilobytes a replication whatever the batch size. The month-end lists and the RTT returns
are kept per task (the returns packed, see :class:`sim.rtt.table.Packed`).
"""

from __future__ import annotations

import numpy as np

from sim.base.lazy import later
from sim.rtt.table import Codebook, Packed
from sim.runs.tasks import Outcome, Task

pd = later("pandas")

SERIES_COLUMNS = ("waiting_list", "in_system", "rtt_incomplete")


class Traces:
    """Means across replications of the weekly series, wait histograms and flows; month-end lists
    and RTT returns per task."""

    def __init__(self) -> None:
        self.sums: dict[tuple[int, str], np.ndarray] = {}
        self.days: dict[tuple[int, str], np.ndarray] = {}
        self.counts: dict[tuple[int, str], int] = {}
        self.waits: dict[tuple[int, str], np.ndarray] = {}
        self.flows: dict[tuple[int, str], dict[tuple[str, str], float]] = {}
        self.rep_years: dict[tuple[int, str], int] = {}
        self.monthly: dict[Task, pd.DataFrame] = {}
        self.returns: dict[Task, Packed] = {}
        self.codebook = Codebook()
        self.engines: set[str] = set()
        """How the workers ran the model (``sim.model.ENGINE`` of each)."""

    def add(self, outcome: Outcome) -> None:
        """Fold one finished task's traces into the aggregates (an outcome without traces adds nothing)."""
        tr = outcome.traces
        if not tr:
            return
        if "engine" in tr:  # journals written before workers reported their engine lack it
            self.engines.add(tr["engine"])
        key = (outcome.task.point, outcome.task.design)
        arr = np.asarray(tr["weekly"], dtype=float)
        if key not in self.sums:
            self.sums[key], self.days[key], self.counts[key] = np.zeros((len(arr), 3)), arr[:, 0], 0
            self.waits[key], self.flows[key], self.rep_years[key] = np.zeros(len(tr["waits"])), {}, 0
        self.sums[key] += arr[:, 1:]
        self.counts[key] += 1
        self.waits[key] += np.asarray(tr["waits"], dtype=float)
        self.rep_years[key] += tr["years"]
        flows = self.flows[key]
        for a, b, n in tr["flows"]:
            flows[a, b] = flows.get((a, b), 0.0) + n
        self.monthly[outcome.task] = pd.DataFrame(tr["monthly"], columns=tr["monthly_columns"])
        if tr.get("returns") is not None:  # journals written before the model made returns lack them
            self.returns[outcome.task] = self.codebook.pack(tr["returns"])

    def weekly_frame(self) -> pd.DataFrame:
        """Mean series: one row per point × design × week, with the number of replications."""
        frames = []
        for key, total in sorted(self.sums.items()):
            f = pd.DataFrame(total / self.counts[key], columns=list(SERIES_COLUMNS))
            f.insert(0, "day", self.days[key].astype(int))
            f.insert(0, "design", key[1])
            f.insert(0, "point", key[0])
            f["replications"] = self.counts[key]
            frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def monthly_frame(self, tasks: set[Task]) -> pd.DataFrame:
        """Month-end lists of the given tasks, one row per task × month end."""
        frames = []
        for t in sorted(self.monthly):
            if t in tasks:
                f = self.monthly[t].copy()
                f.insert(0, "replication", t.replication)
                f.insert(0, "design", t.design)
                f.insert(0, "point", t.point)
                frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def returns_frame(self, tasks: set[Task]) -> pd.DataFrame:
        """RTT returns of the given tasks: one row per task × month × treatment function × part,
        with the counts by week band (empty when no task has returns)."""
        kept = [t for t in sorted(self.returns) if t in tasks]
        if not kept:
            return pd.DataFrame()
        packs = [self.returns[t] for t in kept]
        frame = self.codebook.unpack(packs)
        sizes = [len(p.keys) for p in packs]
        for name in ("replication", "design", "point"):
            frame.insert(0, name, np.repeat([getattr(t, name) for t in kept], sizes))
        return frame

    def waits_frame(self) -> pd.DataFrame:
        """Incomplete pathways by whole weeks waited, per month end (mean over replications)."""
        frames = []
        for key, total in sorted(self.waits.items()):
            months = 12 * self.rep_years[key]
            frames.append(
                pd.DataFrame({"point": key[0], "design": key[1], "weeks": np.arange(len(total)), "pathways": total / months})
            )
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def flows_frame(self) -> pd.DataFrame:
        """Moves between places per year (mean over replication-years)."""
        records = [
            {"point": key[0], "design": key[1], "from": a, "to": b, "per_year": n / self.rep_years[key]}
            for key, flows in sorted(self.flows.items())
            for (a, b), n in sorted(flows.items())
        ]
        return pd.DataFrame.from_records(records)
