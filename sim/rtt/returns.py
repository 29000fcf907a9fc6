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
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import numpy as np

from sim.base.files import MAX_DATA_BYTES, FileProblem, check_input, read_bytes
from sim.base.lazy import later
from sim.rtt.bands import BAND_LABELS, N_BANDS, OPEN_BAND, STANDARD_WEEKS

pd = later("pandas")

PARTS: Final = ("incomplete", "admitted", "nonadmitted", "clock_starts", "incomplete_dta")
"""The parts of a return, as named in the frame."""

OLD_OPEN_BAND: Final = 52
"""The first week of the commissioner returns' open band, ``52 plus``."""

LONG_WAITS: Final = "52+"
"""The frame's column of pathways over 52 weeks (the open band of the commissioner returns)."""

COLUMNS: Final = (
    "month",
    "commissioner",
    "treatment_function",
    "part",
    *BAND_LABELS,
    LONG_WAITS,
    "unknown_start",
    "total",
    "within_18w",
    "within_18w_pct",
    "median_weeks",
    "p95_weeks",
)
"""The columns of :func:`read_returns`'s frame, in order."""

# The commissioner-based returns.
OLD_BANDS: Final = (*(f">{k}-{k + 1}" for k in range(OLD_OPEN_BAND)), f"{OLD_OPEN_BAND} plus")
TF_CODE: Final = "Treatment Function Code"
UNKNOWN: Final = "Patients with unknown clock start date"
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

# The full CSV extract.
PERIOD: Final = "Period"
COMMISSIONER: Final = "Commissioner Org Code"
PART_TYPE: Final = "RTT Part Type"
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

_BLANK: Final = ("", "-")


class ReturnsError(ValueError):
    """A return that is not as published: the message names the file, the row and the column.

    Attributes
    ----------
    path
        The file.
    row
        1 for the first data row; None for the header or the file as a whole.
    column
        The column's header text, or None.
    problem
        What is wrong.
    """

    def __init__(self, path: str | Path, problem: str, row: int | None = None, column: str | None = None):
        self.path = str(path)
        self.row = row
        self.column = column
        self.problem = problem
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


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
    functions = None if treatment_functions is None else {_function(str(f)) for f in treatment_functions}
    seen: dict[tuple[str, str, str, str], tuple[str, int]] = {}
    frames = []
    for path in files:
        header, rows = _read_csv(Path(path))
        if PART_TYPE in header:
            frame = _read_extract(Path(path), header, rows, wanted, functions)
        elif TF_CODE in header:
            frame = _read_commissioner(Path(path), header, rows, wanted, functions)
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
    header, rows = _read_csv(path)
    if PART_TYPE not in header and TF_CODE not in header:
        raise ReturnsError(path, "the header is neither a commissioner-based return's nor a full CSV extract's")
    at = _commissioner_column(path, header)
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
        header, rows = _read_csv(Path(path))
        if PART_TYPE not in header and TF_CODE not in header:
            raise ReturnsError(path, "the header is neither a commissioner-based return's nor a full CSV extract's")
        at = _commissioner_column(Path(path), header)
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
    tf = _function(treatment_function)
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


# Reading.


def _read_csv(path: Path, header_only: bool = False) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows (numbered from 1, blank lines skipped) of a CSV file (no rows
    with ``header_only``: its first line is read)."""
    try:
        raw = read_bytes(path, MAX_DATA_BYTES)
    except FileProblem as e:
        raise ReturnsError(path, f"cannot be read: {e.problem}") from None
    if header_only:
        raw = raw.split(b"\n", 1)[0]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise ReturnsError(path, f"is not valid CSV: {e}") from e
    if not records:
        raise ReturnsError(path, "is empty: no header")
    header = [h.strip() for h in records[0]]
    rows = []
    number = 0
    for record in records[1:]:
        if not record or all(not cell.strip() for cell in record):
            continue
        number += 1
        if len(record) != len(header):
            column = header[len(record)] if len(record) < len(header) else None
            raise ReturnsError(path, f"{len(record)} fields where the header has {len(header)}", row=number, column=column)
        rows.append((number, record))
    return header, rows


def _require(path: Path, header: list[str], columns: Iterable[str]) -> dict[str, int]:
    """The position of each column needed; ReturnsError for the first missing."""
    pos = {name: i for i, name in reversed(list(enumerate(header)))}
    for name in columns:
        if name not in pos:
            raise ReturnsError(path, "missing from the header", column=name)
    return pos


def _cells(rows: list[tuple[int, list[str]]], pos: dict[str, int], columns: list[str]) -> np.ndarray:
    """The cells of ``columns``, stripped: a string array, rows × columns."""
    if not rows:
        return np.zeros((0, len(columns)), dtype=str)
    at = [pos[c] for c in columns]
    return np.char.strip(np.array([[record[i] for i in at] for _, record in rows], dtype=str))


def _numbers(cells: np.ndarray, blank: float) -> np.ndarray:
    """Floats from strings: ``blank`` for blank or ``-``, infinity for anything not a number."""
    is_blank = np.isin(cells, _BLANK)
    filled = np.where(is_blank, "0", cells)
    try:
        values = filled.astype(float)
    except ValueError:
        values = np.array(pd.to_numeric(pd.Series(filled.ravel()), errors="coerce"), dtype=float).reshape(cells.shape)
    values[np.isnan(values)] = np.inf  # text, or "nan" typed in
    values[is_blank] = blank
    return values


def _counts(path: Path, rows: list[tuple[int, list[str]]], pos: dict[str, int], columns: list[str]) -> np.ndarray:
    """Counts, rows × columns; blank and ``-`` are 0. ReturnsError names the first bad cell."""
    cells = _cells(rows, pos, columns)
    values = _numbers(cells, 0.0)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ReturnsError(path, f"{str(cells[i, j])!r} is not a count", row=rows[i][0], column=columns[j])
    return values


def _statistics(path: Path, rows: list[tuple[int, list[str]]], pos: dict[str, int], columns: list[str]) -> np.ndarray:
    """Published statistics, rows × columns: NaN for blank or ``-``."""
    cells = _cells(rows, pos, columns)
    values = _numbers(cells, np.nan)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (values < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ReturnsError(path, f"{str(cells[i, j])!r} is not a number of weeks or a share", row=rows[i][0], column=columns[j])
    return values


def _codes(commissioner: str | Iterable[str] | None) -> set[str] | None:
    if commissioner is None:
        return None
    if isinstance(commissioner, str):
        return {commissioner.strip().upper()}
    return {c.strip().upper() for c in commissioner}


def _function(code: str) -> str:
    """A treatment function code without the extract's ``C_`` prefix."""
    code = code.strip().upper()
    return code[2:] if code.startswith("C_") else code


def _check(path: Path, numbers: list[int], column: str, published: np.ndarray, computed: np.ndarray, what: str) -> None:
    """ReturnsError at the first row where a published total is not what its parts add up to."""
    differ = np.flatnonzero(published != computed)
    if differ.size:
        i = differ[0]
        problem = f"{published[i]:g} published, but {what} is {computed[i]:g}"
        raise ReturnsError(path, problem, row=numbers[i], column=column)


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
        header, _ = _read_csv(Path(path), header_only=True)
        if TF_CODE not in header or PART_TYPE in header:
            continue
        kind = header[_commissioner_column(Path(path), header)].removesuffix("Code").strip() or "?"
        eras.setdefault(kind, str(path))
        if len(eras) > 1:
            (first, was), *_ = eras.items()
            raise ReturnsError(
                path,
                f"a return by {kind}, where {was} is one by {first}: commissioners changed in April 2013 (PCTs to "
                "CCGs, other codes and areas), so returns of the two eras cannot be used together; give one era's",
            )


def _commissioner_column(path: Path, header: list[str]) -> int:
    """Where a return's commissioner code is: the extract's named column, or, in a
    commissioner-based return, two columns before the treatment function's code."""
    if PART_TYPE in header:
        return _require(path, header, [COMMISSIONER])[COMMISSIONER]
    at = _require(path, header, [TF_CODE])[TF_CODE] - 2
    if at < 0 or not header[at].endswith("Code"):
        raise ReturnsError(path, "the commissioner's code must be two columns before it", column=TF_CODE)
    return at


def _read_commissioner(
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
    pos = _require(path, header, [TF_CODE, *OLD_BANDS, *totals, WITHIN_SHARE])
    code_at = _commissioner_column(path, header)

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

    counts = _counts(path, kept, pos, [*OLD_BANDS, *totals])
    stats = [c for c in (WITHIN_SHARE, MEDIAN, P95) if c in pos]
    published = dict(zip(stats, _statistics(path, kept, pos, stats).T, strict=True))
    numbers = [n for n, _ in kept]
    nb = len(OLD_BANDS)
    bands = counts[:, :nb]
    known = bands.sum(axis=1)
    within_bands = bands[:, :STANDARD_WEEKS].sum(axis=1)
    if completed:
        unknown, all_, total, within = counts[:, nb : nb + 4].T
        _check(path, numbers, COMPLETED_KNOWN, total, known, "the sum of the bands")
        _check(path, numbers, COMPLETED_ALL, all_, known + unknown, "known plus unknown clock starts")
        _check(path, numbers, COMPLETED_WITHIN, within, within_bands, "the sum of the first 18 bands")
    else:
        total, within = counts[:, nb : nb + 2].T
        unknown = np.zeros(len(kept))
        _check(path, numbers, INCOMPLETE_TOTAL, total, known, "the sum of the bands")
        _check(path, numbers, INCOMPLETE_WITHIN, within, within_bands, "the sum of the first 18 bands")
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
    return _frame(keys, out, numbers)


def _month_of(path: Path, number: int, text: str) -> str:
    s = text.strip()
    named = PERIOD_NAMED.fullmatch(s)
    if named is not None and named.group(1)[:3].lower() in MONTHS:
        return f"{named.group(2)}-{MONTHS.index(named.group(1)[:3].lower()) + 1:02d}"
    iso = PERIOD_ISO.fullmatch(s)
    if iso is not None and 1 <= int(iso.group(2)) <= 12:
        return f"{iso.group(1)}-{iso.group(2)}"
    raise ReturnsError(path, f"{text!r} is not a month (RTT-February-2015 or 2015-02)", row=number, column=PERIOD)


def _read_extract(
    path: Path,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    wanted: set[str] | None,
    functions: set[str] | None,
) -> pd.DataFrame:
    pos = _require(path, header, [PERIOD, COMMISSIONER, PART_TYPE, TF_CODE, *EXTRACT_BANDS, TOTAL, UNKNOWN, TOTAL_ALL])
    code_at = _commissioner_column(path, header)
    kept = []
    keys = []
    for number, record in rows:
        code = record[code_at].strip().upper()
        if wanted is not None and code not in wanted:
            continue
        tf = _function(record[pos[TF_CODE]])
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

    counts = _counts(path, kept, pos, [*EXTRACT_BANDS, UNKNOWN, TOTAL_ALL, TOTAL])
    nb = len(EXTRACT_BANDS)
    banded = np.array([key[3] != "clock_starts" for key in keys], dtype=bool)
    numbers = [n for n, _ in kept]
    known = counts[:, :nb].sum(axis=1)
    # Total is left blank where it is not collected (incomplete pathways, clock starts).
    given = banded & (_cells(kept, pos, [TOTAL])[:, 0] != "")
    _check(path, numbers, TOTAL, np.where(given, counts[:, nb + 2], known), known, "the sum of the bands")
    all_ = np.where(banded, counts[:, nb + 1], 0.0)
    _check(path, numbers, TOTAL_ALL, all_, np.where(banded, known + counts[:, nb], 0.0), "the bands plus unknown clock starts")

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
    return _frame(list(groups), out, firsts)


def _frame(keys: list[tuple[str, str, str, str]], values: np.ndarray, numbers: list[int]) -> pd.DataFrame:
    """Rows keyed by (month, commissioner, function, part), with the file row each came from."""
    names = list(COLUMNS[:4])
    index = pd.MultiIndex.from_tuples(keys, names=names) if keys else pd.MultiIndex.from_arrays([[]] * 4, names=names)
    frame = pd.DataFrame(values.reshape(len(keys), len(COLUMNS) - 4), index=index, columns=list(COLUMNS[4:]))
    frame["_row"] = numbers
    return frame
