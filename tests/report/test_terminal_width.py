"""Terminal tables on an 80-column terminal: every label, heading and number whole.

A table wider than the terminal wraps its cells (between a mean and its interval, between a
heading's words) and, where even that cannot fit, shows the designs one comparison at a time;
it never cuts a cell to "…" nor runs off the right edge."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from sim.report.terminal import print_returns, print_summary, scope_groups
from sim.rtt.summary import SHAPED, STATISTICS
from sim.scenario.columns import HEADLINE, column
from tests.conftest import ROOT

SCOPES = ["fragmented", "prime", "prime - fragmented", "prime_queue", "prime_queue - fragmented"]
WAITS = ("orthopaedics_first_wait_mean_days", "orthopaedics_first_wait_p92_days", "theatre_admission_wait_p92_days")
BORDERS = "│┃┓┫┩┤┐┘┛"


def _summary(size: float = 112_388.0) -> pd.DataFrame:
    """A summary with every headline metric and a few waits, numbers as wide as a big area's."""
    rows = []
    for scope in SCOPES:
        sign = -1 if " - " in scope else 1
        for metric in (*HEADLINE, *WAITS):
            mean, half = sign * size, size / 5
            rows.append({"scope": scope, "year": "all", "metric": metric, "unit": column(metric).unit, "mean": mean,
                         "ci_low": mean - half, "ci_high": mean + half, "n": 10})  # fmt: skip
    return pd.DataFrame(rows)


def _returns() -> pd.DataFrame:
    rows = []
    for scope in SCOPES[:2]:
        for tf in ("110", "410", "X01"):
            for part in SHAPED:
                for stat in STATISTICS:
                    mean = 2_820.17 if stat == "per_month" else 84.5
                    rows.append({"scope": scope, "year": "all", "metric": f"rtt_{tf}_{part}_{stat}", "mean": mean,
                                 "ci_low": mean * 0.97, "ci_high": mean * 1.03, "n": 10})  # fmt: skip
    return pd.DataFrame(rows)


def _rendered(width: int, show) -> str:
    console = Console(width=width, record=True, color_system=None)
    show(console)
    return console.export_text()


def _whole(text: str, width: int) -> None:
    assert "…" not in text, "a cell cut short"
    for line in text.splitlines():
        assert len(line) <= width
        if line[:1] in "┏┃┡│└├":  # a row of a table: its right border is there, so nothing ran off the edge
            assert line.rstrip()[-1] in BORDERS + "━─", line


@pytest.mark.slow
def test_the_comparison_fits_80_columns_with_every_label_and_number() -> None:
    text = _rendered(80, lambda c: print_summary(_summary(), SCOPES, "bedfordshire: 10 replications × 5 years", c))
    _whole(text, 80)
    for metric in ("referrals", "commissioner_cost_gbp", "rtt_incomplete_within_18w_pct"):
        label = column(metric).brief
        assert label.split()[0] in text, label
    for scope in ("fragmented", "prime_queue"):
        assert scope in text
    assert "112,388" in text and "-112,388" in text and "22,478" in text  # the mean and its interval, unbroken


def test_a_wide_terminal_shows_every_design_in_one_table() -> None:
    text = _rendered(200, lambda c: print_summary(_summary(), SCOPES, "t", c))
    _whole(text, 200)
    assert text.count("┏") == 2, "the headline table and the waits, once each"


@pytest.mark.slow
def test_a_narrow_terminal_shows_the_designs_one_comparison_at_a_time() -> None:
    """Each part keeps the baseline beside the design it is compared with."""
    text = _rendered(80, lambda c: print_summary(_summary(), SCOPES, "t", c))
    heads = [line for line in text.splitlines() if line.startswith("┃")]
    assert text.count("┏") == 4
    assert sum("fragmented" in h for h in heads) >= 4


def test_the_returns_table_folds_and_is_never_cut() -> None:
    _whole(_rendered(80, lambda c: print_returns(_returns(), SCOPES[:2], c)), 80)


@settings(max_examples=8, deadline=None)
@given(width=st.integers(min_value=60, max_value=160), size=st.sampled_from([3.0, 1_234.5, 56_789_012.0]))
@pytest.mark.slow
def test_no_width_cuts_a_cell(width: int, size: float) -> None:
    _whole(_rendered(width, lambda c: print_summary(_summary(size), SCOPES, "t", c)), width)


def test_scope_groups_keep_a_design_with_its_difference() -> None:
    assert scope_groups(SCOPES) == [["fragmented"], ["prime", "prime - fragmented"], ["prime_queue", "prime_queue - fragmented"]]


@pytest.mark.parametrize("path", ["cli.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "sim" / "report").glob("*.py"))])
def test_every_terminal_column_folds(path: str) -> None:
    """A column left to rich's default ends a long key or heading with "…" on a narrow terminal
    (the month-by-month table of ``target`` showed ``rtt_incomplete_wit…``)."""
    tree = ast.parse(Path(ROOT / path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_column":
            overflow = {k.arg: k.value for k in node.keywords}.get("overflow")
            assert isinstance(overflow, ast.Constant) and overflow.value == "fold", f"{path}:{node.lineno}"
