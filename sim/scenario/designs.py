"""The ``[designs]`` section: ways of organising the pathway, with their overrides of the
services, their structures, switch-overs and the capacity basis they were fitted at."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim.scenario.fields import MAX_DESCRIPTION, NAME_PATTERN, Money, Need, Probability, Strict, check_row


class Mobilisation(Strict):
    """How a design that takes over from another (``inherits``) reaches full strength.

    Over the first ``months`` after the switch, the capacity of ``services`` (default: those
    the inherited design did not have; ``theatre`` may be named) rises in a straight line
    from ``capacity_from`` of its planned slots to all of them, and the share of triage
    decisions made on the patient's need rises from ``triage_accuracy_from`` to 1: the
    others route the patient as the average referral would be routed, blind to their need.

    ``cost_gbp`` is the one-off cost of mobilising (recruiting and training the new teams, IT,
    estates, running beside the old services while patients move): charged in year 1 of a
    prime contract, on top of ``finance.prime_contract.mobilisation_gbp``, only when the
    design takes over (a steady-state run has nothing to mobilise).
    """

    months: int = Field(6, ge=1, le=60)
    capacity_from: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    triage_accuracy_from: Probability = 1.0
    services: list[str] | None = None
    cost_gbp: Money = 0.0


class CapacityBasis(Strict):
    """The demand a design's capacities were fitted at, and whether they follow demand.

    A design fitted to one era's returns (Bedfordshire's 2009/10 system) and carried forward
    to another: its services' slots (``services``; default those whose capacity the design's
    ``stage_overrides`` set, the theatre included) were fitted for ``referrals_per_year``.
    With ``follows = "demand"`` they are scaled by the scenario's referrals over that, and grow
    with ``demand.growth`` from each contract year's start, as a commissioner keeping up with
    demand would buy; with ``follows = "fitted"`` they are held as fitted.
    """

    referrals_per_year: Annotated[float, Field(gt=0.0, le=10_000_000)]
    follows: Literal["demand", "fitted"] = "demand"
    services: list[str] | None = None


class Structure(Strict):
    """One explanation of a design's waits that its returns cannot tell from another.

    Where the published returns do not tell a service's capacity, its waits fit as well with a
    list that is a queue at a load near 1 as with a clinic below its capacity whose waits are
    booking delays; the two answer a capacity question very differently. A structure holds one
    explanation's fitted values (``stage_overrides``, over the design's own), and ``why`` says
    what it assumes. ``msksim calibrate`` writes them; commands run a design under each.
    """

    why: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    fitted_to: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    stage_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)


MERGED = ("capacity_policy",)
"""Tables of a service an override sets key by key: what it leaves out stays as it was."""


def over(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A service's settings (or an override) with ``extra`` set over them: its keys replace
    ``base``'s, but for the tables of :data:`MERGED`, which it sets key by key."""
    out = {**base, **extra}
    for key in MERGED:
        if isinstance(extra.get(key), dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **extra[key]}
    return out


class Design(Strict):
    """One way of organising the pathway.

    ``inherits`` names the design it takes over from: the warm-up runs under that design and
    at the contract start its patients carry over, keeping their places on the lists of the
    services this design also runs, and their RTT clocks (``sim.model.switchover``).
    """

    services: list[str] = Field(min_length=1)
    entry: str = "gp"
    unresolved: Literal["gp", "onward"] = "gp"
    payment: Literal["activity", "prime_contract", "tariff_share"] = "activity"
    routing: dict[Need, dict[str, Probability]] = Field(default_factory=dict)
    onward: dict[Need, dict[str, Probability]] = Field(default_factory=dict)
    onward_delay_days: int = Field(2, ge=0)
    advice_return_days: int = Field(56, ge=1)
    max_onward: int = Field(4, ge=1, le=20)
    stage_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    inherits: str | None = None
    mobilisation: Mobilisation | None = None
    capacity_basis: CapacityBasis | None = None
    based_on: str | None = None
    """The design whose keys this one starts from (merged when the file is read: what it sets
    wins, and ``[uncertainty]`` draws on the other's keys are shared with it)."""
    structures: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Structure] = Field(default_factory=dict)
    """Explanations of the design's waits the returns cannot tell apart (:class:`Structure`),
    the preferred first."""
    structure: str = ""
    """The structure simulated (empty: the first of :attr:`structures`)."""
    fitted_to: str = ""
    """What the design's waits and activity were fitted to (returns and months), for the record and
    so a comparison says when a fitted design is set beside one that is not; empty when not fitted.
    A design ``based_on`` another does not inherit it: its changes are not what was fitted."""
    triage_hospital_shift: Probability = 0.0
    """Of the referrals a triage row sends to a community clinic (a clinic not in hospital), the
    share sent to that row's hospital clinics instead, in proportion to their shares (rows with
    none are left alone): a triage that keeps fewer out of hospital than its rows claim."""

    def carried_services(self) -> list[str]:
        """The services (and ``theatre``) whose capacity follows :attr:`capacity_basis`."""
        basis = self.capacity_basis
        if basis is None:
            return []
        if basis.services is not None:
            return list(basis.services)
        return [n for n, o in self.overrides().items() if "slots_per_week" in o or "staff" in o]

    @property
    def active_structure(self) -> str:
        """The structure simulated: the one named by :attr:`structure`, else the first (empty: none)."""
        return self.structure or next(iter(self.structures), "")

    def overrides(self) -> dict[str, dict[str, Any]]:
        """The design's ``stage_overrides`` with its active structure's set over them."""
        structure = self.structures.get(self.active_structure)
        if structure is None or not structure.stage_overrides:
            return self.stage_overrides
        out = {name: dict(o) for name, o in self.stage_overrides.items()}
        for name, o in structure.stage_overrides.items():
            out[name] = over(out.get(name, {}), o)
        return out

    def override_key(self, design: str, place: str, leaf: str) -> str | None:
        """The key path that sets ``leaf`` of ``place`` in this design (named ``design``): the
        active structure's where it sets it, else the design's own override; None for neither."""
        structure = self.structures.get(self.active_structure)
        if structure is not None and leaf in structure.stage_overrides.get(place, {}):
            return f"designs.{design}.structures.{self.active_structure}.stage_overrides.{place}.{leaf}"
        if leaf in self.stage_overrides.get(place, {}):
            return f"designs.{design}.stage_overrides.{place}.{leaf}"
        return None

    @field_validator("structure")
    @classmethod
    def _known_structure(cls, v: str, info: ValidationInfo) -> str:
        structures = info.data.get("structures", {})
        if v and v not in structures:
            known = ", ".join(structures) or "it has none"
            raise ValueError(f"structure '{v}' is not one of the design's structures ({known})")
        return v

    @model_validator(mode="before")
    @classmethod
    def _no_clock(cls, data: Any) -> Any:
        if isinstance(data, dict) and "clock" in data:
            raise ValueError(
                "'clock' is no longer a setting: every design follows the national RTT rules "
                "(docs/model.md, 'The RTT clock'); delete the key"
            )
        return data

    @field_validator("routing", "onward")
    @classmethod
    def _rows(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {need: check_row(row, f"row '{need}'") for need, row in v.items()}
