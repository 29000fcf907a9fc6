"""The compiled model: in use when installed, equal to its sources, and never stale.

``tests/project/test_build.py`` installs each form for real; these tests check the rules of
``sim/model/compiled.py`` and, where this install compiled the model, its results."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import sim.model
from sim.model.compiled import GROUP_MODULE, build_products, compiled_modules, model_sources, stale
from sim.model.pathway import Pathway
from tests.conftest import bundled

ROOT = Path(__file__).resolve().parents[2]
SHORT = ("run.years=2", "run.warmup_days=60", "stages.orthopaedics.booking=long_waiters_first",
         "stages.physio.pifu_share=0.3", "surgery.cancellation_rate=0.05")  # fmt: skip


def test_the_form_that_runs_is_the_one_installed() -> None:
    """Compiled files in the tree run, unless the sources were asked for; none, the sources run.
    Where the compiled model is required (``MSKSIM_REQUIRE_COMPILE_TEST``, as in CI) the install
    must have compiled: a failed compile would quietly halve the speed."""
    module = importlib.import_module(f"sim.model.{model_sources()[0].stem}")
    runs_compiled = Path(module.__file__).suffix != ".py"
    assert runs_compiled == (sim.model.ENGINE == "compiled")
    if os.environ.get("MSKSIM_PURE_PYTHON") or not build_products():
        assert sim.model.ENGINE == "interpreted"
    elif os.environ.get("MSKSIM_REQUIRE_COMPILE_TEST"):
        assert sim.model.ENGINE == "compiled"


def rows_and_flows(design: str) -> dict:
    m = Pathway(bundled(*SHORT), design, 1)
    rows = m.run()
    return json.loads(json.dumps({"rows": rows, "flows": sorted((f"{a}>{b}", n) for (a, b), n in m.flows.items())}))


@pytest.mark.slow
def test_compiled_and_interpreted_models_give_identical_results() -> None:
    if sim.model.ENGINE != "compiled":
        pytest.skip("the model is not compiled here: nothing to compare")
    script = (
        "import json, sys; import sim.model; from tests.model.test_compiled_model import rows_and_flows; "
        "assert sim.model.ENGINE == 'interpreted'; print(json.dumps([rows_and_flows(d) for d in sys.argv[1:]]))"
    )
    env = {**os.environ, "MSKSIM_PURE_PYTHON": "1"}
    out = subprocess.run([sys.executable, "-c", script, "fragmented", "prime"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    interpreted = json.loads(out.stdout)
    for design, theirs in zip(["fragmented", "prime"], interpreted, strict=True):
        ours = rows_and_flows(design)
        assert len(ours["rows"]) == 2
        assert ours == theirs, f"{design}: the compiled model differs from its sources"


def _touch(path: Path, mtime: float) -> Path:
    path.write_text("")
    os.utime(path, (mtime, mtime))
    return path


def test_a_source_edited_after_compiling_is_stale(tmp_path: Path) -> None:
    suffix = EXTENSION_SUFFIXES[0]
    _touch(tmp_path / "clinic.py", 1000.0)
    _touch(tmp_path / f"clinic{suffix}", 1001.0)
    _touch(tmp_path / "theatre.py", 1000.0)
    _touch(tmp_path / f"theatre{suffix}", 999.0)  # written a moment earlier by the same install
    _touch(tmp_path / "__init__.py", 5000.0)  # never compiled: not a model module
    found = compiled_modules(tmp_path)
    assert sorted(found) == ["clinic", "theatre"]
    assert stale(found, tmp_path) == []
    _touch(tmp_path / "theatre.py", 1100.0)  # edited later
    _touch(tmp_path / "recorder.py", 900.0)  # a new module, never compiled
    assert stale(found, tmp_path) == ["recorder", "theatre"]


def test_a_build_s_products_are_its_modules_and_their_library(tmp_path: Path) -> None:
    suffix = EXTENSION_SUFFIXES[0]
    package = tmp_path / "sim" / "model"
    package.mkdir(parents=True)
    ours = [_touch(package / f"clinic{suffix}", 1000.0), _touch(tmp_path / f"{GROUP_MODULE}{suffix}", 1000.0)]
    _touch(package / "clinic.py", 1000.0)
    _touch(tmp_path / f"other{suffix}", 1000.0)  # not ours: left alone
    assert build_products(package, tmp_path) == sorted(ours)


def test_a_source_newer_than_the_library_is_stale(tmp_path: Path) -> None:
    suffix = EXTENSION_SUFFIXES[0]
    _touch(tmp_path / "clinic.py", 1000.0)
    found = {"clinic": _touch(tmp_path / f"clinic{suffix}", 1001.0)}
    assert stale(found, tmp_path, group=_touch(tmp_path / "library.so", 1001.0)) == []
    assert stale(found, tmp_path, group=_touch(tmp_path / "library.so", 900.0)) == ["clinic"]
