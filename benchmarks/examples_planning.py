"""The worked examples on the Planning page (docs/planning.md), run as the page gives them.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/capacity_range.md``
and ``benchmarks/results/managed_or_fixed.md``, which the page includes)::

    python benchmarks/examples_planning.py     # the searches and both bids (several minutes)
    python benchmarks/examples_planning.py --only managed_or_fixed   # the bids alone

- ``msksim target scenarios/bedfordshire.toml --design prime --stage orthopaedics --stage theatre
  --metric rtt_110_incomplete_within_18w_pct --at-least 80 --year 2 --set run.capacity_policies=fixed
  --reps 5 --years 2 --tolerance 0.05``, and the same ``--at-least 92``: the least capacity
  under each structure of the prime's waits (delay-led, queue-led), from ``target.csv``,
  ``target_loads_<structure>.csv`` and what the command prints;
- ``msksim bid scenarios/bedfordshire.toml --bid 55/head --reserve 2m --takes-over fragmented
  --reps 40``, with the bundled managed capacity policies and with
  ``--set run.capacity_policies=fixed``: the bid's figures each way (``bid_summary.csv``), what
  the services added (``replications.csv``), what the takeover adds (``takeover.csv``).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.commands import money, msksim, pct  # noqa: E402
from benchmarks.record import Record  # noqa: E402
from sim.analysis.diagnostics import overloaded_paths  # noqa: E402

READING = {"delay": "delay-led", "queue": "queue-led"}
TARGET = ["target", "scenarios/bedfordshire.toml", "--design", "prime", "--stage", "orthopaedics", "--stage", "theatre",
          "--metric", "rtt_110_incomplete_within_18w_pct", "--year", "2", "--set", "run.capacity_policies=fixed",
          "--reps", "5", "--years", "2", "--tolerance", "0.05"]  # fmt: skip


def search(tmp: Path, share: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], str]:
    out = msksim(*TARGET, "--at-least", str(share), "--jobs", "1", out=tmp / f"target{share}", may_fail=True)
    loads = {s: pd.read_csv(f) for s in READING if (f := out / f"target_loads_{s}.csv").exists()}
    printed = (out / "stdout.txt").read_text()
    return (pd.read_csv(out / "target.csv") if (out / "target.csv").exists() else trials_printed(printed)), loads, printed


def trials_printed(printed: str) -> pd.DataFrame:
    """The trials as the command prints them (``x1.061: met on 0% of replications, METRIC 84.49 on average``)."""
    rows, structure = [], ""
    for line in printed.splitlines():
        if found := re.search(r"under the (\w+) structure", line):
            structure = found[1]
        if found := re.match(r"\s+x([\d.]+): met on ([\d.]+)% of replications, \S+ ([\d.]+) on average", line):
            rows.append({"factor": float(found[1]), "met": float(found[2]) >= 90, "metric_mean": float(found[3]),
                         "structure": structure})  # fmt: skip
    return pd.DataFrame(rows)


def capacity_range(tmp: Path) -> list[str]:
    trials, loads, printed = search(tmp, 80)
    md = [
        f"`msksim {' '.join(TARGET[:12])} --at-least 80 {' '.join(TARGET[12:])}` (one run; seed the scenario's):",
        "",
        "| reading | theatre's expected load at the capacity set, year 1 to 2 | least capacity found | "
        "orthopaedics, slots a week | theatre, slots a week | T&O within 18 weeks, year 2 "
        "| orthopaedics' highest load at the answer |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for structure, table in loads.items():
        tried = trials[trials["structure"] == structure]
        answer = tried[tried["met"].astype(bool)].sort_values("factor").iloc[0]
        found = table.set_index("stage")
        years = [c for c in found.columns if c.startswith("year_")]
        theatre = found.loc["theatre", years].astype(float) * answer["factor"]  # a load scales as 1 / capacity
        slots = {k.split(".")[-2]: v for k, v in answer.items() if k.startswith("slots.") and pd.notna(v)}
        md.append(
            f"| {READING[structure]} | {theatre.min():.2f} to {theatre.max():.2f} | x{answer['factor']:.3f} | "
            f"{slots['orthopaedics']:,.0f} | {slots['theatre']:,.0f} | {answer['metric_mean']:.1f}% | "
            f"{found.loc['orthopaedics', years].astype(float).max():.2f} |"
        )
    flat = " ".join(printed.split())  # the terminal wraps long lines
    said = re.findall(r"((?:Highest expected load of the searched services|With referrals growing).*?\.)(?=\s+[A-Z]|$)", flat)
    readings = iter(READING[s] for s in loads)
    md += ["", "What the command says of the loads:", ""]
    md += [f"- {next(readings, '')}: {line}" if line.startswith("Highest") else f"  {line}" for line in said]
    trials, _, printed = search(tmp, 92)
    md += [
        "",
        "The same search with `--at-least 92`: the share of T&O within 18 weeks in year 2 at every capacity tried "
        "(where none meets it the command says so and exits with an error, having written its trials).",
        "",
        "| reading | capacities tried | T&O within 18 weeks, year 2 | met |",
        "|---|---|---:|---|",
    ]
    for structure, tried in trials.groupby("structure", sort=False):
        f, m = tried["factor"], tried["metric_mean"]
        md.append(f"| {READING.get(structure, structure)} | x{f.min():.3g} to x{f.max():.3g} ({len(tried)} trials) | "
                  f"{m.min():.1f}% to {m.max():.1f}% | {'yes' if tried['met'].astype(bool).any() else 'no'} |")  # fmt: skip
    return md


def over_capacity(table: pd.DataFrame, design: str) -> str:
    """The services whose expected load reaches 1 (``<stage>_expected_load`` in ``replications.csv``, against
    what a capacity policy can offer at most): on average, or in some replications, as the command warns."""
    mine = table[table["design"] == design]
    found = []
    for column in (c for c in mine.columns if c.endswith("_expected_load")):
        load = mine[column].dropna()
        if not load.empty and load.mean() >= 1:
            found.append(f"{column.removesuffix('_expected_load')} on average (load {load.mean():.2f})")
    for o in overloaded_paths(mine):
        even = ", even at its policy's most sessions," if o.policy else ""
        found.append(f"{o.stage}{even} in {o.over} of {o.replications} replications from year {o.year}")
    return "; ".join(found) if found else "none"


def managed_or_fixed(tmp: Path) -> list[str]:
    args = ["bid", "scenarios/bedfordshire.toml", "--bid", "55/head", "--reserve", "2m", "--takes-over", "fragmented",
            "--reps", "40", "--jobs", "1"]  # fmt: skip
    ways = {"managed (bundled)": [], "`fixed`": ["--set", "run.capacity_policies=fixed"]}
    design = "prime_from_fragmented"
    md = [
        f"`msksim {' '.join(args[:-2])}` (seed the scenario's, one run each way; the prime taking over, `{design}`), "
        "with the bundled managed capacity policies and with `--set run.capacity_policies=fixed`:",
        "",
        "| Capacity | P(cumulative loss) | P(loss in year 1) | Safe price (P ≤ 10%) | Expected surplus "
        "| Services over capacity |",
        "|---|---|---|---|---|---|",
    ]
    after = []
    for way, extra in ways.items():
        out = msksim(*args, *extra, out=tmp / f"bid{len(after)}")
        s = pd.read_csv(out / "bid_summary.csv").set_index(["metric", "year"])
        cum = s.loc[("loss_probability_cumulative", "all")]
        v = s["mean"]
        md.append(
            f"| {way} | {pct(cum['mean'])} ({pct(cum['ci_low'])} to {pct(cum['ci_high'])}) | "
            f"{pct(v[('loss_probability_year1', 'all')])} | {money(v[('safe_price_year1_gbp', 'all')])} "
            f"(£{v[('safe_price_per_head_gbp', 'all')]:.2f} a head) | {money(v[('cumulative_surplus_gbp', 'all')])} | "
            f"{over_capacity(reps := pd.read_csv(out / 'replications.csv'), design)} |"
        )
        mine = reps[reps["design"] == design]
        last = int(mine["year"].max())
        added = {st: mine[c].mean() if (c := f"{st}_sessions_added") in mine else 0.0 for st in ("theatre", "triage")}
        t = pd.read_csv(out / "takeover.csv").set_index(["metric", "year"])["mean"]
        after.append((way, mine.loc[mine["year"] == last, "waiting_list_end"].mean(), last, added, t))
    md += ["", f"| Capacity | waiting at the end of year {after[0][2]} | sessions added a year on average: theatre "
           "| triage |", "|---|---:|---:|---:|"]  # fmt: skip
    md += [f"| {way} | {end:,.0f} | {added['theatre']:.0f} | {added['triage']:.0f} |" for way, end, _, added, _ in after]
    md += [
        "",
        "What taking over adds (`takeover.csv`: the prime taking over minus the same prime starting in its steady state, "
        "paired on the same patients and draws):",
        "",
        "| Capacity | extra cost, year 1 (mobilisation; care) | extra cost over the contract | P(loss in year 1) without → with "
        "| P(cumulative loss) without → with | safe price, extra |",
        "|---|---:|---:|---|---|---:|",
    ]
    for way, _, _, _, t in after:
        md.append(
            f"| {way} | {money(t[('extra_cost_gbp', '1')])} ({money(t[('extra_mobilisation_gbp', '1')])}; "
            f"{money(t[('extra_delivery_cost_gbp', '1')])}) | {money(t[('extra_cost_gbp', 'all')])} | "
            f"{pct(t[('loss_probability_without', '1')])} → {pct(t[('loss_probability_with', '1')])} | "
            f"{pct(t[('loss_probability_cumulative_without', 'all')])} → {pct(t[('loss_probability_cumulative_with', 'all')])} | "
            f"{money(t[('extra_safe_price_year1_gbp', 'all')])} (£{t[('extra_safe_price_per_head_gbp', 'all')]:.2f} a head) |"
        )
    return md


def main() -> None:
    parts = {"capacity_range": capacity_range, "managed_or_fixed": managed_or_fixed}
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=parts, help="make one of the two files (default both)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in parts.items():
            if a.only and name != a.only:
                continue
            record = Record(name)
            md = make(Path(tmp))
            print("\n".join(md), flush=True)
            record.write(md)


if __name__ == "__main__":
    main()
