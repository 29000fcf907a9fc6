"""A run's RTT returns as a table: its columns, a compact form to hold many runs, the statistics per row.

A run returns rows ``[month, year, treatment_function, part, c0, …, c104]``: the month
("YYYY-MM"), the contract year, the treatment function's code (text: "110", "X01"), the
part of the return, and the counts by week band of :data:`sim.rtt.bands.BAND_LABELS`. Rows
of year 0, the incomplete pathways the contract starts with, open the balance of the first
month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from sim.base.lazy import later
from sim.rtt.bands import BAND_LABELS, N_BANDS, percentile, within_pct

pd = later("pandas")

KEYS: Final = ("month", "year", "treatment_function", "part")
"""The columns naming a row of a return, in order, before the band counts."""
PARTS: Final = ("incomplete", "admitted", "nonadmitted", "clock_starts", "removals", "transfers_in", "transfers_out")
"""The parts of a return, in the order they are shown."""
WAITED: Final = ("incomplete", "admitted", "nonadmitted", "removals")
"""The parts whose bands are weeks waited (clock starts and transfers have no wait to describe)."""
STATISTICS: Final = ("total", "within_18w_pct", "median_weeks", "p95_weeks")
"""What ``rtt_returns.csv`` adds after the bands of each row."""


@dataclass(frozen=True)
class Packed:
    """One run's returns held compactly.

    ``keys`` holds, per row, the codes of month, treatment function and part in a
    :class:`Codebook` and the contract year; ``counts`` the counts of the first bands only
    (the later ones are all zero), in the smallest integer type that holds them. A run of
    five years keeps tens of kilobytes this way (about 300 at most, with waits past two
    years), where its rows as lists of Python ints take over a megabyte.
    """

    keys: np.ndarray
    """Rows × 4 int32: month code, year, treatment function code, part code."""
    counts: np.ndarray
    """Rows × width: the counts of bands ``0 .. width - 1``."""

    @property
    def nbytes(self) -> int:
        """The memory the arrays hold."""
        return int(self.keys.nbytes + self.counts.nbytes)


class Codebook:
    """Numbers for the texts of returns (months, treatment functions, parts), shared by every run of a batch."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._codes: dict[str, int] = {}

    def code(self, text: Any) -> int:
        key = str(text)
        found = self._codes.get(key)
        if found is None:
            found = self._codes[key] = len(self.texts)
            self.texts.append(key)
        return found

    def pack(self, rows: Sequence[Sequence[Any]]) -> Packed:
        """One run's rows, compactly. A row may stop before the last band: the counts it
        leaves out are zero (the model drops trailing zeros, which keeps journals small).

        Raises
        ------
        ValueError
            When a row is not four keys and at most a count per band.
        """
        bad = next((i for i, r in enumerate(rows) if not len(KEYS) <= len(r) <= len(KEYS) + N_BANDS), None)
        if bad is not None:
            raise ValueError(
                f"RTT returns row {bad}: {len(rows[bad])} values, expected {len(KEYS)} keys and up to {N_BANDS} bands"
            )
        keys = np.array([(self.code(r[0]), int(r[1]), self.code(r[2]), self.code(r[3])) for r in rows], dtype=np.int32)
        counts = np.zeros((len(rows), N_BANDS), dtype=np.int64)
        for i, r in enumerate(rows):
            counts[i, : len(r) - len(KEYS)] = r[len(KEYS) :]
        used = np.flatnonzero(counts.any(axis=0))
        width = int(used[-1]) + 1 if used.size else 0
        counts = counts[:, :width]
        if counts.size and counts.min() >= 0:
            counts = counts.astype(np.min_scalar_type(int(counts.max())))
        return Packed(keys.reshape(len(rows), len(KEYS)), counts)

    def unpack(self, packs: Sequence[Packed]) -> pd.DataFrame:
        """Runs' rows as one frame: the keys (text as text), then a column per band, int32."""
        n = sum(len(p.keys) for p in packs)
        counts = np.zeros((n, N_BANDS), dtype=np.int32)
        keys = np.zeros((n, len(KEYS)), dtype=np.int32)
        at = 0
        for p in packs:
            rows, width = p.counts.shape
            counts[at : at + rows, :width] = p.counts
            keys[at : at + rows] = p.keys
            at += rows
        texts = np.array(self.texts, dtype=object)
        frame = pd.DataFrame(counts, columns=list(BAND_LABELS))
        for i, name in enumerate(KEYS):
            values = keys[:, i]
            column = pd.Series(values, dtype=np.int64) if name == "year" else pd.Series(texts[values], dtype=str)
            frame.insert(i, name, column)
        return frame


def with_statistics(returns: pd.DataFrame) -> pd.DataFrame:
    """The returns with ``total`` per row, and for waited parts the percentage within 18 weeks,
    the median and the 95th percentile (the NHS's, by :mod:`sim.rtt.bands`); NaN for the rest."""
    out = returns.copy()
    if out.empty:
        for name in STATISTICS:
            out[name] = pd.Series(dtype=float)
        return out
    counts = out[list(BAND_LABELS)].to_numpy()
    waited = out["part"].isin(WAITED).to_numpy()
    stats = np.full((len(out), 3), np.nan)
    for i in np.flatnonzero(waited):
        row = counts[i]
        stats[i] = within_pct(row), percentile(row, 0.5), percentile(row, 0.95)
    out["total"] = counts.sum(axis=1, dtype=np.int64)
    out["within_18w_pct"], out["median_weeks"], out["p95_weeks"] = stats[:, 0], stats[:, 1], stats[:, 2]
    return out
