"""Throughput: appointments simulated per CPU second, msksim against Ciw and a bare loop,
and the compiled model against its sources.

Run by hand (prints figures, asserts nothing):

    python benchmarks/throughput.py

1. The bundled Bedfordshire scenario, each design, 5 contract years after the warm-up:
   CPU seconds per replication and appointments (attended, missed, operations) per second.
2. The four-stage validation network (tests/validation/network.py) in msksim, in Ciw and
   as a bare loop (daily slots taken from plain deques, random numbers drawn in blocks, no
   bookkeeping): the floor a pure-Python model cannot beat by much.
3. Where the model is compiled (``MSKSIM_COMPILE=1 pip install -e .``): section 1 again from
   the sources, in a subprocess with ``MSKSIM_PURE_PYTHON=1``, and how many times as fast the
   compiled model is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model import ENGINE  # noqa: E402
from sim.model.pathway import Pathway, simulate  # noqa: E402
from sim.scenario import load_scenario, validate_raw  # noqa: E402
from tests.validation import network as net  # noqa: E402


def cpu(fn, repeat: int = 3):
    """Best of ``repeat`` CPU times, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def bedfordshire(quiet: bool = False) -> dict[str, float]:
    """CPU seconds for one replication of each design of the bundled scenario (best of 3)."""
    s = load_scenario(ROOT / "scenarios" / "bedfordshire.toml")
    if not quiet:
        print(f"1. bundled scenario: {s.run.years} years after {s.run.warmup_days} warm-up days, one replication, "
              f"one core, {ENGINE}")  # fmt: skip
    out = {}
    for design in s.designs:

        def one(design=design):
            m = Pathway(s, design, 0)
            m.run()
            return m

        out[design], m = cpu(one)
        rows = m.recorder.rows
        measured = sum(r["appointments"] for r in rows)
        # appointments in the warm-up year are simulated too: count them from the rate of the first year
        total = measured * (1 + s.run.warmup_days / (365.25 * s.run.years))
        if not quiet:
            print(f"   {design:<11} {out[design]:6.2f} CPU s   ~{total / 1e6:.2f}m appointments   "
                  f"{total / out[design]:>10,.0f} a second")  # fmt: skip
    return out


def compiled_against_sources(compiled: dict[str, float]) -> None:
    print("\n3. the compiled model against its sources, bundled scenario, one replication, one core")
    if ENGINE != "compiled":
        print("   the model runs from its sources here: MSKSIM_COMPILE=1 pip install -e . to compare")
        return
    env = {**os.environ, "MSKSIM_PURE_PYTHON": "1"}
    out = subprocess.run([sys.executable, __file__, "--sources-only"], env=env, capture_output=True, text=True, check=True)
    sources = json.loads(out.stdout)
    for design, secs in compiled.items():
        print(f"   {design:<11} {secs:6.2f} CPU s compiled   {sources[design]:6.2f} interpreted   "
              f"{sources[design] / secs:4.2f} x as fast compiled")  # fmt: skip


def ciw_appointments(seed: int) -> tuple[float, int]:
    import ciw

    half = ciw.dists.Deterministic(0.5)
    N = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(net.LAMBDA), None, None, None],
        service_distributions=[half] * 4,
        number_of_servers=[
            ciw.Slotted(slots=[1.0], slot_sizes=[net.SLOTS[k]]) for k in ("triage", "physio", "orthopaedics", "theatre")
        ],
        routing=[[0.0, net.TO_PHYSIO, net.TO_CLINIC, 0.0], [0.0] * 4, [0.0, 0.0, 0.0, net.LISTED], [0.0] * 4],
    )
    ciw.seed(seed)
    t = time.process_time()
    Q = ciw.Simulation(N)
    Q.simulate_until_max_time(net.WARMUP_DAYS + 365)
    return time.process_time() - t, len(Q.get_all_records())


def bare_loop(days: int, seed: int = 1) -> int:
    """The network with nothing but deques and block random numbers."""
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


def small_network() -> None:
    print("\n2. the four-stage validation network, 515 days, one replication")
    s = validate_raw(net.msksim_scenario(), "network")
    secs, rows = cpu(lambda: simulate(s, "prime", 0))
    per_day = sum(rows[0][f"{k}_list_exits"] for k in ("triage", "physio", "orthopaedics", "theatre")) / 365
    ours = per_day * (net.WARMUP_DAYS + 365) / secs
    days = net.WARMUP_DAYS + 365
    bare_secs, bare = cpu(lambda: bare_loop(days))
    floor = bare / bare_secs
    try:
        ciw_secs, ciw_n = min(ciw_appointments(1) for _ in range(2))
        theirs = ciw_n / ciw_secs
        print(f"   Ciw          {theirs:>12,.0f} appointments a CPU second")
    except ImportError:
        theirs = float("nan")
        print("   Ciw          not installed (pip install ciw)")
    print(f"   msksim       {ours:>12,.0f} appointments a CPU second   {ours / theirs:5.1f} x Ciw")
    print(f"   bare loop    {floor:>12,.0f} appointments a CPU second   msksim is {floor / ours:4.1f} x slower than the floor")


if __name__ == "__main__":
    if sys.argv[1:] == ["--sources-only"]:  # section 3's subprocess: section 1's seconds, as JSON
        print(json.dumps(bedfordshire(quiet=True)))
        sys.exit()
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}")
    seconds = bedfordshire()
    small_network()
    compiled_against_sources(seconds)
