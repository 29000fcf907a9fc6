"""Imports run one way: every module imports alone, none imports inside a function, and the
scenario modules are layered (schema, values, uncertainty and backlog, checks, loading)."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import ROOT

SOURCES = [*sorted((ROOT / "sim").rglob("*.py")), ROOT / "cli.py"]

OPTIONAL = {
    # Dask's scheduler, from the optional "cluster" extra: imported only when a run asks for
    # a cluster, so a plain install never needs it.
    "distributed",
}
"""Top-level packages that may be imported inside a function: optional dependencies only."""

RETURNS = {"sim.rtt", "sim.rtt.bands", "sim.rtt.returns"}
"""Published RTT returns: read with no scenario, so any layer may use them."""

LAYERS = {
    "sim.files": set(),
    "sim.rtt.bands": set(),
    "sim.rtt.returns": {"sim.rtt.bands", "sim.files"},
    "sim.schema": set(),
    "sim.values": {"sim.schema"},
    "sim.backlog": {"sim.schema", "sim.values", "sim.streams", "sim.files", *RETURNS},
    "sim.uncertainty": {"sim.schema", "sim.values", "sim.streams"},
    "sim.checks": {"sim.schema", "sim.values", "sim.backlog"},
    "sim.scenario": {
        "sim.files",
        "sim.schema",
        "sim.values",
        "sim.backlog",
        "sim.uncertainty",
        "sim.checks",
        "sim.rtt.returns",
    },
}
"""The project modules each scenario module may import: only those in layers before it."""

ABOVE_SCENARIOS = ("sim.model", "sim.experiment", "sim.finance", "sim.bid", "sim.report", "sim.results", "cli")
"""Modules built on scenarios, which no scenario module may reach, even through another."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SOURCES}


def project_imports(path: Path) -> set[str]:
    """Project modules a file imports anywhere in it (including under TYPE_CHECKING)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES}
    return {m for m in out if m in MODULES and m != "sim"}


def imports_in_functions(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import statement inside a function, optional ones left out."""
    found = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            found += [(node.lineno, n) for n in names if n.split(".")[0] not in OPTIONAL]
    return sorted(set(found))


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for m in project_imports(MODULES[todo.pop()]) - seen:
            seen.add(m)
            todo.append(m)
    return seen


def _import_alone(module: str) -> tuple[str, int, str]:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return module, done.returncode, done.stderr


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:  # the machine's two cores
        results = list(pool.map(_import_alone, sorted(MODULES)))
    failed = [f"{m}:\n{err.strip()[-800:]}" for m, rc, err in results if rc != 0]
    assert len(results) == len(MODULES) > 20
    assert not failed, "these modules fail to import alone:\n\n" + "\n\n".join(failed)


def test_no_imports_inside_functions() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{line}: {m}" for p in SOURCES for line, m in imports_in_functions(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, "import at the top of the module instead (or break the cycle it dodges):\n" + "\n".join(offenders)


def test_the_function_import_check_finds_them() -> None:
    source = (
        "import os\n"
        "def f():\n    from sim.backlog import generate\n    return generate\n"
        "class C:\n    def m(self):\n        import json, distributed\n"
        "def g():\n    from distributed import Client\n"
    )
    assert imports_in_functions(source) == [(3, "sim.backlog"), (7, "json")]


def test_scenario_modules_import_only_the_layers_before_them() -> None:
    wrong = {m: sorted(project_imports(MODULES[m]) - allowed) for m, allowed in LAYERS.items()}
    assert not {m: w for m, w in wrong.items() if w}, wrong
    assert project_imports(MODULES["sim.scenario"]) == LAYERS["sim.scenario"]


def test_scenario_modules_reach_nothing_built_on_scenarios() -> None:
    for m in LAYERS:
        above = sorted(r for r in reachable(m) if r.startswith(ABOVE_SCENARIOS))
        assert not above, f"{m} reaches {above}"
    assert "sim.schema" in reachable("sim.checks")
    assert {"sim.model.pathway", "sim.scenario"} <= reachable("sim.experiment")
