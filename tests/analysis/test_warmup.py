"""The warm-up check: MSER-5 on series with a known transient, and demand growth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.warmup import analyse, moving_average, mser, verdicts


def transient(n: int, settle: float, seed: int = 0) -> np.ndarray:
    """A list filling from empty towards 100, settled after about 3 × ``settle`` weeks, with noise."""
    t = np.arange(n)
    return 100 * (1 - np.exp(-t / settle)) + np.random.default_rng(seed).normal(0, 2, n)


def test_mser_finds_the_end_of_a_start_up_transient() -> None:
    cut = mser(transient(300, settle=15))
    assert 25 <= cut <= 80  # 3-5 time constants: where the fill-up stops dominating the noise


def test_mser_keeps_a_stationary_series_whole() -> None:
    assert mser(np.random.default_rng(1).normal(50, 3, 300)) <= 15


def series(values: np.ndarray, design: str = "prime") -> pd.DataFrame:
    return pd.DataFrame({"point": 0, "design": design, "day": 7 * np.arange(len(values)), "in_system": values})


def test_growth_in_demand_is_not_taken_for_a_transient() -> None:
    """Six years of weekly counts: a 20-week fill-up, then 6% demand growth a year. Judged raw,
    the rising series pushes the truncation point late; per unit of demand it does not."""
    weeks = 6 * 52
    days = 7 * np.arange(weeks)
    warm = 365
    level = transient(weeks, settle=6, seed=3) * 1.06 ** ((days - warm) / 365.25)
    raw = analyse(series(level), warm)["mser_truncation_day"].iloc[0]
    adjusted = analyse(series(level), warm, growth=0.06)["mser_truncation_day"].iloc[0]
    assert adjusted < warm < raw
    assert verdicts(analyse(series(level), warm))  # raw: warns
    assert not verdicts(analyse(series(level), warm, growth={0: 0.06}))


def test_moving_average_is_centred_and_keeps_length() -> None:
    y = np.arange(10, dtype=float)
    m = moving_average(y, 2)
    assert len(m) == 10 and m[0] == 0 and m[5] == 5 and m[-1] == 9


def test_the_warning_says_what_it_means_for_the_numbers_and_what_to_do() -> None:
    """A warm-up ending before the lists settle: the warning names the contract years it touches,
    which way their numbers lean, the warm-up to try, and where to see whether it is a trend."""
    weeks = 6 * 52
    level = transient(weeks, settle=40, seed=5)  # settles over about two years
    (msg,) = verdicts(analyse(series(level, "fragmented"), 365))
    cut = int(analyse(series(level, "fragmented"), 365)["mser_truncation_day"].iloc[0])
    assert "design 'fragmented'" in msg and f"day {cut}" in msg
    assert "read low on lists and waits" in msg and "contract year" in msg
    assert f"--set run.warmup_days={365 * -(-cut // 365)}" in msg
    assert "warmup.png" in msg
