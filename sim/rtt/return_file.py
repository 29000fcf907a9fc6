"""A return as a CSV file: its header and numbered rows, its cells read as counts or as
published statistics, a published total checked against its parts, the header names that tell
the two formats apart, and the frame both are read into (:mod:`sim.rtt.returns`).

Every problem is a :class:`ReturnsError` naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import numpy as np

from sim.base.files import MAX_DATA_BYTES, FileProblem, read_bytes
from sim.base.lazy import later
from sim.rtt.bands import BAND_LABELS

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
"""The columns of :func:`sim.rtt.returns.read_returns`'s frame, in order."""

# Header names that tell the formats apart (and where a row's commissioner is).
TF_CODE: Final = "Treatment Function Code"
UNKNOWN: Final = "Patients with unknown clock start date"
COMMISSIONER: Final = "Commissioner Org Code"
PART_TYPE: Final = "RTT Part Type"

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


def read_csv(path: Path, header_only: bool = False) -> tuple[list[str], list[tuple[int, list[str]]]]:
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


def require(path: Path, header: list[str], columns: Iterable[str]) -> dict[str, int]:
    """The position of each column needed; ReturnsError for the first missing."""
    pos = {name: i for i, name in reversed(list(enumerate(header)))}
    for name in columns:
        if name not in pos:
            raise ReturnsError(path, "missing from the header", column=name)
    return pos


def cell_text(rows: list[tuple[int, list[str]]], pos: dict[str, int], columns: list[str]) -> np.ndarray:
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


def read_counts(path: Path, rows: list[tuple[int, list[str]]], pos: dict[str, int], columns: list[str]) -> np.ndarray:
    """Counts, rows × columns; blank and ``-`` are 0. ReturnsError names the first bad cell."""
    cells = cell_text(rows, pos, columns)
    values = _numbers(cells, 0.0)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ReturnsError(path, f"{str(cells[i, j])!r} is not a count", row=rows[i][0], column=columns[j])
    return values


def read_statistics(path: Path, rows: list[tuple[int, list[str]]], pos: dict[str, int], columns: list[str]) -> np.ndarray:
    """Published statistics, rows × columns: NaN for blank or ``-``."""
    cells = cell_text(rows, pos, columns)
    values = _numbers(cells, np.nan)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (values < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ReturnsError(path, f"{str(cells[i, j])!r} is not a number of weeks or a share", row=rows[i][0], column=columns[j])
    return values


def function_code(code: str) -> str:
    """A treatment function code without the extract's ``C_`` prefix."""
    code = code.strip().upper()
    return code[2:] if code.startswith("C_") else code


def check_total(path: Path, numbers: list[int], column: str, published: np.ndarray, computed: np.ndarray, what: str) -> None:
    """ReturnsError at the first row where a published total is not what its parts add up to."""
    differ = np.flatnonzero(published != computed)
    if differ.size:
        i = differ[0]
        problem = f"{published[i]:g} published, but {what} is {computed[i]:g}"
        raise ReturnsError(path, problem, row=numbers[i], column=column)


def commissioner_column(path: Path, header: list[str]) -> int:
    """Where a return's commissioner code is: the extract's named column, or, in a
    commissioner-based return, two columns before the treatment function's code."""
    if PART_TYPE in header:
        return require(path, header, [COMMISSIONER])[COMMISSIONER]
    at = require(path, header, [TF_CODE])[TF_CODE] - 2
    if at < 0 or not header[at].endswith("Code"):
        raise ReturnsError(path, "the commissioner's code must be two columns before it", column=TF_CODE)
    return at


def frame(keys: list[tuple[str, str, str, str]], values: np.ndarray, numbers: list[int]) -> pd.DataFrame:
    """Rows keyed by (month, commissioner, function, part), with the file row each came from."""
    names = list(COLUMNS[:4])
    index = pd.MultiIndex.from_tuples(keys, names=names) if keys else pd.MultiIndex.from_arrays([[]] * 4, names=names)
    frame = pd.DataFrame(values.reshape(len(keys), len(COLUMNS) - 4), index=index, columns=list(COLUMNS[4:]))
    frame["_row"] = numbers
    return frame
