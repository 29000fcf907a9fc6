"""The simulation-based fit: a small search over an area's unknowns, with common random numbers.

Every candidate is simulated with the same seed and replications, so two candidates differ
only by the values tried, not by chance, and a coordinate search (each unknown in turn, a
step up and a step down, the steps halved when none helps) moves downhill on a surface
without noise. The loss is the published targets' own tolerances: for each month, function
and part, the simulated count's relative error over 15%, the share within 18 weeks' error
over 5 points and the median's over 2 weeks, squared and averaged; so a loss at or below 1
on every term meets every target. Every part's count is a target: completed pathways are as
many as demand sends while a service keeps up, but a capacity cut below demand cuts them too,
and a fit that watched waits alone would make waits by starving the lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.base.lazy import later
from sim.rtt.bands import BAND_LABELS
from sim.rtt.compare import PARTS, monthly_statistics
from sim.runs.executors import Executor
from sim.runs.tasks import Task
from sim.scenario.loading import with_values
from sim.scenario.schema import Scenario

pd = later("pandas")

TOLERANCES = {"per_month": 0.15, "within_18w_pct": 5.0, "median_weeks": 2.0}
"""The calibration targets: counts within 15%, the share within 18 weeks within 5 points,
the median within 2 weeks."""

REMOVAL_SCALE = "removal_scale"
"""The knobs that scale the removal rates the arithmetic gave (not scenario keys): one for the
outpatient lists, one for the surgical list."""

MEDIAN_DELAY = "median_delay_days"
"""The knob of a clinic's median delay before a first slot could be offered: the booking lead
plus ln 2 times the spread (not a scenario key; the lead is derived from it)."""

LN2 = math.log(2.0)

MIN_FOR_STATISTICS = 50
"""The NHS publishes no median or 95th percentile for fewer pathways; nor is one fitted."""


@dataclass(frozen=True)
class Knob:
    """One unknown: the scenario key it sets, where the search starts and its bounds.

    ``log`` knobs move by a factor (capacity, rates), the others by an amount (days).
    """

    key: str
    start: float
    low: float
    high: float
    log: bool
    step: float
    why: str
    integer: bool = False

    def clip(self, value: float) -> float:
        """Within bounds, and rounded (whole days; capacity and rates to 4 significant
        figures), so the value written is the value simulated."""
        value = min(max(value, self.low), self.high)
        return float(round(value)) if self.integer else float(f"{value:.4g}")

    def moved(self, value: float, step: float, sign: int) -> float:
        return self.clip(value * math.exp(sign * step) if self.log else value + sign * step)


@dataclass
class Evaluation:
    """A candidate's simulated monthly statistics and its loss."""

    values: dict[str, float]
    statistics: pd.DataFrame
    loss: float
    terms: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())


def simulated_statistics(outcomes: list[Any], months: dict[str, str], functions: list[str]) -> pd.DataFrame:
    """Per replication, published month, function and part: the count and NHS statistics of
    the simulated returns (``months`` maps each published month to the simulated one)."""
    back = {sim: pub for pub, sim in months.items()}
    rows = []
    for o in outcomes:
        for month, _year, function, part, *counts in o.traces["returns"]:
            if month in back and function in functions and part in PARTS and _year > 0:
                band = dict(zip(BAND_LABELS, counts, strict=False))
                rows.append({"replication": o.task.replication, "month": back[month], "treatment_function": function,
                             "part": part, **band})  # fmt: skip
    frame = pd.DataFrame(rows, columns=["replication", "month", "treatment_function", "part", *BAND_LABELS])
    return monthly_statistics(frame, ["replication", "month", "treatment_function", "part"])


def mean_statistics(stats: pd.DataFrame) -> pd.DataFrame:
    """Simulated statistics averaged over replications, per month, function and part."""
    keys = ["month", "treatment_function", "part"]
    return stats.groupby(keys, as_index=False)[["per_month", "within_18w_pct", "median_weeks", "p95_weeks"]].mean()


def loss_terms(simulated: pd.DataFrame, published: pd.DataFrame, counted: tuple[str, ...] = PARTS) -> pd.DataFrame:
    """Each target's error in units of its tolerance: one row per month, function, part and
    statistic. ``published`` holds :func:`sim.rtt.compare.monthly_statistics` rows; only the
    ``counted`` parts' counts are targets."""
    keys = ["month", "treatment_function", "part"]
    both = published.merge(simulated, on=keys, how="left", suffixes=("_published", "_simulated"))
    rows = []
    for _, r in both.iterrows():
        for stat, tol in TOLERANCES.items():
            pub, sim = r[f"{stat}_published"], r[f"{stat}_simulated"]
            if stat != "per_month" and r["per_month_published"] < MIN_FOR_STATISTICS:
                continue
            if stat == "per_month" and r["part"] not in counted:
                continue
            if pd.isna(pub):
                continue
            if pd.isna(sim):  # nothing simulated where pathways were published
                err = -1.0 / tol if stat == "per_month" else 10.0
            elif stat == "per_month":
                err = (sim / pub - 1.0) / tol if pub > 0 else (sim > 0) * 10.0
            else:
                err = (sim - pub) / tol
            rows.append({**{k: r[k] for k in keys}, "statistic": stat, "published": pub, "simulated": sim, "error": err})
    return pd.DataFrame(rows, columns=[*keys, "statistic", "published", "simulated", "error"])


def loss(terms: pd.DataFrame) -> float:
    """Mean squared error in tolerance units."""
    return float((terms["error"] ** 2).mean()) if len(terms) else float("nan")


class Fitter:
    """Simulates candidates of one design on an executor, ``replications`` each, and searches."""

    def __init__(
        self,
        scenario: Scenario,
        design: str,
        knobs: list[Knob],
        published: pd.DataFrame,
        months: dict[str, str],
        executor: Executor,
        replications: int = 2,
        fixed: dict[str, Any] | None = None,
        progress: Callable[[int], None] | None = None,
        fit_months: list[str] | None = None,
        expand: Callable[[dict[str, float]], dict[str, Any]] | None = None,
        counted: tuple[str, ...] = PARTS,
    ):
        self.scenario, self.design, self.knobs = scenario, design, knobs
        self.published, self.months = published, months
        self.functions = sorted(set(published["treatment_function"]))
        self.executor, self.replications = executor, replications
        self.fixed = fixed or {}
        self.progress = progress or (lambda n: None)
        self.evaluations = 0
        self.fit_months = fit_months or sorted(set(published["month"]))
        self.expand = expand or (lambda values: dict(values))
        self.counted = counted

    def scenario_for(self, values: dict[str, float]) -> Scenario:
        """The scenario with the fixed values and a candidate's values set."""
        return with_values(
            self.scenario, {**self.fixed, **self.scenario_values(values)}, f"{self.scenario.name} [calibration]", how=None
        )

    def scenario_values(self, values: dict[str, float]) -> dict[str, Any]:
        """A candidate as scenario keys and values (whole days where the key wants them)."""
        knobs = {k.key: k for k in self.knobs}
        return self.expand({key: (int(v) if knobs[key].integer else v) for key, v in values.items()})

    def simulate(self, candidates: list[dict[str, float]]) -> list[pd.DataFrame]:
        """Per-replication statistics of each candidate, all months simulated."""
        scenarios = {i: self.scenario_for(c) for i, c in enumerate(candidates)}
        tasks = [Task(i, r, self.design) for r in range(self.replications) for i in scenarios]
        outcomes: dict[int, list[Any]] = {i: [] for i in scenarios}
        for o in self.executor.run(scenarios, tasks, False):
            if o.error:
                raise RuntimeError(f"a calibration run failed:\n{o.error}")
            outcomes[o.task.point].append(o)
            self.progress(1)
        self.evaluations += len(candidates)
        return [simulated_statistics(outcomes[i], self.months, self.functions) for i in scenarios]

    def evaluate(self, candidates: list[dict[str, float]]) -> list[Evaluation]:
        out = []
        fitted = self.published[self.published["month"].isin(self.fit_months)]
        for values, stats in zip(candidates, self.simulate(candidates), strict=True):
            terms = loss_terms(mean_statistics(stats), fitted, self.counted)
            out.append(Evaluation(dict(values), stats, loss(terms), terms))
        return out

    def search(self, rounds: int = 4, min_step: float = 0.04, start: Evaluation | None = None) -> Evaluation:
        """Coordinate search from the knobs' starting values (or from ``start``): each knob in
        turn a step down and up (two steps each way in the first round), keeping the best;
        when a round finds nothing better the steps are halved."""
        best = start or self.evaluate([{k.key: k.clip(k.start) for k in self.knobs}])[0]
        steps = {k.key: k.step for k in self.knobs}
        for n in range(rounds):
            improved = False
            reach = (-2, -1, 1, 2) if n == 0 else (-1, 1)  # the first round looks twice as far
            for knob in self.knobs:
                here = best.values[knob.key]
                tries = {knob.moved(here, steps[knob.key], s) for s in reach} - {here}
                if not tries:
                    continue
                for e in self.evaluate([{**best.values, knob.key: v} for v in sorted(tries)]):
                    if e.loss < best.loss - 1e-9:
                        best, improved = e, True
            if not improved:
                steps = {key: s / 2 for key, s in steps.items()}
                if all(s < (min_step if k.log else 1.0) for k, s in zip(self.knobs, steps.values(), strict=True)):
                    break
        return best


def published_statistics(published: pd.DataFrame) -> pd.DataFrame:
    """The published returns' monthly count and statistics per function and part."""
    frame = published[published["part"].isin(PARTS)]
    return monthly_statistics(frame, ["month", "treatment_function", "part"])
