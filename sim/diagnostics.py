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
* the theatre (operations weighted by the slots they take) and the beds they need;
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
    point: int  # grid point (0 without a sweep)
    stage: str  # a service, "theatre" (in day-case slots) or "beds" (in bed-days)
    design: str
    demand_per_week: float  # new patients joining the list (theatre: slots they need; beds: bed-days)
    first_capacity_per_week: float  # slots left for first appointments after follow-ups
    load: float
    target_capacity: float
    target_list: float
    target_wait_weeks: float
    relief_list: float
    simulated_list: float  # on the list to be offered a slot (after any booking lead time)
    littles_gap_pct: float


def stage_checks(table: pd.DataFrame, scenarios: Scenario | dict[int, Scenario]) -> pd.DataFrame:
    """One row per grid point × design × stage, theatre and beds included, from the simulated
    rows (means over replications and years), each against its own point's capacity."""
    if isinstance(scenarios, Scenario):
        scenarios = {0: scenarios}
    out = []
    by = ["point", "design"] if "point" in table.columns else [pd.Series(0, index=table.index, name="point"), "design"]
    for (point, design), part in table.groupby(by):
        scenario = scenarios.get(int(point), scenarios[min(scenarios)])
        if str(design) not in scenario.designs:
            continue
        for name in scenario.design_stages(str(design)):
            m = part[[c for c in part.columns if c.startswith(f"{name}_")]].mean()
            lam = m[f"{name}_arrivals"] / WEEKS_PER_YEAR
            follow = (m[f"{name}_followup"] + m[f"{name}_dna"] * _followup_dna_share(m, name)) / WEEKS_PER_YEAR
            mu = max(effective_weekly(scenario, name, str(design)) - follow, 0.0)
            out.append(_check(int(point), str(design), name, lam, mu, m[f"{name}_list_mean"],
                              m[f"{name}_list_exits"], m[f"{name}_wait_mean_days"]))  # fmt: skip
        out += _surgery_checks(int(point), str(design), part, scenario)
    return pd.DataFrame(out)


def _check(point: int, design: str, stage: str, lam: float, mu: float, L: float, exits: float, wait_days: float) -> dict:
    little = exits / 365.25 * wait_days
    return StageCheck(
        point=point,
        stage=stage,
        design=design,
        demand_per_week=lam,
        first_capacity_per_week=mu,
        load=lam / mu if mu > 0 else (math.inf if lam > 0 else 0.0),
        target_capacity=target_capacity(lam, RTT_WEEKS),
        target_list=target_queue_size(lam, RTT_WEEKS),
        target_wait_weeks=RTT_WEEKS / FACTOR,
        relief_list=relief_list_size(min(lam, mu)),
        simulated_list=L,
        littles_gap_pct=100.0 * (L - little) / L if L > 1 else 0.0,
    ).__dict__


def _surgery_checks(point: int, design: str, part: pd.DataFrame, scenario: Scenario) -> list[dict]:
    """The theatre in day-case slots (operations weighted by the slots they take), and beds."""
    s = scenario.surgery
    m = part.mean(numeric_only=True)
    ops = m["surgeries_daycase"] + m["surgeries_inpatient"]
    joint, other_inpatient = m["joint_replacements"], m["surgeries_inpatient"] - m["joint_replacements"]
    slots = joint * s.joint_replacement_slots + m["surgeries_daycase"] + other_inpatient * s.inpatient_slots
    per_op = slots / ops if ops else 1.0
    lam = m["listed_for_surgery"] / WEEKS_PER_YEAR * per_op
    mu = effective_weekly(scenario, "theatre")
    theatre = _check(point, design, "theatre", lam, mu, m["theatre_list_mean"], m["theatre_list_exits"],
                     m["theatre_wait_mean_days"])  # fmt: skip
    inpatients = m["surgeries_inpatient"]
    # bed-days asked for: the stays of everyone listed who will need a bed, at the simulated mean stay
    stay = m["bed_days"] / inpatients if inpatients else 0.0
    listed_inpatients = m["listed_for_surgery"] * (inpatients / ops if ops else 0.0)
    beds = _check(point, design, "beds", listed_inpatients * stay / WEEKS_PER_YEAR, s.beds * 7.0, 0.0, 0.0, 0.0)
    return [theatre, beds]


def _followup_dna_share(m: pd.Series, name: str) -> float:
    """Share of a stage's missed appointments that were follow-ups (the rest were firsts)."""
    f, fu = m[f"{name}_first"], m[f"{name}_followup"]
    return fu / (f + fu) if f + fu > 0 else 0.0


def warnings(checks: pd.DataFrame, replications: int, steady: bool = True) -> list[str]:
    """Plain-English warnings: impossible stages, Little's law gaps, too few replications.

    ``steady=False`` (a run that starts from a backlog) skips Little's law, which holds
    only for a list in steady state, not for one being worked down or built up."""
    msgs = []
    several = "point" in checks.columns and checks["point"].nunique() > 1
    for r in checks.itertuples():
        who = f"grid point {r.point}, {r.design}" if several else r.design
        unit = {"theatre": "day-case slots", "beds": "bed-days"}.get(r.stage, "first slots")
        if r.load >= 1:
            msgs.append(
                f"{who}: {r.stage} is over capacity (load {r.load:.2f}): its list will grow without limit and "
                f"its averages depend on the run length; it needs about {r.target_capacity:,.0f} {unit} a week"
            )
        elif steady and abs(r.littles_gap_pct) > 10 and r.simulated_list > 20:
            msgs.append(f"{who}: {r.stage} list breaks Little's law by {r.littles_gap_pct:.0f}% (not in steady state?)")
    if replications < MIN_REPLICATIONS:
        msgs.append(
            f"only {replications} replication(s): the 95% intervals shown are rough"
            + (" and cannot be computed" if replications < 2 else "")
            + f"; use at least {MIN_REPLICATIONS}"
        )
    return msgs
