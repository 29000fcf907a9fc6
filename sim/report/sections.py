"""The report's sections on the scenario and the pathway: waits, the 18 weeks, flows, activity, costs.

Each function takes the :class:`~sim.report.view.View` and returns its section, or None when
the folder has nothing for it.
"""

from __future__ import annotations

from pathlib import Path

from sim.analysis import diagnostics
from sim.analysis.switchover_months import SWITCH_OVER, months_to_settle
from sim.report import charts
from sim.report.flowchart import flow_diagram
from sim.report.labels import key_label, stage_name, value_text, words
from sim.report.page import Section, esc, figure
from sim.report.terminal import STRUCTURES_TITLE, fmt, structure_rows
from sim.report.view import View
from sim.runs.batch import STRUCTURES
from sim.scenario.columns import column

ACTIVITY_SHOWN = (  # the activity charted, by point of delivery
    "gp_consultations", "triage_contacts", "physio_contacts", "first_op_attendances", "followup_op_attendances",
    "surgeries_daycase", "surgeries_inpatient",
)  # fmt: skip
SWITCH_PANELS = (
    ("rtt_incomplete", "RTT waiting list (incomplete pathways)"),
    ("rtt_incomplete_within_18w_pct", "Within 18 weeks (%)"),
    ("rtt_wait_median_weeks", "Median wait (weeks)"),
)
CLOCK_RULE = (
    "Every design counts RTT clocks by the national rules: a referral to a consultant-led or interface "
    "service starts a clock; it runs through onward referrals and the surgical list, and stops at the first "
    "treatment (an operation, a course of care in outpatients or therapy), at a decision not to treat or a "
    "discharge; a removal from a list is counted apart; a new referral starts a new clock. The whole journey, "
    "from the first GP referral to the end of care across every service, is measured on its own in the key results."
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _design_facts(designs: list[str], pair: list[str]) -> tuple[str, str]:
    if pair:
        a, b = pair
        rest = [d for d in designs if d not in pair]
        also = f"; also run: {', '.join(rest)}" if rest else ""
        return "Designs compared", f"{a} and {b}; differences are {b} − {a}, paired by replication{also}"
    return "Design" + ("s" if len(designs) > 1 else ""), ", ".join(designs)


def scenario_section(view: View) -> Section:
    """The facts of the run: population, demand, services, designs, start, inputs, seed, sweep."""
    s, m = view.scenario, view.folder.manifest
    d = s.demand
    reps = m.get("replications_run", s.run.replications)
    uncertain = view.folder.batch.get("uncertainty") and s.uncertainty
    facts = [
        ("Population", f"{s.population:,}"),
        ("MSK referrals", f"about {d.referrals_per_year:,.0f} a year, growing {d.growth:.1%} a year"),
        ("Services", f"{len(s.stages)}: {', '.join(words(n) for n in s.stages)}"),
        _design_facts(view.designs, view.pair),
        (
            "Run",
            f"{_plural(reps, 'replication')} of {_plural(s.run.years, 'contract year')} "
            f"from {s.run.start_date.day} {s.run.start_date:%B %Y}",
        ),
        ("Start", start_text(view)),
        (
            "Inputs",
            f"{len(s.uncertainty)} uncertain inputs drawn afresh for each replication"
            if uncertain
            else "fixed at the scenario's values",
        ),
        ("Random numbers", f"seed {s.run.seed}; every design sees the same patients (common random numbers)"),
    ]
    if view.sweep:
        grid = "; ".join(f"{key_label(k)}: {', '.join(value_text(k, v) for v in vals)}" for k, vals in view.grid.items())
        facts.append(("Sweep", f"{grid} ({len(view.point_values())} grid points)"))
        facts.append(("Charts below", f"{view.point_text}, except the sweep and the diagnostics, which show every point"))
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts)
    lead = f'<p class="lead">{esc(s.description)}</p>' if s.description else ""
    return Section("scenario", "The scenario", f'{lead}<table class="facts">{rows}</table>')


def start_text(view: View) -> str:
    """How the run starts: from a backlog, from empty with no warm-up, or after a warm-up."""
    s = view.scenario
    if s.backlog is not None:
        b = s.backlog
        per_design = {}
        for design in view.designs:
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


def waiting_section(view: View) -> Section | None:
    """The waiting list of each stage at each month end."""
    monthly = view.csv("monthly")
    if monthly.empty:
        return None
    stages = [c.removesuffix("_waiting") for c in monthly.columns if c.endswith("_waiting")]
    shown = [st for st in stages if monthly[f"{st}_waiting"].fillna(0).max() > 0]
    if not shown:
        return None
    mean = all(f"{st}_waiting_mean" in monthly.columns for st in shown)  # folders written before it lack it
    fig = charts.waiting_lists(monthly, shown, view.designs, view.scenario.run.warmup_days, mean)
    start = " Month 0 is the backlog as loaded at the start." if view.scenario.backlog is not None else ""
    when = (
        "on average over each month's days (monthly.csv also gives each list at the month end, as the NHS counts it)"
        if mean
        else "at each month end"
    )
    body = view.point_note() + figure(fig, f"Patients waiting (referred, not yet seen), {when}.{start}")
    spread = diagnostics.overload_warnings(diagnostics.overloaded_paths(view.table))
    body += "".join(f'<p class="note">{esc(m)}</p>' for m in spread)
    policies = diagnostics.policy_lines(view.table, view.scenario)
    if policies:  # what the lists would be without them is a run with --set run.capacity_policies=fixed
        body += '<p class="note">Capacity policies (sessions added as lists grow): ' + "; ".join(map(esc, policies)) + ".</p>"
    return Section("waiting-lists", "Waiting lists over time", body)


def switch_over_section(view: View) -> Section | None:
    """A design taking over another's patients: its path month by month to its steady state."""
    table = view.folder.table("switch_over")
    names = (view.folder.batch.get("extra") or {}).get(SWITCH_OVER)
    if table.empty or not names:
        return None
    settle = months_to_settle(table)
    shown = [(m, t) for m, t in SWITCH_PANELS if m in settle]
    shown += [(m, f"{stage_name(m.removesuffix('_waiting'))} list") for m in settle if m.endswith("_waiting")]
    shown = [(m, t) for m, t in shown if table.loc[table["measure"] == m, "steady_state_mean"].abs().max() > 0]
    fig = charts.switch_over(table, shown, names, settle)
    d = view.scenario.designs[names["design"]]
    mob = d.mobilisation
    if mob is None:
        how = "It starts at full strength: the scenario sets no mobilisation."
    else:
        services = ", ".join(words(n) for n in mob.services) if mob.services is not None else "the services new to it"
        how = (
            f"It mobilises over {mob.months} months: the capacity of {services} from {mob.capacity_from:.0%} of its plan, "
            f"triage decisions made on the patient's need from {mob.triage_accuracy_from:.0%}."
        )
    body = (
        f"<p>{esc(names['design'])} takes over the patients of {esc(names['from'])} at the contract start: those waiting at "
        f"services it also runs keep their places, bookings and RTT clocks; those at services it does not run go to its "
        f"entry. {esc(how)} Beside it, {esc(names['steady'])} in its steady state and {esc(names['from'])} carrying on "
        "unchanged, on the same patients.</p>"
    )
    body += figure(fig, "Means over replications at each month end; the dotted line marks the month from which the "
                   "switch-over stays within 5% of the steady state (1 point for a percentage), or not distinguishable "
                   "from it.")  # fmt: skip
    rows = "".join(
        f"<tr><td>{esc(t)}</td><td>{'not within the run' if settle[m] is None else settle[m]}</td></tr>" for m, t in shown
    )
    body += f"<table><tr><th>Measure</th><th>Months to the steady state</th></tr>{rows}</table>"
    return Section("switch-over", "The switch-over", body)


def structures_section(view: View) -> Section | None:
    """Designs with capacity structures the returns cannot tell apart: the answer under each."""
    structures = (view.folder.batch.get("extra") or {}).get(STRUCTURES) or {}
    headings, rows = structure_rows(view.folder.table("summary"), structures, view.scenario)
    if not rows:
        return None
    whys = "".join(
        f"<li><b>{esc(structure)}</b>: {esc(view.scenario.designs[base].structures[structure].why)}</li>"
        for base, structure in dict.fromkeys((b, s) for b, s in structures.values())
    )
    head = "".join(f"<th>{esc(h)}</th>" for h in ["Per year", *headings, "Range"])
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    text = (
        "<p>The published returns these designs were fitted to do not tell some of their capacities: their waits fit "
        "as well with more than one explanation, and each answers a capacity question differently. Each ran on the "
        "same patients; read the answer as the range between them, not as one number.</p>"
    )
    active = "".join(
        f"<li><b>{esc(view.scenario.designs[b].active_structure)}</b> (run as {esc(b)}): "
        f"{esc(view.scenario.designs[b].structures[view.scenario.designs[b].active_structure].why)}</li>"
        for b in dict.fromkeys(b for b, _ in structures.values())
    )
    body = f"{text}<ul>{active}{whys}</ul><table><tr>{head}</tr>{body}</table>"
    return Section("structures", STRUCTURES_TITLE, body)


def clock_note(view: View) -> str:
    """How the 18-week clocks are counted (the same rule in every design)."""
    return f'<p class="note">{esc(CLOCK_RULE)}</p>' if view.designs else ""


def rtt_section(view: View) -> Section | None:
    """The 18-week standard month by month, and how long the incomplete pathways have waited."""
    monthly, waits = view.csv("monthly"), view.csv("rtt_waits")
    if monthly.empty:
        return None
    s = view.scenario
    fig = charts.rtt_within(monthly, view.designs, s.run.warmup_days, bool(s.backlog))
    body = view.point_note() + clock_note(view)
    body += figure(fig, "Median and 90% band across replications, against the 92% standard.")
    if not waits.empty:
        body += "<h3>Wait distribution</h3>" + figure(
            charts.wait_distribution(waits, view.designs),
            "Waits of patients still waiting, with the 18- and 52-week marks; the axis stops at the longest wait seen, "
            "or just past 52 weeks.",
        )
    return Section("rtt", "The 18-week standard", body)


def _flow_list(flows: list[tuple[str, str, float]]) -> str:
    return "; ".join(f"{esc(words(a))} → {esc(words(b))} {v:,.0f}" for a, b, v in sorted(flows, key=lambda x: -x[2]))


def _flow_notes(notes) -> str:
    """What a flow picture leaves out, listed under it."""
    body = ""
    if notes.undrawn:
        body += (
            '<p class="small">Onward referrals between services, and steps back, not drawn (a year): '
            f"{_flow_list(notes.undrawn)}.</p>"
        )
    if notes.unnumbered or notes.dropped:
        small = (
            f"Drawn without a number, too small or crowded (a year): {_flow_list(notes.unnumbered)}. " if notes.unnumbered else ""
        )
        if notes.dropped:
            small += f"{notes.dropped} flow{'s' if notes.dropped > 1 else ''} under one patient a year left out."
        body += f'<p class="small">{small}</p>'
    return body


def flow_section(view: View) -> Section | None:
    """One patient-flow picture per design."""
    flows = view.csv("flows")
    if flows.empty:
        return None
    body = view.point_note() + (
        "<p>Patients a year moving between places (mean over replications), left to right; each band is as wide "
        "as its flow. In red, patients sent back to the GP, who refers them again: the bounce-back loop.</p>"
    )
    for design in view.designs:
        part = flows[flows["design"] == design]
        if part.empty:
            continue
        fig, notes = flow_diagram(part, design, view.scenario)
        body += f"<h3>{esc(design)}</h3>" + figure(fig, f"Patient flow, {design} design (patients a year).")
        body += _flow_notes(notes)
    return Section("flows", "Patient flow between stages", body)


def activity_section(view: View) -> Section | None:
    """Activity a year by point of delivery: a chart and its table."""
    t = view.table
    if t.empty:
        return None
    items = [(k, column(k).brief) for k in ACTIVITY_SHOWN if k in t.columns and t[k].fillna(0).abs().sum() > 0]
    if not items:
        return None
    per_year = t.groupby(["design", "year"])[[k for k, _ in items]].mean()
    years = sorted(t["year"].unique())
    fig = charts.activity(per_year, items, years, view.designs)
    table_rows = "".join(
        f"<tr><td>{esc(d)}</td><td>{y}</td>"
        + "".join(f"<td>{fmt(per_year.loc[(d, y), k], 'count')}</td>" for k, _ in items)
        + "</tr>"
        for d in view.designs
        for y in years
        if (d, y) in per_year.index
    )
    head = "".join(f"<th>{esc(lbl)}</th>" for _, lbl in items)
    body = (
        view.point_note()
        + figure(fig, "Mean activity per contract year across replications, by design.")
        + f'<div class="scroll"><table><tr><th>Design</th><th>Year</th>{head}</tr>{table_rows}</table></div>'
    )
    return Section("activity", "Activity by point of delivery", body)


def cost_section(view: View) -> Section | None:
    """Money a year by provider, with the commissioner's spend."""
    t = view.table
    if t.empty or "commissioner_cost_gbp" not in t:
        return None
    fig = charts.costs(t, view.designs, sorted(view.scenario.finance.providers))
    body = view.point_note() + figure(fig, "Mean per contract year; the line is what the commissioner spends.")
    return Section("costs", "Cost per year by provider", body)
