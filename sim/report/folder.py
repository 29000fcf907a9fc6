"""Reading a results folder: the scenario, the manifest, the batch settings and the tables.

Everything the report reads from disk is read here, once, so the report works on one
in-memory :class:`Folder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sim.base.lazy import later
from sim.runs.results import read_run
from sim.scenario.schema import Scenario

pd = later("pandas")

TABLES = (
    "replications", "summary", "sweep", "sweep_summary", "monthly", "rtt_waits", "rtt_returns", "flows", "bid", "bid_summary",
    "bid_monthly", "sensitivity", "warmup", "switch_over", "takeover",
)  # fmt: skip
"""The CSV files a report may use, by name without ``.csv``."""


@dataclass
class Folder:
    """A results folder as read from disk."""

    path: Path
    scenario: Scenario
    manifest: dict
    batch: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    warmup_png: bytes | None = None

    def table(self, name: str) -> pd.DataFrame:
        """A results table, empty if the folder has none of that name."""
        return self.tables.get(name, pd.DataFrame())

    def has(self, name: str) -> bool:
        return name in self.tables


def load_folder(path: Path) -> Folder:
    """Read a finished results folder (checked by :func:`sim.runs.results.read_run`) and its warm-up chart.

    Raises
    ------
    sim.runs.results.ResultsError
        Naming the file and the problem, when the folder is not a complete, readable run.
    """
    run = read_run(path)
    tables = {name: table for name, table in run.tables.items() if name in TABLES}
    png = path / "warmup.png"
    return Folder(path, run.scenario, run.manifest, run.batch, tables, png.read_bytes() if png.exists() else None)
