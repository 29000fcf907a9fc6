"""One small network expressed twice: in msksim and in Ciw (a queueing-network simulator).

Triage, physio, outpatients and surgery, open every day, with daily appointment slots and
Poisson referrals. Everyone has the same latent need, so routing is a plain probability row:

    referrals -> triage -> advice (leave) | physio (leave) | outpatients -> surgery (leave)

How the two correspond:

* msksim serves each stage once a day, at the start of day t, taking those who arrived by
  then; Ciw's slotted services start up to ``c`` services at t = 1, 2, 3, ... for everyone
  who arrived before. So a Ciw wait is counted from the start of the day after arrival
  (``ceil(arrival)``), as msksim counts whole days from list entry.
* In msksim a referral from triage arrives the next day and listing for surgery takes a
  day (``booking_lead_days = 1``); in Ciw a service takes half a day, so the patient joins
  the next queue mid-day and is first offered the next day's slots, the same.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LAMBDA = 20.0  # referrals a day
SLOTS = {"triage": 24, "physio": 12, "orthopaedics": 8, "theatre": 3}
TO_ADVICE, TO_PHYSIO, TO_CLINIC = 0.15, 0.50, 0.35
LISTED = 0.35
WARMUP_DAYS = 150
DAYS = 540

ALL_NEEDS = ("self_management", "physio", "specialist", "surgical")


def msksim_scenario() -> dict[str, Any]:
    row = {"physio": 1.0}
    base = {"working_days": 7, "provider": "p", "contacts_per_episode": 1.0, "resolves": {"self_management": 1.0}}
    return {
        "name": "validation-network",
        "population": 100_000,
        "run": {"years": 1, "warmup_days": WARMUP_DAYS, "seed": 11},
        "calendar": {"bank_holidays": "none"},
        "demand": {
            "referrals_per_year": LAMBDA * 365.25,
            "referral_working_days": 7,
            "conditions": {"all": {"share": 1.0, "need": {"self_management": 1.0}}},
        },
        "stages": {
            "triage": {**base, "kind": "triage", "consultant_led": True, "slots_per_week": 7 * SLOTS["triage"]},
            "physio": {**base, "kind": "therapy", "slots_per_week": 7 * SLOTS["physio"]},
            "orthopaedics": {
                **base,
                "hospital": True,
                "consultant_led": True,
                "slots_per_week": 7 * SLOTS["orthopaedics"],
                "list_for_surgery": {"self_management": LISTED},
            },
        },
        "surgery": {
            "provider": "p",
            "working_days": 7,
            "slots_per_week": 7 * SLOTS["theatre"],
            "booking_lead_days": 1,
            "daycase_share": 1.0,
            "beds": 0,
            "postop_followups": 0.0,
            "rehab_share_other": 0.0,
        },
        "gp": {"referral": {n: dict(row) for n in ALL_NEEDS}, "rereferral": {n: dict(row) for n in ALL_NEEDS}},
        "designs": {
            "prime": {
                "services": ["triage", "physio", "orthopaedics"],
                "entry": "triage",
                "unresolved": "onward",
                "routing": {n: {"advice": TO_ADVICE, "physio": TO_PHYSIO, "orthopaedics": TO_CLINIC} for n in ALL_NEEDS},
                "onward": {n: {"advice": 1.0} for n in ALL_NEEDS},
            }
        },
        "finance": {"providers": {"p": {"payment": "tariff"}}},
    }


def msksim_measures(rows: list[dict]) -> dict[str, float]:
    """Mean wait (days) and throughput (a day) per stage over the measured year."""
    r = rows[0]
    days = 365.0
    out = {}
    for stage in ("triage", "physio", "orthopaedics", "theatre"):
        out[f"{stage}_wait"] = r[f"{stage}_queue_wait_mean_days"]
        out[f"{stage}_throughput"] = r[f"{stage}_list_exits"] / days
    return out


def ciw_measures(seed: int) -> dict[str, float]:
    import ciw

    half = ciw.dists.Deterministic(0.5)
    N = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(LAMBDA), None, None, None],
        service_distributions=[half, half, half, half],
        number_of_servers=[
            ciw.Slotted(slots=[1.0], slot_sizes=[SLOTS[s]]) for s in ("triage", "physio", "orthopaedics", "theatre")
        ],
        routing=[[0.0, TO_PHYSIO, TO_CLINIC, 0.0], [0.0] * 4, [0.0, 0.0, 0.0, LISTED], [0.0] * 4],
    )
    ciw.seed(seed)
    Q = ciw.Simulation(N)
    end = WARMUP_DAYS + DAYS
    Q.simulate_until_max_time(end + 5)
    out = {}
    for i, stage in enumerate(("triage", "physio", "orthopaedics", "theatre"), start=1):
        starts = np.array([r.service_start_date for r in Q.get_all_records() if r.node == i])
        arrivals = np.array([r.arrival_date for r in Q.get_all_records() if r.node == i])
        keep = (starts >= WARMUP_DAYS) & (starts < end)
        waits = starts[keep] - np.ceil(arrivals[keep] - 1e-9)
        out[f"{stage}_wait"] = float(waits.mean())
        out[f"{stage}_throughput"] = keep.sum() / DAYS
    return out


def combined_halfwidth(a: np.ndarray, b: np.ndarray, level: float = 0.99) -> float:
    from scipy import stats

    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return float(stats.t.ppf(0.5 + level / 2, len(a) + len(b) - 2) * se)
