"""A design written as changes to another (``based_on``), the triage's shift towards hospital,
and ``compare --also``: the prime as delivered beside the prime as claimed, on the same patients."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis.flows import expected_activity
from sim.scenario.loading import ScenarioError
from sim.scenario.uncertainty import draw_parameters, parse_uncertainty
from tests.conftest import bundled

runner = CliRunner()
CLAIMED = 'designs.prime_as_claimed.based_on="prime"'
"""The prime as its bid claimed it: the prime design, written as changes to it (none here)."""


def test_a_design_based_on_another_takes_its_keys_and_keeps_its_own() -> None:
    s = bundled(CLAIMED, "designs.prime_as_claimed.triage_hospital_shift=0", "designs.prime.triage_hospital_shift=0.3")
    claimed, prime = s.designs["prime_as_claimed"], s.designs["prime"]
    assert claimed.based_on == "prime"
    assert claimed.services == prime.services and claimed.stage_overrides == prime.stage_overrides
    assert claimed.routing == prime.routing
    assert (claimed.triage_hospital_shift, prime.triage_hospital_shift) == (0.0, 0.3)  # its own value wins
    # a key set on the design it is based on reaches it, unless it sets the key itself
    s = bundled(CLAIMED, "designs.prime.stage_overrides.orthopaedics.slots_per_week=700")
    assert s.design_stages("prime_as_claimed")["orthopaedics"].slots_per_week == 700


def test_draws_on_the_base_design_are_shared() -> None:
    s = bundled(CLAIMED)
    dists = parse_uncertainty(s.uncertainty, s, "")
    assert "designs.prime_as_claimed.routing.specialist" in dists["designs.prime.routing.specialist"].also
    drawn = draw_parameters(dists, s, 3)
    assert drawn["designs.prime_as_claimed.routing.specialist"] == drawn["designs.prime.routing.specialist"]


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ('designs.prime_as_claimed.based_on="primary"', "primary"),
        ('designs.prime.based_on="fragmented"', "based on each other"),
    ],
)
def test_bad_base_names_the_key(override: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled('designs.fragmented.based_on="prime"', override) if "each other" in problem else bundled(override)
    assert "based_on" in str(e.value) and problem in str(e.value)


def test_the_shift_moves_the_community_share_to_hospital_in_proportion() -> None:
    s = bundled("designs.prime.triage_hospital_shift=0.5")
    before, after = s.designs["prime"].routing, s.design_routing("prime")
    for need, row in after.items():
        assert sum(row.values()) == pytest.approx(1.0)
        assert set(row) == set(before[need])
    spec0, spec = before["specialist"], after["specialist"]
    moved = 0.5 * spec0["community_specialist"]
    assert spec["community_specialist"] == pytest.approx(spec0["community_specialist"] - moved)
    hospital = spec0["orthopaedics"] + spec0["rheumatology"]
    assert spec["orthopaedics"] == pytest.approx(spec0["orthopaedics"] + moved * spec0["orthopaedics"] / hospital)
    assert spec["rheumatology"] == pytest.approx(spec0["rheumatology"] + moved * spec0["rheumatology"] / hospital)
    assert after["physio"] == before["physio"]  # no hospital destination: left alone
    assert bundled("designs.prime.triage_hospital_shift=0").design_routing("prime") == before


def test_the_traffic_equations_follow_the_shift() -> None:
    low, high = (expected_activity(bundled(f"designs.prime.triage_hospital_shift={x}"), "prime") for x in (0.0, 0.6))
    assert high["orthopaedics_first"] > 1.2 * low["orthopaedics_first"]
    assert high["community_specialist_first"] < 0.7 * low["community_specialist_first"]


@pytest.mark.slow
def test_compare_also_runs_a_third_design_on_the_same_patients(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "three"
    args = ["compare", str(small), "--also", "prime_as_claimed", "--set", CLAIMED, "--reps", "2", "--years", "1",
            "--set", "run.warmup_days=60",
            "--set", "designs.prime.triage_hospital_shift=0.5", "--set", "designs.prime_as_claimed.triage_hospital_shift=0",
            "--out", str(out), "--quiet"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "replications.csv")
    assert list(dict.fromkeys(table["design"])) == ["fragmented", "prime", "prime_as_claimed"]
    referrals = table.pivot_table(index="replication", columns="design", values="referrals")
    assert (referrals["prime"] == referrals["prime_as_claimed"]).all()
    summary = pd.read_csv(out / "summary.csv")
    assert {"prime - fragmented", "prime_as_claimed - fragmented"} <= set(summary["scope"])
    firsts = table.groupby("design")["orthopaedics_first"].mean()
    assert firsts["prime"] > firsts["prime_as_claimed"]  # the shift sends more to hospital
    assert "prime_as_claimed" in result.output
    assert "prime_as_claimed is not fitted to any returns" in " ".join(result.output.split())  # said, loudly
    bad = runner.invoke(app, ["compare", str(small), "--also", "prime", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "already compared" in bad.output


def test_a_design_based_on_a_fitted_one_is_not_fitted_itself() -> None:
    """Its changes were not what was fitted: a comparison beside fitted designs says so."""
    s = bundled(CLAIMED, 'designs.prime.fitted_to="06F, Dec 2014 - Feb 2015"', 'designs.fragmented.fitted_to="5P2"')
    assert s.designs["prime_as_claimed"].fitted_to == ""
    assert s.unfitted_beside_fitted(["fragmented", "prime"]) is None
    said = s.unfitted_beside_fitted(["fragmented", "prime", "prime_as_claimed"])
    assert said is not None and said.startswith("prime_as_claimed is not fitted") and "06F" in said
    assert (
        bundled('designs.fragmented.fitted_to=""', 'designs.prime.fitted_to=""').unfitted_beside_fitted(["fragmented", "prime"])
        is None
    )  # nothing fitted: nothing set beside anything fitted
