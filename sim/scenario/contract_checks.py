"""Checks of how designs are paid: terms for each payment named, outcome targets that are
result columns with a better direction, and a contract's scope against its providers' terms.

Part of :func:`sim.scenario.checks.cross_check`, run after the designs' checks.
"""

from __future__ import annotations

from sim.scenario.columns import column, columns_for, current_name, find
from sim.scenario.contracts import DEFAULT_QUALITY_TARGETS
from sim.scenario.problems import KeyProblem, did_you_mean, unknown
from sim.scenario.schema import THEATRE, Scenario

QUEUE_WAIT, FIRST_WAIT = "_queue_wait_mean_days", "_first_wait_mean_days"


def check_payments(s: Scenario) -> None:
    """A design paid by a contract has its terms."""
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


def check_quality_targets(s: Scenario) -> None:
    """Each contract's outcome targets are measures of the design, with a better direction."""
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
                    f"'{t.measure}' is not a measure of design '{dname}'{did_you_mean(t.measure, measured)}; a measure is one "
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


def check_contract_scope(s: Scenario) -> None:
    """A contract's scope names the design's services, and splits no provider paid by costs or block."""
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
