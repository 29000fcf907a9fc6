"""What the report shows of a results folder: which designs, and for a sweep which grid point.

A sweep's charts show one grid point (grid points are never pooled): the scenario's own
values if they are a grid point, else the middle of each key's grid.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.report.folder import Folder, load_folder
from sim.report.labels import key_label, value_text
from sim.scenario import Scenario


@dataclass
class View:
    """A results folder with the slice the charts show."""

    folder: Folder
    scenario: Scenario
    full: pd.DataFrame  # every row of every grid point
    grid: dict[str, list]
    keys: list[str]  # the grid's keys that are columns of the table
    sweep: bool
    point: int | None = None
    point_text: str = ""
    table: pd.DataFrame | None = None  # the rows at the grid point shown
    designs: list[str] | None = None

    def at_point(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.point is None or "point" not in frame.columns:
            return frame
        return frame[frame["point"] == self.point]

    def csv(self, name: str) -> pd.DataFrame:
        """A results table, cut to the grid point the charts show."""
        return self.at_point(self.folder.table(name))

    def point_values(self) -> dict[int, dict[str, Any]]:
        """Each grid point's values of the swept keys."""
        if not self.keys:
            return {}
        rows = self.full[["point", *self.keys]].drop_duplicates("point").sort_values("point")
        return {int(r["point"]): {k: r[k] for k in self.keys} for _, r in rows.iterrows()}

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
    view = View(folder, folder.scenario, full, grid, keys, folder.has("sweep_summary") and "point" in full.columns)
    view.point, view.point_text = _representative_point(view)
    view.table = view.at_point(full)
    table = view.table
    order = [d for d in folder.batch.get("designs", []) if d in set(table.get("design", []))]
    view.designs = order or (list(dict.fromkeys(table["design"])) if not table.empty else [])
    return view


def load_view(path) -> View:
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


def _representative_point(view: View) -> tuple[int | None, str]:
    """The scenario's own values if they are a grid point, else the middle of each key's grid."""
    full, keys = view.full, view.keys
    if not view.sweep or full.empty:
        return None, ""
    points = view.point_values()
    if not points:
        return int(full["point"].min()), ""
    dump = view.scenario.model_dump()
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
