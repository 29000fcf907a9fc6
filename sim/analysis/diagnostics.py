"""Diagnostics on every run: is the scenario possible, and are the numbers trustworthy?

* demand against capacity at each stage (a load of 1 or more is a list that grows without
  limit, and its averages mean nothing);
* the rules of thumb for the 18-week standard from the NHSRwaitinglist R package:
  with λ demand and μ capacity per week, target wait T and factor f = 4,

  - load = all appointments asked for (first and follow-up) / all slots offered, the
    definition ``msksim validate`` uses on expected demand;
  - target mean wait T / f and target list size λ T / f (Little's law);
  - capacity needed ≈ λ + (cv_d² + cv_c²) / 2 · f / T (Kingman) for first appointments, plus
    the follow-ups, given in the units of the scenario key that sets it;
  - with removals at a constant R a week, a list of 18 R / (-ln(1 - p)) keeps a share p
    within 18 weeks;
* the theatre (operations weighted by the slots they take) and the beds they need;
* Little's law on each simulated waiting list;
* whether there are enough replications for the intervals shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from sim.analysis.flows import outside_load, stage_load
from sim.base.lazy import later
from sim.model.capacity import available_weekly, effective_weekly
from sim.scenario.fields import RemovalRate, removal_bands
from sim.scenario.schema import THEATRE, Scenario

pd = later("pandas")

WEEKS_PER_YEAR = 365.25 / 7
FACTOR = 4.0
RTT_WEEKS = 18.0
STANDARD = 0.92
MIN_REPLICATIONS = 10
BEDS = "beds"
"""The stage name of the surgical beds' check (in bed-days)."""
UNITS = {THEATRE: "day-case slots", BEDS: "bed-days"}
"""The unit a check's capacity is counted in, where it is not first appointment slots."""


def target_capacity(
    demand: float, target_wait: float, factor: float = FACTOR, cv_demand: float = 1.0, cv_capacity: float = 1.0
) -> float:
    """Capacity per week that keeps the mean wait at ``target_wait / factor`` (Kingman)."""
    return demand + (cv_demand**2 + cv_capacity**2) / 2 * factor / target_wait


def target_queue_size(demand: float, target_wait: float, factor: float = FACTOR) -> float:
    """The list size whose mean wait is ``target_wait / factor`` (Little's law)."""
    return demand * target_wait / factor


def rule_of_thumb(asked: float) -> float:
    """Slots a week that keep a service's mean first wait at the 18-week rule of thumb (``T / f``)
    when ``asked`` appointments a week are asked of it, first and follow-up (:func:`target_capacity`
    for the first ones, plus the follow-ups): the analytic steady state of one service alone."""
    return target_capacity(asked, RTT_WEEKS)


def relief_list_size(removals: float, share: float = STANDARD, weeks: float = RTT_WEEKS) -> float:
    """Largest list that keeps ``share`` of patients within ``weeks`` when ``removals`` leave a week."""
    return weeks * removals / -math.log(1.0 - share)


@dataclass
class StageCheck:
    point: int  # grid point (0 without a sweep)
    stage: str  # a service, THEATRE (in day-case slots) or BEDS (in bed-days)
    design: str
    demand_per_week: float  # new patients joining the list (theatre: slots they need; beds: bed-days)
    followups_per_week: float  # follow-up appointments asked for (attended or missed; 0 for theatre and beds)
    capacity_per_week: float  # all slots offered, after holidays and cancellations (beds: bed-days)
    first_capacity_per_week: float  # slots left for first appointments after follow-ups
    load: float  # (demand + follow-ups) / capacity
    target_capacity: float  # slots a week (as capacity_per_week) that keep first waits at the 18-week rule of thumb
    key: str  # the scenario key that sets this capacity
    key_value: float  # its value now
    key_needed: float  # the value it needs for target_capacity (in its own units)
    target_list: float
    target_wait_weeks: float
    relief_list: float
    simulated_list: float  # on the list to be offered a slot (after any booking lead time)
    littles_gap_pct: float
    removals: bool = False  # some leave the list unseen (a list over capacity settles where they balance the excess)


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
            means = part[[c for c in part.columns if c.startswith(f"{name}_")]].mean()
            demand, followups = _asked(means, name)
            capacity = _capacity(scenario, name, str(design))
            key, value = _capacity_key(scenario, str(design), name)
            check = _check(int(point), str(design), name, demand, followups, capacity, _simulated(means, name), key, value)
            check["removals"] = _removes(scenario.design_stages(str(design))[name].removal_rate_per_week)
            out.append(check)
        out += _surgery_checks(int(point), str(design), part, scenario)
    return pd.DataFrame(out)


def _capacity(scenario: Scenario, place: str, design: str) -> float:
    """The slots a week a place's demand (means over the run's years) is set against: year 1's;
    where a capacity policy acts, the mean over the years of what it can offer (at a managed
    policy's maximum), so a load of 1 or more means the policy cannot hold its list."""
    if not scenario.capacity_policy(design, place).acts:
        return effective_weekly(scenario, place, design)
    years = range(1, scenario.run.years + 1)
    return sum(available_weekly(scenario, place, design, y) for y in years) / len(years)


def _simulated(means: pd.Series, place: str) -> tuple[float, float, float]:
    """A simulated list's mean size, exits a year and mean wait on it in days (after booking: Little's law holds for it)."""
    return means[f"{place}_list_mean"], means[f"{place}_list_exits"], means[f"{place}_queue_wait_mean_days"]


def _capacity_key(scenario: Scenario, design: str, stage: str) -> tuple[str, float]:
    """The key that sets a stage's weekly capacity in this design, and its value."""
    key = scenario.capacity_key(design, stage)
    if stage == THEATRE:
        return key, scenario.design_surgery(design).slots_per_week
    return key, scenario.design_stages(design)[stage].slots_per_week


def _check(point: int, design: str, stage: str, demand: float, followups: float, capacity: float,
           simulated: tuple[float, float, float], key: str, key_value: float) -> dict:  # fmt: skip
    """The rules of thumb for one stage with ``demand`` new patients and ``followups`` a week
    against ``capacity`` slots a week, set by ``key`` at ``key_value``; and its simulated list
    (mean size, exits a year, mean wait in days)."""
    size, exits, wait_days = simulated
    littles_size = exits / 365.25 * wait_days
    asked = demand + followups
    needed = target_capacity(demand, RTT_WEEKS) + followups
    first = max(capacity - followups, 0.0)
    return StageCheck(
        point=point,
        stage=stage,
        design=design,
        demand_per_week=demand,
        followups_per_week=followups,
        capacity_per_week=capacity,
        first_capacity_per_week=first,
        load=asked / capacity if capacity > 0 else (math.inf if asked > 0 else 0.0),
        target_capacity=needed,
        key=key,
        key_value=key_value,
        # the key counts slots before holidays and cancellations: scale as capacity scales
        key_needed=needed * key_value / capacity if capacity > 0 and key_value > 0 else needed,
        target_list=target_queue_size(demand, RTT_WEEKS),
        target_wait_weeks=RTT_WEEKS / FACTOR,
        relief_list=relief_list_size(min(demand, first)),
        simulated_list=size,
        littles_gap_pct=100.0 * (size - littles_size) / size if size > 1 else 0.0,
    ).__dict__


def _surgery_checks(point: int, design: str, part: pd.DataFrame, scenario: Scenario) -> list[dict]:
    """The theatre in day-case slots (operations weighted by the slots they take), and beds."""
    surgery = scenario.design_surgery(design)
    means = part.mean(numeric_only=True)
    operations = means["surgeries_daycase"] + means["surgeries_inpatient"]
    joint, other_inpatient = means["joint_replacements"], means["surgeries_inpatient"] - means["joint_replacements"]
    slots = joint * surgery.joint_replacement_slots + means["surgeries_daycase"] + other_inpatient * surgery.inpatient_slots
    slots_per_operation = slots / operations if operations else 1.0
    procedures = means.get("procedures", 0.0) * surgery.procedure_slots  # day-case procedures take theatre time too
    demand = (means["listed_for_surgery"] * slots_per_operation + procedures) / WEEKS_PER_YEAR
    key, value = _capacity_key(scenario, design, THEATRE)
    capacity = _capacity(scenario, THEATRE, design)
    theatre = _check(point, design, THEATRE, demand, 0.0, capacity, _simulated(means, THEATRE), key, value)
    theatre["removals"] = _removes(surgery.removal_rate_per_week)
    inpatients = means["surgeries_inpatient"]
    # bed-days asked for: the stays of everyone listed who will need a bed, at the simulated mean stay
    stay = means["bed_days"] / inpatients if inpatients else 0.0
    listed_inpatients = means["listed_for_surgery"] * (inpatients / operations if operations else 0.0)
    beds = _check(point, design, BEDS, listed_inpatients * stay / WEEKS_PER_YEAR, 0.0, surgery.beds * 7.0, (0.0, 0.0, 0.0),
                  scenario.capacity_key(design, THEATRE, "beds"), surgery.beds)  # fmt: skip
    return [theatre, beds]


def _removes(rate: RemovalRate) -> bool:
    return any(r > 0 for _, r in removal_bands(rate))


def expected_loads(
    scenario: Scenario, design: str, asked: tuple[dict[str, float], dict[str, float]] | None = None
) -> dict[str, list[float]]:
    """Each stage's and the theatre's expected load in each contract year: the appointments the
    traffic equations ask of it (year 1's, grown as referrals grow, care outside the contract at
    its own rate) over its slots that year. ``asked`` (:func:`asked_weekly`) spares solving the
    traffic equations again for a scenario that differs only in capacity."""
    weekly, outside = asked if asked is not None else asked_weekly(scenario, design)
    years = scenario.run.years
    grown = _grown(scenario.demand.growth, years)
    grown_outside = _grown(scenario.demand.outside_contract.growth, years)
    out = {}
    for stage, asked in weekly.items():
        caps = [available_weekly(scenario, stage, design, year) for year in range(1, years + 1)]
        apart = outside.get(stage, 0.0)
        loads = []
        for f, f_outside, c in zip(grown, grown_outside, caps, strict=True):
            now = (asked - apart) * f + apart * f_outside
            loads.append(now / c if c > 0 else (math.inf if now > 0 else 0.0))
        out[stage] = loads
    return out


def asked_weekly(scenario: Scenario, design: str) -> tuple[dict[str, float], dict[str, float]]:
    """Slots a week each stage is asked for in year 1, all care and care outside the contract:
    the routing's, whatever the capacity."""
    return stage_load(scenario, design), outside_load(scenario, design)


def _grown(g: float, years: int) -> list[float]:
    """Referrals growing as (1 + g) ** (days / 365.25) from the contract start: each year's mean factor."""
    return [((1 + g) ** y - (1 + g) ** (y - 1)) / math.log1p(g) if g else 1.0 for y in range(1, years + 1)]


def _asked(rows: Any, name: str) -> tuple[Any, Any]:
    """New patients and follow-up appointments asked for a week at a stage (attended or missed),
    from result rows: of a mean (a Series) or of each row (a DataFrame)."""
    firsts, followups = rows[f"{name}_first"], rows[f"{name}_followup"]
    seen = firsts + followups
    # a missed appointment was a follow-up in the share that attended ones were
    if isinstance(seen, pd.Series):
        share = (followups / seen.where(seen > 0)).fillna(0.0)
    else:
        share = followups / seen if seen > 0 else 0.0
    return rows[f"{name}_arrivals"] / WEEKS_PER_YEAR, (followups + rows[f"{name}_dna"] * share) / WEEKS_PER_YEAR


DRIVER_CORRELATION = 0.6
"""A drawn input is named beside an overload only when its rank correlation with the peak load
across replications is at least this. With 10 replications chance alone takes one input that far
about one time in 15, and the most correlated of many inputs more often: the warning names the
input that goes most with the load, not a proven cause."""


@dataclass(frozen=True)
class Overload:
    """A service over capacity in some replications only: the mean load hides it, the spread shows it."""

    point: int
    design: str
    stage: str
    over: int
    """Replications in which the load reaches 1 in some contract year."""
    replications: int
    year: int
    """The first contract year in which one of them does."""
    peaks: tuple[float, float]
    """The lowest and highest of those replications' highest yearly loads."""
    driver: str | None = None
    """The drawn input whose values go most closely with the load (rank correlation), if any."""
    driver_over: tuple[float, float] = (math.nan, math.nan)
    driver_rest: tuple[float, float] = (math.nan, math.nan)
    correlation: float = math.nan
    """The driver's rank correlation with the replications' peak loads (in size)."""
    policy: bool = False
    """Whether its capacity policy added capacity there: the load is then against what the policy can offer."""


def overloaded_paths(table: pd.DataFrame) -> list[Overload]:
    """The services and theatres whose expected load (``{stage}_expected_load``: the traffic
    equations on each replication's inputs) reaches 1 in some contract year of some
    replications, though not on average, each with the drawn input that goes most with it."""
    by = ["point", "design"] if "point" in table.columns else [pd.Series(0, index=table.index, name="point"), "design"]
    drawn = [c for c in table.columns if c.startswith("param.") and pd.api.types.is_numeric_dtype(table[c])]
    loads = [c for c in table.columns if c.endswith("_expected_load")]
    out = []
    for (point, design), part in table.groupby(by):
        for column in loads:
            yearly = part[["replication", "year", column]].dropna()
            if yearly.empty or yearly[column].mean() >= 1:
                continue  # not in this design, or over capacity on average: the diagnostics say so
            peak = yearly.groupby("replication")[column].max()
            over = peak[peak >= 1].index
            if len(over) == 0:
                continue
            year = int(yearly[yearly["replication"].isin(over) & (yearly[column] >= 1)]["year"].min())
            stage = column.removesuffix("_expected_load")
            added = f"{stage}_slots_added"
            policy = added in part and bool((part[added] != 0).any())
            found = Overload(int(point), str(design), stage, len(over), len(peak), year,
                             (float(peak[over].min()), float(peak[over].max())), policy=policy)  # fmt: skip
            # another design's routing cannot move this one's load, however well it happens to correlate
            mine = [c for c in drawn if not c.startswith("param.designs.") or c.startswith(f"param.designs.{design}.")]
            out.append(_with_driver(found, part, peak, over, mine))
    return out


def _with_driver(found: Overload, part: pd.DataFrame, peak: pd.Series, over: pd.Index, drawn: list[str]) -> Overload:
    if len(peak) < 4 or not drawn:
        return found
    inputs = part.groupby("replication")[drawn].first().loc[peak.index]
    inputs = inputs.loc[:, inputs.nunique() > 1]
    if inputs.empty:
        return found
    rho = inputs.rank().corrwith(peak.rank()).abs().dropna()
    if rho.empty or rho.max() < DRIVER_CORRELATION:
        return found
    key = str(rho.idxmax())
    mine, rest = inputs.loc[over, key], inputs.loc[peak.index.difference(over), key]
    return replace(found, driver=key.removeprefix("param."), driver_over=(float(mine.min()), float(mine.max())),
                   driver_rest=(float(rest.min()), float(rest.max())), correlation=float(rho.max()))  # fmt: skip


OVERLOAD_NOTE = (
    "In those replications the drawn inputs ask more of the service than it offers, so its list grows without "
    "limit and its band across replications widens: the spread is in the inputs, not in the simulation "
    "(<stage>_expected_load in replications.csv; the input named goes most with the load, by rank correlation). "
    "If those inputs can happen, give the service more slots or its capacity policy more sessions (max_sessions); "
    "if they cannot, narrow the input's range in [uncertainty]."
)


def overload_warnings(overloads: list[Overload], names: dict[int, str] | None = None) -> list[str]:
    """Plain-English warnings for services over capacity in some replications only: one line
    each, then what they mean, once."""
    msgs = []
    several = len({o.point for o in overloads}) > 1
    for o in overloads:
        who = f"{(names or {}).get(o.point, f'grid point {o.point}')}, {o.design}" if several else o.design
        why = f"; {o.driver} {_span(o.driver_over)} there, {_span(o.driver_rest)} elsewhere" if o.driver else ""
        even = " even at its capacity policy's most sessions" if o.policy else ""
        msgs.append(
            f"{who}: {o.stage} over capacity{even} in {o.over} of {o.replications} replications from year {o.year} "
            f"(load up to {_span(o.peaks)}){why}"
        )
    return [*msgs, OVERLOAD_NOTE] if msgs else []


def _span(ends: tuple[float, float]) -> str:
    low, high = (f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}" for x in ends)
    return low if low == high else f"{low}-{high}"


def warnings(checks: pd.DataFrame, replications: int, steady: bool = True, names: dict[int, str] | None = None) -> list[str]:
    """Plain-English warnings: impossible stages, Little's law gaps, too few replications.

    ``steady=False`` (a run that starts from a backlog) skips Little's law, which holds
    only for a list in steady state, not for one being worked down or built up. ``names``
    gives each grid point in words (its swept values), for a sweep's warnings."""
    msgs = []
    several = "point" in checks.columns and checks["point"].nunique() > 1
    for check in checks.itertuples():
        point = (names or {}).get(int(check.point), f"grid point {check.point}")
        who = f"{point}, {check.design}" if several else check.design
        if check.load >= 1:
            fate = (
                "its list is held only by those who leave it unseen, so its waits are set by the removal rates"
                if check.removals
                else "its list will grow without limit and its averages depend on the run length"
            )
            msgs.append(
                f"{who}: {check.stage} is over capacity (load {check.load:.2f}): {fate}; meeting demand within the "
                f"18-week rule of thumb needs {check.key} of about {check.key_needed:,.0f} (now {check.key_value:,.0f})"
            )
        elif steady and abs(check.littles_gap_pct) > 10 and check.simulated_list > 20:
            msgs.append(f"{who}: {check.stage} list breaks Little's law by {check.littles_gap_pct:.0f}% (not in steady state?)")
    if replications < MIN_REPLICATIONS:
        msgs.append(
            f"only {replications} replication(s): the 95% intervals shown are rough"
            + (" and cannot be computed" if replications < 2 else "")
            + f"; use at least {MIN_REPLICATIONS}"
        )
    return msgs


RULE_GAP = 0.10
"""Where the rule of thumb's capacity and the capacity simulated differ by more than this share,
the report says why."""


def rule_gaps(checks: pd.DataFrame) -> list[str]:
    """Why the rule of thumb's capacity and the capacity simulated differ, for each service
    (not beds) where they differ by more than :data:`RULE_GAP`: what each answers, and where
    ``msksim target`` gives the simulated least capacity."""
    out = []
    for c in checks[checks["stage"] != BEDS].itertuples():
        if c.key_value <= 0 or abs(c.key_needed / c.key_value - 1) <= RULE_GAP:
            continue
        gap = c.key_needed / c.key_value - 1
        said = (f"{c.design}, {c.stage}: the rule of thumb asks {c.key} ≈ {c.key_needed:,.0f}, {gap:+.0%} on the "
                f"{c.key_value:,.0f} simulated")  # fmt: skip
        if gap < 0:
            why = (
                f"the rule is the analytic steady state of this service alone, holding its own mean first wait at "
                f"{RTT_WEEKS / FACTOR:.1f} weeks, which for a service of this size is a load close to 1; the capacity set "
                f"runs at a load of {c.load:.2f}. Whether the 18-week share would hold with less depends on the "
                "calendar, booking, variable demand and the years ahead, which the rule leaves out: `msksim target` "
                "simulates them and never recommends a load of 0.95 or more"
            )
        else:
            why = (
                f"at a load of {c.load:.2f} demand outruns the capacity set, so no steady state exists for the simulation "
                "to settle to; the rule gives the least capacity with one, `msksim target` the least that meets the "
                "18-week share once the calendar, booking and the years ahead are simulated"
            )
        out.append(f"{said}: {why}.")
    return out


def policy_lines(table: pd.DataFrame, scenario: Scenario) -> list[str]:
    """What each capacity policy that acts did, in words: per design and place, the sessions (or
    slots) it added a year, the most sessions a week it had in force, how often that was its
    maximum, and what the sessions' premiums cost; one line for the places that needed none."""
    if "point" in table.columns and table["point"].nunique() > 1:
        return []  # a sweep's points each have their own: replications.csv holds them
    out = []
    for design, part in table.groupby("design", sort=False):
        name, idle = str(design), []
        if name not in scenario.designs:
            continue
        for place in [*scenario.design_stages(name), THEATRE]:
            policy = scenario.capacity_policy(name, place)
            if not policy.acts or f"{place}_slots_added" not in part:
                continue
            slots = part[f"{place}_slots_added"].mean()
            if not (part[f"{place}_slots_added"] != 0).any():
                idle.append(place)
            elif policy.kind == "follows_demand":
                out.append(f"{name}: {place}'s capacity follows demand: {slots:,.0f} slots a year added on average")
            else:
                peak = part.groupby("replication")[f"{place}_sessions_peak"].max()
                sessions = part[f"{place}_sessions_added"].mean()
                out.append(
                    f"{name}: {place} added {sessions:,.0f} session{'' if round(sessions) == 1 else 's'} a year on "
                    f"average ({slots:,.0f} slots; premiums "
                    f"£{sessions * policy.premium_per_session_gbp:,.0f} a year at year-1 prices), up to {int(peak.max())} "
                    f"a week; its maximum of {policy.max_sessions} reached in {int((peak >= policy.max_sessions).sum())} "
                    f"of {len(peak)} replications"
                )
        if idle:
            out.append(f"{name}: no capacity added at {', '.join(idle)}")
    return out
