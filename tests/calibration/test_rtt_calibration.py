"""The bundled scenarios' waits against the published RTT returns they were calibrated to.

Bedfordshire's prime design against Bedfordshire CCG (06F), December 2014 to February 2015;
its fragmented design in its own era (``bedfordshire_2010.toml``) against Bedfordshire PCT
(5P2), December 2009 to February 2010, and carried forward to the contract's first year
(``bedfordshire.toml``'s fragmented design, the same months five years on, against 5P2's
waits); Oldham's hub against Oldham CCG (00Y), December 2014 to February 2015: trauma and
orthopaedics (110), the mean of the three months, within the targets (share within 18 weeks
5 points, median 2 weeks, counts 15%). The targets the bundled scenarios do not meet are in
the Calibration page (docs/calibration.md), with why; they are not asserted here.
"""

from __future__ import annotations

import pytest

from sim.calibrate.area import read_published
from sim.calibrate.fit import Fitter, mean_statistics, published_statistics
from sim.runs.executors import make_executor
from sim.scenario.loading import load_scenario
from tests.conftest import ROOT

RTT = ROOT / "data" / "rtt"
REPS = 4
CASES = {  # file, design, commissioner, era of the returns, years between them and the run
    "prime": ("bedfordshire.toml", "prime", "06F", "ccg", 0),
    "fragmented_2009_10": ("bedfordshire_2010.toml", "fragmented", "5P2", "pct", 0),
    "fragmented_carried": ("bedfordshire.toml", "fragmented", "5P2", "pct", 5),
    "oldham": ("oldham.toml", "prime", "00Y", "ccg", 0),
}
STATISTICS = ["per_month", "within_18w_pct", "median_weeks"]


@pytest.fixture(scope="module")
def beside() -> dict[str, object]:
    out = {}
    executor = make_executor(2)
    try:
        for name, (file, design, commissioner, era, shift) in CASES.items():
            s = load_scenario(ROOT / "scenarios" / file)
            functions = ["110", "X01"] if name == "prime" else ["110"]
            table = read_published(sorted(RTT.glob(f"rtt-commissioner-{era}-*.csv")), commissioner, functions)
            published = published_statistics(table)
            months = {m: f"{int(m[:4]) + shift}{m[4:]}" for m in sorted(set(published["month"]))}
            fitter = Fitter(s, design, [], published, months, executor, REPS, fixed={"run.years": 1})
            simulated = mean_statistics(fitter.simulate([{}])[0])
            keys = ["treatment_function", "part"]
            out[name] = (
                published.groupby(keys)[STATISTICS].mean().loc["110"],
                simulated.groupby(keys)[STATISTICS].mean(),
            )
    finally:
        executor.close()
    return out


TARGETS = [  # (case, part, statistic): the targets the calibrated scenarios meet with room to spare
    ("prime", "admitted", "per_month"),
    ("prime", "admitted", "within_18w_pct"),
    ("prime", "admitted", "median_weeks"),
    ("prime", "incomplete", "within_18w_pct"),
    ("prime", "nonadmitted", "per_month"),
    ("prime", "nonadmitted", "within_18w_pct"),
    ("prime", "nonadmitted", "median_weeks"),
    ("fragmented_2009_10", "admitted", "per_month"),
    ("fragmented_2009_10", "admitted", "within_18w_pct"),
    ("fragmented_2009_10", "admitted", "median_weeks"),
    ("fragmented_2009_10", "incomplete", "per_month"),
    ("fragmented_2009_10", "incomplete", "median_weeks"),
    ("fragmented_2009_10", "nonadmitted", "per_month"),
    ("fragmented_2009_10", "nonadmitted", "within_18w_pct"),
    ("fragmented_2009_10", "nonadmitted", "median_weeks"),
    ("fragmented_carried", "admitted", "within_18w_pct"),
    ("fragmented_carried", "admitted", "median_weeks"),
    ("fragmented_carried", "incomplete", "median_weeks"),
    ("fragmented_carried", "nonadmitted", "within_18w_pct"),
    ("fragmented_carried", "nonadmitted", "median_weeks"),
    ("oldham", "admitted", "within_18w_pct"),
    ("oldham", "admitted", "median_weeks"),
    ("oldham", "incomplete", "per_month"),
    ("oldham", "incomplete", "within_18w_pct"),
    ("oldham", "nonadmitted", "within_18w_pct"),
    ("oldham", "nonadmitted", "median_weeks"),
]


@pytest.mark.parametrize(("case", "part", "statistic"), TARGETS)
@pytest.mark.slow
def test_calibrated_waits_meet_the_target(beside, case: str, part: str, statistic: str) -> None:
    published, simulated = beside[case]
    pub, sim = published.loc[part, statistic], simulated.loc[("110", part), statistic]
    if statistic == "per_month":
        assert abs(sim / pub - 1) <= 0.15, f"{case} {part}: {sim:.0f} a month against {pub:.0f} published"
    elif statistic == "within_18w_pct":
        assert abs(sim - pub) <= 5, f"{case} {part}: {sim:.1f}% within 18 weeks against {pub:.1f}%"
    else:
        assert abs(sim - pub) <= 2, f"{case} {part}: median {sim:.1f} weeks against {pub:.1f}"


@pytest.mark.slow
def test_the_prime_hub_reports_no_more_clocks_under_other_than_the_returns_allow(beside) -> None:
    """06F's Other (X01) non-admitted clock stops rose about 650-700 a month above their 2009/10
    trend: the prime's hub may add about that, not a third more (docs/calibration.md)."""
    _, simulated = beside["prime"]
    assert 300 <= simulated.loc[("X01", "nonadmitted"), "per_month"] <= 930


def test_the_prime_as_delivered_admits_the_share_the_returns_show(beside) -> None:
    """Target 4, as delivered: admitted pathways 40-50% of T&O clock stops (06F: 44.5%)."""
    _, simulated = beside["prime"]
    admitted, nonadmitted = (simulated.loc[("110", part), "per_month"] for part in ("admitted", "nonadmitted"))
    assert 0.40 <= admitted / (admitted + nonadmitted) <= 0.50
