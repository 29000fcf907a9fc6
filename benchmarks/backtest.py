"""The back-test on the Calibration page (docs/calibration.md): each bundled area fitted with one month held out.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/backtest.md``, which
the page includes)::

    python benchmarks/backtest.py               # the page's three fits, as written there (minutes each)
    python benchmarks/backtest.py --jobs 2

Runs the page's three ``msksim calibrate`` commands, each with ``--holdout 1`` (fitted on
December and January, February forecast; Oldham's command on the page fits all three months,
so here it holds February out as well), and sets, for T&O (110) incomplete pathways in
February, the fitted model's error beside the naive forecast's (the last fitted month carried
forward), from each fit's ``backtest.csv``: list size in %, the share within 18 weeks in
points, the median in weeks. Where a fit kept two structures of its waits (delay-led and
queue-led), each has its row.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.commands import msksim, rows, rtt_files  # noqa: E402
from benchmarks.record import Record  # noqa: E402

CASES = {  # label: the calibrate command's arguments as the page gives them, holding out a month
    "06F, February 2015 (prime)": ["scenarios/bedfordshire.toml", "--commissioner", "06F", "--fit-routing", "--holdout", "1",
                                   *rtt_files("ccg")],
    "5P2, February 2010 (fragmented)": ["scenarios/bedfordshire_2010.toml", "--design", "fragmented", "--commissioner", "5P2",
                                        "--treatment-function", "110", "--fit-referrals", "--holdout", "1", *rtt_files("pct")],
    "00Y, February 2015 (Oldham's hub)": ["scenarios/oldham.toml", "--commissioner", "00Y", "--rounds", "8", "--holdout", "1",
                                          *rtt_files("ccg")],
}  # fmt: skip


def shown(args: list[str]) -> str:
    """The command as the page writes it, the return files folded into the shell loop."""
    kept = [a for i, a in enumerate(args) if a != "--rtt" and (i == 0 or args[i - 1] != "--rtt")]
    era = "ccg" if any("-ccg-" in a for a in args) else "pct"
    return f"msksim calibrate {' '.join(kept)} $(for f in data/rtt/rtt-commissioner-{era}-*.csv; do echo --rtt $f; done)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    record = Record("backtest")
    md = [
        "T&O (110) incomplete pathways in the held-out month (February), each fit's error beside the naive forecast's "
        "(the last fitted month carried forward): list size in %, the share within 18 weeks in points, the median in weeks. "
        "Made with:",
        "",
    ]
    table = ["| held-out month | structure | list size | within 18 weeks | median |", "|---|---|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, args) in enumerate(CASES.items()):
            start = time.perf_counter()
            out = msksim("calibrate", *args, "--jobs", str(a.jobs), out=Path(tmp) / f"fit{i}")
            md.append(f"- `{shown(args)}` ({time.perf_counter() - start:,.0f} s)")
            bt = [r for r in rows(out / "backtest.csv") if r["treatment_function"] == "110"]
            for structure in dict.fromkeys(r["structure"] for r in bt):
                got = {r["measure"]: r for r in bt if r["structure"] == structure}
                size, share, median = got["list_size_pct"], got["within_18w_points"], got["median_weeks"]

                def both(r: dict[str, str], unit: str, fmt: str) -> str:
                    m, n = float(r["model_error"]), float(r["naive_error"])
                    return f"{m:+{fmt}}{unit} / {n:+{fmt}}{unit}".replace("-", "−")

                line = (f"| {label}: model / naive | {structure} | {both(size, '%', '.1f')} | {both(share, '', '.1f')} points | "
                        f"{both(median, '', '.1f')} weeks |")  # fmt: skip
                print(line, flush=True)
                table.append(line)
    record.write([*md, "", *table])


if __name__ == "__main__":
    main()
