"""Hypothesis builds valid scenarios from scratch: they load, run, conserve patients, and the
routing oracle ends every referral exactly once."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis.flows import expected_activity
from sim.model.pathway import Pathway
from sim.scenario.loading import NEEDS, validate_raw


def shares(draw, keys: list[str]) -> dict[str, float]:
    w = [draw(st.floats(0.05, 1.0)) for _ in keys]
    row = {k: round(x / sum(w), 6) for k, x in zip(keys, w, strict=True)}
    row[keys[-1]] = round(1.0 - sum(row[k] for k in keys[:-1]), 9)
    return row


@st.composite
def scenarios(draw) -> dict:
    names = [f"s{i}" for i in range(draw(st.integers(2, 4)))]
    stages = {}
    for n in names:
        stages[n] = {
            "kind": "clinic",
            "provider": "p",
            "consultant_led": draw(st.booleans()),
            "hospital": draw(st.booleans()),
            "slots_per_week": draw(st.integers(5, 60)),
            "dna_first": draw(st.floats(0, 0.3)),
            "dna_followup": draw(st.floats(0, 0.3)),
            "contacts_per_episode": draw(st.floats(1, 5)),
            "followup_interval_days": draw(st.integers(1, 60)),
            "resolves": {k: draw(st.floats(0, 1)) for k in NEEDS},
            "list_for_surgery": {"surgical": draw(st.floats(0, 1))},
        }
    conds = {}
    cond_names = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    cs = shares(draw, cond_names)
    for c in cond_names:
        conds[c] = {"share": cs[c], "need": shares(draw, list(NEEDS)), "joint_replacement_share": draw(st.floats(0, 1))}
    rows = {need: shares(draw, names) for need in NEEDS}
    designs = {"fragmented": {"services": names}}
    if draw(st.booleans()):
        stages["tri"] = {"kind": "triage", "provider": "p", "consultant_led": True, "slots_per_week": draw(st.integers(10, 80))}
        designs["prime"] = {
            "services": [*names, "tri"],
            "entry": "tri",
            "unresolved": "onward",
            "routing": {need: shares(draw, [*names, "advice"]) for need in NEEDS},
            "onward": {need: shares(draw, [*names, "advice"]) for need in NEEDS},
        }
    return {
        "name": "generated",
        "population": 50_000,
        "run": {"years": 1, "warmup_days": draw(st.integers(0, 60)), "seed": draw(st.integers(0, 2**31))},
        "demand": {
            "referrals_per_year": draw(st.integers(50, 500)),
            "conditions": conds,
            "urgent_share": draw(st.floats(0, 0.3)),
        },
        "stages": stages,
        "surgery": {
            "provider": "p",
            "slots_per_week": draw(st.integers(1, 20)),
            "beds": draw(st.integers(0, 5)),
            "rehab_stage": names[0],
        },
        "gp": {
            "referral": rows,
            "rereferral": {need: shares(draw, names) for need in NEEDS},
            "max_referrals": draw(st.integers(1, 5)),
        },
        "designs": designs,
        "finance": {"providers": {"p": {"payment": draw(st.sampled_from(["tariff", "block"]))}}},
    }


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_generated_scenarios_load_run_and_conserve(raw: dict) -> None:
    s = validate_raw(raw, "generated")
    for design in s.designs:
        m = Pathway(s, design, 0)
        rows = m.run()
        assert len(rows) == 1
        counts = [v for k, v in rows[0].items() if k.endswith(("_first", "_followup", "_dna", "_arrivals"))]
        assert all(v >= 0 for v in counts)
        inside = Counter(p.pid for p in m.census())
        assert not inside or max(inside.values()) == 1
        assert m.counts.created == m.counts.discharged + len(inside)
        f = expected_activity(s, design)
        assert all(v >= -1e-12 for v in f.values())
        ended = f.get("ended_resolved", 0) + f.get("ended_unresolved", 0) + f.get("ended_dna", 0)
        assert abs(ended - 1.0) < 1e-9
