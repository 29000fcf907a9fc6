"""Each list over the month: the month's mean is the mean of the daily counts, and shows a short
list as it is rather than by where the month end falls."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.model import recorder
from sim.model.pathway import Pathway
from sim.report import charts
from tests.conftest import bundled, from_the_sources


def counted_year() -> dict:
    """A year of the bundled prime design: its month-end rows, and every day's lists as counted
    independently (by wrapping the recorder's methods, which only the interpreted model allows)."""
    daily: dict[int, list[int]] = {}
    at, finish = recorder.Recorder.at, recorder.Recorder.finish

    def counting(self: recorder.Recorder, day: int) -> None:
        at(self, day)  # the month end's count is taken after its removals, so count after it
        daily[day] = [c.waiting for c in self.stages.values()] + [self.theatre.size]

    def finishing(self: recorder.Recorder, day: int) -> None:  # the last day, which SimPy does not reach
        finish(self, day)
        daily[day] = [c.waiting for c in self.stages.values()] + [self.theatre.size]

    recorder.Recorder.at, recorder.Recorder.finish = counting, finishing
    try:
        model = Pathway(bundled("run.years=1"), "prime", 0)
        model.run()
    finally:
        recorder.Recorder.at, recorder.Recorder.finish = at, finish
    rec = model.recorder
    return json.loads(json.dumps({"columns": rec.monthly_columns, "monthly": rec.monthly, "daily": daily}))


@pytest.fixture(scope="module")
def prime_year() -> tuple[pd.DataFrame, dict[int, list[int]]]:
    data = from_the_sources(counted_year)
    daily = {int(day): counts for day, counts in data["daily"].items()}
    assert len(daily) > 300, "every day was counted"
    return pd.DataFrame(data["monthly"], columns=data["columns"]), daily


@pytest.mark.slow
def test_the_month_mean_is_the_mean_of_the_days(prime_year) -> None:
    monthly, daily = prime_year
    names = [c.removesuffix("_waiting_mean") for c in monthly.columns if c.endswith("_waiting_mean")]
    assert "triage" in names and "theatre" in names
    ends = monthly["day"].tolist()
    starts = [ends[0] - 30, *ends[:-1]]  # the first month of the contract: April, 30 days
    for start, end, (_, row) in zip(starts, ends, monthly.iterrows(), strict=True):
        days = [d for d in daily if start < d <= end]
        assert len(days) in (28, 29, 30, 31)
        expected = np.mean([daily[d] for d in days], axis=0)
        got = row[[f"{n}_waiting_mean" for n in names]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert row[[f"{n}_waiting" for n in names]].tolist() == daily[end]


@pytest.mark.slow
def test_triage_after_a_bank_holiday_does_not_make_the_month(prime_year) -> None:
    """Triage keeps up from day to day, so its list is empty most mornings but for a week after
    a bank holiday; a month ending in such a week counts hundreds at its end."""
    monthly, _ = prime_year
    ends, means = monthly["triage_waiting"], monthly["triage_waiting_mean"]
    assert (ends == 0).sum() >= 6, "most month ends find triage's list empty"
    assert ends.max() > 300, "and a month ending just after Christmas does not"
    assert means.max() < ends.max() / 2
    assert np.ptp(means) < np.ptp(ends) / 2


def test_the_report_charts_the_month_means(prime_year) -> None:
    monthly, _ = prime_year
    table = monthly.assign(design="prime", replication=0)
    fig = charts.waiting_lists(table, ["triage", "physio"], ["prime"], warmup_days=365)
    triage = fig.axes[0]
    assert triage.get_title() == "Triage"
    np.testing.assert_allclose(triage.lines[0].get_ydata(), monthly["triage_waiting_mean"])
    assert "mean over each month" in fig.texts[0].get_text()
    plt.close(fig)
