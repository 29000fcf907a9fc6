"""Scaling: CPU time and peak memory against population size and horizon.

Run by hand: ``python benchmarks/scaling.py`` (prints figures, asserts nothing; writes
``benchmarks/results/scaling.md``, which docs/performance.md includes; each case in a fresh process, so its peak
resident memory is its own). Population is scaled as ``msksim scale`` scales it (referrals,
every service's and the theatre's slots or the staff that give them, beds, sums paid; every
load as it was); the horizon by ``run.years``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import Record  # noqa: E402

CASE = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {root!r})
from sim.model.pathway import Pathway
from sim.planning.scale import scale as scaled, write
from sim.scenario.loading import load_scenario
scale, years, design, path = {scale}, {years}, {design!r}, Path({path!r})
with tempfile.TemporaryDirectory() as tmp:
    if scale != 1:  # as msksim scale does it: referrals, slots (and the staff that give them), beds, sums
        base = load_scenario(path)
        out = Path(tmp) / "scaled.toml"
        write(scaled(base, round(base.population * scale)), path, out)
        path = out
    s = load_scenario(path, [f"run.years={{years}}"])
t = time.process_time()
m = Pathway(s, design, 0)
rows = m.run()
secs = time.process_time() - t
print(json.dumps({{"secs": secs, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "appointments": sum(r["appointments"] for r in rows), "in_system": rows[-1]["in_system_end"]}}))
"""


def run(scale: int, years: int, design: str = "prime") -> dict:
    code = CASE.format(
        root=str(ROOT), scale=scale, years=years, design=design, path=str(ROOT / "scenarios" / "bedfordshire.toml")
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    record = Record("scaling")
    print("prime design, one replication, one core; warm-up 365 days included in the time")
    print(f"{'population':>10} {'years':>5} {'CPU s':>7} {'s per year':>10} {'peak MB':>8} {'in system':>10} {'appts/s':>10}")
    md = [
        "The prime design, one replication in a fresh process, one core; the warm-up year included in the time; "
        "population scaled as `msksim scale` scales it (every load as it was).",
        "",
        "| population | years | CPU s | per simulated year | peak memory | patients in system at the end "
        "| appointments a second |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scale, years in ((1, 1), (4, 1), (16, 1), (1, 5), (1, 10)):
        r = run(scale, years)
        rate = r["appointments"] / r["secs"] * (years + 1) / years
        print(
            f"{'x' + str(scale):>10} {years:>5} {r['secs']:>7.1f} {r['secs'] / (years + 1):>10.2f} {r['peak_mb']:>8.0f} "
            f"{r['in_system']:>10,} {rate:>10,.0f}"
        )
        md.append(f"| ×{scale} | {years} | {r['secs']:.1f} | {r['secs'] / (years + 1):.2f} s | {r['peak_mb']:,.0f} MB "
                  f"| {r['in_system']:,} | {rate:,.0f} |")  # fmt: skip
    record.write(md)

if __name__ == "__main__":
    main()
