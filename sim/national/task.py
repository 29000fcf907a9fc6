"""One area of a national batch, start to end, as one task that can run anywhere.

The template scaled to the area is fitted to the area's returns (all months but those held
out), back-tested on the held-out months beside the naive forecast, and then run with the
design compared (the prime as delivered, and as claimed where the template has it) on the same
patients. Everything the task needs travels with it and everything it gives back is plain data
(a journal line), so an area gives the same numbers in this process, a worker process or on a
Dask worker.
"""

from __future__ import annotations

import math
import re
import resource
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.analysis.diagnostics import expected_loads
from sim.base.interrupt import stop_at_day_boundaries
from sim.base.lazy import later
from sim.base.metrics import summarise
from sim.calibrate.area import Calibration, CalibrationError, calibrate, clinics_by_function, setup
from sim.calibrate.fit import TOLERANCES, mean_statistics
from sim.calibrate.output import calibrated_toml
from sim.calibrate.structures import untold_places
from sim.rtt.return_file import ReturnsError
from sim.rtt.summary import summarise_returns
from sim.runs.executors import SerialExecutor
from sim.runs.experiment import run_batch
from sim.scenario.loading import with_values
from sim.scenario.schema import THEATRE, Scenario

pd = later("pandas")

FUNCTION = "110"
"""The treatment function the national table reads: trauma and orthopaedics."""

DIFFERENCES = {
    "rtt_110_incomplete_within_18w_pct": "T&O incomplete pathways within 18 weeks (points)",
    "rtt_110_incomplete_median_weeks": "T&O median wait of incomplete pathways (weeks)",
    "rtt_110_incomplete_per_month": "T&O incomplete pathways (month end)",
    "journey_weeks_mean": "weeks from referral to the end of care",
    "first_op_attendances": "hospital outpatient first attendances a year",
    "listed_for_surgery": "patients listed for surgery a year",
    "commissioner_cost_with_outside_gbp": "commissioner's spend a year, care outside the contract included (GBP)",
}
"""What the table sets the compared design against the fitted one on: each the mean over the
contract years, paired by replication (common random numbers), with its 95% interval."""

LEVELS = ("rtt_110_incomplete_per_month", "rtt_110_incomplete_within_18w_pct", "rtt_110_incomplete_median_weeks")
"""The fitted design's own T&O list and waits, over the contract years."""

BACKTEST = {
    "list_size_pct": ("list", 100 * TOLERANCES["per_month"]),
    "within_18w_points": ("within_18w", TOLERANCES["within_18w_pct"]),
    "median_weeks": ("median", TOLERANCES["median_weeks"]),
}
"""Each back-test measure: its short name in ``national.csv`` and the fit's tolerance for it
(the list in per cent of the published one, the share in points, the median in weeks)."""


@dataclass(frozen=True)
class Settings:
    """How every area of a batch is fitted and compared (the same for all)."""

    design: str
    others: tuple[str, ...]
    holdout: int
    fit_referrals: bool
    reps: int
    rounds: int
    compare_reps: int
    functions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AreaTask:
    """One area: who it is, its population, the template scaled to it and its returns."""

    code: str
    name: str
    population: int
    population_source: str
    scenario: Scenario
    published: Any
    """The area's rows of the returns (a frame of :func:`sim.rtt.returns.read_returns`)."""
    settings: Settings
    fitted_here: tuple[str, ...] = ()
    """Compared designs that were themselves fitted to this area's returns (their ``fitted_to``
    names its code): their difference is the template's own, not a design moved to the area."""
    folder: str = "."
    """The area's folder inside the batch's (``areas/CODE``), for the paths its scenario names."""


@dataclass
class AreaOutcome:
    """What an area gave back: its row of ``national.csv``, its back-test rows, the calibrated
    scenario as TOML, and notes; or the error that stopped it."""

    code: str
    row: dict[str, Any]
    backtest: list[dict[str, Any]] = field(default_factory=list)
    calibrated: str = ""
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    cpu_seconds: float = 0.0
    """CPU time the area took where it ran (not in ``national.csv``, which is the same wherever it runs)."""
    peak_memory_mb: float = 0.0
    """The peak resident memory of the process it ran in, when it ended."""


def run_area(task: AreaTask) -> AreaOutcome:
    """Fit, back-test and compare one area. Never raises but for Ctrl-C: an error is the
    outcome's, with the area's row saying where it stopped, so one area does not stop a batch."""
    began = time.process_time()
    out = _run_area(task)
    out.cpu_seconds = round(time.process_time() - began, 3)
    out.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes
    return out


def _run_area(task: AreaTask) -> AreaOutcome:
    row: dict[str, Any] = identity(task)
    stage = "fit"
    try:
        with stop_at_day_boundaries():
            cal = fit(task)
            row |= fit_columns(task, cal)
            stage = "comparison"
            row |= comparison_columns(task, cal)
        folder = Path(task.folder)
        text = calibrated_toml(cal, folder / "scaled.toml", folder, None, command="msksim national")
        bt = cal.backtest.assign(code=task.code).to_dict("records") if not cal.backtest.empty else []
        return AreaOutcome(task.code, row | {"status": "done"}, bt, text, cal.setup.notes)
    except (CalibrationError, ReturnsError) as e:  # the area's returns cannot be fitted to: said plainly
        return AreaOutcome(task.code, row | {"status": "failed", "error": f"{stage}: {e}"}, error=str(e))
    except Exception as e:  # recorded with the area; the batch goes on
        return AreaOutcome(task.code, row | {"status": "failed", "error": f"{stage}: {type(e).__name__}: {e}"},
                           error=traceback.format_exc())  # fmt: skip


def identity(task: AreaTask) -> dict[str, Any]:
    return {
        "code": task.code,
        "name": task.name,
        "population": task.population,
        "population_source": task.population_source,
    }


def fit(task: AreaTask) -> Calibration:
    """The fitted design fitted to the area's months, capacity held as set (the returns tell the
    capacity in force in their months), the referral volume free of the template's range."""
    s = task.scenario
    # a range for the referrals scaled from the template's area says nothing of this one's
    free = {k: v for k, v in s.uncertainty.items() if k != "demand.referrals_per_year"}
    s = s.model_copy(update={"uncertainty": free, "run": s.run.model_copy(update={"capacity_policies": "fixed"})})
    cfg = task.settings
    functions = list(cfg.functions) if cfg.functions else None
    st = setup(s, cfg.design, task.published, task.code, functions, cfg.holdout, cfg.fit_referrals)
    return calibrate(st, SerialExecutor(), cfg.reps, cfg.rounds, structures=False)


def fit_columns(task: AreaTask, cal: Calibration) -> dict[str, Any]:
    """The fitted values, the fit's error, the back-test against the naive forecast, and the
    published and fitted T&O list and waits in the last month fitted."""
    st = cal.setup
    values = cal.best.values
    over = f"designs.{st.design}.stage_overrides."
    t_and_o = clinics_by_function(st.scenario, st.design).get(FUNCTION, [])
    clinics = [f"{over}{c}.slots_per_week" for c in t_and_o if f"{over}{c}.slots_per_week" in values]
    knobs = {k.key: k for k in st.knobs}
    referrals = values.get("demand.referrals_per_year", st.scenario.demand.referrals_per_year)
    row: dict[str, Any] = {
        "months_fitted": f"{st.fit_months[0]} to {st.fit_months[-1]}",
        "months_held_out": ", ".join(st.holdout_months),
        "referrals_per_year": referrals,
        "referrals_fitted": "demand.referrals_per_year" in values,
        "t_and_o_slots_per_week": sum(values[k] for k in clinics) if clinics else math.nan,
        "theatre_slots_per_week": values.get(f"{over}{THEATRE}.slots_per_week", math.nan),
        "fit_loss_start": cal.start.loss,
        "fit_loss": cal.best.loss,
        "fit_within_tolerance": cal.best.loss <= 1.0,
        "candidates": cal.evaluations,
    }
    fitted = with_values(st.scenario, cal.scenario_values, f"{st.scenario.name} [fitted]", how=None)
    loads = expected_loads(fitted, st.design)
    row["t_and_o_load"] = max((loads[n][0] for n in t_and_o if n in loads), default=math.nan)
    row["theatre_load"] = loads[THEATRE][0] if THEATRE in loads else math.nan
    last = st.fit_months[-1]
    pub = st.statistics
    sim = mean_statistics(cal.best.statistics)
    for prefix, frame in (("published", pub), ("fitted", sim)):
        pick = frame[(frame["month"] == last) & (frame["treatment_function"] == FUNCTION) & (frame["part"] == "incomplete")]
        for stat, name in (("per_month", "list"), ("within_18w_pct", "within_18w_pct"), ("median_weeks", "median_weeks")):
            row[f"{prefix}_110_{name}"] = float(pick[stat].iloc[0]) if len(pick) else math.nan
    row |= backtest_columns(cal.backtest)
    flags = []
    if task.population_source != "population file":
        flags.append("population estimated")
    untold = untold_places(cal.identified)
    if untold:
        flags.append(f"returns do not tell the capacity of {', '.join(untold)}")
    if not row["fit_within_tolerance"]:
        flags.append(f"fit misses its tolerances (loss {cal.best.loss:.2f})")
    ref = knobs.get("demand.referrals_per_year")
    if ref is not None and (math.isclose(referrals, ref.low, rel_tol=0.01) or math.isclose(referrals, ref.high, rel_tol=0.01)):
        flags.append("referrals at the end of their range")
    if row.get("backtest_outside_tolerance"):
        flags.append(f"back-test outside the fit's tolerance ({row['backtest_outside_tolerance']})")
    if row.get("backtest_beats_naive") is not None and row["backtest_beats_naive"] < 2:
        flags.append("back-test no better than the naive forecast")
    for design in task.fitted_here:
        flags.append(f"these returns are {design}'s: the {st.design} design stands in for one that was not running")
    row["untold_capacity"] = ", ".join(untold)
    row["flags"] = "; ".join(flags)
    return row


def backtest_columns(bt: pd.DataFrame) -> dict[str, Any]:
    """Mean absolute error of the model and of the naive forecast on the held-out T&O months, per
    measure, and on how many measures the model does at least as well."""
    if bt.empty:
        return {}
    mine = bt[bt["treatment_function"] == FUNCTION]
    out: dict[str, Any] = {}
    beats, within, outside = 0, 0, []
    for measure, (short, tolerance) in BACKTEST.items():
        m = mine[mine["measure"] == measure]
        model, naive = float(m["model_error"].abs().mean()), float(m["naive_error"].abs().mean())
        out[f"backtest_{short}_error"] = model
        out[f"naive_{short}_error"] = naive
        beats += int(model <= naive)
        if model <= tolerance:
            within += 1
        else:
            outside.append(short)
    out["backtest_beats_naive"] = beats
    out["backtest_within_tolerance"] = within
    out["backtest_outside_tolerance"] = ", ".join(outside)
    return out


def comparison_columns(task: AreaTask, cal: Calibration) -> dict[str, Any]:
    """The fitted design and each compared one on the same patients over the template's contract
    years, capacity policies as the template sets them: the fitted design's T&O list and waits,
    and each compared design's paired difference with its 95% interval."""
    cfg = task.settings
    scenario = with_values(task.scenario, cal.scenario_values, f"{task.scenario.name} [fitted]", how=None)
    designs = [cfg.design, *cfg.others]
    result = run_batch(scenario, designs, cfg.compare_reps, executor=SerialExecutor(), uncertainty=False)
    if result.errors:
        raise RuntimeError(f"a comparison run failed:\n{result.errors[0].error}")
    table = result.table.drop(columns=["point"])
    returns = result.returns.drop(columns=["point"], errors="ignore")
    summary = pd.concat([summarise(table, cfg.design, *cfg.others), summarise_returns(returns, cfg.design, *cfg.others)])
    whole = summary[summary["year"] == "all"].set_index(["scope", "metric"])
    out: dict[str, Any] = {"compare_reps": cfg.compare_reps, "years": task.scenario.run.years}
    for metric in LEVELS:
        key = (cfg.design, metric)
        out[f"{cfg.design}_{metric.removeprefix('rtt_')}"] = float(whole.loc[key, "mean"]) if key in whole.index else math.nan
    for other in cfg.others:
        scope = f"{other} - {cfg.design}"
        for metric in DIFFERENCES:
            name = f"{other}_minus_{cfg.design}_{metric.removeprefix('rtt_')}"
            if (scope, metric) in whole.index:
                r = whole.loc[(scope, metric)]
                out[name], out[f"{name}_low"], out[f"{name}_high"] = float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])
            else:
                out[name] = out[f"{name}_low"] = out[f"{name}_high"] = math.nan
    return out


def fitted_here(scenario: Scenario, code: str, designs: list[str]) -> tuple[str, ...]:
    """The designs whose ``fitted_to`` names commissioner ``code`` (as ``(06F)``)."""
    pattern = re.compile(rf"\({re.escape(code)}\)")
    return tuple(d for d in designs if pattern.search(scenario.designs[d].fitted_to or ""))
