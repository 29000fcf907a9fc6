"""Trim the published national commissioner-based RTT files to what msksim reads.

Usage: ``python data/rtt/trim.py NATIONAL_FOLDER`` with the national CSV files named as here.
Keeps the header and, line for line as published, every row of trauma and orthopaedics (110),
rheumatology (410) and all specialties (999) for every commissioner in England (what
``msksim national`` reads: the areas' own functions, and every commissioner's all-specialty clock
stops to estimate its population), and every row of the two bundled areas (Bedfordshire and
Oldham, whose tests read other functions too).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

FUNCTIONS = {"110", "410", "999"}
BUNDLED = {"5P2", "5J5", "06F", "00Y"}


def keep(fields: list[str]) -> bool:
    return fields[2] in BUNDLED or fields[4][2:] in FUNCTIONS


def trim(source: Path, target: Path) -> int:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [lines[0]] + [line for line in lines[1:] if keep(next(csv.reader([line])))]
    target.write_text("".join(kept), encoding="utf-8")
    return len(kept) - 1


if __name__ == "__main__":
    here = Path(__file__).parent
    for path in sorted(Path(sys.argv[1]).glob("rtt-commissioner-*.csv")):
        print(path.name, trim(path, here / path.name))
