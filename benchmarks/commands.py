"""Run ``msksim`` commands as a page gives them, for the scripts that make its worked examples' figures.

Each command runs this checkout's command line (``cli.py``) in the repository's folder, with
``--out`` into a scratch folder, and the caller reads the CSVs it wrote there. What it printed
is kept beside them (``stdout.txt``) for figures the CSVs do not hold.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def msksim(*args: str, out: Path, echo: bool = True, may_fail: bool = False) -> Path:
    """Run ``msksim ARGS --out OUT --quiet``; the results folder. Stops the script if the command
    fails, unless ``may_fail`` (a ``target`` that no capacity meets exits 1, having written its trials)."""
    command = [sys.executable, str(ROOT / "cli.py"), *args, "--out", str(out), "--quiet", "--force"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
           "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if echo:
        print(f"$ msksim {' '.join(args)}  ({time.perf_counter() - start:,.0f} s)", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stdout.txt").write_text(done.stdout)
    if done.returncode != 0 and not may_fail:
        sys.exit(f"msksim {' '.join(args)} failed:\n{done.stdout[-4000:]}")
    return out


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def rtt_files(era: str) -> list[str]:
    """``--rtt FILE`` for each bundled return of an era (``ccg`` 2014/15, ``pct`` 2009/10)."""
    out: list[str] = []
    for f in sorted((ROOT / "data" / "rtt").glob(f"rtt-commissioner-{era}-*.csv")):
        out += ["--rtt", str(f.relative_to(ROOT))]
    return out


def money(x: float, places: int = 2) -> str:
    """£ in millions: ``£24.50m`` (a minus sign before the pound sign)."""
    return f"{'−' if x < 0 else ''}£{abs(x) / 1e6:,.{places}f}m"


def pct(p: float, places: int = 1) -> str:
    """A probability or share (0 to 1) as a percentage."""
    return f"{100 * p:.{places}f}%"
