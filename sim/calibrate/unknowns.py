"""The unknowns a calibration fits, chosen from the design and the area's returns, with the
returns' stock-and-flow arithmetic for their first guesses.

Each unknown is a :class:`~sim.calibrate.fit.Knob` on a scenario key: a clinic's capacity, the
median and spread of its delay before a first slot, its decisions at follow-up, stale pathways
and day-case procedures; the delays of therapy a fitted triage sends patients on to; the
theatre's capacity and spread; a factor on each group of lists' removal rates; and, when asked,
the referrals. :class:`Unknowns` collects them with the keys they set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sim.base.lazy import later
from sim.calibrate.fit import LN2, MEDIAN_DELAY, REMOVAL_SCALE, Knob
from sim.calibrate.stockflow import LONG_WAIT_WEEKS, MonthFlow, Rates, month_flow, rates
from sim.model.capacity import effective_weekly
from sim.rtt.returns import returns_for
from sim.scenario.fields import removal_bands
from sim.scenario.schema import THEATRE, Scenario
from sim.scenario.stages import Stage
from sim.scenario.surgery import Surgery
from sim.scenario.uncertainty import parse_uncertainty

pd = later("pandas")

CLINICS = "clinics"


MAX_LOAD = 1.05
"""The fit keeps each capacity at or above the expected demand over this: a list that holds
steady from month to month, as the published ones do, says capacity about meets demand; a
capacity cut further would make waits by turning patients away, and halve the completed
pathways."""


MAX_MEDIAN_DELAY_DAYS = 70
"""The longest median delay the fit tries (unless the scenario's is longer): beyond ten weeks
a delay stands in for a queue, which capacity should make."""


MAX_SPREAD_DAYS = 180
"""The longest mean further booking delay the fit tries."""

REMOVAL_FREEDOM = 2.0
"""The fit keeps removal rates within this factor of what the returns' arithmetic gives: the
returns do not publish removals, so nothing else would hold the fit from shortening waits by
removing patients instead of treating them."""

MAX_REMOVAL_RATE = 0.5
"""A weekly removal rate the fit does not go past (half the list a week)."""

MAX_STALE_SHARE = 0.3
"""The largest share of a list's referrals the fit calls stale, whatever the removals: past it
the list would be mostly pathways nobody means to see."""

MAX_PROCEDURE_SHARE = 0.5
"""The largest share of a surgical clinic's treated patients the fit gives a day-case
procedure: past half, the clinic would be an injection service, not a clinic."""


def removal_group(place: str) -> str:
    """Which removal factor a list's rates follow: the surgical list's or the clinics'."""
    return THEATRE if place == THEATRE else CLINICS


def removal_knob(group: str) -> str:
    return f"{REMOVAL_SCALE}.{group}"


@dataclass
class Arithmetic:
    """The stock-and-flow reading of one function's returns."""

    function: str
    flows: list[MonthFlow]
    rates: Rates
    removal_table: list[tuple[float, float]]
    notes: list[str]


def arithmetic(table: pd.DataFrame, commissioner: str, function: str, months: list[str]) -> Arithmetic:
    """Stops, clock starts and removals of ``function`` over ``months`` (the first month only
    starts the list), and the removal table they give."""

    def counts(month: str, part: str):
        return returns_for(table, commissioner, month, function, part)[0].astype(float)

    flows = [
        month_flow(b, counts(a, "incomplete"), counts(b, "incomplete"), counts(b, "admitted"), counts(b, "nonadmitted"))
        for a, b in pairwise(months)
    ]
    notes: list[str] = []
    if not flows:
        nan = float("nan")
        return Arithmetic(function, [], Rates(nan, nan, nan, nan, nan, nan), [], ["one month gives no flows"])
    r = rates(flows)
    table_rates = []
    for label, value in (("under", r.removal_short), ("over", r.removal_long)):
        if not value > 0:
            notes.append(
                f"removals of those waiting {label} {LONG_WAIT_WEEKS} weeks come out at {value:.4f} a week: more "
                "stops than the list can supply (clocks starting and stopping inside a month, transfers in); 0 used"
            )
            value = 0.0
        table_rates.append(min(value, MAX_REMOVAL_RATE))
    return Arithmetic(function, flows, r, [(0.0, table_rates[0]), (float(LONG_WAIT_WEEKS), table_rates[1])], notes)


def at_load_one(s: Scenario, design: str, place: str, load: dict[str, float]) -> float:
    """The slots a week (as the scenario counts them, before holidays and cancellations) that
    meet the expected demand exactly: where the search starts, since a long published list
    says the service works at its capacity."""
    nominal = s.design_surgery(design).slots_per_week if place == THEATRE else s.design_stages(design)[place].slots_per_week
    effective = effective_weekly(s, place, design)
    return float(f"{load[place] * nominal / effective:.4g}") if effective > 0 else nominal


def months_text(months: list[str]) -> str:
    """The months fitted, as a knob's reason names them."""
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def delay_knobs(place: str, st: Stage, median_why: str, spread_why: str, derived: dict[str, str]) -> list[Knob]:
    """The median delay before a first slot at ``place`` (a stage's override key) and its spread,
    rather than the lead and the spread: a spread moved at a fixed median changes the tail
    alone, a move the search can make. The lead derived from them is entered in ``derived``."""
    median = st.booking_lead_days + LN2 * st.booking_lead_spread_days
    derived[f"{place}.booking_lead_days"] = f"{place}.{MEDIAN_DELAY}"
    return [
        Knob(f"{place}.{MEDIAN_DELAY}", median, 0, max(MAX_MEDIAN_DELAY_DAYS, median), False, 7, median_why),
        Knob(f"{place}.booking_lead_spread_days", st.booking_lead_spread_days, 0, MAX_SPREAD_DAYS, False, 14, spread_why),
    ]


def removal_scale_now(stages: dict[str, Stage], surgery: Any, base: dict[str, list[tuple[float, float]]], group: str) -> float:
    """The factor the scenario's own removal rates are on the returns' (the first list of
    ``group`` with a rate in both): where a refit starts."""
    for place, table in base.items():
        if removal_group(place) != group:
            continue
        own = removal_bands((surgery if place == THEATRE else stages[place]).removal_rate_per_week)
        pairs = [(o, b) for (_, o), (_, b) in zip(own, table, strict=False) if o > 0 and b > 0]
        if pairs:
            return pairs[-1][0] / pairs[-1][1]
    return 1.0


@dataclass(kw_only=True)
class Unknowns:
    """The unknowns chosen for one design, in the order the fit takes them, and what setting
    them takes: the keys derived from them, the removal tables a scale multiplies, the staff a
    capacity scales, the stale pathways' rates. Each ``add_`` method chooses one kind."""

    scenario: Scenario
    design: str
    commissioner: str
    months_text: str
    """The months fitted, as the knobs' reasons name them."""
    from_scenario: bool
    """Start the search from the scenario's own values (a refit), not from the arithmetic."""
    load: dict[str, float]
    """The expected demand on each place, as :func:`sim.analysis.flows.stage_load` gives it."""
    knobs: list[Knob] = field(default_factory=list)
    derived: dict[str, str] = field(default_factory=dict)
    base_removals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    staffed: dict[str, tuple[list[dict[str, Any]], float]] = field(default_factory=dict)
    stale_rates: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    listing: list[str] = field(default_factory=list)
    """The functions whose admitted pathways are fitted: a clinic of theirs lists for surgery."""
    stages: dict[str, Stage] = field(init=False)
    surgery: Surgery = field(init=False)
    over: str = field(init=False)
    """The key of the design's stage overrides, which the knobs set."""

    def __post_init__(self) -> None:
        self.stages = self.scenario.design_stages(self.design)
        self.surgery = self.scenario.design_surgery(self.design)
        self.over = f"designs.{self.design}.stage_overrides"

    def add_clinics(self, f: str, clinics: list[str], arith: Arithmetic) -> None:
        """The unknowns of each clinic reporting under function ``f``: its capacity, the delays
        before a first slot, decisions at follow-up, stale pathways and day-case procedures, and
        the removal table its list starts from."""
        scenario, design, stages, over = self.scenario, self.design, self.stages, self.over
        months_text, commissioner, derived = self.months_text, self.commissioner, self.derived
        for c in clinics:
            st = stages[c]
            # the knob sets the value given, which a capacity basis scales: start and bounds as given
            slots = at_load_one(scenario, design, c, self.load) / scenario.carried_factor(design, c)
            begin = st.slots_per_week / scenario.carried_factor(design, c) if self.from_scenario else slots
            self.knobs.append(Knob(f"{over}.{c}.slots_per_week", begin, slots / MAX_LOAD, slots * 3, True, 0.15,
                                   f"{f} incomplete pathways and waits, {months_text} ({commissioner})"))  # fmt: skip
            if st.staff:  # slots and staff may not disagree: the staff are scaled instead
                self.staffed[c] = ([g.model_dump() for g in st.staff], st.slots_per_week)
                derived[f"{over}.{c}.staff"] = f"{over}.{c}.slots_per_week"
            self.knobs += delay_knobs(f"{over}.{c}", st, f"{f} median waits, {months_text} ({commissioner})",
                                      f"{f} spread of waits, {months_text} ({commissioner})", derived)  # fmt: skip
            self.knobs.append(Knob(f"{over}.{c}.decision_at_followup_share", st.decision_at_followup_share, 0, 0.9,
                                   False, 0.2, f"{f} pathways still open after a first attendance, {months_text} "
                                   f"({commissioner})"))  # fmt: skip
            table_f = arith.removal_table
            if not table_f or not any(r > 0 for _, r in table_f):
                table_f = removal_bands(st.removal_rate_per_week)
                self.notes.append(f"{f}: the returns give no removal rate; the scenario's own rates for {c} are scaled")
            self.base_removals[c] = table_f
            long_rate, share = arith.removal_table[-1][1] if arith.removal_table else 0.0, arith.rates.removals_share
            if long_rate > 0 and share > 0:
                # Stale pathways (never to be seen, on the list till validation) end as removals,
                # so they are at most the returns' removals; they leave at the rate the returns
                # show for those waiting longest, where stale pathways gather.
                self.knobs.append(Knob(f"{over}.{c}.stale_share", st.stale_share, 0, min(share, MAX_STALE_SHARE), False,
                                       0.05, f"{f} incomplete pathways' long waits beyond those completed, within the "
                                       f"returns' removals ({share:.0%} of exits), {months_text} ({commissioner})"))  # fmt: skip
                self.stale_rates[c] = long_rate
                derived[f"{over}.{c}.stale_removal_rate_per_week"] = f"{over}.{c}.stale_share"
            if any(stages[other].surgical for other in clinics):
                # admitted pathways beyond the operations listed: day-case procedures, from any
                # clinic of a function whose admitted pathways are fitted (a hub's clinic too)
                self.knobs.append(Knob(f"{over}.{c}.procedure_share", st.procedure_share, 0, MAX_PROCEDURE_SHARE, False,
                                       0.1, f"{f} admitted pathways beyond the operations listed (day-case procedures), "
                                       f"{months_text} ({commissioner})"))  # fmt: skip
                if f not in self.listing:
                    self.listing.append(f)

    def add_therapy_delays(self, functions: list[str]) -> None:
        """A triage reporting under a function fitted keeps its clocks running while patients wait
        for therapy (physio, podiatry), so those waits are the function's too: their delays are
        unknowns, their capacity (a block contract's slots) is not."""
        over, months_text, commissioner = self.over, self.months_text, self.commissioner
        triaged = [f for f in functions if any(st.kind == "triage" and st.rtt_function == f for st in self.stages.values())]
        if triaged:
            fitted = {k.key for k in self.knobs}
            for name, st in self.stages.items():
                if st.kind == "therapy" and f"{over}.{name}.{MEDIAN_DELAY}" not in fitted:  # not a clinic fitted already
                    why = f"{triaged[0]} waits, whose clocks run on to {name} after triage, {months_text} ({commissioner})"
                    self.knobs += delay_knobs(f"{over}.{name}", st, f"median {why}", f"spread of {why}", self.derived)

    def add_theatre(self, arith: dict[str, Arithmetic]) -> None:
        """The theatre's capacity and the spread of its booking delay, and the removal table its
        list starts from, when a function's admitted pathways are fitted."""
        if not self.listing:
            return
        scenario, design, surgery, over, listing = self.scenario, self.design, self.surgery, self.over, self.listing
        months_text, commissioner = self.months_text, self.commissioner
        slots = at_load_one(scenario, design, THEATRE, self.load) / scenario.carried_factor(design, THEATRE)
        begin = surgery.slots_per_week / scenario.carried_factor(design, THEATRE) if self.from_scenario else slots
        self.knobs.append(Knob(f"{over}.{THEATRE}.slots_per_week", begin, slots / MAX_LOAD, slots * 3, True, 0.1,
                               f"{', '.join(listing)} admitted and incomplete pathways and their waits, {months_text} "
                               f"({commissioner})"))  # fmt: skip
        self.knobs.append(Knob(f"{over}.{THEATRE}.booking_lead_spread_days", surgery.booking_lead_spread_days, 0,
                               MAX_SPREAD_DAYS, False, 14,
                               f"{', '.join(listing)} spread of admitted waits, {months_text} ({commissioner})"))  # fmt: skip
        self.base_removals[THEATRE] = arith[listing[0]].removal_table or removal_bands(surgery.removal_rate_per_week)
        if not any(r > 0 for _, r in self.base_removals[THEATRE]):
            self.base_removals[THEATRE] = removal_bands(surgery.removal_rate_per_week)

    def add_removal_scales(self) -> None:
        """One factor on the removal tables of each group of lists (outpatient, surgical) that
        has a rate to scale: each list's removal rates are derived from it."""
        base_removals = self.base_removals
        for place in base_removals:
            self.derived[f"{self.over}.{place}.removal_rate_per_week"] = removal_knob(removal_group(place))
        for group, what in ((CLINICS, "outpatient lists"), (THEATRE, "the surgical list")):
            top = max((r for place, t in base_removals.items() if removal_group(place) == group for _, r in t), default=0.0)
            if top > 0:
                high = min(REMOVAL_FREEDOM, MAX_REMOVAL_RATE / top)
                begin = removal_scale_now(self.stages, self.surgery, base_removals, group) if self.from_scenario else 1.0
                self.knobs.append(Knob(removal_knob(group), begin, 1 / REMOVAL_FREEDOM, high, True, 0.35,
                                       f"incomplete pathways and their waits on {what}, from the returns' removals"))  # fmt: skip

    def add_referrals(self, functions: list[str]) -> None:
        """The referrals a year, within the scenario's own range for them where it gives one."""
        scenario = self.scenario
        n = scenario.demand.referrals_per_year
        low, high, within = n / 3, n * 3, ""
        stated = scenario.uncertainty.get("demand.referrals_per_year")
        if stated is not None:  # the area's own range for its referrals bounds the fit
            low, high = parse_uncertainty({"demand.referrals_per_year": stated}, scenario, "")["demand.referrals_per_year"].ends(
                n
            )
            within = f" within the scenario's range {low:,.0f}-{high:,.0f}"
        self.knobs.append(Knob("demand.referrals_per_year", n, low, high, True, 0.1,
                               f"clock stops and starts of {', '.join(functions)}{within}, {self.months_text} "
                               f"({self.commissioner})"))  # fmt: skip
