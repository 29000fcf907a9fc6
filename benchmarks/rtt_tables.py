"""The Calibration page's tables (docs/calibration.md): each bundled design's T&O returns beside the published ones.

Run by hand (``python benchmarks/rtt_tables.py [REPS]``, default 10 replications): for each
case, the mean of the three published months beside the simulated mean of the same calendar
months (for the fragmented design carried forward to the contract years, the same months five
years on), with ✓ where within the targets (counts 15%, within 18 weeks 5 points, median 2
weeks). Prints Markdown, and writes it to ``benchmarks/results/rtt_tables.md``, which the page
includes, with the machine and date it ran on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import Record  # noqa: E402
from sim.calibrate.area import read_published  # noqa: E402
from sim.calibrate.fit import Fitter, mean_statistics, published_statistics  # noqa: E402
from sim.runs.executors import make_executor  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402

CASES = {  # name: file, design, commissioner, era, years between the returns and the run
    "prime as delivered (06F)": ("bedfordshire.toml", "prime", "06F", "ccg", 0),
    "fragmented, 2009/10 (5P2)": ("bedfordshire_2010.toml", "fragmented", "5P2", "pct", 0),
    "fragmented, carried to 2014/15 (against 5P2)": ("bedfordshire.toml", "fragmented", "5P2", "pct", 5),
    "prime as claimed (against 06F)": ("bedfordshire.toml", "prime_as_claimed", "06F", "ccg", 0),
    "Oldham's hub (00Y)": ("oldham.toml", "prime", "00Y", "ccg", 0),
}
STATS = ["per_month", "within_18w_pct", "median_weeks", "p95_weeks"]


def beside(file: str, design: str, commissioner: str, era: str, shift: int, reps: int) -> pd.DataFrame:
    s = load_scenario(ROOT / "scenarios" / file)
    rtt = sorted((ROOT / "data" / "rtt").glob(f"rtt-commissioner-{era}-*.csv"))
    published = published_statistics(read_published(rtt, commissioner, ["110"]))
    months = {m: f"{int(m[:4]) + shift}{m[4:]}" for m in sorted(set(published["month"]))}
    executor = make_executor(2)
    try:
        fitter = Fitter(s, design, [], published, months, executor, reps, fixed={"run.years": 1})
        simulated = mean_statistics(fitter.simulate([{}])[0])
    finally:
        executor.close()
    return published.groupby("part")[STATS].mean().join(simulated.groupby("part")[STATS].mean(), rsuffix="_sim")


def row(t: pd.DataFrame, part: str) -> list[str]:
    r = t.loc[part]
    n, n_sim = r["per_month"], r["per_month_sim"]
    w, w_sim = r["within_18w_pct"], r["within_18w_pct_sim"]
    m, m_sim = r["median_weeks"], r["median_weeks_sim"]

    def ok(good: bool) -> str:
        return "✓" if good else "✗"

    return [
        f"| {part} pathways{' at month end' if part == 'incomplete' else ' a month'} | {n:,.0f} | "
        f"{n_sim:,.0f} {ok(abs(n_sim / n - 1) <= 0.15)} ({n_sim / n - 1:+.0%}) |",
        f"| {part}, within 18 weeks | {w:.1f}% | {w_sim:.1f}% {ok(abs(w_sim - w) <= 5)} ({w_sim - w:+.1f}) |",
        f"| {part}, median / 95th centile | {m:.1f} / {r['p95_weeks']:.1f} weeks | "
        f"{m_sim:.1f} {ok(abs(m_sim - m) <= 2)} / {r['p95_weeks_sim']:.1f} |",
    ]


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    record = Record("rtt_tables")
    md = [f"T&O (110), mean of the three published months; simulated: {reps} replications of the same calendar months."]
    for name, case in CASES.items():
        t = beside(*case, reps)
        lines = [f"**{name[0].upper()}{name[1:]}**", "", "| T&O (110) | published | simulated |", "|---|---:|---:|"]
        for part in ("admitted", "nonadmitted", "incomplete"):
            lines += row(t, part)
        share = {
            k: t.loc["admitted", c] / (t.loc["admitted", c] + t.loc["nonadmitted", c])
            for k, c in (("published", "per_month"), ("simulated", "per_month_sim"))
        }
        lines += ["", f"Admitted share of clock stops: simulated {share['simulated']:.1%}, published {share['published']:.1%}."]
        print("\n" + "\n".join(lines))
        md += ["", *lines]
    record.write(md)

if __name__ == "__main__":
    main()
