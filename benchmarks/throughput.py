"""Throughput and start-up: the model compiled and from its sources, against Ciw and a bare loop.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/throughput.md``, which
docs/performance.md includes):

    python benchmarks/throughput.py [--against CHECKOUT ...] [--repeat 3]

Every figure is CPU time (best of ``--repeat``), each form of the model measured in a fresh
process of its own:

1. One replication of the bundled Bedfordshire scenario, each design, 5 contract years after
   the warm-up year: CPU seconds.
2. The four-stage validation network (``tests/validation/network.py``): appointments a CPU
   second in msksim, in Ciw (if installed) and as a bare loop (daily slots taken from plain
   deques, random numbers drawn in blocks, no bookkeeping): the floor a Python model cannot
   beat by much.
3. Start-up: ``msksim --help`` and ``msksim validate`` on the bundled scenario, as a user runs
   them (the console script, in a child process), beside the interpreter starting alone.

``--against`` measures another checkout of msksim beside this one (its own virtual environment
at ``CHECKOUT/.venv`` if it has one, else this interpreter), for a before-and-after taken in
one run: machines differ about twice in absolute speed, and one machine from hour to hour.
The table is printed in Markdown, with the date and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import Record  # noqa: E402
from tests.validation import network as net  # noqa: E402

FORM = r"""
import json, sys, time
sys.path.insert(0, ".")
from sim.model import ENGINE
from sim.model.pathway import Pathway, simulate
from sim.scenario.loading import load_scenario, validate_raw
from tests.validation import network as net
repeat = int(sys.argv[1])

def best(fn):
    out = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        out = min(out, time.process_time() - t)
    return out

s = load_scenario("scenarios/bedfordshire.toml")
seconds = {d: best(lambda d=d: Pathway(s, d, 0).run()) for d in ("fragmented", "prime")}
small = validate_raw(net.msksim_scenario(), "network")
rows = simulate(small, "prime", 0)
per_day = sum(rows[0][f"{k}_list_exits"] for k in ("triage", "physio", "orthopaedics", "theatre")) / 365
network = per_day * (net.WARMUP_DAYS + 365) / best(lambda: simulate(small, "prime", 0))
print(json.dumps({"engine": ENGINE, "seconds": seconds, "network": network}))
"""
"""Run in a child, from a checkout's root: section 1 and msksim's part of section 2."""


def measure_form(checkout: Path, python: str, repeat: int, pure: bool) -> dict:
    env = (
        {**os.environ, "MSKSIM_PURE_PYTHON": "1"} if pure else {k: v for k, v in os.environ.items() if k != "MSKSIM_PURE_PYTHON"}
    )
    done = subprocess.run([python, "-c", FORM, str(repeat)], cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ciw_rate(seed: int) -> float:
    """Appointments a CPU second of Ciw on the validation network."""
    import ciw

    half = ciw.dists.Deterministic(0.5)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(net.LAMBDA), None, None, None],
        service_distributions=[half] * 4,
        number_of_servers=[
            ciw.Slotted(slots=[1.0], slot_sizes=[net.SLOTS[k]]) for k in ("triage", "physio", "orthopaedics", "theatre")
        ],
        routing=[[0.0, net.TO_PHYSIO, net.TO_CLINIC, 0.0], [0.0] * 4, [0.0, 0.0, 0.0, net.LISTED], [0.0] * 4],
    )
    ciw.seed(seed)
    t = time.process_time()
    q = ciw.Simulation(network)
    q.simulate_until_max_time(net.WARMUP_DAYS + 365)
    return len(q.get_all_records()) / (time.process_time() - t)


def bare_loop(days: int, seed: int = 1) -> int:
    """The network with nothing but deques and block random numbers: appointments made."""
    rng = np.random.default_rng(seed)
    arrivals = rng.poisson(net.LAMBDA, days).tolist()
    u = rng.random(int(net.LAMBDA * days * 3)).tolist()
    ui = 0
    triage, physio, clinic, theatre = deque(), deque(), deque(), deque()
    nxt_physio, nxt_clinic, nxt_theatre = [], [], []
    c_t, c_p, c_c, c_s = (net.SLOTS[k] for k in ("triage", "physio", "orthopaedics", "theatre"))
    done = 0
    for day in range(days):
        physio.extend(nxt_physio)
        clinic.extend(nxt_clinic)
        theatre.extend(nxt_theatre)
        nxt_physio, nxt_clinic, nxt_theatre = [], [], []
        triage.extend([day] * arrivals[day])
        for _ in range(min(c_t, len(triage))):
            triage.popleft()
            r = u[ui]
            ui += 1
            if r < net.TO_PHYSIO:
                nxt_physio.append(day)
            elif r < net.TO_PHYSIO + net.TO_CLINIC:
                nxt_clinic.append(day)
            done += 1
        for _ in range(min(c_p, len(physio))):
            physio.popleft()
            done += 1
        for _ in range(min(c_c, len(clinic))):
            clinic.popleft()
            if u[ui] < net.LISTED:
                nxt_theatre.append(day)
            ui += 1
            done += 1
        for _ in range(min(c_s, len(theatre))):
            theatre.popleft()
            done += 1
    return done


def bare_rate(repeat: int) -> float:
    days = net.WARMUP_DAYS + 365
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        n = bare_loop(days)
        best = min(best, time.process_time() - t)
    return n / best


def child_cpu(args: list[str], repeat: int, cwd: Path) -> float:
    """Best CPU seconds (user + system) of a child process running ``args``."""
    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(args, cwd=cwd, capture_output=True, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU") if Path("/proc/cpuinfo").exists() \
        else platform.processor()  # fmt: skip
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}, NumPy {np.__version__}"


def label(checkout: Path) -> str:
    done = subprocess.run(["git", "log", "-1", "--format=%h"], cwd=checkout, capture_output=True, text=True)
    return done.stdout.strip() or checkout.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, nargs="*", default=[], help="other checkouts measured beside this one")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    record = Record("throughput")
    said: list[str] = []

    def say(line: str = "") -> None:
        print(line)
        said.extend(line.split("\n"))
    say(f"msksim throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    say(f"CPU seconds, best of {args.repeat}; each form in a fresh process, one core\n")

    try:
        ciw = max(ciw_rate(1) for _ in range(2))
    except ImportError:
        ciw = float("nan")
    bare = bare_rate(args.repeat)

    rows = []
    for checkout in [ROOT, *args.against]:
        venv = checkout / ".venv" / "bin" / "python"
        python = str(venv) if venv.exists() else sys.executable
        name = "this version" if checkout == ROOT else label(checkout)
        for pure in (False, True):
            got = measure_form(checkout, python, args.repeat, pure)
            if not pure and got["engine"] != "compiled":
                say(f"({name}: not compiled here; `pip install -e .` with a C compiler compiles it)")
                continue
            rows.append((f"{name}, {got['engine']}", got))

    say("| build | CPU s per 5-year replication, fragmented / prime | × Ciw on the validation network "
          "| × slower than the bare loop |")  # fmt: skip
    say("|---|---|---|---|")
    for name, got in rows:
        s = got["seconds"]
        say(f"| {name} | {s['fragmented']:.2f} / {s['prime']:.2f} | {got['network'] / ciw:.1f} | {bare / got['network']:.1f} |")
    say(f"\nValidation network, appointments a CPU second: Ciw {ciw:,.0f}; bare loop {bare:,.0f}; "
          + "; ".join(f"{name} {got['network']:,.0f}" for name, got in rows))  # fmt: skip

    script = Path(sys.executable).parent / "msksim"
    msksim = [str(script)] if script.exists() else [sys.executable, "-c", "import cli; cli.main()"]
    bundled = "scenarios/bedfordshire.toml"
    say("\nStart-up, CPU s of the whole process:\n")
    say(f"- `python -c pass`: {child_cpu([sys.executable, '-c', 'pass'], args.repeat, ROOT):.2f}")
    say(f"- `msksim --help`: {child_cpu([*msksim, '--help'], args.repeat, ROOT):.2f}")
    say(f"- `msksim validate {bundled}`: {child_cpu([*msksim, 'validate', bundled], args.repeat, ROOT):.2f}")
    record.write(said)


if __name__ == "__main__":
    main()
