"""The bid's tables for the terminal: the stress test in one screen, and what taking over adds."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from sim.analysis.takeover import TAKES_OVER
from sim.base.lazy import later
from sim.base.metrics import paths_for_upper_bound
from sim.money.bid import BidPaths, unranked_inputs
from sim.money.cash import COVER as CASH_COVER
from sim.money.cash import HORIZONS as CASH_HORIZONS
from sim.report.terminal import fmt, pence, plain
from sim.report.terminal_run import print_policies, print_takeovers
from sim.runs.batch import Batch
from sim.runs.experiment import BatchResult
from sim.scenario.names import PRIME_SURPLUS_GBP
from sim.scenario.schema import Scenario

pd = later("pandas")

BID_SANITY = 3.0
"""A --bid further than this factor from the scenario's own year-1 value is queried."""


def price_query(price: str, year1: float, scenario: Scenario) -> str | None:
    """A warning when ``--bid PRICE`` (``year1`` for the population covered) is further than
    :data:`BID_SANITY` times from the scenario's own year-1 value (None when it is not)."""
    written = scenario.finance.prime_contract.year1_value(scenario.population)
    if written > 0 and not 1 / BID_SANITY <= year1 / written <= BID_SANITY:
        return (
            f"--bid {price}: {fmt(year1, 'gbp')} is {year1 / written:.2g} times the scenario's year-1 "
            f"value ({fmt(written, 'gbp')}): is that the price you meant?"
        )
    return None


def per_head_price(year1: float) -> str:
    """What a price per head comes to for the population covered."""
    return f"a year-1 price of {fmt(year1, 'gbp')} for the population covered"


def bid_warnings(tables: dict[str, pd.DataFrame], batch: Batch, risk: float) -> list[str]:
    """What to say of a bid's paths: inputs drawn that could not be ranked, and a safe price
    that none or too few of them bound."""
    out = []
    unranked = unranked_inputs(BidPaths(tables["replications"], batch.scenario, batch.designs[0]))
    if unranked:
        out.append(unranked)
    row = tables["bid_summary"].set_index("metric").loc["safe_price_year1_gbp"]
    if not math.isfinite(row["mean"]):
        out.append(f"no year-1 price keeps the probability of a cumulative loss at or under {risk:.0%} on these paths")
    elif not math.isfinite(row["ci_high"]):
        out.append(
            f"the safe price rests on {int(row['n'])} paths: at least {paths_for_upper_bound(1 - risk)} are needed "
            f"to bound it from above at 95% for a {risk:.0%} loss probability; raise --reps"
        )
    return out


def print_bid_result(batch: Batch, result: BatchResult, tables: dict[str, pd.DataFrame], price: float,
                     console: Console) -> None:  # fmt: skip
    """The stress test, what was taken over and what it adds, the capacity policies, then where the results are."""
    print_bid(tables["bid_summary"], tables["sensitivity"], batch.scenario, price, console)
    print_takeovers(batch, result, console)
    if "takeover" in tables:
        print_takeover(tables["takeover"], batch.extra[TAKES_OVER], console)
    print_policies(tables["replications"], batch.scenario, console)
    console.print(f"Results written to [bold]{batch.folder}[/bold]")


def print_bid(summary: pd.DataFrame, swings: pd.DataFrame, scenario, price: float, console: Console | None = None) -> None:
    """The bid stress test in one screen: the headline risks, then year by year, then what moves it."""
    console = console or Console()

    def get(metric: str, year: str = "all") -> pd.Series:
        return summary[(summary["metric"] == metric) & (summary["year"] == year)].iloc[0]

    def money_ci(metric: str, year: str = "all") -> str:
        r = get(metric, year)
        if pd.isna(r["ci_low"]):
            return fmt(r["mean"], "gbp")
        return f"{fmt(r['mean'], 'gbp')} [dim]({fmt(r['ci_low'], 'gbp')} to {fmt(r['ci_high'], 'gbp')})[/dim]"

    n = int(get("cumulative_surplus_gbp")["n"])
    per_head = get("bid_per_head_gbp")["mean"]
    title = f"{scenario.name}: bid of {fmt(price, 'gbp')} in year 1 ({pence(per_head)} a head), {n} replications"
    head = Table(title=title, header_style="bold")
    head.add_column("Over the whole contract", style="bold", overflow="fold")
    head.add_column("", justify="right", overflow="fold")
    head.add_row("Expected cumulative surplus (95% CI)", money_ci("cumulative_surplus_gbp"))
    rate = get("discount_rate")["mean"]
    head.add_row(f"Net present value at {rate:.1%} a year (95% CI)", money_ci("cumulative_surplus_npv_gbp"))
    head.add_row("Expected margin on income", fmt(get("margin_pct")["mean"], "pct"))

    def share_ci(metric: str, year: str = "all") -> str:
        r = get(metric, year)
        if pd.isna(r["ci_low"]):
            return fmt(100 * r["mean"], "pct")
        return f"{fmt(100 * r['mean'], 'pct')} [dim]({fmt(100 * r['ci_low'], 'pct')} to {fmt(100 * r['ci_high'], 'pct')})[/dim]"

    head.add_row("Probability of a loss in year 1 (95% Wilson CI)", share_ci("loss_probability_year1"))
    head.add_row("Probability of a loss in any year", share_ci("loss_probability_any_year"))
    head.add_row("Probability of a cumulative loss", share_ci("loss_probability_cumulative"))
    head.add_row("Cumulative surplus, 5th percentile", fmt(get("cumulative_surplus_p5_gbp")["mean"], "gbp"))
    head.add_row("5% value at risk (loss at the 5th percentile)", fmt(get("value_at_risk_5pct_gbp")["mean"], "gbp"))
    head.add_row("Commissioner spend (whole contract)", money_ci("commissioner_cost_total_gbp"))
    head.add_row(f"Commissioner spend, net present value at {rate:.1%}", money_ci("commissioner_cost_total_npv_gbp"))
    head.add_row("Commissioner gain-share income", money_ci("commissioner_gain_share_total_gbp"))
    risk = get("max_loss_probability")["mean"]
    safe = get("safe_price_year1_gbp")
    bounds = "no 95% bounds on so few paths" if pd.isna(safe["ci_high"]) else (
        f"{fmt(safe['ci_low'], 'gbp')} to {fmt(safe['ci_high'], 'gbp')}"
    )  # fmt: skip
    head.add_row(
        f"Lowest year-1 price with P(cumulative loss) ≤ {risk:.0%} (order-statistic 95% bounds, {int(safe['n'])} paths)",
        f"[bold]{fmt(safe['mean'], 'gbp')}[/bold] [dim]({bounds})[/dim]",
    )
    head.add_row("  the same, per head of the population covered", pence(get("safe_price_per_head_gbp")["mean"]))
    if (summary["metric"] == "cash_low_point_gbp").any():
        reserve = get("reserve_gbp")["mean"]
        held = f"Reserve of {fmt(reserve, 'gbp')}" if reserve > 0 else "Cash (no --reserve given)"
        head.add_row("Cash: lowest running balance, mean (95% CI)", money_ci("cash_low_point_gbp"))
        for months in CASH_HORIZONS:
            head.add_row(f"{held} runs out within {months} months", share_ci(f"reserve_exhausted_probability_{months}m"))
        head.add_row(f"{held} runs out during the contract", share_ci("reserve_exhausted_probability_contract"))
        buffer = get(f"cash_buffer_{int(CASH_COVER * 100)}pct_gbp")
        head.add_row(
            f"Cash buffer (reserve plus guarantee) for a {CASH_COVER:.0%} chance of never running out",
            f"[bold]{fmt(buffer['mean'], 'gbp')}[/bold]",
        )
    console.print(head)

    years = sorted({y for y in summary["year"] if y != "all"}, key=int)
    per_year = Table(title="Year by year (mean, 95% CI)", header_style="bold")
    for col in ("Year", "Prime surplus", "P(loss)", "Commissioner spend", "Gain share"):
        per_year.add_column(col, justify="right", overflow="fold")
    for y in years:
        per_year.add_row(
            y,
            money_ci(PRIME_SURPLUS_GBP, y),
            share_ci("loss_probability", y),
            fmt(get("commissioner_cost_gbp", y)["mean"], "gbp"),
            fmt(get("commissioner_gain_share_gbp", y)["mean"], "gbp"),
        )
    console.print(per_year)

    tornado = Table(title="What moves the cumulative surplus (low / high swing)", header_style="bold")
    for col in ("Input", "Low", "High", "Surplus at low", "Surplus at high", "Swing"):
        tornado.add_column(col, justify="right" if col != "Input" else "left", overflow="fold")
    for r in swings.itertuples():
        tornado.add_row(
            r.input,
            plain(r.low),
            plain(r.high),
            fmt(r.surplus_at_low_gbp, "gbp"),
            fmt(r.surplus_at_high_gbp, "gbp"),
            fmt(r.swing_gbp, "gbp"),
        )
    console.print(tornado)


TAKEOVER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Extra cost", "extra_cost_gbp", "gbp"),
    ("of which mobilisation", "extra_mobilisation_gbp", "gbp"),
    ("Extra surplus", "extra_surplus_gbp", "gbp"),
    ("P(loss) with", "loss_probability_with", "probability"),
    ("P(loss) without", "loss_probability_without", "probability"),
    ("Extra waiting at year end", "extra_waiting_list_end", "patients"),
)
"""The columns of the takeover's year-by-year table: heading, measure of ``takeover.csv``, unit."""


def print_takeover(table: pd.DataFrame, names: dict[str, str], console: Console | None = None) -> None:
    """What taking over adds to the bid, year by year, paired on the same patients (``takeover.csv``)."""
    console = console or Console()
    by = table.assign(year=table["year"].astype(str)).set_index(["metric", "year"])

    def cell(metric: str, year: str, unit: str) -> str:
        if (metric, year) not in by.index:
            return "–"
        r = by.loc[(metric, year)]
        scale = 100.0 if unit == "probability" else 1.0
        shown = "pct" if unit == "probability" else unit
        text = fmt(scale * r["mean"], shown) if unit != "patients" else f"{r['mean']:+,.0f}"
        if pd.isna(r["ci_low"]) or r["ci_low"] == r["ci_high"] or unit == "probability":
            return text
        low, high = scale * r["ci_low"], scale * r["ci_high"]
        ends = (fmt(low, shown), fmt(high, shown)) if unit != "patients" else (f"{low:+,.0f}", f"{high:+,.0f}")
        return f"{text} [dim]({ends[0]} to {ends[1]})[/dim]"

    title = (
        f"What taking over '{names['from']}' adds to the bid: '{names['design']}' minus '{names['without']}' at the "
        "same price, paired on the same patients (mean, 95% CI)"
    )
    out = Table(title=title, header_style="bold")
    out.add_column("Year", justify="right", overflow="fold")
    for heading, _, _ in TAKEOVER_COLUMNS:
        out.add_column(heading, justify="right", overflow="fold")
    years = sorted({y for y in by.index.get_level_values("year") if y != "all"}, key=int)
    for y in years:
        out.add_row(y, *(cell(metric, y, unit) for _, metric, unit in TAKEOVER_COLUMNS))
    whole = {"loss_probability_with": "loss_probability_cumulative_with",
             "loss_probability_without": "loss_probability_cumulative_without"}  # fmt: skip
    out.add_row("Contract", *(cell(whole.get(metric, metric), "all", unit) for _, metric, unit in TAKEOVER_COLUMNS))
    console.print(out)
    safe = {m: by.loc[(m, "all"), "mean"] for m in ("safe_price_year1_with_gbp", "safe_price_year1_without_gbp",
                                                     "extra_safe_price_year1_gbp", "extra_safe_price_per_head_gbp")}  # fmt: skip
    console.print(
        f"Lowest safe year-1 price: {fmt(safe['safe_price_year1_with_gbp'], 'gbp')} taking over, "
        f"{fmt(safe['safe_price_year1_without_gbp'], 'gbp')} without: the takeover adds "
        f"{fmt(safe['extra_safe_price_year1_gbp'], 'gbp')} ({pence(safe['extra_safe_price_per_head_gbp'])} a head). "
        "P(loss) in the contract row is of a cumulative loss.",
        highlight=False,
    )
