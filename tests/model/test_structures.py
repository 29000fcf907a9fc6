"""Capacity structures: explanations of a design's waits the returns cannot tell apart, each
simulated on the same patients; what a scenario, ``compare``, ``sweep`` and ``target`` do with them."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.calibrate.fit import Evaluation, Knob
from sim.calibrate.structures import DELAY, QUEUE, QUEUE_LOADS, StructureFit, choose, queue_knobs, shortest_wait_days
from sim.rtt.bands import BAND_LABELS
from sim.runs.experiment import run_batch
from sim.scenario.fields import removal_bands
from sim.scenario.loading import load_scenario, with_structure_designs, with_values
from sim.scenario.schema import ScenarioError
from tests.conftest import BEDFORDSHIRE

SMALL = ["demand.referrals_per_year=6000", "population=43000", "demand.outside_contract.per_year=0", "run.years=1",
         "run.warmup_days=200"]  # fmt: skip
ORTHO = "stage_overrides.orthopaedics"


def two_structures(tmp_path: Path) -> Path:
    """The bundled scenario with the prime's orthopaedics as a queue (near its demand, short
    delays) or behind booking delays (a third of its slots idle)."""
    path = tmp_path / "two.toml"
    path.write_text(
        f'extends = "{BEDFORDSHIRE.as_posix()}"\n'
        'name = "two"\n'
        "[designs.prime]\n"
        'structure = "queue"\n'
        "[designs.prime.structures.queue]\n"
        'why = "the list a queue"\n'
        f"[designs.prime.structures.queue.{ORTHO}]\n"
        "slots_per_week = 95.0\nbooking_lead_days = 7\nbooking_lead_spread_days = 7.0\n"
        "[designs.prime.structures.delay]\n"
        'why = "booking delays"\n'
        f"[designs.prime.structures.delay.{ORTHO}]\n"
        "slots_per_week = 140.0\nbooking_lead_days = 20\nbooking_lead_spread_days = 42.0\n"
    )
    return path


def test_the_structure_run_sets_the_values_over_the_design_s_own(tmp_path: Path) -> None:
    s = load_scenario(two_structures(tmp_path), SMALL)
    prime = s.designs["prime"]
    assert prime.active_structure == "queue"
    assert prime.model_copy(update={"structure": ""}).active_structure == "delay"  # where none is named, the first
    assert s.design_stages("prime")["orthopaedics"].slots_per_week == 95.0
    delay = s.with_structure("delay")
    ortho = delay.design_stages("prime")["orthopaedics"]
    assert (ortho.slots_per_week, ortho.booking_lead_days, ortho.booking_lead_spread_days) == (140.0, 20, 42.0)
    # what the structures leave alone is the design's own
    own = load_scenario(BEDFORDSHIRE, SMALL).design_stages("prime")["orthopaedics"]
    assert ortho.stale_share == own.stale_share and ortho.decision_at_followup_share == own.decision_at_followup_share
    assert delay.capacity_key("prime", "orthopaedics") == f"designs.prime.structures.delay.{ORTHO}.slots_per_week"
    assert delay.capacity_key("prime", "physio") == "stages.physio.slots_per_week"
    # a design based on another runs its structures too
    assert list(s.designs["prime_as_claimed"].structures) == ["delay", "queue"]
    named = load_scenario(two_structures(tmp_path), [*SMALL, 'designs.prime.structure="delay"'])
    assert named.design_stages("prime")["orthopaedics"].slots_per_week == 140.0


def test_a_value_set_on_the_design_is_simulated_under_every_structure(tmp_path: Path) -> None:
    """``--set`` on the design's own key that the structures set too: set in each, not lost under them."""
    s = load_scenario(two_structures(tmp_path), [*SMALL, f"designs.prime.{ORTHO}.slots_per_week=200"])
    for name in ("queue", "delay"):
        assert s.with_structure(name).design_stages("prime")["orthopaedics"].slots_per_week == 200.0
    drawn = with_values(s, {f"designs.prime.{ORTHO}.booking_lead_days": 3}, "draw", how=None)
    assert {drawn.with_structure(n).design_stages("prime")["orthopaedics"].booking_lead_days for n in ("queue", "delay")} == {3}


@pytest.mark.parametrize(
    ("sets", "key", "says"),
    [
        (['designs.prime.structure="nosuch"'], "designs.prime.structure", "not one of the design's structures (delay, queue)"),
        ([f"designs.prime.structures.delay.{ORTHO}.slots_per_week=-1"],
         f"designs.prime.structures.delay.{ORTHO}.slots_per_week", "greater than or equal to 0"),
        (["designs.prime.structures.delay.stage_overrides.nosuch.slots_per_week=1"],
         "designs.prime.structures.delay.stage_overrides.nosuch", "nosuch"),
        (['designs.prime.structures."a b".why="x"'], "designs.prime.structures", "pattern"),
    ],
)  # fmt: skip
def test_a_bad_structure_is_named(tmp_path: Path, sets: list[str], key: str, says: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario(two_structures(tmp_path), [*SMALL, *sets])
    assert key in str(e.value) and says in str(e.value)


@pytest.mark.slow
def test_a_structure_run_beside_the_design_is_the_same_as_the_design_run_under_it(tmp_path: Path) -> None:
    """The design ``prime_delay`` compare adds runs the same patients as ``prime`` does with
    structure ``delay``: row for row the same results."""
    s = load_scenario(two_structures(tmp_path), [*SMALL, "run.replications=2"])
    both, added = with_structure_designs(s, ["fragmented", "prime"])
    assert added == {"prime_delay": ("prime", "delay")}
    beside = run_batch(both, ["prime", "prime_delay"], 2).table
    alone = run_batch(s.with_structure("delay"), ["prime"], 2).table
    got = beside[beside["design"] == "prime_delay"].drop(columns="design").reset_index(drop=True)
    want = alone.drop(columns="design").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    queue = beside[beside["design"] == "prime"]
    assert (queue["referrals"].to_numpy() == got["referrals"].to_numpy()).all()  # the same patients
    assert not (queue["orthopaedics_first"].to_numpy() == got["orthopaedics_first"].to_numpy()).all()
    taken = s.model_copy(update={"designs": {**s.designs, "prime_delay": s.designs["fragmented"]}})
    with pytest.raises(ScenarioError, match="prime_delay"):
        with_structure_designs(taken, ["prime"])


@pytest.mark.slow
def test_compare_and_sweep_run_every_structure_and_compare_shows_the_range(tmp_path: Path) -> None:
    path = two_structures(tmp_path)
    sets = [a for x in [*SMALL, "run.replications=2"] for a in ("--set", x)]
    r = CliRunner().invoke(app, ["compare", str(path), *sets, "--out", str(tmp_path / "c"), "--quiet", "--report"])
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "Under each capacity structure" in flat and "prime_delay" in flat
    page = (tmp_path / "c" / "report.html").read_text()
    assert 'id="structures"' in page and "prime_delay (delay)" in page and "the list a queue" in page
    table = pd.read_csv(tmp_path / "c" / "replications.csv")
    assert set(table["design"]) == {"fragmented", "prime", "prime_delay"}
    r = CliRunner().invoke(app, ["sweep", str(path), *sets, "--out", str(tmp_path / "s"), "--quiet", "--designs", "prime",
                                 "--grid", "stages.physio.slots_per_week=3000"])  # fmt: skip
    assert r.exit_code == 0, r.output
    sweep = pd.read_csv(tmp_path / "s" / "sweep.csv")
    assert set(sweep["designs.prime.structure"]) == {"queue", "delay"}


@pytest.mark.slow
def test_target_answers_under_each_structure_on_one_function_s_waits(tmp_path: Path) -> None:
    path = two_structures(tmp_path)
    sets = [a for x in SMALL for a in ("--set", x)]
    args = ["target", str(path), *sets, "--design", "prime", "--stage", "orthopaedics", "--metric",
            "rtt_110_incomplete_within_18w_pct", "--at-least", "50", "--year", "1", "--reps", "2", "--tolerance", "0.2",
            "--out", str(tmp_path / "t"), "--quiet", "--no-uncertainty"]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "The returns cannot tell which structure holds" in flat
    trials = pd.read_csv(tmp_path / "t" / "target.csv")
    assert set(trials["structure"]) == {"queue", "delay"}
    for name in ("queue", "delay"):  # each answer is a scenario that runs that structure at the capacity found
        found = load_scenario(tmp_path / "t" / f"target_{name}.toml")
        assert found.designs["prime"].active_structure == name
        met = trials[(trials["structure"] == name) & trials["met"]]
        slots = found.design_stages("prime")["orthopaedics"].slots_per_week
        assert math.isclose(slots, met[f"slots.designs.prime.structures.{name}.{ORTHO}.slots_per_week"].min())
    at = args.index("rtt_110_incomplete_within_18w_pct")
    r = CliRunner().invoke(app, [*args[:at], "rtt_999_incomplete_within_18w_pct", *args[at + 1 :]])
    assert r.exit_code == 2 and "rtt_110_incomplete_within_18w_pct" in r.output
    r = CliRunner().invoke(app, [*args, "--structure", "nosuch"])
    assert r.exit_code == 2 and "not a structure of design 'prime'" in r.output


def _fit(name: str, loss: float, waits: set, loads: dict[str, float], delays: dict[str, float]) -> StructureFit:
    best = Evaluation({}, pd.DataFrame(), loss)
    return StructureFit(name, best, {}, loads, delays, waits, [])


def test_the_queue_led_fit_is_kept_when_it_meets_what_the_delay_led_meets() -> None:
    waits = {("2015-01", "110", "incomplete", "within_18w_pct"), ("2015-01", "110", "admitted", "median_weeks")}
    idle = _fit(DELAY, 0.4, waits, {"orthopaedics": 0.7}, {"orthopaedics": 49.0})
    queue = _fit(QUEUE, 0.5, waits, {"orthopaedics": 1.0}, {"orthopaedics": 10.0})
    choice = choose(idle, queue)
    assert [f.name for f in choice.kept] == [QUEUE, DELAY] and "idle" in choice.why  # as good, and more plausible
    busy = _fit(DELAY, 0.4, waits, {"orthopaedics": 0.93}, {"orthopaedics": 20.0})
    assert [f.name for f in choose(busy, queue).kept] == [DELAY, QUEUE]  # both plausible: the lower loss
    better = _fit(QUEUE, 0.1, waits, {"orthopaedics": 1.0}, {"orthopaedics": 10.0})
    assert [f.name for f in choose(busy, better).kept] == [QUEUE, DELAY] and "fits the returns better" in choose(busy, better).why
    short = _fit(QUEUE, 0.3, set(list(waits)[:1]), {"orthopaedics": 1.0}, {"orthopaedics": 10.0})
    dropped = choose(idle, short)
    assert [f.name for f in dropped.kept] == [DELAY] and "misses 1 wait target" in dropped.dropped[0][1]


def test_the_queue_led_search_holds_capacity_near_demand_and_delays_short() -> None:
    prefix = "designs.prime.stage_overrides."
    knobs = [
        Knob(f"{prefix}orthopaedics.slots_per_week", 100, 95, 300, True, 0.15, "w"),
        Knob(f"{prefix}orthopaedics.median_delay_days", 40, 0, 70, False, 7, "w"),
        Knob(f"{prefix}orthopaedics.booking_lead_spread_days", 42, 0, 180, False, 14, "w"),
        Knob(f"{prefix}orthopaedics.stale_share", 0.05, 0, 0.2, False, 0.05, "w"),
        Knob(f"{prefix}orthopaedics.procedure_share", 0.1, 0, 0.5, False, 0.1, "w"),
        Knob(f"{prefix}rheumatology.slots_per_week", 50, 45, 150, True, 0.15, "w"),
        Knob("designs.prime.triage_hospital_shift", 0.6, 0, 1, False, 0.1, "w"),
    ]
    best = {k.key: k.start for k in knobs} | {f"{prefix}orthopaedics.slots_per_week": 130.0}
    got, start, held = queue_knobs(knobs, best, ["orthopaedics", "theatre"], {"orthopaedics": 14.0, "theatre": 21.0},
                                   prefix, {"orthopaedics": 104.0, "theatre": 40.0})  # fmt: skip
    by = {k.key: k for k in got}
    slots = by[f"{prefix}orthopaedics.slots_per_week"]
    assert (slots.low, slots.high) == (pytest.approx(104 / QUEUE_LOADS[1]), pytest.approx(104 / QUEUE_LOADS[0]))
    assert start[slots.key] == 104.0
    assert f"{prefix}orthopaedics.median_delay_days" not in by  # the fixed lead is kept short, not the median
    lead = by[f"{prefix}orthopaedics.booking_lead_days"]
    assert (lead.low, lead.high, lead.integer) == (0.0, 14.0, True)
    assert start[lead.key] == 11  # from the delay-led fit's: a median of 40 days less ln 2 x 42 of spread
    assert by[f"{prefix}orthopaedics.booking_lead_spread_days"] == knobs[2]  # the spread of booking stays free
    assert by[f"{prefix}rheumatology.slots_per_week"] == knobs[5]  # a told capacity is left as it was
    assert held == {"designs.prime.triage_hospital_shift": 0.6, f"{prefix}orthopaedics.procedure_share": 0.1,
                    f"{prefix}orthopaedics.stale_share": 0.05, f"{prefix}theatre.booking_lead_days": 21}  # fmt: skip


def test_the_shortest_published_waits_by_hand() -> None:
    """5% of completed pathways fall under the lower edge of the band where the share passes 5%."""
    rows = []
    for month, counts in (("2015-01", {0: 2, 1: 2, 3: 96}), ("2015-02", {2: 100})):
        row = {"commissioner": "06F", "month": month, "treatment_function": "110", "part": "nonadmitted"}
        rows.append(row | {label: counts.get(k, 0) for k, label in enumerate(BAND_LABELS)})
    # pooled: 2, 2, 100, 96 of 200: 2% under 1 week, 4% under 2, 54% under 3
    assert shortest_wait_days(pd.DataFrame(rows), "06F", ["2015-01", "2015-02"], "110", "nonadmitted") == 14.0


@pytest.mark.slow
def test_calibrate_writes_both_structures_each_as_fitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A short calibration whose capacities are taken as untold, both structures kept: the
    calibrated scenario runs each structure at exactly the values its search found."""
    import sim.calibrate.area as area
    from sim.calibrate.area import calibrate, read_published, setup
    from sim.calibrate.identify import Identified
    from sim.calibrate.output import write
    from sim.calibrate.structures import Choice
    from sim.runs.executors import SerialExecutor

    told = area.identify
    monkeypatch.setattr(area, "identify", lambda fitter, best: {k: Identified(k, 0.0, 0.0) for k in told(fitter, best)})
    monkeypatch.setattr(area, "choose", lambda delay, queue: Choice([queue, delay], "as if both met the targets", []))
    root = BEDFORDSHIRE.parent
    s = load_scenario(root / "bedfordshire_2010.toml", ["demand.referrals_per_year=3000"])
    pct = sorted((root.parent / "data" / "rtt").glob("rtt-commissioner-pct-*.csv"))
    st = setup(s, "fragmented", read_published(pct, "5P2", ["110"]), "5P2", ["110"], 0)
    cal = calibrate(st, SerialExecutor(), replications=1, rounds=1)
    assert cal.choice is not None and [f.name for f in cal.choice.kept] == [QUEUE, DELAY]
    written = {p.name for p in write(cal, tmp_path, root / "bedfordshire_2010.toml", pct)}
    assert {"calibrated.toml", "structures.csv", "fit.csv", "unknowns.csv"} <= written
    text = (tmp_path / "calibrated.toml").read_text()
    assert 'structure = "queue"  # preferred: as if both met the targets' in text
    fitted = load_scenario(tmp_path / "calibrated.toml")
    assert fitted.designs["fragmented"].active_structure == QUEUE
    for f in cal.choice.kept:
        run = fitted.with_structure(f.name)
        for key, value in f.scenario_values.items():
            place, leaf = key.split(".")[3:5]
            cfg = run.design_surgery("fragmented") if place == "theatre" else run.design_stages("fragmented")[place]
            got = getattr(cfg, leaf)
            if leaf == "slots_per_week":
                got = float(f"{got / run.carried_factor('fragmented', place):.4g}")
            if leaf == "removal_rate_per_week":
                got = [list(row) for row in got]
            assert got == value, (f.name, key)
    unknowns = pd.read_csv(tmp_path / "unknowns.csv")
    assert {"fitted_queue", "fitted_delay"} <= set(unknowns.columns)
    assert set(pd.read_csv(tmp_path / "fit.csv")["structure"]) == {QUEUE, DELAY}


def test_a_refit_starts_from_the_scenario_s_own_values() -> None:
    """With --from-scenario every unknown starts where the scenario has it, so the first candidate
    simulated is the scenario as it is."""
    from sim.calibrate.area import expander, read_published, setup
    from sim.calibrate.output import current_value

    s = load_scenario(BEDFORDSHIRE)
    ccg = sorted((BEDFORDSHIRE.parent.parent / "data" / "rtt").glob("rtt-commissioner-ccg-*.csv"))
    st = setup(s, "prime", read_published(ccg, "06F", None), "06F", None, 1, fit_routing=True, from_scenario=True)
    start = expander(st)({k.key: k.clip(k.start) for k in st.knobs})
    for key, value in start.items():
        now = current_value(s, "prime", key)
        if key.endswith(".removal_rate_per_week"):
            now = [list(r) for r in removal_bands(now)]
        assert value == now, key
    fresh = setup(s, "prime", read_published(ccg, "06F", None), "06F", None, 1, fit_routing=True)
    slots = "designs.prime.stage_overrides.rheumatology.slots_per_week"
    assert {k.key: k.start for k in fresh.knobs}[slots] != {k.key: k.start for k in st.knobs}[slots]
