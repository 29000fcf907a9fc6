"""How long the README's bid takes: ``msksim bid scenarios/bedfordshire.toml --bid 26.5m --reps 500``.

Run by hand (prints figures, asserts nothing):

    python benchmarks/bid_time.py               # times --reps 20 and extrapolates to 500 (~3 min on 2 cores)
    python benchmarks/bid_time.py --reps 500    # the README's run itself

The bid runs one design (the prime) for the scenario's five contract years after its warm-up,
replications drawn afresh and journalled as ``msksim bid`` runs them, on ``--jobs`` local
processes. A replication's cost does not depend on how many there are (each is independent,
and the summary at the end is a few seconds at most), so the time for 500 is the time per
replication of a shorter run times 500: the figure printed says which it is. The date, the
machine, the Python and which form of the model ran (compiled or the sources) are printed with it.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_REPS = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20, help="replications to time (default 20)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="local processes (default: all cores)")
    args = parser.parse_args()
    engine = subprocess.run(
        [sys.executable, "-c", "import sim.model as m; print(m.ENGINE)"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, str(ROOT / "cli.py"), "bid", "scenarios/bedfordshire.toml", "--bid", "26.5m",
                   "--reps", str(args.reps), "--max-loss-probability", "0.1", "--jobs", str(args.jobs),
                   "--quiet", "--out", str(Path(tmp) / "bid")]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(done.stderr)
    per = seconds / args.reps
    print(f"{datetime.now(UTC):%Y-%m-%d}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"--jobs {args.jobs}; Python {platform.python_version()}; model {engine}")  # fmt: skip
    print(f"msksim bid scenarios/bedfordshire.toml --bid 26.5m --reps {args.reps}: {seconds:,.0f} s ({per:.1f} s a replication)")
    if args.reps != README_REPS:
        print(f"--reps {README_REPS}, extrapolated from {args.reps}: about {per * README_REPS / 60:,.0f} min")
    warned = [line for line in done.stderr.splitlines() if line.startswith("warning")]
    print(f"warnings: {len(warned)}" + "".join(f"\n  {w}" for w in warned))


if __name__ == "__main__":
    main()
