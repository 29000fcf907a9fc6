"""msksim: a discrete-event simulation of the NHS musculoskeletal care pathway.

The public API, for scripts and notebooks (the command line ``msksim`` is built on it)::

    import sim

    scenario = sim.load_scenario("scenarios/bedfordshire.toml", ["run.years=2"])
    outcome = sim.simulate(scenario, "prime", replication=0)
    table = sim.run_replications(scenario, ["fragmented", "prime"], 5, jobs=2)

Names load at first use, so ``import sim`` alone loads none of the model or its libraries.

The packages, bottom to top: ``base`` (files, random streams, Ctrl-C, lazy imports), ``rtt``
(the published returns), ``scenario`` (schema, values, uncertainty, backlog, results schema,
checks, loading), ``model`` (the SimPy pathway), ``analysis`` (traffic equations, diagnostics,
warm-up, switch-over), ``money`` (prices, payment, contracts, bids), ``runs`` (tasks,
executors, journal, batches, result folders), ``planning`` (target, scale), ``calibrate``,
``national`` and ``report``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "load_scenario": "sim.scenario.loading",
    "ScenarioError": "sim.scenario.loading",
    "Scenario": "sim.scenario.schema",
    "simulate": "sim.runs.tasks",
    "Task": "sim.runs.tasks",
    "Outcome": "sim.runs.tasks",
    "run_batch": "sim.runs.experiment",
    "run_replications": "sim.runs.experiment",
    "BatchResult": "sim.runs.experiment",
    "make_executor": "sim.runs.executors",
}
"""Each public name and the module that defines it."""

__all__ = [
    "BatchResult",
    "Outcome",
    "Scenario",
    "ScenarioError",
    "Task",
    "__version__",
    "load_scenario",
    "make_executor",
    "run_batch",
    "run_replications",
    "simulate",
]

if TYPE_CHECKING:
    from sim.runs.executors import make_executor
    from sim.runs.experiment import BatchResult, run_batch, run_replications
    from sim.runs.tasks import Outcome, Task, simulate
    from sim.scenario.loading import ScenarioError, load_scenario
    from sim.scenario.schema import Scenario


def __getattr__(name: str) -> Any:
    """Load a public name from its module at first use (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
