"""Checks of each design against the rest of the scenario: its services, routing rows,
overrides and structures, tests, switch-over, capacity basis and policies.

Part of :func:`sim.scenario.checks.cross_check`, which runs them in a fixed order after the
sections are valid; :func:`check_matrix` checks a table of routing rows, the GP's as well.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from sim.scenario.designs import Design, over
from sim.scenario.problems import KeyProblem, pydantic_problem, unknown
from sim.scenario.schema import ADVICE, NEEDS, THEATRE, Scenario
from sim.scenario.stages import Stage


def check_designs(s: Scenario) -> None:
    """Every design against the services, rows and settings it names."""
    for dname, d in s.designs.items():
        _design_services(s, dname, d)
        _design_rows(s, dname, d)
        _design_overrides(s, dname, d)
        _design_tests(s, dname, d)
        _design_switch_over(s, dname, d)
        _design_basis(s, dname, d)
        _design_policies(s, dname, d)


def _design_services(s: Scenario, dname: str, d: Design) -> None:
    """The design's services exist, and hold every place its services send patients to."""
    for i, svc in enumerate(d.services):
        if svc not in s.stages:
            raise KeyProblem(f"designs.{dname}.services[{i}]", unknown(svc, set(s.stages), "stage"))
    services = set(d.services)
    for sname in d.services:
        target = s.stages[sname].overflow_to
        if target is not None and target not in services:
            raise KeyProblem(f"stages.{sname}.overflow_to", f"'{target}' is not a service of design '{dname}'")
    sr = s.demand.self_referral
    if sr.per_year > 0 and sr.stage not in services:
        raise KeyProblem("demand.self_referral.stage", f"'{sr.stage}' is not a service of design '{dname}'")
    oc = s.demand.outside_contract
    if s.counts_outside_contract and oc.stage not in services:
        problem = f"'{oc.stage}' is not a service of design '{dname}': care outside the contract is bought in every design"
        raise KeyProblem("demand.outside_contract.stage", problem)


def _design_basis(s: Scenario, dname: str, d: Design) -> None:
    """Capacity carried from another era names the design's services, none with dated changes of its own."""
    if d.capacity_basis is None:
        return
    key = f"designs.{dname}.capacity_basis.services"
    carried = d.carried_services()
    if not carried:
        raise KeyProblem(key, "no service's capacity is set in the design's stage_overrides: name the services it holds")
    for i, name in enumerate(carried):
        if name != THEATRE and name not in d.services:
            raise KeyProblem(f"{key}[{i}]", unknown(name, set(d.services) | {THEATRE}, "service of this design"))
        own = s.surgery if name == THEATRE else s.stages[name]
        changes = d.stage_overrides.get(name, {}).get("capacity_changes", own.capacity_changes)
        if changes and d.capacity_basis.follows == "demand":
            where = "surgery" if name == THEATRE else f"stages.{name}"
            raise KeyProblem(
                f"designs.{dname}.stage_overrides.{name}.capacity_changes"
                if "capacity_changes" in d.stage_overrides.get(name, {})
                else f"{where}.capacity_changes",
                "capacity that follows demand (capacity_basis) grows from each contract year's start itself: "
                'give dated changes, or capacity_basis.follows = "fitted", not both',
            )


def _design_policies(s: Scenario, dname: str, d: Design) -> None:
    """A capacity policy acts within the contract, and does not grow capacity a capacity basis grows already."""
    carried = set(d.carried_services()) if d.capacity_basis and d.capacity_basis.follows == "demand" else set()
    for place in [*d.services, THEATRE]:
        policy = s.capacity_policy(dname, place)
        key = s.capacity_key(dname, place, "capacity_policy")
        if policy.acts and policy.from_year > s.run.years:
            raise KeyProblem(f"{key}.from_year", f"{policy.from_year} is after the run's last contract year ({s.run.years}): "
                             "the policy would never act")  # fmt: skip
        if policy.kind == "follows_demand" and place in carried:
            raise KeyProblem(
                f"{key}.kind",
                f"{place}'s capacity already follows demand through designs.{dname}.capacity_basis: "
                'give it one way (kind = "fixed" here, or capacity_basis.follows = "fitted")',
            )


def _design_rows(s: Scenario, dname: str, d: Design) -> None:
    """Where the design's patients enter and go when unresolved: rows only to what it offers."""
    base = f"designs.{dname}"
    services = set(d.services)
    offered = services | {c for c, row in s.choices.items() if all(o in services for o, p in row.items() if p > 0)}
    places = set(s.stages) | set(s.choices)
    if d.entry == "gp":
        check_matrix("gp.referral", s.gp.referral, offered, allow_advice=False, design=dname, known=places)
    elif d.entry not in services:
        raise KeyProblem(f"{base}.entry", unknown(d.entry, services, "service of this design"))
    else:
        if s.stages[d.entry].kind != "triage":
            raise KeyProblem(f"{base}.entry", f"entry stage '{d.entry}' must be of kind 'triage'")
        check_matrix(f"{base}.routing", d.routing, offered, allow_advice=True, known=places)
    if d.unresolved == "gp":
        check_matrix("gp.rereferral", s.gp.rereferral, offered, allow_advice=False, design=dname, known=places)
    else:
        check_matrix(f"{base}.onward", d.onward, offered, allow_advice=True, known=places)
    if s.surgery.rehab_stage not in services:
        raise KeyProblem("surgery.rehab_stage", f"stage '{s.surgery.rehab_stage}' is not a service of design '{dname}'")


def _design_overrides(s: Scenario, dname: str, d: Design) -> None:
    """A stage override names a service of the design (or the theatre) and leaves a valid stage."""
    for name, structure in d.structures.items():  # first, so a structure's bad value is named as its own
        one = s.with_structure(name)
        _stage_overrides(one, dname, structure.stage_overrides, f"designs.{dname}.structures.{name}.stage_overrides")
    _stage_overrides(s, dname, d.stage_overrides, f"designs.{dname}.stage_overrides")


def _stage_overrides(s: Scenario, dname: str, overrides: dict[str, dict[str, Any]], base: str) -> None:
    """One table of stage overrides (a design's own, or a structure's with it simulated)."""
    d = s.designs[dname]
    services = set(d.services)
    for sname, ovr in overrides.items():
        if sname not in services and sname != THEATRE:
            raise KeyProblem(f"{base}.{sname}", unknown(sname, services | {THEATRE}, "service of this design"))
        try:
            if sname == THEATRE:
                s.design_surgery(dname)  # validates the theatre as overridden
            elif "staff" in ovr:
                s.design_stages(dname)  # validates a restaffed service, its slots derived again
            else:
                Stage.model_validate(over(s.stages[sname].model_dump(), d.overrides().get(sname, ovr)))
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise KeyProblem(f"{base}.{sname}.{loc}", pydantic_problem(err)) from None


def _design_tests(s: Scenario, dname: str, d: Design) -> None:
    """The tests a design's services order are done by diagnostic services it runs."""
    for sname, stage in s.design_stages(dname).items():
        for test in stage.tests:
            where = f"stages.{sname}.tests.{test}"
            if test not in s.stages or s.stages[test].kind != "diagnostic":
                diagnostic = {n for n, st in s.stages.items() if st.kind == "diagnostic"}
                raise KeyProblem(where, unknown(test, diagnostic, "stage of kind 'diagnostic'"))
            if test not in d.services:
                raise KeyProblem(where, f"'{test}' is not a service of design '{dname}', which runs {sname}")


def _design_switch_over(s: Scenario, dname: str, d: Design) -> None:
    """A design takes over from another design that starts afresh, and mobilises what it runs."""
    base = f"designs.{dname}"
    if d.inherits is not None:
        others = set(s.designs) - {dname}
        if d.inherits not in others:
            raise KeyProblem(f"{base}.inherits", unknown(d.inherits, others, "other design"))
        if s.designs[d.inherits].inherits is not None:
            source = s.designs[d.inherits].inherits
            problem = f"'{d.inherits}' itself inherits from '{source}': take over from a design that starts afresh"
            raise KeyProblem(f"{base}.inherits", problem)
    m = d.mobilisation
    if m is None:
        return
    services = set(d.services) | {THEATRE}
    for i, name in enumerate(m.services or []):
        if name not in services:
            raise KeyProblem(f"{base}.mobilisation.services[{i}]", unknown(name, services, "service of this design"))


def check_matrix(
    where: str,
    matrix: dict[str, dict[str, float]],
    allowed: set[str],
    *,
    allow_advice: bool,
    design: str | None = None,
    known: set[str] | None = None,
) -> None:
    """Every need has a row; every destination exists (a name no stage has is a typo even at
    probability 0) and, where it is used, is a service the design commissions."""
    _row_per_need(where, matrix)
    what = f"service of design '{design}'" if design else "stage"
    usable = allowed | {ADVICE} if allow_advice else allowed
    for need, row in matrix.items():
        for dest, p in row.items():
            if known is not None and dest not in known and dest != ADVICE:
                raise KeyProblem(f"{where}.{need}.{dest}", unknown(dest, known, "stage"))
            if p > 0 and dest not in usable:
                raise KeyProblem(f"{where}.{need}.{dest}", unknown(dest, allowed, what))


def _row_per_need(where: str, matrix: dict[str, dict[str, float]]) -> None:
    for need in NEEDS:
        if need not in matrix:
            raise KeyProblem(f"{where}.{need}", "missing routing row for this latent need")
