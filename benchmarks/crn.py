"""Common random numbers: how noisy are paired differences between the designs?

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/crn.md``, which
docs/model.md includes)::

    python benchmarks/crn.py --reps 16 --years 1 --save /tmp/crn.json
    python benchmarks/crn.py --reps 16 --years 1 --compare /tmp/crn.json

Each replication runs both designs of the bundled Bedfordshire scenario at the point values
(no drawn inputs, so only the model's own randomness differs). For each headline metric it
prints the standard deviation across replications of the paired difference (prime minus
fragmented, per replication) and, beside it, what the difference's standard deviation
would be if the designs saw independent random numbers (the two designs' variances
added). With ``--compare`` it also prints the figures saved from another version of the
model, and the ratio of replications needed for the same interval width,
``(sd_now / sd_then)²``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import Record  # noqa: E402
from sim.runs.experiment import run_replications  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402

METRICS = (
    "joint_replacements",
    "listed_for_surgery",
    "first_op_attendances",
    "physio_contacts",
    "waiting_list_end",
    "rtt_incomplete_mean",
    "journeys_resolved_pct",
    "commissioner_cost_gbp",
)


def measure(reps: int, years: int, jobs: int) -> dict[str, dict[str, float]]:
    s = load_scenario(ROOT / "scenarios" / "bedfordshire.toml", [f"run.years={years}"])
    table = run_replications(s, ["fragmented", "prime"], reps, jobs=jobs)
    per = table.groupby(["design", "replication"])[list(METRICS)].mean()
    frag, prime = per.loc["fragmented"], per.loc["prime"]
    out = {}
    for m in METRICS:
        diff = (prime[m] - frag[m]).to_numpy()
        independent = float(np.sqrt(prime[m].var(ddof=1) + frag[m].var(ddof=1)))
        out[m] = {"mean_difference": float(diff.mean()), "sd_paired": float(diff.std(ddof=1)), "sd_independent": independent}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=16)
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--save", type=Path)
    ap.add_argument("--compare", type=Path)
    a = ap.parse_args()
    record = Record("crn")
    now = measure(a.reps, a.years, a.jobs)
    then = json.loads(a.compare.read_text()) if a.compare else None
    print(f"Bedfordshire, {a.reps} replications, {a.years} year(s) after the warm-up; prime minus fragmented, per year")
    head = f"{'metric':28} {'mean diff':>12} {'sd paired':>10} {'sd indep.':>10}"
    print(head + (f" {'sd then':>10} {'reps ratio':>10}" if then else ""))
    md = [
        f"Bedfordshire at its point values, {a.reps} replications of {a.years} year(s) after the warm-up; prime minus "
        "fragmented, per year. *Paired*: the standard deviation across replications of the paired difference (both "
        "designs on the same patients); *independent*: what it would be if the designs saw independent random numbers; "
        "*replications*: (paired / independent)², the replications paired runs need for the same interval on the "
        "difference, as a share of those independent runs would need."
        + (f" *Then*: the paired figure saved from another version of the model (`--compare {a.compare.name}`), and the "
           "ratio of replications now to then." if then else ""),
        "",
        "| metric | mean difference | sd paired | sd independent | replications | " + ("sd then | now / then |" if then else ""),
        "|---|---:|---:|---:|---:|" + ("---:|---:|" if then else ""),
    ]
    for m, f in now.items():
        line = f"{m:28} {f['mean_difference']:12.1f} {f['sd_paired']:10.2f} {f['sd_independent']:10.2f}"
        share = (f["sd_paired"] / f["sd_independent"]) ** 2 if f["sd_independent"] else float("nan")
        row = f"| {m} | {f['mean_difference']:,.1f} | {f['sd_paired']:,.2f} | {f['sd_independent']:,.2f} | {share:.2f} |"
        if then and m in then:
            ratio = (f["sd_paired"] / then[m]["sd_paired"]) ** 2 if then[m]["sd_paired"] else float("nan")
            line += f" {then[m]['sd_paired']:10.2f} {ratio:10.2f}"
            row += f" {then[m]['sd_paired']:,.2f} | {ratio:.2f} |"
        print(line)
        md.append(row)
    if a.save:
        a.save.write_text(json.dumps(now, indent=1))
    record.write(md)

if __name__ == "__main__":
    main()
