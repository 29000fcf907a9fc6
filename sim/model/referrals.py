"""Who is referred, and when: GP referrals drawn for the whole run, self-referrals, and care
outside the MSK contract.

Each comes from its own stream only, so every design of a replication sees exactly the
same people on the same days (common random numbers).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final, cast

import numpy as np

from sim.base.streams import Streams, patient_keys
from sim.model.draws import Choice
from sim.scenario.schema import NEEDS, Scenario

Referral = tuple[int, str, bool, int, float, float, float]
"""(condition, need, urgent, patient key, u_gp, u_triage, u_surgery)."""


def horizon_days(scenario: Scenario) -> int:
    """Days from the contract start to the end of its last year."""
    start = scenario.run.start_date
    end = start.replace(year=start.year + scenario.run.years)
    return (end - start).days


def draw_referrals(scenario: Scenario, streams: Streams, first_day: date, days: int) -> list[list[Referral]]:
    """All GP referrals of a run, day by day.

    Drawn in whole-run blocks from the ``arrivals`` and ``patients`` streams only.
    """
    dem = scenario.demand
    season = np.asarray(dem.seasonality, dtype=float)
    season = season / season.mean()
    start = scenario.run.start_date
    offsets = np.arange(days) - (start - first_day).days
    day = np.datetime64(first_day, "D") + np.arange(days)
    month = day.astype("datetime64[M]").astype(np.int64) % 12  # January 0, as date.month - 1
    working = (day.astype(np.int64) + 3) % 7 < dem.referral_working_days  # 1970-01-01 was a Thursday (3)
    per_day = dem.gp_referrals_per_year / (365.25 * dem.referral_working_days / 7.0)
    lam = per_day * season[month] * (1.0 + dem.growth) ** (offsets / 365.25) * working
    counts = streams.rng["arrivals"].poisson(lam)
    n = int(counts.sum())
    rng = streams.rng["patients"]
    u = rng.random((n, 6))
    keys = patient_keys(rng, n)
    conds = list(dem.conditions.values())
    cond_cum = np.cumsum([c.share for c in conds])
    cond_cum[-1] = 1.0
    cond = np.searchsorted(cond_cum, u[:, 0], side="right")
    cond_list = cast(list[int], cond.tolist())  # numpy's stubs take this for a scalar
    need_idx: np.ndarray = np.empty(n, dtype=int)
    needs: tuple[str, ...] = NEEDS  # typed: compiled, indexing it is then native
    for index, condition in enumerate(conds):
        mask = cond == index
        cum = np.cumsum([condition.need.get(k, 0.0) for k in NEEDS])
        cum[-1] = 1.0
        need_idx[mask] = np.searchsorted(cum, u[mask, 1], side="right")
    urgent = u[:, 2] < dem.urgent_share
    rows = list(
        zip(
            cond_list,
            [needs[i] for i in need_idx.tolist()],
            urgent.tolist(),
            keys,
            u[:, 3].tolist(),
            u[:, 4].tolist(),
            u[:, 5].tolist(),
            strict=True,
        )
    )
    out: list[list[Referral]] = []
    pos = 0
    for c in counts.tolist():
        out.append(rows[pos : pos + c])
        pos += c
    return out


SELF_REFERRAL: Final = "self-referral"
OUTSIDE_CONTRACT: Final = "outside the contract"
"""Where direct referrals come from, as the flow diagram names them."""


class DirectReferrals:
    """Patients referred straight to one service, day by day, from a stream of their own.

    Two sources work this way: people who refer themselves (direct access), and care the
    commissioner buys outside the MSK contract (``outside``). Neither sees the GP or triage
    first. Referrals come on the days GPs refer, none urgent, at a rate that grows by
    ``growth`` a year from the contract start.
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: np.random.Generator,
        first_day: date,
        place: str,
        stage: str,
        per_year: float,
        growth: float,
        need: dict[str, float],
        conditions: dict[str, float] | None = None,
        outside: bool = False,
    ):
        dem = scenario.demand
        self.place = place
        self.stage = stage
        self.outside = outside
        self.rng = rng
        self.first_day = first_day
        self.working_days = dem.referral_working_days
        self.growth = growth
        self.per_day = per_year / (365.25 * dem.referral_working_days / 7.0)
        self.start = (scenario.run.start_date - first_day).days
        index = {name: i for i, name in enumerate(dem.conditions)}
        shares = conditions if conditions is not None else {name: c.share for name, c in dem.conditions.items()}
        self.conditions = Choice({str(index[name]): share for name, share in shares.items()})
        self.needs = Choice(need)

    def today(self, day: int) -> list[Referral]:
        """The day's referrals (none on the days GPs do not refer)."""
        if (self.first_day + timedelta(days=day)).weekday() >= self.working_days:
            return []
        lam = self.per_day * (1.0 + self.growth) ** ((day - self.start) / 365.25)
        rng = self.rng
        n = int(rng.poisson(lam))
        u, keys = rng.random((n, 5)).tolist(), patient_keys(rng, n)
        return [(int(self.conditions(a)), self.needs(b), False, k, c, d, e) for (a, b, c, d, e), k in zip(u, keys, strict=True)]


def self_referrals(scenario: Scenario, streams: Streams, first_day: date) -> DirectReferrals | None:
    """People who refer themselves to a service (``demand.self_referral``); None when there are none."""
    dem, sr = scenario.demand, scenario.demand.self_referral
    if sr.per_year <= 0:
        return None
    rng = streams.rng["self_referral"]
    return DirectReferrals(scenario, rng, first_day, SELF_REFERRAL, sr.stage, sr.per_year, dem.growth, sr.need)


def outside_contract(scenario: Scenario, streams: Streams, first_day: date) -> DirectReferrals | None:
    """Care outside the MSK contract (``demand.outside_contract``); None when there is none."""
    oc = scenario.demand.outside_contract
    if oc.per_year <= 0:
        return None
    rng = streams.rng["outside_contract"]
    return DirectReferrals(
        scenario, rng, first_day, OUTSIDE_CONTRACT, oc.stage, oc.per_year, oc.growth, oc.need, oc.conditions, outside=True
    )
