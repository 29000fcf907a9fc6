"""The sweep: the watched metric across grid points, with the verdict on the 18-week standard."""

from __future__ import annotations

from sim.base.lazy import later
from sim.report import charts
from sim.report.labels import key_label, metric_label, value_text, words
from sim.report.page import Section, esc, figure
from sim.report.terminal import fmt, sweep_metrics, unit_of
from sim.report.verdicts import clock_covers, sweep_verdicts
from sim.report.view import View, describe

pd = later("pandas")

SUMMARY_FIELDS = {"point", "design", "metric", "mean", "ci_low", "ci_high", "n"}


def sweep_section(view: View) -> Section | None:
    """A chart over the first swept key, the verdicts, and a table of every grid point."""
    if not view.sweep:
        return None
    summary = view.folder.table("sweep_summary")
    batch = view.folder.batch
    metric = batch.get("metric") or view.folder.manifest.get("batch", {}).get("metric", "rtt_incomplete_within_18w_pct")
    keys = [k for k in view.keys if k in summary.columns] or [c for c in summary.columns if c not in SUMMARY_FIELDS]
    part = summary[summary["metric"] == metric].copy()
    if part.empty or not keys:
        return None
    pct = metric.endswith("_pct")
    if pct:  # a share cannot leave 0-100, whatever the t interval says
        part[["ci_low", "ci_high"]] = part[["ci_low", "ci_high"]].clip(0, 100)
    key = keys[0]
    low = float(part["ci_low"].min()) if pct else None
    fig = charts.sweep(_panels(view, part, keys, metric), key, metric, low, (key_label(key), metric_label(metric)))
    clipped = "; intervals clipped to 0–100%" if pct else ""
    body = figure(fig, f"Each point is one grid point, never pooled with another{clipped}.")
    verdicts = sweep_verdicts(summary, keys, metric, view.scenario, plain=True)
    if verdicts:
        body += "<ul>" + "".join(_verdict_item(d, v) for d, v in verdicts.items()) + "</ul>"
    body += sweep_table(summary, keys, metric)
    return Section("sweep", "The sweep", body)


def _verdict_item(design: str, verdict: str) -> str:
    """One design's verdict; a sweep of several keys gives a line per value of the others."""
    lines = [line.strip() for line in verdict.split("\n")]
    if len(lines) == 1:
        return f"<li><b>{esc(design)}</b>: {esc(verdict)}</li>"
    return f"<li><b>{esc(design)}</b>:<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul></li>"


def _panels(view: View, part: pd.DataFrame, keys: list[str], metric: str) -> list[tuple[str | None, charts.Lines]]:
    """One panel with a line per design; or, with more keys, a panel per design and a line per value of the others."""
    key, others = keys[0], keys[1:]
    if not others:
        return [(None, [(design_label(view, d, key, metric), part[part["design"] == d]) for d in view.designs])]
    return [
        (
            panel,
            [
                (describe(dict(zip(others, combo if isinstance(combo, tuple) else (combo,), strict=True))), sub)
                for combo, sub in part[part["design"] == panel].groupby(others)
            ],
        )
        for panel in view.designs
    ]


def design_label(view: View, design: str, key: str, metric: str) -> str:
    """A design's name, saying so where its 18-week measure does not cover the swept stage."""
    if metric == "rtt_incomplete_within_18w_pct" and clock_covers(view.scenario, design, key) is False:
        return f"{design} (no 18-week clock at {words(key.split('.')[1])})"
    return design


def _summary_cell(part: pd.DataFrame, metric: str, unit: str) -> str:
    hit = part[part["metric"] == metric]
    if hit.empty:
        return "<td>–</td>"
    r = hit.iloc[0]
    lo, hi = r["ci_low"], r["ci_high"]
    if unit != "gbp":  # a share or a count cannot go below zero, nor a share above 100
        lo, hi = max(lo, 0.0), (min(hi, 100.0) if unit == "pct" else hi)
    ci = f'<br><span class="ci">{fmt(lo, unit)} to {fmt(hi, unit)}</span>' if pd.notna(r["ci_low"]) else ""
    return f"<td>{fmt(r['mean'], unit)}{ci}</td>"


def sweep_table(summary: pd.DataFrame, keys: list[str], metric: str) -> str:
    """Every grid point and design: the watched metric, the waiting list and the spend."""
    shown = [(m, unit_of(m)) for m in sweep_metrics(metric)]
    head = "".join(f"<th>{esc(key_label(k))}</th>" for k in keys) + "<th>Design</th>"
    head += "".join(f"<th>{esc(metric_label(m))}</th>" for m, _ in shown)
    rows = ""
    for (_, design), part in summary.groupby(["point", "design"], sort=True):
        cells = "".join(f"<td>{esc(value_text(k, part[k].iloc[0]))}</td>" for k in keys) + f"<td>{esc(design)}</td>"
        cells += "".join(_summary_cell(part, m, u) for m, u in shown)
        rows += f"<tr>{cells}</tr>"
    return f'<div class="scroll"><table class="sweep"><tr>{head}</tr>{rows}</table></div>'
