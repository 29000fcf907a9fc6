"""The worked examples on the Bidding page (docs/bidding.md), run as the page gives them.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/bid_unitingcare.md``
and ``benchmarks/results/bid_per_head.md``, which the page includes)::

    python benchmarks/examples_bidding.py      # both bids, as on the page (a few minutes)

- ``msksim bid scenarios/unitingcare_style.toml --reserve 3m`` (the scenario's own replications):
  when a £3m reserve runs out, path by path, from ``bid_monthly.csv``, and the buffer that
  covers 90% of the paths;
- ``msksim bid scenarios/bedfordshire.toml --bid 49/head --reserve 1m --reps 40``: the price,
  the loss probabilities, the safe price, the cash and the tornado, from ``bid_summary.csv``,
  ``bid.csv`` and ``sensitivity.csv``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.commands import money, msksim, pct, rows  # noqa: E402
from benchmarks.record import Record  # noqa: E402

NAMES = {  # the tornado's inputs in plain words
    "delivery cost (activity and unit costs)": "delivery cost ±10%",
    "demand.referrals_per_year": "demand volume",
    "demand.growth": "demand growth",
    "surgery.tariff_joint_replacement": "the price of a joint replacement",
    "surgery.los_joint_days": "a joint replacement's length of stay",
    "stages.physio.cost_per_slot_gbp": "the physio slot cost",
    "stages.orthopaedics.list_for_surgery.specialist": "the share of specialist referrals listed for surgery",
    "escalator": "the escalator",
    "finance.inflation.pay": "pay inflation",
    "finance.inflation.tariff": "tariff inflation",
    "finance.prime_contract.overheads_gbp": "the prime's overheads (drawn)",
    "overheads_gbp": "the prime's overheads",
    "quality_share earned": "the quality payment earned",
}


def summary(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["metric"], r["year"]): r for r in rows(folder / "bid_summary.csv")}


def wilson(s: dict[tuple[str, str], dict[str, str]], metric: str) -> str:
    r = s[(metric, "all")]
    return f"{pct(float(r['mean']))} (Wilson interval {pct(float(r['ci_low']), 0)} to {pct(float(r['ci_high']), 1)})"


def unitingcare(tmp: Path) -> list[str]:
    args = ["bid", "scenarios/unitingcare_style.toml", "--reserve", "3m", "--jobs", "1"]
    out = msksim(*args, out=tmp / "unitingcare")
    s = summary(out)
    monthly = rows(out / "bid_monthly.csv")
    first: dict[str, int | None] = {}
    for r in monthly:
        first.setdefault(r["replication"], None)
        if float(r["reserve_left_gbp"]) < 0 and first[r["replication"]] is None:
            first[r["replication"]] = int(r["month"])
    paths = len(first)
    ran_out = sorted(m for m in first.values() if m is not None)
    years = max(int(r["year"]) for r in monthly)

    def within(months: int) -> str:
        r = s[(f"reserve_exhausted_probability_{months}m", "all")]
        n = round(float(r["mean"]) * paths)
        return f"{n} of {paths} paths (Wilson interval {pct(float(r['ci_low']), 0)} to {pct(float(r['ci_high']), 0)})"

    when = (f"in month {ran_out[0]} to {ran_out[-1]} on {len(ran_out)} of the {paths} replications "
            f"(median {statistics.median(ran_out):g})" if ran_out else f"on none of the {paths} replications")  # fmt: skip
    buffer = s[("cash_buffer_90pct_gbp", "all")]
    return [
        f"`msksim {' '.join(args[:-2])}` ({paths} replications, the scenario's own, {years} contract years):",
        "",
        f"- the £3m reserve ran out {when};",
        f"- within 6 months on {within(6)}; within 12 months on {within(12)};",
        f"- keeping a 90% chance of never running out over the {years} years takes a buffer (reserve plus guarantee) of "
        f"**{money(float(buffer['mean']), 1)}**; the lowest running balance is "
        f"{money(float(s[('cash_low_point_gbp', 'all')]['mean']))} on average.",
    ]


def per_head(tmp: Path) -> list[str]:
    args = ["bid", "scenarios/bedfordshire.toml", "--bid", "49/head", "--reserve", "1m", "--reps", "40", "--jobs", "1"]
    out = msksim(*args, out=tmp / "per_head")
    s = summary(out)
    v = {k: float(r["mean"]) for k, r in s.items()}
    bid = rows(out / "bid.csv")
    value = {int(r["year"]): float(r["contract_value_gbp"]) for r in bid if r["replication"] == bid[0]["replication"]}
    years = max(value)
    rise = (value[2] / value[1] - 1) if years > 1 else 0.0
    head = v[("bid_per_head_gbp", "all")]
    people = v[("bid_year1_gbp", "all")] / head
    cum = s[("cumulative_surplus_gbp", "all")]
    safe, safe_head = s[("safe_price_year1_gbp", "all")], s[("safe_price_per_head_gbp", "all")]
    upper = f"{money(float(safe['ci_high']))}" if safe["ci_high"] else "none (too few paths to bound it from above)"
    reps = int(cum["n"])
    tornado = sorted(rows(out / "sensitivity.csv"), key=lambda r: -float(r["swing_gbp"] or 0))[:8]
    lines = [
        f"`msksim {' '.join(args[:-2])}` ({reps} replications, seed the scenario's, {years} contract years):",
        "",
        f"- *The price.* £{head:g} a head for {people:,.0f} people is {money(v[('bid_year1_gbp', 'all')])} in year 1, "
        f"rising {pct(rise)} a year.",
        f"- *Will it lose money?* The expected surplus over {years} years is {money(float(cum['mean']))} (95% interval "
        f"{money(float(cum['ci_low']))} to {money(float(cum['ci_high']))}; {money(v[('cumulative_surplus_npv_gbp', 'all')])} at "
        f"its net present value), a margin of {v[('margin_pct', 'all')]:.1f}%; the chance of a cumulative loss is "
        f"{wilson(s, 'loss_probability_cumulative')}, of a loss in year 1 {pct(v[('loss_probability_year1', 'all')])}, in some "
        f"year {pct(v[('loss_probability_any_year', 'all')])}; the 5% value at risk is "
        f"{money(v[('value_at_risk_5pct_gbp', 'all')])}.",
        "- *The surplus year by year* (mean): "
        + ", ".join(f"year {y} {money(v[('prime_surplus_gbp', str(y))])}" for y in range(1, years + 1)) + ".",
        f"- *What price is safe?* The lowest year-1 price keeping the chance of a cumulative loss at "
        f"{pct(v[('max_loss_probability', 'all')], 0)} or under is {money(float(safe['mean']))}, "
        f"**£{float(safe_head['mean']):.2f} a head** (order-statistic bounds {money(float(safe['ci_low']))} to {upper}).",
        f"- *The cash.* With a £1m reserve, the running balance goes below zero on average to "
        f"{money(v[('cash_low_point_gbp', 'all')])}; the reserve runs out within 12 months on "
        f"{pct(v[('reserve_exhausted_probability_12m', 'all')])} of the paths, within 24 on "
        f"{pct(v[('reserve_exhausted_probability_24m', 'all')])} and during the contract on "
        f"{pct(v[('reserve_exhausted_probability_contract', 'all')])}; a buffer (reserve plus parent guarantee) of "
        f"**{money(v[('cash_buffer_90pct_gbp', 'all')])}** keeps a 90% chance of never running out.",
        "- *What moves it* (`sensitivity.csv`, the eight largest swings of the cumulative surplus): "
        + "; ".join(f"{NAMES.get(r['input'], r['input'])} {money(float(r['swing_gbp']), 1)}" for r in tornado) + ".",
    ]
    return lines


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        record = Record("bid_unitingcare")
        md = unitingcare(Path(tmp))
        print("\n".join(md))
        record.write(md)
        record = Record("bid_per_head")
        md = per_head(Path(tmp))
        print("\n".join(md))
        record.write(md)


if __name__ == "__main__":
    main()
