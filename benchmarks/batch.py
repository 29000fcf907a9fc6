"""Batch benchmark: memory as replications accumulate, parallel efficiency, throughput.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/batch.md``, which
docs/performance.md includes):

    python benchmarks/batch.py                       # 1,000 replications x both designs x 5 years (~45 min on 2 cores)
    python benchmarks/batch.py --reps 200            # shorter; the growth per replication is the figure to read
    python benchmarks/batch.py --efficiency-only

1. The batch as ``msksim compare`` runs it: both designs, uncertain inputs drawn, every
   finished replication journalled to disk, two local worker processes. A sampler thread
   reads the resident memory (VmRSS) of this process and of its workers from /proc every
   half second; the table shows it as replications accumulate. Flat means what is kept per
   replication is its result rows and running means, not its patients.
2. Parallel efficiency: the same replications in one process and in two.
3. Appointments (attended and missed appointments and operations, in the contract years)
   per CPU second of the workers.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.record import Record
from sim.runs.experiment import ProcessExecutor, SerialExecutor, run_batch
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SAID: list[str] = []
"""Every line printed, for the results file."""


def say(line: str) -> None:
    print(line, flush=True)
    SAID.append(line)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


class Sampler(threading.Thread):
    """Resident memory of this process and its children, every ``every`` seconds."""

    def __init__(self, every: float = 0.5):
        super().__init__(daemon=True)
        self.every, self.stop, self.now, self.peak = every, threading.Event(), 0.0, 0.0

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            self.now = rss_mb(me) + sum(rss_mb(c) for c in children(me))
            self.peak = max(self.peak, self.now)
            time.sleep(self.every)


def memory(reps: int, years: int) -> None:
    s = load_scenario(ROOT / "scenarios" / "bedfordshire.toml", [f"run.years={years}"])
    designs = list(s.designs)
    say(f"1. {reps} replications x {len(designs)} designs x {years} years, journalled, 2 worker processes")
    say(f"{'tasks done':>10} {'of':>6} {'RSS now MB':>11} {'peak MB':>8} {'elapsed s':>10}")
    sampler = Sampler()
    sampler.start()
    marks = {round(reps * len(designs) * f) for f in (0.1, 0.25, 0.5, 0.75, 1.0)}
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done in marks:
            marks.discard(done)
            elapsed = time.perf_counter() - start
            say(f"{done:>10} {total:>6} {sampler.now:>11.0f} {sampler.peak:>8.0f} {elapsed:>10.0f}")

    pool = ProcessExecutor(2)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        with tempfile.TemporaryDirectory() as folder:
            result = run_batch(s, designs, reps, executor=pool, folder=Path(folder), progress=progress)
            journal_mb = (Path(folder) / "journal.jsonl").stat().st_size / 1e6
    finally:
        pool.close()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler.stop.set()
    wall = time.perf_counter() - start
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    appointments = result.table["appointments"].sum()
    say(f"   peak resident memory, parent and workers together: {sampler.peak:,.0f} MB; journal {journal_mb:,.0f} MB")
    say(f"   wall {wall:,.0f} s, worker CPU {cpu:,.0f} s; {appointments / 1e6:,.1f}m appointments in contract years")
    say(f"3. {appointments / cpu:,.0f} appointments per worker CPU second (warm-up years simulated but not counted)")


def efficiency(reps: int, years: int) -> None:
    s = load_scenario(ROOT / "scenarios" / "bedfordshire.toml", [f"run.years={years}"])
    designs = list(s.designs)
    t0 = time.perf_counter()
    run_batch(s, designs, reps, executor=SerialExecutor())
    one = time.perf_counter() - t0
    pool = ProcessExecutor(2)
    try:
        t0 = time.perf_counter()
        run_batch(s, designs, reps, executor=pool)
        two = time.perf_counter() - t0
    finally:
        pool.close()
    say(f"2. {reps} replications x {len(designs)} designs x {years} years: 1 process {one:.1f} s, "
          f"2 processes {two:.1f} s, efficiency {one / (2 * two):.2f} of ideal")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--efficiency-reps", type=int, default=8)
    ap.add_argument("--efficiency-only", action="store_true")
    args = ap.parse_args()
    record = Record("batch")
    say(f"{os.cpu_count()} cores")
    if not args.efficiency_only:
        memory(args.reps, args.years)
    if args.efficiency_reps > 0:
        efficiency(args.efficiency_reps, args.years)
    record.write(["```text", *SAID, "```"])


if __name__ == "__main__":
    main()
