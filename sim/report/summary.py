"""The report's first screen, for a board: the question, the answer in a sentence per outcome
(waits, activity, cost; for a bid the safe price and the chance of a loss; for a sweep the
verdict), and the caveats. The details follow in the sections below it."""

from __future__ import annotations

from sim.analysis import diagnostics
from sim.analysis.takeover import TAKES_OVER, sentence, takeovers
from sim.base.lazy import later
from sim.report.kpi import kpi_summary
from sim.report.labels import key_label
from sim.report.page import Section, esc
from sim.report.terminal import fmt
from sim.report.verdicts import sweep_verdicts
from sim.report.view import View
from sim.runs.experiment import grid_points

pd = later("pandas")

FEW_REPLICATIONS = diagnostics.MIN_REPLICATIONS


def summary_section(view: View) -> Section | None:
    """One screen: question, answers, caveats."""
    if view.full.empty:
        return None
    whole = kpi_summary(view)
    whole = whole[whole["year"].astype(str) == "all"].set_index(["scope", "metric"])
    answers = [_waits(view, whole), _activity(view, whole), _cost(view, whole)]
    answers += _bid(view) + _takeover(view) + _sweep(view)
    items = "".join(f"<li><b>{esc(head)}.</b> {esc(text)}</li>" for head, text in answers if text)
    caveats = "".join(f"<li>{esc(c)}</li>" for c in _caveats(view))
    body = (
        f'<p class="lead"><b>The question:</b> {esc(_question(view))}</p>'
        f"<h3>The answer{esc(f' (at {view.point_text}; the sweep verdict covers every point)') if view.sweep else ''}</h3>"
        f"<ul>{items}</ul>"
        f"<h3>Caveats</h3><ul>{caveats}</ul>"
        '<p class="note">Figures are means per contract year over the replications, with 95% intervals; '
        "the sections below give the detail, and the diagnostics the checks.</p>"
    )
    return Section("summary", "Summary", body)


def _question(view: View) -> str:
    s = view.scenario
    years = f"{s.run.years} contract year{'s' if s.run.years != 1 else ''}"
    people = f"{s.population:,} people"
    if view.folder.has("bid_summary"):
        price = _bid_figure(view, "bid_year1_gbp")
        per_head = _per_head(view, "bid_per_head_gbp")
        return (
            f"Is a year-1 price of {fmt(price, 'gbp')}{per_head} for the {view.designs[0]} contract safe, over {years} "
            f"for {people}?"
        )
    if view.sweep:
        keys = " and ".join(key_label(k).lower() for k in view.grid)
        return f"How do waits, activity and cost change with {keys}, and what meets 92% within 18 weeks?"
    if view.pair:
        base, other = view.pair
        return f"What would the {other} design change against the {base} design, over {years} for {people}?"
    return f"What does the {view.designs[0]} design give over {years} for {people}?"


def _value(whole: pd.DataFrame, scope: str, metric: str) -> pd.Series | None:
    return whole.loc[(scope, metric)] if (scope, metric) in whole.index else None


def _with_ci(r: pd.Series | None, unit: str) -> str:
    if r is None or pd.isna(r["mean"]):
        return "–"
    if pd.isna(r["ci_low"]):
        return fmt(r["mean"], unit)
    return f"{fmt(r['mean'], unit)} ({fmt(r['ci_low'], unit)} to {fmt(r['ci_high'], unit)})"


def _difference(view: View, whole: pd.DataFrame, metric: str, unit: str, better: str, what: str = "") -> str:
    """A sentence on the paired difference: its size, and whether the interval excludes zero.

    A percentage's difference is in points; ``what`` names a count (``fewer first attendances``)."""
    if not view.pair:
        return ""
    base, other = view.pair
    r = _value(whole, f"{other} - {base}", metric)
    if r is None or pd.isna(r["mean"]):
        return ""
    clear = pd.notna(r["ci_low"]) and (r["ci_low"] > 0 or r["ci_high"] < 0)
    way = ("higher" if r["mean"] > 0 else "lower") if clear else "no clear difference"
    if what and clear:
        way = f"{'more' if r['mean'] > 0 else 'fewer'} {what}"
    amount = f"{abs(r['mean']):.1f} percentage points" if unit == "pct" else fmt(abs(r["mean"]), unit)
    size = f"{amount} {way}" if clear else way
    judged = f" ({better})" if clear and better else ""
    return f" {other.capitalize()} against {base}: {size}{judged}."


def _waits(view: View, whole: pd.DataFrame) -> tuple[str, str]:
    parts = [
        f"{d}: {_with_ci(_value(whole, d, 'rtt_incomplete_within_18w_pct'), 'pct')} of incomplete pathways within 18 weeks, "
        f"92nd percentile wait {_with_ci(_value(whole, d, 'rtt_wait_p92_weeks'), 'weeks')}"
        for d in view.designs
    ]
    r = _value(whole, f"{view.pair[1]} - {view.pair[0]}", "rtt_incomplete_within_18w_pct") if view.pair else None
    better = "better" if r is not None and r["mean"] > 0 else "worse"
    return "Waits", "; ".join(parts) + "." + _difference(view, whole, "rtt_incomplete_within_18w_pct", "pct", better)


def _activity(view: View, whole: pd.DataFrame) -> tuple[str, str]:
    parts = []
    for d in view.designs:
        first = _value(whole, d, "first_op_attendances")
        ops = [_value(whole, d, m) for m in ("surgeries_daycase", "surgeries_inpatient")]
        operations = sum(float(o["mean"]) for o in ops if o is not None)
        parts.append(
            f"{d}: {fmt(first['mean'], 'count') if first is not None else '–'} first outpatient attendances "
            f"and {fmt(operations, 'count')} operations a year"
        )
    what = "first outpatient attendances a year"
    return "Activity", "; ".join(parts) + "." + _difference(view, whole, "first_op_attendances", "count", "", what)


def _cost(view: View, whole: pd.DataFrame) -> tuple[str, str]:
    parts = [
        f"{d}: {_with_ci(_value(whole, d, 'commissioner_cost_gbp'), 'gbp')} a year to the commissioner" for d in view.designs
    ]
    r = _value(whole, f"{view.pair[1]} - {view.pair[0]}", "commissioner_cost_gbp") if view.pair else None
    better = "cheaper" if r is not None and r["mean"] < 0 else "dearer"
    return "Cost", "; ".join(parts) + "." + _difference(view, whole, "commissioner_cost_gbp", "gbp", better)


def _bid_figure(view: View, metric: str, column: str = "mean") -> float:
    """A whole-contract figure of the bid; NaN if the folder's bid was written before it existed."""
    bs = view.folder.table("bid_summary")
    hit = bs.loc[(bs["metric"] == metric) & (bs["year"].astype(str) == "all"), column]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def _per_head(view: View, metric: str) -> str:
    value = _bid_figure(view, metric)
    return "" if pd.isna(value) else f" (£{value:,.2f} a head)"


def _bid(view: View) -> list[tuple[str, str]]:
    if not view.folder.has("bid_summary"):
        return []
    risk = _bid_figure(view, "max_loss_probability")
    loss = _bid_figure(view, "loss_probability_cumulative")
    low, high = (_bid_figure(view, "loss_probability_cumulative", c) for c in ("ci_low", "ci_high"))
    safe = _bid_figure(view, "safe_price_year1_gbp")
    interval = "" if pd.isna(low) else f" (95% interval {low:.0%} to {high:.0%})"
    safe_text = (
        f"the lowest year-1 price keeping that chance at or under {risk:.0%} is {fmt(safe, 'gbp')}"
        f"{_per_head(view, 'safe_price_per_head_gbp')}"
        if pd.notna(safe)
        else f"no price keeps that chance at or under {risk:.0%} on these paths"
    )
    out = [("The bid", f"the chance of a cumulative loss at this price is {loss:.0%}{interval}; {safe_text}.")]
    npv, rate = _bid_figure(view, "cumulative_surplus_npv_gbp"), _bid_figure(view, "discount_rate")
    if pd.notna(npv):
        whole = _bid_figure(view, "cumulative_surplus_gbp")
        out.append((
            "Present value",
            f"the prime's expected surplus over the contract is {fmt(whole, 'gbp')}, or {fmt(npv, 'gbp')} discounted "
            f"to year 1 at {rate:.1%} a year.",
        ))  # fmt: skip
    if view.folder.has("bid_monthly"):
        reserve = _bid_figure(view, "reserve_gbp")
        held = f"the reserve of {fmt(reserve, 'gbp')}" if reserve > 0 else "its cash (no reserve given)"
        year = _bid_figure(view, "reserve_exhausted_probability_12m")
        ever = _bid_figure(view, "reserve_exhausted_probability_contract")
        buffer = _bid_figure(view, "cash_buffer_90pct_gbp")
        out.append((
            "Cash",
            f"the chance the prime runs through {held} within 12 months is {year:.0%}, and during the contract "
            f"{ever:.0%}; a buffer of {fmt(buffer, 'gbp')} (reserve plus guarantee) covers 90% of the paths.",
        ))  # fmt: skip
    return out


def _returns(view: View) -> pd.DataFrame:
    """The run's RTT returns at the point shown (empty for a folder without them)."""
    return view.csv("rtt_returns") if view.folder.has("rtt_returns") else pd.DataFrame()


def _takeover(view: View) -> list[tuple[str, str]]:
    """A takeover bid: what taking over adds to the prime's cost and to the safe price."""
    if not view.folder.has("takeover"):
        return []
    t = view.folder.table("takeover")
    t = t[t["year"].astype(str) == "all"].set_index("metric")["mean"]
    names = view.folder.batch.get("extra", {}).get(TAKES_OVER, {})
    return [(
        "The takeover",
        f"Against the same prime without it, on the same patients, taking over the lists of "
        f"{names.get('from', 'the old design')} adds {fmt(t['extra_cost_gbp'], 'gbp')} to the prime's costs over the "
        f"contract ({fmt(t['extra_mobilisation_gbp'], 'gbp')} of it mobilisation), changing its surplus by "
        f"{fmt(t['extra_surplus_gbp'], 'gbp')}; the lowest safe year-1 price moves by "
        f"{fmt(t['extra_safe_price_year1_gbp'], 'gbp')} (takeover.csv, year by year in The bid).",
    )]  # fmt: skip


def _sweep(view: View) -> list[tuple[str, str]]:
    if not view.sweep or not view.folder.has("sweep_summary"):
        return []
    summary = view.folder.table("sweep_summary")
    metric = view.folder.batch.get("metric", "rtt_incomplete_within_18w_pct")
    verdicts = sweep_verdicts(summary, list(view.grid), metric, view.scenario, plain=True)
    return [(f"Sweep, {d}", " ".join(v.split())) for d, v in verdicts.items()]


def _caveats(view: View) -> list[str]:
    reps = int(view.full["replication"].nunique())
    out = []
    if reps < FEW_REPLICATIONS:
        out.append(
            f"Only {reps} replication{'s' if reps != 1 else ''}: the intervals are rough; use at least {FEW_REPLICATIONS}."
        )
    points = grid_points(view.scenario, view.grid) if view.sweep else {0: view.scenario}
    checks = diagnostics.stage_checks(view.full, points)
    over = sorted({f"{r.stage} ({r.design})" for r in checks.itertuples() if r.load >= 1})
    if over:
        out.append(
            f"Over capacity: {', '.join(over)}. Such a list grows without limit or is held only by removals; "
            "see the diagnostics for the capacity that would meet demand."
        )
    spread = diagnostics.overloaded_paths(view.table)
    if spread:
        some = ", ".join(f"{o.stage} ({o.design}) in {o.over} of {o.replications}" for o in spread)
        out.append(
            f"Over capacity in some replications only: {some}, from the inputs they drew; their lists grow without "
            "limit there (see the waiting lists)."
        )
    unfitted = view.scenario.unfitted_beside_fitted(list(view.designs))
    if unfitted:
        out.append(unfitted[0].upper() + unfitted[1:] + ".")
    taken = takeovers(view.scenario, list(view.designs), _returns(view))
    out += [sentence(design, what) for design, what in taken.items()]
    afresh = [d for d in view.designs if d not in taken]
    if view.scenario.backlog is None and afresh:
        if not taken:
            out.append("The run starts from empty lists after a warm-up, not from today's list (see Starting from today).")
        else:
            names = ", ".join(f"'{d}'" for d in afresh)
            out.append(
                f"{names} start{'s' if len(afresh) == 1 else ''} from the lists {'its' if len(afresh) == 1 else 'their'} "
                "own warm-up built from empty, not from today's list (see Starting from today)."
            )
    out.append(
        "A model: patients' needs and the services' decisions are drawn from the scenario's rates; the bundled "
        "scenarios are calibrated to the published figures docs/calibration.md lists, with the misses it names."
    )
    return out
