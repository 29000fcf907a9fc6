"""The commissioner-based returns (Department of Health 2007 to 2013, NHS England to 2015):
one file per month and part, its month and part in its name, bands to ``52 plus`` and the
published totals, share within 18 weeks, median and 95th percentile (:mod:`sim.rtt.returns`
describes the format)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import numpy as np

from sim.base.lazy import later
from sim.rtt.bands import STANDARD_WEEKS
from sim.rtt.return_file import (
    COLUMNS,
    LONG_WAITS,
    OLD_OPEN_BAND,
    TF_CODE,
    UNKNOWN,
    ReturnsError,
    check_total,
    commissioner_column,
    frame,
    read_counts,
    read_statistics,
    require,
)

pd = later("pandas")

OLD_BANDS: Final = (*(f">{k}-{k + 1}" for k in range(OLD_OPEN_BAND)), f"{OLD_OPEN_BAND} plus")
COMPLETED_ALL: Final = "Total number of completed pathways (all)"
COMPLETED_KNOWN: Final = "Total number of completed pathways (with a known clock start)"
COMPLETED_WITHIN: Final = "Total (with a known clock start) within 18 weeks"
INCOMPLETE_TOTAL: Final = "Total number of incomplete pathways"
INCOMPLETE_WITHIN: Final = "Total within 18 weeks"
WITHIN_SHARE: Final = "% within 18 weeks"
MEDIAN: Final = "Average (median) waiting time (in weeks)"
P95: Final = "95th percentile waiting time (in weeks)"
FILE_NAME: Final = re.compile(r"rtt-commissioner-(pct|ccg)-(\d{4})-(\d{2})-(incomplete|admitted|nonadmitted)\.csv")
PART_LETTERS: Final = {"I": "incomplete", "A": "admitted", "N": "nonadmitted"}
OLD_TF: Final = re.compile(r"([A-Z])P([0-9A-Z]+)")


def read_commissioner(
    path: Path,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    wanted: set[str] | None,
    functions: set[str] | None,
) -> pd.DataFrame:
    match = FILE_NAME.fullmatch(path.name)
    if match is None:
        raise ReturnsError(path, "a commissioner-based return must be named rtt-commissioner-<pct|ccg>-YYYY-MM-<part>.csv")
    _, year, month, part = match.groups()
    if not 1 <= int(month) <= 12:
        raise ReturnsError(path, f"month {month} in the file name")
    completed = part != "incomplete"
    totals = [UNKNOWN, COMPLETED_ALL, COMPLETED_KNOWN, COMPLETED_WITHIN] if completed else [INCOMPLETE_TOTAL, INCOMPLETE_WITHIN]
    pos = require(path, header, [TF_CODE, *OLD_BANDS, *totals, WITHIN_SHARE])
    code_at = commissioner_column(path, header)

    kept = []
    keys = []
    first: dict[tuple[str, str, str, str], int] = {}
    for number, record in rows:
        code = record[code_at].strip().upper()
        if wanted is not None and code not in wanted:
            continue
        tf_match = OLD_TF.fullmatch(record[pos[TF_CODE]].strip().upper())
        if tf_match is None:
            raise ReturnsError(path, f"{record[pos[TF_CODE]]!r} is not a part letter, P and a code", row=number, column=TF_CODE)
        letter, tf = tf_match.groups()
        given = record[pos[TF_CODE]].strip()
        if letter not in PART_LETTERS:
            raise ReturnsError(path, f"unknown part letter {letter!r} in {given!r}", row=number, column=TF_CODE)
        if PART_LETTERS[letter] != part:
            raise ReturnsError(
                path,
                f"{given!r} is a code of {PART_LETTERS[letter]} pathways, in a file of {part} ones",
                row=number,
                column=TF_CODE,
            )
        if functions is not None and tf not in functions:
            continue
        key = (f"{year}-{month}", code, tf, part)
        if key in first:
            again = f"commissioner {code}, treatment function {tf} again (first at row {first[key]})"
            raise ReturnsError(path, again, row=number, column=TF_CODE)
        first[key] = number
        kept.append((number, record))
        keys.append(key)

    counts = read_counts(path, kept, pos, [*OLD_BANDS, *totals])
    stats = [c for c in (WITHIN_SHARE, MEDIAN, P95) if c in pos]
    published = dict(zip(stats, read_statistics(path, kept, pos, stats).T, strict=True))
    numbers = [n for n, _ in kept]
    nb = len(OLD_BANDS)
    bands = counts[:, :nb]
    known = bands.sum(axis=1)
    within_bands = bands[:, :STANDARD_WEEKS].sum(axis=1)
    if completed:
        unknown, all_, total, within = counts[:, nb : nb + 4].T
        check_total(path, numbers, COMPLETED_KNOWN, total, known, "the sum of the bands")
        check_total(path, numbers, COMPLETED_ALL, all_, known + unknown, "known plus unknown clock starts")
        check_total(path, numbers, COMPLETED_WITHIN, within, within_bands, "the sum of the first 18 bands")
    else:
        total, within = counts[:, nb : nb + 2].T
        unknown = np.zeros(len(kept))
        check_total(path, numbers, INCOMPLETE_TOTAL, total, known, "the sum of the bands")
        check_total(path, numbers, INCOMPLETE_WITHIN, within, within_bands, "the sum of the first 18 bands")
    share = published[WITHIN_SHARE]
    over = np.flatnonzero(share > 1.0)
    if over.size:
        raise ReturnsError(path, f"{share[over[0]]:g} is not a fraction", row=numbers[over[0]], column=WITHIN_SHARE)

    col = {name: i for i, name in enumerate(COLUMNS[4:])}
    out = np.full((len(kept), len(COLUMNS) - 4), np.nan)
    out[:, :OLD_OPEN_BAND] = bands[:, :OLD_OPEN_BAND]
    out[:, col[LONG_WAITS]] = bands[:, OLD_OPEN_BAND]
    out[:, col["unknown_start"]] = unknown
    out[:, col["total"]] = total
    out[:, col["within_18w"]] = within
    out[:, col["within_18w_pct"]] = np.where(total > 0, 100.0 * share, np.nan)
    for name, column in (("median_weeks", MEDIAN), ("p95_weeks", P95)):
        if column in published:
            out[:, col[name]] = published[column]
    return frame(keys, out, numbers)
