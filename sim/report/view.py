"""What the report shows of a results folder: which designs, and for a sweep which grid point.

A sweep's charts show one grid point (grid points are never pooled): the scenario's own
values if they are a grid point, else the middle of each key's grid.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.switchover_months import compared
from sim.base.lazy import later
from sim.report.folder import Folder, load_folder
from sim.report.labels import key_label, value_text
from sim.scenario.schema import Scenario

pd = later("pandas")


@dataclass
class View:
    """A results folder with the slice the charts show."""

    folder: Folder
    scenario: Scenario
    full: pd.DataFrame  # every row of every grid point
    grid: dict[str, list]
    keys: list[str]  # the grid's keys that are columns of the table
    sweep: bool
    point: int | None
    point_text: str
    table: pd.DataFrame  # the rows at the grid point shown
    designs: list[str]

    @property
    def pair(self) -> list[str]:
        """The two designs whose differences the folder reports (none: see :func:`sim.analysis.switchover_months.compared`)."""
        return compared(self.designs, self.folder.batch.get("extra"))

    def at_point(self, frame: pd.DataFrame) -> pd.DataFrame:
        return _at_point(frame, self.point)

    def csv(self, name: str) -> pd.DataFrame:
        """A results table, cut to the grid point the charts show."""
        return self.at_point(self.folder.table(name))

    def point_values(self) -> dict[int, dict[str, Any]]:
        """Each grid point's values of the swept keys."""
        return _point_values(self.full, self.keys)

    def point_note(self) -> str:
        """Says which grid point a section shows (nothing outside a sweep)."""
        if self.point is None:
            return ""
        return (
            f'<p class="note">Shown for {html.escape(self.point_text)}; grid points are never pooled. '
            'The <a href="#sweep">sweep</a> compares all points.</p>'
        )


def describe(values: dict[str, Any]) -> str:
    """Swept keys and their values in words."""
    return ", ".join(f"{key_label(k)} = {value_text(k, v)}" for k, v in values.items())


def make_view(folder: Folder) -> View:
    """The view of a folder: its table, the grid point shown and the designs in order."""
    full = folder.table("replications") if folder.has("replications") else folder.table("sweep")
    grid: dict[str, list] = folder.batch.get("grid") or {}
    keys = [k for k in grid if k in full.columns]
    sweep = folder.has("sweep_summary") and "point" in full.columns
    point, point_text = _representative_point(full, keys, folder.scenario) if sweep and not full.empty else (None, "")
    table = _at_point(full, point)
    order = [d for d in folder.batch.get("designs", []) if d in set(table.get("design", []))]
    designs = order or (list(dict.fromkeys(table["design"])) if not table.empty else [])
    return View(folder, folder.scenario, full, grid, keys, sweep, point, point_text, table, designs)


def load_view(path: Path) -> View:
    """Read a results folder and choose what its report shows."""
    return make_view(load_folder(path))


def _lookup(data: Any, key: str) -> Any:
    """A dotted key's value in a scenario's dump, or None."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _same(a: Any, b: Any) -> bool:
    """Whether a grid value is the scenario's own (numbers to rounding, anything else exactly)."""
    try:
        return bool(np.isclose(float(a), float(b)))
    except (TypeError, ValueError):
        return a == b


def _at_point(frame: pd.DataFrame, point: int | None) -> pd.DataFrame:
    if point is None or "point" not in frame.columns:
        return frame
    return frame[frame["point"] == point]


def _point_values(full: pd.DataFrame, keys: list[str]) -> dict[int, dict[str, Any]]:
    if not keys:
        return {}
    rows = full[["point", *keys]].drop_duplicates("point").sort_values("point")
    return {int(r["point"]): {k: r[k] for k in keys} for _, r in rows.iterrows()}


def _representative_point(full: pd.DataFrame, keys: list[str], scenario: Scenario) -> tuple[int | None, str]:
    """The scenario's own values if they are a grid point, else the middle of each key's grid."""
    points = _point_values(full, keys)
    if not points:
        return int(full["point"].min()), ""
    dump = scenario.model_dump()
    base = {k: _lookup(dump, k) for k in keys}
    for p, values in points.items():
        if all(_same(values[k], base[k]) for k in keys):
            return p, f"grid point {p} ({describe(values)}, the scenario's own values)"
    middle = {k: sorted(set(full[k]))[(len(set(full[k])) - 1) // 2] for k in keys}
    for p, values in points.items():
        if all(values[k] == middle[k] for k in keys):
            return p, f"grid point {p} ({describe(values)}, the middle of the grid)"
    p = min(points)
    return p, f"grid point {p} ({describe(points[p])})"
