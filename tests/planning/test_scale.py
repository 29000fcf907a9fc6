"""``msksim scale``: a scenario for another population, its demand, capacity and sums paid
scaled together, everything else as it was."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from sim.planning.scale import FIGURES, LOAD_TOLERANCE, PLACES, loads, rounded, scale
from sim.scenario.loading import load_scenario
from sim.scenario.uncertainty import draw_parameters, parse_uncertainty
from sim.scenario.values import leaf_keys, scenario_to_dict, value_at
from tests.conftest import BEDFORDSHIRE, ROOT

runner = CliRunner()
TEMPLATE = ROOT / "scenarios" / "template.toml"
PEOPLE = 150_000


def _flat(output: str) -> str:
    return " ".join(output.split())


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> tuple[Path, Path]:
    """Bedfordshire, copied, scaled to 150,000 people through the command line."""
    work = tmp_path_factory.mktemp("scale")
    original = work / "bedfordshire.toml"
    shutil.copy(BEDFORDSHIRE, original)
    out = work / "areas" / "small.toml"
    result = runner.invoke(app, ["scale", str(original), "--population", str(PEOPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return original, out


@pytest.mark.slow
def test_what_grows_with_the_population_is_scaled_and_nothing_else(scaled) -> None:
    original, out = scaled
    before, after = load_scenario(original), load_scenario(out)
    f = PEOPLE / before.population
    assert after.population == PEOPLE and after.name == "bedfordshire_150000"
    a, b = scenario_to_dict(before), scenario_to_dict(after)
    expected = {v.key: v for v in scale(before, PEOPLE).values}
    assert {
        "demand.referrals_per_year", "stages.physio.slots_per_week", "surgery.slots_per_week", "surgery.beds",
        "finance.providers.community_physio.block_gbp", "finance.prime_contract.year1_value_gbp",
        "designs.prime.stage_overrides.orthopaedics.slots_per_week",
    } <= set(expected)  # fmt: skip
    for key in leaf_keys({k: v for k, v in a.items() if k not in ("name", "description", "population", "uncertainty")}):
        was, now = value_at(a, key), value_at(b, key)
        items = sorted(k for k in expected if k.startswith(key + "."))  # a list whose items hold a scaled value
        if items:
            for item in items:
                i, field = item.removeprefix(key + ".").split(".")
                assert now[int(i)][field] == rounded(field, was[int(i)][field] * f), item
                assert {k: v for k, v in now[int(i)].items() if k != field} == {
                    k: v for k, v in was[int(i)].items() if k != field
                }
            continue
        if key in expected:
            if key == "surgery.beds":
                assert now == round(was * f)
            elif key.endswith("max_sessions"):  # whole sessions, one at least
                assert now == max(round(was * f), 1), key
            elif key.endswith("slots_per_week") and value_at(b, key.rsplit(".", 1)[0]).get("staff"):
                staff = value_at(b, key.rsplit(".", 1)[0])["staff"]  # a staffed service's slots are its rounded staff's
                assert now == pytest.approx(sum(g["wte"] * g["sessions_per_wte"] * g["slots_per_session"] for g in staff))
            else:
                assert now == rounded(key.rsplit(".", 1)[-1], was * f), key
        else:
            assert now == was, key


def test_every_load_is_unchanged(scaled) -> None:
    original, out = scaled
    before, after = loads(load_scenario(original)), loads(load_scenario(out))
    assert before.keys() == after.keys() and len(before) >= 10
    for k in before:
        assert after[k] == pytest.approx(before[k], abs=LOAD_TOLERANCE), k  # rounded, and whole slots a day


def test_an_absolute_range_is_scaled_and_draws_the_same_patients_scaled(scaled) -> None:
    """Bedfordshire's referrals are drawn from 40,000-50,000: the scaled file draws from the same
    range scaled, and with the same random numbers gives each replication the scaled draw."""
    original, out = scaled
    before, after = load_scenario(original), load_scenario(out)
    f = PEOPLE / before.population
    assert after.uncertainty["demand.referrals_per_year"]["low"] == round(40_000 * f)  # rounded as the value is
    assert set(after.uncertainty) == set(before.uncertainty), "every other distribution is inherited"
    for rep in range(3):
        a = draw_parameters(parse_uncertainty(before.uncertainty, before, "a"), before, rep)
        b = draw_parameters(parse_uncertainty(after.uncertainty, after, "b"), after, rep)
        assert b["demand.referrals_per_year"] == pytest.approx(a["demand.referrals_per_year"] * f, rel=1e-4)
        assert b["demand.growth"] == a["demand.growth"]


def test_the_file_says_what_each_value_was(scaled) -> None:
    _, out = scaled
    text = out.read_text()
    assert 'extends = "../bedfordshire.toml"' in text
    assert "slots_per_week = 937.5  # was 2750.0" in text
    assert "beds = 11  # was 32 (x0.340909 = 10.9091, rounded)" in text


@pytest.mark.slow
def test_a_copy_of_the_template_scaled_validates_with_its_loads(tmp_path: Path) -> None:
    copy = tmp_path / "my_area.toml"
    shutil.copy(TEMPLATE, copy)
    result = runner.invoke(app, ["scale", str(copy), "--population", "150000"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "template_150000.toml"
    assert re.search(r"as before, to within 0\.00\d \(the rounding; 0\.01 at most\)", _flat(result.output))
    assert "Rounded: referrals, patients, beds and sessions to whole numbers, slots to 0.1 a week" in _flat(result.output)
    assert "warning" not in result.output, "rounding is said, not warned about"
    result = runner.invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    assert "Population 150,000; 15,341 referrals a year" in _flat(result.output)
    # the template's range is relative: kept as it is, it draws around the scaled value
    assert load_scenario(out).uncertainty["demand.referrals_per_year"]["relative"] is True


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--population", "0"], "--population: 0: expected 1 to 100,000,000 people"),
        (["--population", "1000", "--name", "no spaces"], "--name: 'no spaces': letters, digits"),
        (["--population", "1000", "--out", "{dir}"], "is a folder"),
        (["--population", "1000", "--out", "{dir}/taken.toml"], "exists; give another name, or --force"),
        (["--population", "1000", "--out", "{dir}/bedfordshire.toml", "--force"], "is the scenario being scaled"),
    ],
)
def test_bad_requests_are_named_and_nothing_is_written(tmp_path: Path, args: list[str], problem: str) -> None:
    original = tmp_path / "bedfordshire.toml"
    shutil.copy(BEDFORDSHIRE, original)
    (tmp_path / "taken.toml").write_text("# mine\n")
    files = {p: p.read_bytes() for p in tmp_path.iterdir()}
    result = runner.invoke(app, ["scale", str(original), *(a.format(dir=tmp_path) for a in args)])
    assert result.exit_code == 2, result.output
    assert problem in _flat(result.output)
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == files


def test_one_draw_for_a_scaled_and_an_unscaled_value_is_refused(tmp_path: Path) -> None:
    child = tmp_path / "tied.toml"
    child.write_text(
        f'extends = "{BEDFORDSHIRE}"\n[uncertainty."stages.physio.slots_per_week"]\n'
        'dist = "uniform"\nrelative = true\nlow = 0.9\nhigh = 1.1\nalso = ["stages.physio.tariff_first"]\n'
    )
    result = runner.invoke(app, ["scale", str(child), "--population", "1000", "--out", str(tmp_path / "x.toml")])
    assert result.exit_code == 2, result.output
    assert "values that scale with the population and values that do not" in _flat(result.output)
    assert not (tmp_path / "x.toml").exists()


def test_staff_and_overheads_are_scaled_with_the_slots(tmp_path: Path) -> None:
    """A service given as staff keeps its staff and slots in step: half the people, half the WTE."""
    staffed = tmp_path / "staffed.toml"
    staffed.write_text(
        f'extends = "{BEDFORDSHIRE.as_posix()}"\nname = "staffed"\n'
        "[stages.triage]\nstaff = [{ wte = 5, sessions_per_wte = 10, slots_per_session = 23, cost_per_wte_gbp = 55000 }]\n"
        "[finance.providers.prime]\noverheads_gbp = 300000\n",
        encoding="utf-8",
    )
    out = tmp_path / "half.toml"
    result = CliRunner().invoke(app, ["scale", str(staffed), "--population", "220000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    half = load_scenario(out)
    assert half.stages["triage"].staff[0].wte == pytest.approx(2.5)
    assert half.stages["triage"].slots_per_week == pytest.approx(575)
    assert half.finance.providers["prime"].overheads_gbp == pytest.approx(150_000)


@pytest.mark.slow
def test_what_is_written_is_rounded_and_says_so(tmp_path: Path) -> None:
    """The template scaled to 300,000 people: referrals and patients whole, slots to 0.1 a week,
    staff to 0.01 WTE, pounds whole; each value's comment gives the product before rounding."""
    copy = tmp_path / "template.toml"
    shutil.copy(TEMPLATE, copy)
    out = tmp_path / "my_area_300k.toml"
    result = runner.invoke(app, ["scale", str(copy), "--population", "300000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "slots_per_week = 659.7  # was 967.6 (x0.681818 = 659.727, rounded)" in text
    assert "referrals_per_year = 30682  # was 45000.0 (x0.681818 = 30681.8, rounded)" in text
    assert "year1_value_gbp = 18068182  #" in text and "wte = 4.26," in text
    s = load_scenario(out)
    assert s.demand.referrals_per_year == 30682 and s.stages["orthopaedics"].slots_per_week == 659.7
    assert s.stages["triage"].slots_per_week == pytest.approx(4.26 * 8 * 23), "a staffed service's slots are its staff's"
    assert s.stages["orthopaedics"].capacity_policy.add_at == 136
    assert "658.727" not in _flat(result.output) and "30,681.8" not in _flat(result.output)
    before, after = loads(load_scenario(copy)), loads(s)
    assert max(abs(after[k] - before[k]) for k in before if math.isfinite(before[k])) <= LOAD_TOLERANCE


def test_the_scaled_scenario_is_named_and_described_after_the_original(tmp_path: Path) -> None:
    copy = tmp_path / "template.toml"
    shutil.copy(TEMPLATE, copy)
    out = tmp_path / "my_area.toml"
    assert runner.invoke(app, ["scale", str(copy), "--population", "300000", "--out", str(out)]).exit_code == 0
    s, original = load_scenario(out), load_scenario(copy)
    assert s.name == "template_300000"
    assert s.description != original.description, "not the template's 'every key explained'"
    assert s.description.startswith("template scaled from 440,000 to 300,000 people")


@given(key=st.sampled_from([*PLACES, "referrals_per_year", "block_gbp"]), exact=st.floats(0.01, 1e8))
def test_rounding_keeps_its_places_and_three_figures(key: str, exact: float) -> None:
    now = rounded(key, exact)
    places = PLACES.get(key, 0)
    if places == 0:
        assert isinstance(now, int) and abs(now - exact) <= 0.5
    else:
        assert abs(now - exact) <= 0.5 * 10**-places + 1e-9
        assert abs(now - exact) <= 0.5 * 10 ** (1 - FIGURES) * exact + 1e-12, "three significant figures at least"


@pytest.mark.parametrize("people", [20_000, 1_000_000])
@pytest.mark.slow
def test_every_load_holds_within_the_tolerance_for_a_small_or_large_area(tmp_path: Path, people: int) -> None:
    copy = tmp_path / "bedfordshire.toml"
    shutil.copy(BEDFORDSHIRE, copy)
    out = tmp_path / "scaled.toml"
    result = runner.invoke(app, ["scale", str(copy), "--population", str(people), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    before, after = loads(load_scenario(copy)), loads(load_scenario(out))
    for k in before:
        assert after[k] == pytest.approx(before[k], abs=LOAD_TOLERANCE), k
