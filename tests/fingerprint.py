"""A fingerprint of everything the model computes, to prove a refactoring changed no number.

Run by hand before and after a change that should leave results alone::

    python -m tests.fingerprint save /tmp/before.json
    python -m tests.fingerprint check /tmp/before.json

It simulates the bundled scenarios and a Bedfordshire run with every pathway switch on
(long waiters first, PIFU, advice and guidance, overflow, self-referral, priorities,
theatre cancellations, booking leads, a backlog), both designs, two replications, with
money and drawn inputs, and records every result row, month-end snapshot, weekly series,
wait histogram and flow count, floats written in full (``repr``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sim.runs.experiment import Task, run_task
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHORT = ("run.years=2", "run.warmup_days=200")
SWITCHES = (
    "stages.orthopaedics.booking=long_waiters_first",
    "stages.orthopaedics.long_wait_weeks=6",
    "stages.physio.pifu_share=0.3",
    "stages.rheumatology.advice_and_guidance_share=0.2",
    "stages.pain.overflow_to='rheumatology'",
    "stages.pain.overflow_after_weeks=4",
    "demand.self_referral.per_year=3000",
    "surgery.cancellation_rate=0.05",
    "surgery.booking_lead_days=14",
    "surgery.priority_shares={P1=0.05, P2=0.25, P3=0.4, P4=0.3}",
    "demand.conditions.hip.utility_loss=0.1",
    "demand.conditions.hip.utility_decline_per_week=0.001",
)
BACKLOG = (
    "run.warmup_days=0",
    'backlog.stages.orthopaedics={"0-18"=800, "18-52"=300}',
    'backlog.stages.theatre={"0-18"=200, "18-52"=60}',
    'backlog.stages.physio={"0-6"=900}',
)
CASES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "bedfordshire": ("bedfordshire.toml", SHORT, False),
    "bedfordshire-uncertain": ("bedfordshire.toml", SHORT, True),
    "bedfordshire-switches": ("bedfordshire.toml", SHORT + SWITCHES, False),
    "bedfordshire-backlog": ("bedfordshire.toml", ("run.years=1", *BACKLOG), False),
    "oldham": ("oldham.toml", SHORT, False),
    "unitingcare": ("unitingcare_style.toml", SHORT, False),
}


def _exact(x: Any) -> Any:
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, dict):
        return {str(k): _exact(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_exact(v) for v in x]
    return x


def fingerprint() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (file, sets, uncertain) in CASES.items():
        s = load_scenario(ROOT / "scenarios" / file, list(sets))
        for design in s.designs:
            for rep in (0, 1):
                o = run_task(s, Task(0, rep, design), uncertainty=uncertain)
                assert o.error is None, o.error
                traces = {k: v for k, v in o.traces.items() if k != "engine"}
                columns = [list(r) for r in o.rows]  # the order of columns is part of the result
                out[f"{name}/{design}/{rep}"] = _exact({"rows": o.rows, "columns": columns, "traces": traces})
    return out


def main(argv: list[str]) -> int:
    what, path = argv[1], Path(argv[2])
    now = fingerprint()
    if what == "save":
        path.write_text(json.dumps(now, indent=1, sort_keys=True))
        print(f"saved {len(now)} runs to {path}")
        return 0
    before = json.loads(path.read_text())
    bad = 0
    for key in sorted(set(before) | set(now)):
        a, b = before.get(key), now.get(key)
        if a != b:
            bad += 1
            print(f"DIFFERS: {key}")
            if a and b:
                for part in ("rows", "columns", "traces"):
                    if a[part] != b[part]:
                        print(f"  in {part}: {_first_difference(a.get(part), b.get(part))}")
    print("identical" if not bad else f"{bad} of {len(before)} runs differ")
    return 1 if bad else 0


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{where}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return f"{where}: {str(a)[:80]} != {str(b)[:80]}"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
