"""The worked figures on the Calibration page (docs/calibration.md), run as the page gives them.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/calibration_targets.md``,
``benchmarks/results/claim_in_returns.md`` and ``benchmarks/results/oldham_hub.md``, which the
page includes)::

    python benchmarks/examples_calibration.py  # a few minutes

- ``msksim compare scenarios/bedfordshire.toml --also prime_as_claimed --years 1`` (the
  scenario's 10 replications): each validation target in contract year 1, from ``summary.csv``
  and ``rtt_returns.csv``; the hand calculation (the traffic equations, ``sim.analysis.flows``)
  at the year's referrals; and the three designs' monthly T&O and Other returns in year 1
  beside 06F's published ones (December 2014 to February 2015);
- Oldham's hub: its T&O returns beside 00Y's (the mean of the three published months; 10
  replications of the same months, as ``benchmarks/rtt_tables.py`` runs them) at its fitted
  values and with every patient its T&O clinics treat given a day-case procedure first;
  admitted T&O pathways per 1,000 people in the published returns; and
  ``msksim compare scenarios/oldham.toml --years 1 --reps 4`` with and without the fitted
  procedures, for what they cost.
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
from sim.analysis.flows import expected_activity  # noqa: E402
from sim.calibrate.area import read_published  # noqa: E402
from sim.calibrate.fit import Fitter, mean_statistics, published_statistics  # noqa: E402
from sim.runs.executors import make_executor  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402

DESIGNS = {"fragmented": "fragmented", "prime": "prime as delivered", "prime_as_claimed": "prime as claimed"}
RTT = ROOT / "data" / "rtt"


def published(era: str, commissioner: str, functions: list[str]) -> pd.DataFrame:
    """A commissioner's published returns, per month and part (count a month, within 18 weeks...)."""
    files = sorted(RTT.glob(f"rtt-commissioner-{era}-*.csv"))
    return published_statistics(read_published(files, commissioner, functions))


def year_one(tmp: Path) -> tuple[pd.Series, pd.DataFrame, Path]:
    args = ["compare", "scenarios/bedfordshire.toml", "--also", "prime_as_claimed", "--years", "1", "--jobs", "1"]
    out = msksim(*args, out=tmp / "year1")
    s = pd.read_csv(out / "summary.csv")
    s = s[(s["year"].astype(str) == "1") & s["scope"].isin(DESIGNS)].set_index(["scope", "metric"])["mean"]
    rtt = pd.read_csv(out / "rtt_returns.csv", dtype={"treatment_function": str})
    rtt = rtt[rtt["year"] == 1]
    months = rtt.groupby(["design", "treatment_function", "part"])["total"].sum() / rtt.groupby(
        ["design", "treatment_function", "part"])["month"].nunique() / rtt["replication"].nunique()  # fmt: skip
    return s, months, out


def targets(s: pd.Series, monthly: pd.Series, reps: int) -> list[str]:
    def row(label: str, target: str, fmt) -> str:
        return f"| {label} | {target} | " + " | ".join(fmt(d) for d in DESIGNS) + " |"

    def m(d: str, k: str) -> float:
        return float(s[(d, k)])

    def firsts(d: str) -> float:
        return m(d, "orthopaedics_first") - m(d, "outside_contract_orthopaedics_first")

    def ops(d: str) -> float:
        kinds = ("daycase", "inpatient")
        return sum(m(d, f"surgeries_{k}") - m(d, f"outside_contract_surgeries_{k}") for k in kinds)

    def admitted_share(d: str) -> float:
        a, n = monthly[(d, "110", "admitted")], monthly[(d, "110", "nonadmitted")]
        return 100 * a / (a + n)

    base = firsts("fragmented")
    change = {d: "" if d == "fragmented" else f" ({firsts(d) / base - 1:+.0%})".replace("-", "−") for d in DESIGNS}
    rows = [
        f"`msksim compare scenarios/bedfordshire.toml --also prime_as_claimed --years 1` ({reps} replications, contract year 1):",
        "",
        "| target | range | " + " | ".join(DESIGNS.values()) + " |",
        "|---|---|---|---|---|",
        row("commissioner spend, year 1: the contract (with the care outside it)", "£24–27m (target 1)",
            lambda d: f"{money(m(d, 'commissioner_cost_gbp'), 1)} ({money(m(d, 'commissioner_cost_with_outside_gbp'), 1)})"),
        row("the care outside the contract, paid at tariff", "", lambda d: money(m(d, "outside_contract_spend_gbp"), 1)),
        row("conversion to surgery", "25–35% fragmented; 45–65% as claimed", lambda d: f"{100 * m(d, 'conversion_rate'):.1f}%"),
        row("hospital-bound referrals kept out of hospital", "15–45% as delivered; 40–60% as claimed",
            lambda d: f"{m(d, 'hospital_diversion_pct'):.1f}%"),
        row("admitted share of T&O clock stops", "40–50% as delivered", lambda d: f"{admitted_share(d):.1f}%"),
        row("orthopaedic first attendances, the contract's patients", "", lambda d: f"{firsts(d):,.0f}{change[d]}"),
        row("operations, the contract's patients", "", lambda d: f"{ops(d):,.0f}"),
        row("hip and knee replacements per 1,000", "2.0–2.6", lambda d: f"{m(d, 'joint_replacements_per_1000'):.2f}"),
        row("physio did-not-attend", "9–15%", lambda d: f"{m(d, 'physio_dna_pct'):.1f}%"),
        row("extra GP consultations", "", lambda d: f"{m(d, 'gp_consultations'):,.0f}"),
        row("referrals", "about 46,000", lambda d: f"{m(d, 'referrals'):,.0f}"),
    ]  # fmt: skip
    referrals = m("fragmented", "referrals")
    contract = load_scenario(ROOT / "scenarios" / "bedfordshire.toml", ["run.years=1", "demand.outside_contract.per_year=0"])
    flows = {d: expected_activity(contract, d) for d in ("fragmented", "prime_as_claimed")}
    hand_ops = {d: (f["surgeries_daycase"] + f["surgeries_inpatient"]) * referrals for d, f in flows.items()}
    rows += [
        "",
        f"The hand calculation (the traffic equations, for the contract's patients at the {referrals:,.0f} referrals of "
        f"year 1): orthopaedic first attendances {flows['fragmented']['orthopaedics_first'] * referrals:,.0f} (fragmented); "
        f"operations {hand_ops['fragmented']:,.0f} (fragmented) and {hand_ops['prime_as_claimed']:,.0f} (as claimed).",
    ]
    return rows


def claim(monthly: pd.Series, s: pd.Series, reps: int) -> list[str]:
    pub = published("ccg", "06F", ["110", "X01"]).groupby(["treatment_function", "part"])["per_month"].mean()

    def share(a: float, n: float) -> str:
        return f"{100 * a / (a + n):.1f}%"

    md = [
        f"Contract year 1 of `msksim compare scenarios/bedfordshire.toml --also prime_as_claimed --years 1` ({reps} "
        "replications), each design's returns a month on average, beside 06F's published returns (mean of December 2014 to "
        "February 2015); T&O is `110`, Other `X01`.",
        "",
        "| a month | 06F published | " + " | ".join(DESIGNS.values()) + " |",
        "|---|---:|---:|---:|---:|",
    ]
    lines = (
        ("T&O admitted pathways", "110", "admitted"),
        ("T&O non-admitted pathways", "110", "nonadmitted"),
        ("Other non-admitted pathways (published: every specialty without a code of its own)", "X01", "nonadmitted"),
        ("Other clock starts", "X01", "clock_starts"),
    )
    for label, f, part in lines:
        p = f"{pub[(f, part)]:,.0f}" if (f, part) in pub else "not published"
        md.append(f"| {label} | {p} | " + " | ".join(f"{monthly[(d, f, part)]:,.0f}" for d in DESIGNS) + " |")  # fmt: skip
    md.append("| admitted share of T&O clock stops | " + share(pub[("110", "admitted")], pub[("110", "nonadmitted")]) + " | "
              + " | ".join(share(monthly[(d, "110", "admitted")], monthly[(d, "110", "nonadmitted")]) for d in DESIGNS) + " |")
    md.append("| hospital-bound referrals kept out of hospital (year 1) | | "
              + " | ".join(f"{s[(d, 'hospital_diversion_pct')]:.1f}%" for d in DESIGNS) + " |")
    first = {d: s[(d, "orthopaedics_first")] - s[(d, "outside_contract_orthopaedics_first")] for d in DESIGNS}
    cost = {d: s[(d, "commissioner_cost_gbp")] for d in DESIGNS}
    md += [
        "",
        f"The prime as claimed against the prime as delivered, year 1: {first['prime'] - first['prime_as_claimed']:,.0f} fewer "
        f"orthopaedic first attendances, {money(cost['prime'] - cost['prime_as_claimed'], 1)} less to the commissioner under the "
        "same contract.",
    ]  # fmt: skip
    return md


def beside(file: str, commissioner: str, reps: int, fixed: dict) -> pd.DataFrame:
    """As ``benchmarks/rtt_tables.py``: the published months' mean and the simulated mean of the same months, T&O."""
    s = load_scenario(ROOT / "scenarios" / file)
    pub = published("ccg", commissioner, ["110"])
    months = {m: m for m in sorted(set(pub["month"]))}
    executor = make_executor(1)
    try:
        fitter = Fitter(s, "prime", [], pub, months, executor, reps, fixed={"run.years": 1, **fixed})
        simulated = mean_statistics(fitter.simulate([{}])[0])
    finally:
        executor.close()
    stats = ["per_month", "within_18w_pct"]
    return pub.groupby("part")[stats].mean().merge(
        simulated.groupby("part")[stats].mean(), left_index=True, right_index=True, suffixes=("", "_sim")
    )


def oldham(tmp: Path, reps: int) -> list[str]:
    clinics = ("community_specialist", "orthopaedics")
    every = {f"designs.prime.stage_overrides.{c}.procedure_share": 1.0 for c in clinics}
    fitted = beside("oldham.toml", "00Y", reps, {})
    held = beside("oldham.toml", "00Y", reps, {**every, "run.capacity_policies": "fixed"})
    managed = beside("oldham.toml", "00Y", reps, every)
    md = [
        f"Oldham's hub (`scenarios/oldham.toml`, design `prime`) beside 00Y's T&O (110) returns: the mean of the three "
        f"published months (December 2014 to February 2015) and {reps} replications of the same months, at the fitted values, "
        "and with every patient the hub's two T&O clinics (community and orthopaedic) treat given a day-case procedure first "
        "(`procedure_share = 1`): at the capacity fitted, held fixed as `calibrate` holds it "
        "(`run.capacity_policies=fixed`), and with the scenario's managed capacity policies adding sessions.",
        "",
        "| T&O (110) a month | published | fitted | every treated patient a procedure, capacity fixed | the same, managed |",
        "|---|---:|---:|---:|---:|",
    ]
    runs = (fitted, held, managed)
    for part in ("admitted", "nonadmitted"):
        md.append(f"| {part} pathways | {fitted.loc[part, 'per_month']:,.0f} | "
                  + " | ".join(f"{r.loc[part, 'per_month_sim']:,.0f}" for r in runs) + " |")  # fmt: skip
    both = [fitted.loc["admitted", "per_month"] + fitted.loc["nonadmitted", "per_month"]]
    both += [r.loc["admitted", "per_month_sim"] + r.loc["nonadmitted", "per_month_sim"] for r in runs]
    md.append("| clock stops, both | " + " | ".join(f"{n:,.0f}" for n in both) + " |")
    within = [fitted.loc["admitted", "within_18w_pct"], *(r.loc["admitted", "within_18w_pct_sim"] for r in runs)]
    md.append("| admitted, within 18 weeks | " + " | ".join(f"{w:.0f}%" for w in within) + " |")
    gap = fitted.loc["admitted", "per_month"] - fitted.loc["admitted", "per_month_sim"]
    md += ["", f"Published admitted T&O pathways a month the fitted hub gives as non-admitted: about {gap:,.0f}.", ""]
    per = []
    for label, era, code, file in (("Oldham CCG (00Y), 2014/15", "ccg", "00Y", "oldham.toml"),
                                   ("Bedfordshire CCG (06F), 2014/15", "ccg", "06F", "bedfordshire.toml"),
                                   ("Oldham PCT (5J5), 2009/10", "pct", "5J5", "oldham.toml")):  # fmt: skip
        people = load_scenario(ROOT / "scenarios" / file).population
        a = published(era, code, ["110"]).query("part == 'admitted'")["per_month"].mean()
        per.append(f"{label} {a / people * 1000:.1f} ({a:,.0f} a month, {people:,} people)")
    md += ["Admitted T&O pathways a month per 1,000 people, published (mean of December to February): "
           + "; ".join(per) + ".", ""]  # fmt: skip
    args = ["compare", "scenarios/oldham.toml", "--years", "1", "--reps", "4", "--jobs", "1"]
    runs = {}
    none = [a for c in clinics for a in ("--set", f"designs.prime.stage_overrides.{c}.procedure_share=0")]
    for way, extra in (("fitted", []), ("none", none)):
        out = msksim(*args, *extra, out=tmp / f"oldham_{way}")
        s = pd.read_csv(out / "summary.csv")
        runs[way] = s[(s["year"].astype(str) == "1") & (s["scope"] == "prime")].set_index("metric")["mean"]
    tariff = load_scenario(ROOT / "scenarios" / "oldham.toml").surgery.tariff_procedure
    md.append(
        f"`msksim {' '.join(args[:-2])}`, the hub design in year 1: {runs['fitted']['procedures']:,.0f} day-case procedures "
        f"a year at the assumed £{tariff:,.0f} each; the commissioner's spend {money(runs['none']['commissioner_cost_gbp'], 1)} "
        f"without them (`procedure_share=0` at both clinics), {money(runs['fitted']['commissioner_cost_gbp'], 1)} with them."
    )
    return md


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="replications of Oldham's returns (default 10)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        record = Record("calibration_targets")
        s, monthly, out = year_one(Path(tmp))
        reps = int(pd.read_csv(out / "replications.csv")["replication"].nunique())
        md = targets(s, monthly, reps)
        print("\n".join(md), flush=True)
        record.write(md)
        record = Record("claim_in_returns")
        md = claim(monthly, s, reps)
        print("\n".join(md), flush=True)
        record.write(md)
        record = Record("oldham_hub")
        md = oldham(Path(tmp), a.reps)
        print("\n".join(md), flush=True)
        record.write(md)


if __name__ == "__main__":
    main()
