"""A calibration in the terminal: the arithmetic, the unknowns fitted, published against
simulated month by month and part by part, and the back-test."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from sim.base.lazy import later
from sim.calibrate.area import REMOVAL_SCALE, Calibration
from sim.calibrate.fit import TOLERANCES
from sim.calibrate.identify import UNTOLD
from sim.calibrate.output import tables

pd = later("pandas")


def _n(x: float, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def _figure(x: float, significant: int = 4) -> str:
    """``x`` to ``significant`` figures, written out (never in E-notation), thousands separated."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(0, significant - 1 - math.floor(math.log10(abs(x))))
    text = f"{round(x, decimals):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def print_calibration(cal: Calibration, console: Console) -> None:
    st = cal.setup
    t = Table(title=f"Stock and flow of {st.commissioner}'s returns (per week, {', '.join(st.fit_months)})", header_style="bold")
    for col in ("function", "admitted", "non-admitted", "clock starts", "removals <12 wk", "removals 12+ wk", "removals / exits"):
        t.add_column(col, justify="left" if col == "function" else "right", overflow="fold")
    for f, a in st.arithmetic.items():
        r = a.rates
        t.add_row(f, _n(r.admitted_per_week), _n(r.nonadmitted_per_week), _n(r.clock_starts_per_week),
                  f"{r.removal_short:.2%}", f"{r.removal_long:.2%}", f"{r.removals_share:.0%}")  # fmt: skip
    console.print(t)
    for note in [n for a in st.arithmetic.values() for n in a.notes] + st.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)

    losses = f"loss {_figure(cal.start.loss, 3)} → {_figure(cal.best.loss, 3)}"
    u = Table(title=f"Unknowns of design '{st.design}' ({losses})", header_style="bold")
    for col in ("key", "start", "fitted", "fitted to"):
        u.add_column(col, justify="right" if col in ("start", "fitted") else "left", overflow="fold")
    for k in st.knobs:
        key = f"removal rates × (from the returns), {k.key.split('.')[-1]}" if k.key.startswith(REMOVAL_SCALE) else k.key
        u.add_row(key, _figure(k.start), _figure(cal.best.values[k.key]), k.why)
    console.print(u)
    for key, ident in cal.identified.items():
        if not ident.told:
            moves = " and ".join(_n(x, 2) for x in (ident.down, ident.up) if not math.isnan(x))
            console.print(
                f"[yellow]note:[/yellow] {key} is not told by the returns: {UNTOLD} (root mean square: {moves}); "
                "the fitted value is one of many as good: set it from demand (`msksim validate` shows the load)",
                highlight=False,
            )

    if cal.choice is not None:
        print_structures(cal, console)
    fit = tables(cal)["fit"]
    f = Table(
        title=(
            f"Published ({st.commissioner}) against simulated (mean of {cal.replications} replications); targets: counts "
            f"±{TOLERANCES['per_month']:.0%}, within 18 weeks ±{TOLERANCES['within_18w_pct']:g} points, median "
            f"±{TOLERANCES['median_weeks']:g} weeks"
        ),
        header_style="bold",
    )
    for col in ("month", "function", "part", "", "pathways", "within 18 wk", "median wk", "95th pct wk"):
        f.add_column(col, justify="left" if col in ("month", "function", "part", "") else "right", overflow="fold")
    for _, r in fit.sort_values(["treatment_function", "part", "month"]).iterrows():
        f.add_row(
            r["month"], r["treatment_function"], r["part"], r["used"],
            f"{_n(r['per_month_published'], 0)} / {_n(r['per_month_simulated'], 0)}",
            f"{_n(r['within_18w_pct_published'])} / {_n(r['within_18w_pct_simulated'])}",
            f"{_n(r['median_weeks_published'])} / {_n(r['median_weeks_simulated'])}",
            f"{_n(r['p95_weeks_published'])} / {_n(r['p95_weeks_simulated'])}",
        )  # fmt: skip
    console.print(f)
    if not cal.backtest.empty:
        print_backtest(cal.backtest, console)


def print_structures(cal: Calibration, console: Console) -> None:
    """The structures the returns allow where they do not tell a capacity: fit, what each implies, which is kept."""
    assert cal.choice is not None
    t = Table(title="Structures the returns allow where they do not tell a capacity", header_style="bold")
    for col in ("structure", "kept", "loss", "wait targets met", "implies"):
        t.add_column(col, justify="right" if col in ("loss", "wait targets met") else "left", overflow="fold")
    fits = [(f, "preferred" if i == 0 else "kept") for i, f in enumerate(cal.choice.kept)]
    fits += [(f, f"dropped: {why}") for f, why in cal.choice.dropped]
    for f, kept in fits:
        t.add_row(f.name, kept, _figure(f.loss, 3), str(len(f.waits_met)), f.describe())
    console.print(t)
    console.print(f"[bold]Why:[/bold] {cal.choice.why}", highlight=False)


def print_backtest(bt: pd.DataFrame, console: Console) -> None:
    t = Table(title="Back-test on the held-out months: error of the model and of the last month carried forward",
              header_style="bold")  # fmt: skip
    for col in ("month", "function", "measure", "published", "model", "naive", "model error", "naive error"):
        t.add_column(col, justify="left" if col in ("month", "function", "measure") else "right", overflow="fold")
    labels = {"list_size_pct": "incomplete pathways (error %)", "within_18w_points": "within 18 weeks (points)",
              "median_weeks": "median wait (weeks)"}  # fmt: skip
    for _, r in bt.iterrows():
        t.add_row(r["month"], r["treatment_function"], labels[r["measure"]], _n(r["published"]), _n(r["model"]),
                  _n(r["naive"]), f"{r['model_error']:+.1f}", f"{r['naive_error']:+.1f}")  # fmt: skip
    console.print(t)
