"""Checks that span several sections of a scenario.

Each section validates itself in its own module (beside :mod:`sim.scenario.schema`); what needs
more than one section (a route to a stage that exists, a provider that is paid, a design that
commissions the services its rows send patients to) is checked here, after the sections are
valid, so a problem keeps the key path where it was found. Checks run in a fixed order: when
several things are wrong, the first is reported. The designs' checks are in
:mod:`sim.scenario.design_checks`, their payment's in :mod:`sim.scenario.contract_checks`, and
how a problem is worded in :mod:`sim.scenario.problems`.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.backlog import parse_band
from sim.scenario.contract_checks import check_contract_scope, check_payments, check_quality_targets
from sim.scenario.design_checks import check_designs, check_matrix
from sim.scenario.fields import ROW_TOLERANCE
from sim.scenario.problems import KeyProblem, did_you_mean, unknown
from sim.scenario.schema import ADVICE, THEATRE, Scenario


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


# --------------------------------------------------------------------------- the sections' checks


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
            problem = f"no stage or theatre is run by provider '{pname}'{did_you_mean(pname, used)}"
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


_CHECKS = (
    _choices,
    _stage_targets,
    _gp_rows,
    _stage_providers,
    _calendar,
    _providers_used,
    _surgery,
    check_designs,
    check_payments,
    check_quality_targets,
    check_contract_scope,
)


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
