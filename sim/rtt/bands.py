"""The NHS's weeks-waited bands and the statistics it computes from them.

RTT returns count pathways by weeks waited in one-week bands: ``0-1`` (up to and including
one week, a wait of 0 days included), ``1-2`` (more than one week, up to and including two)
… ``103-104``, and the open band ``104+`` (more than 104 weeks). A wait of exactly 18 weeks
(126 days) is in band ``17-18``: within the 18-week standard, as the returns count it.

The published median and 95th percentile are read from those counts by linear
interpolation inside the band where the percentile falls (see :func:`percentile`); the
published share within 18 weeks is the first 18 bands over all the banded pathways (see
:func:`within_pct`). Both reproduce the NHS England commissioner returns of December 2014 to
February 2015 (tests/rtt/test_rtt_read.py).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

OPEN_BAND: Final = 104
"""The first week of the open band ``104+``."""

BAND_LABELS: Final = (*(f"{k}-{k + 1}" for k in range(OPEN_BAND)), f"{OPEN_BAND}+")
"""Column names of the week bands, in order."""

N_BANDS: Final = len(BAND_LABELS)
STANDARD_WEEKS: Final = 18
"""The operational standard: treatment within 18 weeks of referral."""


def band_of(weeks: float) -> int:
    """The band index of a wait of ``weeks``.

    Band ``k`` holds waits of more than ``k`` and at most ``k + 1`` weeks (band 0 also holds
    waits of zero or less); waits over :data:`OPEN_BAND` weeks are in the open band.

    Parameters
    ----------
    weeks
        The wait, in weeks (days / 7).

    Returns
    -------
    int
        An index into :data:`BAND_LABELS`.
    """
    if not weeks > 0:  # zero, negative or NaN
        return 0
    return min(math.ceil(weeks) - 1, OPEN_BAND)


def band_counts(weeks: np.ndarray) -> np.ndarray:
    """Counts by band of waits given in weeks, banded as :func:`band_of` bands them.

    Parameters
    ----------
    weeks
        Waits in weeks, any shape; NaN counts as a wait of zero.

    Returns
    -------
    numpy.ndarray
        Integer counts, length :data:`N_BANDS`.
    """
    w = np.nan_to_num(np.asarray(weeks, dtype=float), nan=0.0).ravel()
    idx = np.clip(np.ceil(w) - 1.0, 0.0, float(OPEN_BAND)).astype(np.int64)
    return np.bincount(idx, minlength=N_BANDS)


def percentile(counts: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0..1) of waits counted by band, as the NHS computes it.

    The pathways are ranked by wait; the quantile is the wait of the pathway at a *position*
    among the ``n`` counted, read by linear interpolation inside its band, every band one
    week wide (the last one too: a position in the open band ``k+`` gives ``k`` plus the
    fraction of the band's count reached)::

        value = k + (position - pathways in bands before k) / pathways in band k

    where ``k`` is the first band whose cumulative count reaches the position. The NHS takes
    the median at position ``(n + 1) / 2`` and the 95th percentile at ``0.95 n``; for every
    ``q`` other than 0.5 this function takes position ``q n``.

    This reproduces the medians and 95th percentiles NHS England published in its
    commissioner-based returns of December 2014 to February 2015, from their own week bands
    (unknown clock starts left out): 24,336 of 24,381 published medians and 24,336 of
    24,357 published 95th percentiles agree to 1e-9 weeks (99.8% and 99.9%; only the
    last binary digit differs in 18 medians). Every disagreeing value belongs to one
    commissioner's first eight treatment functions (NHS East Surrey CCG, 09L, functions
    100 to 160, in all nine files), whose published statistics follow from no convention
    tried; no other area's do. The NHS publishes a median or 95th percentile only when at
    least 50 pathways are counted (``-`` otherwise).

    Parameters
    ----------
    counts
        Pathways by band (non-negative, finite); for a return whose open band starts
        earlier (``52 plus`` in 2009 to 2015), put its count in the band where it starts
        and zeros after it, as :func:`sim.rtt.returns.returns_for` does.
    q
        The quantile, in [0, 1].

    Returns
    -------
    float
        Weeks; NaN when nothing is counted.

    Raises
    ------
    ValueError
        ``q`` outside [0, 1], or a count negative or not finite.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q!r} is not in [0, 1]")
    c = np.asarray(counts, dtype=float).ravel()
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("band counts must be finite and non-negative")
    if c.size == 0:
        return float("nan")
    cum = np.cumsum(c)
    n = float(cum[-1])
    if n <= 0:
        return float("nan")
    position = min((n + 1.0) / 2.0 if q == 0.5 else q * n, n)
    if position <= 0.0:  # q = 0: the lower edge of the first band counted
        return float(np.flatnonzero(c)[0])
    k = int(np.searchsorted(cum, position, side="left"))
    before = float(cum[k] - c[k])
    return float(k + (position - before) / c[k])


def within_pct(counts: np.ndarray, weeks: int = STANDARD_WEEKS) -> float:
    """Percentage of pathways in the first ``weeks`` bands: waits of at most ``weeks`` weeks.

    With the default 18 this is the published ``% within 18 weeks``: the first 18 bands over
    all banded pathways (pathways with an unknown clock start are not banded and not
    counted). NaN if nothing is counted.

    Parameters
    ----------
    counts
        Pathways by band.
    weeks
        The standard, in whole weeks.

    Returns
    -------
    float
        Percent, 0 to 100.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    return float(100.0 * counts[:weeks].sum() / total) if total > 0 else float("nan")
