"""What the money layer adds to a bid's time: costing each replication, then pricing the paths.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/money_layer.md``, which
docs/performance.md includes)::

    python benchmarks/money_layer.py                  # the bundled bid: 10 replications x 5 years
    python benchmarks/money_layer.py --reps 20 --scenario scenarios/unitingcare_style.toml

A bid is simulation (the model, in the workers), then money: each replication's rows costed
(:func:`sim.money.finance.add_finance`, in the workers, once per task) and the paths priced in the
main process (the bid summary with its break-even search, the sensitivity swings and the
monthly cash). Both are timed in this one process, one after the other, on the same rows, so
the ratio does not depend on the machine; the simulation is timed without the costing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.record import Record
from sim.model.pathway import Pathway
from sim.money.bid import BidPaths, bid_summary, sensitivity
from sim.money.cash import monthly_cash
from sim.money.finance import add_finance
from sim.scenario.loading import apply_parameters, load_scenario
from sim.scenario.uncertainty import draw_parameters, parse_uncertainty

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "bedfordshire.toml")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--design", default="prime")
    args = parser.parse_args()
    record = Record("money_layer")
    s = load_scenario(args.scenario)
    dists = parse_uncertainty(s.uncertainty, s, s.name)
    simulate = cost = 0.0
    tables, monthly = [], []
    for rep in range(args.reps):
        drawn = apply_parameters(s, draw_parameters(dists, s, rep))
        t0 = time.perf_counter()
        model = Pathway(drawn, args.design, rep)
        rows = pd.DataFrame(model.run())
        t1 = time.perf_counter()
        rows = add_finance(rows, drawn)
        t2 = time.perf_counter()
        simulate, cost = simulate + (t1 - t0), cost + (t2 - t1)
        rows["replication"] = rep
        tables.append(rows)
        frame = pd.DataFrame(model.recorder.monthly, columns=model.recorder.monthly_columns)
        frame.insert(0, "replication", rep)
        frame.insert(0, "design", args.design)
        monthly.append(frame)
    table, months = pd.concat(tables, ignore_index=True), pd.concat(monthly, ignore_index=True)
    price = s.finance.prime_contract.year1_value(s.population)
    t3 = time.perf_counter()
    paths = BidPaths(table, s, args.design)
    bid_summary(paths, price, 0.1)
    sensitivity(paths, price)
    monthly_cash(paths, months, s, price, 3e6)
    priced = time.perf_counter() - t3
    money = cost + priced
    print(f"{s.name}, design {args.design}: {args.reps} replications x {s.run.years} years")
    print(f"  simulation                 {simulate:8.2f} s")
    print(f"  costing the rows           {cost:8.2f} s  ({cost / simulate:.1%} of the simulation)")
    print(f"  pricing the paths          {priced:8.2f} s  ({priced / simulate:.1%})")
    print(f"  money layer in all         {money:8.2f} s  ({money / simulate:.1%} of the simulation)")

    record.write([
        f"{s.name}, design {args.design}: {args.reps} replications × {s.run.years} years, in one process, one after the other.",
        "",
        "| part | CPU s | of the simulation's time |",
        "|---|---:|---:|",
        f"| simulation | {simulate:.2f} | |",
        f"| costing the rows (tariffs, price indices, provider costs, contract account) | {cost:.2f} | {cost / simulate:.1%} |",
        f"| pricing the paths (bid summary, sensitivity, monthly cash) | {priced:.2f} | {priced / simulate:.1%} |",
        f"| the money layer in all | {money:.2f} | {money / simulate:.1%} |",
    ])  # fmt: skip

if __name__ == "__main__":
    main()
