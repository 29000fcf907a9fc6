"""Reading a results folder: the scenario, the manifest, the batch settings and the tables.

Everything the report reads from disk is read here, once, so the report works on one
in-memory :class:`Folder`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.scenario import Scenario, validate_raw

TABLES = (
    "replications", "sweep", "sweep_summary", "monthly", "rtt_waits", "flows", "bid", "bid_summary", "sensitivity", "warmup",
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
    """Read ``scenario.toml``, ``manifest.json``, ``batch.json`` (if any), the CSV tables and the warm-up chart."""
    manifest = json.loads((path / "manifest.json").read_text())
    raw = tomllib.loads((path / "scenario.toml").read_text())
    scenario = validate_raw(raw, str(path / "scenario.toml"))
    batch_file = path / "batch.json"
    batch = json.loads(batch_file.read_text()) if batch_file.exists() else manifest.get("batch", {})
    tables = {name: pd.read_csv(path / f"{name}.csv") for name in TABLES if (path / f"{name}.csv").exists()}
    png = path / "warmup.png"
    return Folder(path, scenario, manifest, batch, tables, png.read_bytes() if png.exists() else None)
