"""``report.html``: one self-contained page per results folder, for a board or a finance committee.

The folder is read once (:func:`~sim.report.folder.load_folder`), each section is a function
of what the report shows of it (:class:`~sim.report.view.View`), and the page is written
atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.report.bid_section import bid_section
from sim.report.checks import diagnostics_section
from sim.report.kpi import kpi_section
from sim.report.page import Section, render
from sim.report.returns_section import returns_section
from sim.report.sections import (
    activity_section,
    cost_section,
    flow_section,
    rtt_section,
    scenario_section,
    structures_section,
    switch_over_section,
    waiting_section,
)
from sim.report.summary import summary_section
from sim.report.sweep import sweep_section
from sim.report.view import View, load_view
from sim.runs.results import write_atomic

SECTIONS: tuple[Callable[[View], Section | None], ...] = (
    summary_section,
    scenario_section,
    kpi_section,
    structures_section,
    waiting_section,
    switch_over_section,
    rtt_section,
    returns_section,
    flow_section,
    activity_section,
    cost_section,
    bid_section,
    sweep_section,
    diagnostics_section,
)
"""The sections in page order; each returns None when the folder has nothing for it."""


def sections(view: View) -> list[Section]:
    return [s for make in SECTIONS if (s := make(view)) is not None]


def build_report(folder: Path) -> Path:
    """Write ``report.html`` into a results folder and return its path."""
    view = load_view(folder)
    path = folder / "report.html"
    write_atomic(path, render(view.scenario, view.folder.manifest, sections(view)))
    return path
