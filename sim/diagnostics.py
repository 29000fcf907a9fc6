"""Diagnostics on every run: is the scenario possible, and are the numbers trustworthy?

* demand against capacity at each stage (a load of 1 or more is a list that grows without
  limit, and its averages mean nothing);
* the NHSRwaitinglist rules of thumb for the 18-week standard (``shared/domain.md`` s4):
  with λ demand and μ capacity per week, target wait T and factor f = 4,

  - load = λ / μ;
  - target mean wait T / f and target list size λ T / f (Little's law);
  - capacity needed ≈ λ + (cv_d² + cv_c²) / 2 · f / T (Kingman);
  - with removals at a constant R a week, a list of 18 R / (-ln(1 - p)) keeps a share p
    within 18 weeks;
* Little's law on each simulated waiting list;
* whether there are enough replications for the intervals shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from sim.model.capacity import effective_weekly
from sim.scenario import Scenario

WEEKS_PER_YEAR = 365.25 / 7
FACTOR = 4.0
RTT_WEEKS = 18.0
STANDARD = 0.92
MIN_REPLICATIONS = 10


def target_capacity(
    demand: float, target_wait: float, factor: float = FACTOR, cv_demand: float = 1.0, cv_capacity: float = 1.0
) -> float:
    """Capacity per week that keeps the mean wait at ``target_wait / factor`` (Kingman)."""
    return demand + (cv_demand**2 + cv_capacity**2) / 2 * factor / target_wait


def target_queue_size(demand: float, target_wait: float, factor: float = FACTOR) -> float:
    """The list size whose mean wait is ``target_wait / factor`` (Little's law)."""
    return demand * target_wait / factor


def relief_list_size(removals: float, share: float = STANDARD, weeks: float = RTT_WEEKS) -> float:
    """Largest list that keeps ``share`` of patients within ``weeks`` when ``removals`` leave a week."""
    return weeks * removals / -math.log(1.0 - share)


@dataclass
class StageCheck:
    stage: str
    design: str
    demand_per_week: float  # new patients joining the list
    first_capacity_per_week: float  # slots left for first appointments after follow-ups
    load: float
    target_capacity: float
    target_list: float
    relief_list: float
    simulated_list: float
    littles_gap_pct: float


def stage_checks(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per design × stage, from the simulated rows (means over replications and years)."""
    out = []
    for design, part in table.groupby("design"):
        stages = scenario.design_stages(str(design)) if str(design) in scenario.designs else {}
        for name in stages:
            m = part[[c for c in part.columns if c.startswith(f"{name}_")]].mean()
            lam = m[f"{name}_arrivals"] / WEEKS_PER_YEAR
            follow = (m[f"{name}_followup"] + m[f"{name}_dna"] * _followup_dna_share(m, name)) / WEEKS_PER_YEAR
            mu = max(effective_weekly(scenario, name, str(design)) - follow, 0.0)
            L = m[f"{name}_list_mean"]
            little = m[f"{name}_list_exits"] / (365.25) * m[f"{name}_wait_mean_days"]
            out.append(
                StageCheck(
                    stage=name,
                    design=str(design),
                    demand_per_week=lam,
                    first_capacity_per_week=mu,
                    load=lam / mu if mu > 0 else math.inf,
                    target_capacity=target_capacity(lam, RTT_WEEKS),
                    target_list=target_queue_size(lam, RTT_WEEKS),
                    relief_list=relief_list_size(min(lam, mu)),
                    simulated_list=L,
                    littles_gap_pct=100.0 * (L - little) / L if L > 1 else 0.0,
                ).__dict__
            )
    return pd.DataFrame(out)


def _followup_dna_share(m: pd.Series, name: str) -> float:
    """Share of a stage's missed appointments that were follow-ups (the rest were firsts)."""
    f, fu = m[f"{name}_first"], m[f"{name}_followup"]
    return fu / (f + fu) if f + fu > 0 else 0.0


def warnings(checks: pd.DataFrame, replications: int) -> list[str]:
    """Plain-English warnings: impossible stages, Little's law gaps, too few replications."""
    msgs = []
    for r in checks.itertuples():
        if r.load >= 1:
            msgs.append(
                f"{r.design}: {r.stage} is over capacity (load {r.load:.2f}): its list will grow without limit and "
                f"its averages depend on the run length; it needs about {r.target_capacity:,.0f} first slots a week"
            )
        elif abs(r.littles_gap_pct) > 10 and r.simulated_list > 20:
            msgs.append(f"{r.design}: {r.stage} list breaks Little's law by {r.littles_gap_pct:.0f}% (not in steady state?)")
    if replications < MIN_REPLICATIONS:
        msgs.append(
            f"only {replications} replication(s): the 95% intervals shown are rough"
            + (" and cannot be computed" if replications < 2 else "")
            + f"; use at least {MIN_REPLICATIONS}"
        )
    return msgs
