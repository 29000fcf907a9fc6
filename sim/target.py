"""``msksim target``: the least capacity that meets a target, found on common random numbers.

The named services' capacity is scaled by one factor (their slots a week, any capacity
changes, or their staff), and the factor searched: first doubled or halved from 1 until the
target is met and missed on either side, then bisected. Every trial runs the same seed, so
the replications see the same patients and a higher factor meets the target on at least
the paths a lower one did (up to the few paths where extra capacity reorders who is seen);
the answer is always a factor that was run and met it. A trial meets the target when the
share of replications that meet it is at least the probability asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.columns import column
from sim.executors import Executor, SerialExecutor
from sim.experiment import Progress, run_batch
from sim.lazy import later
from sim.metrics import rtt_monthly, share_interval
from sim.rtt.summary import metric_name, parse_metric, per_replication
from sim.scenario import with_values
from sim.schema import THEATRE, Scenario, scaled_staff
from sim.values import key_parts, parse_override, scenario_to_dict, toml_key, toml_value, value_at

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

    def met(self, values: np.ndarray) -> np.ndarray:
        return values >= self.threshold if self.at_least else values <= self.threshold

    @property
    def words(self) -> str:
        side = "at least" if self.at_least else "at most"
        return f"{self.metric} {side} {self.threshold:g} on {self.probability:.0%} of replications"


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


def reported_functions(scenario: Scenario, design: str) -> list[str]:
    """The treatment functions a design's RTT pathways report under."""
    codes = {st.rtt_function for st in scenario.design_stages(design).values()}
    return sorted(c for c in codes if c is not None)


def function_metrics(scenario: Scenario, design: str) -> list[str]:
    """One treatment function's share of incomplete pathways within 18 weeks, for each function
    ``design`` reports under (``rtt_110_incomplete_within_18w_pct``: trauma and orthopaedics),
    as the NHS reports them: the pooled share can be held up by another function's short clocks.
    Any measure of the returns (:func:`sim.rtt.summary.parse_metric`) can be a target too."""
    return [metric_name(f, "incomplete", "within_18w_pct") for f in reported_functions(scenario, design)]


def returns_values(returns: pd.DataFrame, design: str, metric: str, year: int) -> np.ndarray:
    """Per replication (in order): a measure of the returns (``rtt_110_incomplete_within_18w_pct``)
    in contract ``year``, each part's counts pooled over the year's months as a return."""
    if returns.empty:
        return np.array([])
    wide = per_replication(returns[returns["design"] == design])
    rows = wide[wide["year"] == str(year)].sort_values("replication")
    return rows[metric].to_numpy(dtype=float) if metric in rows else np.array([])


def check_target(scenario: Scenario, design: str, target: Target) -> None:
    """Raise :class:`TargetError` unless the measure exists for the design and has a better
    direction, and the year is in the run."""
    of_returns = parse_metric(target.metric)
    if of_returns is not None:
        function = of_returns.treatment_function
        if function not in reported_functions(scenario, design):
            known = ", ".join(function_metrics(scenario, design))
            raise TargetError(f"--metric {target.metric}: design '{design}' reports no pathways under treatment function "
                              f"{function}; it has {known}")  # fmt: skip
        if of_returns.statistic == "per_month":
            raise TargetError(f"--metric {target.metric}: a count of pathways has no better direction to meet")
    else:
        try:
            col = column(target.metric)
        except KeyError:
            functions = ", ".join(function_metrics(scenario, design))
            raise TargetError(f"--metric {target.metric}: not a result column; a result column (docs/results.md, 'Results', "
                              f"and data_dictionary.csv) or one treatment function's: {functions}") from None  # fmt: skip
        if col.unit in ("id", "text"):
            raise TargetError(f"--metric {target.metric}: not a number")
    if target.year is not None and not 1 <= target.year <= scenario.run.years:
        raise TargetError(f"--year {target.year}: the run has contract years 1 to {scenario.run.years}")
    if not 0 < target.probability <= 1:
        raise TargetError(f"--probability {target.probability}: expected more than 0 and at most 1")


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
    rows = table[table["year"] == year].sort_values("replication")
    if parse_metric(target.metric) is not None:
        values_now = returns_values(result.returns, design, target.metric, year)
    elif target.metric not in rows.columns:
        raise TargetError(f"--metric {target.metric}: design '{design}' has no such column")
    else:
        values_now = rows[target.metric].to_numpy(dtype=float)
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
        monthly=rtt_monthly(result.monthly, s),
    )  # fmt: skip


def at_factor_values(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The values at the keys of ``values`` as ``scenario`` (a trial's) sets them."""
    data = scenario_to_dict(scenario)
    return {path: value_at(data, path) for path in values}


def _stages(values: dict[str, Any]) -> list[str]:
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
    executor = executor or SerialExecutor()
    trials: list[Trial] = []

    def trial(f: float) -> Trial:
        t = run_trial(scenario, design, target, values, f, executor, uncertainty, progress(f) if progress else None)
        trials.append(t)
        if report:
            report(t)
        return t

    first = trial(1.0)
    met, missed = (first, None) if first.met else (None, first)
    while met is None and missed.factor < HIGHEST:
        t = trial(min(missed.factor * 2, HIGHEST))
        met, missed = (t, missed) if t.met else (None, t)
    if met is None:
        return None, trials
    while missed is None and met.factor > LOWEST:
        t = trial(max(met.factor / 2, LOWEST))
        met, missed = (t, None) if t.met else (met, t)
    while missed is not None and met.factor / missed.factor - 1 > tolerance:
        t = trial(float(np.sqrt(met.factor * missed.factor)))  # halfway in ratio: the bracket narrows evenly
        met, missed = (t, missed) if t.met else (met, t)
    return met, trials


def trials_table(trials: list[Trial]) -> pd.DataFrame:
    """``target.csv``: one row per trial, in the order run."""
    rows = []
    for t in trials:
        rows.append({
            "factor": t.factor, "met": t.met, "met_share": t.met_share, "met_ci_low": t.met_low, "met_ci_high": t.met_high,
            "metric_mean": t.metric_mean, t.cost_metric: t.cost_gbp, **{f"slots.{k}": v for k, v in t.slots.items()},
        })  # fmt: skip
    return pd.DataFrame(rows)


def trajectory(trial: Trial) -> pd.DataFrame:
    """The answer's RTT waiting list month by month: the mean over replications of each measure."""
    m = trial.monthly
    if m.empty:
        return m
    cols = [c for c in m.columns if c.startswith("rtt_") and pd.api.types.is_numeric_dtype(m[c])]
    return m.groupby("month_end", sort=True)[cols].mean().reset_index()


def target_toml(scenario: Scenario, design: str, answer: Trial, values: dict[str, Any], source: str, sets: list[str],
                target: Target) -> str:  # fmt: skip
    """The answer as a scenario: ``extends`` the one searched and sets the capacity found."""
    found = scenario_to_dict(at_factor(scenario, values, answer.factor))
    lines = [
        f"# {scenario.name}, design '{design}': the least capacity found by `msksim target` to meet",
        f"# {target.words} in contract year {target.year or scenario.run.years}: x{answer.factor:.4g} the capacity set",
        f"# (met on {answer.met_share:.0%} of {scenario.run.replications} replications, seed {scenario.run.seed}).",
        f'extends = "{source}"',
        f'name = "{scenario.name}_target"',
    ]
    for item in sets:  # what was simulated: the values set on the command line too
        key, value = parse_override(item)
        if key not in values:
            lines.append(f"{'.'.join(toml_key(p) for p in key_parts(key) or [key])} = {toml_value(value)}  # set when searched")
    tables: dict[str, list[str]] = {}
    for path, was in values.items():
        table, leaf = path.rsplit(".", 1)
        tables.setdefault(table, []).append(f"{toml_key(leaf)} = {toml_value(value_at(found, path))}  # was {toml_value(was)}")
    for table, rows in tables.items():
        lines += ["", "[" + ".".join(toml_key(p) for p in table.split(".")) + "]", *rows]
    return "\n".join(lines) + "\n"


def structures_range(found: dict[str, tuple[Trial, dict[str, Any]]], target: Target) -> str:
    """The answers under each capacity structure as one range, per service, in words."""
    by_stage: dict[tuple[str, str], dict[str, float]] = {}
    for name, (trial, _) in found.items():
        for key, slots in trial.slots.items():
            by_stage.setdefault((_stages([key])[0], key.rsplit(".", 1)[-1]), {})[name] = slots
    parts = []
    for (stage, leaf), slots in by_stage.items():
        low, high = min(slots, key=slots.__getitem__), max(slots, key=slots.__getitem__)
        unit = {"slots_per_week": "slots a week", "max_sessions": "sessions a week at most"}.get(leaf, f"({leaf})")
        parts.append(f"{stage} {slots[low]:,.0f} ({low}) to {slots[high]:,.0f} ({high}) {unit}")
    factors = ", ".join(f"x{t.factor:.4g} of the {name} structure's capacity" for name, (t, _) in found.items())
    return (
        f"For {target.words}: {'; '.join(parts)} ({factors}). The returns cannot tell which structure holds, "
        "so the capacity needed lies in this range."
    )


STILL = 0.5
"""A measure that moves less than this between the capacity set and :data:`HIGHEST` times it is
held by something other than these services' capacity."""


def unmet(trials: list[Trial], structure: str = "") -> str:
    """Why a search found no capacity, from its trials: what the measure did as capacity grew."""
    under = f"under the {structure} structure, " if structure else ""
    first, last = min(trials, key=lambda t: t.factor), max(trials, key=lambda t: t.factor)
    moved = f"{first.metric_mean:,.4g} at x{first.factor:.4g}, {last.metric_mean:,.4g} at x{last.factor:.4g}"
    if abs(last.metric_mean - first.metric_mean) < STILL:
        return (f"{under}the measure hardly moves with these services' capacity ({moved}): what holds it is not their "
                "capacity (booking delays before a first slot, stale pathways waiting for validation, or another "
                "service)")  # fmt: skip
    return f"{under}the measure moves ({moved}) but not far enough: the target needs more than these services"
