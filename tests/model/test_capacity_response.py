"""How each capacity structure of the bundled prime answers a capacity cut, against stock-and-flow
arithmetic: the RTT Planner's projection for the queue-led fit, its own for the delay-led one.

From the fitted state at the contract start, orthopaedics loses a fifth of its slots for 12 months,
everything else the same (the same patients, the same seed). A list that is a queue loses the
clock stops the cut takes and grows by them, less the removals the longer list brings: the
RTT Planner's stock and flow, the list fed by clock starts and drained by stops and removals.
A clinic whose waits are booking delays, below its capacity, loses no stops and its list does
not move until the cut takes its load past 1. (A queue-led clinic at an expected load of 0.97
uses about 90% of its slots in the simulation: capacity is counted here, as the RTT Planner
counts it, from what the service did, so a cut of a tenth would barely bind; a fifth does.)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis.flows import stage_load
from sim.model.capacity import effective_weekly
from sim.rtt.bands import BAND_LABELS
from sim.runs.experiment import run_batch
from sim.scenario.loading import load_scenario, with_values
from sim.scenario.schema import Scenario
from tests.conftest import AT_CAPACITY_SET, BEDFORDSHIRE

PEOPLE = 90_000
CUT = 0.8
WEEKS = 52.18
SETS = ["run.years=1", "run.replications=6", "designs.prime.stage_overrides.theatre.slots_per_week=120", AT_CAPACITY_SET]
"""One contract year; the theatre kept out of the way (a fifth of the bundled area's, for 90,000
people), so only the clinic's capacity answers."""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("response") / "small.toml"
    result = CliRunner().invoke(app, ["scale", str(BEDFORDSHIRE), "--population", str(PEOPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def function_110(s: Scenario, cut: float) -> dict[str, np.ndarray]:
    """Per replication, T&O: the incomplete pathways at the end of the year, its clock stops and removals."""
    key = s.capacity_key("prime", "orthopaedics")
    slots = s.design_stages("prime")["orthopaedics"].slots_per_week
    cut_from_start = [{"from_date": s.run.start_date, "slots_per_week": slots * cut}]
    changed = {key.replace("slots_per_week", "capacity_changes"): cut_from_start}
    run = with_values(s, changed, "cut", how=None)
    r = run_batch(run, ["prime"], run.run.replications, uncertainty=False)
    assert not r.errors, r.errors[0].error
    rows = r.returns[(r.returns["treatment_function"] == "110") & (r.returns["year"] == 1)]
    total = rows[list(BAND_LABELS)].sum(axis=1)
    last = rows["month"].max()
    by = {part: total[rows["part"] == part].groupby(rows.loc[rows["part"] == part, "replication"]).sum()
          for part in ("admitted", "nonadmitted", "removals", "clock_starts", "transfers_in", "transfers_out")}  # fmt: skip
    end = total[(rows["part"] == "incomplete") & (rows["month"] == last)].groupby(rows["replication"]).sum()
    t = r.table.sort_values("replication")
    used = (t["orthopaedics_first"] + t["orthopaedics_followup"] + t["orthopaedics_dna"]).to_numpy(float)
    return {"end": end.to_numpy(float), "stops": (by["admitted"] + by["nonadmitted"]).to_numpy(float),
            "removals": by["removals"].to_numpy(float),
            "starts": (by["clock_starts"] + by["transfers_in"] - by["transfers_out"]).to_numpy(float),
            "busy": used / (effective_weekly(run, "orthopaedics", "prime") * WEEKS)}  # fmt: skip


def load(s: Scenario) -> float:
    return stage_load(s, "prime")["orthopaedics"] / effective_weekly(s, "orthopaedics", "prime")


def planner(stops_per_year: float, busy: float, removal_rate: float) -> float:
    """The RTT Planner's projection of the list's growth over a year: capacity counted in clock
    stops (the stops a service makes over the share of its slots it uses, ``busy``), the stops
    the cut takes beyond what demand needs lost each week for 52 weeks, the extra list removed at
    ``removal_rate`` a week as it grows."""
    stops = stops_per_year / WEEKS
    capacity = stops / busy
    lost = max(0.0, stops - CUT * capacity)
    return lost * (1 - math.exp(-removal_rate * WEEKS)) / removal_rate


def test_the_bundled_prime_has_both_structures() -> None:
    s = load_scenario(BEDFORDSHIRE)
    assert set(s.designs["prime"].structures) == {"queue", "delay"}
    assert s.designs["prime"].structures["queue"].fitted_to and s.designs["prime"].structures["delay"].fitted_to


@pytest.mark.parametrize("structure", ["queue", "delay"])
@pytest.mark.slow
def test_a_capacity_cut_moves_each_structure_s_list_as_its_arithmetic_says(small: Path, structure: str) -> None:
    s = load_scenario(small, SETS).with_structure(structure)
    before, after = function_110(s, 1.0), function_110(s, CUT)
    grew = float((after["end"] - before["end"]).mean())
    stops = float(before["stops"].mean())
    ortho = s.design_stages("prime")["orthopaedics"]
    rate = float(np.mean([r for _, r in ortho.removal_rate_per_week]))
    busy = float(before["busy"].mean())
    expected = planner(stops, busy, rate)
    lost = float((before["stops"] - after["stops"]).mean())
    removed = float((after["removals"] - before["removals"]).mean())
    started = float((after["starts"] - before["starts"]).mean())  # clocks started, and moved in from other functions
    # conservation, the same patients: what the list gained is the clocks started more, the stops lost, less the
    # extra removals
    assert abs(grew - (started + lost - removed)) <= 0.05 * max(abs(grew), 20.0), (grew, started, lost, removed)
    if structure == "queue":
        assert load(s) > 0.93 and busy > 0.85, (load(s), busy)
        assert 0.5 * expected <= grew <= 1.5 * expected, (grew, expected, stops)
    else:  # below capacity with booking delays: a fifth less capacity leaves the list almost where it was
        assert load(s) / CUT < 1.0 and busy < CUT, (load(s), busy)
        assert expected == 0.0
        assert abs(grew) <= 0.01 * stops, (grew, stops)
