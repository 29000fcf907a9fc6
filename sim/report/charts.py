"""The report's charts, drawn with matplotlib: each function takes the numbers and returns a figure."""

from __future__ import annotations

import base64
import io
import math
from typing import Any, TypeAlias

import numpy as np

from sim.base.lazy import later
from sim.report.labels import stage_name, value_text, words
from sim.report.terminal import fmt

pd = later("pandas")
figure = later("matplotlib.figure")  # figures made without pyplot: no GUI backend, no global state
mpatches = later("matplotlib.patches")
ticker = later("matplotlib.ticker")

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
LOW_END, HIGH_END = "#9ecae1", "#2b6cb0"  # tornado: the input at its low / high end
LOSS, GAIN, BID = "#c44e52", "#55a868", "#4c72b0"
DAYS_PER_MONTH = 365.25 / 12
STANDARD = 92  # the 18-week standard: 92% of incomplete pathways

Lines: TypeAlias = "list[tuple[str, pd.DataFrame]]"


def subplots(*grid: int, figsize: tuple[float, float], squeeze: bool = True) -> tuple[Any, Any]:
    """A new figure and its axes, as ``pyplot.subplots`` makes them, without pyplot."""
    fig = figure.Figure(figsize=figsize)
    return fig, fig.subplots(*grid, squeeze=squeeze)


def png_data(fig) -> str:
    """A figure as a ``data:`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def months(days: pd.Index | pd.Series, warmup_days: int) -> np.ndarray:
    """Month ends counted from the contract start: the snapshot at the start is month 0."""
    return np.round((np.asarray(days, dtype=float) - warmup_days) / DAYS_PER_MONTH)


def _band(ax, part: pd.DataFrame, column: str, warmup_days: int, colour: str, label: str) -> None:
    """The median across replications at each month end, in a band from the 5th to the 95th centile."""
    q = part.groupby("day")[column].quantile([0.05, 0.5, 0.95]).unstack()
    x = months(q.index, warmup_days)
    ax.fill_between(x, q[0.05], q[0.95], color=colour, alpha=0.2, linewidth=0)
    ax.plot(x, q[0.5], color=colour, label=label)


def _panels(count: int, cols: int, height: float):
    rows = math.ceil(count / cols)
    fig, axes = subplots(rows, cols, squeeze=False, figsize=(11, height * rows))
    return fig, axes


def _spare_panels(axes, used: int) -> list:
    spare = list(axes.flat)[used:]
    for ax in spare:
        ax.axis("off")
    return spare


def waiting_lists(monthly: pd.DataFrame, stages: list[str], designs: list[str], warmup_days: int, mean: bool = True):
    """One panel per stage: patients waiting over each month (``mean``) or at its end, by design.

    The month's mean is the fair picture of a short list: triage's is empty most mornings and
    a few hundred for a week after a bank holiday, so its month-end count jumps with the calendar.
    """
    fig, axes = _panels(len(stages), 3, 2.8)
    suffix = "_waiting_mean" if mean else "_waiting"
    for ax, st in zip(axes.flat, stages, strict=False):
        for i, design in enumerate(designs):
            part = monthly[monthly["design"] == design]
            if part[f"{st}{suffix}"].isna().all():
                continue
            _band(ax, part, f"{st}{suffix}", warmup_days, COLOURS[i], design)
        ax.set_title(stage_name(st), fontsize=10)
        ax.set_xlabel("Months from the contract start", fontsize=8)
        ax.set_ylabel("Patients waiting", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=8)
    spare = _spare_panels(axes, len(stages))
    handles, names = axes.flat[0].get_legend_handles_labels()
    (spare[0].legend(handles, names, loc="center", fontsize=9, frameon=False) if spare else axes.flat[0].legend(fontsize=8))
    when = "mean over each month" if mean else "at each month end"
    fig.suptitle(f"Waiting list, {when}, by stage: median and 90% band across replications", fontsize=11)
    fig.tight_layout()
    return fig


def rtt_within(monthly: pd.DataFrame, designs: list[str], warmup_days: int, backlog: bool):
    """Incomplete pathways within 18 weeks at each month end, against the standard."""
    fig, ax = subplots(figsize=(9, 3.6))
    for i, design in enumerate(designs):
        _band(ax, monthly[monthly["design"] == design], "rtt_incomplete_within_18w_pct", warmup_days, COLOURS[i], design)
    ax.axhline(STANDARD, color="black", linestyle="--", linewidth=1, label="92% standard")
    ax.set_ylim(min(80, ax.get_ylim()[0]), 100.5)
    ax.set_title("Incomplete pathways within 18 weeks at each month end (%)")
    ax.set_xlabel("Months from the contract start" + (" (0 = the backlog as loaded)" if backlog else ""))
    ax.set_ylabel("% within 18 weeks")
    ax.legend(fontsize=8)
    return fig


def wait_distribution(waits: pd.DataFrame, designs: list[str]):
    """How long incomplete pathways have waited, by whole weeks, with the 18- and 52-week marks."""
    fig, ax = subplots(figsize=(9, 3.6))
    width = 0.8 / max(len(designs), 1)
    last = 0.0
    for i, design in enumerate(designs):
        part = waits[waits["design"] == design]
        ax.bar(part["weeks"] + i * width, part["pathways"], width=width, color=COLOURS[i], label=design, align="edge")
        seen = part[part["pathways"] >= 0.5]
        last = max(last, float(seen["weeks"].max()) if not seen.empty else 0.0)
    right = max(last + 2, 56.0)  # the data, but never hiding the 52-week mark
    ax.set_xlim(-0.5, right)
    for mark in (18, 52):
        ax.axvline(mark, color="black", linestyle="--", linewidth=1)
        inside = right - mark > 8  # room for the label right of the line; else left of it, never past the edge
        ax.text(mark + (0.5 if inside else -0.5), ax.get_ylim()[1] * 0.9, f"{mark} weeks", fontsize=8,
                ha="left" if inside else "right")  # fmt: skip
    top = int(waits["weeks"].max()) if not waits.empty else 0
    ax.set_title("How long incomplete pathways have waited (mean per month end)")
    ax.set_xlabel("Weeks waited" + (f" ({top} = {top // 52} years or more)" if last >= top - 1 and top else ""))
    ax.set_ylabel("Pathways")
    ax.legend(fontsize=8)
    return fig


def activity(per_year: pd.DataFrame, items: list[tuple[str, str]], years: list, designs: list[str]):
    """One panel per kind of activity: bars per contract year and design."""
    fig, axes = _panels(len(items), 4, 2.6)
    width = 0.8 / len(designs)
    x = np.arange(len(years))
    for ax, (k, label) in zip(axes.flat, items, strict=False):
        for i, design in enumerate(designs):
            if design not in per_year.index.get_level_values(0):
                continue
            vals = per_year.loc[design, k].reindex(years)
            ax.bar(x + i * width, vals.to_numpy(), width=width, color=COLOURS[i], label=design)
        ax.set_xticks(x + width * (len(designs) - 1) / 2, [str(y) for y in years], fontsize=8)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("Contract year", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    spare = _spare_panels(axes, len(items))
    handles, names = axes.flat[0].get_legend_handles_labels()
    if spare:  # in an empty panel, where it hides no bar
        spare[0].legend(handles, names, loc="center", fontsize=9, frameon=False)
    else:
        fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, frameon=False)
    fig.suptitle("Activity a year by point of delivery (each panel has its own scale, starting at zero)", fontsize=11)
    fig.tight_layout()
    return fig


def costs(table: pd.DataFrame, designs: list[str], providers: list[str]):
    """Per design, the money per provider a year, stacked, and the commissioner's spend as a line."""
    fig, axes = subplots(1, len(designs), figsize=(5 * len(designs), 3.9), squeeze=False)
    colour = {p: COLOURS[i % len(COLOURS)] for i, p in enumerate(providers)}  # the same colour in every panel
    handles: dict[str, Any] = {}
    for ax, design in zip(axes.flat, designs, strict=True):
        part = table[table["design"] == design]
        cols = [c for c in part.columns if c.startswith(("pay_provider_", "cost_provider_")) and part[c].notna().any()]
        by_year = part.groupby("year")[cols].mean() / 1e6
        bottom = np.zeros(len(by_year))
        integrated = any(c.startswith("cost_provider_") for c in cols)
        for c in cols:
            provider = c.removeprefix("pay_provider_").removeprefix("cost_provider_").removesuffix("_gbp")
            direct = integrated and c.startswith("pay_provider_")  # outside the contract: paid by the commissioner
            bars = ax.bar(by_year.index, by_year[c], bottom=bottom, color=colour.get(provider, "#999"),
                          hatch="//" if direct else None, edgecolor="white" if direct else None)  # fmt: skip
            handles.setdefault(words(provider) + (" (paid directly)" if direct else ""), bars)
            bottom += by_year[c].to_numpy()
        ax.set_xticks(by_year.index)
        spend = part.groupby("year")["commissioner_cost_gbp"].mean() / 1e6
        (line,) = ax.plot(spend.index, spend.values, "k-o")
        handles["commissioner spend"] = line
        if not integrated:
            kind = "commissioner's payments"
        elif any(c.startswith("pay_provider_") for c in cols):
            kind = "the integrator's costs and direct payments"
        else:
            kind = "the prime's costs"
        ax.set_title(f"{design}: {kind} by provider", fontsize=10)
        ax.set_xlabel("Contract year")
        ax.set_ylabel("£ million")
        ax.set_ylim(0, max(ax.get_ylim()[1], float(spend.max()) * 1.1))
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def cash_fan(cash: pd.DataFrame, reserve: float):
    """The prime's running cash balance month by month (£ million): median and the 50% and 90%
    bands across replications, with the line where the reserve is used up."""
    by_month = cash.groupby("month")["cumulative_cash_gbp"]
    q = by_month.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack() / 1e6
    fig, ax = subplots(figsize=(9, 3.6))
    ax.fill_between(q.index, q[0.05], q[0.95], color=BID, alpha=0.15, linewidth=0, label="90% of replications")
    ax.fill_between(q.index, q[0.25], q[0.75], color=BID, alpha=0.3, linewidth=0, label="50% of replications")
    ax.plot(q.index, q[0.5], color=BID, label="median")
    ax.axhline(0, color="black", linewidth=1)
    if reserve > 0:
        ax.axhline(-reserve / 1e6, color=LOSS, linestyle="--", linewidth=1, label=f"reserve of {fmt(reserve, 'gbp')} used up")
    ax.set_title("Prime's running cash balance from the contract start")
    ax.set_xlabel("Month of the contract")
    ax.set_ylabel("£ million")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def surplus_histogram(cumulative_m: pd.Series, price: float, p_loss: float):
    """The prime's cumulative surplus across replications (£ million), losses in red."""
    fig, ax = subplots(figsize=(9, 3.6))
    bins = min(40, max(10, len(cumulative_m) // 5))
    _, edges, patches = ax.hist(cumulative_m, bins=bins, color=BID, edgecolor="white")
    for patch, left in zip(patches, edges[:-1], strict=True):
        if left < 0:
            patch.set_facecolor(LOSS)
    ax.axvspan(min(edges[0], 0), 0, color=LOSS, alpha=0.08)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_title(f"Prime's cumulative surplus over the contract at a year-1 price of {fmt(price, 'gbp')}: P(loss) = {p_loss:.0%}")
    ax.set_xlabel("Cumulative surplus (£ million); losses shaded")
    ax.set_ylabel("Replications")
    ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    return fig


def loss_curve(prices: np.ndarray, probs: list[float], price: float, safe: float, risk: float):
    """Probability of a cumulative loss against the year-1 price, with the bid and the lowest safe price."""
    fig, ax = subplots(figsize=(9, 3.6))
    ax.plot(prices / 1e6, probs, "k-")
    ax.axhline(risk, color=LOSS, linestyle="--", linewidth=1, label=f"risk appetite {risk:.0%}")
    ax.axvline(safe / 1e6, color=GAIN, linestyle="--", linewidth=1, label=f"lowest safe price {fmt(safe, 'gbp')}")
    ax.axvline(price / 1e6, color=BID, linewidth=1, label=f"bid {fmt(price, 'gbp')}")
    ax.set_title("Probability of a cumulative loss against the year-1 price (break-even curve)")
    ax.set_xlabel("Year-1 price (£ million)")
    ax.set_ylabel("P(cumulative loss)")
    ax.legend(fontsize=8)
    return fig


def tornado(top: pd.DataFrame, base_gbp: float):
    """Bars from the expected surplus to the surplus with each input at its low and high end."""
    fig, ax = subplots(figsize=(10, 0.48 * len(top) + 1.6))
    base = base_gbp / 1e6
    for i, r in enumerate(top.itertuples()):
        lo, hi = r.surplus_at_low_gbp / 1e6, r.surplus_at_high_gbp / 1e6
        ax.barh(i, lo - base, left=base, color=LOW_END, height=0.7)
        ax.barh(i, hi - base, left=base, color=HIGH_END, height=0.7)
        if r.drawn:  # the quartile values, at the end of the bar they belong to
            for value, at in ((r.low, lo), (r.high, hi)):
                side = "left" if at >= base else "right"
                ax.text(at + (0.03 if at >= base else -0.03), i, value_text(r.key, value), va="center", ha=side, fontsize=7)
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(top)), list(top["label"]), fontsize=8)
    span = np.nanmax(np.abs(np.r_[top["surplus_at_low_gbp"], top["surplus_at_high_gbp"]] / 1e6 - base)) if len(top) else 1
    ax.set_xlim(base - span * 1.3, base + span * 1.3)
    ax.set_xlabel(f"Mean cumulative surplus over the contract (£ million); the line is the expected {fmt(base_gbp, 'gbp')}")
    ax.set_title("What moves the result (tornado)")
    fig.legend(
        handles=[
            mpatches.Patch(color=LOW_END, label="input at its low end (lowest quarter of draws; a term at its low setting)"),
            mpatches.Patch(color=HIGH_END, label="input at its high end (highest quarter of draws; a term at its high setting)"),
        ],
        fontsize=8,
        loc="lower center",
        ncol=1,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.5 / fig.get_figheight(), 1, 1))
    return fig


DODGE = 0.04
"""How far apart, as a share of the step between swept values, lines of one panel are drawn."""
MARKERS = ("o", "s", "^", "D", "v")
DASHES = ("-", "--", ":", "-.")


def sweep(panels: list[tuple[str | None, Lines]], key: str, metric: str, low: float | None, labels: tuple[str, str]):
    """The watched metric against the first swept key: one line per design (or per value of the other
    keys, one panel per design), mean and 95% interval. ``low`` is the lowest interval end of a
    percentage (None for another unit); ``labels`` the key's and the metric's names."""
    wide = len(panels) > 1 or panels[0][0] is not None
    fig, axes = subplots(1, len(panels), figsize=(4.8 * len(panels) if wide else 9, 3.8), squeeze=False)
    for ax, (title, lines) in zip(axes.flat, panels, strict=True):
        numeric = all(pd.api.types.is_numeric_dtype(sub[key]) for _, sub in lines)
        values = sorted({float(v) for _, sub in lines for v in sub[key]}) if numeric else []
        step = min(np.diff(values)) if len(values) > 1 else 1.0
        for i, (label, sub) in enumerate(lines):
            d = sub.groupby(key)[["mean", "ci_low", "ci_high"]].mean().sort_index()
            # lines that coincide (two designs both at 100%) would hide one another: set each a little
            # aside, with its own marker and dash, so every series shows
            x = d.index.to_numpy(dtype=float) + (i - (len(lines) - 1) / 2) * DODGE * step if numeric else d.index
            ax.errorbar(
                x, d["mean"], yerr=[d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]],
                color=COLOURS[i % len(COLOURS)], marker=MARKERS[i % len(MARKERS)], linestyle=DASHES[i % len(DASHES)],
                capsize=3, label=label,
            )  # fmt: skip
        if metric == "rtt_incomplete_within_18w_pct":
            ax.axhline(STANDARD, color="black", linestyle="--", linewidth=1, label="92% standard")
        if low is not None:
            ax.set_ylim(max(0.0, min(low, 90.0) - 2), 100.5)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _, k=key: value_text(k, v)))
        if title is not None:
            ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    name = labels[1].split(" (")[0]
    what = labels[0]
    fig.suptitle(f"{name} by {what[:1].lower() + what[1:]}: mean and 95% interval across replications", fontsize=11)
    fig.tight_layout()
    return fig


def return_bands(panels: list[tuple[str, pd.DataFrame]], designs: list[str], standard_weeks: int):
    """One panel per treatment function: bars per week band of the mean number of incomplete pathways
    at month end, designs side by side, with the standard's week marked.

    Each panel's frame has a row per design and a column per band shown (``0-1`` … and the last
    one perhaps grouped, such as ``52+``), in order.
    """
    fig, axes = _panels(len(panels), 2 if len(panels) > 1 else 1, 3.2)
    width = 0.8 / max(len(designs), 1)
    for ax, (title, frame) in zip(axes.flat, panels, strict=False):
        bands = list(frame.columns)
        x = np.arange(len(bands))
        for i, design in enumerate(designs):
            if design in frame.index:
                ax.bar(x + i * width, frame.loc[design].to_numpy(), width=width, color=COLOURS[i], label=design, align="edge")
        if standard_weeks < len(bands):  # the line between the bands under and over the standard
            ax.axvline(standard_weeks - 0.1, color="black", linestyle="--", linewidth=1)
            ax.text(standard_weeks + 0.3, ax.get_ylim()[1] * 0.9, f"{standard_weeks} weeks", fontsize=8)
        step = max(1, len(bands) // 10)
        last = len(bands) - 1  # always labelled ("52+"); a regular tick closer to it than a step would overlap it
        ticks = [k for k in range(last) if k % step == 0 and last - k >= step] + [last]
        ax.set_xticks([k + 0.4 for k in ticks], [bands[k].split("-")[0] if "-" in bands[k] else bands[k] for k in ticks])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("Weeks waited (band's lower edge)", fontsize=8)
        ax.set_ylabel("Pathways", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    spare = _spare_panels(axes, len(panels))
    handles, names = axes.flat[0].get_legend_handles_labels()
    (spare[0].legend(handles, names, loc="center", fontsize=9, frameon=False) if spare else axes.flat[0].legend(fontsize=8))
    fig.suptitle("Incomplete pathways at month end by weeks waited (mean per month end across replications)", fontsize=11)
    fig.tight_layout()
    return fig


def switch_over(table: pd.DataFrame, shown: list[tuple[str, str]], names: dict[str, str], settle: dict[str, int | None]):
    """One panel per measure: the old design, the switch-over and the steady state month by month
    (means over replications), with the month the switch-over settles marked."""
    fig, axes = _panels(len(shown), 2, 3.0)
    series = (("old_design_mean", names["from"]), ("switch_over_mean", names["design"]), ("steady_state_mean", names["steady"]))
    for ax, (measure, title) in zip(axes.flat, shown, strict=False):
        part = table[table["measure"] == measure]
        for i, (col, label) in enumerate(series):
            ax.plot(part["month"], part[col], color=COLOURS[i], label=label, linestyle="--" if i == 2 else "-")
        months = settle.get(measure)
        if months is not None:
            ax.axvline(months + 1, color="black", linestyle=":", linewidth=1, label="settled from here")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("Months from the contract start", fontsize=8)
        ax.tick_params(labelsize=8)
        if not measure.endswith("_pct"):
            ax.set_ylim(bottom=0)
    _spare_panels(axes, len(shown))
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("The switch-over: mean over replications", fontsize=11)
    fig.tight_layout()
    return fig
