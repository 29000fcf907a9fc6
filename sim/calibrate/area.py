"""Calibrating one area: its published returns read and checked, the unknowns chosen
(:mod:`sim.calibrate.unknowns`, with the arithmetic first guesses), the fit, and the back-test
on held-out months."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sim.analysis.flows import stage_load
from sim.base.lazy import later
from sim.calibrate.backtest import backtest
from sim.calibrate.fit import LN2, MEDIAN_DELAY, REMOVAL_SCALE, Evaluation, Fitter, Knob, mean_statistics, published_statistics
from sim.calibrate.identify import Identified, identify
from sim.calibrate.structures import DELAY, Choice, choose, fit_queue_led, shortest_waits, structure_fit, untold_places
from sim.calibrate.unknowns import (
    MAX_REMOVAL_RATE,
    Arithmetic,
    Unknowns,
    arithmetic,
    months_text,
    removal_group,
    removal_knob,
)
from sim.rtt.compare import PARTS, matching_months
from sim.rtt.returns import check_one_era, read_returns
from sim.runs.executors import Executor
from sim.scenario.capacity import scaled_staff
from sim.scenario.schema import Scenario
from sim.scenario.stages import OTHER_FUNCTION

pd = later("pandas")


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


@dataclass(kw_only=True)
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
    design = chosen_design(scenario, design)
    clinics = clinics_by_function(scenario, design)
    wanted = chosen_functions(design, clinics, table, functions)
    table = table[table["treatment_function"].isin(wanted)]
    months_all = sorted(set(table["month"]))
    fit_months, years, months, notes = fitted_months(scenario, months_all, holdout)
    arith = {f: arithmetic(table, commissioner, f, fit_months) for f in wanted}
    unknowns = Unknowns(
        scenario=scenario, design=design, commissioner=commissioner, months_text=months_text(fit_months),
        from_scenario=from_scenario, load=stage_load(scenario, design),
    )  # fmt: skip
    for f in wanted:
        unknowns.add_clinics(f, clinics[f], arith[f])
    unknowns.add_therapy_delays(wanted)
    unknowns.add_theatre(arith)
    unknowns.add_removal_scales()
    if fit_referrals:
        unknowns.add_referrals(wanted)
    if fit_routing:
        unknowns.knobs.append(routing_knob(scenario, design, wanted, unknowns.months_text, commissioner))
    stats, unfitted = fitted_statistics(table, wanted, unknowns.listing, clinics)
    return Setup(
        scenario=scenario,
        design=design,
        commissioner=commissioner,
        functions=wanted,
        published=table,
        statistics=stats,
        months=months,
        fit_months=fit_months,
        holdout_months=months_all[len(fit_months) :],
        arithmetic=arith,
        knobs=unknowns.knobs,
        fixed={"run.years": years},
        counted=PARTS,  # a theatre cut below demand halves the admitted count: completed counts are targets too
        derived=unknowns.derived,
        base_removals=unknowns.base_removals,
        notes=[*notes, *unknowns.notes, *unfitted],
        staffed=unknowns.staffed,
        stale_rates=unknowns.stale_rates,
    )


def chosen_design(scenario: Scenario, design: str | None) -> str:
    """The design named, or the scenario's last design of its own; CalibrationError for one it lacks."""
    names = list(scenario.designs)
    design = design or scenario.own_designs()[-1]
    if design not in scenario.designs:
        raise CalibrationError("--design", f"'{design}' is not a design of {scenario.name}; it has {', '.join(names)}")
    return design


def chosen_functions(design: str, clinics: dict[str, list[str]], table: pd.DataFrame, functions: list[str] | None) -> list[str]:
    """The treatment functions fitted: those asked for, or every one the returns publish that a
    consultant-led clinic of the design reports under; each must have such a clinic."""
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
    return wanted


def fitted_months(scenario: Scenario, months_all: list[str], holdout: int) -> tuple[list[str], int, dict[str, str], list[str]]:
    """The months fitted (all but the last ``holdout``), the contract years the run needs, the
    simulated month set beside each published one, and notes on those that differ."""
    if holdout < 0 or holdout >= len(months_all):
        raise CalibrationError("--holdout", f"{holdout} months held out leaves none to fit ({len(months_all)} months given)")
    fit_months = months_all[: len(months_all) - holdout]
    years = years_to_cover(scenario, months_all) if months_all[0] >= contract_months(scenario)[0] else 1
    notes: list[str] = []
    covered = contract_months(scenario.model_copy(update={"run": scenario.run.model_copy(update={"years": years})}))
    months = matching_months(months_all, covered)
    for m in months_all:
        if m not in months:
            raise CalibrationError("--rtt", f"month {m} has no calendar month in the run's contract years")
        if months[m] != m:
            notes.append(f"published {m} is set beside simulated {months[m]} (the run starts {scenario.run.start_date})")
    return fit_months, years, months, notes


def fitted_statistics(
    table: pd.DataFrame, functions: list[str], listing: list[str], clinics: dict[str, list[str]]
) -> tuple[pd.DataFrame, list[str]]:
    """The published statistics fitted to, without the admitted pathways of a function none of
    whose clinics lists for surgery, and a note for each such function."""
    stats = published_statistics(table)
    notes = []
    for f in functions:
        if f not in listing:
            stats = stats[~((stats["treatment_function"] == f) & (stats["part"] == "admitted"))]
            notes.append(f"{f}: {', '.join(clinics[f])} list nobody for surgery, so admitted pathways are not fitted")
    return stats, notes


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
