"""The worked figures on the Money page (docs/money.md): what each provider earns and what its services cost it.

Run by hand (prints figures, asserts nothing; writes ``benchmarks/results/provider_money.md``,
which the page includes)::

    python benchmarks/examples_money.py        # a minute or two

Runs the page's comparison, ``msksim compare scenarios/bedfordshire.toml --also prime_as_claimed
--years 1`` (the scenario's 10 replications), and gives for contract year 1, per design, each
provider's income, the cost of its services and its stranded fixed cost, from ``summary.csv``.
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

DESIGNS = {"fragmented": "fragmented", "prime": "prime as delivered", "prime_as_claimed": "prime as claimed"}
PROVIDERS = {"acute_trust": "the acute trust", "community_physio": "community physio", "community_podiatry": "community podiatry",
             "prime": "the prime's own services (triage, community clinic)"}  # fmt: skip


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    record = Record("provider_money")
    args = ["compare", "scenarios/bedfordshire.toml", "--also", "prime_as_claimed", "--years", "1", "--jobs", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        out = msksim(*args, out=Path(tmp) / "year1")
        s = pd.read_csv(out / "summary.csv")
        reps = int(pd.read_csv(out / "replications.csv")["replication"].nunique())
    s = s[(s["year"].astype(str) == "1") & s["scope"].isin(DESIGNS)].set_index(["scope", "metric"])["mean"]
    md = [
        f"`msksim {' '.join(args[:-2])}` ({reps} replications), contract year 1, mean: what each provider is paid (income), "
        "what its services cost it (fixed and variable), and the fixed cost its income leaves uncovered once the care is "
        "paid for (stranded).",
        "",
        "| provider | | " + " | ".join(DESIGNS.values()) + " |",
        "|---|---|---:|---:|---:|",
    ]
    for p, label in PROVIDERS.items():
        for what in ("income", "cost", "stranded"):
            key = f"provider_{what}_{p}_gbp"
            cells = [money(v, 2) if pd.notna(v := s.get((d, key))) else "–" for d in DESIGNS]
            md.append(f"| {label if what == 'income' else ''} | {what} | " + " | ".join(cells) + " |")
    print("\n".join(md))
    record.write(md)


if __name__ == "__main__":
    main()
