"""How long ``msksim national`` takes an area, here and on a Dask cluster, and all of England.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/national_time.md`` each time,
which docs/national.md includes):

    python benchmarks/national_time.py            # 06F, 00Y, 12F with the command's defaults (~10-25 min on 2 cores)
    python benchmarks/national_time.py --quick    # --reps 1 --rounds 1 --compare-reps 2: a fast check of this script

It runs ``msksim national scenarios/bedfordshire.toml`` on the bundled 2014/15 CCG returns (every
``data/rtt/rtt-commissioner-ccg-*.csv`` given as its own ``--rtt``) for a few areas, one month
held out, twice:

1. on local processes (``--jobs 2``), timed by the wall clock; the batch's
   ``national_manifest.json`` gives each area's CPU time and the peak resident memory of the
   process it ran in;
2. through a local Dask cluster (``distributed.LocalCluster``, ``--workers`` processes of one
   thread each) with ``--scheduler``, timed the same way (the cluster's start-up is not in it).
   The workers share this machine's cores, so this measures that the cluster gives the same
   numbers and what it costs, not a speed-up. The two ``national.csv`` are compared byte for byte.

An area is one task from start to end, so the time for every CCG in England (211) is the CPU
time of an area times the number of areas, over the cores: on this machine 211 x the mean CPU an
area / its cores; on a cluster of N one-core workers, ceil(211 / N) rounds of areas, each as
long as the area it waits for (the mean, and the largest area measured as a bound). The few
areas measured differ in size, so the mean of them stands for an area of England only roughly.
The CLI's own work outside the areas' tasks (reading the returns, scaling each area, writing the
tables) is printed too. The date, the machine, the Python and the form of the model that ran
(compiled or the sources) are printed with the figures, and written to the Markdown file, with
the load average at the start and the end: other work on the machine stretches the wall clock
(and, less, the CPU times).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.record import cpu_model

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = ROOT / "benchmarks" / "results" / "national_time.md"
SCENARIO = "scenarios/bedfordshire.toml"
RTT = "data/rtt/rtt-commissioner-ccg-*.csv"
ENGLAND = 211
"""Clinical commissioning groups in the 2014/15 returns (``data/rtt/README.md``)."""
JOBS = 2
CLUSTERS = (16, 64, 211)
QUICK = ["--reps", "1", "--rounds", "1", "--compare-reps", "2"]


@dataclass
class Run:
    """One ``msksim national`` run: its wall clock, the manifest's figures and its table."""

    how: str
    seconds: float
    cpu: dict[str, float]
    memory: dict[str, float]
    table: bytes
    rows: list[dict[str, str]]
    children_cpu: float
    """CPU of the CLI process and the local workers it waited for (nothing of Dask workers)."""


def _peak_rss_mb() -> float:
    """This process's peak resident memory (run on each Dask worker)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_national(how: str, where: list[str], out: Path, areas: str, quick: bool) -> Run:
    rtt = [a for f in sorted(ROOT.glob(RTT)) for a in ("--rtt", str(f.relative_to(ROOT)))]
    command = [sys.executable, str(ROOT / "cli.py"), "national", SCENARIO, *rtt, "--areas", areas, "--holdout", "1",
               *(QUICK if quick else []), *where, "--quiet", "--out", str(out)]  # fmt: skip
    before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    children = _children_cpu() - before
    if done.returncode != 0:
        sys.exit(f"{how}: msksim national failed ({done.returncode}):\n{done.stderr}")
    manifest = json.loads((out / "national_manifest.json").read_text())
    table = (out / "national.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(table.decode())))
    return Run(how, seconds, manifest["cpu_seconds_by_area"], manifest["peak_memory_mb_by_area"], table, rows, children)


def run_dask(out: Path, areas: str, quick: bool, workers: int) -> tuple[Run, dict[str, float], float]:
    """The same batch through a local Dask cluster; its run, each worker's peak memory and the cluster's start-up."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        started = time.perf_counter() - start
        run = run_national(f"Dask, {workers} workers", ["--scheduler", cluster.scheduler_address], out, areas, quick)
        with Client(cluster) as client:
            peaks = client.run(_peak_rss_mb)
    return run, peaks, started


def differing_columns(a: list[dict[str, str]], b: list[dict[str, str]]) -> list[str]:
    """The columns (in the first table's order) whose values differ for some area, by code."""
    cols = list(a[0]) if a else []
    cols += [c for c in (b[0] if b else {}) if c not in cols]
    by_code = {r.get("code"): r for r in b}
    differ = []
    for col in cols:
        if len(a) != len(b) or any(by_code.get(r.get("code"), {}).get(col) != r.get(col) for r in a):
            differ.append(col)
    return differ


def england_populations() -> dict[str, int]:
    """Every CCG's population as ``msksim national`` estimates it from the bundled returns."""
    sys.path.insert(0, str(ROOT))
    from sim.national.areas import NATIONAL_COMMISSIONERS, clock_stops, estimated  # the tree's own, as the CLI's
    from sim.rtt.returns import read_returns

    stops = clock_stops(read_returns(sorted(ROOT.glob(RTT)), treatment_functions=["999"]))
    months = ["2014-12", "2015-01", "2015-02"]
    return {c: estimated(stops, c, months)[0] for c in stops.index if c not in NATIONAL_COMMISSIONERS}



def span(seconds: float) -> str:
    """Seconds as themselves, and in minutes or hours where that reads better."""
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds:,.0f} s ({seconds / 60:,.1f} min)"
    return f"{seconds:,.0f} s ({seconds / 3600:,.1f} h)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--areas", default="06F,00Y,12F", help="commissioner codes, comma-separated (default 06F,00Y,12F)")
    parser.add_argument("--workers", type=int, default=3, help="Dask workers, one thread each (default 3: one an area)")
    parser.add_argument("--quick", action="store_true", help="--reps 1 --rounds 1 --compare-reps 2: checks this script fast")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the batches' folders in a new folder in DIR (default: a temporary one, removed)")  # fmt: skip
    args = parser.parse_args()
    # the CLI, its workers and the Dask workers started here all import the model from this tree
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    engine = subprocess.run(
        [sys.executable, "-c", "import sim.model as m; print(m.ENGINE)"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    load_before = os.getloadavg()[0]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    folder = nullcontext(tempfile.mkdtemp(prefix="national-", dir=args.keep)) if args.keep else tempfile.TemporaryDirectory()
    with folder as tmp:
        local = run_national(f"--jobs {JOBS}", ["--jobs", str(JOBS)], Path(tmp) / "jobs", args.areas, args.quick)
        dask, worker_peaks, cluster_start = run_dask(Path(tmp) / "dask", args.areas, args.quick, args.workers)

    when = datetime.now(UTC)
    load = f"load average (1 min) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    cores = os.cpu_count() or 1
    codes = list(local.cpu)
    cpu = [local.cpu[c] for c in codes]
    mean, largest = sum(cpu) / len(cpu), max(cpu)
    population = {r["code"]: r.get("population", "") for r in local.rows}
    identical = local.table == dask.table
    differ = [] if identical else differing_columns(local.rows, dask.rows)
    failed = [(r["code"], r.get("status", ""), r.get("error", "")) for r in local.rows + dask.rows if r.get("status") != "done"]
    outside = local.children_cpu - sum(cpu)

    lines: list[str] = []
    say = lines.append
    say(f"{when:%Y-%m-%d %H:%M} UTC; {cpu_model()}, {cores} cores; Python {platform.python_version()}; model {engine}; {load}")
    say(f"msksim national {SCENARIO} --rtt {RTT} --areas {args.areas} --holdout 1"
        + (" " + " ".join(QUICK) if args.quick else " (defaults: --reps 2 --rounds 4 --compare-reps 10)"))  # fmt: skip
    say("CPU seconds per area (where it ran; --jobs 2 | Dask):")
    for c in codes:
        people = float(population[c]) if population.get(c) else math.nan
        per = f", {local.cpu[c] / people * 1e5:,.0f} s per 100,000 people" if people == people else ""
        say(f"  {c}: {local.cpu[c]:,.1f} | {dask.cpu.get(c, math.nan):,.1f}  (population {people:,.0f}{per})")
    say(f"  mean: {mean:,.1f} | {sum(dask.cpu.values()) / len(dask.cpu):,.1f}; largest {largest:,.1f}")
    say(f"wall, --jobs {JOBS}: {span(local.seconds)}; CPU outside the areas' tasks (CLI, worker start-up): {outside:,.1f} s")
    say(f"wall, Dask with {args.workers} workers: {span(dask.seconds)} (cluster start-up {cluster_start:,.1f} s, not in it); "
        f"the {args.workers} workers share {cores} cores, so this measures correctness and overhead, not speed-up")  # fmt: skip
    say(f"peak memory per area's process, MB (--jobs {JOBS} | Dask): "
        + ", ".join(f"{c} {local.memory[c]:,.0f} | {dask.memory.get(c, math.nan):,.0f}" for c in codes))  # fmt: skip
    say("peak memory per Dask worker, MB: " + ", ".join(f"{v:,.0f}" for _, v in sorted(worker_peaks.items())))
    say(f"national.csv, --jobs {JOBS} against Dask: " + ("identical, byte for byte" if identical
        else "DIFFERENT; columns that differ: " + ", ".join(differ[:10]) + (" ..." if len(differ) > 10 else "")))  # fmt: skip
    say("areas not done: " + ("none" if not failed else "; ".join(f"{c} ({s}): {e}" for c, s, e in failed)))
    say(f"all {ENGLAND} CCGs on {cores} cores: {ENGLAND} x {mean:,.1f} s / {cores} cores = {span(ENGLAND * mean / cores)}")
    england = england_populations()
    measured = [local.cpu[c] / float(population[c]) for c in codes if population.get(c)]
    rate = sum(measured) / len(measured)  # CPU seconds a person, mean of the areas measured
    scaled = {c: rate * p for c, p in england.items()}
    total, biggest = sum(scaled.values()), max(scaled, key=lambda c: scaled[c])
    say(f"scaled by population instead: {rate * 1e5:,.1f} s per 100,000 people x England's {sum(england.values()):,} "
        f"people = {total:,.0f} s; on {cores} cores {span(total / cores)}; the largest CCG ({biggest}, "
        f"{england[biggest]:,} people) {scaled[biggest]:,.0f} s")  # fmt: skip
    for n in CLUSTERS:
        say(f"  on {n} one-core workers, largest areas first: at least max({total:,.0f} s / {n}, {scaled[biggest]:,.0f} s) "
            f"= {span(max(total / n, scaled[biggest]))}")  # fmt: skip
    extrapolated = []
    for n in CLUSTERS:
        rounds = math.ceil(ENGLAND / n)
        extrapolated.append((n, rounds))
        say(f"on {n} workers (one core each): ceil({ENGLAND} / {n}) = {rounds} round(s) x {mean:,.1f} s = "
            f"{span(rounds * mean)}; a round lasts as long as its largest area: at most {rounds} x {largest:,.1f} s "
            f"= {span(rounds * largest)}")  # fmt: skip
    print("\n".join(lines))

    shown = [a for a in sys.argv[1:] if a not in ("--keep", str(args.keep)) and not a.startswith("--keep=")]
    argv = " ".join(shlex.quote(a) for a in shown)  # where the folders went is not a figure
    md = [
        f"{when:%Y-%m-%d %H:%M} UTC; {cpu_model()}, {cores} cores; Python {platform.python_version()}; model {engine}; {load}.",
        "",
        f"Made by `python benchmarks/national_time.py{' ' + argv if argv else ''}`, which runs",
        f"`msksim national {SCENARIO} $(for f in {RTT}; do echo --rtt $f; done) --areas {args.areas} --holdout 1"
        + (" " + " ".join(QUICK) if args.quick else "")
        + "`",
        f"with `--jobs {JOBS}`, then with `--scheduler` on a local Dask cluster of {args.workers} one-thread workers.",
        "",
        "| Area | Population | CPU, s (`--jobs 2`) | CPU, s (Dask) | Peak memory, MB (`--jobs 2`) | Peak memory, MB (Dask) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c in codes:
        people = float(population[c]) if population.get(c) else math.nan
        md.append(f"| {c} | {people:,.0f} | {local.cpu[c]:,.1f} | {dask.cpu.get(c, math.nan):,.1f} "
                  f"| {local.memory[c]:,.0f} | {dask.memory.get(c, math.nan):,.0f} |")  # fmt: skip
    md += [
        f"| mean | | {mean:,.1f} | {sum(dask.cpu.values()) / len(dask.cpu):,.1f} | | |",
        "",
        "| Run | Wall clock |",
        "|---|---:|",
        f"| `--jobs {JOBS}` | {span(local.seconds)} |",
        f"| Dask, {args.workers} workers on {cores} cores | {span(dask.seconds)} |",
        "",
        f"The Dask workers share {cores} cores: that run shows the cluster gives the same table and what it costs, "
        f"not a speed-up. Its `national.csv` is {'identical, byte for byte, to' if identical else 'NOT identical to'} "
        f"the `--jobs {JOBS}` one{'' if identical else ' (columns: ' + ', '.join(differ[:10]) + ')'}. "
        f"Areas not done: {'none' if not failed else '; '.join(f'{c}: {e}' for c, _, e in failed)}. "
        f"CPU outside the areas' tasks (the CLI and worker start-up, `--jobs {JOBS}`): {outside:,.1f} s. "
        "An area's CPU is its process's, so on a Dask worker it counts the worker's own threads too.",
        "",
        f"All {ENGLAND} CCGs, at the mean CPU an area of those measured (the largest of them, {largest:,.1f} s, "
        "bounds a round of areas no larger; England has larger ones):",
        "",
        f"- on {cores} cores: {ENGLAND} × {mean:,.1f} s / {cores} = {span(ENGLAND * mean / cores)}",
    ]
    for n, rounds in extrapolated:
        md.append(f"- on {n} one-core workers: ceil({ENGLAND} / {n}) = {rounds} × {mean:,.1f} s = {span(rounds * mean)}"
                  f"; at most {rounds} × {largest:,.1f} s = {span(rounds * largest)}")  # fmt: skip
    md += [
        "",
        f"Scaled by population instead (an area's CPU grows with its people; {rate * 1e5:,.1f} s per 100,000 people, "
        f"the mean of those measured), over every CCG's population as `msksim national` estimates it "
        f"({sum(england.values()):,} people; the largest, {biggest}, {england[biggest]:,}):",
        "",
        f"- on {cores} cores: {total:,.0f} s / {cores} = {span(total / cores)}",
    ]
    for n in CLUSTERS:
        md.append(f"- on {n} one-core workers, largest areas first: at least max({total:,.0f} s / {n}, "
                  f"{scaled[biggest]:,.0f} s for {biggest}) = {span(max(total / n, scaled[biggest]))}")  # fmt: skip
    tmp_md = MARKDOWN.with_name(f".{MARKDOWN.name}.{os.getpid()}.tmp")
    tmp_md.write_text("\n".join(md) + "\n")
    os.replace(tmp_md, MARKDOWN)
    print(f"Written {MARKDOWN.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
