"""What capacity policies cost a replication: the bundled managed policies against the capacity set.

Run by hand (prints figures, asserts nothing)::

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
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

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
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, model {ENGINE}")  # fmt: skip
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


if __name__ == "__main__":
    main()
