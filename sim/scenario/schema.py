"""The scenario schema: the whole scenario, the names its sections share, and its backlog.

A scenario file is validated into frozen pydantic objects once, before any model is built;
unknown keys are errors and the objects cannot be changed afterwards. Each section is a
module beside this one: :mod:`sim.scenario.run` (run settings and calendar),
:mod:`sim.scenario.demand` (referrals and the GP), :mod:`sim.scenario.stages` and
:mod:`sim.scenario.surgery` (the services, their capacity in :mod:`sim.scenario.capacity`),
:mod:`sim.scenario.designs`, :mod:`sim.scenario.finance` and :mod:`sim.scenario.contracts`
(money), on the types of :mod:`sim.scenario.fields`. Checks that span several sections live
in :mod:`sim.scenario.checks`; reading files lives in :mod:`sim.scenario.loading`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, TypeVar, get_args

from pydantic import Field

from sim.scenario.capacity import CapacityChange, CapacityPolicy
from sim.scenario.contracts import PrimeContract, TariffShare
from sim.scenario.demand import GP, Demand
from sim.scenario.designs import Design, over
from sim.scenario.fields import MAX_DESCRIPTION, NAME_PATTERN, Need, Probability, Strict
from sim.scenario.finance import Finance
from sim.scenario.run import Calendar, RunSettings
from sim.scenario.stages import Stage, TreatmentFunction
from sim.scenario.surgery import Surgery

NEEDS: tuple[str, ...] = get_args(Need)
"""Latent clinical need, the hidden truth that routing decisions try to match: the values a
scenario may name (:data:`sim.scenario.fields.Need`), in their order."""

ADVICE = "advice"
"""Pseudo-destination: advice and supported self-management, no appointment needed."""

THEATRE = "theatre"
"""The surgical list's place name: in backlogs, reduced periods, results columns and flows."""
THEATRE_OVERFLOW = "theatre_overflow"
"""The element of a design's money for operations overflowing to another provider."""
OUTSIDE_CONTRACT = "outside_contract"
"""Care outside the MSK contract: its table under ``[demand]``, and the start of its result columns
(``outside_contract_referrals``; ``outside_contract_<count>``, the part of ``<count>`` that was)."""
OUTSIDE_CONTRACT_PER_YEAR = f"demand.{OUTSIDE_CONTRACT}.per_year"
"""The key that switches care outside the contract on (it is off at 0)."""

MAX_SERVICES: Final = 62
"""Services a scenario may define: a patient keeps the services visited as bits of a 64-bit word
(``sim.model.patient``), far more than any MSK pathway has."""


class ScenarioError(ValueError):
    """A scenario that cannot be used, with where and why."""

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class Backlog(Strict):
    """Patients already waiting when the run starts: a CSV file of patients, a published RTT
    return (incomplete pathways by week band), or counts by weeks-waited band."""

    file: str | None = None
    stages: dict[str, dict[str, Annotated[int, Field(ge=0)]]] = Field(default_factory=dict)
    commissioner: str | None = None
    """With an RTT return: the commissioner's code (``06F``)."""
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    """With an RTT return: the month whose incomplete pathways start the run (``2015-02``)."""
    treatment_functions: list[TreatmentFunction] | None = None
    """With an RTT return: the functions taken (default: those the services name, Other apart)."""
    decision_to_admit_share: Probability = 0.2
    """With a return that does not count them apart: the share of incomplete pathways on the
    surgical list (decision to admit made) rather than waiting for outpatients."""
    patients: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    """Rows read from ``file`` when the scenario is loaded (not written back)."""
    pathways: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    """Incomplete pathways read from an RTT return, by treatment function and week band."""


ServiceT = TypeVar("ServiceT", Stage, Surgery)


class Scenario(Strict):
    """A whole scenario: population, demand, services, designs, money and run settings."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    """Letters, digits, ``-`` and ``_`` (it names the results folder)."""
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    population: int = Field(ge=1, le=100_000_000)
    run: RunSettings = Field(default_factory=RunSettings)
    calendar: Calendar = Field(default_factory=Calendar)
    demand: Demand
    stages: dict[str, Stage] = Field(min_length=1, max_length=MAX_SERVICES)
    surgery: Surgery
    gp: GP
    designs: dict[str, Design] = Field(min_length=1)
    choices: dict[str, dict[str, Probability]] = Field(default_factory=dict)
    """Patient choice between providers: a routing destination that stands for several services."""
    finance: Finance
    uncertainty: dict[str, dict[str, Any]] = Field(default_factory=dict)
    backlog: Backlog | None = None

    @property
    def counts_outside_contract(self) -> bool:
        """Whether runs count care outside the contract apart (result columns and money): when
        it is referred, or its volume is drawn per replication (a draw may then be 0)."""
        if self.demand.outside_contract.per_year > 0:
            return True
        return any(OUTSIDE_CONTRACT_PER_YEAR in (key, *entry.get("also", [])) for key, entry in self.uncertainty.items())

    def capacity_policy(self, design: str, place: str) -> CapacityPolicy:
        """The policy ``place`` (a service or ``theatre``) follows in ``design``: fixed when
        ``run.capacity_policies`` holds every one fixed."""
        if self.run.capacity_policies == "fixed":
            return CapacityPolicy()
        if place == THEATRE:
            return self.design_surgery(design).capacity_policy
        return self.design_stages(design)[place].capacity_policy

    @property
    def capacity_policies_act(self) -> bool:
        """Whether any design's service or theatre has a policy other than ``fixed``: runs then
        count the sessions and slots added."""
        return any(self.capacity_policy(d, place).acts for d, cfg in self.designs.items() for place in [*cfg.services, THEATRE])

    def design_stages(self, design: str) -> dict[str, Stage]:
        """The stages a design commissions, with its overrides applied."""
        d = self.designs[design]
        carried = self._carried_factors(design)
        out = {}
        overrides = d.overrides()
        for name in d.services:
            base = self.stages[name]
            extra = overrides.get(name)
            if extra and "staff" in extra:  # new staff give new slots: validated, so they are derived again
                kept = base.model_dump(exclude={"slots_per_week"} if "slots_per_week" not in extra else set())
                out[name] = Stage.model_validate(over(kept, extra))
            elif extra and any(isinstance(v, list | dict) for v in extra.values()):  # tables in it are validated
                out[name] = Stage.model_validate(over(base.model_dump(), extra))
            else:
                out[name] = base.model_copy(update=extra) if extra else base
            if name in carried:
                out[name] = self._carried(out[name], carried[name])
        return out

    def carried_factor(self, design: str, place: str) -> float:
        """The factor a design's capacity basis puts on the slots ``place`` is given (1: none): a
        value set for it is simulated times this."""
        return self._carried_factors(design).get(place, 1.0)

    def _carried_factors(self, design: str) -> dict[str, float]:
        """Per service whose capacity follows the design's basis: the factor on its fitted slots."""
        d = self.designs[design]
        basis = d.capacity_basis
        if basis is None or basis.follows == "fitted":
            return {}
        factor = self.demand.referrals_per_year / basis.referrals_per_year
        return dict.fromkeys(d.carried_services(), factor)

    def _carried(self, service: ServiceT, factor: float) -> ServiceT:
        """A service with its slots (and staff) scaled by ``factor`` and, from each later
        contract year's start, by the demand growth too (as the referrals grow)."""
        slots = service.slots_per_week * factor
        start, growth = self.run.start_date, self.demand.growth
        changes = [
            CapacityChange(from_date=start.replace(year=start.year + y), slots_per_week=slots * (1.0 + growth) ** y)
            for y in range(1, self.run.years)
        ]
        staff = [g.model_copy(update={"wte": g.wte * factor}) for g in service.staff]
        return service.model_copy(update={"slots_per_week": slots, "staff": staff, "capacity_changes": changes})

    def design_finance(self, design: str) -> Finance:
        """The money terms ``design`` is settled on: the scenario's, with the cost of its
        mobilisation (``designs.<design>.mobilisation.cost_gbp``) added to the prime contract's
        year-1 mobilisation when the design takes over from another (``inherits``)."""
        d, finance = self.designs[design], self.finance
        cost = d.mobilisation.cost_gbp if d.inherits is not None and d.mobilisation is not None else 0.0
        if not cost or finance.prime_contract is None:
            return finance
        terms = finance.prime_contract
        terms = terms.model_copy(update={"mobilisation_gbp": terms.mobilisation_gbp + cost})
        return finance.model_copy(update={"prime_contract": terms})

    def own_designs(self) -> list[str]:
        """The designs not written as changes to another (``based_on``): where a command that
        works on one design by default picks its last."""
        return [n for n, d in self.designs.items() if d.based_on is None]

    def structure_names(self, designs: list[str] | None = None) -> list[str]:
        """The structures of ``designs`` (default all), each name once, in the order given."""
        chosen = self.designs if designs is None else designs
        return list(dict.fromkeys(n for d in chosen if d in self.designs for n in self.designs[d].structures))

    def with_structure(self, name: str) -> Scenario:
        """The scenario with every design that has structure ``name`` simulating it."""
        designs = {
            d: cfg.model_copy(update={"structure": name}) if name in cfg.structures else cfg for d, cfg in self.designs.items()
        }
        return self.model_copy(update={"designs": designs})

    def capacity_key(self, design: str, place: str, leaf: str = "slots_per_week") -> str:
        """The key path that sets ``leaf`` of a service (or the theatre) as ``design`` runs it:
        its active structure's, its own override, or the shared service's."""
        key = self.designs[design].override_key(design, place, leaf)
        return key or (f"surgery.{leaf}" if place == THEATRE else f"stages.{place}.{leaf}")

    def unfitted_beside_fitted(self, designs: list[str]) -> str | None:
        """A warning when some of ``designs`` are fitted to returns (``fitted_to``) and others are not."""
        fitted = {d: self.designs[d].fitted_to for d in dict.fromkeys(designs) if d in self.designs}
        bare = [d for d, f in fitted.items() if not f]
        if not bare or len(bare) == len(fitted):
            return None
        done = "; ".join(f"{d} to {f}" for d, f in fitted.items() if f)
        one = len(bare) == 1
        return (
            f"{', '.join(bare)} {'is' if one else 'are'} not fitted to any returns, set beside designs that are "
            f"({done}): differences from {'it' if one else 'them'} are partly assumption, not data"
        )

    def design_routing(self, design: str) -> dict[str, dict[str, float]]:
        """A design's triage rows, with its ``triage_hospital_shift`` applied."""
        d = self.designs[design]
        shift = d.triage_hospital_shift
        if not shift or not d.routing:
            return d.routing
        hospital = {n for n, st in self.stages.items() if st.hospital}
        community = {n for n, st in self.stages.items() if st.kind == "clinic" and not st.hospital}
        out = {}
        for need, row in d.routing.items():
            to_hospital = sum(p for k, p in row.items() if k in hospital)
            moved = shift * sum(p for k, p in row.items() if k in community)
            if to_hospital <= 0 or moved <= 0:
                out[need] = row
                continue
            out[need] = {
                k: p * (1.0 - shift) if k in community else p + moved * p / to_hospital if k in hospital else p
                for k, p in row.items()
            }
        return out

    def design_services(self, design: str) -> dict[str, Stage | Surgery]:
        """A design's services and its theatre (``theatre``), as it commissions them."""
        return {**self.design_stages(design), THEATRE: self.design_surgery(design)}

    def costed_providers(self, design: str) -> list[str]:
        """The providers of a design whose costs are given (a service with staff or unit costs,
        or overheads of their own), in the order their services come."""
        out: list[str] = []
        for service in self.design_services(design).values():
            p = service.provider
            if p not in out and (service.costed or self.finance.providers[p].overheads_gbp):
                out.append(p)
        return out

    def design_elements(self, design: str) -> dict[str, str]:
        """What a design pays for, service by service and the theatre, with who provides each."""
        out = {name: stage.provider for name, stage in self.design_stages(design).items()}
        surgery = self.design_surgery(design)
        out[THEATRE] = surgery.provider
        if surgery.overflow_provider is not None:
            out[THEATRE_OVERFLOW] = surgery.overflow_provider
        return out

    def contract_terms(self, design: str) -> PrimeContract | TariffShare | None:
        """The integrator's terms a design is paid under; None for a design paid by activity."""
        payment = self.designs[design].payment
        return None if payment == "activity" else getattr(self.finance, payment)

    def in_scope(self, design: str) -> dict[str, bool]:
        """For each of a design's elements, whether its integrator is paid for it (all are, with none)."""
        terms = self.contract_terms(design)
        scope = None if terms is None else terms.scope
        # operations overflowing to another provider are the theatre's, for the contract's scope
        return {
            e: terms is not None and (scope is None or (THEATRE if e == THEATRE_OVERFLOW else e) in scope)
            for e in self.design_elements(design)
        }

    def design_surgery(self, design: str | None) -> Surgery:
        """The theatre as a design commissions it (``stage_overrides.theatre``)."""
        extra = self.designs[design].overrides().get(THEATRE) if design is not None else None
        factor = self._carried_factors(design).get(THEATRE) if design is not None else None
        if not extra and factor is None:
            return self.surgery
        kept = self.surgery.model_dump(
            exclude={"slots_per_week"} if extra and "staff" in extra and "slots_per_week" not in extra else set()
        )
        surgery = Surgery.model_validate(over(kept, extra or {}))
        return surgery if factor is None else self._carried(surgery, factor)


def onward_row(row: dict[str, float], origin: str) -> dict[str, float]:
    """An onward-referral row as seen from ``origin``: a service does not refer to itself.

    The remaining destinations keep their relative weights; a row that names only the
    origin is kept as it is.
    """
    rest = {k: p for k, p in row.items() if k != origin and p > 0}
    total = sum(rest.values())
    return {k: p / total for k, p in rest.items()} if total > 0 else dict(row)
