"""``msksim target``: the least capacity that meets a target, found on common random numbers.

The named services' capacity is scaled by one factor (their slots a week, any capacity
changes, or their staff), and the factor searched: first doubled or halved from 1 until the
target is met and missed on either side, then bisected. Every trial runs the same seed, so
the replications see the same patients and a higher factor meets the target on at least
the paths a lower one did (up to the few paths where extra capacity reorders who is seen);
the answer is always a factor that was run and met it. A trial meets the target when the
share of replications that meet it is at least the probability asked for.

No factor is tried below the least at which every searched service's expected load stays
under the maximum (:data:`sim.runs.options.MAX_LOAD`, ``--max-load``) in every year of the run:
a list at load 1 only grows, so a target met there is met only until it has grown. The
answer says which load binds, what the horizon gives (:func:`sim.planning.answer.horizon`) and how it stands
against the rule of thumb (:func:`sim.planning.answer.reconcile`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis import measures
from sim.analysis.diagnostics import asked_weekly, expected_loads
from sim.base.lazy import later
from sim.base.metrics import rtt_monthly, share_interval
from sim.money.payment import INTEGRATOR_COLUMNS
from sim.rtt.summary import parse_metric
from sim.runs.executors import Executor, SerialExecutor
from sim.runs.experiment import Progress, run_batch
from sim.runs.options import MAX_LOAD
from sim.scenario.capacity import scaled_staff
from sim.scenario.columns import column
from sim.scenario.loading import with_values
from sim.scenario.schema import THEATRE, Scenario
from sim.scenario.values import scenario_to_dict, value_at

pd = later("pandas")

LOWEST, HIGHEST = 1 / 16, 16.0
"""The factors the search stops at: below a sixteenth or above sixteen times the capacity set,
the answer is a different service, not the same one resized."""


class TargetError(ValueError):
    """A target that cannot be searched for: a measure or service that does not exist."""


@dataclass(frozen=True)
class Target:
    """What must be met: ``metric`` at least (or at most) ``threshold`` in contract ``year``
    (the last when None), on at least ``probability`` of the replications."""

    metric: str
    threshold: float
    at_least: bool
    year: int | None = None
    probability: float = 0.9
    max_load: float = MAX_LOAD

    def met(self, values: np.ndarray) -> np.ndarray:
        return values >= self.threshold if self.at_least else values <= self.threshold

    @property
    def words(self) -> str:
        side = "at least" if self.at_least else "at most"
        return f"{self.metric} {side} {self.threshold:g} on {self.probability:.0%} of replications"


@dataclass(frozen=True)
class Load:
    """The highest expected load of some services over the years of a run: where and when."""

    load: float
    stage: str
    year: int

    @property
    def words(self) -> str:
        return f"{self.stage} at load {self.load:.3f} in year {self.year}"


@dataclass
class Trial:
    """One factor run: what it offered, how often it met the target, and what it cost."""

    factor: float
    slots: dict[str, float]
    met_share: float
    met_low: float
    met_high: float
    metric_mean: float
    cost_gbp: float
    cost_metric: str
    met: bool
    peak: Load | None = None
    at_floor: bool = False
    """Whether the factor was the least the maximum load allows: there the load, not the target, binds."""
    monthly: pd.DataFrame = field(repr=False, default_factory=lambda: pd.DataFrame())


SEARCHES = ("capacity", "maximum", "trigger")
"""What ``target`` searches: the capacity set; a managed policy's most sessions a week
(``max_sessions``); or its triggers (``add_at`` and ``remove_at`` together, a factor above 1
acting on a shorter list, or a higher share within 18 weeks)."""

POLICY_KEYS = {"maximum": ("max_sessions",), "trigger": ("add_at", "remove_at")}


def capacity_values(scenario: Scenario, design: str, stages: list[str], searched: str = "capacity") -> dict[str, Any]:
    """The values that set the named services' capacity in ``design``, by key path: where the
    design overrides a service, its override; staff when capacity is given as staff. With
    ``searched`` ``maximum`` or ``trigger``, those of each service's managed capacity policy."""
    data = scenario_to_dict(scenario)
    known = [*scenario.designs[design].services, THEATRE]
    out: dict[str, Any] = {}
    for stage in stages:
        if stage not in known:
            raise TargetError(f"--stage {stage}: not a service of design '{design}' (or '{THEATRE}'); known: {', '.join(known)}")
        if searched in POLICY_KEYS:
            policy = scenario.capacity_policy(design, stage)
            key = scenario.capacity_key(design, stage, "capacity_policy")
            if policy.kind != "managed":
                raise TargetError(f"--search {searched}: {stage}'s capacity policy in design '{design}' is {policy.kind}, "
                                  f"not managed ({key}); search its capacity instead")  # fmt: skip
            out |= {f"{key}.{leaf}": getattr(policy, leaf) for leaf in POLICY_KEYS[searched]}
            continue
        for key in ("slots_per_week", "capacity_changes", "staff"):
            path = scenario.capacity_key(design, stage, key)
            value = value_at(data, path)
            if value:
                out[path] = value
    return out


def at_factor(scenario: Scenario, values: dict[str, Any], factor: float) -> Scenario:
    """The scenario with the capacity values scaled by ``factor`` (and validated again): slots and
    staff times it; a policy's most sessions times it, in whole sessions (rounded up); its list
    triggers over it, and what its share-within-18-weeks triggers leave past 18 weeks over it."""
    scaled: dict[str, Any] = {}
    for path, value in values.items():
        if path.endswith("slots_per_week"):
            scaled[path] = float(value) * factor
        elif path.endswith("capacity_changes"):
            scaled[path] = [{**c, "slots_per_week": float(c["slots_per_week"]) * factor} for c in value]
        elif path.endswith(".max_sessions"):
            scaled[path] = max(math.ceil(value * factor - 1e-9), 1)
        elif path.endswith((".add_at", ".remove_at")):
            share = value_at(scenario_to_dict(scenario), path.rsplit(".", 1)[0] + ".measure") == "within_18w_pct"
            scaled[path] = 100.0 - (100.0 - float(value)) / factor if share else float(value) / factor
        else:  # staff: more (or fewer) of each group
            scaled[path] = scaled_staff(value, factor)
    return with_values(scenario, scaled, f"{scenario.name} (msksim target, x{factor:.6g})", how=None)


def searched_values(values: dict[str, Any]) -> dict[str, Any]:
    """The values a trial reports: slots a week, or a policy's values searched."""
    return {k: v for k, v in values.items() if k.endswith(("slots_per_week", ".max_sessions", ".add_at", ".remove_at"))}


def check_target(scenario: Scenario, design: str, target: Target) -> None:
    """Raise :class:`TargetError` unless the measure is one a run of the design writes, has a
    better direction and a threshold it can reach, and the year is in the run."""
    try:
        measures.check(target.metric, scenario, [design])
    except measures.MeasureError as e:
        raise TargetError(str(e)) from None
    of_returns = parse_metric(target.metric)
    if of_returns is not None:
        if of_returns.statistic == "per_month":
            raise TargetError(f"--metric {target.metric}: a count of pathways has no better direction to meet")
        share = of_returns.statistic == "within_18w_pct"
    else:
        col = column(target.metric)
        if col.unit in ("id", "text"):
            raise TargetError(f"--metric {target.metric}: not a number")
        share = col.unit == "pct"
        if target.metric in INTEGRATOR_COLUMNS and scenario.designs[design].payment == "activity":
            raise TargetError(
                f"--metric {target.metric}: blank for design '{design}': it is paid by activity, with no integrator "
                "to have one; choose a design with an integrator, or another measure"
            )
    option = "--at-least" if target.at_least else "--at-most"
    if not math.isfinite(target.threshold):
        raise TargetError(f"{option} {target.threshold}: expected a finite number")
    if share and (target.threshold > 100 if target.at_least else target.threshold < 0):
        raise TargetError(f"{option} {target.threshold:g}: {target.metric} is a percentage, between 0 and 100")
    if target.year is not None and not 1 <= target.year <= scenario.run.years:
        raise TargetError(f"--year {target.year}: the run has contract years 1 to {scenario.run.years}")
    if not 0 < target.probability <= 1:
        raise TargetError(f"--probability {target.probability}: expected more than 0 and at most 1")
    if not 0 < target.max_load <= 1:
        raise TargetError(f"--max-load {target.max_load:g}: expected more than 0 and at most 1")


def peak_load(scenario: Scenario, design: str, stages: list[str], asked: tuple[dict[str, float], dict[str, float]] | None = None
              ) -> Load:  # fmt: skip
    """The highest expected load of ``stages`` in any contract year of the run (traffic
    equations at the scenario's central values, :func:`sim.analysis.diagnostics.expected_loads`)."""
    loads = expected_loads(scenario, design, asked)
    return max((Load(v, stage, year) for stage in stages for year, v in enumerate(loads[stage], 1)), key=lambda x: x.load)


def least_safe_factor(scenario: Scenario, design: str, stages: list[str], values: dict[str, Any], max_load: float
                      ) -> float | None:  # fmt: skip
    """The least factor on ``values`` at which every one of ``stages`` has an expected load below
    ``max_load`` in every year (to 0.1%); :data:`LOWEST` when all are below it there, None when
    not even :data:`HIGHEST` times the capacity brings them below (a search that does not
    change their capacity, such as the list triggers)."""
    asked = asked_weekly(scenario, design)

    def safe(f: float) -> bool:  # under the maximum as shown, to three places
        return peak_load(at_factor(scenario, values, f), design, stages, asked).load < max_load - 5e-4

    # where the factor scales every slot, the load falls as 1 / factor: the first guess is exact
    high = min(max(peak_load(scenario, design, stages, asked).load / max_load * (1 + 1e-6), LOWEST), HIGHEST)
    while not safe(high):
        if high >= HIGHEST:
            return None
        high = min(high * 1.25, HIGHEST)
    low = high
    while safe(low):
        if low <= LOWEST:
            return LOWEST
        high, low = low, max(low / 1.25, LOWEST)
    while high / low - 1 > 1e-3:
        mid = math.sqrt(high * low)
        high, low = (mid, low) if safe(mid) else (high, mid)
    return high


def run_trial(
    scenario: Scenario, design: str, target: Target, values: dict[str, Any], factor: float, executor: Executor,
    uncertainty: bool = True, progress: Progress | None = None,
) -> Trial:  # fmt: skip
    """Simulate the design at one factor and judge it against the target."""
    s = at_factor(scenario, values, factor)
    result = run_batch(s, [design], s.run.replications, executor=executor, uncertainty=uncertainty, progress=progress)
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} replication(s) failed; first:\n{result.errors[0].error}")
    table = result.table
    year = target.year or s.run.years
    values_now = measures.values(table, result.returns, target.metric, design, year)
    if not len(values_now) or np.isnan(values_now).all():
        raise TargetError(f"--metric {target.metric}: blank for design '{design}' in year {year}")
    met = target.met(values_now)
    share, low, high, _ = share_interval(met.astype(float)) if len(met) > 1 else (float(met.mean()), np.nan, np.nan, 1)
    costed = table["capacity_cost_gbp"].notna().any() if "capacity_cost_gbp" in table else False
    cost_metric = "capacity_cost_gbp" if costed else "commissioner_cost_gbp"
    cost = float(table[table["year"] == year][cost_metric].mean())
    offered = at_factor_values(s, values)
    return Trial(
        factor=factor,
        slots={k: float(v) for k, v in searched_values(offered).items()},
        met_share=share, met_low=low, met_high=high,
        metric_mean=float(np.nanmean(values_now)) if len(values_now) else float("nan"),
        cost_gbp=cost, cost_metric=cost_metric,
        met=bool(share >= target.probability - 1e-12),
        peak=peak_load(s, design, stages_of(values)),
        monthly=rtt_monthly(result.monthly, s),
    )  # fmt: skip


def at_factor_values(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The values at the keys of ``values`` as ``scenario`` (a trial's) sets them."""
    data = scenario_to_dict(scenario)
    return {path: value_at(data, path) for path in values}


def stages_of(values: dict[str, Any]) -> list[str]:
    """The services (or ``theatre``) the key paths of ``values`` set."""
    out = []
    for path in values:
        parts = path.split(".")
        if parts[0] == "surgery":
            stage = THEATRE
        elif "stage_overrides" in parts:
            stage = parts[parts.index("stage_overrides") + 1]
        else:
            stage = parts[1]
        if stage not in out:
            out.append(stage)
    return out


def search(
    scenario: Scenario,
    design: str,
    stages: list[str],
    target: Target,
    *,
    executor: Executor | None = None,
    tolerance: float = 0.01,
    uncertainty: bool = True,
    report: Callable[[Trial], None] | None = None,
    progress: Callable[[float], Progress | None] | None = None,
    searched: str = "capacity",
) -> tuple[Trial | None, list[Trial]]:
    """The least factor on the named services' capacity that meets ``target``, to within
    ``tolerance`` (relative), and every trial run; None when even :data:`HIGHEST` times the
    capacity does not meet it. ``report`` is told of each trial as it finishes; ``progress``,
    given a factor, returns the callback its replications report to."""
    check_target(scenario, design, target)
    values = capacity_values(scenario, design, stages, searched)
    floor = safe_floor(scenario, design, stages, values, target.max_load, searched)
    executor = executor or SerialExecutor()
    trials: list[Trial] = []

    def trial(f: float) -> Trial:
        t = run_trial(scenario, design, target, values, f, executor, uncertainty, progress(f) if progress else None)
        t.at_floor = f <= floor
        trials.append(t)
        if report:
            report(t)
        return t

    first = trial(max(1.0, floor))
    met, missed = (first, None) if first.met else (None, first)
    while met is None and missed.factor < HIGHEST:
        t = trial(min(missed.factor * 2, HIGHEST))
        met, missed = (t, missed) if t.met else (None, t)
    if met is None:
        return None, trials
    while missed is None and met.factor > floor:
        t = trial(max(met.factor / 2, floor))
        met, missed = (t, None) if t.met else (met, t)
    while missed is not None and met.factor / missed.factor - 1 > tolerance:
        t = trial(float(np.sqrt(met.factor * missed.factor)))  # halfway in ratio: the bracket narrows evenly
        met, missed = (t, missed) if t.met else (met, t)
    return met, trials


def safe_floor(scenario: Scenario, design: str, stages: list[str], values: dict[str, Any], max_load: float,
               searched: str = "capacity") -> float:  # fmt: skip
    """The least factor the search may try: every searched service under ``max_load`` in every
    year of the run (:func:`least_safe_factor`).

    Raises
    ------
    TargetError
        When no factor the search may try brings them under it, saying which service and year bind.
    """
    floor = least_safe_factor(scenario, design, stages, values, max_load)
    if floor is not None:
        return floor
    peak = peak_load(at_factor(scenario, values, HIGHEST), design, stages)
    if searched == "trigger":
        why = ("the list triggers change when capacity is added, not how much may be: search the capacity "
               "(--search capacity) or the most sessions a week (--search maximum)")  # fmt: skip
    else:
        why = f"not even at x{HIGHEST:g} the capacity set ({peak.words})"
    raise TargetError(f"--max-load {max_load:g}: {peak.stage} cannot be brought under it in every year of the run: {why}")


