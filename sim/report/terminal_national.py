"""What ``national`` prints: what the batch runs, then a few columns of every area."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sim.base.lazy import later
from sim.national.batch import National
from sim.national.task import AreaOutcome

pd = later("pandas")


def intro(nat: National) -> str:
    """What the batch runs: its areas, its months, the design fitted and those compared."""
    s = nat.settings
    return (
        f"{len(nat.codes)} area(s) of {len(nat.names)} in the returns ({', '.join(nat.months)}): design '{s.design}' fitted "
        f"to each, {s.holdout} month(s) held out, compared with {', '.join(s.others)}"
    )


def failed(outcomes: dict[str, AreaOutcome]) -> str | None:
    """What to say of the areas that did not finish (None when all did)."""
    out = [o for o in outcomes.values() if o.row.get("status") != "done"]
    if not out:
        return None
    return (f"{len(out)} of {len(outcomes)} area(s) did not finish (national.csv says why): "
            + "; ".join(f"{o.code}: {o.row.get('error', '')}" for o in out[:5]))  # fmt: skip


def print_national(table: pd.DataFrame, console: Console) -> None:
    """A few columns of every area: its population, fit, back-test and the T&O lists and waits."""
    shown = Table(title="Areas (national.csv has every column)", header_style="bold")
    cols = [("code", "Code"), ("population", "People"), ("fit_loss", "Fit loss"), ("backtest_beats_naive", "Beats naive"),
            ("published_110_within_18w_pct", "Pub. <18w %"), ("fitted_110_within_18w_pct", "Fit <18w %"),
            ("t_and_o_load", "T&O load")]  # fmt: skip
    diff = next((c for c in table.columns if c.endswith("_110_incomplete_within_18w_pct") and "_minus_" in c), None)
    if diff:
        cols.append((diff, f"{diff.split('_minus_')[0]} Δ<18w"))
    cols.append(("status", "Status"))
    for _, title in cols:
        shown.add_column(title, justify="right", overflow="fold")
    for _, r in table.iterrows():
        cells = []
        for col, _ in cols:
            v = r.get(col, "")
            if isinstance(v, str):
                cells.append(v)
            elif pd.isna(v):
                cells.append("")
            else:
                cells.append(f"{v:,.0f}" if col in ("population", "backtest_beats_naive") else f"{v:,.2f}")
        shown.add_row(*cells)
    console.print(shown)
