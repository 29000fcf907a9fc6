"""Imports run one way: every module imports alone, none imports inside a function, the
packages of ``sim`` are layered (each imports only those below it), and so are the scenario's
modules (the schema's sections, the schema, values, uncertainty and backlog, columns, the
checks, reading, loading).

A module loaded at first use (``name = later("module")``, :mod:`sim.base.lazy`) counts as imported
where ``later`` is called, which must be at the top of a module: the command line starts with
none of the heavy libraries, and its commands' modules load when the command runs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SOURCES = [*sorted((ROOT / "sim").rglob("*.py")), ROOT / "cli.py"]

OPTIONAL = {
    # Dask's scheduler, from the optional "cluster" extra: imported only when a run asks for
    # a cluster, so a plain install never needs it.
    "distributed",
}
"""Top-level packages that may be imported inside a function: optional dependencies only."""

PACKAGES = (
    "sim.base",
    "sim.rtt",
    "sim.scenario",
    "sim.model",
    "sim.analysis",
    "sim.money",
    "sim.runs",
    "sim.planning",
    "sim.calibrate",
    "sim.national",
    "sim.report",
    "sim.commands",
    "cli",
)
"""The packages of ``sim``, bottom to top: each may import its own modules and those of the
packages before it, never one after it. The base (safe file reading, random streams, Ctrl-C,
lazy imports) serves everything; the RTT returns are read with no scenario; the model is built
on the scenario; the analysis of a scenario and of a run (traffic equations, diagnostics, the
switch-over) on the model; money on what a run counts; runs on all of those; the commands that
search over runs (target, scale, calibrate, national) on runs; the report and the command line
on everything; the command line's shared options and commands (``sim.commands``) under ``cli``."""

SECTIONS = {
    "sim.scenario.fields": set(),
    "sim.scenario.run": {"sim.scenario.fields"},
    "sim.scenario.demand": {"sim.scenario.fields"},
    "sim.scenario.capacity": {"sim.scenario.fields"},
    "sim.scenario.designs": {"sim.scenario.fields"},
    "sim.scenario.contracts": {"sim.scenario.fields"},
    "sim.scenario.stages": {"sim.scenario.fields", "sim.scenario.capacity"},
    "sim.scenario.surgery": {"sim.scenario.fields", "sim.scenario.capacity"},
    "sim.scenario.finance": {"sim.scenario.fields", "sim.scenario.contracts"},
}
"""The schema's sections, each on the shared types (``fields``) and the few sections it holds."""

SCHEMA = {*SECTIONS, "sim.scenario.schema"}
"""The whole schema: its sections and the scenario made of them."""

LAYERS = {
    **SECTIONS,
    "sim.scenario.schema": set(SECTIONS),
    "sim.scenario.values": SCHEMA,
    "sim.scenario.backlog": {*SCHEMA, "sim.scenario.values"},
    "sim.scenario.uncertainty": {*SCHEMA, "sim.scenario.values"},
    "sim.scenario.names": set(),
    "sim.scenario.declared": {*SCHEMA, "sim.scenario.names"},
    "sim.scenario.columns": {*SCHEMA, "sim.scenario.uncertainty", "sim.scenario.names", "sim.scenario.declared"},
    "sim.scenario.problems": SCHEMA,
    "sim.scenario.design_checks": {*SCHEMA, "sim.scenario.problems"},
    "sim.scenario.contract_checks": {*SCHEMA, "sim.scenario.columns", "sim.scenario.problems"},
    "sim.scenario.checks": {
        *SCHEMA,
        "sim.scenario.values",
        "sim.scenario.backlog",
        "sim.scenario.columns",
        "sim.scenario.problems",
        "sim.scenario.design_checks",
        "sim.scenario.contract_checks",
    },
    "sim.scenario.reading": {*SCHEMA, "sim.scenario.values"},
    "sim.scenario.based_on": {*SCHEMA, "sim.scenario.values", "sim.scenario.problems"},
    "sim.scenario.loading": {
        *SCHEMA,
        "sim.scenario.values",
        "sim.scenario.backlog",
        "sim.scenario.uncertainty",
        "sim.scenario.problems",
        "sim.scenario.checks",
        "sim.scenario.reading",
        "sim.scenario.based_on",
    },
}
"""The scenario modules each scenario module may import: only those in layers before it. The
results schema (``columns``) sits beside the checks: it names what a run measures, which a
contract's outcome targets are checked against. How a problem is worded (``problems``) comes
before the checks that raise them; reading files and merging designs ``based_on`` another come
after them, just below loading."""


def package_of(module: str) -> str:
    return next(p for p in PACKAGES if module == p or module.startswith(p + "."))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SOURCES}


def later_calls(tree: ast.AST) -> list[ast.Call]:
    """Every call of ``later(...)`` in a module."""
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "later"]


def project_imports(path: Path) -> set[str]:
    """Project modules a file imports anywhere in it (including under TYPE_CHECKING, and those
    it loads at first use with ``later``)."""
    out = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out |= {c.args[0].value for c in later_calls(tree) if c.args and isinstance(c.args[0], ast.Constant)}
    for node in ast.walk(tree):
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


IMPORT_EACH_ALONE = """
import importlib, json, os, sys, traceback
modules = json.loads(sys.argv[1])
ours = lambda name: name.split(".")[0] in {m.split(".")[0] for m in modules}
# Learn, in a child, which other modules the project's load; load them here, once: each child
# below then starts with them and with no project module, so it tests the project's own imports.
read, write = os.pipe()
if os.fork() == 0:
    for module in modules:
        try:
            __import__(module)
        except BaseException:
            pass
    os.write(write, json.dumps([m for m in sys.modules if not ours(m)]).encode())
    os._exit(0)
os.close(write)
with os.fdopen(read, "rb") as pipe:
    others = json.loads(pipe.read().decode())
os.wait()
for name in others:
    try:
        importlib.import_module(name)
    except BaseException:
        pass
results = {}
for module in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            __import__(module)
            message, code = "", 0
        except BaseException:
            message, code = traceback.format_exc(), 1
        os.write(write, message.encode())
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    results[module] = [os.waitstatus_to_exitcode(status), message]
print(json.dumps(results))
"""
"""Import each module in a child forked from one interpreter that holds the libraries the
project uses but no project module: the project's import order is tested as a fresh
interpreter would run it, without paying for numpy and pandas once per module."""


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, json.dumps(sorted(MODULES))],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    failed = [f"{m}:\n{err.strip()[-800:]}" for m, (rc, err) in results.items() if rc != 0]
    assert len(results) == len(MODULES) > 20
    assert not failed, "these modules fail to import alone:\n\n" + "\n\n".join(failed)


def test_the_import_check_catches_a_cycle(tmp_path: Path) -> None:
    """Two modules that import a name from each other at the top fail when imported alone."""
    package = tmp_path / "cyc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyc.b import B\nA = 1\n")
    (package / "b.py").write_text("from cyc.a import A\nB = 2\n")
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, json.dumps(["cyc.a", "cyc.b", "json"])],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["cyc.a"][0] != 0 and "ImportError" in results["cyc.a"][1]
    assert results["cyc.b"][0] != 0
    assert results["json"] == [0, ""]


@pytest.mark.slow
def test_no_imports_inside_functions() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{line}: {m}" for p in SOURCES for line, m in imports_in_functions(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, "import at the top of the module instead (or break the cycle it dodges):\n" + "\n".join(offenders)


def test_the_function_import_check_finds_them() -> None:
    source = (
        "import os\n"
        "def f():\n    from sim.scenario.backlog import generate\n    return generate\n"
        "class C:\n    def m(self):\n        import json, distributed\n"
        "def g():\n    from distributed import Client\n"
    )
    assert imports_in_functions(source) == [(3, "sim.scenario.backlog"), (7, "json")]


def test_every_package_imports_only_the_packages_below_it() -> None:
    assert {package_of(m) for m in MODULES if m != "sim"} == set(PACKAGES), "a package is missing from PACKAGES"
    wrong = {}
    for module in MODULES:
        if module == "sim":
            continue
        level = PACKAGES.index(package_of(module))
        above = sorted(m for m in project_imports(MODULES[module]) if PACKAGES.index(package_of(m)) > level)
        if above:
            wrong[module] = above
    assert not wrong, f"imports of a package above: {wrong}"


def test_sim_holds_packages_only() -> None:
    """Nothing sits at the top of ``sim`` but its face, ``sim/__init__.py``."""
    assert sorted(p.name for p in (ROOT / "sim").glob("*.py")) == ["__init__.py"]


def test_scenario_modules_import_only_the_layers_before_them() -> None:
    scenario = {m for m in MODULES if m.startswith("sim.scenario.")}
    wrong = {m: sorted((project_imports(MODULES[m]) & scenario) - allowed) for m, allowed in LAYERS.items()}
    assert not {m: w for m, w in wrong.items() if w}, wrong
    assert project_imports(MODULES["sim.scenario.loading"]) & scenario == LAYERS["sim.scenario.loading"]


@pytest.mark.slow
def test_scenario_modules_reach_nothing_built_on_scenarios() -> None:
    for m in LAYERS:
        above = sorted(r for r in reachable(m) if PACKAGES.index(package_of(r)) > PACKAGES.index("sim.scenario"))
        assert not above, f"{m} reaches {above}"
    assert "sim.scenario.schema" in reachable("sim.scenario.checks")
    assert {"sim.model.pathway", "sim.scenario.loading"} <= reachable("sim.runs.experiment")


@pytest.mark.slow
def test_later_is_called_at_the_top_of_a_module_with_a_module_name() -> None:
    """``later`` in a function would be an import inside a function in disguise."""
    offenders = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n.value) for n in tree.body if isinstance(n, ast.Assign)}
        for call in later_calls(tree):
            named = len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
            if id(call) not in top or not named:
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not offenders, 'write `name = later("module")` at the top of the module:\n' + "\n".join(offenders)


STARTS = """
import sys
import cli
try:
    cli.app(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "scipy", "matplotlib", "numpy", "sim")))
"""


def loaded_by(*args: str) -> list[str]:
    """The heavy libraries and project modules loaded by ``msksim ARGS``, run in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", STARTS, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_the_command_line_starts_without_loading_the_model_or_heavy_libraries() -> None:
    """``msksim --help`` loads the command line's own modules only: numpy, pandas, SciPy,
    matplotlib and the project's other modules load when a command needs them."""
    light = ["sim", "sim.base", "sim.base.lazy", "sim.commands", "sim.commands.searches", "sim.commands.shared", "sim.runs",
             "sim.runs.options"]  # fmt: skip
    assert loaded_by("--help") == light
    assert loaded_by("run", "--help") == light


@pytest.mark.slow
def test_a_command_loads_what_it_uses() -> None:
    """The stand-ins load their modules when a command runs: validate reads a scenario and
    its expected loads, without the batch machinery, the simulation or matplotlib."""
    loaded = loaded_by("validate", str(ROOT / "scenarios" / "bedfordshire.toml"))
    assert {"numpy", "sim.scenario.loading", "sim.analysis.flows"} <= set(loaded)
    assert not {"sim.runs.batch", "sim.model.pathway"} & set(loaded)
    assert not any(m.split(".")[0] == "matplotlib" for m in loaded)
