"""How much memory a batch will need, estimated before anything runs.

A run holds every patient still in the system, so its memory follows the lists: the
scaling benchmark (``benchmarks/scaling.py``, docs/performance.md) measured about 150 MB for a
process and 3 kB for each patient in the system, and 0.07 MB in the parent for each
finished five-year task. Lists grow without limit where demand outruns capacity, so the
estimate adds, service by service, the demand above capacity over the horizon (demand
growing as the scenario says; a list with removals levels off where they take what the excess
adds). A batch whose estimate is
above the machine's memory is refused; one above half of it is warned of.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from sim.analysis.flows import expected_activity, stage_load
from sim.model.capacity import effective_weekly
from sim.scenario.fields import removal_bands
from sim.scenario.schema import Scenario

MB = 1024 * 1024
PROCESS_BYTES = 150 * MB
PATIENT_BYTES = 3 * 1024
TASK_YEAR_BYTES = 0.015 * MB
"""What the parent keeps for each finished task-year (result rows and traces)."""
RESIDENT_SHARE = 0.2
"""Patients in the system as a share of a year's referrals at steady state (measured: 8,746
at the end of a year of 45,000 Bedfordshire referrals)."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes for each worker, for the parent, and in all; with the patients they rest on."""

    patients: int
    worker: float
    parent: float
    total: float

    def describe(self) -> str:
        return (
            f"about {self.total / MB:,.0f} MB ({self.patients:,} patients in the system at the end of a replication, "
            f"{self.worker / MB:,.0f} MB a worker; {self.parent / MB:,.0f} MB for the results)"
        )


def machine_memory() -> float:
    """Physical memory in bytes (inf where it cannot be read)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def patients_at_end(s: Scenario, design: str) -> int:
    """Patients in the system at the end of a replication: the steady share of a year's
    referrals, plus every list's growth where demand outruns capacity."""
    d = s.demand
    years = s.run.warmup_days / 365 + s.run.years
    outside = d.outside_contract
    final = (d.referrals_per_year + d.self_referral.per_year) * (1 + d.growth) ** years
    final += outside.per_year * (1 + outside.growth) ** years  # care outside the contract waits on the same lists
    patients = RESIDENT_SHARE * max(final, d.referrals_per_year)
    load = stage_load(s, design, expected_activity(s, design))
    stages = s.design_stages(design)
    for stage, weekly in load.items():
        capacity = effective_weekly(s, stage, design)
        cfg = stages[stage] if stage in stages else s.design_surgery(design)
        removal = removal_bands(cfg.removal_rate_per_week)[-1][1]  # long waiters fill a growing list
        backlog = 0.0
        for year in range(math.ceil(years)):
            excess = max(0.0, weekly * (1 + d.growth) ** year - capacity)
            backlog += excess * 52
            if removal > 0:  # removals hold the list where they take as many as the excess adds
                backlog = min(backlog, excess / removal)
        patients += backlog
    return int(patients)


def estimate(s: Scenario, designs: list[str], tasks: int, jobs: int, local: bool = True) -> MemoryEstimate:
    """The memory a batch needs: ``jobs`` local workers (none on a cluster) and the parent."""
    patients = max(patients_at_end(s, d) for d in designs)
    worker = PROCESS_BYTES + PATIENT_BYTES * patients
    parent = PROCESS_BYTES + TASK_YEAR_BYTES * tasks * s.run.years
    workers = min(jobs, tasks) if local else 0
    if local and workers <= 1:
        workers = 1  # one process runs the model itself
    return MemoryEstimate(patients, worker, parent, parent + workers * worker)
