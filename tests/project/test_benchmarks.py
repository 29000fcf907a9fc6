"""The benchmarks are run by hand, so nothing else notices when a move breaks one: every name a
benchmark imports from the project must still be where it says."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))


def missing_names(path: Path) -> list[str]:
    """``module.name`` for each project import of ``path`` that does not resolve."""
    missing = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim"):
            continue
        try:
            module = importlib.import_module(node.module)
        except ImportError:
            missing.append(node.module)
            continue
        for alias in node.names:
            if not hasattr(module, alias.name):
                try:
                    importlib.import_module(f"{node.module}.{alias.name}")
                except ImportError:
                    missing.append(f"{node.module}.{alias.name}")
    return missing


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_a_benchmark_imports_what_exists(script: Path) -> None:
    assert not missing_names(script)


def test_the_check_finds_a_moved_name(tmp_path: Path) -> None:
    moved = tmp_path / "old.py"
    moved.write_text("from sim.analysis.transition import path\nfrom sim.runs.tasks import Task, Nothing\n")
    assert missing_names(moved) == ["sim.analysis.transition", "sim.runs.tasks.Nothing"]
