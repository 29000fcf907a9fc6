"""Shared fixtures: the bundled scenario, and small scenarios where theory is exact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim.base import interrupt
from sim.scenario.loading import Scenario, load_scenario, validate_raw

ROOT = Path(__file__).resolve().parents[1]
BEDFORDSHIRE = ROOT / "scenarios" / "bedfordshire.toml"
ALL_TO = "physio"
AT_CAPACITY_SET = "run.capacity_policies=fixed"
"""Every service and theatre at the capacity the file sets, its capacity policy aside: for tests of
what a given capacity does (a list over capacity, a cut), which a managed policy would answer."""


def from_the_sources(count: Callable[[], Any]) -> Any:
    """What ``count`` (a function of a test module, returning JSON-ready data) returns, run from
    the Python sources: a compiled class's methods cannot be wrapped, so a test that counts
    through a hook on the model runs it there when the install is compiled."""
    import sim.model

    if sim.model.ENGINE != "compiled":
        return json.loads(json.dumps(count()))
    script = f"import json; from {count.__module__} import {count.__name__} as f; print(json.dumps(f()))"
    env = {**os.environ, "MSKSIM_PURE_PYTHON": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


TIERS = ("slow", "build", "browser", "validation")
"""Markers of the tests left out of the fast tier. ``pytest`` alone runs the rest, for a quick
loop while editing; ``pytest --all`` runs everything (CI and the README's test command), as does
any ``-m`` expression. Tests under ``tests/validation`` are ``validation`` and those of
``tests/project/test_build.py`` ``build`` by where they are; ``slow`` and ``browser`` are marked on each test."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--all", action="store_true", help="run every test, the slow, build, browser and validation ones too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.parent.name == "validation":
            item.add_marker(pytest.mark.validation)
        elif path.name == "test_build.py":
            item.add_marker(pytest.mark.build)
    if config.getoption("--all") or config.getoption("markexpr"):
        return
    left = [i for i in items if any(i.get_closest_marker(m) for m in TIERS)]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [i for i in items if i not in set(left)]


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("--all") or config.getoption("markexpr"):
        return None
    return f"the fast tier: tests marked {', '.join(TIERS)} are left out; pytest --all runs every test"


QUICK = ["--reps", "1", "--years", "1", "--set", "run.warmup_days=30", "--no-uncertainty", "--quiet", "--jobs", "1"]
"""A run as short as a test of what is written can make it: one replication of one year."""


def default_signals() -> None:
    """As a shell starts a command: a test runner may ignore SIGHUP, and an ignored signal is inherited
    (and left ignored, as under ``nohup``)."""
    for signum in interrupt.TERMINATING:
        signal.signal(signum, signal.SIG_DFL)


def until(check: Callable[[], bool], seconds: float) -> bool:
    """Whether ``check`` holds within ``seconds`` (asked every 0.1 s)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


def stopped_by(parent: subprocess.Popen[str], signum: int, ready: Callable[[], bool], seconds: float = 120,
               settle: float = 0.0) -> str:  # fmt: skip
    """Once ``ready`` holds (within ``seconds``, and ``settle`` seconds more) with ``parent`` still
    running, send it ``signum`` and wait for it to end: its stderr on one line. The process is
    killed if the test fails first."""
    try:
        assert until(ready, seconds) and parent.poll() is None, "the command ended (or was never ready) before it was stopped"
        time.sleep(settle)
        parent.send_signal(signum)
        _, err = parent.communicate(timeout=120)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    return " ".join(err.split())


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(tmp_path: Path, args: list[str], *words: str) -> str:
    """Run the command line ``args``; check exit 2, the words, no traceback, nothing under
    ``tmp_path`` changed; the output, on one line."""
    from typer.testing import CliRunner

    from cli import app

    before = _snapshot(tmp_path)
    result = CliRunner().invoke(app, args)
    text = " ".join(result.output.split())
    squeezed = "".join(result.output.split())  # Rich may break a long path mid-word
    assert result.exit_code == 2, f"exit {result.exit_code}\n{result.output}{result.exception!r}"
    assert "Traceback" not in result.output and "error:" in text
    for w in words:
        assert "".join(w.split()) in squeezed, f"{w!r} not in: {text}"
    assert _snapshot(tmp_path) == before, "something was written"
    return text


def quick_run(tmp_path_factory: pytest.TempPathFactory, *args: str) -> Path:
    """The folder of a finished :data:`QUICK` run of the command line ``args`` (command first)."""
    from typer.testing import CliRunner

    from cli import app

    out = tmp_path_factory.mktemp(args[0]) / args[0]
    result = CliRunner().invoke(app, [*args, *QUICK, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def bedfordshire() -> Scenario:
    return load_scenario(BEDFORDSHIRE)


SMALL_POPULATION = 80_000
"""Bedfordshire scaled to this population by ``msksim scale``: about 8,400 referrals a year, each
service's load as it was."""


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled scenario scaled down (:data:`SMALL_POPULATION`), as a file: for tests of what is
    done with runs (batches, resumes, folders, tables), which need patients, not 46,000 a year; at
    the capacity set (:data:`AT_CAPACITY_SET`)."""
    from sim.planning.scale import scale, write
    from sim.runs.results import SCENARIO_FILE, save_inputs

    folder = tmp_path_factory.mktemp("small")
    # the prime as the file runs it, without its second capacity structure: compare and sweep would
    # run it too, and these tests are of what is done with runs (tests/model/test_structures.py: structures)
    s = load_scenario(BEDFORDSHIRE, [AT_CAPACITY_SET])  # and at the capacity set (tests/model/test_capacity_policy.py: policies)
    one = {n: d.model_copy(update={"structures": {}, "structure": ""}) for n, d in s.designs.items()}
    save_inputs(folder, s.model_copy(update={"designs": one}))
    out = folder / "bedfordshire_small.toml"
    write(scale(load_scenario(folder / SCENARIO_FILE), SMALL_POPULATION), folder / SCENARIO_FILE, out)
    return out


NO_REMOVALS = (
    *(f"stages.{n}.removal_rate_per_week=0" for n in ("physio", "podiatry", "orthopaedics", "rheumatology", "pain")),
    "surgery.removal_rate_per_week=0",
    *(f"designs.prime.stage_overrides.{n}.removal_rate_per_week=0" for n in ("orthopaedics", "rheumatology", "theatre")),
    *(f"designs.prime.stage_overrides.{n}.stale_share=0" for n in ("orthopaedics", "rheumatology")),
    "designs.prime.stage_overrides.theatre.slots_per_week=175",
    "stages.orthopaedics.slots_per_week=1150",
    "stages.rheumatology.slots_per_week=500",
    "surgery.slots_per_week=200",
)
"""Overrides that take removals off the bundled lists, the prime design's fitted ones and its stale
pathways too: the traffic equations assume no patient leaves unseen. The fragmented design's 2009/10 clinics work
at a load just over 1, where only removals hold their lists, so they get their slots from
before the fit back, with room for the care outside the contract (scaled with demand, as their
capacity basis says), their theatre 200 and the prime's 175."""


def bundled(*overrides: str) -> Scenario:
    """The bundled Bedfordshire scenario with ``--set`` style overrides."""
    return load_scenario(BEDFORDSHIRE, list(overrides))


def single_stage(arrivals_per_day: float, slots_per_day: int, **stage: Any) -> dict[str, Any]:
    """One service open every day, Poisson referrals every day, one contact, no DNA.

    The end-of-day waiting list then follows ``X' = max(X + A - c, 0)`` exactly, a
    discrete-time Markov chain we can solve.
    """
    row = {ALL_TO: 1.0}
    rows = {n: row for n in ("self_management", "physio", "specialist", "surgical")}
    stage_cfg = {
        "kind": "therapy",
        "provider": "p",
        "slots_per_week": 7 * slots_per_day,
        "working_days": 7,
        "resolves": {"physio": 1.0},
        "tariff_first": 10.0,
        **stage,
    }
    return {
        "name": "single-stage",
        "population": 100_000,
        "run": {"years": 3, "warmup_days": 120, "seed": 7, "replications": 1},
        "calendar": {"bank_holidays": "none"},  # every day exactly c slots: the chain is exact
        "demand": {
            "referrals_per_year": arrivals_per_day * 365.25,
            "referral_working_days": 7,
            "conditions": {"all": {"share": 1.0, "need": {"physio": 1.0}}},
        },
        "stages": {ALL_TO: stage_cfg},
        "surgery": {"provider": "p", "slots_per_week": 1, "beds": 0},
        "gp": {"referral": rows, "rereferral": rows},
        "designs": {"fragmented": {"services": [ALL_TO]}},
        "finance": {"providers": {"p": {"payment": "tariff"}}},
    }


def scenario_from(raw: dict[str, Any]) -> Scenario:
    return validate_raw(raw, "test")
