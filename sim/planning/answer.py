"""What ``msksim target`` says of the capacity it found: every service's load at it, what the
answer owes to the horizon (:func:`horizon`), how it stands against the rule of thumb
(:func:`reconcile`), the trials as a table and the answer as a scenario file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.analysis.diagnostics import expected_loads, rule_of_thumb
from sim.base.lazy import later
from sim.model.capacity import available_weekly
from sim.planning.target import Target, Trial, at_factor, searched_values, stages_of
from sim.scenario.schema import Scenario
from sim.scenario.values import key_parts, parse_override, scenario_to_dict, toml_key, toml_value, value_at

pd = later("pandas")


def answer_loads(scenario: Scenario, design: str, values: dict[str, Any], answer: Trial) -> pd.DataFrame:
    """``target_loads.csv``: every service's expected load in each year at the answer's capacity,
    the searched ones marked; for each searched key of slots a week, the value the rule of thumb
    asks (:func:`rules_of_thumb`) beside the value found."""
    loads = expected_loads(at_factor(scenario, values, answer.factor), design)
    searched = stages_of(values)
    rules = {stages_of([key])[0]: (key, rule) for key, rule in rules_of_thumb(scenario, design, values).items()}
    rows = []
    for stage, by_year in loads.items():
        row: dict[str, Any] = {"stage": stage, "searched": stage in searched}
        row |= {f"year_{y}": v for y, v in enumerate(by_year, 1)}
        key, rule = rules.get(stage, ("", math.nan))
        row |= {"key": key, "rule_of_thumb": rule, "found": answer.slots.get(key, math.nan)}
        rows.append(row)
    return pd.DataFrame(rows)


def rules_of_thumb(scenario: Scenario, design: str, values: dict[str, Any]) -> dict[str, float]:
    """For each searched key of slots a week, the value at which the NHSRwaitinglist rule of thumb
    (:func:`sim.analysis.diagnostics.rule_of_thumb`: the analytic steady state of one service, a mean first
    wait of 18 / 4 weeks) holds in the year that asks most of it, in the key's own units."""
    loads = expected_loads(scenario, design)
    out = {}
    for key, now in searched_values(values).items():
        stage = stages_of([key])[0]
        if not key.endswith("slots_per_week") or stage not in loads:
            continue
        needed = []
        for year, load in enumerate(loads[stage], 1):
            capacity = available_weekly(scenario, stage, design, year)
            if capacity > 0:  # the key counts slots before holidays and cancellations: scale as capacity scales
                needed.append(rule_of_thumb(load * capacity) * float(now) / capacity)
        if needed:
            out[key] = max(needed)
    return out


DIFFERS = 0.10
"""Where ``target``'s answer and the rule of thumb differ by more than this share, it says why."""


def reconcile(loads: pd.DataFrame, answer: Trial, target: Target) -> list[str]:
    """How the rule of thumb and the simulated answer relate, service by service, in sentences,
    with why where they differ by more than :data:`DIFFERS`."""
    out = []
    for r in loads[loads["searched"] & loads["rule_of_thumb"].notna()].itertuples(index=False):
        gap = r.found / r.rule_of_thumb - 1 if r.rule_of_thumb > 0 else math.nan
        said = (f"{r.stage}: the rule of thumb (analytic steady state of the service alone) asks {r.rule_of_thumb:,.1f} of "
                f"{r.key}; the simulated answer is {r.found:,.1f} ({gap:+.0%})")  # fmt: skip
        own = max(v for k, v in r._asdict().items() if k.startswith("year_"))
        binds = answer.peak is not None and answer.peak.stage == r.stage
        if abs(gap) <= DIFFERS:
            out.append(said + ".")
        elif gap > 0 and not binds and len(loads[loads["searched"]]) > 1:
            bound = answer.peak.stage if answer.peak is not None else "another"
            out.append(said + (
                f": one factor scales the searched services together, and {bound} sets it; this one is left at a load of "
                f"{own:.3f} at most: search it alone (--stage {r.stage}) for its own least."))  # fmt: skip
        elif gap > 0 and answer.at_floor:
            out.append(said + (
                f": the rule keeps the service's own mean first wait at 4.5 weeks, which for a service of this size is "
                f"a load close to 1, while the answer keeps the load under {target.max_load:g} in every year so that its "
                "list settles (--max-load)."))  # fmt: skip
        elif gap > 0:
            out.append(said + (
                ": the simulated target needs more than the steady state of one service: the calendar (holidays, "
                "reduced periods), booking, variable demand and the waits at the other services on the same clocks "
                "all lengthen the pathway the target counts."))  # fmt: skip
        else:
            out.append(said + (
                ": the target is met with less than the rule asks: the 18-week share counts whole pathways, most of "
                "which wait far less than one service's mean, and patients leaving the list unseen shorten it."))  # fmt: skip
    return out


def years_to(load: float, limit: float, growth: float) -> float:
    """Years of demand growing by ``growth`` a year that take a load from ``load`` to ``limit``."""
    if load >= limit:
        return 0.0
    return math.log(limit / load) / math.log1p(growth) if growth > 0 and load > 0 else math.inf


SETTLED = 5.0
"""A list that grows by more percentage points than referrals over the target's year has not
settled: the target is met there only because it has not grown yet."""


def horizon(scenario: Scenario, design: str, loads: pd.DataFrame, answer: Trial, target: Target) -> list[str]:
    """What the answer owes to the horizon, in sentences: which load binds and when; how long
    demand growth takes to bring it to the maximum load and to 1; whether the list settled in the
    target's year; and any service not searched whose load reaches the maximum."""
    years = scenario.run.years
    cols = [f"year_{y}" for y in range(1, years + 1)]
    growth = scenario.demand.growth
    out = []
    peak = answer.peak
    if peak is not None:
        bound = "the maximum load binds" if answer.at_floor else "the target binds"
        out.append(f"Highest expected load of the searched services: {peak.words} (maximum {target.max_load:g}): {bound}.")
        searched = loads[loads["searched"]]
        last = float(searched[cols[-1]].max())
        to_max, to_one = years_to(last, target.max_load, growth), years_to(last, 1.0, growth)
        if math.isfinite(to_one):
            reaches = f"{target.max_load:g} about {to_max:.1f} and 1" if to_max >= 0.05 else "1"
            out.append(
                f"With referrals growing {growth:.1%} a year, the highest load reaches {reaches} about {to_one:.1f} years "
                f"after year {years}, the run's last, at this capacity: past then its list grows without limit. A longer "
                "horizon (--years) gives a capacity that holds longer."
            )
        else:
            out.append(f"Referrals do not grow: the load stays under {target.max_load:g} past year {years} at this capacity.")
    year = target.year or years
    months = answer.monthly
    if not months.empty and "rtt_incomplete" in months:
        path = trajectory(answer)
        ends = pd.to_datetime(path["month_end"])
        first = add_years_to(scenario, year - 1)
        in_year = path[(ends > first) & (ends <= add_years_to(scenario, year))]
        if len(in_year) >= 6:
            start, end = in_year["rtt_incomplete"].iloc[:3].mean(), in_year["rtt_incomplete"].iloc[-3:].mean()
            grew = 100.0 * (end / start - 1) if start > 0 else 0.0
            if grew - 100.0 * growth > SETTLED:
                out.append(
                    f"Not settled: the waiting list grew {grew:.0f}% over year {year} (referrals {growth:.1%}); the target is "
                    "met there only because the list has not grown yet. Lower --max-load or run longer (--years)."
                )
            else:
                out.append(f"Settled: the waiting list changed {grew:+.0f}% over year {year} (referrals {growth:+.1%}).")
    others = loads[~loads["searched"]]
    for r in others.itertuples(index=False):
        worst = max(range(years), key=lambda i: getattr(r, cols[i]))
        value = getattr(r, cols[worst])
        if value >= target.max_load:
            out.append(
                f"Warning: {r.stage}, not searched, has a load of {value:.3f} in year {worst + 1}: its list grows whatever "
                f"the searched services have; search it too (--stage {r.stage})."
            )
    return out


def add_years_to(scenario: Scenario, years: int) -> pd.Timestamp:
    """The date ``years`` contract years after the contract start."""
    return pd.Timestamp(scenario.run.start_date) + pd.DateOffset(years=years)


def trials_table(trials: list[Trial]) -> pd.DataFrame:
    """``target.csv``: one row per trial, in the order run."""
    rows = []
    for t in trials:
        rows.append({
            "factor": t.factor, "met": t.met, "met_share": t.met_share, "met_ci_low": t.met_low, "met_ci_high": t.met_high,
            "metric_mean": t.metric_mean, t.cost_metric: t.cost_gbp, **{f"slots.{k}": v for k, v in t.slots.items()},
            "peak_load": t.peak.load if t.peak else np.nan, "peak_load_stage": t.peak.stage if t.peak else "",
            "peak_load_year": t.peak.year if t.peak else np.nan, "at_max_load": t.at_floor,
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
                target: Target, notes: Sequence[str] = ()) -> str:  # fmt: skip
    """The answer as a scenario: ``extends`` the one searched and sets the capacity found; ``notes``
    (:func:`horizon`) say what it owes to the horizon."""
    found = scenario_to_dict(at_factor(scenario, values, answer.factor))
    lines = [
        f"# {scenario.name}, design '{design}': the least capacity found by `msksim target` to meet",
        f"# {target.words} in contract year {target.year or scenario.run.years}: x{answer.factor:.4g} the capacity set",
        f"# (met on {answer.met_share:.0%} of {scenario.run.replications} replications, seed {scenario.run.seed}),",
        f"# with every searched service's expected load under {target.max_load:g} in every year of the run.",
        *(f"# {line}" for line in notes),
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
            by_stage.setdefault((stages_of([key])[0], key.rsplit(".", 1)[-1]), {})[name] = slots
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
