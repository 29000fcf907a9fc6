"""How long the README's bid takes: ``msksim bid scenarios/bedfordshire.toml --bid 26.5m --reps 500``.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/bid_time.md``, which
docs/bidding.md includes):

    python benchmarks/bid_time.py               # times --reps 20 and extrapolates to 500 (~3 min on 2 cores)
    python benchmarks/bid_time.py --reps 500    # the README's run itself

The bid runs one design (the prime) for the scenario's five contract years after its warm-up,
replications drawn afresh and journalled as ``msksim bid`` runs them, on ``--jobs`` local
processes. A replication's cost does not depend on how many there are (each is independent,
and the summary at the end is a few seconds at most), so the time for 500 is the time per
replication of a shorter run times 500: the figure printed says which it is. The date, the
machine, the Python and which form of the model ran (compiled or the sources) are written with it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import Record  # noqa: E402

README_REPS = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20, help="replications to time (default 20)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="local processes (default: all cores)")
    args = parser.parse_args()
    record = Record("bid_time")
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
    print(f"model {record.engine}, --jobs {args.jobs}")
    print(f"msksim bid scenarios/bedfordshire.toml --bid 26.5m --reps {args.reps}: {seconds:,.0f} s ({per:.1f} s a replication)")
    bid = f"msksim bid scenarios/bedfordshire.toml --bid 26.5m --reps {args.reps} --max-loss-probability 0.1 --jobs {args.jobs}"
    md = [f"`{bid}`: {seconds:,.0f} s of wall clock, {per:.1f} s a replication."]
    if args.reps != README_REPS:
        print(f"--reps {README_REPS}, extrapolated from {args.reps}: about {per * README_REPS / 60:,.0f} min")
        md.append(f"For `--reps {README_REPS}`, {README_REPS} × {per:.1f} s: about {per * README_REPS / 60:,.0f} minutes.")
    warned = [line for line in done.stderr.splitlines() if line.startswith("warning")]
    print(f"warnings: {len(warned)}" + "".join(f"\n  {w}" for w in warned))
    record.write(md)

if __name__ == "__main__":
    main()
