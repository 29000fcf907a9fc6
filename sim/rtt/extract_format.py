"""The full CSV extract (NHS England, today): one file a month, a row per provider,
commissioner, part and treatment function, bands to ``104+``; a commissioner's providers are
summed (:mod:`sim.rtt.returns` describes the format)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import numpy as np

from sim.base.lazy import later
from sim.rtt.bands import N_BANDS, OPEN_BAND, STANDARD_WEEKS
from sim.rtt.return_file import (
    COLUMNS,
    COMMISSIONER,
    LONG_WAITS,
    OLD_OPEN_BAND,
    PART_TYPE,
    TF_CODE,
    UNKNOWN,
    ReturnsError,
    cell_text,
    check_total,
    commissioner_column,
    frame,
    function_code,
    read_counts,
    require,
)

pd = later("pandas")

PERIOD: Final = "Period"
EXTRACT_BANDS: Final = (*(f"Gt {k:02d} To {k + 1:02d} Weeks SUM 1" for k in range(OPEN_BAND)), f"Gt {OPEN_BAND} Weeks SUM 1")
TOTAL: Final = "Total"
TOTAL_ALL: Final = "Total All"
PART_TYPES: Final = {
    "Part_1A": "admitted",
    "Part_1B": "nonadmitted",
    "Part_2": "incomplete",
    "Part_2A": "incomplete_dta",
    "Part_3": "clock_starts",
}
MONTHS: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
PERIOD_NAMED: Final = re.compile(r"RTT[-_ ]([A-Za-z]+)[-_ ](\d{4})")
PERIOD_ISO: Final = re.compile(r"(\d{4})-(\d{2})(?:-\d{2})?")


def _month_of(path: Path, number: int, text: str) -> str:
    s = text.strip()
    named = PERIOD_NAMED.fullmatch(s)
    if named is not None and named.group(1)[:3].lower() in MONTHS:
        return f"{named.group(2)}-{MONTHS.index(named.group(1)[:3].lower()) + 1:02d}"
    iso = PERIOD_ISO.fullmatch(s)
    if iso is not None and 1 <= int(iso.group(2)) <= 12:
        return f"{iso.group(1)}-{iso.group(2)}"
    raise ReturnsError(path, f"{text!r} is not a month (RTT-February-2015 or 2015-02)", row=number, column=PERIOD)


def read_extract(
    path: Path,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    wanted: set[str] | None,
    functions: set[str] | None,
) -> pd.DataFrame:
    pos = require(path, header, [PERIOD, COMMISSIONER, PART_TYPE, TF_CODE, *EXTRACT_BANDS, TOTAL, UNKNOWN, TOTAL_ALL])
    code_at = commissioner_column(path, header)
    kept = []
    keys = []
    for number, record in rows:
        code = record[code_at].strip().upper()
        if wanted is not None and code not in wanted:
            continue
        tf = function_code(record[pos[TF_CODE]])
        if not tf:
            raise ReturnsError(path, "no treatment function code", row=number, column=TF_CODE)
        if functions is not None and tf not in functions:
            continue
        part_type = record[pos[PART_TYPE]].strip()
        if part_type not in PART_TYPES:
            known = ", ".join(PART_TYPES)
            raise ReturnsError(path, f"unknown part {part_type!r} (known: {known})", row=number, column=PART_TYPE)
        kept.append((number, record))
        keys.append((_month_of(path, number, record[pos[PERIOD]]), code, tf, PART_TYPES[part_type]))

    counts = read_counts(path, kept, pos, [*EXTRACT_BANDS, UNKNOWN, TOTAL_ALL, TOTAL])
    nb = len(EXTRACT_BANDS)
    banded = np.array([key[3] != "clock_starts" for key in keys], dtype=bool)
    numbers = [n for n, _ in kept]
    known = counts[:, :nb].sum(axis=1)
    # Total is left blank where it is not collected (incomplete pathways, clock starts).
    given = banded & (cell_text(kept, pos, [TOTAL])[:, 0] != "")
    check_total(path, numbers, TOTAL, np.where(given, counts[:, nb + 2], known), known, "the sum of the bands")
    all_ = np.where(banded, counts[:, nb + 1], 0.0)
    check_total(
        path, numbers, TOTAL_ALL, all_, np.where(banded, known + counts[:, nb], 0.0), "the bands plus unknown clock starts"
    )

    # Sum the providers: one row per key, numbered by its first row.
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    col = {name: i for i, name in enumerate(COLUMNS[4:])}
    out = np.full((len(groups), len(COLUMNS) - 4), np.nan)
    firsts = []
    for g, (key, members) in enumerate(groups.items()):
        firsts.append(numbers[members[0]])
        summed = counts[members].sum(axis=0)
        if key[3] == "clock_starts":
            out[g, col["total"]] = summed[nb + 1]
            continue
        bands = summed[:nb]
        total = float(bands.sum())
        within = float(bands[:STANDARD_WEEKS].sum())
        out[g, :N_BANDS] = bands
        out[g, col[LONG_WAITS]] = bands[OLD_OPEN_BAND:].sum()
        out[g, col["unknown_start"]] = summed[nb]
        out[g, col["total"]] = total
        out[g, col["within_18w"]] = within
        out[g, col["within_18w_pct"]] = 100.0 * within / total if total > 0 else np.nan
    return frame(list(groups), out, firsts)
