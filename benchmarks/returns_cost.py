"""What the RTT returns cost: a replication with them against the same replication without.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/returns_cost.md``, which
docs/performance.md includes):

    python benchmarks/returns_cost.py [--reps 3]

For each design of the bundled Bedfordshire scenario (5 contract years after the warm-up):

1. CPU seconds of a replication as it runs, best of ``--reps``;
2. the same replication with the clocks' return counting taken out (a subclass of
   :class:`sim.model.clocks.RTTClocks` that keeps the running clocks and completed waits,
   which the other results need, but counts nothing by week band and makes no monthly rows);
3. what turning one replication's returns into ``rtt_returns.csv`` rows costs afterwards
   (packing, unpacking, the statistics per row, the summary with intervals).

The counting is taken out by replacing the class the pathway builds, so this runs the model
from its sources (it sets ``MSKSIM_PURE_PYTHON``); compiled, the replacement would not be seen.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MSKSIM_PURE_PYTHON", "1")  # before the model is imported: it decides then

from benchmarks.record import Record  # noqa: E402
from benchmarks.throughput import cpu  # noqa: E402
from sim.model import ENGINE  # noqa: E402
from sim.model import pathway as pathway_module  # noqa: E402
from sim.model.clocks import REMOVALS, RTTClocks  # noqa: E402
from sim.model.patient import NO_CLOCK, Patient  # noqa: E402
from sim.rtt.summary import summarise_returns  # noqa: E402
from sim.rtt.table import Codebook, with_statistics  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402


class WithoutReturns(RTTClocks):
    """The clocks with nothing counted for the returns."""

    def start(self, p: Patient, day: float, function: int) -> None:
        p.clock = day
        p.function = function
        self.running[p.pid] = p

    def moved(self, p: Patient, day: int, function: int) -> None:
        p.function = function

    def stop(self, p: Patient, day: int, part: int) -> None:
        if p.clock != NO_CLOCK:
            if self.counting and part != REMOVALS:
                self.stops.append(day - p.clock)
            p.clock = NO_CLOCK
            del self.running[p.pid]

    def month(self, day: int) -> list[tuple[str, str, list[int]]]:
        # the recorder's month-end snapshot of all functions still needs the incomplete pathways
        return [(code, "incomplete", counts) for code, counts in zip(self.functions, self.incomplete(day), strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="timings per figure; the best is shown")
    args = parser.parse_args()
    if ENGINE != "interpreted":
        sys.exit(f"the model runs {ENGINE} here: the counting can only be replaced in the sources")
    record = Record("returns_cost")
    s = load_scenario(ROOT / "scenarios" / "bedfordshire.toml")
    md = [
        f"Bedfordshire, one replication of {s.run.years} years after {s.run.warmup_days} warm-up days, model {ENGINE}, "
        f"best of {args.reps}, runs interleaved. *Counting*: the extra time of a replication that counts its returns; "
        "*tables*: turning its returns into `rtt_returns.csv` rows and their summary; *total*: both.",
        "",
        "| design | with (s) | without (s) | counting | tables (s) | total |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    print(f"Bedfordshire, {s.run.years} years after {s.run.warmup_days} warm-up days; model {ENGINE}; best of {args.reps}")
    print(f"{'design':<12}{'with (s)':>10}{'without (s)':>13}{'counting':>10}{'tables (s)':>12}{'total':>8}")
    for design in s.designs:

        def run(clocks: type[RTTClocks], design: str = design):
            pathway_module.RTTClocks = clocks
            try:
                m = pathway_module.Pathway(s, design, 0)
                m.run()
                return m.recorder.returns
            finally:
                pathway_module.RTTClocks = RTTClocks

        # interleaved, so a busy spell of the machine falls on both alike
        with_s = without_s = float("inf")
        rows: object = None
        for _ in range(args.reps):
            t, rows = cpu(lambda: run(RTTClocks), 1)
            with_s = min(with_s, t)
            without_s = min(without_s, cpu(lambda: run(WithoutReturns), 1)[0])

        def tables(rows=rows, design: str = design):
            book = Codebook()
            frame = book.unpack([book.pack(rows)])
            frame.insert(0, "replication", 0)
            frame.insert(0, "design", design)
            return summarise_returns(with_statistics(frame))

        tables_s, _ = cpu(tables, args.reps)
        counting = (with_s - without_s) / without_s
        total = (with_s - without_s + tables_s) / without_s
        print(f"{design:<12}{with_s:>10.2f}{without_s:>13.2f}{counting:>10.1%}{tables_s:>12.2f}{total:>8.1%}")
        md.append(f"| {design} | {with_s:.2f} | {without_s:.2f} | {counting:+.1%} | {tables_s:.2f} | {total:+.1%} |")
    print("counting: extra time of a replication that counts its returns; total: with the tables made from them")
    record.write(md)


if __name__ == "__main__":
    main()
