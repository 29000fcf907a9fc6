"""What capacity policies cost a replication: the bundled managed policies against the capacity set.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/capacity_policy.md``,
which docs/performance.md includes)::

    python benchmarks/capacity_policy.py              # 6 replications x 5 years of each design, each way
    python benchmarks/capacity_policy.py --reps 10

The same replications (their drawn inputs, the same patients) run with the bundled scenario's
policies and with ``run.capacity_policies=fixed``, one after the other in this one process, in
turn (fixed, managed, fixed, managed...), so load on the machine falls on both alike: the ratio
of CPU times is the cost. The policies' sessions change what is simulated too (more patients
seen sooner), so the ratio holds their work as well as their bookkeeping.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.record import Record
from sim.model import ENGINE
from sim.model.pathway import Pathway
from sim.scenario.loading import apply_parameters, load_scenario
from sim.scenario.uncertainty import draw_parameters, parse_uncertainty

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "bedfordshire.toml")
    parser.add_argument("--reps", type=int, default=6)
    args = parser.parse_args()
    ways = {"fixed": load_scenario(args.scenario, ["run.capacity_policies=fixed"]), "managed": load_scenario(args.scenario)}
    record = Record("capacity_policy")
    print(f"model {ENGINE}")
    md = [
        f"CPU seconds per {ways['fixed'].run.years}-year replication (mean of {args.reps}), the same replications run with the "
        "bundled managed capacity policies and with `run.capacity_policies=fixed`, in turn in one process.",
        "",
        "| design | fixed | managed | managed / fixed |",
        "|---|---:|---:|---:|",
    ]
    for design in ("fragmented", "prime"):
        cpu = dict.fromkeys(ways, 0.0)
        for rep in range(args.reps):
            for way, s in ways.items():
                drawn = apply_parameters(s, draw_parameters(parse_uncertainty(s.uncertainty, s, s.name), s, rep))
                t0 = time.process_time()
                Pathway(drawn, design, rep).run()
                cpu[way] += time.process_time() - t0
        each = {w: t / args.reps for w, t in cpu.items()}
        print(f"{design:10s} CPU s per {ways['fixed'].run.years}-year replication: fixed {each['fixed']:.2f}, "
              f"managed {each['managed']:.2f} (x{each['managed'] / each['fixed']:.3f})")  # fmt: skip
        md.append(f"| {design} | {each['fixed']:.2f} | {each['managed']:.2f} | {each['managed'] / each['fixed']:.3f} |")
    record.write(md)


if __name__ == "__main__":
    main()
