"""Capacity fitted in one era and carried to another (``designs.X.capacity_basis``), on the
bundled scenario with a basis set for its fragmented design's trust services."""

from __future__ import annotations

import pytest

from sim.analysis.flows import stage_load
from sim.calibrate.area import read_published, setup
from sim.calibrate.unknowns import at_load_one
from sim.scenario.loading import load_scenario
from sim.scenario.schema import ScenarioError
from tests.conftest import BEDFORDSHIRE, bundled

CARRIED = (
    "designs.fragmented.capacity_basis.referrals_per_year=42050",
    'designs.fragmented.capacity_basis.services=["orthopaedics", "rheumatology", "theatre"]',
)


def test_fitted_capacity_follows_the_referrals_and_their_growth() -> None:
    s = bundled(*CARRIED, "demand.growth=0.05", "run.years=3")
    basis = s.designs["fragmented"].capacity_basis
    assert basis is not None and basis.follows == "demand"
    factor = s.demand.referrals_per_year / basis.referrals_per_year
    ortho = s.design_stages("fragmented")["orthopaedics"]
    assert ortho.slots_per_week == pytest.approx(s.stages["orthopaedics"].slots_per_week * factor)
    assert [c.from_date.year for c in ortho.capacity_changes] == [2015, 2016]
    assert [c.slots_per_week for c in ortho.capacity_changes] == pytest.approx(
        [ortho.slots_per_week * 1.05, ortho.slots_per_week * 1.05**2]
    )
    theatre = s.design_surgery("fragmented")
    assert theatre.slots_per_week == pytest.approx(s.surgery.slots_per_week * factor)
    # services whose capacity the design does not set are the scenario's, and the prime's own
    assert s.design_stages("fragmented")["physio"] == s.stages["physio"]
    assert s.design_stages("prime")["orthopaedics"].capacity_changes == []


def test_held_at_the_fitted_capacity_with_one_setting() -> None:
    s = bundled(*CARRIED, 'designs.fragmented.capacity_basis.follows="fitted"')
    ortho = s.design_stages("fragmented")["orthopaedics"]
    assert ortho == s.stages["orthopaedics"]
    assert s.design_surgery("fragmented") == s.surgery


def test_a_staffed_service_is_carried_through_its_staff() -> None:
    s = bundled(
        *CARRIED,
        "designs.fragmented.capacity_basis.referrals_per_year=22500",
        'designs.fragmented.capacity_basis.services=["orthopaedics", "pain"]',
        "stages.pain.staff=[{wte = 2, sessions_per_wte = 8, slots_per_session = 6}]",
        "stages.pain.slots_per_week=96",
    )
    pain = s.design_stages("fragmented")["pain"]
    assert pain.staff[0].wte == pytest.approx(4.0)
    assert pain.slots_per_week == pytest.approx(2 * 96)


@pytest.mark.parametrize(
    ("override", "key", "problem"),
    [
        ('designs.fragmented.capacity_basis.services=["triage"]', "capacity_basis.services[0]", "triage"),
        ("designs.fragmented.capacity_basis.referrals_per_year=0", "referrals_per_year", "greater than 0"),
        ('designs.fragmented.capacity_basis.follows="later"', "follows", "demand"),
        (
            "stages.orthopaedics.capacity_changes=[{from_date = 2015-04-01, slots_per_week = 900}]",
            "orthopaedics.capacity_changes",
            "not both",
        ),
    ],
)
def test_bad_basis_names_the_key(override: str, key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(*CARRIED, override)
    assert key in str(e.value) and problem in str(e.value)


def test_a_basis_that_holds_nothing_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"capacity_basis\.services"):
        bundled("designs.prime.capacity_basis.referrals_per_year=40000", "designs.prime.capacity_basis.services=[]")
    carried = bundled("designs.prime.capacity_basis.referrals_per_year=22500")  # its own overrides' capacities
    assert carried.design_stages("prime")["orthopaedics"].slots_per_week == pytest.approx(
        2 * carried.designs["prime"].stage_overrides["orthopaedics"]["slots_per_week"]
    )


def test_the_2009_10_era_holds_the_fitted_values_of_the_main_scenario() -> None:
    """One set of fitted values: the 2009/10 scenario runs the main scenario's trust services at its
    own referrals (the capacity basis scales them back), and its care outside the contract grown
    by the stated rate over the five years is the main scenario's."""
    main, era = load_scenario(BEDFORDSHIRE), load_scenario(BEDFORDSHIRE.parent / "bedfordshire_2010.toml")
    basis = main.designs["fragmented"].capacity_basis
    assert basis is not None and basis.referrals_per_year == main.demand.referrals_per_year
    factor = era.demand.referrals_per_year / basis.referrals_per_year
    assert era.design_stages("fragmented")["orthopaedics"].slots_per_week == pytest.approx(
        main.stages["orthopaedics"].slots_per_week * factor
    )
    assert era.stages == main.stages and era.surgery == main.surgery  # nothing fitted is copied
    out_main, out_era = main.demand.outside_contract, era.demand.outside_contract
    years = main.run.start_date.year - era.run.start_date.year
    assert out_main.per_year == pytest.approx(out_era.per_year * (1 + out_main.growth) ** years, rel=0.01)


def test_calibrate_starts_a_carried_capacity_where_it_meets_demand() -> None:
    """A fitted slots value is the value given, which the basis then scales: the search starts at,
    and is bounded by, what meets the demand once scaled."""
    pct = sorted((BEDFORDSHIRE.parents[1] / "data" / "rtt").glob("rtt-commissioner-pct-*.csv"))
    table = read_published(pct, "5P2", ["110"])
    plain, carried = bundled(), bundled(*CARRIED, "designs.fragmented.capacity_basis.referrals_per_year=22500")
    assert carried.carried_factor("fragmented", "orthopaedics") == pytest.approx(2.0)
    for s in (plain, carried):
        knobs = setup(s, "fragmented", table, "5P2", ["110"], 1).knobs
        (knob,) = [k for k in knobs if k.key.endswith("orthopaedics.slots_per_week")]
        meets = at_load_one(s, "fragmented", "orthopaedics", stage_load(s, "fragmented"))
        assert knob.start * s.carried_factor("fragmented", "orthopaedics") == pytest.approx(meets, rel=1e-3)
