"""The national RTT clock rules, clause by clause, in both kinds of design; the returns balance.

Each clause is driven by hand on a small scenario whose probabilities are 0 or 1, so the
event that should start, carry or stop a clock happens for certain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.model.clocks import ADMITTED, NONADMITTED, PARTS, REMOVALS, STARTS, TRANSFERS_IN, TRANSFERS_OUT, band
from sim.model.pathway import Pathway
from sim.model.patient import NO_CLOCK, Patient
from sim.rtt.bands import BAND_LABELS, band_of
from sim.rtt.returns import read_returns, returns_for
from sim.scenario.schema import Scenario, ScenarioError
from tests.conftest import AT_CAPACITY_SET, bundled, scenario_from

NEEDS = ("self_management", "physio", "specialist", "surgical")


def small(**stage_changes: dict[str, Any]) -> dict[str, Any]:
    """Triage (an interface service), physio (not consultant-led), orthopaedics (110, lists
    surgical need) and rheumatology (410); a GP design and a single-point-of-access design."""
    stages = {
        "triage": {"kind": "triage", "provider": "p", "consultant_led": True, "slots_per_week": 700, "working_days": 7},
        "physio": {
            "kind": "therapy", "provider": "p", "slots_per_week": 700, "working_days": 7,
            "resolves": {"physio": 1.0, "self_management": 1.0},
        },
        "ortho": {
            "provider": "p", "consultant_led": True, "treatment_function": "110", "slots_per_week": 700,
            "working_days": 7, "resolves": {"specialist": 1.0}, "list_for_surgery": {"surgical": 1.0},
        },
        "rheum": {
            "provider": "p", "consultant_led": True, "treatment_function": "410", "slots_per_week": 700,
            "working_days": 7, "resolves": {"specialist": 1.0},
        },
    }  # fmt: skip
    for name, change in stage_changes.items():
        stages[name] = {**stages[name], **change}
    to = {"self_management": "advice", "physio": "physio", "specialist": "ortho", "surgical": "ortho"}
    gp = {n: {"ortho": 1.0} if n != "physio" else {"physio": 1.0} for n in NEEDS}
    return {
        "name": "clock-rules",
        "population": 100_000,
        "run": {"years": 1, "warmup_days": 0, "seed": 3, "replications": 1},
        "calendar": {"bank_holidays": "none"},
        "demand": {"referrals_per_year": 1, "conditions": {"all": {"share": 1.0, "need": {"specialist": 1.0}}}},
        "stages": stages,
        "surgery": {"provider": "p", "slots_per_week": 70, "working_days": 7, "beds": 10, "postop_followups": 0,
                    "rehab_share_joint": 0.0, "rehab_share_other": 0.0},
        "gp": {"referral": gp, "rereferral": gp, "wait_days": 1},
        "designs": {
            "gp": {"services": ["physio", "ortho", "rheum"]},
            "spa": {
                "services": ["triage", "physio", "ortho", "rheum"], "entry": "triage", "unresolved": "onward",
                "routing": {n: {to[n]: 1.0} for n in NEEDS}, "onward": {n: {"rheum": 1.0} for n in NEEDS},
            },
        },
        "finance": {"providers": {"p": {"payment": "tariff"}}},
    }  # fmt: skip


def model(design: str, **stage_changes: dict[str, Any]) -> Pathway:
    """A model past the start of day 0 (where the returns start counting), with no referrals
    but those a test sends."""
    m = Pathway(scenario_from(small(**stage_changes)), design, 0)
    m.arrivals = [[] for _ in m.arrivals]
    m.recorder.at(0)
    return m


def run_days(m: Pathway, first: int, last: int) -> None:
    for day in range(first, last):
        if day:
            m.recorder.at(day)
        for fn, arg in m.calendar.pop(day, ()):
            fn(arg, day)
        for clinic in m.stages.values():
            clinic.day(day)
        m.theatre.day(day)


def patient(m: Pathway, need: str) -> Patient:
    m.counts.created += 1
    return Patient(m.counts.created, 0, need, False, 0, 12345 + m.counts.created, 0.5, 0.5, 0.5)


def bands_so_far(m: Pathway, function: str, part: int) -> np.ndarray:
    """A part's counts by week band so far: months already returned, and this month."""
    bands = np.array(m.rtt.counts[m.rtt.functions.index(function)][part], dtype=float)
    for r in m.recorder.returns:
        if r[2] == function and r[3] == PARTS[part]:
            bands[: len(r) - 4] += r[4:]
    return bands


def count(m: Pathway, function: str, part: int) -> int:
    """Events of a part so far: those of months already returned, and of this month."""
    returned = sum(sum(r[4:]) for r in m.recorder.returns if r[2] == function and r[3] == PARTS[part])
    return returned + sum(m.rtt.counts[m.rtt.functions.index(function)][part])


def test_a_referral_to_a_consultant_led_service_starts_a_clock() -> None:
    m = model("gp")
    p = patient(m, "specialist")
    m.refer(p, "ortho", 10)
    assert p.clock == 10 and p in m.rtt.running()
    assert count(m, "110", STARTS) == 1


def test_a_referral_to_a_service_that_is_not_consultant_led_starts_none() -> None:
    m = model("gp")
    p = patient(m, "physio")
    m.refer(p, "physio", 10)
    assert p.clock == NO_CLOCK and not m.rtt.running() and m.rtt.open == 0


def test_first_definitive_treatment_in_outpatients_stops_the_clock_as_non_admitted() -> None:
    m = model("gp")
    p = patient(m, "specialist")
    m.refer(p, "ortho", 0)
    run_days(m, 0, 3)
    assert p.clock == NO_CLOCK
    assert count(m, "110", NONADMITTED) == 1 and count(m, "110", ADMITTED) == 0


def test_listing_carries_the_clock_and_the_operation_stops_it_as_admitted() -> None:
    m = model("gp", ortho={"booking_lead_days": 0})
    m.theatre.capacity = [0.0] * 5 + m.theatre.capacity[5:]  # no lists for five days
    p = patient(m, "surgical")
    m.refer(p, "ortho", 0)
    run_days(m, 0, 5)  # seen and listed: the clock runs on
    assert p.clock == 0 and p.at == "theatre" and count(m, "110", NONADMITTED) == 0
    run_days(m, 5, 30)
    assert p.clock == NO_CLOCK and count(m, "110", ADMITTED) == 1 and count(m, "110", NONADMITTED) == 0
    assert m.rtt.counts[m.rtt.functions.index("110")][ADMITTED][0] == 1, "operated on day 5: within the first week"


def test_discharge_back_to_the_gp_stops_it_and_a_new_referral_starts_a_new_clock() -> None:
    m = model("gp", ortho={"resolves": {}, "assessment_only_if_unresolved": True})
    p = patient(m, "specialist")
    m.refer(p, "ortho", 0)
    run_days(m, 0, 1)  # assessed, nothing to do: discharged to the GP
    assert p.clock == NO_CLOCK and count(m, "110", NONADMITTED) == 1
    day = 1
    while count(m, "110", STARTS) < 2 and day < 20:  # the GP sees the patient after a wait and refers again
        run_days(m, day, day + 1)
        day += 1
    assert count(m, "110", STARTS) == 2, "the new referral starts a new clock"
    assert p.clock == NO_CLOCK or p.clock > 0, "...from the day of the new referral"


def test_onward_referral_carries_the_clock_to_the_next_function() -> None:
    m = model("spa", ortho={"resolves": {}, "assessment_only_if_unresolved": True})
    p = patient(m, "specialist")
    m.refer(p, "triage", 0)  # interface service: the clock starts here, under Other
    assert p.clock == 0 and count(m, "X01", STARTS) == 1
    run_days(m, 0, 10)  # triaged to ortho (a transfer), assessed, referred on to rheumatology
    assert count(m, "110", TRANSFERS_IN) == 1 and count(m, "X01", TRANSFERS_OUT) == 1
    assert count(m, "410", TRANSFERS_IN) == 1 and count(m, "110", TRANSFERS_OUT) == 1
    run_days(m, 10, 20)  # treated in rheumatology: one pathway, one clock, stopped there
    assert p.clock == NO_CLOCK and count(m, "410", NONADMITTED) == 1
    assert sum(count(m, f, STARTS) for f in m.rtt.functions) == 1


def test_a_wait_for_therapy_after_triage_keeps_the_clock_until_therapy_starts() -> None:
    m = model("spa", physio={"booking_lead_days": 5})
    p = patient(m, "physio")
    m.refer(p, "triage", 0)
    run_days(m, 0, 4)  # triaged to physio, still waiting for a first appointment
    assert p.clock == 0 and p in m.rtt.running()
    run_days(m, 4, 12)
    assert p.clock == NO_CLOCK and count(m, "X01", NONADMITTED) == 1


def test_advice_and_discharge_at_triage_stops_it() -> None:
    m = model("spa")
    p = patient(m, "self_management")
    m.refer(p, "triage", 0)
    run_days(m, 0, 3)
    assert p.clock == NO_CLOCK and count(m, "X01", NONADMITTED) == 1


def test_a_did_not_attend_discharge_stops_it() -> None:
    m = model("gp", ortho={"dna_first": 1.0, "max_dna": 1})
    p = patient(m, "specialist")
    m.refer(p, "ortho", 0)
    run_days(m, 0, 3)
    assert p.clock == NO_CLOCK and p.at == "discharged (dna)" and count(m, "110", NONADMITTED) == 1


def test_a_removal_stops_it_apart_from_completed_pathways() -> None:
    m = model("gp", ortho={"slots_per_week": 0, "removal_rate_per_week": 0.9})
    p = patient(m, "specialist")
    m.rtt.counting = True
    m.refer(p, "ortho", 0)
    run_days(m, 0, 60)
    assert p.clock == NO_CLOCK and p.at == "discharged (removed)"
    assert count(m, "110", REMOVALS) == 1 and count(m, "110", NONADMITTED) == 0
    assert m.rtt.stops == [], "a removal is not a completed pathway"


def test_model_bands_are_the_nhs_bands() -> None:
    for days in (0, 1, 6, 7, 8, 125, 126, 127, 728, 729, 5000):
        assert band(days) == band_of(days / 7), days
    assert band(126) == 17, "18 weeks to the day is within 18 weeks"


# --------------------------------------------------------------------------- whole runs


def bands(row: list[Any]) -> np.ndarray:
    """A returned row's counts over every band (the model drops trailing zeros)."""
    counts = np.zeros(len(BAND_LABELS), dtype=np.int64)
    counts[: len(row) - 4] = row[4:]
    return counts


def returns_frame(m: Pathway) -> pd.DataFrame:
    rows = [[*r[:4], *bands(r)] for r in m.recorder.returns]
    df = pd.DataFrame(rows, columns=["month", "year", "function", "part", *BAND_LABELS])
    df["total"] = df[list(BAND_LABELS)].sum(axis=1)
    return df


@pytest.mark.parametrize("design", ["fragmented", "prime"])
def test_returns_balance_month_by_month(design: str) -> None:
    """Incomplete last month + starts + transfers in − completed − removals − transfers out = incomplete now."""
    m = Pathway(bundled("run.years=1", "run.warmup_days=120"), design, 0)
    m.run()
    wide = returns_frame(m).pivot_table(index=["function", "month"], columns="part", values="total").reset_index()
    assert set(PARTS) <= set(wide.columns)
    for function, g in wide.groupby("function"):
        g = g.sort_values("month")
        flow = (
            g["incomplete"].shift(1) + g["clock_starts"] + g["transfers_in"]
            - g["admitted"] - g["nonadmitted"] - g["removals"] - g["transfers_out"]
        )  # fmt: skip
        assert (flow.iloc[1:] == g["incomplete"].iloc[1:]).all(), function
        assert len(g) == 13  # the starting position and twelve month ends
    assert wide["removals"].sum() > 0 and wide["admitted"].sum() > 0
    # the clocks the returns count are those the patients carry
    last = returns_frame(m).query("part == 'incomplete'").groupby("month")["total"].sum().iloc[-1]
    assert last == sum(1 for p in m.census() if p.clock != NO_CLOCK)
    # the running clocks held are exactly those of the patients, each once, and counted right
    running = m.rtt.running()
    assert len({id(p) for p in running}) == len(running) == m.rtt.open
    assert {id(p) for p in running} == {id(p) for p in m.census() if p.clock != NO_CLOCK}


@pytest.mark.slow
def test_removals_follow_the_rate_by_weeks_waited() -> None:
    """A list nobody is seen from: removals by week band fall geometrically at the weekly rate."""
    rate = 0.15
    m = Pathway(
        bundled(
            "run.years=2", "run.warmup_days=0", "stages.rheumatology.slots_per_week=0", AT_CAPACITY_SET,
            f"stages.rheumatology.removal_rate_per_week={rate}", "demand.growth=0",
        ),
        "fragmented", 0,
    )  # fmt: skip
    m.run()
    df = returns_frame(m).query("function == '410' and part == 'removals' and year == 2")
    removed = df[list(BAND_LABELS)].sum().to_numpy().astype(float)
    # of those who reach week k, the share removed in it is the rate (band k: (k, k+1] weeks)
    reaching = removed[::-1].cumsum()[::-1]
    assert removed[:6] / reaching[:6] == pytest.approx(np.full(6, rate), abs=0.04)
    pooled = removed[:40].sum() / reaching[:40].sum()  # removals per person-week at risk
    assert pooled == pytest.approx(rate, abs=0.01)


# --------------------------------------------------------------------------- starting from a return

DATA = Path(__file__).resolve().parents[2] / "data" / "rtt"
EXTRACT = Path(__file__).resolve().parents[1] / "data" / "rtt" / "20240331-RTT-March-2024-full-extract.csv"


def from_return(path: Path, commissioner: str, month: str, start: str) -> Scenario:
    return bundled(
        f"backlog.file={json.dumps(str(path))}", f'backlog.commissioner="{commissioner}"', f'backlog.month="{month}"',
        "run.warmup_days=0", "run.years=1", f"run.start_date={start}",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "commissioner", "month", "start"),
    [
        ("rtt-commissioner-ccg-2015-02-incomplete.csv", "06F", "2015-02", "2015-03-01"),
        ("rtt-commissioner-pct-2010-02-incomplete.csv", "5P2", "2010-02", "2010-03-01"),
    ],
)
@pytest.mark.parametrize("design", ["fragmented", "prime"])
@pytest.mark.slow
def test_a_run_from_a_published_return_starts_from_its_week_bands(name, commissioner, month, start, design) -> None:
    path = DATA / name
    published = read_returns(path, commissioner)
    m = Pathway(from_return(path, commissioner, month, start), design, 0)
    m.run()
    first = {r[2]: bands(r) for r in m.recorder.returns if r[1] == 0}
    for function in ("110", "410"):
        counts, open_from = returns_for(published, commissioner, month, function, "incomplete")
        assert first[function][:open_from].tolist() == counts[:open_from].tolist(), function
        assert first[function][open_from:].sum() == counts[open_from:].sum(), "the open band, spread over later weeks"
    assert first["X01"].sum() == 0, "Other is not an MSK list: not taken unless asked for"


def test_a_return_with_decisions_to_admit_puts_those_on_the_surgical_list() -> None:
    s = from_return(EXTRACT, "ZZC", "2024-03", "2024-04-01")
    table = read_returns(EXTRACT, "ZZC")
    dta = returns_for(table, "ZZC", "2024-03", "110", "incomplete_dta")[0].sum()
    m = Pathway(s, "fragmented", 0)
    assert m.theatre.size == dta > 0
    assert m.stages["orthopaedics"].waiting == returns_for(table, "ZZC", "2024-03", "110", "incomplete")[0].sum() - dta


def test_a_return_needs_its_commissioner_and_a_month_it_has() -> None:
    path = DATA / "rtt-commissioner-ccg-2015-02-incomplete.csv"
    with pytest.raises(ScenarioError, match=r"backlog\.commissioner"):
        bundled(f"backlog.file={json.dumps(str(path))}", "run.warmup_days=0")
    with pytest.raises(ScenarioError, match="'2015-01' is not in the return; it has 2015-02"):
        from_return(path, "06F", "2015-01", "2015-03-01")


@pytest.mark.parametrize("spread", [0.0, 14.0])
def test_a_booking_spread_delays_first_slots_exponentially(spread: float) -> None:
    """400 routine referrals on day 0 to a clinic with room for all: with a spread of mean 14
    days, those seen within a week are 1 - exp(-7/14) = 39% of them (within two weeks 63%);
    with none, all are seen at once."""
    m = model("gp", ortho={"booking_lead_days": 0, "booking_lead_spread_days": spread})
    for _ in range(400):
        m.refer(patient(m, "specialist"), "ortho", 0)
    run_days(m, 0, 200)
    bands = bands_so_far(m, "110", NONADMITTED)
    assert bands.sum() == 400
    if spread:
        assert bands[0] / 400 == pytest.approx(1 - np.exp(-0.5), abs=0.07)
        assert bands[:2].sum() / 400 == pytest.approx(1 - np.exp(-1.0), abs=0.07)
    else:
        assert bands[0] == 400


def test_a_theatre_booking_spread_delays_operations_exponentially() -> None:
    """400 listed on day 0 with no lead and a spread of mean 14 days, lists with room for all:
    39% operated within a week of referral."""
    m = model("gp", ortho={"booking_lead_days": 0})
    m.theatre.spread = 14.0
    m.theatre.capacity = [1000.0] * len(m.theatre.capacity)
    m.theatre.beds_free = 10_000
    for _ in range(400):
        m.refer(patient(m, "surgical"), "ortho", 0)
    run_days(m, 0, 200)
    bands = bands_so_far(m, "110", ADMITTED)
    assert bands.sum() == 400
    assert bands[0] / 400 == pytest.approx(1 - np.exp(-0.5), abs=0.07)


def test_a_decision_put_off_to_a_follow_up_carries_the_clock_to_it() -> None:
    """Seen on day 0 and booked for results 42 days later: the clock stops there, as
    non-admitted, in the band 5-6 weeks; the first attendance is one, the decision a follow-up."""
    m = model("gp", ortho={"booking_lead_days": 0, "decision_at_followup_share": 1.0, "followup_interval_days": 42,
                           "contacts_per_episode": 1.0})  # fmt: skip
    p = patient(m, "specialist")
    m.refer(p, "ortho", 0)
    run_days(m, 0, 41)
    assert p.clock == 0 and count(m, "110", NONADMITTED) == 0
    run_days(m, 41, 60)
    assert p.clock == NO_CLOCK and count(m, "110", NONADMITTED) == 1
    bands = bands_so_far(m, "110", NONADMITTED)
    assert bands[5] == 1, "42 days: more than 5 weeks, at most 6"
    assert m.stages["ortho"].stats.first == 1 and m.stages["ortho"].stats.followup == 1
