"""A service's capacity, as the stages and the theatre give it: dated changes, the policy
that answers demand, and the staff whose sessions make the slots."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from sim.scenario.fields import MAX_DESCRIPTION, NAME_PATTERN, Money, Slots, Strict


class CapacityChange(Strict):
    """A new weekly capacity from a date onward."""

    from_date: date
    slots_per_week: Slots


POLICY_KINDS = ("fixed", "follows_demand", "managed")


class CapacityPolicy(Strict):
    """How a service's (or the theatre's) capacity answers its demand during the contract.

    * ``fixed``: the slots the file sets, and its ``capacity_changes``, whatever happens.
    * ``follows_demand``: every ``review_days`` the plan is set to the slots the file sets times
      the growth of expected demand since the contract start (``demand.growth``), and the new
      capacity runs ``lag_days`` later, as a commissioner planning each year's activity buys.
    * ``managed``: every ``review_days`` the list is looked at; when it passes ``add_at`` one more
      session of ``session_slots`` a week is added, and when it falls past ``remove_at`` one is
      taken away, each ``lag_days`` after the decision (one change at a time), up to
      ``max_sessions`` a week beyond the file's capacity. Each added session costs its provider
      ``premium_per_session_gbp`` (waiting-list initiative rates) besides its slots' own costs.

    The list a managed service watches (``measure``) is ``list``: patients ready to be offered a
    slot (not those still being booked, whom a session cannot see sooner), or
    ``within_18w_pct``: the share of those waiting there whose wait (their RTT clock where one
    runs, else since referral there) is under 18 weeks. It acts from the start of contract year
    ``from_year``; before that (and in the warm-up) capacity is as the file sets it. Added
    sessions run on the service's working days, bank holidays and cancelled theatre days apart.
    """

    kind: Literal["fixed", "follows_demand", "managed"] = "fixed"
    evidence: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = "assumed"
    """Where its settings come from (a source), or ``assumed``."""
    from_year: int = Field(1, ge=1, le=50)
    review_days: int = Field(7, ge=1, le=366)
    lag_days: int = Field(28, ge=0, le=730)
    measure: Literal["list", "within_18w_pct"] = "list"
    add_at: float | None = Field(None, ge=0.0, le=1e7)
    """``list``: add a session when the list is at least this many patients; ``within_18w_pct``:
    when the share within 18 weeks is at most this."""
    remove_at: float | None = Field(None, ge=0.0, le=1e7)
    """``list``: take one away when the list is at most this; ``within_18w_pct``: when the share is at least this."""
    session_slots: float = Field(10.0, gt=0.0, le=10_000.0)
    """Slots one added session holds (theatre: day-case slots)."""
    max_sessions: int = Field(0, ge=0, le=100_000)
    """Sessions a week that may be added at most."""
    premium_per_session_gbp: Money = 0.0

    @model_validator(mode="after")
    def _triggers(self) -> CapacityPolicy:
        if self.kind != "managed":
            return self
        if self.add_at is None or self.remove_at is None:
            raise ValueError(
                "a managed policy needs add_at and remove_at: the list that adds a session and the one that takes it away"
            )
        if self.measure == "list" and self.remove_at >= self.add_at:
            raise ValueError(
                f"remove_at ({self.remove_at:g}) must be below add_at ({self.add_at:g}): a list between them is left alone"
            )
        if self.measure == "within_18w_pct":
            if max(self.add_at, self.remove_at) > 100:
                raise ValueError("within_18w_pct triggers are percentages, 0 to 100")
            if self.remove_at <= self.add_at:
                raise ValueError(
                    f"remove_at ({self.remove_at:g}) must be above add_at ({self.add_at:g}): a session is added when the "
                    "share within 18 weeks falls to add_at and taken away when it climbs to remove_at"
                )
        if self.max_sessions < 1:
            raise ValueError("a managed policy needs max_sessions of 1 or more: the sessions a week it may add")
        return self

    @property
    def acts(self) -> bool:
        return self.kind != "fixed"


class Staff(Strict):
    """One staff group giving a service its capacity: whole-time equivalents, the clinical
    sessions each works a week, the slots a session holds, and what a WTE costs a year (pay
    and on-costs, at year-1 prices)."""

    group: Annotated[str, Field(pattern=NAME_PATTERN)] = "clinicians"
    """Who they are, e.g. ``extended_scope_physiotherapists``, ``consultants``."""
    wte: Annotated[float, Field(ge=0.0, le=100_000)]
    sessions_per_wte: Annotated[float, Field(gt=0.0, le=20.0)] = 9.0
    """Clinical sessions a week per whole-time equivalent (a session is half a day)."""
    slots_per_session: Annotated[float, Field(gt=0.0, le=1_000.0)]
    cost_per_wte_gbp: Money = 0.0

    @property
    def slots_per_week(self) -> float:
        return self.wte * self.sessions_per_wte * self.slots_per_session


def slots_from_staff(data: Any) -> Any:
    """Capacity given as staff: slots a week are what they give, and a value set beside them must agree."""
    if not isinstance(data, dict) or not data.get("staff"):
        return data
    try:
        staff = [Staff.model_validate(x) for x in data["staff"]]
    except Exception:  # the field's own validation reports it, at its key (not a missing slots_per_week)
        return {"slots_per_week": 0.0, **data}
    given = sum(x.slots_per_week for x in staff)
    if "slots_per_week" in data and abs(float(data["slots_per_week"]) - given) > 1e-9 * max(1.0, given):
        raise ValueError(
            f"slots_per_week = {data['slots_per_week']} disagrees with the staff's {given:,.6g} a week (wte x sessions_per_wte "
            "x slots_per_session): give capacity one way, or make them agree; a staffed service's capacity changes "
            "with its staff, e.g. --set stages.<service>.staff.0.wte=7"
        )
    return {**data, "slots_per_week": given}


def scaled_staff(staff: list[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    """Staff groups (as scenario values) with each group's whole-time equivalents times
    ``factor``: the slots they give scale with them."""
    return [{**g, "wte": float(g["wte"]) * factor} for g in staff]
