"""Calibrating one area: its published returns read and checked, the unknowns chosen, the
arithmetic first guesses, the fit, and the back-test on held-out months."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from sim.analysis.flows import stage_load
from sim.base.lazy import later
from sim.calibrate.backtest import backtest
from sim.calibrate.fit import LN2, MEDIAN_DELAY, REMOVAL_SCALE, Evaluation, Fitter, Knob, mean_statistics, published_statistics
from sim.calibrate.identify import Identified, identify
from sim.calibrate.stockflow import LONG_WAIT_WEEKS, MonthFlow, Rates, month_flow, rates
from sim.calibrate.structures import DELAY, Choice, choose, fit_queue_led, shortest_waits, structure_fit, untold_places
from sim.model.capacity import effective_weekly
from sim.rtt.compare import PARTS, matching_months
from sim.rtt.returns import check_one_era, read_returns, returns_for
from sim.runs.executors import Executor
from sim.scenario.capacity import scaled_staff
from sim.scenario.fields import removal_bands
from sim.scenario.schema import THEATRE, Scenario
from sim.scenario.stages import OTHER_FUNCTION, Stage
from sim.scenario.uncertainty import parse_uncertainty

pd = later("pandas")

CLINICS = "clinics"


MAX_LOAD = 1.05
"""The fit keeps each capacity at or above the expected demand over this: a list that holds
steady from month to month, as the published ones do, says capacity about meets demand; a
capacity cut further would make waits by turning patients away, and halve the completed
pathways."""


MAX_MEDIAN_DELAY_DAYS = 70
"""The longest median delay the fit tries (unless the scenario's is longer): beyond ten weeks
a delay stands in for a queue, which capacity should make."""


MAX_SPREAD_DAYS = 180
"""The longest mean further booking delay the fit tries."""

REMOVAL_FREEDOM = 2.0
"""The fit keeps removal rates within this factor of what the returns' arithmetic gives: the
returns do not publish removals, so nothing else would hold the fit from shortening waits by
removing patients instead of treating them."""

MAX_REMOVAL_RATE = 0.5

MAX_STALE_SHARE = 0.3
"""The largest share of a list's referrals the fit calls stale, whatever the removals: past it
the list would be mostly pathways nobody means to see."""

MAX_PROCEDURE_SHARE = 0.5
"""The largest share of a surgical clinic's treated patients the fit gives a day-case
procedure: past half, the clinic would be an injection service, not a clinic."""
"""A weekly removal rate the fit does not go past (half the list a week)."""


def removal_group(place: str) -> str:
    """Which removal factor a list's rates follow: the surgical list's or the clinics'."""
    return THEATRE if place == THEATRE else CLINICS


def removal_knob(group: str) -> str:
    return f"{REMOVAL_SCALE}.{group}"


class CalibrationError(ValueError):
    """Returns or options that cannot be calibrated to, with where and why."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


def month_after(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def read_published(paths: list[Path], commissioner: str, functions: list[str] | None) -> pd.DataFrame:
    """One commissioner's returns for consecutive months, each with every part of every
    function wanted; anything missing is an error naming it."""
    check_one_era(paths)
    return read_published_table(read_returns(paths, commissioner), paths, commissioner, functions)


def read_published_table(table: pd.DataFrame, paths: list[Path], commissioner: str, functions: list[str] | None) -> pd.DataFrame:
    """:func:`read_published` for a commissioner's rows read already (from ``paths``)."""
    files = ", ".join(str(p) for p in paths)
    if table.empty:
        raise CalibrationError("--commissioner", f"no rows for commissioner '{commissioner}' in {files}")
    for f in functions or []:
        if f not in set(table["treatment_function"]):
            raise CalibrationError("--treatment-function", f"no rows for treatment function '{f}' of {commissioner} in {files}")
    if functions:
        table = table[table["treatment_function"].isin(functions)]
    months = sorted(set(table["month"]))
    expected, m = [], months[0]
    while m <= months[-1]:
        expected.append(m)
        m = month_after(m)
    gap = [m for m in expected if m not in months]
    if gap:
        raise CalibrationError("--rtt", f"month {gap[0]} is missing between {months[0]} and {months[-1]}: give its returns")
    have = set(zip(table["month"], table["treatment_function"], table["part"], strict=True))
    for f in functions or sorted(set(table["treatment_function"])):
        if not any(h[1] == f for h in have):
            raise CalibrationError("--treatment-function", f"no rows for treatment function '{f}' of {commissioner} in {files}")
        for month in months:
            for part in PARTS:
                if (month, f, part) not in have:
                    raise CalibrationError("--rtt", f"no {part} return for {month}, function {f}, commissioner {commissioner}")
    return table


def clinics_by_function(s: Scenario, design: str) -> dict[str, list[str]]:
    """The design's consultant-led clinics reporting under each treatment function (Other apart)."""
    out: dict[str, list[str]] = {}
    for name, st in s.design_stages(design).items():
        if st.kind == "clinic" and st.rtt_function not in (None, OTHER_FUNCTION):
            out.setdefault(st.rtt_function, []).append(name)
    return out


def contract_months(s: Scenario) -> list[str]:
    """The months whose ends fall in the run's contract years."""
    start = s.run.start_date
    end = date(start.year + s.run.years, start.month, start.day)
    out, m = [], f"{start.year}-{start.month:02d}"
    while date(int(m[:4]), int(m[5:7]), 1) < end:
        out.append(m)
        m = month_after(m)
    return out


def years_to_cover(s: Scenario, months: list[str]) -> int:
    """Contract years the run needs to reach the last of ``months`` (at least one)."""
    start = s.run.start_date
    last = months[-1]
    span = (int(last[:4]) - start.year) * 12 + int(last[5:7]) - start.month + 1
    return max(1, math.ceil(span / 12))


@dataclass
class Arithmetic:
    """The stock-and-flow reading of one function's returns."""

    function: str
    flows: list[MonthFlow]
    rates: Rates
    removal_table: list[tuple[float, float]]
    notes: list[str]


def arithmetic(table: pd.DataFrame, commissioner: str, function: str, months: list[str]) -> Arithmetic:
    """Stops, clock starts and removals of ``function`` over ``months`` (the first month only
    starts the list), and the removal table they give."""

    def counts(month: str, part: str):
        return returns_for(table, commissioner, month, function, part)[0].astype(float)

    flows = [
        month_flow(b, counts(a, "incomplete"), counts(b, "incomplete"), counts(b, "admitted"), counts(b, "nonadmitted"))
        for a, b in pairwise(months)
    ]
    notes: list[str] = []
    if not flows:
        nan = float("nan")
        return Arithmetic(function, [], Rates(nan, nan, nan, nan, nan, nan), [], ["one month gives no flows"])
    r = rates(flows)
    table_rates = []
    for label, value in (("under", r.removal_short), ("over", r.removal_long)):
        if not value > 0:
            notes.append(
                f"removals of those waiting {label} {LONG_WAIT_WEEKS} weeks come out at {value:.4f} a week: more "
                "stops than the list can supply (clocks starting and stopping inside a month, transfers in); 0 used"
            )
            value = 0.0
        table_rates.append(min(value, MAX_REMOVAL_RATE))
    return Arithmetic(function, flows, r, [(0.0, table_rates[0]), (float(LONG_WAIT_WEEKS), table_rates[1])], notes)


@dataclass
class Setup:
    """What is fitted and against what."""

    scenario: Scenario
    design: str
    commissioner: str
    functions: list[str]
    published: pd.DataFrame
    statistics: pd.DataFrame
    months: dict[str, str]
    fit_months: list[str]
    holdout_months: list[str]
    arithmetic: dict[str, Arithmetic]
    knobs: list[Knob]
    fixed: dict[str, Any]
    counted: tuple[str, ...]
    """The parts whose counts are targets."""
    derived: dict[str, str]
    """Scenario keys set from a knob of another name (a lead from the median delay, a
    removal table from a factor): the knob each comes from."""
    base_removals: dict[str, list[tuple[float, float]]]
    """Per list (clinic name or ``theatre``): the removal table the scale multiplies."""
    notes: list[str]
    staffed: dict[str, tuple[list[dict[str, Any]], float]] = field(default_factory=dict)
    """Per clinic whose capacity is given as staff: its staff and the slots a week they give.
    Its capacity knob is in slots, like any other; the scenario gets the staff scaled to it."""
    stale_rates: dict[str, float] = field(default_factory=dict)
    """Per clinic whose stale share is fitted: the weekly rate validation takes its stale
    pathways off (the returns' removal rate of those waiting longest)."""


def setup(
    scenario: Scenario,
    design: str | None,
    table: pd.DataFrame,
    commissioner: str,
    functions: list[str] | None,
    holdout: int,
    fit_referrals: bool = False,
    fit_routing: bool = False,
    from_scenario: bool = False,
) -> Setup:
    """Choose the design, functions and unknowns, and read the arithmetic first guesses; with
    ``from_scenario`` the search starts from the scenario's own values (a refit), not from
    capacity at demand and the returns' removals."""
    names = list(scenario.designs)
    design = design or scenario.own_designs()[-1]
    if design not in scenario.designs:
        raise CalibrationError("--design", f"'{design}' is not a design of {scenario.name}; it has {', '.join(names)}")
    clinics = clinics_by_function(scenario, design)
    published_functions = sorted(set(table["treatment_function"]))
    wanted = functions or [f for f in sorted(clinics) if f in published_functions]
    if not wanted:
        raise CalibrationError(
            "--treatment-function",
            f"design '{design}' has no consultant-led clinic reporting under a function of the returns "
            f"({', '.join(published_functions)})",
        )
    for f in wanted:
        if f not in clinics:
            raise CalibrationError("--treatment-function", f"no consultant-led clinic of design '{design}' reports under '{f}'")
    table = table[table["treatment_function"].isin(wanted)]
    months_all = sorted(set(table["month"]))
    if holdout < 0 or holdout >= len(months_all):
        raise CalibrationError("--holdout", f"{holdout} months held out leaves none to fit ({len(months_all)} months given)")
    fit_months = months_all[: len(months_all) - holdout]
    years = years_to_cover(scenario, months_all) if months_all[0] >= contract_months(scenario)[0] else 1
    fixed: dict[str, Any] = {"run.years": years}
    notes: list[str] = []
    covered = contract_months(scenario.model_copy(update={"run": scenario.run.model_copy(update={"years": years})}))
    months = matching_months(months_all, covered)
    for m in months_all:
        if m not in months:
            raise CalibrationError("--rtt", f"month {m} has no calendar month in the run's contract years")
        if months[m] != m:
            notes.append(f"published {m} is set beside simulated {months[m]} (the run starts {scenario.run.start_date})")
    stages = scenario.design_stages(design)
    surgery = scenario.design_surgery(design)
    arith = {f: arithmetic(table, commissioner, f, fit_months) for f in wanted}
    knobs, base_removals = [], {}
    stale_rates: dict[str, float] = {}
    derived: dict[str, str] = {}
    staffed: dict[str, tuple[list[dict[str, Any]], float]] = {}
    load = stage_load(scenario, design)
    over = f"designs.{design}.stage_overrides"
    listing = []
    months_text = _months_text(fit_months)
    for f in wanted:
        for c in clinics[f]:
            st = stages[c]
            # the knob sets the value given, which a capacity basis scales: start and bounds as given
            slots = at_load_one(scenario, design, c, load) / scenario.carried_factor(design, c)
            begin = st.slots_per_week / scenario.carried_factor(design, c) if from_scenario else slots
            knobs.append(Knob(f"{over}.{c}.slots_per_week", begin, slots / MAX_LOAD, slots * 3, True, 0.15,
                              f"{f} incomplete pathways and waits, {months_text} ({commissioner})"))  # fmt: skip
            if st.staff:  # slots and staff may not disagree: the staff are scaled instead
                staffed[c] = ([g.model_dump() for g in st.staff], st.slots_per_week)
                derived[f"{over}.{c}.staff"] = f"{over}.{c}.slots_per_week"
            knobs += delay_knobs(f"{over}.{c}", st, f"{f} median waits, {months_text} ({commissioner})",
                                 f"{f} spread of waits, {months_text} ({commissioner})", derived)  # fmt: skip
            knobs.append(Knob(f"{over}.{c}.decision_at_followup_share", st.decision_at_followup_share, 0, 0.9,
                              False, 0.2, f"{f} pathways still open after a first attendance, {months_text} "
                              f"({commissioner})"))  # fmt: skip
            table_f = arith[f].removal_table
            if not table_f or not any(r > 0 for _, r in table_f):
                table_f = removal_bands(st.removal_rate_per_week)
                notes.append(f"{f}: the returns give no removal rate; the scenario's own rates for {c} are scaled")
            base_removals[c] = table_f
            long_rate, share = arith[f].removal_table[-1][1] if arith[f].removal_table else 0.0, arith[f].rates.removals_share
            if long_rate > 0 and share > 0:
                # Stale pathways (never to be seen, on the list till validation) end as removals,
                # so they are at most the returns' removals; they leave at the rate the returns
                # show for those waiting longest, where stale pathways gather.
                knobs.append(Knob(f"{over}.{c}.stale_share", st.stale_share, 0, min(share, MAX_STALE_SHARE), False,
                                  0.05, f"{f} incomplete pathways' long waits beyond those completed, within the "
                                  f"returns' removals ({share:.0%} of exits), {months_text} ({commissioner})"))  # fmt: skip
                stale_rates[c] = long_rate
                derived[f"{over}.{c}.stale_removal_rate_per_week"] = f"{over}.{c}.stale_share"
            if any(stages[other].surgical for other in clinics[f]):
                # admitted pathways beyond the operations listed: day-case procedures, from any
                # clinic of a function whose admitted pathways are fitted (a hub's clinic too)
                knobs.append(Knob(f"{over}.{c}.procedure_share", st.procedure_share, 0, MAX_PROCEDURE_SHARE, False, 0.1,
                                  f"{f} admitted pathways beyond the operations listed (day-case procedures), "
                                  f"{months_text} ({commissioner})"))  # fmt: skip
                if f not in listing:
                    listing.append(f)
    # A triage reporting under a function fitted keeps its clocks running while patients wait
    # for therapy (physio, podiatry), so those waits are the function's too: their delays are
    # unknowns, their capacity (a block contract's slots) is not.
    triaged = [f for f in wanted if any(st.kind == "triage" and st.rtt_function == f for st in stages.values())]
    if triaged:
        fitted = {k.key for k in knobs}
        for name, st in stages.items():
            if st.kind == "therapy" and f"{over}.{name}.{MEDIAN_DELAY}" not in fitted:  # not a clinic fitted already
                why = f"{triaged[0]} waits, whose clocks run on to {name} after triage, {months_text} ({commissioner})"
                knobs += delay_knobs(f"{over}.{name}", st, f"median {why}", f"spread of {why}", derived)
    if listing:
        slots = at_load_one(scenario, design, THEATRE, load) / scenario.carried_factor(design, THEATRE)
        begin = surgery.slots_per_week / scenario.carried_factor(design, THEATRE) if from_scenario else slots
        knobs.append(Knob(f"{over}.{THEATRE}.slots_per_week", begin, slots / MAX_LOAD, slots * 3, True, 0.1,
                          f"{', '.join(listing)} admitted and incomplete pathways and their waits, {months_text} "
                          f"({commissioner})"))  # fmt: skip
        knobs.append(Knob(f"{over}.{THEATRE}.booking_lead_spread_days", surgery.booking_lead_spread_days, 0,
                          MAX_SPREAD_DAYS, False, 14,
                          f"{', '.join(listing)} spread of admitted waits, {months_text} ({commissioner})"))  # fmt: skip
        base_removals[THEATRE] = arith[listing[0]].removal_table or removal_bands(surgery.removal_rate_per_week)
        if not any(r > 0 for _, r in base_removals[THEATRE]):
            base_removals[THEATRE] = removal_bands(surgery.removal_rate_per_week)
    for place in base_removals:
        derived[f"{over}.{place}.removal_rate_per_week"] = removal_knob(removal_group(place))
    for group, what in ((CLINICS, "outpatient lists"), (THEATRE, "the surgical list")):
        top = max((r for place, t in base_removals.items() if removal_group(place) == group for _, r in t), default=0.0)
        if top > 0:
            high = min(REMOVAL_FREEDOM, MAX_REMOVAL_RATE / top)
            begin = removal_scale_now(stages, surgery, base_removals, group) if from_scenario else 1.0
            knobs.append(Knob(removal_knob(group), begin, 1 / REMOVAL_FREEDOM, high, True, 0.35,
                              f"incomplete pathways and their waits on {what}, from the returns' removals"))  # fmt: skip
    if fit_referrals:
        n = scenario.demand.referrals_per_year
        low, high, within = n / 3, n * 3, ""
        stated = scenario.uncertainty.get("demand.referrals_per_year")
        if stated is not None:  # the area's own range for its referrals bounds the fit
            low, high = parse_uncertainty({"demand.referrals_per_year": stated}, scenario, "")["demand.referrals_per_year"].ends(
                n
            )
            within = f" within the scenario's range {low:,.0f}-{high:,.0f}"
        knobs.append(Knob("demand.referrals_per_year", n, low, high, True, 0.1,
                          f"clock stops and starts of {', '.join(wanted)}{within}, {months_text} ({commissioner})"))  # fmt: skip
    if fit_routing:
        knobs.append(routing_knob(scenario, design, wanted, months_text, commissioner))
    stats = published_statistics(table)
    for f in wanted:
        if f not in listing:
            stats = stats[~((stats["treatment_function"] == f) & (stats["part"] == "admitted"))]
            notes.append(f"{f}: {', '.join(clinics[f])} list nobody for surgery, so admitted pathways are not fitted")
    counted = PARTS  # a theatre cut below demand halves the admitted count: completed counts are targets too
    return Setup(scenario, design, commissioner, wanted, table, stats, months, fit_months,
                 months_all[len(fit_months):], arith, knobs, fixed, counted, derived, base_removals, notes,
                 staffed, stale_rates)  # fmt: skip


def removal_scale_now(stages: dict[str, Stage], surgery: Any, base: dict[str, list[tuple[float, float]]], group: str) -> float:
    """The factor the scenario's own removal rates are on the returns' (the first list of
    ``group`` with a rate in both): where a refit starts."""
    for place, table in base.items():
        if removal_group(place) != group:
            continue
        own = removal_bands((surgery if place == THEATRE else stages[place]).removal_rate_per_week)
        pairs = [(o, b) for (_, o), (_, b) in zip(own, table, strict=False) if o > 0 and b > 0]
        if pairs:
            return pairs[-1][0] / pairs[-1][1]
    return 1.0


def routing_knob(s: Scenario, design: str, functions: list[str], months_text: str, commissioner: str) -> Knob:
    """The design's triage_hospital_shift as an unknown: how many of those its triage rows send
    to a community clinic go to hospital instead, which moves every hospital function's counts.

    Raises
    ------
    CalibrationError
        When the design has no triage rows that send patients both to a community clinic and to hospital.
    """
    d = s.designs[design]
    shifted = s.model_copy(update={"designs": {**s.designs, design: d.model_copy(update={"triage_hospital_shift": 1.0})}})
    if shifted.design_routing(design) == d.routing:
        raise CalibrationError("--fit-routing", f"design '{design}' has no triage row sending patients both to a "
                               "community clinic and to hospital: there is no routing to fit")  # fmt: skip
    return Knob(f"designs.{design}.triage_hospital_shift", d.triage_hospital_shift, 0.0, 1.0, False, 0.1,
                f"{', '.join(functions)} clock stops and starts (how many triage sends to hospital), {months_text} "
                f"({commissioner})")  # fmt: skip


def at_load_one(s: Scenario, design: str, place: str, load: dict[str, float]) -> float:
    """The slots a week (as the scenario counts them, before holidays and cancellations) that
    meet the expected demand exactly: where the search starts, since a long published list
    says the service works at its capacity."""
    nominal = s.design_surgery(design).slots_per_week if place == THEATRE else s.design_stages(design)[place].slots_per_week
    effective = effective_weekly(s, place, design)
    return float(f"{load[place] * nominal / effective:.4g}") if effective > 0 else nominal


def _months_text(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def delay_knobs(place: str, st: Stage, median_why: str, spread_why: str, derived: dict[str, str]) -> list[Knob]:
    """The median delay before a first slot at ``place`` (a stage's override key) and its spread,
    rather than the lead and the spread: a spread moved at a fixed median changes the tail
    alone, a move the search can make. The lead derived from them is entered in ``derived``."""
    median = st.booking_lead_days + LN2 * st.booking_lead_spread_days
    derived[f"{place}.booking_lead_days"] = f"{place}.{MEDIAN_DELAY}"
    return [
        Knob(f"{place}.{MEDIAN_DELAY}", median, 0, max(MAX_MEDIAN_DELAY_DAYS, median), False, 7, median_why),
        Knob(f"{place}.booking_lead_spread_days", st.booking_lead_spread_days, 0, MAX_SPREAD_DAYS, False, 14, spread_why),
    ]


def expander(st: Setup) -> Callable[[dict[str, float]], dict[str, Any]]:
    """Knob values as scenario values: the removal scale becomes each list's removal table."""
    over = f"designs.{st.design}.stage_overrides"

    def expand(values: dict[str, float]) -> dict[str, Any]:
        out = {k: v for k, v in values.items() if not k.startswith(REMOVAL_SCALE) and not k.endswith(MEDIAN_DELAY)}
        for key, value in values.items():
            if key.endswith(MEDIAN_DELAY):
                stage = key[: -len(MEDIAN_DELAY) - 1]
                spread = values.get(f"{stage}.booking_lead_spread_days", 0.0)
                out[f"{stage}.booking_lead_days"] = max(0, round(value - LN2 * spread))
        for place, table in st.base_removals.items():
            scale = values.get(removal_knob(removal_group(place)))
            if scale is not None:
                rows = [[w, round(min(r * scale, MAX_REMOVAL_RATE), 5)] for w, r in table]
                out[f"{over}.{place}.removal_rate_per_week"] = rows
        for place, rate in st.stale_rates.items():
            if f"{over}.{place}.stale_share" in values:
                out[f"{over}.{place}.stale_removal_rate_per_week"] = round(rate, 5)
        for place, (staff, nominal) in st.staffed.items():
            slots = out.pop(f"{over}.{place}.slots_per_week", None)
            if slots is not None:
                out[f"{over}.{place}.staff"] = scaled_staff(staff, slots / nominal)
        return out

    return expand


@dataclass
class Calibration:
    """A finished calibration: the setup, the best candidate and the back-test."""

    setup: Setup
    start: Evaluation
    best: Evaluation
    scenario_values: dict[str, Any]
    evaluations: int
    replications: int
    backtest: pd.DataFrame
    identified: dict[str, Identified] = field(default_factory=dict)
    """Each capacity fitted: how far a step either way moves the targets (:mod:`sim.calibrate.identify`)."""
    choice: Choice | None = None
    """Where the returns do not tell some capacities: the structures kept, the preferred first
    (:mod:`sim.calibrate.structures`); None where they tell every one, or the choice was not asked."""


def calibrate(
    st: Setup,
    executor: Executor,
    replications: int = 2,
    rounds: int = 4,
    progress: Callable[[int], None] | None = None,
    structures: bool = True,
    structure_rounds: int | None = None,
    queue_led: list[str] | None = None,
) -> Calibration:
    """Fit the unknowns to the calibration months and test on the held-out ones; with
    ``structures``, where the returns do not tell a capacity, fit the queue-led structure too
    (its search ``structure_rounds`` long, default ``rounds``; for the services ``queue_led``
    names only, where given)."""
    fitter = Fitter(
        st.scenario, st.design, st.knobs, st.statistics, st.months, executor, replications,
        fixed=st.fixed, progress=progress, fit_months=st.fit_months, expand=expander(st), counted=st.counted,
    )  # fmt: skip
    start = fitter.evaluate([{k.key: k.clip(k.start) for k in st.knobs}])[0]
    best = fitter.search(rounds=rounds, start=start)
    identified = identify(fitter, best)
    places = untold_places(identified)
    if queue_led is not None:  # the services asked for, of those the returns do not tell
        places = [p for p in places if p in queue_led]
    choice = None
    if structures and places:
        shortest = shortest_waits(st.scenario, st.design, st.published, st.commissioner, st.fit_months, places)
        more = rounds if structure_rounds is None else structure_rounds
        queue, _ = fit_queue_led(fitter, best, places, shortest, f"designs.{st.design}.stage_overrides.", more)
        choice = choose(structure_fit(DELAY, fitter, best, places), queue)
    bt = pd.DataFrame()
    if st.holdout_months:
        fits = choice.kept if choice else []
        runs = [(f.name, f.best) for f in fits] or [("", best)]
        bt = pd.concat([backtest(st.statistics, mean_statistics(e.statistics), st.fit_months, st.holdout_months)
                        .assign(**({"structure": n} if n else {})) for n, e in runs], ignore_index=True)  # fmt: skip
    values = fitter.scenario_values(best.values)
    return Calibration(st, start, best, values, fitter.evaluations, replications, bt, identified, choice)
