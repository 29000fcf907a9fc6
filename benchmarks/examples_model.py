"""The worked examples on the Model page (docs/model.md), run as the page gives them.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/queue_after_booking.md``
and ``benchmarks/results/switch_over.md``, which the page includes)::

    python benchmarks/examples_model.py        # both runs, as on the page (a few minutes)

- ``msksim compare scenarios/bedfordshire.toml --reps 2 --years 1 --no-uncertainty``: each
  design's queue after booking beside its wait for a first appointment, at orthopaedics and the
  theatre, from ``summary.csv``;
- ``msksim compare scenarios/bedfordshire.toml --switch-over --reps 10 --years 3``: the
  switch-over month by month (``switch_over.csv``), the sessions the capacity policies added
  (``replications.csv``) and year 1's cost (``summary.csv``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.commands import money, msksim  # noqa: E402
from benchmarks.record import Record  # noqa: E402
from sim.analysis.switchover_months import months_to_settle  # noqa: E402

LISTS = {
    "rtt_incomplete": "the RTT list (incomplete pathways)",
    "rtt_wait_median_weeks": "the median wait",
    "rtt_incomplete_within_18w_pct": "the share within 18 weeks",
    "triage_waiting": "the triage list",
    "community_specialist_waiting": "the community clinic's list",
    "orthopaedics_waiting": "the orthopaedic list",
    "rheumatology_waiting": "the rheumatology list",
    "pain_waiting": "the pain clinic's list",
    "physio_waiting": "the physio list",
    "podiatry_waiting": "the podiatry list",
    "theatre_waiting": "the theatre list",
}


def queue_after_booking(tmp: Path) -> list[str]:
    args = ["compare", "scenarios/bedfordshire.toml", "--reps", "2", "--years", "1", "--no-uncertainty", "--jobs", "1"]
    out = msksim(*args, out=tmp / "queue")
    s = pd.read_csv(out / "summary.csv")
    s = s[(s["year"] == "1") & ~s["scope"].str.contains(" - ")].set_index(["scope", "metric"])["mean"]
    md = [
        f"`msksim {' '.join(args[:-2])}`: mean days in contract year 1, each design (mean of the 2 replications).",
        "",
        "| design | orthopaedics: queue after booking | orthopaedics: wait for a first appointment (92nd centile) "
        "| theatre: queue after booking | theatre: wait from listing to admission (92nd centile) |",
        "|---|---:|---:|---:|---:|",
    ]
    for design in dict.fromkeys(s.index.get_level_values(0)):
        d = s.loc[design]
        md.append(
            f"| {design} | {d['orthopaedics_queue_wait_mean_days']:.1f} | {d['orthopaedics_first_wait_mean_days']:.0f} "
            f"({d['orthopaedics_first_wait_p92_days']:.0f}) | {d['theatre_queue_wait_mean_days']:.1f} | "
            f"{d['theatre_admission_wait_mean_days']:.0f} ({d['theatre_admission_wait_p92_days']:.0f}) |"
        )
    return md


def switch_over(tmp: Path) -> list[str]:
    args = ["compare", "scenarios/bedfordshire.toml", "--switch-over", "--reps", "10", "--years", "3", "--jobs", "1"]
    out = msksim(*args, out=tmp / "switch_over")
    t = pd.read_csv(out / "switch_over.csv")
    reps = pd.read_csv(out / "replications.csv")
    s = pd.read_csv(out / "summary.csv")
    new = "prime_from_fragmented"
    by = {m: part.set_index("month") for m, part in t.groupby("measure")}
    rtt, triage, share = by["rtt_incomplete"], by["triage_waiting"], by["rtt_incomplete_within_18w_pct"]
    peak, tpeak, low = rtt["switch_over_mean"].idxmax(), triage["switch_over_mean"].idxmax(), share["switch_over_mean"].idxmin()
    years = int(reps["year"].max())
    sessions = reps.groupby("design")["triage_sessions_added"].mean()
    cost = s[(s["year"] == "1") & (s["metric"] == "commissioner_cost_gbp")].set_index("scope")
    settle = months_to_settle(t)
    n = int(rtt["replications"].iloc[0])

    def months(m: str) -> str:
        k = settle.get(m)
        return "not within the run" if k is None else f"{k} months"

    def ci(design: str) -> str:
        r = cost.loc[design]
        return f"{money(r['mean'], 1)} (95% CI {money(r['ci_low'], 1)} to {money(r['ci_high'], 1)})"

    plural = "s" if years != 1 else ""
    return [
        f"`msksim {' '.join(args[:-2])}` ({n} replications, {years} contract year{plural}); the prime taking over "
        f"(`{new}`) beside the prime in its steady state (`prime`), means over the replications:",
        "",
        f"- *Taken over*: {rtt.loc[1, 'old_design_mean']:,.0f} incomplete RTT pathways at the end of the first month "
        "under the old design.",
        f"- *The RTT list* climbs to {rtt.loc[peak, 'switch_over_mean']:,.0f} in month {peak}, against "
        f"{rtt.loc[peak, 'steady_state_mean']:,.0f} in the steady state.",
        f"- *The triage list* peaks at {triage.loc[tpeak, 'switch_over_mean']:,.0f} in month {tpeak} (steady state "
        f"{triage.loc[tpeak, 'steady_state_mean']:,.0f}); the managed capacity policy adds "
        f"{sessions.get(new, 0):.0f} triage sessions a year on average over the {years} years, against "
        f"{sessions.get('prime', 0):.0f} in the steady state.",
        f"- *Within 18 weeks* falls to {share.loc[low, 'switch_over_mean']:.1f}% in month {low}, against "
        f"{share.loc[low, 'steady_state_mean']:.1f}% in the steady state.",
        "- *Months to the steady state* (the difference within 5% of it, 1 point for a percentage, or not "
        "distinguishable from it, from then on): "
        + "; ".join(f"{label} {months(m)}" for m, label in LISTS.items() if m in settle) + ".",
        f"- *Year 1 costs the commissioner* {ci(new)} taking over, against {ci('prime')} in the steady state.",
    ]


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("queue_after_booking", queue_after_booking), ("switch_over", switch_over)):
            record = Record(name)
            md = make(Path(tmp))
            print("\n".join(md))
            record.write(md)


if __name__ == "__main__":
    main()
