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

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyArrowPatch

from sim import diagnostics
from sim.metrics import HEADLINE
from sim.report.terminal import fmt
from sim.results import write_atomic
from sim.scenario import validate_raw

BETTER = {  # +1 higher is better for patients or cost, -1 lower is better, 0 neither
    "gp_consultations": -1,
    "conversion_rate": 1,
    "hospital_diversion_pct": 1,
    "never_in_hospital_op_pct": 1,
    "physio_dna_pct": -1,
    "rtt_incomplete_18w_pct": 1,
    "rtt_wait_p92_weeks": -1,
    "journey_weeks_mean": -1,
    "journey_weeks_p92": -1,
    "waiting_list_end": -1,
    "commissioner_cost_gbp": -1,
    "gp_cost_gbp": -1,
}
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 2em; }
p.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.better { background: #e3f4e3; color: #14632b; } td.worse { background: #fbe5e5; color: #8b1a1a; }
.ci { color: #777; font-size: 0.85em; }
figure { margin: 1em 0; page-break-inside: avoid; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; height: auto; }
.warn { background: #fff4e0; border-left: 4px solid #e69500; padding: 0.5em 0.8em; margin: 0.4em 0; }
.ok { background: #eef7ee; border-left: 4px solid #3a9a3a; padding: 0.5em 0.8em; }
@media print { body { max-width: none; margin: 0; } h2 { page-break-after: avoid; } }
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _figure(fig, caption: str) -> str:
    return f'<figure><img src="{_png(fig)}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>'


class Report:
    """Reads a results folder and writes ``report.html`` into it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = json.loads((folder / "manifest.json").read_text())
        raw = tomllib.loads((folder / "scenario.toml").read_text())
        self.scenario = validate_raw(raw, str(folder / "scenario.toml"))
        self.table = self._csv("replications") if (folder / "replications.csv").exists() else self._csv("sweep")
        self.summary = self._csv("summary")
        self.designs = list(dict.fromkeys(self.table["design"])) if not self.table.empty else []
        self.sections: list[tuple[str, str, str]] = []  # (id, title, html)

    def _csv(self, name: str) -> pd.DataFrame:
        path = self.folder / f"{name}.csv"
        return pd.read_csv(path) if path.exists() else pd.DataFrame()

    # -- sections -------------------------------------------------------------------------

    def build(self) -> Path:
        self.scenario_section()
        if not self.summary.empty:
            self.kpi_section()
        self.waiting_section()
        self.rtt_section()
        self.flow_section()
        self.activity_section()
        self.cost_section()
        if (self.folder / "bid_summary.csv").exists():
            self.bid_section()
        if (self.folder / "sweep_summary.csv").exists():
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
        text = (
            f"{html.escape(s.description or s.name)} A population of {s.population:,} with about "
            f"{d.referrals_per_year:,.0f} MSK referrals a year, growing {d.growth:.1%} a year; "
            f"{len(s.stages)} services; {len(self.designs)} design(s) compared: {', '.join(self.designs)}. "
            f"{reps} replications of {s.run.years} contract years from {s.run.start_date:%d %B %Y}, after a "
            f"{s.run.warmup_days}-day warm-up; seed {s.run.seed}. "
            + (
                "Uncertain inputs are drawn per replication. "
                if self.manifest.get("batch", {}).get("uncertainty") and s.uncertainty
                else ""
            )
            + "Both designs see the same patients (common random numbers)."
        )
        self.add("scenario", "The scenario", f"<p>{text}</p>")

    def kpi_section(self) -> None:
        whole = self.summary[self.summary["year"].astype(str) == "all"]
        scopes = list(dict.fromkeys(whole["scope"]))
        head = "".join(f"<th>{html.escape(sc)}</th>" for sc in scopes)
        rows = []
        for metric, label, unit in HEADLINE:
            part = whole[whole["metric"] == metric].set_index("scope")
            if part.empty:
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
                    f'<br><span class="ci">{fmt(r["ci_low"], unit)} to {fmt(r["ci_high"], unit)}</span>'
                    if pd.notna(r["ci_low"])
                    else ""
                )
                cells.append(f'<td class="{cls}">{fmt(r["mean"], unit)}{ci}</td>')
            rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
        body = (
            "<p>Mean per contract year with its 95% confidence interval across replications. The difference is paired by "
            "replication; green where it is better for patients or cost and the interval excludes zero, red where worse.</p>"
            f"<table><tr><th>Measure</th>{head}</tr>{''.join(rows)}</table>"
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
        for ax, st in zip(axes.flat, shown, strict=False):
            for i, design in enumerate(self.designs):
                part = monthly[monthly["design"] == design]
                if part[f"{st}_waiting"].isna().all():
                    continue
                q = part.groupby("day")[f"{st}_waiting"].quantile([0.05, 0.5, 0.95]).unstack()
                months = (q.index - q.index.min()) / 30.44 + 1
                ax.fill_between(months, q[0.05], q[0.95], color=COLOURS[i], alpha=0.2, linewidth=0)
                ax.plot(months, q[0.5], color=COLOURS[i], label=design)
            ax.set_title(st.replace("_", " "), fontsize=10)
            ax.set_xlabel("Month of the contract", fontsize=8)
            ax.set_ylabel("Patients waiting", fontsize=8)
            ax.tick_params(labelsize=8)
        for ax in list(axes.flat)[len(shown) :]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=8)
        fig.suptitle("Waiting list at each month end, by stage: median and 90% band across replications", fontsize=11)
        fig.tight_layout()
        self.add(
            "waiting-lists",
            "Waiting lists over time",
            _figure(fig, "Patients waiting (referred, not yet seen) at each month end."),
        )

    def rtt_section(self) -> None:
        monthly, waits = self._csv("monthly"), self._csv("rtt_waits")
        if monthly.empty:
            return
        fig, ax = plt.subplots(figsize=(9, 3.6))
        for i, design in enumerate(self.designs):
            part = monthly[monthly["design"] == design]
            q = part.groupby("day")["rtt_within_18w_pct"].quantile([0.05, 0.5, 0.95]).unstack()
            months = (q.index - q.index.min()) / 30.44 + 1
            ax.fill_between(months, q[0.05], q[0.95], color=COLOURS[i], alpha=0.2, linewidth=0)
            ax.plot(months, q[0.5], color=COLOURS[i], label=design)
        ax.axhline(92, color="black", linestyle="--", linewidth=1, label="92% standard")
        ax.set_ylim(min(80, ax.get_ylim()[0]), 100.5)
        ax.set_title("Incomplete pathways within 18 weeks at each month end (%)")
        ax.set_xlabel("Month of the contract")
        ax.set_ylabel("% within 18 weeks")
        ax.legend(fontsize=8)
        body = _figure(fig, "Median and 90% band across replications, against the 92% standard.")
        if not waits.empty:
            fig, ax = plt.subplots(figsize=(9, 3.6))
            width = 0.8 / max(len(self.designs), 1)
            for i, design in enumerate(self.designs):
                part = waits[waits["design"] == design]
                ax.bar(part["weeks"] + i * width, part["pathways"], width=width, color=COLOURS[i], label=design)
            for mark in (18, 52):
                ax.axvline(mark, color="black", linestyle="--", linewidth=1)
                ax.text(mark + 0.5, ax.get_ylim()[1] * 0.9, f"{mark} weeks", fontsize=8)
            ax.set_title("How long incomplete pathways have waited (mean per month end)")
            ax.set_xlabel("Weeks waited (104 = two years or more)")
            ax.set_ylabel("Pathways")
            ax.legend(fontsize=8)
            body += _figure(fig, "Distribution of waits of patients still waiting, with the 18- and 52-week marks.")
        self.add("rtt", "The 18-week standard", body)

    def flow_section(self) -> None:
        flows = self._csv("flows")
        if flows.empty:
            return
        body = (
            "<p>Patients a year moving between places (mean over replications). "
            "Arrows back to the GP are the bounce-back loop.</p>"
        )
        for design in self.designs:
            part = flows[flows["design"] == design]
            if not part.empty:
                body += _figure(_flow_diagram(part, design), f"Patient flow, {design} design (patients a year).")
        self.add("flows", "Patient flow between stages", body)

    def activity_section(self) -> None:
        t = self.table
        if t.empty:
            return
        items = [
            ("gp_consultations", "GP (bounce-backs)"),
            ("triage_contacts", "Triage"),
            ("physio_contacts", "Physio contacts"),
            ("first_op_attendances", "Outpatient first"),
            ("followup_op_attendances", "Outpatient follow-up"),
            ("surgeries_daycase", "Day case"),
            ("surgeries_inpatient", "Inpatient"),
        ]
        per_year = t.groupby(["design", "year"])[[k for k, _ in items]].mean()
        fig, ax = plt.subplots(figsize=(10, 3.8))
        years = sorted(t["year"].unique())
        width = 0.8 / len(self.designs)
        x = np.arange(len(items))
        for i, design in enumerate(self.designs):
            vals = per_year.loc[design].mean()
            ax.bar(x + i * width, [vals[k] for k, _ in items], width=width, color=COLOURS[i], label=design)
        ax.set_xticks(x + width * (len(self.designs) - 1) / 2, [lbl for _, lbl in items], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("Per year (log scale)")
        ax.set_title("Activity by point of delivery, mean per year")
        ax.legend(fontsize=8)
        rows = "".join(
            f"<tr><td>{html.escape(d)}</td><td>{y}</td>"
            + "".join(f"<td>{fmt(per_year.loc[(d, y), k], 'count')}</td>" for k, _ in items)
            + "</tr>"
            for d in self.designs
            for y in years
        )
        head = "".join(f"<th>{html.escape(lbl)}</th>" for _, lbl in items)
        body = (
            _figure(fig, "Activity per year by point of delivery.")
            + f"<table><tr><th>Design</th><th>Year</th>{head}</tr>{rows}</table>"
        )
        self.add("activity", "Activity by point of delivery", body)

    def cost_section(self) -> None:
        t = self.table
        if t.empty or "commissioner_cost_gbp" not in t:
            return
        fig, axes = plt.subplots(1, len(self.designs), figsize=(5 * len(self.designs), 3.6), squeeze=False)
        providers = sorted(self.scenario.finance.providers)
        colour = {p: COLOURS[i % len(COLOURS)] for i, p in enumerate(providers)}  # the same colour in every panel
        for ax, design in zip(axes.flat, self.designs, strict=True):
            part = t[t["design"] == design]
            cols = [c for c in part.columns if c.startswith(("pay_provider_", "cost_provider_")) and part[c].notna().any()]
            by_year = part.groupby("year")[cols].mean() / 1e6
            bottom = np.zeros(len(by_year))
            for c in cols:
                provider = c.removeprefix("pay_provider_").removeprefix("cost_provider_").removesuffix("_gbp")
                ax.bar(
                    by_year.index, by_year[c], bottom=bottom, color=colour.get(provider, "#999"), label=provider.replace("_", " ")
                )
                bottom += by_year[c].to_numpy()
            ax.set_xticks(by_year.index)
            spend = part.groupby("year")["commissioner_cost_gbp"].mean() / 1e6
            ax.plot(spend.index, spend.values, "k-o", label="commissioner spend")
            kind = "commissioner's payments" if cols and cols[0].startswith("pay_") else "the prime's costs"
            ax.set_title(f"{design}: {kind} by provider", fontsize=10)
            ax.set_xlabel("Contract year")
            ax.set_ylabel("£ million")
            ax.legend(fontsize=7)
        fig.tight_layout()
        self.add(
            "costs",
            "Cost per year by provider",
            _figure(fig, "Mean per contract year; the line is what the commissioner spends."),
        )

    def bid_section(self) -> None:
        from sim.bid import BidPaths

        bs = self._csv("bid_summary")
        bid = self._csv("bid")
        sens = self._csv("sensitivity")
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
        body = _figure(fig, "Distribution of the prime's cumulative surplus across replications; the loss region is shaded.")
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
        body += _figure(fig, "Loss probability against price, evaluated on the same simulated paths.")
        if not sens.empty:
            top = sens.head(10).iloc[::-1]
            fig, ax = plt.subplots(figsize=(9, 0.45 * len(top) + 1.2))
            base = paths.cumulative(price).mean() / 1e6
            for i, r in enumerate(top.itertuples()):
                lo, hi = r.surplus_at_low_gbp / 1e6, r.surplus_at_high_gbp / 1e6
                ax.barh(i, lo - base, left=base, color="#c44e52" if lo < base else "#55a868")
                ax.barh(i, hi - base, left=base, color="#c44e52" if hi < base else "#55a868")
            ax.axvline(base, color="black", linewidth=1)
            ax.set_yticks(range(len(top)), [str(x)[:45] for x in top["input"]], fontsize=8)
            ax.set_xlabel("Mean cumulative surplus (£ million) at the low and high value of each input")
            ax.set_title("What moves the result (tornado)")
            body += _figure(fig, "Inputs ranked by how far they move the mean cumulative surplus.")
        rows = "".join(
            f"<tr><td>{html.escape(str(r.metric))}</td><td>{html.escape(str(r.year))}</td>"
            f"<td>{_fmt_bid(r.metric, r.mean)}</td></tr>"
            for r in bs.itertuples()
            if str(r.year) == "all"
        )
        body += f"<table><tr><th>Figure</th><th>Year</th><th>Value</th></tr>{rows}</table>"
        self.add("bid", "The bid", body)

    def sweep_section(self) -> None:
        summary = self._csv("sweep_summary")
        keys = [c for c in summary.columns if c not in {"point", "design", "metric", "mean", "ci_low", "ci_high", "n"}]
        metric = self.manifest.get("batch", {}).get("metric", "rtt_incomplete_18w_pct")
        body = ""
        for key in keys:
            part = summary[summary["metric"] == metric]
            fig, ax = plt.subplots(figsize=(9, 3.6))
            for i, design in enumerate(self.designs):
                d = part[part["design"] == design].groupby(key)[["mean", "ci_low", "ci_high"]].mean().sort_index()
                ax.errorbar(
                    d.index,
                    d["mean"],
                    yerr=[d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]],
                    color=COLOURS[i],
                    marker="o",
                    capsize=3,
                    label=design,
                )
            if metric == "rtt_incomplete_18w_pct":
                ax.axhline(92, color="black", linestyle="--", linewidth=1, label="92% standard")
            ax.set_xlabel(key)
            ax.set_ylabel(metric)
            ax.set_title(f"{metric} against {key} (mean and 95% interval; other keys averaged)")
            ax.legend(fontsize=8)
            body += _figure(fig, f"Sweep over {key}.")
        self.add("sweep", "The sweep", body)

    def diagnostics_section(self) -> None:
        if self.table.empty:
            return
        checks = diagnostics.stage_checks(self.table, self.scenario)
        reps = int(self.table["replication"].nunique())
        msgs = diagnostics.warnings(checks, reps)
        body = "".join(f'<div class="warn">{html.escape(m)}</div>' for m in msgs) or '<div class="ok">No warnings.</div>'
        head = (
            "<tr><th>Design</th><th>Stage</th><th>New patients /wk (λ)</th><th>First-visit capacity /wk (μ)</th><th>Load λ/μ</th>"
            "<th>Capacity for 18 weeks</th><th>Target list (λT/4)</th><th>Largest list for 92%</th><th>Simulated list</th>"
            "<th>Little's law gap</th></tr>"
        )
        rows = "".join(
            f"<tr><td>{html.escape(r.design)}</td><td>{html.escape(r.stage)}</td><td>{r.demand_per_week:,.0f}</td>"
            f"<td>{r.first_capacity_per_week:,.0f}</td><td>{r.load:.2f}</td><td>{r.target_capacity:,.0f}</td>"
            f"<td>{r.target_list:,.0f}</td><td>{r.relief_list:,.0f}</td><td>{r.simulated_list:,.0f}</td><td>{r.littles_gap_pct:.1f}%</td></tr>"
            for r in checks.itertuples()
        )
        body += (
            "<p>Demand and capacity per stage (means over replications and years), with the NHSRwaitinglist rules of thumb "
            "for the 18-week standard (T = 18 weeks, factor 4, coefficients of variation 1): they hold only below load 1.</p>"
            f"<table>{head}{rows}</table>"
        )
        self.add("diagnostics", "Diagnostics", body)

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


def _fmt_bid(metric: str, value: float) -> str:
    if metric.endswith("_gbp"):
        return fmt(value, "gbp")
    if metric.startswith(("loss_probability", "max_loss")):
        return f"{100 * value:.1f}%"
    if metric.endswith("_pct"):
        return f"{value:.1f}%"
    return f"{value:,.3g}"


def _flow_diagram(flows: pd.DataFrame, design: str):
    """A layered flow diagram: places in columns, arrows as wide as the flow, loops to the GP curved."""
    flows = flows.rename(columns={"from": "src", "to": "dst"})
    layer = {"GP": 0, "triage": 1, "advice": 2, "theatre": 4}
    nodes = sorted(set(flows["src"]) | set(flows["dst"]))

    def col(n: str) -> int:
        if n in layer:
            return layer[n]
        if n.startswith("discharged"):
            return 6
        if n.endswith("(rehab)"):
            return 5
        if n in {"orthopaedics", "rheumatology", "pain"}:
            return 3
        return 2

    columns: dict[int, list[str]] = {}
    for n in nodes:
        columns.setdefault(col(n), []).append(n)
    pos = {}
    for c, names in columns.items():
        for i, n in enumerate(sorted(names)):
            pos[n] = (c * 1.8, -(i - (len(names) - 1) / 2) * 1.5 + (0.4 if c % 2 else 0.0))
    fig, ax = plt.subplots(figsize=(12, 6))
    top = flows["per_year"].max()
    for r in flows.itertuples():
        if r.per_year < top * 0.003:
            continue  # too thin to see; still in flows.csv
        a, b = pos[r.src], pos[r.dst]
        back = b[0] <= a[0]
        arrow = FancyArrowPatch(
            a, b, arrowstyle="-|>", mutation_scale=10, linewidth=0.5 + 7 * r.per_year / top,
            color="#c44e52" if r.dst == "GP" else ("#999999" if back else "#4c72b0"), alpha=0.55,
            connectionstyle=f"arc3,rad={0.35 if back else 0.05}", shrinkA=18, shrinkB=18,
        )  # fmt: skip
        ax.add_patch(arrow)
        if r.per_year >= top * 0.02:  # label the flows that matter, keep the picture readable
            mx, my = a[0] + 0.45 * (b[0] - a[0]), a[1] + 0.45 * (b[1] - a[1]) + (0.35 if back else 0.0)
            ax.text(mx, my, f"{r.per_year:,.0f}", fontsize=7, ha="center", va="center", color="#222",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})  # fmt: skip
    for n, (x, y) in pos.items():
        ax.text(
            x,
            y,
            n.replace("_", " "),
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "ec": "#555"},
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 1.0)
    ax.axis("off")
    ax.set_title(f"{design}: patients a year between places (red: back to the GP)")
    return fig


def build_report(folder: Path) -> Path:
    """Write ``report.html`` into a results folder and return its path."""
    return Report(folder).build()
