"""Bad input gets a clear error naming the file, the key path and the problem; good input loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim.scenario.loading
from cli import app
from sim.scenario import capacity, contracts, run, schema, stages, surgery, values
from sim.scenario.loading import load_scenario, validate_raw
from sim.scenario.schema import MAX_SERVICES, ScenarioError
from sim.scenario.values import deep_merge, leaf_keys, parse_override, scenario_to_dict
from tests.conftest import BEDFORDSHIRE, ROOT, bundled

runner = CliRunner()


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.name)
def test_bundled_scenarios_load(path: Path) -> None:
    s = load_scenario(path)
    assert s.designs and s.stages


def child(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "child.toml"
    p.write_text(f'extends = "{BEDFORDSHIRE.as_posix()}"\n{body}\n')
    return p


BAD_SETS = [
    ("stages.physio.slots_per_wek=3", "stages.physio.slots_per_wek", "did you mean 'slots_per_week'"),
    ('stages.physio.slots_per_week="many"', "stages.physio.slots_per_week", "valid number"),
    ("stages.physio.dna_first=1.5", "stages.physio.dna_first", "less than or equal to 1"),
    ("stages.physio.slots_per_week=-5", "stages.physio.slots_per_week", "greater than or equal to 0"),
    ("gp.referral.physio={ physio = 0.5, orthopaedics = 0.2 }", "gp.referral", "must sum to 1"),
    ("designs.prime.routing.surgical={ orthopaedics = 0.7 }", "designs.prime.routing", "must sum to 1"),
    (
        "designs.prime.routing.surgical={ orthopedics = 1.0 }",
        "designs.prime.routing.surgical.orthopedics",
        "did you mean 'orthopaedics'",
    ),
    ('designs.fragmented.services=["physio", "chiropody"]', "designs.fragmented.services[1]", "not a known stage"),
    ("surgery.beds=-1", "surgery.beds", "greater than or equal to 0"),
    ("run.replications=0", "run.replications", "greater than or equal to 1"),
    ('calendar.reduced=[{ start = "02-31", end = "03-05", factor = 0.5 }]', "calendar.reduced[0].start", "not a day of the year"),
    ('stages.physio.provider="nobody"', "stages.physio.provider", "not in finance.providers"),
    # a typo in a provider's name would otherwise create a new provider with default terms
    ("finance.providers.acute_trst.prime_cost_share=0.5", "finance.providers.acute_trst", "did you mean 'acute_trust'"),
    # a misspelt destination is a typo even where its probability is 0
    (
        "designs.prime.routing.surgical={ orthopaedics = 1.0, orthopaedcs = 0.0 }",
        "designs.prime.routing.surgical.orthopaedcs",
        "did you mean 'orthopaedics'",
    ),
    # a distribution that draws impossible values is caught at load, not in every replication
    (
        'uncertainty."stages.physio.dna_first"={ dist = "normal", mean = 0.1, sd = 0.2 }',
        'uncertainty."stages.physio.dna_first"',
        "greater than or equal to 0",
    ),
    (
        'uncertainty."surgery.beds"={ dist = "uniform", low = -10, high = 40 }',
        'uncertainty."surgery.beds"',
        "lowest plausible draw",
    ),
]


@pytest.mark.parametrize(("override", "key", "problem"), BAD_SETS, ids=[b[1] for b in BAD_SETS])
def test_bad_values_name_file_key_and_problem(override: str, key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario(BEDFORDSHIRE, [override])
    msg = str(e.value)
    assert str(BEDFORDSHIRE) in msg and "--set" in msg
    assert key in msg and problem in msg


def test_missing_key_and_missing_designs(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('name = "x"\npopulation = 10\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert str(p) in str(e.value) and "required key is missing" in str(e.value)
    text = BEDFORDSHIRE.read_text()
    start = text.index("[designs.fragmented]")
    end = text.index("# -------", start)
    nodesigns = tmp_path / "nodesigns.toml"
    nodesigns.write_text(text[:start] + text[end:])
    with pytest.raises(ScenarioError) as e:
        load_scenario(nodesigns)
    assert "designs" in str(e.value)


def test_unknown_key_in_a_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario(child(tmp_path, "[stages.physio]\ncontacts_per_episod = 3"))
    assert "child.toml" in str(e.value) and "stages.physio.contacts_per_episod" in str(e.value)
    assert "did you mean 'contacts_per_episode'" in str(e.value)


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("stages.physio.slots_per_week", "KEY=VALUE"),
        ("=3", "KEY=VALUE"),
        ("stages..x=3", "KEY=VALUE"),
        ("run.years=", "no value"),
    ],
)
def test_malformed_set(item: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_override(item)
    assert "--set" in str(e.value) and problem in str(e.value)


def test_set_under_a_value_and_value_parsing() -> None:
    with pytest.raises(ScenarioError, match="is a value, not a table"):
        load_scenario(BEDFORDSHIRE, ["run.years.x=3"])
    assert parse_override("a.b=3") == ("a.b", 3)
    assert parse_override("a.b=0.5") == ("a.b", 0.5)
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a.b=Oldham") == ("a.b", "Oldham")
    assert parse_override('a.b=["x", "y"]') == ("a.b", ["x", "y"])
    assert parse_override("a.b={ p = 1.0 }") == ("a.b", {"p": 1.0})


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('extends = "b.toml"\n')
    b.write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="circular extends"):
        load_scenario(a)


def test_extends_merges_tables_and_replaces_values(tmp_path: Path) -> None:
    s = load_scenario(child(tmp_path, 'name = "child"\n[stages.physio]\nslots_per_week = 3000'))
    parent = load_scenario(BEDFORDSHIRE)
    assert s.name == "child" and s.stages["physio"].slots_per_week == 3000
    assert s.stages["physio"].dna_first == parent.stages["physio"].dna_first  # merged key by key
    assert s.stages["orthopaedics"] == parent.stages["orthopaedics"]


@pytest.mark.parametrize("command", ["validate", "compare", "run", "bid", "sweep"])
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    args = [command, str(BEDFORDSHIRE), "--set", "stages.physio.dna_first=2"]
    if command != "validate":
        args += ["--out", str(out), "--quiet"]
    if command == "sweep":
        args += ["--grid", "demand.growth=0.02,0.04"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "stages.physio.dna_first" in result.output and "bedfordshire.toml" in result.output
    assert not out.exists()


def test_cli_unknown_design_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", str(BEDFORDSHIRE), "--design", "nosuch", "--out", str(out)])
    assert result.exit_code == 2 and "nosuch" in result.output and not out.exists()


def test_validate_prints_a_summary() -> None:
    result = runner.invoke(app, ["validate", str(BEDFORDSHIRE)])
    assert result.exit_code == 0
    for text in ("440,000", "physio", "orthopaedics", "theatre", "Load", "fragmented", "prime"):
        assert text in result.output


def test_a_value_set_by_hand_is_no_longer_uncertain() -> None:
    """--set (and a grid point) fixes a value: its [uncertainty] entry, or its place in
    another entry's ``also``, is dropped, so the run uses the value given."""
    base = load_scenario(BEDFORDSHIRE)
    assert "demand.referrals_per_year" in base.uncertainty
    s = load_scenario(BEDFORDSHIRE, ["demand.referrals_per_year=20000", "stages.physio.tariff_followup=30"])
    assert "demand.referrals_per_year" not in s.uncertainty
    assert s.demand.referrals_per_year == 20000
    assert s.uncertainty["stages.physio.tariff_first"]["also"] == []
    assert set(s.uncertainty) == set(base.uncertainty) - {"demand.referrals_per_year"}
    # one share of a routing row fixes the whole row's Dirichlet; a whole table fixes all below it
    shares = ["designs.prime.routing.specialist.physio=0.11", "designs.prime.routing.specialist.advice=0.0"]
    row = load_scenario(BEDFORDSHIRE, shares)
    assert "designs.prime.routing.specialist" not in row.uncertainty
    physio = "{ kind = 'therapy', provider = 'community_physio', slots_per_week = 9, cost_per_slot_gbp = 30 }"
    table = load_scenario(BEDFORDSHIRE, [f"stages.physio={physio}"])
    assert not any(k.startswith("stages.physio.") for k in table.uncertainty)


def test_validate_shows_a_designs_own_capacity() -> None:
    result = runner.invoke(
        app, ["validate", str(BEDFORDSHIRE), "--set", "designs.prime.stage_overrides.physio={ slots_per_week = 100 }"]
    )
    assert result.exit_code == 0, result.output
    prime = result.output[result.output.index("Design 'prime'") :]
    physio = next(line for line in prime.splitlines() if "physio" in line)
    assert " 95 " in physio  # 100 a week less bank holidays, not the 2,616 of the shared stage


def test_a_value_a_child_file_sets_drops_the_range_it_inherits(tmp_path: Path) -> None:
    """A child scenario's own value is not replaced by a range drawn in the parent's units;
    a distribution the child gives for the same key is kept."""
    s = load_scenario(child(tmp_path, "[demand]\nreferrals_per_year = 20000\n[stages.physio]\ntariff_followup = 30"))
    assert "demand.referrals_per_year" not in s.uncertainty
    assert s.uncertainty["stages.physio.tariff_first"]["also"] == []
    own = child(
        tmp_path,
        "[demand]\nreferrals_per_year = 20000\n"
        '[uncertainty."demand.referrals_per_year"]\nlow = 18000\nmode = 20000\nhigh = 22000',
    )
    assert load_scenario(own).uncertainty["demand.referrals_per_year"]["mode"] == 20000


def test_deep_merge_merges_tables_and_leaves_its_inputs_alone() -> None:
    base = {"a": {"x": 1, "y": [1]}, "b": 2}
    top = {"a": {"y": [2], "z": {"k": 3}}, "b": {"now": "a table"}}
    merged = deep_merge(base, top)
    assert merged == {"a": {"x": 1, "y": [2], "z": {"k": 3}}, "b": {"now": "a table"}}
    merged["a"]["z"]["k"] = 4
    assert base == {"a": {"x": 1, "y": [1]}, "b": 2} and top["a"]["z"] == {"k": 3}


def test_leaf_keys_are_key_paths_that_read_back() -> None:
    data = {"stages": {"physio": {"slots_per_week": 1, "need": {}}, "a.b": {"c": 2}}}
    assert leaf_keys(data) == ["stages.physio.slots_per_week", "stages.physio.need", 'stages."a.b".c']
    assert values.key_parts('stages."a.b".c') == ["stages", "a.b", "c"]


# Names other modules import from sim.scenario.loading; each must stay the object it was.
CALLERS_IMPORT = {
    schema: "ADVICE NEEDS THEATRE Backlog Scenario ScenarioError onward_row",
    run: "ReducedPeriod",
    capacity: "CapacityChange",
    stages: "Stage",
    surgery: "Surgery",
    contracts: "PrimeContract TariffShare",
    values: "parse_override scenario_to_dict",
}


def test_the_loading_module_still_offers_what_callers_import() -> None:
    for home, names in CALLERS_IMPORT.items():
        for name in names.split():
            assert getattr(sim.scenario.loading, name) is getattr(home, name), name
            assert name in sim.scenario.loading.__all__
    for name in ("load_scenario", "validate_raw", "with_values", "apply_parameters"):
        assert callable(getattr(sim.scenario.loading, name))


def test_more_services_than_a_patient_can_keep_are_refused() -> None:
    """A patient keeps the services visited as bits of a 64-bit word: 62 services at most."""
    data = scenario_to_dict(bundled())
    first = next(iter(data["stages"].values()))
    data["stages"] |= {f"extra{i}": dict(first) for i in range(MAX_SERVICES + 1 - len(data["stages"]))}
    with pytest.raises(ScenarioError) as e:
        validate_raw(data, "many.toml")
    assert e.value.key == "stages" and "at most 62" in e.value.problem
