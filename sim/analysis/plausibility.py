"""Warnings for valid but strange inputs: each names the key and says what is usual.

A scenario can pass every check and still describe no real place: a population typed with
a zero too many, no referrals at all, a backlog patient who has waited half a century.
These are not errors (a study may mean them), so the commands warn and go on.
"""

from __future__ import annotations

from sim.scenario.backlog import PLAUSIBLE_WAIT_WEEKS, parse_band
from sim.scenario.schema import Scenario

REFERRALS_PER_1000: tuple[float, float] = (90.0, 115.0)
"""MSK referrals a year per 1,000 people in English areas (the bundled scenarios' sources)."""
FAR: float = 2.0
"""How many times outside that range a rate is warned of."""


def warnings(s: Scenario) -> list[str]:
    """What is strange about a valid scenario, one sentence each, naming the key."""
    out: list[str] = []
    d = s.demand
    total = d.referrals_per_year + d.self_referral.per_year + d.outside_contract.per_year
    if total == 0:
        out.append(
            "demand.referrals_per_year: 0, and no self-referrals or care outside the contract: no patient will enter the pathway"
        )
    else:
        rate = 1000 * d.referrals_per_year / s.population
        low, high = REFERRALS_PER_1000
        if d.referrals_per_year > 0 and not low / FAR <= rate <= high * FAR:
            out.append(
                f"demand.referrals_per_year: {d.referrals_per_year:,.0f} for a population of {s.population:,} is "
                f"{rate:,.1f} per 1,000 a year; English areas make {low:.0f}–{high:.0f}: check it and population"
            )
    out += _long_backlog_waits(s)
    return out


def _long_backlog_waits(s: Scenario) -> list[str]:
    b = s.backlog
    if b is None:
        return []
    years = PLAUSIBLE_WAIT_WEEKS // 52
    out = []
    long_rows = [i for i, row in enumerate(b.patients, start=1) if row["weeks"] > PLAUSIBLE_WAIT_WEEKS]
    if long_rows:
        shown = ", ".join(map(str, long_rows[:5])) + (" …" if len(long_rows) > 5 else "")
        out.append(f"backlog.file: {len(long_rows):,} patient(s) waiting over {years} years (rows {shown}): check weeks_waited")
    for stage, bands in b.stages.items():
        for band in bands:
            if parse_band(band)[1] > PLAUSIBLE_WAIT_WEEKS:
                out.append(f'backlog.stages.{stage}."{band}": a band reaching past {years} years')
    return out
