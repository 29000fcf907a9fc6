"""Read published RTT returns into one frame, whichever of the NHS's two formats they are in.

**Commissioner-based returns** (Department of Health 2007 to 2013, NHS England to 2015),
one file per month and part, named ``rtt-commissioner-<pct|ccg>-YYYY-MM-<part>.csv`` with
``<part>`` one of ``incomplete``, ``admitted``, ``nonadmitted``. Columns: a row number, the
region's code, the commissioner's code and name, ``Treatment Function Code`` (``AP110``:
the first letter says the part, ``I``, ``A`` or ``N``, the digits the function) and
``Treatment Function``, bands ``>0-1`` … ``>51-52`` and ``52 plus``, then the totals: for
incomplete pathways ``Total number of incomplete pathways`` and ``Total within 18 weeks``;
for completed ones ``Patients with unknown clock start date``, ``Total number of completed
pathways (all)``, ``… (with a known clock start)`` and ``Total (with a known clock start)
within 18 weeks``; then ``% within 18 weeks`` (a fraction) and, from 2012 or so, the median
and 95th percentile in weeks. The month and the part come from the file name.

**The full CSV extract** (NHS England, today), one file a month: ``Period``
(``RTT-February-2015``), provider and commissioner codes and names, ``RTT Part Type``
(``Part_1A`` admitted, ``Part_1B`` non-admitted, ``Part_2`` incomplete, ``Part_2A``
incomplete with a decision to admit, ``Part_3`` new clock starts), ``Treatment Function
Code`` (``C_110``, ``C_999``, ``X02`` …), bands ``Gt 00 To 01 Weeks SUM 1`` … ``Gt 103 To
104 Weeks SUM 1`` and ``Gt 104 Weeks SUM 1``, then ``Total`` (completed parts only),
``Patients with unknown clock start date`` and ``Total All``. Clock starts carry no bands,
only ``Total All``. Rows are per provider: a commissioner's are summed.

The format is told by the header. Blank and ``-`` count cells are zero (the NHS leaves
empty what it counted none of); a blank or ``-`` published statistic is NaN. Anything else
that is not as described raises :class:`ReturnsError`, which names the file, the row and
the column. The totals are checked against the bands (each published total equals its
bands' sum in every commissioner return of 2009/10 and 2014/15, and the published number
within 18 weeks the first 18 bands' sum), so a shifted column is caught.

Each format is read in its own module (:mod:`sim.rtt.commissioner_format`,
:mod:`sim.rtt.extract_format`), cells and the frame in :mod:`sim.rtt.return_file`; this one
tells the formats apart, puts their rows together and answers for a commissioner.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sim.base.files import MAX_DATA_BYTES, FileProblem, check_input
from sim.base.lazy import later
from sim.rtt.bands import BAND_LABELS, N_BANDS, OPEN_BAND
from sim.rtt.commissioner_format import FILE_NAME, read_commissioner
from sim.rtt.extract_format import read_extract
from sim.rtt.return_file import (
    COLUMNS,
    LONG_WAITS,
    OLD_OPEN_BAND,
    PART_TYPE,
    PARTS,
    TF_CODE,
    ReturnsError,
    commissioner_column,
    function_code,
    read_csv,
)

pd = later("pandas")


def read_returns(
    paths: str | Path | Iterable[str | Path],
    commissioner: str | Iterable[str] | None = None,
    treatment_functions: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read RTT returns, of either format, into one row per month, commissioner, function and part.

    Parameters
    ----------
    paths
        A file, or several; commissioner-based returns and full CSV extracts may be mixed.
    commissioner
        A commissioner's code (``06F``), or several; None for every commissioner. Only the
        rows selected are checked.
    treatment_functions
        Treatment function codes to keep, with or without the extract's ``C_`` prefix
        (``110``, ``C_410``, ``999``, ``X01``); None for all.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, sorted by month, commissioner, treatment function and part:

        ``month``
            ``YYYY-MM``.
        ``commissioner``, ``treatment_function``
            Codes, the function without prefix (``110``, ``999``, ``X01``).
        ``part``
            One of :data:`PARTS`.
        ``0-1`` … ``103-104``, ``104+``
            Pathways by weeks waited. The commissioner returns stop at ``52 plus``: their
            bands from ``52-53`` on are NaN and the open count is in ``52+``. Clock starts
            have no bands (all NaN).
        ``52+``
            Pathways over 52 weeks: the commissioner returns' ``52 plus``, the extract's
            bands from ``52-53`` on summed.
        ``unknown_start``
            Completed pathways with an unknown clock start, not in the bands (0 for
            incomplete pathways, NaN for clock starts).
        ``total``
            Pathways in the bands, as published (unknown clock starts left out); for clock
            starts, the number started.
        ``within_18w``, ``within_18w_pct``
            Pathways within 18 weeks and their percentage (0 to 100) of ``total``: as
            published in the commissioner returns, computed the same way from the bands of
            the extract, which publishes neither. The percentage is NaN when ``total`` is 0
            (the 2009/10 returns publish 0 there, the 2014/15 ones ``-``).
        ``median_weeks``, ``p95_weeks``
            The published median and 95th percentile wait; NaN where not published (``-``
            under 50 pathways, the 2009/10 returns and the extract).

        Counts are floats (NaN where the format has none).

    Raises
    ------
    ReturnsError
        A file that is missing, unreadable, of neither format, ragged, or with a bad cell, an
        unknown part, a total that disagrees with its bands, or a month, commissioner,
        function and part already read from another row or file.
    """
    files = [paths] if isinstance(paths, str | Path) else list(paths)
    wanted = _codes(commissioner)
    functions = None if treatment_functions is None else {function_code(str(f)) for f in treatment_functions}
    seen: dict[tuple[str, str, str, str], tuple[str, int]] = {}
    frames = []
    for path in files:
        header, rows = read_csv(Path(path))
        if PART_TYPE in header:
            frame = read_extract(Path(path), header, rows, wanted, functions)
        elif TF_CODE in header:
            frame = read_commissioner(Path(path), header, rows, wanted, functions)
        else:
            raise ReturnsError(path, "the header is neither a commissioner-based return's nor a full CSV extract's")
        for key, first_row in zip(frame.index, frame.pop("_row"), strict=True):
            if key in seen:
                was, was_row = seen[key]
                raise ReturnsError(path, f"{' '.join(key)} was already read from {was}, row {was_row}", row=int(first_row))
            seen[key] = (str(path), int(first_row))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    out = pd.concat(frames).reset_index()
    out["_order"] = out["part"].map(PARTS.index)
    out = out.sort_values(["month", "commissioner", "treatment_function", "_order"], kind="stable")
    return out[list(COLUMNS)].reset_index(drop=True)


def is_return(path: str | Path) -> bool:
    """Whether a CSV file's header is an RTT return's (either format), read from its first line."""
    try:
        check_input(Path(path), MAX_DATA_BYTES)
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline(65_536)
    except (OSError, FileProblem):
        return False
    header = [h.strip() for h in next(csv.reader([first]), [])]
    return PART_TYPE in header or TF_CODE in header


def named_month_part(path: str | Path) -> tuple[str, str] | None:
    """The month (``YYYY-MM``) and part a commissioner-based return's file name gives; None for
    any other name (a full extract's says neither)."""
    match = FILE_NAME.fullmatch(Path(path).name)
    return None if match is None else (f"{match.group(2)}-{match.group(3)}", match.group(4))


def commissioner_rows(path: str | Path, commissioner: str) -> str:
    """One commissioner's rows of a return (either format) under its header, as CSV text: a
    file that :func:`read_returns` reads as it reads the whole one for that commissioner."""
    path = Path(path)
    header, rows = read_csv(path)
    if PART_TYPE not in header and TF_CODE not in header:
        raise ReturnsError(path, "the header is neither a commissioner-based return's nor a full CSV extract's")
    at = commissioner_column(path, header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(record for _, record in rows if record[at].strip().upper() == commissioner.strip().upper())
    return out.getvalue()


def commissioners(paths: Iterable[str | Path]) -> dict[str, str]:
    """Every commissioner's code in ``paths`` and its name (the column after the code; the code
    again where the format names none), read without checking the rows' figures.

    Raises
    ------
    ReturnsError
        A file that cannot be read, or of neither format.
    """
    out: dict[str, str] = {}
    for path in paths:
        header, rows = read_csv(Path(path))
        if PART_TYPE not in header and TF_CODE not in header:
            raise ReturnsError(path, "the header is neither a commissioner-based return's nor a full CSV extract's")
        at = commissioner_column(Path(path), header)
        named = at + 1 < len(header) and header[at + 1].endswith("Name")
        for _, record in rows:
            code = record[at].strip().upper()
            if code:
                out.setdefault(code, record[at + 1].strip() if named else code)
    return dict(sorted(out.items()))


def returns_for(df: pd.DataFrame, commissioner: str, month: str, treatment_function: str, part: str) -> tuple[np.ndarray, int]:
    """The band counts of one return, ready for :func:`sim.rtt.bands.percentile` and ``within_pct``.

    Parameters
    ----------
    df
        A frame from :func:`read_returns`.
    commissioner, month, treatment_function, part
        The row's keys (``06F``, ``2015-01``, ``110`` or ``C_110``, ``admitted``).

    Returns
    -------
    counts : numpy.ndarray
        Integer pathways by band, length :data:`~sim.rtt.bands.N_BANDS`.
    open_from : int
        The first week of the return's open band. For the commissioner returns it is 52:
        ``counts[52]`` holds the ``52 plus`` count and every later band is 0. For the
        extract it is 104, the last band. Every band before ``open_from`` is one week.

    Raises
    ------
    KeyError
        No such row.
    ValueError
        Clock starts, which have no bands.
    """
    tf = function_code(treatment_function)
    commissioner = commissioner.strip().upper()
    sel = df[
        (df["commissioner"] == commissioner) & (df["month"] == month) & (df["treatment_function"] == tf) & (df["part"] == part)
    ]
    if sel.empty:
        raise KeyError(f"no return for commissioner {commissioner}, {month}, treatment function {tf}, {part}")
    if len(sel) > 1:
        raise ValueError(f"{len(sel)} returns for commissioner {commissioner}, {month}, treatment function {tf}, {part}")
    if part == "clock_starts":
        raise ValueError("clock starts are not counted by weeks waited")
    row = sel.iloc[0]
    bands = row[list(BAND_LABELS)].to_numpy(dtype=float)
    if np.isnan(bands[OLD_OPEN_BAND]):
        counts = np.zeros(N_BANDS, dtype=np.int64)
        counts[:OLD_OPEN_BAND] = bands[:OLD_OPEN_BAND]
        counts[OLD_OPEN_BAND] = row[LONG_WAITS]
        return counts, OLD_OPEN_BAND
    return bands.astype(np.int64), OPEN_BAND


def _codes(commissioner: str | Iterable[str] | None) -> set[str] | None:
    if commissioner is None:
        return None
    if isinstance(commissioner, str):
        return {commissioner.strip().upper()}
    return {c.strip().upper() for c in commissioner}


def check_one_era(paths: Iterable[str | Path]) -> None:
    """Refuse commissioner-based returns of two eras together: PCTs commissioned to March 2013
    and CCGs from April, under other codes and areas, so one area's returns cannot run across
    both (its months would be another body's). Only the headers are read.

    Raises
    ------
    ReturnsError
        Naming the first file of the second era and one of the first.
    """
    eras: dict[str, str] = {}  # the commissioners' kind (PCT, CCG): the first file of each
    for path in paths:
        header, _ = read_csv(Path(path), header_only=True)
        if TF_CODE not in header or PART_TYPE in header:
            continue
        kind = header[commissioner_column(Path(path), header)].removesuffix("Code").strip() or "?"
        eras.setdefault(kind, str(path))
        if len(eras) > 1:
            (first, was), *_ = eras.items()
            raise ReturnsError(
                path,
                f"a return by {kind}, where {was} is one by {first}: commissioners changed in April 2013 (PCTs to "
                "CCGs, other codes and areas), so returns of the two eras cannot be used together; give one era's",
            )
