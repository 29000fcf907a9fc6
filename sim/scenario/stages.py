"""The ``[stages]`` section: appointment-based services (triage, therapy, clinics, diagnostics)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.capacity import CapacityChange, CapacityPolicy, Staff, slots_from_staff
from sim.scenario.fields import Money, Need, Probability, RemovalRate, Slots, Strict, check_removals, removal_bands

TreatmentFunction = Annotated[str, Field(pattern=r"^[0-9A-Z]{3}$")]
OTHER_FUNCTION = "X01"
"""The NHS treatment function "Other": where a consultant-led service without its own code reports."""


def _check_stale(service: Stage) -> Stage:
    """Stale pathways leave only at validation: without a rate they would wait for ever."""
    if service.stale_share > 0 and removal_bands(service.stale_removal_rate_per_week)[-1][1] <= 0:
        raise ValueError(
            f"stale_share {service.stale_share:g} needs stale_removal_rate_per_week above 0 in its last band: "
            "stale pathways leave the list only when validation takes them off"
        )
    return service


class Stage(Strict):
    """An appointment-based service: a waiting list offered a number of slots each working day.

    Capacity is ``slots_per_week``, or the ``staff`` that give it. What it costs its provider:
    the staff, ``cost_per_slot_gbp`` for each slot offered (rooms, sessions bought, used or
    not) and ``cost_per_contact_gbp`` for each appointment attended (all at year-1 prices).
    """

    kind: Literal["triage", "therapy", "clinic", "diagnostic"] = "clinic"
    """``diagnostic``: tests (MRI, ultrasound, X-ray) ordered by the clinics that name it in their
    ``tests``; after the test the patient goes back to the clinic that ordered it for the decision."""
    provider: str
    consultant_led: bool = False
    treatment_function: TreatmentFunction | None = None
    """The NHS treatment function code its RTT pathways report under (``110``, ``410``...);
    consultant-led services only, ``X01`` (Other) when not given."""
    hospital: bool = False
    slots_per_week: Slots
    staff: list[Staff] = Field(default_factory=list, max_length=50)
    cost_per_slot_gbp: Money = 0.0
    cost_per_contact_gbp: Money = 0.0
    working_days: int = Field(5, ge=1, le=7)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    capacity_policy: CapacityPolicy = Field(default_factory=CapacityPolicy)
    booking_lead_days: int = Field(0, ge=0, le=365)
    booking_lead_spread_days: float = Field(0.0, ge=0.0, le=365.0)
    """Mean of a further delay, exponentially distributed, before a routine patient can be
    offered a first slot: later dates chosen, appointments moved, letters lost (0: none)."""
    booking: Literal["in_turn", "long_waiters_first"] = "in_turn"
    long_wait_weeks: float = Field(40.0, gt=0.0)
    dna_first: Probability = 0.0
    dna_followup: Probability = 0.0
    max_dna: int = Field(2, ge=1, le=10)
    dna_rebook_days: int = Field(7, ge=1)
    dna_return_rate: Probability = 0.0
    """Of the patients discharged after missed appointments, the share who go back to their GP
    and are referred again after the GP's wait (the others leave)."""
    contacts_per_episode: float = Field(1.0, ge=1.0, le=50.0)
    contacts_per_episode_by_need: dict[Need, Annotated[float, Field(ge=1.0, le=50.0)]] = Field(default_factory=dict)
    """Contacts of a course by the patient's need, where it differs from ``contacts_per_episode``."""
    followup_interval_days: int = Field(14, ge=1)
    resolves: dict[Need, Probability] = Field(default_factory=dict)
    assessment_only_if_unresolved: bool = True
    list_for_surgery: dict[Need, Probability] = Field(default_factory=dict)
    decision_at_followup_share: Probability = 0.0
    """Share of first attendances (not triage, not rehabilitation) whose decision waits for a
    follow-up ``followup_interval_days`` later (tests, results, a trial of time): the RTT
    clock runs on to it, and listing or treatment start there."""
    procedure_share: Probability = 0.0
    """Of the patients whose treatment starts here after assessment (not listed for surgery),
    the share whose first treatment is a day-case procedure on the theatre list (an injection
    under image guidance, a manipulation under anaesthesia): it waits on the surgical list,
    takes ``surgery.procedure_slots``, stops the RTT clock as an *admitted* pathway, and the
    course goes on here after it. Not an operation: no listing for surgery, no bed."""
    tariff_first: Money = 0.0
    tariff_followup: Money = 0.0
    diagnostics_per_first: Money = 0.0
    tests: dict[str, Probability] = Field(default_factory=dict)
    """Diagnostic services (stages of kind ``diagnostic``) and the share of first attendances that
    order a test there, unless the patient has had it already; the decision then waits for the
    test and a follow-up here ``followup_interval_days`` after it, the RTT clock running on."""
    advice_and_guidance_share: Probability = 0.0
    """Share of referrals without surgical need answered by advice to the GP, no appointment."""
    tariff_advice_and_guidance: Money = 0.0
    """Price of a referral answered by advice and guidance."""
    advice_and_guidance_return_share: Probability = 0.0
    """Of the patients advice and guidance resolved, the share who come back later: the GP refers
    them again after the GP's wait."""
    pifu_share: Probability = 0.0
    """Share of follow-ups replaced by patient-initiated follow-up."""
    pifu_return_rate: Probability = 0.3
    """Of those, the share of patients who do come back."""
    overflow_to: str | None = None
    """A service (e.g. the independent sector) that takes routine patients waiting too long here."""
    overflow_after_weeks: float = Field(18.0, gt=0.0)
    removal_rate_per_week: RemovalRate = 0.0
    """Removals without treatment: recovered, gone elsewhere or removed at validation."""
    stale_share: Probability = 0.0
    """Share of those referred here whose pathway is stale: never offered a slot (treated
    elsewhere, moved away, recovered, not reachable), it stays on the list, clock running,
    until validation takes it off at ``stale_removal_rate_per_week``."""
    stale_removal_rate_per_week: RemovalRate = 0.0
    """Share of the stale pathways still on the list that validation takes off each week."""

    _removals = field_validator("removal_rate_per_week", "stale_removal_rate_per_week")(check_removals)
    _stale = model_validator(mode="after")(_check_stale)
    _staffed = model_validator(mode="before")(slots_from_staff)

    @model_validator(mode="after")
    def _function(self) -> Stage:
        if self.treatment_function is not None and not self.consultant_led:
            raise ValueError("treatment_function is for consultant-led services only (RTT returns cover no other)")
        if self.procedure_share and self.kind != "clinic":
            raise ValueError(f"procedure_share is for clinics; a {self.kind} service gives no day-case procedures")
        return self

    def contacts(self, need: str) -> float:
        """Contacts of a course for a patient of this need."""
        return self.contacts_per_episode_by_need.get(need, self.contacts_per_episode)  # type: ignore[call-overload]

    @property
    def rtt_function(self) -> str | None:
        """The treatment function its RTT pathways report under; None when not consultant-led."""
        return (self.treatment_function or OTHER_FUNCTION) if self.consultant_led else None

    @property
    def costed(self) -> bool:
        """Whether what it costs its provider is given (staff costs or unit costs)."""
        return bool(self.cost_per_slot_gbp or self.cost_per_contact_gbp or any(s.cost_per_wte_gbp for s in self.staff))

    @property
    def surgical(self) -> bool:
        """Whether this clinic can list patients for surgery."""
        return any(p > 0 for p in self.list_for_surgery.values())
