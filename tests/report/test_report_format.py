"""Figures in the report as the terminal gives them: rates as percentages, prices per head to the penny."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.report.bid_section import bid_tables
from sim.report.labels import value_text
from sim.report.terminal import pence


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("param.finance.inflation.tariff", -0.01, "-1.0%"),
        ("param.finance.inflation.pay", 0.025, "2.5%"),
        ("finance.inflation.tariff", 0.0, "0.0%"),
        ("param.stages.physio.tariff_first", 42.0, "£42"),  # a tariff is a price: still in pounds
    ],
)
def test_inflation_is_a_percentage_a_year_not_a_price(key: str, value: float, shown: str) -> None:
    assert value_text(key, value) == shown


def test_the_safe_price_per_head_is_given_to_the_penny() -> None:
    bs = pd.DataFrame(
        [
            {"metric": "safe_price_per_head_gbp", "year": "all", "mean": 52.33, "ci_low": 51.874, "ci_high": 52.915},
            {"metric": "bid_per_head_gbp", "year": "all", "mean": 55.0, "ci_low": float("nan"), "ci_high": float("nan")},
            {"metric": "safe_price_year1_gbp", "year": "all", "mean": 23.02e6, "ci_low": 22.8e6, "ci_high": 23.3e6},
        ]
    )
    html = bid_tables(bs)
    assert "£52.33" in html and "£51.87 to £52.91" in html and "£55.00" in html
    assert pence(52.33) == "£52.33"
    assert "£23.02m" in html, "a whole-contract sum stays in millions"
