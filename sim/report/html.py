"""``report.html``: one self-contained page per results folder, for a board or a finance committee.

Charts are drawn with matplotlib and embedded as PNG data; the page has no scripts and
fetches nothing, so it opens offline, prints, and is small enough to email.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim import diagnostics
from sim.metrics import HEADLINE, summarise
from sim.report.flowchart import flow_diagram
from sim.report.labels import input_label, key_label, merged_label, metric_label, stage_name, value_text, words
from sim.report.terminal import clock_covers, fmt, sweep_verdicts
from sim.results import write_atomic
from sim.scenario import Scenario, validate_raw

BETTER = {  # +1 higher is better for patients or cost, -1 lower is better, 0 neither
    "gp_consultations": -1,
    "first_op_attendances": -1,  # fewer hospital appointments cost less
    "followup_op_attendances": -1,
    "surgeries_daycase": -1,
    "surgeries_inpatient": -1,
    "conversion_rate": 1,
    "hospital_diversion_pct": 1,
    "never_in_hospital_op_pct": 1,
    "physio_dna_pct": -1,
    "rtt_incomplete_18w_pct": 1,
    "rtt_wait_p92_weeks": -1,
    "journey_weeks_mean": -1,
    "journey_weeks_p92": -1,
    "rtt_incomplete_52w_mean": -1,
    "rtt_incomplete_65w_mean": -1,
    "rtt_incomplete_78w_mean": -1,
    "qaly_lost_waiting": -1,
    "waiting_list_end": -1,
    "commissioner_cost_gbp": -1,
    "gp_cost_gbp": -1,
}
TOTALS = {  # KPI rows summed over the stages, shown when any is non-zero
    "advice_and_guidance": ("Answered by advice and guidance, no appointment", "count"),
    "pifu_skipped": ("Follow-ups replaced by patient-initiated follow-up", "count"),
    "overflow": ("Moved to another provider after a long wait (overflow)", "count"),
}
EXTRA_AFTER = {  # rows the headline list does not have, and where they go
    "rtt_incomplete_52w_mean": [
        ("rtt_incomplete_65w_mean", "Waiting over 65 weeks (month-end mean)", "count"),
        ("rtt_incomplete_78w_mean", "Waiting over 78 weeks (month-end mean)", "count"),
    ],
    "journey_weeks_p92": [("qaly_lost_waiting", "Health lost while waiting (QALYs)", "qaly")],
    "never_in_hospital_op_pct": [(f"total_{k}", label, unit) for k, (label, unit) in TOTALS.items()],
}
OPTIONAL = {"qaly_lost_waiting", *(f"total_{k}" for k in TOTALS)}  # shown only when non-zero
LABELS = {"rtt_incomplete_18w_pct": "Incomplete pathways within 18 weeks"}
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
LOW_END, HIGH_END = "#9ecae1", "#2b6cb0"  # tornado: the input at its low / high end
DAYS_PER_MONTH = 365.25 / 12

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
p.meta { color: #666; margin-top: 0; } p.lead { font-size: 1.05em; }
p.note, p.small { color: #444; font-size: 0.88em; } p.small { color: #555; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: right; vertical-align: top; }
th { font-weight: 600; } th:first-child, td:first-child { text-align: left; }
table.facts th { text-align: left; color: #555; font-weight: normal; padding-right: 1.5em; white-space: nowrap; }
table.facts td { text-align: left; }
table.diag { font-size: 0.8em; } table.diag th { font-size: 0.95em; }
table.diag td:nth-child(-n+3), table.diag th:nth-child(-n+3) { text-align: left; }
img.inset { max-width: 640px; }
table.sweep td, table.sweep th { text-align: left; } table.sweep td ~ td ~ td, table.sweep th ~ th ~ th { text-align: right; }
tr.group td { background: #f3f5f8; font-weight: 600; text-align: left; }
td.better { background: #e3f4e3; color: #14632b; } td.worse { background: #fbe5e5; color: #8b1a1a; }
td.over { color: #8b1a1a; font-weight: 600; }
.ci { color: #777; font-size: 0.85em; white-space: nowrap; }
figure { margin: 1em 0; page-break-inside: avoid; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; height: auto; }
.warn { background: #fff4e0; border-left: 4px solid #e69500; padding: 0.5em 0.8em; margin: 0.4em 0; }
.ok { background: #eef7ee; border-left: 4px solid #3a9a3a; padding: 0.5em 0.8em; }
.scroll { overflow-x: auto; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2 { page-break-after: avoid; }
  table { font-size: 8pt; } table.diag { font-size: 6.5pt; } th, td { padding: 2px 3px; }
  .scroll { overflow: visible; }
}
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _figure(fig, caption: str, alt: str | None = None) -> str:
    return (
        f'<figure><img src="{_png(fig)}" alt="{html.escape(alt or caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _lookup(data: Any, key: str) -> Any:
    """A dotted key's value in a scenario's dump, or None."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _same(a: Any, b: Any) -> bool:
    """Whether a grid value is the scenario's own (numbers to rounding, anything else exactly)."""
    try:
        return bool(np.isclose(float(a), float(b)))
    except (TypeError, ValueError):
        return a == b


def _fmt(value: float, unit: str) -> str:
    if unit == "qaly":
        return "–" if pd.isna(value) else f"{value:,.1f}"
    return fmt(value, unit)


def _months(days: pd.Index | pd.Series, warmup_days: int) -> np.ndarray:
    """Month ends counted from the contract start: the snapshot at the start is month 0."""
    return np.round((np.asarray(days, dtype=float) - warmup_days) / DAYS_PER_MONTH)


class Report:
    """Reads a results folder and writes ``report.html`` into it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = json.loads((folder / "manifest.json").read_text())
        raw = tomllib.loads((folder / "scenario.toml").read_text())
        self.scenario: Scenario = validate_raw(raw, str(folder / "scenario.toml"))
        batch = folder / "batch.json"
        self.batch: dict = json.loads(batch.read_text()) if batch.exists() else self.manifest.get("batch", {})
        self.full = self._read("replications") if (folder / "replications.csv").exists() else self._read("sweep")
        self.grid: dict[str, list] = self.batch.get("grid") or {}
        self.keys = [k for k in self.grid if k in self.full.columns]
        self.sweep = (folder / "sweep_summary.csv").exists() and "point" in self.full.columns
        self.point, self.point_text = self._representative_point()
        self.table = self._at_point(self.full)
        order = [d for d in self.batch.get("designs", []) if d in set(self.table.get("design", []))]
        self.designs = order or (list(dict.fromkeys(self.table["design"])) if not self.table.empty else [])
        self.sections: list[tuple[str, str, str]] = []  # (id, title, html)

    def _read(self, name: str) -> pd.DataFrame:
        path = self.folder / f"{name}.csv"
        return pd.read_csv(path) if path.exists() else pd.DataFrame()

    def _csv(self, name: str) -> pd.DataFrame:
        """A results file, cut to the grid point the charts show (a sweep pools nothing)."""
        return self._at_point(self._read(name))

    def _at_point(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.point is None or "point" not in frame.columns:
            return frame
        return frame[frame["point"] == self.point]

    def _point_values(self) -> dict[int, dict[str, Any]]:
        if not self.keys:
            return {}
        rows = self.full[["point", *self.keys]].drop_duplicates("point").sort_values("point")
        return {int(r["point"]): {k: r[k] for k in self.keys} for _, r in rows.iterrows()}

    def _describe(self, values: dict[str, Any]) -> str:
        return ", ".join(f"{key_label(k)} = {value_text(k, v)}" for k, v in values.items())

    def _representative_point(self) -> tuple[int | None, str]:
        """The scenario's own values if they are a grid point, else the middle of each key's grid."""
        if not self.sweep or self.full.empty:
            return None, ""
        points = self._point_values()
        if not points:
            return int(self.full["point"].min()), ""
        dump = self.scenario.model_dump()
        base = {k: _lookup(dump, k) for k in self.keys}
        for p, values in points.items():
            if all(_same(values[k], base[k]) for k in self.keys):
                return p, f"grid point {p} ({self._describe(values)}, the scenario's own values)"
        middle = {k: sorted(set(self.full[k]))[(len(set(self.full[k])) - 1) // 2] for k in self.keys}
        for p, values in points.items():
            if all(values[k] == middle[k] for k in self.keys):
                return p, f"grid point {p} ({self._describe(values)}, the middle of the grid)"
        p = min(points)
        return p, f"grid point {p} ({self._describe(points[p])})"

    def _point_note(self) -> str:
        if self.point is None:
            return ""
        return (
            f'<p class="note">Shown for {html.escape(self.point_text)}; grid points are never pooled. '
            'The <a href="#sweep">sweep</a> compares all points.</p>'
        )

    # -- sections -------------------------------------------------------------------------

    def build(self) -> Path:
        self.scenario_section()
        if not self.table.empty:
            self.kpi_section()
        self.waiting_section()
        self.rtt_section()
        self.flow_section()
        self.activity_section()
        self.cost_section()
        if (self.folder / "bid_summary.csv").exists():
            self.bid_section()
        if self.sweep:
            self.sweep_section()
        self.diagnostics_section()
        path = self.folder / "report.html"
        write_atomic(path, self.render())
        return path

    def add(self, ident: str, title: str, body: str) -> None:
        self.sections.append((ident, title, body))

    def scenario_section(self) -> None:
        s, m = self.scenario, self.manifest
        d = s.demand
        reps = m.get("replications_run", s.run.replications)
        services = ", ".join(words(n) for n in s.stages)
        facts = [
            ("Population", f"{s.population:,}"),
            ("MSK referrals", f"about {d.referrals_per_year:,.0f} a year, growing {d.growth:.1%} a year"),
            ("Services", f"{len(s.stages)}: {services}"),
        ]
        if len(self.designs) == 2:
            a, b = self.designs
            facts.append(("Designs compared", f"{a} and {b}; differences are {b} − {a}, paired by replication"))
        else:
            facts.append(("Design" + ("s" if len(self.designs) > 1 else ""), ", ".join(self.designs)))
        facts.append(
            (
                "Run",
                f"{reps} replication{'s' * (reps != 1)} of {s.run.years} contract year{'s' * (s.run.years != 1)} "
                f"from {s.run.start_date.day} {s.run.start_date:%B %Y}",
            )
        )
        facts.append(("Start", self._start_text()))
        uncertain = self.batch.get("uncertainty") and s.uncertainty
        facts.append(
            (
                "Inputs",
                f"{len(s.uncertainty)} uncertain inputs drawn afresh for each replication"
                if uncertain
                else "fixed at the scenario's values",
            )
        )
        facts.append(("Random numbers", f"seed {s.run.seed}; every design sees the same patients (common random numbers)"))
        if self.sweep:
            grid = "; ".join(f"{key_label(k)}: {', '.join(value_text(k, v) for v in vals)}" for k, vals in self.grid.items())
            points = len(self._point_values())
            facts.append(("Sweep", f"{grid} ({points} grid points)"))
            facts.append(("Charts below", f"{self.point_text}, except the sweep and the diagnostics, which show every point"))
        rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)
        lead = f'<p class="lead">{_esc(s.description)}</p>' if s.description else ""
        self.add("scenario", "The scenario", f'{lead}<table class="facts">{rows}</table>')

    def _start_text(self) -> str:
        s = self.scenario
        if s.backlog is not None:
            b = s.backlog
            per_design = {}
            for design in self.designs:
                n = sum(1 for p in b.patients if p.get("design", "") in ("", design))
                per_design[design] = n + sum(sum(bands.values()) for bands in b.stages.values())
            counts = set(per_design.values())
            if len(counts) == 1:
                who = f"{counts.pop():,} patients"
            else:
                who = ", ".join(f"{n:,} patients in {d}" for d, n in per_design.items())
            source = f" (from {Path(b.file).name})" if b.file else ""
            return (
                f"from a backlog: {who} already waiting on day 0{source}, with no warm-up; "
                "the monthly charts start at month 0, the backlog as loaded"
            )
        if s.run.warmup_days == 0:
            return "from an empty system with no warm-up: the first months show the lists filling up"
        return f"after a {s.run.warmup_days}-day warm-up from an empty system, which is left out of every result"

    def _kpi_summary(self) -> pd.DataFrame:
        t = self.table
        ids = [c for c in ("design", "replication", "year") if c in t.columns]
        cols = [m for m, _, _ in HEADLINE if m in t.columns]
        cols += [m for extra in EXTRA_AFTER.values() for m, _, _ in extra if m in t.columns]
        part = t[ids + list(dict.fromkeys(cols))].copy()
        for key in TOTALS:
            stage_cols = [c for c in t.columns if c.endswith(f"_{key}")]
            if stage_cols:
                part[f"total_{key}"] = t[stage_cols].sum(axis=1)
        two = self.designs if len(self.designs) == 2 else [None, None]
        return summarise(part, two[0], two[1])

    def kpi_section(self) -> None:
        summary = self._kpi_summary()
        whole = summary[summary["year"].astype(str) == "all"]
        scopes = [d for d in self.designs if d in set(whole["scope"])]
        scopes += [sc for sc in dict.fromkeys(whole["scope"]) if sc not in scopes]
        head = "".join(f"<th>{_esc(sc.replace(' - ', ' − '))}</th>" for sc in scopes)
        rows_spec = []
        for metric, label, unit in HEADLINE:
            rows_spec.append((metric, LABELS.get(metric, label), unit))
            rows_spec += EXTRA_AFTER.get(metric, [])
        rows = []
        for metric, label, unit in rows_spec:
            part = whole[whole["metric"] == metric].set_index("scope")
            if part.empty:
                continue
            if metric in OPTIONAL and not (part["mean"].abs() > 1e-9).any():
                continue
            cells = []
            for sc in scopes:
                if sc not in part.index or pd.isna(part.loc[sc, "mean"]):
                    cells.append("<td>–</td>")
                    continue
                r = part.loc[sc]
                cls = ""
                if " - " in sc and BETTER.get(metric) and pd.notna(r["ci_low"]) and (r["ci_low"] > 0 or r["ci_high"] < 0):
                    cls = "better" if np.sign(r["mean"]) == BETTER[metric] else "worse"
                ci = (
                    f'<br><span class="ci">{_fmt(r["ci_low"], unit)} to {_fmt(r["ci_high"], unit)}</span>'
                    if pd.notna(r["ci_low"])
                    else ""
                )
                cells.append(f'<td class="{cls}">{_fmt(r["mean"], unit)}{ci}</td>')
            rows.append(f"<tr><td>{_esc(label)}</td>{''.join(cells)}</tr>")
        diff = (
            " The difference is paired by replication; green where it is better for patients or cost and its interval "
            "excludes zero, red where worse. Fewer outpatient attendances and operations count as better: they cost less."
            if any(" - " in sc for sc in scopes)
            else ""
        )
        body = (
            self._point_note()
            + f"<p>Mean per contract year with its 95% confidence interval across replications.{diff}</p>"
            + f"<table><tr><th>Measure</th>{head}</tr>{''.join(rows)}</table>"
        )
        self.add("kpi", "Key results side by side", body)

    def waiting_section(self) -> None:
        monthly = self._csv("monthly")
        if monthly.empty:
            return
        stages = [c.removesuffix("_waiting") for c in monthly.columns if c.endswith("_waiting")]
        shown = [st for st in stages if monthly[f"{st}_waiting"].fillna(0).max() > 0]
        if not shown:
            return
        cols = 3
        rows = math.ceil(len(shown) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(11, 2.8 * rows), squeeze=False)
        warm = self.scenario.run.warmup_days
        for ax, st in zip(axes.flat, shown, strict=False):
            for i, design in enumerate(self.designs):
                part = monthly[monthly["design"] == design]
                if part[f"{st}_waiting"].isna().all():
                    continue
                q = part.groupby("day")[f"{st}_waiting"].quantile([0.05, 0.5, 0.95]).unstack()
                months = _months(q.index, warm)
                ax.fill_between(months, q[0.05], q[0.95], color=COLOURS[i], alpha=0.2, linewidth=0)
                ax.plot(months, q[0.5], color=COLOURS[i], label=design)
            ax.set_title(stage_name(st), fontsize=10)
            ax.set_xlabel("Months from the contract start", fontsize=8)
            ax.set_ylabel("Patients waiting", fontsize=8)
            ax.set_ylim(bottom=0)
            ax.tick_params(labelsize=8)
        spare = list(axes.flat)[len(shown) :]
        for ax in spare:
            ax.axis("off")
        handles, names = axes.flat[0].get_legend_handles_labels()
        (spare[0].legend(handles, names, loc="center", fontsize=9, frameon=False) if spare else axes.flat[0].legend(fontsize=8))
        fig.suptitle("Waiting list at each month end, by stage: median and 90% band across replications", fontsize=11)
        fig.tight_layout()
        start = " Month 0 is the backlog as loaded at the start." if self.scenario.backlog is not None else ""
        self.add(
            "waiting-lists",
            "Waiting lists over time",
            self._point_note() + _figure(fig, f"Patients waiting (referred, not yet seen) at each month end.{start}"),
        )

    def _clock_note(self) -> str:
        clocks = {d: self.scenario.designs[d].clock for d in self.designs if d in self.scenario.designs}
        if not clocks:
            return ""
        text = {
            "referral": "counts a clock per referral: each referral to a consultant-led service starts one and that "
            "service's first visit stops it, so a patient sent back to the GP and referred again starts afresh, "
            "and services that are not consultant-led (such as community physio) carry no clock",
            "pathway": "counts one clock per pathway, from the first referral until the treatment that helps starts, "
            "across every service the patient passes through",
        }
        parts = [f"<b>{_esc(d)}</b> {text[c]}" for d, c in clocks.items()]
        tail = (
            " The two are not the same measure: compare the whole-journey waits in the key results for like with like."
            if len(set(clocks.values())) > 1
            else ""
        )
        return f'<p class="note">How the 18-week clock is counted: {"; ".join(parts)}.{tail}</p>'

    def rtt_section(self) -> None:
        monthly, waits = self._csv("monthly"), self._csv("rtt_waits")
        if monthly.empty:
            return
        warm = self.scenario.run.warmup_days
        fig, ax = plt.subplots(figsize=(9, 3.6))
        for i, design in enumerate(self.designs):
            part = monthly[monthly["design"] == design]
            q = part.groupby("day")["rtt_within_18w_pct"].quantile([0.05, 0.5, 0.95]).unstack()
            months = _months(q.index, warm)
            ax.fill_between(months, q[0.05], q[0.95], color=COLOURS[i], alpha=0.2, linewidth=0)
            ax.plot(months, q[0.5], color=COLOURS[i], label=design)
        ax.axhline(92, color="black", linestyle="--", linewidth=1, label="92% standard")
        ax.set_ylim(min(80, ax.get_ylim()[0]), 100.5)
        ax.set_title("Incomplete pathways within 18 weeks at each month end (%)")
        ax.set_xlabel("Months from the contract start" + (" (0 = the backlog as loaded)" if self.scenario.backlog else ""))
        ax.set_ylabel("% within 18 weeks")
        ax.legend(fontsize=8)
        body = self._point_note() + self._clock_note()
        body += _figure(fig, "Median and 90% band across replications, against the 92% standard.")
        if not waits.empty:
            body += "<h3>Wait distribution</h3>" + self._wait_distribution(waits)
        self.add("rtt", "The 18-week standard", body)

    def _wait_distribution(self, waits: pd.DataFrame) -> str:
        fig, ax = plt.subplots(figsize=(9, 3.6))
        width = 0.8 / max(len(self.designs), 1)
        last = 0.0
        for i, design in enumerate(self.designs):
            part = waits[waits["design"] == design]
            ax.bar(part["weeks"] + i * width, part["pathways"], width=width, color=COLOURS[i], label=design, align="edge")
            seen = part[part["pathways"] >= 0.5]
            last = max(last, float(seen["weeks"].max()) if not seen.empty else 0.0)
        right = max(last + 2, 56.0)  # the data, but never hiding the 52-week mark
        ax.set_xlim(-0.5, right)
        for mark in (18, 52):
            ax.axvline(mark, color="black", linestyle="--", linewidth=1)
            ax.text(mark + 0.5, ax.get_ylim()[1] * 0.9, f"{mark} weeks", fontsize=8)
        top = int(waits["weeks"].max()) if not waits.empty else 0
        ax.set_title("How long incomplete pathways have waited (mean per month end)")
        ax.set_xlabel("Weeks waited" + (f" ({top} = {top // 52} years or more)" if last >= top - 1 and top else ""))
        ax.set_ylabel("Pathways")
        ax.legend(fontsize=8)
        return _figure(
            fig,
            "Waits of patients still waiting, with the 18- and 52-week marks; the axis stops at the longest wait seen, "
            "or just past 52 weeks.",
        )

    def flow_section(self) -> None:
        flows = self._csv("flows")
        if flows.empty:
            return
        body = self._point_note() + (
            "<p>Patients a year moving between places (mean over replications), left to right; each band is as wide "
            "as its flow. In red, patients sent back to the GP, who refers them again: the bounce-back loop.</p>"
        )
        for design in self.designs:
            part = flows[flows["design"] == design]
            if part.empty:
                continue
            fig, notes = flow_diagram(part, design, self.scenario)
            body += f"<h3>{_esc(design)}</h3>" + _figure(fig, f"Patient flow, {design} design (patients a year).")
            if notes.undrawn:
                body += (
                    '<p class="small">Onward referrals between services, and steps back, not drawn (a year): '
                    f"{_flow_list(notes.undrawn)}.</p>"
                )
            if notes.unnumbered or notes.dropped:
                small = (
                    f"Drawn without a number, too small or crowded (a year): {_flow_list(notes.unnumbered)}. "
                    if notes.unnumbered
                    else ""
                )
                if notes.dropped:
                    small += f"{notes.dropped} flow{'s' if notes.dropped > 1 else ''} under one patient a year left out."
                body += f'<p class="small">{small}</p>'
        self.add("flows", "Patient flow between stages", body)

    def activity_section(self) -> None:
        t = self.table
        if t.empty:
            return
        items = [
            ("gp_consultations", "GP visits from bounce-backs"),
            ("triage_contacts", "Triage"),
            ("physio_contacts", "Physio contacts"),
            ("first_op_attendances", "Outpatient first"),
            ("followup_op_attendances", "Outpatient follow-up"),
            ("surgeries_daycase", "Day-case operations"),
            ("surgeries_inpatient", "Inpatient operations"),
        ]
        items = [(k, lbl) for k, lbl in items if k in t.columns and t[k].fillna(0).abs().sum() > 0]
        if not items:
            return
        per_year = t.groupby(["design", "year"])[[k for k, _ in items]].mean()
        years = sorted(t["year"].unique())
        cols = 4
        rows = math.ceil(len(items) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), squeeze=False)
        width = 0.8 / len(self.designs)
        x = np.arange(len(years))
        for ax, (k, label) in zip(axes.flat, items, strict=False):
            for i, design in enumerate(self.designs):
                if design not in per_year.index.get_level_values(0):
                    continue
                vals = per_year.loc[design, k].reindex(years)
                ax.bar(x + i * width, vals.to_numpy(), width=width, color=COLOURS[i], label=design)
            ax.set_xticks(x + width * (len(self.designs) - 1) / 2, [str(y) for y in years], fontsize=8)
            ax.set_title(label, fontsize=9)
            ax.set_xlabel("Contract year", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        spare = list(axes.flat)[len(items) :]
        for ax in spare:
            ax.axis("off")
        handles, names = axes.flat[0].get_legend_handles_labels()
        if spare:  # in an empty panel, where it hides no bar
            spare[0].legend(handles, names, loc="center", fontsize=9, frameon=False)
        else:
            fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, frameon=False)
        fig.suptitle("Activity a year by point of delivery (each panel has its own scale, starting at zero)", fontsize=11)
        fig.tight_layout()
        table_rows = "".join(
            f"<tr><td>{_esc(d)}</td><td>{y}</td>"
            + "".join(f"<td>{fmt(per_year.loc[(d, y), k], 'count')}</td>" for k, _ in items)
            + "</tr>"
            for d in self.designs
            for y in years
            if (d, y) in per_year.index
        )
        head = "".join(f"<th>{_esc(lbl)}</th>" for _, lbl in items)
        body = (
            self._point_note()
            + _figure(fig, "Mean activity per contract year across replications, by design.")
            + f'<div class="scroll"><table><tr><th>Design</th><th>Year</th>{head}</tr>{table_rows}</table></div>'
        )
        self.add("activity", "Activity by point of delivery", body)

    def cost_section(self) -> None:
        t = self.table
        if t.empty or "commissioner_cost_gbp" not in t:
            return
        fig, axes = plt.subplots(1, len(self.designs), figsize=(5 * len(self.designs), 3.9), squeeze=False)
        providers = sorted(self.scenario.finance.providers)
        colour = {p: COLOURS[i % len(COLOURS)] for i, p in enumerate(providers)}  # the same colour in every panel
        handles: dict[str, Any] = {}
        for ax, design in zip(axes.flat, self.designs, strict=True):
            part = t[t["design"] == design]
            cols = [c for c in part.columns if c.startswith(("pay_provider_", "cost_provider_")) and part[c].notna().any()]
            by_year = part.groupby("year")[cols].mean() / 1e6
            bottom = np.zeros(len(by_year))
            for c in cols:
                provider = c.removeprefix("pay_provider_").removeprefix("cost_provider_").removesuffix("_gbp")
                bars = ax.bar(by_year.index, by_year[c], bottom=bottom, color=colour.get(provider, "#999"))
                handles.setdefault(words(provider), bars)
                bottom += by_year[c].to_numpy()
            ax.set_xticks(by_year.index)
            spend = part.groupby("year")["commissioner_cost_gbp"].mean() / 1e6
            (line,) = ax.plot(spend.index, spend.values, "k-o")
            handles["commissioner spend"] = line
            kind = "commissioner's payments" if cols and cols[0].startswith("pay_") else "the prime's costs"
            ax.set_title(f"{design}: {kind} by provider", fontsize=10)
            ax.set_xlabel("Contract year")
            ax.set_ylabel("£ million")
            ax.set_ylim(0, max(ax.get_ylim()[1], float(spend.max()) * 1.1))
        fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
        self.add(
            "costs",
            "Cost per year by provider",
            self._point_note() + _figure(fig, "Mean per contract year; the line is what the commissioner spends."),
        )

    def bid_section(self) -> None:
        from sim.bid import BidPaths

        bs = self._read("bid_summary")
        bid = self._read("bid")
        sens = self._read("sensitivity")
        price = float(bs.loc[bs["metric"] == "bid_year1_gbp", "mean"].iloc[0])
        cum = bid.groupby("replication")["prime_surplus_gbp"].sum() / 1e6
        p_loss = float((cum < 0).mean())
        fig, ax = plt.subplots(figsize=(9, 3.6))
        _, edges, patches = ax.hist(cum, bins=min(40, max(10, len(cum) // 5)), color="#4c72b0", edgecolor="white")
        for patch, left in zip(patches, edges[:-1], strict=True):
            if left < 0:
                patch.set_facecolor("#c44e52")
        ax.axvspan(min(edges[0], 0), 0, color="#c44e52", alpha=0.08)
        ax.axvline(0, color="black", linewidth=1)
        ax.set_title(
            f"Prime's cumulative surplus over the contract at a year-1 price of {fmt(price, 'gbp')}: P(loss) = {p_loss:.0%}"
        )
        ax.set_xlabel("Cumulative surplus (£ million); losses shaded")
        ax.set_ylabel("Replications")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        body = "<h3>Surplus distribution</h3>" + _figure(
            fig, "Distribution of the prime's cumulative surplus across replications; the loss region is shaded."
        )
        design = self.designs[0]
        paths = BidPaths(self.table, self.scenario, design)
        grid = np.linspace(price * 0.8, price * 1.2, 41)
        probs = [(paths.cumulative(g) < 0).mean() for g in grid]
        safe = float(bs.loc[bs["metric"] == "safe_price_year1_gbp", "mean"].iloc[0])
        risk = float(bs.loc[bs["metric"] == "max_loss_probability", "mean"].iloc[0])
        fig, ax = plt.subplots(figsize=(9, 3.6))
        ax.plot(grid / 1e6, probs, "k-")
        ax.axhline(risk, color="#c44e52", linestyle="--", linewidth=1, label=f"risk appetite {risk:.0%}")
        ax.axvline(safe / 1e6, color="#55a868", linestyle="--", linewidth=1, label=f"lowest safe price {fmt(safe, 'gbp')}")
        ax.axvline(price / 1e6, color="#4c72b0", linewidth=1, label=f"bid {fmt(price, 'gbp')}")
        ax.set_title("Probability of a cumulative loss against the year-1 price (break-even curve)")
        ax.set_xlabel("Year-1 price (£ million)")
        ax.set_ylabel("P(cumulative loss)")
        ax.legend(fontsize=8)
        body += "<h3>Loss against price</h3>" + _figure(
            fig, "Loss probability against price, evaluated on the same simulated paths."
        )
        if not sens.empty:
            body += "<h3>What moves the result</h3>" + self._tornado(tornado_rows(sens), paths.cumulative(price).mean())
        body += "<h3>The figures</h3>" + self._bid_tables(bs)
        self.add("bid", "The bid", body)

    def _tornado(self, rows: pd.DataFrame, base_gbp: float) -> str:
        top = rows.head(10).iloc[::-1]
        fig, ax = plt.subplots(figsize=(10, 0.48 * len(top) + 1.6))
        base = base_gbp / 1e6
        for i, r in enumerate(top.itertuples()):
            lo, hi = r.surplus_at_low_gbp / 1e6, r.surplus_at_high_gbp / 1e6
            ax.barh(i, lo - base, left=base, color=LOW_END, height=0.7)
            ax.barh(i, hi - base, left=base, color=HIGH_END, height=0.7)
            if r.drawn:  # the quartile values, at the end of the bar they belong to
                for value, at in ((r.low, lo), (r.high, hi)):
                    side = "left" if at >= base else "right"
                    ax.text(at + (0.03 if at >= base else -0.03), i, value_text(r.key, value), va="center", ha=side, fontsize=7)
        ax.axvline(base, color="black", linewidth=1)
        ax.set_yticks(range(len(top)), list(top["label"]), fontsize=8)
        span = np.nanmax(np.abs(np.r_[top["surplus_at_low_gbp"], top["surplus_at_high_gbp"]] / 1e6 - base)) if len(top) else 1
        ax.set_xlim(base - span * 1.3, base + span * 1.3)
        ax.set_xlabel(f"Mean cumulative surplus over the contract (£ million); the line is the expected {fmt(base_gbp, 'gbp')}")
        ax.set_title("What moves the result (tornado)")
        fig.legend(
            handles=[
                Patch(color=LOW_END, label="input at its low end (lowest quarter of draws; a term at its low setting)"),
                Patch(color=HIGH_END, label="input at its high end (highest quarter of draws; a term at its high setting)"),
            ],
            fontsize=8,
            loc="lower center",
            ncol=1,
            frameon=False,
        )
        fig.tight_layout(rect=(0, 0.5 / fig.get_figheight(), 1, 1))
        alt = "Tornado chart: " + "; ".join(top["label"].iloc[::-1])
        figure = _figure(
            fig,
            "Inputs ranked by how far they move the mean cumulative surplus. Light bar: the input at its low end; dark "
            "bar: at its high end. For a drawn input, each end is the mean surplus over the replications whose draw fell "
            "in its lowest or highest quarter (the numbers at the bar ends are those quartiles); a contract term is set "
            "low and high on the same paths. Inputs copied from one draw appear once.",
            alt,
        )
        table_rows = "".join(
            f"<tr><td>{_esc(r.label)}</td>"
            + (
                f"<td>{_esc(value_text(r.key, r.low))}</td><td>{_esc(value_text(r.key, r.high))}</td>"
                if r.drawn
                else "<td>low</td><td>high</td>"
            )
            + f"<td>{fmt(r.surplus_at_low_gbp, 'gbp')}</td><td>{fmt(r.surplus_at_high_gbp, 'gbp')}</td>"
            f"<td>{fmt(r.swing_gbp, 'gbp')}</td></tr>"
            for r in rows.itertuples()
        )
        table = (
            "<table><tr><th>Input</th><th>Low end</th><th>High end</th><th>Surplus at low</th><th>Surplus at high</th>"
            f"<th>Swing</th></tr>{table_rows}</table>"
        )
        return figure + table

    def _bid_tables(self, bs: pd.DataFrame) -> str:
        whole = bs[bs["year"].astype(str) == "all"]
        rows = "".join(
            f"<tr><td>{_esc(metric_label(r.metric))}</td><td>{_fmt_bid(r.metric, r.mean)}</td>"
            + f"<td>{_bid_ci(r.metric, r.ci_low, r.ci_high)}</td></tr>"
            for r in whole.itertuples()
        )
        out = f"<table><tr><th>Over the whole contract</th><th>Value</th><th>95% interval</th></tr>{rows}</table>"
        yearly = bs[bs["year"].astype(str) != "all"]
        if not yearly.empty:
            metrics = list(dict.fromkeys(yearly["metric"]))
            head = "".join(f"<th>{_esc(metric_label(m))}</th>" for m in metrics)
            body = ""
            for year, part in yearly.groupby(yearly["year"].astype(int)):
                part = part.set_index("metric").loc[metrics]
                cells = "".join(
                    f"<td>{_fmt_bid(m, r['mean'])}{_bid_ci(m, r['ci_low'], r['ci_high'], below=True)}</td>"
                    for m, r in part.iterrows()
                )
                body += f"<tr><td>{year}</td>{cells}</tr>"
            out += f"<table><tr><th>Contract year</th>{head}</tr>{body}</table>"
        return out

    def sweep_section(self) -> None:
        summary = self._read("sweep_summary")
        metric = self.batch.get("metric") or self.manifest.get("batch", {}).get("metric", "rtt_incomplete_18w_pct")
        keys = [k for k in self.keys if k in summary.columns] or [
            c for c in summary.columns if c not in {"point", "design", "metric", "mean", "ci_low", "ci_high", "n"}
        ]
        part = summary[summary["metric"] == metric].copy()
        if part.empty or not keys:
            return
        pct = metric.endswith("_pct")
        if pct:  # a share cannot leave 0-100, whatever the t interval says
            part[["ci_low", "ci_high"]] = part[["ci_low", "ci_high"]].clip(0, 100)
        key = keys[0]
        others = keys[1:]
        panels = [None] if not others else self.designs
        fig, axes = plt.subplots(1, len(panels), figsize=(9 if not others else 4.8 * len(panels), 3.8), squeeze=False)
        for ax, panel in zip(axes.flat, panels, strict=True):
            lines = (
                [(self._design_label(d, key, metric), part[part["design"] == d]) for d in self.designs]
                if panel is None
                else [
                    (self._describe(dict(zip(others, combo if isinstance(combo, tuple) else (combo,), strict=True))), sub)
                    for combo, sub in part[part["design"] == panel].groupby(others)
                ]
            )
            for i, (label, sub) in enumerate(lines):
                d = sub.groupby(key)[["mean", "ci_low", "ci_high"]].mean().sort_index()
                ax.errorbar(
                    d.index, d["mean"], yerr=[d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]],
                    color=COLOURS[i % len(COLOURS)], marker="o", capsize=3, label=label,
                )  # fmt: skip
            if metric == "rtt_incomplete_18w_pct":
                ax.axhline(92, color="black", linestyle="--", linewidth=1, label="92% standard")
            if pct:
                low = min(float(part["ci_low"].min()), 90.0)
                ax.set_ylim(max(0.0, low - 2), 100.5)
            ax.set_xlabel(key_label(key))
            ax.set_ylabel(metric_label(metric))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _, k=key: value_text(k, v)))
            if panel is not None:
                ax.set_title(panel, fontsize=10)
            ax.legend(fontsize=8)
        name = metric_label(metric).split(" (")[0]
        what = key_label(key)
        fig.suptitle(f"{name} by {what[:1].lower() + what[1:]}: mean and 95% interval across replications", fontsize=11)
        fig.tight_layout()
        clipped = "; intervals clipped to 0–100%" if pct else ""
        body = _figure(fig, f"Each point is one grid point, never pooled with another{clipped}.")
        verdicts = sweep_verdicts(summary, keys, metric, self.scenario, plain=True)
        if verdicts:
            body += "<ul>" + "".join(f"<li><b>{_esc(d)}</b>: {_esc(v)}</li>" for d, v in verdicts.items()) + "</ul>"
        body += self._sweep_table(summary, keys, metric)
        self.add("sweep", "The sweep", body)

    def _design_label(self, design: str, key: str, metric: str) -> str:
        """A design's name, saying so where its 18-week measure does not cover the swept stage."""
        if metric == "rtt_incomplete_18w_pct" and clock_covers(self.scenario, design, key) is False:
            return f"{design} (no 18-week clock at {words(key.split('.')[1])})"
        return design

    def _sweep_table(self, summary: pd.DataFrame, keys: list[str], metric: str) -> str:
        unit = "pct" if metric.endswith("_pct") else "gbp" if metric.endswith("_gbp") else "count"
        shown = [(metric, unit)] + [
            (m, u) for m, u in (("waiting_list_end", "count"), ("commissioner_cost_gbp", "gbp")) if m != metric
        ]
        head = "".join(f"<th>{_esc(key_label(k))}</th>" for k in keys) + "<th>Design</th>"
        head += "".join(f"<th>{_esc(metric_label(m))}</th>" for m, _ in shown)
        rows = ""
        for (_, design), part in summary.groupby(["point", "design"], sort=True):
            cells = "".join(f"<td>{_esc(value_text(k, part[k].iloc[0]))}</td>" for k in keys) + f"<td>{_esc(design)}</td>"
            for m, u in shown:
                hit = part[part["metric"] == m]
                if hit.empty:
                    cells += "<td>–</td>"
                    continue
                r = hit.iloc[0]
                lo, hi = r["ci_low"], r["ci_high"]
                if u != "gbp":  # a share or a count cannot go below zero, nor a share above 100
                    lo, hi = max(lo, 0.0), (min(hi, 100.0) if u == "pct" else hi)
                ci = f'<br><span class="ci">{fmt(lo, u)} to {fmt(hi, u)}</span>' if pd.notna(r["ci_low"]) else ""
                cells += f"<td>{fmt(r['mean'], u)}{ci}</td>"
            rows += f"<tr>{cells}</tr>"
        return f'<div class="scroll"><table class="sweep"><tr>{head}</tr>{rows}</table></div>'

    def diagnostics_section(self) -> None:
        if self.full.empty:
            return
        from sim.experiment import grid_points

        points = grid_points(self.scenario, self.grid) if self.sweep else {0: self.scenario}
        checks = diagnostics.stage_checks(self.full, points)
        reps = int(self.full["replication"].nunique())
        steady = self.scenario.backlog is None
        described = self._point_values()
        body = ""
        several = self.sweep and checks["point"].nunique() > 1
        groups = list(checks.groupby("point", sort=True)) if several else [(0, checks)]
        msgs_all = []
        for point, part in groups:
            msgs = diagnostics.warnings(part, diagnostics.MIN_REPLICATIONS, steady)
            if several and msgs:
                where = f"Grid point {point} ({self._describe(described.get(int(point), {}))})"
                msgs = [f"{where}: {m}" for m in msgs]
            msgs_all += msgs
        msgs_all += [m for m in diagnostics.warnings(checks.iloc[:0], reps, steady)]
        body += "".join(f'<div class="warn">{_esc(m)}</div>' for m in msgs_all) or '<div class="ok">No warnings.</div>'
        wait = float(checks["target_wait_weeks"].iloc[0]) if not checks.empty else diagnostics.RTT_WEEKS / diagnostics.FACTOR
        head = (
            "<tr><th>Design</th><th>Stage</th><th>Unit (demand and capacity)</th><th>Demand a week (λ)</th>"
            "<th>Capacity a week for new work (μ)</th><th>Load λ/μ</th><th>Capacity needed for 18 weeks</th>"
            f"<th>Target list at a mean wait of {wait:.1f} wk (λT/4)</th><th>Largest list keeping 92% within 18 wk</th>"
            "<th>Simulated list: waiting to be offered a slot</th><th>Little's law gap</th></tr>"
        )
        units = {"theatre": "day-case slots", "beds": "bed-days"}
        rows = ""
        for point, part in groups:
            if several:
                rows += (
                    f'<tr class="group"><td colspan="11">Grid point {point}: '
                    f"{_esc(self._describe(described.get(int(point), {})))}</td></tr>"
                )
            for r in part.itertuples():
                beds = r.stage == "beds"
                over = ' class="over"' if r.load >= 1 else ""
                lists = (
                    "<td>–</td><td>–</td><td>–</td><td>–</td>"
                    if beds
                    else f"<td>{r.target_list:,.0f}</td><td>{r.relief_list:,.0f}</td><td>{r.simulated_list:,.0f}</td>"
                    f"<td>{r.littles_gap_pct:.1f}%</td>"
                )
                rows += (
                    f"<tr><td>{_esc(r.design)}</td><td>{_esc(words(r.stage))}</td><td>{units.get(r.stage, 'first slots')}</td>"
                    f"<td>{r.demand_per_week:,.0f}</td><td>{r.first_capacity_per_week:,.0f}</td><td{over}>{r.load:.2f}</td>"
                    f"<td>{r.target_capacity:,.0f}</td>{lists}</tr>"
                )
        body += (
            "<p>Demand and capacity per stage (means over replications and years), with the NHSRwaitinglist rules of thumb "
            f"for the 18-week standard: target wait T = 18 weeks, so a target mean wait of T/4 = {wait:.1f} weeks, "
            "coefficients of variation 1. They hold only below load 1. Services count first-appointment slots left after "
            "follow-ups; the theatre counts day-case slots (a joint replacement takes several); beds count bed-days. "
            "The simulated list counts patients waiting to be offered a slot, after any booking lead time: it is smaller "
            "than the waiting list charted above, which also counts patients already booked.</p>"
            f'<div class="scroll"><table class="diag">{head}{rows}</table></div>'
        )
        body += self._warmup()
        self.add("diagnostics", "Diagnostics", body)

    def _warmup(self) -> str:
        png = self.folder / "warmup.png"
        if not png.exists():
            return ""
        from sim.warmup import verdicts

        data = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
        analysis = self._read("warmup")
        msgs = verdicts(analysis) if not analysis.empty and "mser_truncation_day" in analysis else []
        if self.scenario.backlog is not None:
            text = "The run starts from a backlog, so nothing is discarded: the chart shows the lists settling from it."
        else:
            text = (
                f"Results leave out the first {self.scenario.run.warmup_days} days (the dashed line), while an empty "
                "system fills up. The dotted lines are where the MSER-5 rule would cut."
            )
        warn = "".join(f'<div class="warn">{_esc(m)}</div>' for m in msgs)
        return (
            f'<h3 id="warm-up">Warm-up</h3><p>{_esc(text)}</p>{warn}'
            f'<figure><img class="inset" src="{data}" alt="Warm-up: patients in the system over time">'
            "<figcaption>Patients in the system, mean across replications (Welch moving average).</figcaption></figure>"
        )

    def render(self) -> str:
        s, m = self.scenario, self.manifest
        toc = " · ".join(f'<a href="#{i}">{html.escape(t)}</a>' for i, t, _ in self.sections)
        parts = "".join(f'<section id="{i}"><h2>{html.escape(t)}</h2>{b}</section>' for i, t, b in self.sections)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>msksim report: {html.escape(s.name)}</title><style>{CSS}</style></head><body>"
            f"<h1>msksim: {html.escape(s.name)}</h1>"
            f'<p class="meta">msksim {html.escape(str(m.get("msksim_version", "")))}, '
            f"run finished {html.escape(str(m.get('finished', '')))}. "
            f"{toc}</p>{parts}</body></html>"
        )


def tornado_rows(sens: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table with one row per distinct input and plain-English labels.

    Rows with identical numbers are one drawn input copied to other keys (``also`` in the
    scenario's uncertainty section): ranking them twice would double-count it."""
    sens = sens.copy()
    sens["key"] = sens["input"].astype(str)
    sens["drawn"] = sens["kind"].astype(str).str.startswith("drawn")
    sig = sens[["kind", "low", "high", "surplus_at_low_gbp", "surplus_at_high_gbp"]].round(6).astype(str).agg("|".join, axis=1)
    rows = []
    for _, group in sens.groupby(sig, sort=False):
        first = group.iloc[0].copy()
        first["label"] = merged_label(list(group["key"])) if first["drawn"] else input_label(first["key"])
        rows.append(first)
    out = pd.DataFrame(rows).reset_index(drop=True)
    return out.sort_values("swing_gbp", ascending=False, ignore_index=True)


def _flow_list(flows: list[tuple[str, str, float]]) -> str:
    return "; ".join(f"{_esc(words(a))} → {_esc(words(b))} {v:,.0f}" for a, b, v in sorted(flows, key=lambda x: -x[2]))


def _bid_ci(metric: str, low: float, high: float, below: bool = False) -> str:
    """An interval, or nothing where it is absent or has no width (a probability of 0 in every path)."""
    if pd.isna(low) or low == high:
        return ""
    if metric.startswith(("loss_probability", "max_loss")):  # a probability stays within 0-1
        low, high = max(low, 0.0), min(high, 1.0)
    return ("<br>" if below else "") + f'<span class="ci">{_fmt_bid(metric, low)} to {_fmt_bid(metric, high)}</span>'


def _fmt_bid(metric: str, value: float) -> str:
    if pd.isna(value):
        return "–"
    if metric.endswith("_gbp"):
        return fmt(value, "gbp")
    if metric.startswith(("loss_probability", "max_loss")):
        return f"{100 * value:.1f}%"
    if metric.endswith("_pct"):
        return f"{value:.1f}%"
    return f"{value:,.3g}"


def build_report(folder: Path) -> Path:
    """Write ``report.html`` into a results folder and return its path."""
    return Report(folder).build()
