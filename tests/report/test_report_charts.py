"""The report's wait charts: axis labels that do not overlap, marks labelled inside the frame."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim.report import charts

DESIGNS = ["fragmented", "prime"]


def _drawn(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


@pytest.mark.parametrize("shown", [20, 40, 52])
@pytest.mark.slow
def test_the_band_chart_s_tick_labels_do_not_overlap(shown: int) -> None:
    """``50`` and ``52+`` sat two bands apart and ran into each other."""
    bands = [f"{k}-{k + 1}" for k in range(shown)] + ["52+"]
    frame = pd.DataFrame([np.linspace(300, 5, len(bands))] * 2, index=DESIGNS, columns=bands)
    fig = charts.return_bands([("T&O (110)", frame), ("Rheumatology (410)", frame)], DESIGNS, 18)
    renderer = _drawn(fig)
    for ax in fig.axes[:2]:
        labels = [t for t in ax.get_xticklabels() if t.get_text()]
        assert labels[-1].get_text() == "52+"
        boxes = [t.get_window_extent(renderer) for t in labels]
        for a, b in itertools.pairwise(boxes):
            assert a.x1 < b.x0, "tick labels overlap"


@pytest.mark.parametrize("longest", [30, 53, 54, 80])
def test_the_18_and_52_week_labels_are_inside_the_frame(longest: int) -> None:
    rows = [{"design": d, "weeks": w, "pathways": max(1.0, 300 - 5 * w)} for d in DESIGNS for w in range(longest)]
    fig = charts.wait_distribution(pd.DataFrame(rows), DESIGNS)
    renderer = _drawn(fig)
    ax = fig.axes[0]
    frame = ax.get_window_extent(renderer)
    marks = [t for t in ax.texts if t.get_text().endswith("weeks")]
    assert [t.get_text() for t in marks] == ["18 weeks", "52 weeks"]
    for t in marks:
        box = t.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, f"{t.get_text()} clipped"
