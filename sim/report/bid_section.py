"""The bid: the prime's surplus across replications, loss against price, what moves it, the figures."""

from __future__ import annotations

import numpy as np

from sim.analysis.takeover import TAKES_OVER
from sim.base.lazy import later
from sim.money.bid import BidPaths
from sim.report import charts
from sim.report.labels import input_label, merged_label, metric_label, term_end, value_text
from sim.report.page import Section, esc, figure
from sim.report.terminal import fmt, pence
from sim.report.terminal_bid import TAKEOVER_COLUMNS
from sim.report.view import View
from sim.scenario.names import PRIME_SURPLUS_GBP

pd = later("pandas")


def bid_section(view: View) -> Section | None:
    """The surplus distribution, the break-even curve, the tornado and the bid's figures."""
    if not view.folder.has("bid_summary"):
        return None
    bs, bid, sens = view.folder.table("bid_summary"), view.folder.table("bid"), view.folder.table("sensitivity")

    def figure_of(metric: str) -> float:
        return float(bs.loc[bs["metric"] == metric, "mean"].iloc[0])

    price = figure_of("bid_year1_gbp")
    cum = bid.groupby("replication")[PRIME_SURPLUS_GBP].sum() / 1e6
    p_loss = float((cum < 0).mean())
    body = "<h3>Surplus distribution</h3>" + figure(
        charts.surplus_histogram(cum, price, p_loss),
        "Distribution of the prime's cumulative surplus across replications; the loss region is shaded.",
    )
    paths = BidPaths(view.table, view.scenario, view.designs[0])
    prices = np.linspace(price * 0.8, price * 1.2, 41)
    probs = [(paths.cumulative(g) < 0).mean() for g in prices]
    fig = charts.loss_curve(prices, probs, price, figure_of("safe_price_year1_gbp"), figure_of("max_loss_probability"))
    body += "<h3>Loss against price</h3>" + figure(fig, "Loss probability against price, evaluated on the same simulated paths.")
    if view.folder.has("bid_monthly"):
        reserve = figure_of("reserve_gbp")
        body += "<h3>Cash month by month</h3>" + figure(
            charts.cash_fan(view.folder.table("bid_monthly"), reserve),
            "The prime's cash: the up-front payment and management fee arrive in monthly instalments, care is paid "
            "for in the month it is delivered, and the quality payment and the surplus or deficit settlement with the "
            "commissioner fall in each contract year's last month (bid_monthly.csv). Below zero the prime is "
            "spending its own reserve"
            + (f"; below the dashed line the reserve of {fmt(reserve, 'gbp')} is used up." if reserve > 0 else "."),
        )
    if not sens.empty:
        body += "<h3>What moves the result</h3>" + tornado(tornado_rows(sens), paths.cumulative(price).mean())
    if view.folder.has("takeover"):
        names = view.folder.batch.get("extra", {}).get(TAKES_OVER, {})
        body += "<h3>What the takeover adds</h3>" + takeover_html(view.folder.table("takeover"), names)
    body += "<h3>The figures</h3>" + bid_tables(bs)
    return Section("bid", "The bid", body)


def takeover_html(table: pd.DataFrame, names: dict[str, str]) -> str:
    """``takeover.csv`` as the bidder reads it: year by year, the takeover minus the same
    design without it, paired on the same patients, then the safe price each way."""
    by = table.assign(year=table["year"].astype(str)).set_index(["metric", "year"])

    def cell(metric: str, year: str, unit: str) -> str:
        if (metric, year) not in by.index:
            return "–"
        r = by.loc[(metric, year)]
        if unit == "patients":
            value = f"{r['mean']:+,.0f}"
            ends = "" if pd.isna(r["ci_low"]) else f"{r['ci_low']:+,.0f} to {r['ci_high']:+,.0f}"
        else:
            value = _fmt_bid(metric, r["mean"])
            ends = "" if pd.isna(r["ci_low"]) or r["ci_low"] == r["ci_high"] else (
                f"{_fmt_bid(metric, r['ci_low'])} to {_fmt_bid(metric, r['ci_high'])}"
            )  # fmt: skip
        return value + (f'<br><span class="ci">{esc(ends)}</span>' if ends and not _probability(metric) else "")

    whole = {"loss_probability_with": "loss_probability_cumulative_with",
             "loss_probability_without": "loss_probability_cumulative_without"}  # fmt: skip
    head = "".join(f"<th>{esc(h)}</th>" for h, _, _ in TAKEOVER_COLUMNS)
    years = sorted({y for y in by.index.get_level_values("year") if y != "all"}, key=int)
    body = "".join(f"<tr><td>{y}</td>" + "".join(f"<td>{cell(m, y, u)}</td>" for _, m, u in TAKEOVER_COLUMNS) + "</tr>"
                   for y in years)  # fmt: skip
    body += "<tr><td>Contract</td>" + "".join(f"<td>{cell(whole.get(m, m), 'all', u)}</td>" for _, m, u in TAKEOVER_COLUMNS)
    body += "</tr>"

    def safe(metric: str) -> float:
        return float(by.loc[(metric, "all"), "mean"]) if (metric, "all") in by.index else float("nan")

    lead = (
        f"<p>{esc(names.get('design', 'The takeover'))} (taking over the lists of {esc(names.get('from', 'the old design'))} "
        f"and mobilising) minus {esc(names.get('without', 'the same design'))} in its steady state, at the same price and "
        "on the same patients and drawn inputs, replication by replication (mean and 95% interval; takeover.csv). "
        "The inherited list's care is costed in the year it is given; what is still waiting at the contract's end "
        "is not costed, and shows in the last column.</p>"
    )
    price = (
        f"<p>Lowest safe year-1 price: {fmt(safe('safe_price_year1_with_gbp'), 'gbp')} taking over, "
        f"{fmt(safe('safe_price_year1_without_gbp'), 'gbp')} without; the takeover adds "
        f"{fmt(safe('extra_safe_price_year1_gbp'), 'gbp')} (£{safe('extra_safe_price_per_head_gbp'):,.2f} a head). "
        "The contract row's loss probabilities are of a cumulative loss.</p>"
    )
    return lead + f"<table><tr><th>Contract year</th>{head}</tr>{body}</table>" + price


def tornado_rows(sens: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table with one row per distinct input and plain-English labels.

    Rows with identical numbers are one drawn input copied to other keys (``also`` in the
    scenario's uncertainty section): ranking them twice would double-count it."""
    sens = sens.copy()
    sens["key"] = sens["input"].astype(str)
    sens["drawn"] = sens["kind"].astype(str).str.startswith("drawn")
    sig = sens[["kind", "low", "high", "surplus_at_low_gbp", "surplus_at_high_gbp"]].round(6).astype(str).agg("|".join, axis=1)
    rows = []
    for _, group in sens.groupby(sig, sort=False):
        first = group.iloc[0].copy()
        first["label"] = merged_label(list(group["key"])) if first["drawn"] else input_label(first["key"])
        rows.append(first)
    out = pd.DataFrame(rows).reset_index(drop=True)
    return out.sort_values("swing_gbp", ascending=False, ignore_index=True)


def tornado(rows: pd.DataFrame, base_gbp: float) -> str:
    """The ten inputs that move the mean cumulative surplus most: the chart and its table."""
    top = rows.head(10).iloc[::-1]
    alt = "Tornado chart: " + "; ".join(top["label"].iloc[::-1])
    chart = figure(
        charts.tornado(top, base_gbp),
        "Inputs ranked by how far they move the mean cumulative surplus. Light bar: the input at its low end; dark "
        "bar: at its high end. For a drawn input, each end is the mean surplus over the replications whose draw fell "
        "in its lowest or highest quarter (the numbers at the bar ends are those quartiles); a contract term is set "
        "low and high on the same paths. Inputs copied from one draw appear once.",
        alt,
    )
    table_rows = "".join(
        f"<tr><td>{esc(r.label)}</td>"
        + (
            f"<td>{esc(value_text(r.key, r.low))}</td><td>{esc(value_text(r.key, r.high))}</td>"
            if r.drawn
            else f"<td>{esc(term_end(r.key, r.low))}</td><td>{esc(term_end(r.key, r.high))}</td>"
        )
        + f"<td>{fmt(r.surplus_at_low_gbp, 'gbp')}</td><td>{fmt(r.surplus_at_high_gbp, 'gbp')}</td>"
        f"<td>{fmt(r.swing_gbp, 'gbp')}</td></tr>"
        for r in rows.itertuples()
    )
    table = (
        "<table><tr><th>Input</th><th>Low end</th><th>High end</th><th>Surplus at low</th><th>Surplus at high</th>"
        f"<th>Swing</th></tr>{table_rows}</table>"
    )
    return chart + table


def bid_tables(bs: pd.DataFrame) -> str:
    """The bid's figures over the whole contract, then year by year."""
    whole = bs[bs["year"].astype(str) == "all"]
    rows = "".join(
        f"<tr><td>{esc(metric_label(r.metric))}</td><td>{_fmt_bid(r.metric, r.mean)}</td>"
        + f"<td>{_bid_ci(r.metric, r.ci_low, r.ci_high)}</td></tr>"
        for r in whole.itertuples()
    )
    out = f"<table><tr><th>Over the whole contract</th><th>Value</th><th>95% interval</th></tr>{rows}</table>"
    yearly = bs[bs["year"].astype(str) != "all"]
    if not yearly.empty:
        metrics = list(dict.fromkeys(yearly["metric"]))
        head = "".join(f"<th>{esc(metric_label(m))}</th>" for m in metrics)
        body = ""
        for year, part in yearly.groupby(yearly["year"].astype(int)):
            part = part.set_index("metric").loc[metrics]
            cells = "".join(
                f"<td>{_fmt_bid(m, r['mean'])}{_bid_ci(m, r['ci_low'], r['ci_high'], below=True)}</td>"
                for m, r in part.iterrows()
            )
            body += f"<tr><td>{year}</td>{cells}</tr>"
        out += f"<table><tr><th>Contract year</th>{head}</tr>{body}</table>"
    return out


def _probability(metric: str) -> bool:
    return metric.startswith(("loss_probability", "max_loss", "reserve_exhausted_probability"))


def _bid_ci(metric: str, low: float, high: float, below: bool = False) -> str:
    """An interval, or nothing where it is absent or has no width (a probability of 0 in every path)."""
    if pd.isna(low) or low == high:
        return ""
    if _probability(metric):  # a probability stays within 0-1
        low, high = max(low, 0.0), min(high, 1.0)
    return ("<br>" if below else "") + f'<span class="ci">{_fmt_bid(metric, low)} to {_fmt_bid(metric, high)}</span>'


def _fmt_bid(metric: str, value: float) -> str:
    if pd.isna(value):
        return "–"
    if metric.endswith("_per_head_gbp"):  # to the penny, as the terminal gives it
        return pence(value)
    if metric.endswith("_gbp"):
        return fmt(value, "gbp")
    if _probability(metric):
        return f"{100 * value:.1f}%"
    if metric.endswith("_pct"):
        return f"{value:.1f}%"
    return f"{value:,.3g}"
