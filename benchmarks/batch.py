"""Batch benchmark: memory against replications, and parallel efficiency on local processes.

Run by hand (prints figures, asserts nothing):

    python benchmarks/batch.py                 # 1 year horizon, quick
    python benchmarks/batch.py --years 5 --reps 200

Memory is the peak resident set of this process and its workers (getrusage), sampled
after each block of replications: flat means the per-replication growth stays at the
size of the result rows, not of the patients simulated.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from sim.experiment import ProcessExecutor, SerialExecutor, run_batch
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024  # kilobytes on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--design", default="prime")
    args = ap.parse_args()
    s = load_scenario(ROOT / "scenarios" / "bedfordshire.toml", [f"run.years={args.years}"])

    print(f"bundled scenario, design {args.design}, {args.years}-year horizon after a {s.run.warmup_days}-day warm-up")
    print("\nmemory against replications (one process)")
    print(f"{'replications':>12} {'peak RSS MB':>12} {'rows':>8}")
    for n in (args.reps // 4, args.reps // 2, args.reps):
        result = run_batch(s, [args.design], n, executor=SerialExecutor(), uncertainty=True)
        print(f"{n:>12} {peak_mb():>12.0f} {len(result.table):>8}")

    print("\nparallel efficiency")
    n = max(4, args.reps // 4)
    t0 = time.perf_counter()
    run_batch(s, [args.design], n, executor=SerialExecutor())
    one = time.perf_counter() - t0
    pool = ProcessExecutor(2)
    try:
        t0 = time.perf_counter()
        run_batch(s, [args.design], n, executor=pool)
        two = time.perf_counter() - t0
    finally:
        pool.close()
    print(f"{n} replications: 1 process {one:.1f} s, 2 processes {two:.1f} s, efficiency {one / (2 * two):.2f} of ideal")


if __name__ == "__main__":
    main()
