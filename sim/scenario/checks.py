"""Checks that span several sections of a scenario, and how validation problems are worded.

Each section validates itself in :mod:`sim.scenario.schema`; what needs more than one section
(a route to a stage that exists, a provider that is paid, a design that commissions the
services its rows send patients to) is checked here, after the sections are valid, so a
problem keeps the key path where it was found. Checks run in a fixed order: when several
things are wrong, the first is reported.
"""

from __future__ import annotations

import difflib
import tomllib
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from sim.scenario.backlog import parse_band
from sim.scenario.columns import column, columns_for, current_name, find
from sim.scenario.contracts import DEFAULT_QUALITY_TARGETS
from sim.scenario.designs import Design, over
from sim.scenario.fields import ROW_TOLERANCE
from sim.scenario.schema import ADVICE, NEEDS, THEATRE, Scenario
from sim.scenario.stages import Stage


class KeyProblem(ValueError):
    """A problem at a key path of a scenario, before the file it came from is known."""

    def __init__(self, key: str, problem: str):
        super().__init__(problem)
        self.key = key


def cross_check(s: Scenario) -> None:
    """Checks that need more than one section: routes, providers, rows per need."""
    for check in _CHECKS:
        check(s)


RETURN_CHOICE = "the commissioner and month choose an RTT return's incomplete pathways to start from"
"""Why a backlog's commissioner or month needs its file: they choose from a return."""


def check_backlog(s: Scenario) -> None:
    """The backlog's stages and bands against the scenario (its file is read when loading)."""
    b = s.backlog
    if b.file is None and (b.commissioner is not None or b.month is not None):
        key = "backlog.commissioner" if b.commissioner is not None else "backlog.month"
        raise KeyProblem(key, f"{RETURN_CHOICE}: give backlog.file, the return, too")
    if s.run.warmup_days != 0:
        problem = "must be 0 when the run starts from a backlog (the backlog is the state at the start)"
        raise KeyProblem("run.warmup_days", problem)
    places = waiting_places(s)
    for stage, bands in s.backlog.stages.items():
        if stage not in places:
            raise KeyProblem(f"backlog.stages.{stage}", unknown(stage, places, "stage"))
        for band in bands:
            try:
                parse_band(band)
            except ValueError as e:
                raise KeyProblem(f'backlog.stages.{stage}."{band}"', str(e)) from None


def waiting_places(s: Scenario) -> set[str]:
    """Where patients can wait: every stage, and the theatre."""
    return {*s.stages, THEATRE}


def unknown(name: str, known: set[str], what: str) -> str:
    """'x' is not a known <what>, with the closest known name as a hint and the list."""
    return f"'{name}' is not a known {what}{_hint(name, known)}; known: {', '.join(sorted(known))}"


QUEUE_WAIT, FIRST_WAIT = "_queue_wait_mean_days", "_first_wait_mean_days"


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- the checks


def _choices(s: Scenario) -> None:
    stage_names = set(s.stages)
    for cname, row in s.choices.items():
        where = f"choices.{cname}"
        if cname in stage_names or cname == ADVICE:
            raise KeyProblem(where, f"'{cname}' is already the name of a stage")
        if abs(sum(row.values()) - 1) > ROW_TOLERANCE:
            raise KeyProblem(where, f"shares must sum to 1, got {sum(row.values()):.6g}")
        for option in row:
            if option not in stage_names:
                raise KeyProblem(f"{where}.{option}", unknown(option, stage_names, "stage"))


def _stage_targets(s: Scenario) -> None:
    stage_names = set(s.stages)
    for name, st in s.stages.items():
        if st.overflow_to is not None and st.overflow_to not in stage_names:
            raise KeyProblem(f"stages.{name}.overflow_to", unknown(st.overflow_to, stage_names, "stage"))
    sr = s.demand.self_referral
    if sr.per_year > 0 and sr.stage not in stage_names:
        raise KeyProblem("demand.self_referral.stage", unknown(sr.stage, stage_names, "stage"))
    _outside_contract(s)


def _outside_contract(s: Scenario) -> None:
    """Care outside the contract goes to a service that sees patients itself, of conditions the scenario has."""
    if not s.counts_outside_contract:
        return
    oc = s.demand.outside_contract
    if oc.stage not in s.stages:
        raise KeyProblem("demand.outside_contract.stage", unknown(oc.stage, set(s.stages), "stage"))
    kind = s.stages[oc.stage].kind
    if kind not in ("clinic", "therapy"):
        problem = (
            f"'{oc.stage}' is a service of kind '{kind}': patients outside the contract are referred to a clinic or "
            "therapy service that treats them (triage would route them into the MSK contract)"
        )
        raise KeyProblem("demand.outside_contract.stage", problem)
    for name in oc.conditions or {}:
        if name not in s.demand.conditions:
            where = f"demand.outside_contract.conditions.{name}"
            raise KeyProblem(where, unknown(name, set(s.demand.conditions), "condition group"))


def _gp_rows(s: Scenario) -> None:
    places = set(s.stages) | set(s.choices)
    for which, matrix in (("gp.referral", s.gp.referral), ("gp.rereferral", s.gp.rereferral)):
        check_matrix(which, matrix, places, allow_advice=False, known=places)


def _stage_providers(s: Scenario) -> None:
    for name, st in s.stages.items():
        if st.provider not in s.finance.providers:
            raise KeyProblem(f"stages.{name}.provider", f"provider '{st.provider}' is not in finance.providers")


def _calendar(s: Scenario) -> None:
    places = waiting_places(s)
    for i, period in enumerate(s.calendar.reduced):
        for j, name in enumerate(period.stages):
            if name not in places:
                raise KeyProblem(f"calendar.reduced[{i}].stages[{j}]", unknown(name, places, "stage"))


def _providers_used(s: Scenario) -> None:
    used = {st.provider for st in s.stages.values()} | {s.surgery.provider}
    used |= {o["provider"] for d in s.designs.values() for o in d.stage_overrides.values() if "provider" in o}
    used |= {p for p in _overflow_providers(s) if p is not None}
    for pname in s.finance.providers:
        if pname not in used:
            problem = f"no stage or theatre is run by provider '{pname}'{_hint(pname, used)}"
            raise KeyProblem(f"finance.providers.{pname}", problem)


def _surgery(s: Scenario) -> None:
    if s.surgery.provider not in s.finance.providers:
        raise KeyProblem("surgery.provider", f"provider '{s.surgery.provider}' is not in finance.providers")
    if s.surgery.rehab_stage not in s.stages:
        raise KeyProblem("surgery.rehab_stage", f"stage '{s.surgery.rehab_stage}' does not exist")
    for provider in _overflow_providers(s):
        if provider is not None and provider not in s.finance.providers:
            raise KeyProblem("surgery.overflow_provider", f"provider '{provider}' is not in finance.providers")


def _overflow_providers(s: Scenario) -> set[Any]:
    """The theatre's overflow providers, as written (the designs' overrides are validated later)."""
    return {s.surgery.overflow_provider} | {
        d.stage_overrides.get(THEATRE, {}).get("overflow_provider") for d in s.designs.values()
    }


def _designs(s: Scenario) -> None:
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


def _payments(s: Scenario) -> None:
    for dname, d in s.designs.items():
        if d.payment != "activity" and getattr(s.finance, d.payment) is None:
            problem = f"design '{dname}' is paid by {d.payment} but finance.{d.payment} is missing"
            raise KeyProblem(f"finance.{d.payment}", problem)


def _not_renamed(measure: str, key: str) -> None:
    """An old name of a result column is not read as its new one here: a contract pays on it, so the
    scenario must say which it means (a list's queue after booking, or the wait for an appointment)."""
    now = current_name(measure)
    if now == measure:
        return
    problem = f"'{measure}' is now called '{now}' ({column(now).label.lower()}): write measure = \"{now}\""
    if now.endswith(QUEUE_WAIT):
        first = now.removesuffix(QUEUE_WAIT) + FIRST_WAIT
        if find(first) is not None:
            problem += f", or '{first}' for the wait from referral to a first appointment"
    raise KeyProblem(key, problem)


def _quality_targets(s: Scenario) -> None:
    for dname, d in s.designs.items():
        terms = getattr(s.finance, d.payment, None) if d.payment != "activity" else None
        if terms is None:
            continue
        names = set(columns_for(s, dname, uncertainty=False))
        for i, t in enumerate(terms.quality_targets):
            where = f"finance.{d.payment}.quality_targets[{i}]"
            _not_renamed(t.measure, f"{where}.measure")
            col = find(t.measure)
            if col is None or col.source != "recorder" or t.measure not in names:
                measured = {n for n in names if (c := find(n)) is not None and c.source == "recorder" and c.sign}
                problem = (
                    f"'{t.measure}' is not a measure of design '{dname}'{_hint(t.measure, measured)}; a measure is one "
                    f"of its {len(measured)} result columns for which higher or lower is better, e.g. "
                    + ", ".join(m.measure for m in DEFAULT_QUALITY_TARGETS)
                )
                raise KeyProblem(f"{where}.measure", problem)
            if not col.sign:
                raise KeyProblem(f"{where}.measure", f"'{t.measure}' has no better direction, so it cannot be a target")
            if t.floor is not None and (t.target - t.floor) * col.sign < 0:
                better = "higher" if col.sign > 0 else "lower"
                problem = f"floor {t.floor:g} is better than target {t.target:g} ({better} is better for {t.measure})"
                raise KeyProblem(f"{where}.floor", problem)


def _contract_scope(s: Scenario) -> None:
    for dname, d in s.designs.items():
        terms = s.contract_terms(dname)
        if terms is None:
            continue
        elements = s.design_elements(dname)
        named = {"scope": terms.scope or []}
        if d.payment == "tariff_share":
            named["tariff_share_by_service"] = list(s.finance.tariff_share.tariff_share_by_service)
        for key, names in named.items():
            for name in names:
                if name not in elements:
                    what = f"service of design '{dname}' (or '{THEATRE}')"
                    raise KeyProblem(f"finance.{d.payment}.{key}", unknown(name, set(elements), what))
        inside = s.in_scope(dname)
        for provider in set(elements.values()):
            mine = {e for e, p in elements.items() if p == provider}
            terms = s.finance.providers[provider]
            services = s.design_services(dname)
            uncosted = sorted(e for e in mine if e not in services or not services[e].costed)  # overflow: no costs
            if terms.integrator_pays == "costs" and uncosted:
                problem = (
                    f"is 'costs', but no costs are given for {', '.join(uncosted)} in design '{dname}' (staff with "
                    "cost_per_wte_gbp, cost_per_slot_gbp, cost_per_contact_gbp or cost_per_operation_gbp): its care "
                    "would cost the integrator nothing"
                )
                raise KeyProblem(f"finance.providers.{provider}.integrator_pays", problem)
            if terms.integrator_pays == "costs" and len({inside[e] for e in mine}) > 1:
                problem = (
                    f"provider '{provider}' is paid its costs, so its services ({', '.join(sorted(mine))}) must be all "
                    "inside the contract's scope or all outside it: its fixed costs cannot be split by service"
                )
                raise KeyProblem(f"finance.{d.payment}.scope", problem)
            if terms.payment == "block" and len({inside[e] for e in mine}) > 1:
                problem = (
                    f"provider '{provider}' is paid by block, so its services ({', '.join(sorted(mine))}) must be all "
                    "inside the contract's scope or all outside it: a block sum cannot be split by service"
                )
                raise KeyProblem(f"finance.{d.payment}.scope", problem)


_CHECKS = (
    _choices,
    _stage_targets,
    _gp_rows,
    _stage_providers,
    _calendar,
    _providers_used,
    _surgery,
    _designs,
    _payments,
    _quality_targets,
    _contract_scope,
)


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


def check_raw_destinations(raw: dict[str, Any]) -> None:
    """Routing rows name known places, checked on the raw data before the rows' sums are.

    A misspelt destination (``orthopedics``) would otherwise surface only as a row that does
    not sum to 1, since a child scenario's row merges share by share with its base's.
    """
    stages, choices = raw.get("stages"), raw.get("choices", {})
    if not isinstance(stages, dict) or not isinstance(choices, dict):
        return  # the schema will say what is wrong
    known = set(stages) | set(choices)
    matrices: list[tuple[str, Any, bool]] = []
    gp = raw.get("gp")
    if isinstance(gp, dict):
        matrices += [(f"gp.{k}", gp.get(k), False) for k in ("referral", "rereferral")]
    designs = raw.get("designs")
    if isinstance(designs, dict):
        for name, d in designs.items():
            if isinstance(d, dict):
                matrices += [(f"designs.{name}.{k}", d.get(k), True) for k in ("routing", "onward")]
    for where, matrix, advice in matrices:
        for need, row in matrix.items() if isinstance(matrix, dict) else ():
            for dest in row if isinstance(row, dict) else ():
                if dest not in known and not (advice and dest == ADVICE):
                    raise KeyProblem(f"{where}.{need}.{dest}", unknown(dest, known, "stage"))


def _row_per_need(where: str, matrix: dict[str, dict[str, float]]) -> None:
    for need in NEEDS:
        if need not in matrix:
            raise KeyProblem(f"{where}.{need}", "missing routing row for this latent need")


# --------------------------------------------------------------------------- wording pydantic's errors


def loc_to_key(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a key path: ``stages.physio.capacity_changes[0].from_date``."""
    parts: list[str] = []
    for x in loc:
        if isinstance(x, int):
            parts[-1:] = [f"{parts[-1]}[{x}]"] if parts else [f"[{x}]"]
        else:
            parts.append(str(x))
    return ".".join(parts)


_TYPE_NEEDED = {
    "float_type": "a valid number",
    "int_type": "a valid whole number",
    "bool_type": "true or false",
    "date_type": "a date (e.g. 2015-04-01, without quotes)",
}
"""Strict types' errors as plain words: the type a key needs."""


def _unquoted(text: str) -> bool:
    """Whether text would be a number, boolean or date if its quotes were taken off."""
    try:
        tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return False
    return True


def pydantic_problem(err: dict[str, Any]) -> str:
    """One pydantic error as a short problem, with a 'did you mean' for an unknown key."""
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        return f"unknown key '{name}'{_hint(name, _known_fields(err['loc'][:-1]))}"
    if kind == "missing":
        return "required key is missing"
    if kind in _TYPE_NEEDED and "input" in err and isinstance(err["input"], bool | str):
        got = err["input"]
        what = ("true" if got else "false") if isinstance(got, bool) else f"the text {_short(repr(got))}"
        hint = " (write it without quotes)" if isinstance(got, str) and _unquoted(got) else ""
        return f"should be {_TYPE_NEEDED[kind]}, not {what}{hint}"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind != "value_error" and not isinstance(err["input"], dict):
        msg += f" (got {_short(repr(err['input']))})"
    return msg


def _short(text: str, limit: int = 80) -> str:
    """A value as an error message quotes it: its start and length when long."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model at a location, for 'did you mean' hints."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            model = _dict_value_model(model)
            continue
        model = _model_of(field.annotation)
    return sorted(getattr(model, "model_fields", {}) or [])


def _dict_value_model(model: Any) -> Any:
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        m = _model_of(arg)
        if m is not None:
            return m
    return None
