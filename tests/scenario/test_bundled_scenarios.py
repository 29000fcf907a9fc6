"""The bundled scenario files: each loads, runs and means what its comments say.

``template.toml`` must keep naming every key the schema accepts, so it stays a complete
reference as the schema grows; ``oldham.toml`` must stay Bedfordshire scaled to Oldham's
population, but for the hub's capacity fitted to Oldham's own returns (``test_rtt_calibration``),
with the hub paid Pennine-style (a share of tariff plus an incentive).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from cli import app
from sim.analysis.flows import stage_load
from sim.model.capacity import effective_weekly
from sim.model.pathway import Pathway
from sim.model.patient import Patient
from sim.money.finance import tariff_value_by_element
from sim.runs.experiment import run_replications
from sim.scenario.loading import Scenario, load_scenario, scenario_to_dict
from sim.scenario.uncertainty import Distribution, parse_uncertainty
from tests.conftest import BEDFORDSHIRE, ROOT

SCENARIOS = ROOT / "scenarios"
TEMPLATE = SCENARIOS / "template.toml"
OLDHAM = SCENARIOS / "oldham.toml"
BUNDLED = sorted(SCENARIOS.glob("*.toml"))
SHORT = ("run.years=1", "run.warmup_days=120")  # seconds per design, lists partly filled


# --------------------------------------------------------------------------- helpers


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    """Pydantic models inside an annotation (through dict, list, Optional, Annotated, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from _models(arg)


def _literals(annotation: Any) -> set[str]:
    """Every value a ``Literal`` inside an annotation allows."""
    if get_origin(annotation) is Literal:
        return {str(v) for v in get_args(annotation)}
    out: set[str] = set()
    for arg in get_args(annotation):
        out |= _literals(arg)
    return out


def schema_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """``(path, name, annotation)`` for every field of a model and of the models it contains."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, name, field.annotation
        for sub in _models(field.annotation):
            yield from schema_fields(sub, f"{path}.")


def all_schema_fields() -> list[tuple[str, str, Any]]:
    """The scenario's fields plus those of the ``[uncertainty]`` distributions (a plain dict in
    the scenario model, parsed by its own models)."""
    fields = list(schema_fields(Scenario))
    for dist in _models(Distribution):
        fields += schema_fields(dist, f"uncertainty.<{dist.__name__}>.")
    return fields


def named_as_key(name: str, text: str) -> bool:
    """Whether ``name`` is written as a TOML key (``name =``) or part of a dotted key or table
    header (``[a.name]``, ``[a.name.b]``), commented out or not; prose does not count."""
    n = re.escape(name)
    return re.search(rf"(?<![\w-]){n}\s*=|[.\[]{n}[.\]]", text) is not None


class AuditedPathway(Pathway):
    """Counts discharges per patient, so a patient discharged twice is caught."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.left: Counter[int] = Counter()
        super().__init__(*args, **kwargs)

    def discharge(self, p: Patient, day: int, outcome: str) -> None:
        self.left[p.pid] += 1
        super().discharge(p, day, outcome)


def _get(data: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        data = data[part]
    return data


@pytest.fixture(scope="module")
def oldham() -> Scenario:
    return load_scenario(OLDHAM)


@pytest.fixture(scope="module")
def bedfordshire_scenario() -> Scenario:
    return load_scenario(BEDFORDSHIRE)


@pytest.fixture(scope="module")
def oldham_table() -> pd.DataFrame:
    """Oldham, both designs, one short replication at the point values."""
    return run_replications(load_scenario(OLDHAM, list(SHORT)), ["fragmented", "prime"], 1, jobs=1)


@pytest.fixture(scope="module")
def bedfordshire_table() -> pd.DataFrame:
    """Bedfordshire's fragmented design on the same settings, for scaling checks."""
    return run_replications(load_scenario(BEDFORDSHIRE, list(SHORT)), ["fragmented"], 1, jobs=1)


# --------------------------------------------------------------------------- every bundled file


def test_the_promised_files_exist() -> None:
    assert TEMPLATE in BUNDLED and OLDHAM in BUNDLED


# Capacity fitted to published waits at or just past demand (docs/calibration.md): these
# lists grow slowly, as the returns' own lists did; any other stage must keep up.
FITTED_AT_CAPACITY = {
    (name, "fragmented", stage): limit
    # the 2009/10 fit, carried forward with demand, and the files that extend it
    for name in ("bedfordshire_2010.toml", "bedfordshire.toml", "template.toml", "oldham.toml", "unitingcare_style.toml")
    for stage, limit in (("orthopaedics", 1.13), ("rheumatology", 1.06), ("theatre", 1.13))
}
"""Services fitted at a load above 1, where the returns put them: their lists are held by removals."""


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenario_validates_with_no_stage_overloaded(path: Path) -> None:
    s = load_scenario(path)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    for design in s.designs:
        for stage, demand in stage_load(s, design).items():
            load = demand / effective_weekly(s, stage, design)
            limit = FITTED_AT_CAPACITY.get((path.name, design, stage), 1.0)
            assert load < limit, f"{path.name}, {design}: {stage} load {load:.2f} in year 1 (the list grows without end)"


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_uncertain_inputs_are_centred_on_the_point_values(path: Path) -> None:
    """A draw replaces the point value; a range that misses it (e.g. a base file's range left
    in place by ``extends``) silently changes the scenario."""
    s = load_scenario(path)
    data = scenario_to_dict(s)
    for key, dist in s.uncertainty.items():
        point = _get(data, key)
        if dist.get("relative"):  # multiples of the point value
            dist = {k: v * point if k in ("low", "mode", "high", "mean", "sd") else v for k, v in dist.items()}
        if "low" in dist:
            assert dist["low"] <= point <= dist["high"], f"{path.name}: {key} = {point} outside the range drawn"
        if "mode" in dist:
            assert dist["mode"] == pytest.approx(point), f"{path.name}: {key} = {point}, mode {dist['mode']}"
        if "mean" in dist:
            assert abs(dist["mean"] - point) <= 2 * dist["sd"], f"{path.name}: {key} = {point}, mean {dist['mean']}"


@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.parametrize("path", [TEMPLATE, OLDHAM], ids=lambda p: p.name)
@pytest.mark.slow
def test_runs_every_service_and_loses_no_patient(path: Path, design: str) -> None:
    s = load_scenario(path, list(SHORT))
    m = AuditedPathway(s, design, 0)
    (row,) = m.run()
    inside = Counter(p.pid for p in m.census())
    assert max(m.left.values()) == 1, "a patient was discharged twice"
    assert max(inside.values()) == 1, "a patient is in two places at once"
    assert not set(inside) & set(m.left), "a discharged patient is still in the system"
    assert set(inside) | set(m.left) == set(range(1, m.counts.created + 1)), "a patient was lost"
    assert row["referrals"] > 0
    idle = [name for name in s.designs[design].services if row[f"{name}_first"] == 0]
    assert not idle, f"services with no first attendance in a year: {idle}"


# --------------------------------------------------------------------------- the template


def test_template_names_every_key_of_the_schema() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    missing = sorted({path for path, name, _ in all_schema_fields() if not named_as_key(name, text)})
    assert not missing, f"template.toml does not show these keys: {missing}"


def test_template_names_every_allowed_value_of_a_choice() -> None:
    """Keys with a fixed set of values (kind, booking, payment, dist...) show every option."""
    text = TEMPLATE.read_text(encoding="utf-8")
    missing = sorted(
        f"{path}={value}"
        for path, _, annotation in all_schema_fields()
        for value in _literals(annotation)
        if not re.search(rf'"{re.escape(value)}"|(?<![\w-]){re.escape(value)}\s*=', text)
    )
    assert not missing, f"template.toml does not mention these values: {missing}"


def test_template_is_the_calibrated_bedfordshire_scenario(bedfordshire_scenario: Scenario) -> None:
    """Its header says so: a planner starting from it starts from the calibrated values."""
    loaded = load_scenario(TEMPLATE)
    template = scenario_to_dict(loaded)
    bedfordshire = scenario_to_dict(bedfordshire_scenario)
    for data in (template, bedfordshire):
        del data["name"], data["description"]
        data["finance"].pop("tariff_share")  # shown in the template, used by no design there
    # the template writes some ranges relative to the value (so a copy for another area moves
    # with it): they must draw what Bedfordshire's absolute ranges draw
    ours, theirs = (parse_uncertainty(x.uncertainty, x, "") for x in (loaded, bedfordshire_scenario))
    assert set(ours) == set(theirs)
    for key, dist in ours.items():
        point = _get(template, key)
        assert dist.dist == theirs[key].dist and dist.also == theirs[key].also, key
        if not isinstance(point, dict):
            assert dist.ends(point) == pytest.approx(theirs[key].ends(point), rel=2e-3), key
    for data in (template, bedfordshire):
        del data["uncertainty"]
    assert template == bedfordshire


# --------------------------------------------------------------------------- Oldham


def test_oldham_extends_bedfordshire_scaled_by_population(oldham: Scenario, bedfordshire_scenario: Scenario) -> None:
    assert tomllib.loads(OLDHAM.read_text(encoding="utf-8"))["extends"] == BEDFORDSHIRE.name
    ratio = oldham.population / bedfordshire_scenario.population
    assert oldham.population == pytest.approx(225_000, rel=0.02)
    assert oldham.demand.referrals_per_year / bedfordshire_scenario.demand.referrals_per_year == pytest.approx(ratio, rel=0.02)
    # what is not overridden comes from Bedfordshire
    assert oldham.demand.conditions == bedfordshire_scenario.demand.conditions
    assert oldham.designs["prime"].routing == bedfordshire_scenario.designs["prime"].routing
    # capacity scaled with demand: every stage carries the same load as in Bedfordshire, but
    # those whose capacity is fitted to Oldham's returns; Oldham keeps no care outside the
    # contract apart (its hub's fit holds all its T&O pathways), and its hub routes as fitted to
    # its returns, without Bedfordshire's shift towards hospital: both are set aside
    assert oldham.demand.outside_contract.per_year == 0 and oldham.designs["prime"].triage_hospital_shift == 0
    bedfordshire_scenario = load_scenario(
        BEDFORDSHIRE, ["demand.outside_contract.per_year=0", "designs.prime.triage_hospital_shift=0"]
    )
    own = tomllib.loads(OLDHAM.read_text(encoding="utf-8"))["designs"]["prime"]["stage_overrides"]
    fitted = {name for name, values in own.items() if {"slots_per_week", "staff"} & set(values)}
    assert {"orthopaedics", "theatre"} <= fitted
    for design in oldham.designs:
        here, there = stage_load(oldham, design), stage_load(bedfordshire_scenario, design)
        for stage in here:
            if "prime" in (design, oldham.designs[design].based_on) and stage in fitted:
                continue
            load = here[stage] / effective_weekly(oldham, stage, design)
            assert load == pytest.approx(there[stage] / effective_weekly(bedfordshire_scenario, stage, design), abs=0.03), stage


@pytest.mark.slow
def test_oldham_simulated_referrals_scale_with_population(
    oldham: Scenario, bedfordshire_scenario: Scenario, oldham_table: pd.DataFrame, bedfordshire_table: pd.DataFrame
) -> None:
    ratio = oldham.population / bedfordshire_scenario.population
    here = oldham_table.loc[oldham_table["design"] == "fragmented", "referrals"].sum()
    there = bedfordshire_table["referrals"].sum()
    assert here / there == pytest.approx(ratio, rel=0.03)  # Poisson noise on ~23,000 is under 1%
    # block contracts were scaled too: the commissioner pays about the same per referral
    per_referral = oldham_table.set_index("design").loc["fragmented", "commissioner_cost_gbp"] / here
    assert per_referral == pytest.approx(bedfordshire_table["commissioner_cost_gbp"].sum() / there, rel=0.05)


@pytest.mark.slow
def test_oldham_hub_is_paid_a_share_of_tariff_plus_incentive(oldham: Scenario, oldham_table: pd.DataFrame) -> None:
    assert oldham.designs["prime"].payment == "tariff_share"
    terms = oldham.finance.tariff_share
    assert terms is not None
    assert terms.tariff_share == pytest.approx(0.9)
    assert terms.incentive_share == pytest.approx(0.015)
    assert terms.scope == ["triage", "community_specialist", "orthopaedics", "rheumatology", "pain"]
    prime = oldham_table[oldham_table["design"] == "prime"].reset_index(drop=True)
    elements = tariff_value_by_element(prime, oldham, "prime")
    hub = sum(elements[e].value for e in terms.scope).to_numpy()  # the hub's activity at full tariff
    paid = prime["prime_income_gbp"].to_numpy()
    incentive = prime["quality_payment_gbp"].to_numpy()
    assert np.all(hub > 0)
    assert np.all(paid < hub), "the commissioner pays the hub less than full tariff for its activity"
    np.testing.assert_allclose(paid, 0.9 * hub + incentive, rtol=1e-9)
    assert np.all((incentive >= 0) & (incentive <= 0.015 * 0.9 * hub * (1 + 1e-9)))
    # surgery at full tariff, physio and podiatry on their blocks: paid directly, on top
    direct = prime[[c for c in prime.columns if c.startswith("pay_provider_")]].sum(axis=1).to_numpy()
    surgery = elements["theatre"].value.to_numpy()
    np.testing.assert_allclose(prime["pay_provider_acute_trust_gbp"], surgery, rtol=1e-9)
    np.testing.assert_allclose(prime["commissioner_cost_gbp"], paid + direct, rtol=1e-9)
    assert prime["prime_surplus_gbp"].notna().all()
