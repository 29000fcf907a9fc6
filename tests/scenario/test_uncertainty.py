"""Drawn inputs follow their distributions; shares still sum to 1; bad specs get clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.scenario.loading import load_scenario
from sim.scenario.schema import ScenarioError
from sim.scenario.uncertainty import (
    Beta,
    Dirichlet,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    check_limits,
    draw_parameters,
    parse_uncertainty,
)
from tests.conftest import BEDFORDSHIRE, ROOT, bundled

N = 4000


def draws(dist, point=None, seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([dist.draw(rng, point) for _ in range(N)])


@pytest.mark.parametrize(
    ("dist", "reference"),
    [
        (Normal(dist="normal", mean=45_000, sd=2_000), stats.norm(45_000, 2_000)),
        (Uniform(dist="uniform", low=25, high=60), stats.uniform(25, 35)),
        (Triangular(dist="triangular", low=0.02, mode=0.04, high=0.08), stats.triang(0.5 / 1.5 * 1.0, loc=0.02, scale=0.06)),
        (Beta(dist="beta", alpha=2.0, beta=18.0), stats.beta(2.0, 18.0)),
        (Gamma(dist="gamma", mean=5.5, sd=1.5), stats.gamma((5.5 / 1.5) ** 2, scale=1.5**2 / 5.5)),
    ],
)
def test_goodness_of_fit(dist, reference) -> None:
    """Kolmogorov–Smirnov on 4,000 draws against the intended distribution."""
    assert stats.kstest(draws(dist), reference.cdf).pvalue > 0.001


def test_triangular_reference_is_right() -> None:
    """The KS reference above is itself the intended triangle (mode 0.04 between 0.02 and 0.08)."""
    ref = stats.triang(1 / 3, loc=0.02, scale=0.06)
    assert ref.mean() == pytest.approx((0.02 + 0.04 + 0.08) / 3)


@pytest.mark.parametrize(
    "dist",
    [
        LogNormal(dist="lognormal", mean=130.0, sd=30.0),
        Gamma(dist="gamma", mean=3.4, sd=0.6),
        Beta(dist="beta", mean=0.1, sd=0.03),
    ],
)
def test_moments_as_specified(dist) -> None:
    """Distributions given by mean and sd of the value have that mean and sd."""
    x = draws(dist)
    assert x.mean() == pytest.approx(dist.mean, rel=0.03)
    assert x.std() == pytest.approx(dist.sd, rel=0.06)


@settings(max_examples=200, deadline=None)
@given(mean=st.floats(0.05, 0.95), spread=st.floats(0.02, 0.9), sd=st.floats(0.01, 500.0), centre=st.floats(-1e4, 1e4))
@pytest.mark.slow
def test_ends_are_the_tail_quantiles_scipy_stats_gives(mean: float, spread: float, sd: float, centre: float) -> None:
    """Ends are computed from scipy.special (scipy.stats takes a second to import, on every load of
    a scenario): they must be the same numbers as scipy.stats' ppf, to the last bit."""
    q = [1e-4, 1 - 1e-4]
    beta_sd = spread * (mean * (1 - mean)) ** 0.5
    b = Beta(dist="beta", mean=mean, sd=beta_sd)
    assert b.ends() == tuple(stats.beta(*b.parameters()).ppf(q))
    positive = abs(centre) + 1.0
    g = Gamma(dist="gamma", mean=positive, sd=sd)
    assert g.ends() == tuple(stats.gamma((positive / sd) ** 2, scale=positive / (positive / sd) ** 2).ppf(q))
    assert Normal(dist="normal", mean=centre, sd=sd).ends() == tuple(stats.norm(centre, sd).ppf(q))
    sigma2 = math.log(1.0 + (sd / positive) ** 2)
    reference = stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(positive) - sigma2 / 2)).ppf(q)
    assert LogNormal(dist="lognormal", mean=positive, sd=sd).ends() == tuple(reference)


rows = st.lists(st.floats(0.01, 1.0), min_size=2, max_size=6).map(lambda w: {f"k{i}": v / sum(w) for i, v in enumerate(w)})


@settings(max_examples=100, deadline=None)
@given(row=rows, concentration=st.floats(1.0, 1e4), seed=st.integers(0, 2**32 - 1))
@example(row={f"k{i}": v / 2.575 for i, v in enumerate([0.6875, 0.5, 0.6875, 0.6875, 0.01])}, concentration=1.0, seed=0)
def test_dirichlet_rows_sum_to_one(row: dict[str, float], concentration: float, seed: int) -> None:
    drawn = Dirichlet(dist="dirichlet", concentration=concentration).draw(np.random.default_rng(seed), row)
    assert set(drawn) == set(row)
    assert abs(sum(drawn.values()) - 1.0) < 1e-12
    assert all(v >= 0 for v in drawn.values())


def test_dirichlet_is_centred_on_the_point_row() -> None:
    row = {"a": 0.6, "b": 0.3, "c": 0.1}
    d = Dirichlet(dist="dirichlet", concentration=200)
    rng = np.random.default_rng(0)
    mean = np.mean([[d.draw(rng, row)[k] for k in row] for _ in range(2000)], axis=0)
    assert mean == pytest.approx([0.6, 0.3, 0.1], abs=0.005)


def test_draws_are_per_replication_and_reproducible(bedfordshire) -> None:
    dists = parse_uncertainty(bedfordshire.uncertainty, bedfordshire, "t")
    a0, a1 = draw_parameters(dists, bedfordshire, 0), draw_parameters(dists, bedfordshire, 1)
    assert a0 == draw_parameters(dists, bedfordshire, 0)
    assert a0 != a1
    assert a0["stages.physio.tariff_followup"] == a0["stages.physio.tariff_first"], "'also' copies the draw"
    assert abs(sum(a0["designs.prime.routing.specialist"].values()) - 1) < 1e-12


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ('uncertainty."stages.physio.slotz"={ dist = "uniform", low = 1, high = 2 }', "no value at key path"),
        ('uncertainty."demand.growth"={ dist = "dirichlet", concentration = 10 }', "dirichlet needs a table"),
        ('uncertainty."gp.referral.physio"={ dist = "normal", mean = 1, sd = 1 }', "is not a number"),
        ('uncertainty."demand.growth"={ dist = "beta", mean = 0.5, sd = 0.6 }', "too large"),
        ('uncertainty."demand.growth"={ dist = "weibull", k = 1 }', "tag"),
        ('uncertainty."demand.growth"={ dist = "uniform", low = 1, high = 2, hihg = 3 }', "unknown key 'hihg'"),
    ],
)
def test_bad_uncertainty_names_key_and_problem(spec: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        bundled(spec)
    assert 'uncertainty."' in str(e.value)
    assert problem in str(e.value)


def test_limits_are_checked_at_each_end_by_the_validator_given(bedfordshire) -> None:
    dists = {
        "demand.growth": Uniform(dist="uniform", low=-0.1, high=0.2),
        "surgery.beds": Uniform(dist="uniform", low=10.4, high=30.6, also=["surgery.los_joint_days"]),
        "designs.prime.routing.specialist": Dirichlet(dist="dirichlet", concentration=100),
    }
    seen = []

    def revalidate(s, values):
        seen.append((s.uncertainty, s.backlog, values))
        if len(seen) == 2:
            raise ScenarioError("inner", "surgery.los_joint_days", "too long")
        return s

    with pytest.raises(ScenarioError) as e:
        check_limits(dists, bedfordshire, "outer.toml", revalidate)
    lowest = {"demand.growth": -0.1, "surgery.beds": 10, "surgery.los_joint_days": 10}
    highest = {"demand.growth": 0.2, "surgery.beds": 31, "surgery.los_joint_days": 31}
    assert seen == [({}, None, lowest), ({}, None, highest)], "whole counts rounded, rows left alone, no backlog read"
    assert (e.value.source, e.value.key) == ("outer.toml", 'uncertainty."surgery.beds"')
    assert e.value.problem.startswith("its highest plausible draw, 31, is not a valid value: too long")


def test_limits_blame_the_whole_table_when_no_entry_is_at_fault(bedfordshire) -> None:
    def revalidate(s, values):
        raise ScenarioError("inner", "gp.referral.physio", "rows must sum to 1")

    with pytest.raises(ScenarioError) as e:
        check_limits({"demand.growth": Uniform(dist="uniform", low=0, high=1)}, bedfordshire, "f", revalidate)
    assert str(e.value) == "f: uncertainty: with every uncertain value at its lowest: gp.referral.physio: rows must sum to 1"


TEMPLATE = ROOT / "scenarios" / "template.toml"


def test_a_copy_of_the_template_draws_around_its_own_referrals(tmp_path) -> None:
    """A copy with 15,000 referrals simulated about 47,000 a year: the absolute 40k-50k
    triangular replaced the value. Relative entries move with the value."""
    text = TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("referrals_per_year = 45_000", "referrals_per_year = 15_000", 1)
    text = text.replace("population = 440_000", "population = 150_000", 1)
    (tmp_path / "small.toml").write_text(text, encoding="utf-8")
    s = load_scenario(tmp_path / "small.toml")
    dists = parse_uncertainty(s.uncertainty, s, "small")
    drawn = [draw_parameters(dists, s, r)["demand.referrals_per_year"] for r in range(200)]
    assert min(drawn) >= 15_000 * 0.889 and max(drawn) <= 15_000 * 1.111
    assert np.mean(drawn) == pytest.approx(15_000, rel=0.02)
    assert dists["demand.referrals_per_year"].ends(15_000) == pytest.approx((13_335, 16_665))


@pytest.mark.parametrize("dist", ["beta", "dirichlet"])
def test_relative_is_refused_where_it_means_nothing(dist: str) -> None:
    spec = {"beta": "mean = 0.1, sd = 0.03", "dirichlet": "concentration = 10"}[dist]
    key = {"beta": "stages.orthopaedics.list_for_surgery.specialist", "dirichlet": "designs.prime.routing.specialist"}[dist]
    with pytest.raises(ScenarioError, match="relative is for numbers"):
        bundled(f'uncertainty."{key}"={{ dist = "{dist}", relative = true, {spec} }}')


def test_relative_limits_are_checked_on_the_values_drawn() -> None:
    with pytest.raises(ScenarioError, match="lowest plausible draw"):
        bundled('uncertainty."stages.physio.dna_first"={ dist = "uniform", relative = true, low = -1, high = 1.5 }')


def test_set_names_the_distribution_it_replaces() -> None:
    notes: list[str] = []
    s = load_scenario(BEDFORDSHIRE, ["demand.growth=0.06"], notes)
    assert "demand.growth" not in s.uncertainty
    assert notes and "demand.growth" in notes[0] and "[uncertainty]" in notes[0]
    quiet: list[str] = []
    load_scenario(BEDFORDSHIRE, ["surgery.beds=30"], quiet)
    assert quiet == []


def test_a_misspelt_destination_is_named_not_reported_as_a_bad_sum() -> None:
    with pytest.raises(ScenarioError) as e:
        bundled("gp.referral.surgical={ physio = 0.10, orthopedics = 0.90 }")
    assert "gp.referral.surgical.orthopedics" in str(e.value) and "did you mean 'orthopaedics'" in str(e.value)


def test_a_bad_sum_shows_the_shares_it_added() -> None:
    with pytest.raises(ScenarioError) as e:
        bundled("gp.referral.surgical={ physio = 0.10, orthopaedics = 0.95 }")
    assert "must sum to 1" in str(e.value) and "orthopaedics 0.95" in str(e.value)
